// The rendered config and our argon2 hash, run by the real JupyterLab from PyPI, over HTTPS.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { defaults } from "../../config/config";
import { renderLoginFilter } from "../../droplet/login-guard";
import { JupyterClient } from "../support/jupyter-client";
import { RunningJupyter, startJupyter } from "../support/jupyter-server";
import { runCell } from "../support/kernel";
import { requireCommand } from "../support/jupyter-venv";

const password = "a long test password 🔑";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jld-jupyter-"));
let server: RunningJupyter | undefined;
let baseUrl = "";
let certPem = "";

before(async () => {
    server = await startJupyter(tmp, password);
    ({ baseUrl, certPem } = server);
});

after(async () => {
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
});

/** What JupyterLab has logged so far. */
function serverLog(): string {
    return server?.log() ?? "";
}

test("GET /api answers over HTTPS verified against the pinned certificate, and asks no token", async () => {
    const res = await new JupyterClient(baseUrl, certPem).request("GET", "/api");
    assert.equal(res.status, 200);
    assert.match(JSON.parse(res.body).version, /^2\./);
    assert.doesNotMatch(serverLog(), /token=[0-9a-f]{10}/, "no token URL is printed");
});

test("the right password logs in: a redirect and a login cookie, then the API answers", async () => {
    const client = new JupyterClient(baseUrl, certPem);
    const res = await client.login(password);
    assert.equal(res.status, 302);
    assert.ok(
        client.cookieNames().some((name) => name.startsWith("username-")),
        `cookies: ${client.cookieNames().join(", ")}`,
    );
    const status = await client.request("GET", "/api/status");
    assert.equal(status.status, 200);
});

test("a wrong password gets 401 and no login cookie; the API refuses it", async () => {
    const client = new JupyterClient(baseUrl, certPem);
    const res = await client.login("a long test password 🔒");
    assert.equal(res.status, 401);
    assert.ok(!client.cookieNames().some((name) => name.startsWith("username-")));
    assert.equal((await client.request("GET", "/api/contents")).status, 403);
});

test("the password cannot be changed from the web UI", async () => {
    const client = new JupyterClient(baseUrl, certPem);
    await client.request("GET", "/login");
    const form = new URLSearchParams({ _xsrf: client.xsrf(), password, new_password: "another password of mine" }).toString();
    await client.request("POST", "/login", form, { "Content-Type": "application/x-www-form-urlencoded" });
    const again = await new JupyterClient(baseUrl, certPem).login(password);
    assert.equal(again.status, 302, "the original password still works");
    const changed = await new JupyterClient(baseUrl, certPem).login("another password of mine");
    assert.equal(changed.status, 401);
});

test("a logged-in user creates a notebook through the contents API and runs a cell in a kernel", async () => {
    const client = new JupyterClient(baseUrl, certPem);
    assert.equal((await client.login(password)).status, 302);
    const created = await client.api("PUT", "/api/contents/hello.ipynb", {
        type: "notebook",
        format: "json",
        content: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
    });
    assert.equal(created.status, 201, created.body);
    assert.equal(JSON.parse((await client.request("GET", "/api/contents/hello.ipynb")).body).type, "notebook");
    const cell = await runCell(client, baseUrl, certPem, "1+1");
    assert.equal(cell.error, undefined);
    assert.equal(cell.result, "2");
});

test("the server takes the culling settings: kernels and terminals idle past idleKernelMinutes are culled", async () => {
    const client = new JupyterClient(baseUrl, certPem);
    assert.equal((await client.login(password)).status, 302);
    await runCell(client, baseUrl, certPem, "1");
    const terminal = await client.api("POST", "/api/terminals");
    assert.equal(terminal.status, 200, terminal.body);
    await client.api("DELETE", `/api/terminals/${(JSON.parse(terminal.body) as { name: string }).name}`);
    const seconds = defaults.idleKernelMinutes * 60;
    assert.match(serverLog(), new RegExp(`Culling kernels with idle durations > ${seconds} seconds at 300 second intervals`));
    assert.match(serverLog(), new RegExp(`Culling terminals with inactivity > ${seconds} seconds at 300 second intervals`));
    assert.doesNotMatch(serverLog(), /not recognized/, "every rendered option is one the server knows");
});

test("the login guard's filter, run by the real fail2ban-regex, finds each refused password in the server's own log and nothing else", async () => {
    requireCommand("fail2ban-regex", "install Debian's fail2ban package (apt-get install fail2ban)");
    const failures = 3;
    for (let i = 0; i < failures; i++) {
        assert.equal((await new JupyterClient(baseUrl, certPem).login(`wrong password ${i}`)).status, 401);
    }
    // A refused password after ?next=, as a browser sends it; and the owner's own login, which must not count.
    const browser = new JupyterClient(baseUrl, certPem);
    assert.equal((await browser.login("not it at all", "/lab")).status, 401);
    assert.equal((await new JupyterClient(baseUrl, certPem).login(password)).status, 302);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const logFile = path.join(tmp, "server.log");
    fs.writeFileSync(logFile, serverLog());
    const filterFile = path.join(tmp, "jupyterlab-droplet.conf");
    fs.writeFileSync(filterFile, renderLoginFilter());
    const out = execFileSync("fail2ban-regex", ["--raw", "--out", "ip", logFile, filterFile], { encoding: "utf8" });
    const refused = (serverLog().match(/ 401 POST \/login/g) ?? []).length;
    assert.ok(refused >= failures + 1, `the server logged ${refused} refused logins`);
    assert.deepEqual(out.trim().split("\n"), Array(refused).fill("127.0.0.1"), "one match per refused login, each naming the client");
    assert.match(serverLog(), / 302 POST \/login/, "the good login is in the log, and did not match");
});
