// A TCP port on 127.0.0.1 that nothing listens on right now, for a server a test starts.
import * as net from "node:net";

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = net
            .createServer()
            .listen(0, "127.0.0.1", () => {
                const port = (probe.address() as net.AddressInfo).port;
                probe.close(() => resolve(port));
            })
            .on("error", reject);
    });
}
