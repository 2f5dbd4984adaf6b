// A reserved IP's network for the local cloud: forwards TCP ports of one loopback address to
// the same ports of another, until killed. It runs as its own process so that a test blocked
// in a synchronous child process (spawnSync("ssh", ...)) never blocks the forwarding.
// Usage: node --import tsx port-forwarder.ts FROM_HOST TO_HOST PORT...
import * as net from "net";

const [fromHost, toHost, ...ports] = process.argv.slice(2);
if (fromHost === undefined || toHost === undefined || ports.length === 0) {
    process.stderr.write("usage: port-forwarder.ts FROM_HOST TO_HOST PORT...\n");
    process.exit(2);
}

function forward(port: number): Promise<void> {
    const server = net.createServer((client) => {
        const upstream = net.connect(port, toHost);
        for (const socket of [client, upstream]) {
            socket.on("error", () => {
                client.destroy();
                upstream.destroy();
            });
        }
        client.pipe(upstream).pipe(client);
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, fromHost, () => resolve());
    });
}

Promise.all(ports.map((port) => forward(Number(port)))).then(
    () => process.stdout.write("ready\n"),
    (e: Error) => {
        process.stderr.write(`port-forwarder: ${e.message}\n`);
        process.exit(1);
    },
);
