// The sweep's reading of Jupyter's own record of activity (scripts/server/jupyter-activity.ts)
// against the real jupyter_server from PyPI with the rendered config: logged in as the login page
// does, through a Unix socket as ssh's forward gives it, trusting the pinned certificate alone.
// The reading counts as no activity, a running cell reads as busy, an idle server's idle time grows.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { judge } from "../../scripts/server/idle";
import { ActivityReading, JupyterConnection, readJupyterActivity } from "../../scripts/server/jupyter-activity";
import { makeSelfSignedPair } from "../support/certificate";
import { JupyterClient } from "../support/jupyter-client";
import { RunningJupyter, startJupyter } from "../support/jupyter-server";
import { leaveCellRunning } from "../support/kernel";

const password = "the sweep's test password";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jld-sweep-"));
let server: RunningJupyter;
let relay: net.Server;
let connection: JupyterConnection;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
    server = await startJupyter(tmp, password);
    // What `ssh -L <socket>:127.0.0.1:<port>` gives the sweep: a Unix socket that leads to the port.
    const socketPath = path.join(tmp, "forward.sock");
    relay = net
        .createServer((local) => {
            const remote = net.connect(server.port, "127.0.0.1");
            local.pipe(remote).pipe(local);
            local.on("error", () => remote.destroy());
            remote.on("error", () => local.destroy());
        })
        .listen(socketPath);
    await new Promise((resolve) => relay.once("listening", resolve));
    // The Host header is the url's, a public address the certificate does not name: only the pin is checked.
    connection = { socketPath, host: "203.0.113.10:9000", trust: { certificatePem: server.certPem } };
});

after(async () => {
    relay?.close();
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
});

/** The server's last_activity in a reading. */
function lastActivity(reading: ActivityReading): string {
    return String((reading.answers.status as { last_activity: unknown }).last_activity);
}

/** A user's browser: logged in, its API requests counted as activity. */
async function user(): Promise<JupyterClient> {
    const client = new JupyterClient(server.baseUrl, server.certPem);
    assert.equal((await client.login(password)).status, 302);
    return client;
}

test("reading the activity (login included) does not move last_activity; a request without no_track_activity does", async () => {
    const client = await user();
    assert.equal((await client.request("GET", "/api/contents")).status, 200);
    await sleep(1100);
    const first = await readJupyterActivity(connection, password);
    await sleep(1100);
    const second = await readJupyterActivity(connection, password);
    assert.equal(lastActivity(second), lastActivity(first), "the sweep's own requests count for nothing");
    // 2.2 s have passed since the user's request; the server's Date header, the sweep's clock, is
    // whole seconds (truncated), so the idle time it gives can be up to a second short of that.
    assert.ok(judge(second.answers, second.serverTime, 60).idleMs >= 1000, "idle since the user's request");
    // The same request as the sweep's, without the parameter: the server counts it.
    assert.equal((await client.request("GET", "/api/kernels")).status, 200);
    const third = await readJupyterActivity(connection, password);
    assert.ok(Date.parse(lastActivity(third)) > Date.parse(lastActivity(second)), `${lastActivity(third)} after ${lastActivity(second)}`);
});

test("a kernel running a long cell, its tab closed, reads as busy: never paused, however long ago anything happened", async () => {
    const client = await user();
    const kernelId = await leaveCellRunning(client, server.baseUrl, server.certPem, "import time; time.sleep(30)");
    try {
        // The server learns the state from the kernel's messages: give it a moment.
        let reading = await readJupyterActivity(connection, password);
        for (let i = 0; i < 20 && judge(reading.answers, reading.serverTime, 1).decision !== "busy"; i++) {
            await sleep(250);
            reading = await readJupyterActivity(connection, password);
        }
        const aDayLater = new Date(reading.serverTime.getTime() + 24 * 3_600_000);
        assert.equal(judge(reading.answers, aDayLater, 1).decision, "busy", JSON.stringify(reading.answers.kernels));
    } finally {
        assert.equal((await client.api("DELETE", `/api/kernels/${kernelId}`)).status, 204);
    }
    const after = await readJupyterActivity(connection, password);
    assert.deepEqual(after.answers.kernels, [], "the kernel is gone");
    assert.equal(judge(after.answers, new Date(after.serverTime.getTime() + 24 * 3_600_000), 1).decision, "idle");
});

test("an idle server's reading gives an idle time that grows, and is idle once it reaches the limit", async () => {
    const first = await readJupyterActivity(connection, password);
    await sleep(2500);
    const second = await readJupyterActivity(connection, password);
    const [was, is] = [judge(first.answers, first.serverTime, 60), judge(second.answers, second.serverTime, 60)];
    assert.ok(is.idleMs - was.idleMs >= 1500, `idle ${was.idleMs} ms, then ${is.idleMs} ms`);
    assert.equal(is.decision, "active");
    const aMinuteOn = new Date(Date.parse(lastActivity(second)) + 60_000);
    assert.equal(judge(second.answers, aMinuteOn, 1).decision, "idle");
});

test("a wrong password, or a certificate that is not the pinned one, reads nothing", async () => {
    await assert.rejects(readJupyterActivity(connection, "not the password"), /JupyterLab refused the stack's password \(401\)/);
    const other = {
        keyFile: path.join(tmp, "other.key"),
        certFile: path.join(tmp, "other.crt"),
        commonName: "other",
        ipAddress: "127.0.0.1",
    };
    makeSelfSignedPair(other);
    const pinnedElsewhere = { ...connection, trust: { certificatePem: fs.readFileSync(other.certFile, "utf8") } };
    await assert.rejects(readJupyterActivity(pinnedElsewhere, password), /GET \/login: .*certificate/i);
});
