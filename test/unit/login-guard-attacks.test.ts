// The login guard's filter against refused logins shaped by an attacker: the real jupyter_server
// answers each raw request, and the real fail2ban-regex reads the server's own log, once as a
// file and once through a real journald and fail2ban's own journal reader, as on the droplet.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { defaults } from "../../config/config";
import { renderJupyterConfig } from "../../droplet/jupyter-config";
import { renderJournaldSettings, renderLoginFilter } from "../../droplet/login-guard";
import { hashJupyterPassword } from "../../droplet/password-hash";
import {
    adversarialLogins,
    highBytes,
    loginPost,
    RawRequest,
    sendRawRequests,
    spoofedAddress,
    TlsTarget,
} from "../support/adversarial-logins";
import { JupyterClient } from "../support/jupyter-client";
import { ensureJupyterVenv, requireCommand } from "../support/jupyter-venv";
import { makeSelfSignedPair } from "../support/certificate";

/** The filter before it counted every refusal: a 401 only, `\S*` over the target, unanchored. */
const oldLoginFailureRegex = String.raw`ServerApp\] 401 POST /login(?:\?\S*)? \(\S*@<HOST>\) \d+(?:\.\d+)?ms`;
const password = "the right password";
const client = "127.0.0.1";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jld-login-attacks-"));
const logChunks: Buffer[] = [];
let server: ChildProcess | undefined;
let target: TlsTarget;

interface Case extends RawRequest {
    /** A refused login: fail2ban must count it, for the client's own address. */
    counts: boolean;
    /** The high byte it carries, for the per-byte cases. */
    byte?: number;
    /** Tornado refuses it before any handler: no request log line, no password read. */
    malformed?: boolean;
}

interface Sent extends Case {
    status: number;
    /** The server's request log line for it. */
    line?: string;
}
const sent: Sent[] = [];

const hex = (byte: number) => `0x${byte.toString(16).toUpperCase()}`;
const logText = () => Buffer.concat(logChunks).toString("utf8");

function rawGet(path: string, headers: string[]): Buffer {
    return Buffer.from([`GET ${path} HTTP/1.1`, "Host: localhost", ...headers, "Connection: close", "", ""].join("\r\n"), "latin1");
}

/** Requests that must not count, and what else the test sends besides adversarialLogins. */
async function otherCases(baseUrl: string, certPem: string): Promise<Case[]> {
    // The login cookie's name holds the Host header the browser sent.
    const host = new URL(baseUrl).host;
    const loggedIn = new JupyterClient(baseUrl, certPem);
    assert.equal((await loggedIn.login(password)).status, 302);
    const forgedLine = `[W 2026-01-01 00:00:00.000 ServerApp] 401 POST /login (@${spoofedAddress}) 1.00ms referer=None`;
    const controls: [string, string][] = [
        ["a tab", "\t"],
        ["\\x0b", "\x0b"],
        ["\\x0c", "\x0c"],
        ["a \\r inside", "\r"],
        ["\\x01", "\x01"],
        ["\\x1b", "\x1b"],
        ["NUL", "\x00"],
        ["\\x7f", "\x7f"],
    ];
    return [
        ...highBytes.map((byte) => ({
            name: `byte ${hex(byte)} in the query`,
            counts: true,
            byte,
            bytes: loginPost({ target: `/login?x=${String.fromCharCode(byte)}` }),
        })),
        ...highBytes.map((byte) => ({
            name: `byte ${hex(byte)} in the path`,
            counts: false,
            byte,
            bytes: loginPost({ target: `/login${String.fromCharCode(byte)}` }),
        })),
        ...controls.map(([name, char]) => ({
            name: `${name} in the query`,
            counts: false,
            malformed: true,
            bytes: loginPost({ target: `/login?next=/lab${char}x` }),
        })),
        { name: "\\x01 in the Referer", counts: false, malformed: true, bytes: loginPost({ headers: ["Referer: a\x01b"] }) },
        { name: "the right password", counts: false, bytes: loginPost({ password }) },
        {
            name: "a logged-in client's password that is not UTF-8",
            counts: false,
            bytes: loginPost({
                host,
                noXsrfCookie: true,
                form: `_xsrf=${encodeURIComponent(loggedIn.xsrf())}&password=%FF`,
                headers: [`Cookie: ${loggedIn.cookieHeader()}`],
            }),
        },
        {
            name: "a logged-in client's POST without _xsrf",
            counts: false,
            bytes: loginPost({ host, form: "password=x", noXsrfCookie: true, headers: [`Cookie: ${loggedIn.cookieHeader()}`] }),
        },
        { name: "a POST to another page", counts: false, bytes: loginPost({ target: "/api/contents" }) },
        { name: "a POST to /login/", counts: false, bytes: loginPost({ target: "/login/" }) },
        {
            name: "a GET of a missing page whose Referer is a whole forged refused login",
            counts: false,
            bytes: rawGet("/nope", [`Referer: ${forgedLine}`]),
        },
    ];
}

/** Waits for the log line a request left: its request log line, or tornado's note of a malformed request. */
async function lineFor(from: number, request: Case, status: number): Promise<string | undefined> {
    const wanted = request.malformed
        ? (line: string) => line.includes(`Malformed HTTP message from ${client}`)
        : (line: string) => line.startsWith("[") && line.includes(`ServerApp] ${status} `) && line.includes(`@${client}) `);
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
        const lines = Buffer.concat(logChunks).subarray(from).toString("utf8").split("\n").slice(0, -1);
        const line = lines.find(wanted);
        if (line !== undefined) {
            return request.malformed ? undefined : line;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${request.name}: answered ${status}, and no log line for it within 10 s\n--- log ---\n${logText().slice(-3000)}`);
}

before(async () => {
    requireCommand("openssl", "install Debian's openssl package (apt-get install openssl)");
    requireCommand("fail2ban-regex", "install Debian's fail2ban package (apt-get install fail2ban)");
    const venv = ensureJupyterVenv();
    const certFile = path.join(tmp, "tls.crt");
    const keyFile = path.join(tmp, "tls.key");
    makeSelfSignedPair({ keyFile, certFile, commonName: "login-attacks", ipAddress: client });
    const certPem = fs.readFileSync(certFile, "utf8");
    // A port free right now, as the system picks one.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, client, resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    // The rendered config; only the paths move into the test's directory.
    const config = JSON.parse(
        renderJupyterConfig({
            hashedPassword: await hashJupyterPassword(password, Buffer.from("0123456789abcdef")),
            port,
            idleKernelMinutes: defaults.idleKernelMinutes,
        }),
    );
    Object.assign(config.ServerApp, {
        ip: client,
        certfile: certFile,
        keyfile: keyFile,
        root_dir: tmp,
        allow_root: process.getuid?.() === 0,
    });
    fs.mkdirSync(path.join(tmp, "config"));
    fs.writeFileSync(path.join(tmp, "config", "jupyter_server_config.json"), JSON.stringify(config));
    server = spawn(path.join(venv, "bin", "jupyter-lab"), [], {
        env: {
            ...process.env,
            JUPYTER_CONFIG_DIR: path.join(tmp, "config"),
            JUPYTER_DATA_DIR: path.join(tmp, "data"),
            JUPYTER_RUNTIME_DIR: path.join(tmp, "runtime"),
            HOME: tmp,
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    // The server's own bytes, as journald would read them from its stdout and stderr.
    server.stdout?.on("data", (d: Buffer) => logChunks.push(d));
    server.stderr?.on("data", (d: Buffer) => logChunks.push(d));
    const baseUrl = `https://${client}:${port}`;
    try {
        await new JupyterClient(baseUrl, certPem).waitUntilReady(60_000);
    } catch (e) {
        throw new Error(`${(e as Error).message}\n--- JupyterLab log ---\n${logText()}`);
    }
    target = { host: client, port, ca: certPem };
    const cases: Case[] = [
        ...adversarialLogins(`${client}:${port}`).map((r) => ({ ...r, counts: true })),
        ...(await otherCases(baseUrl, certPem)),
    ];
    // One at a time, so that each request's log line is known.
    for (const request of cases) {
        const from = Buffer.concat(logChunks).length;
        const [status] = await sendRawRequests(target, [request]);
        sent.push({ ...request, status, line: await lineFor(from, request, status) });
    }
    fs.writeFileSync(path.join(tmp, "server.log"), Buffer.concat(logChunks));
});

after(() => {
    server?.kill("SIGTERM");
    fs.rmSync(tmp, { recursive: true, force: true });
});

interface Match {
    ip: string;
    line: string;
}

/** The filter file: the rendered one, or the same file with the old failregex. */
function filterFile(which: "new" | "old"): string {
    const file = path.join(tmp, `filter-${which}.conf`);
    fs.writeFileSync(file, which === "new" ? renderLoginFilter() : `[Definition]\nfailregex = ${oldLoginFailureRegex}\nignoreregex =\n`);
    return file;
}

/** fail2ban-regex's `--out "<ip> <msg>"`: each match's address and line (from the journal, after "<time> <host> <ident>[<pid>]: "). */
function parseMatches(out: string): Match[] {
    return out
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => {
            const space = l.indexOf(" ");
            return { ip: l.slice(0, space), line: l.slice(space + 1).replace(/^\S+ \S+ \S+\[\d+\]: /, "") };
        });
}

const fileMatches = new Map<string, Match[]>();
/** The real fail2ban-regex over the server's log file, with the new or the old filter. */
function matchesInLogFile(which: "new" | "old"): Match[] {
    if (!fileMatches.has(which)) {
        const result = spawnSync("fail2ban-regex", ["--raw", "--out", "<ip> <msg>", path.join(tmp, "server.log"), filterFile(which)], {
            encoding: "utf8",
            env: { ...process.env, PYTHONUTF8: "1" },
            maxBuffer: 64 << 20,
        });
        assert.equal(result.status, 0, `fail2ban-regex: ${result.stdout}${result.stderr}`);
        fileMatches.set(which, parseMatches(result.stdout));
    }
    return fileMatches.get(which) ?? [];
}

function assertRefusalsMatch(matches: Match[], normalize = (line: string) => line): void {
    const refused = sent.filter((s) => s.counts);
    for (const s of refused) {
        const found = matches.filter((m) => m.line === normalize(s.line ?? ""));
        assert.equal(found.length, 1, `${s.name} (${s.status}) matched ${found.length} times: ${s.line?.slice(0, 300)}`);
        assert.equal(found[0].ip, client, `${s.name} is counted for ${found[0].ip}`);
    }
    assert.equal(
        matches.length,
        refused.length,
        `lines that match but are no refused login:\n${matches
            .filter((m) => !refused.some((s) => normalize(s.line ?? "") === m.line))
            .map((m) => `${m.ip} ${m.line.slice(0, 300)}`)
            .join("\n")}`,
    );
}

test("the real server refuses every adversarial login with 400 or more, and logs each with the connection's address", (t) => {
    for (const s of sent.filter((s) => s.byte === undefined)) {
        t.diagnostic(`${s.status} ${s.counts ? "counts" : "no    "} ${s.name}`);
    }
    for (const where of ["query", "path"]) {
        const statuses = new Set(sent.filter((s) => s.name.endsWith(`in the ${where}`) && s.byte !== undefined).map((s) => s.status));
        t.diagnostic(`${[...statuses].join(", ")} each byte 0x80-0xFF in the ${where}`);
    }
    for (const s of sent.filter((s) => s.counts)) {
        assert.ok(s.status >= 400, `${s.name}: answered ${s.status}`);
        assert.ok(s.line?.includes(`(@${client}) `), `${s.name}: ${s.line}`);
    }
    const status = (name: string) => sent.find((s) => s.name === name)?.status;
    assert.equal(status("the right password"), 302);
    assert.ok(
        sent.filter((s) => s.malformed).every((s) => s.status === 400),
        "tornado answers a control byte 400 before any handler",
    );
    for (const s of sent.filter((s) => s.name.startsWith("a logged-in client's"))) {
        assert.match(s.line ?? "", /^\S+ \S+ \S+ ServerApp\] 40\d POST \/login \(\w+@127\.0\.0\.1\)/, `${s.name}: the line names the user`);
    }
    for (const s of sent.filter((s) => s.name.endsWith("in the path"))) {
        assert.equal(s.status, 404, `${s.name}: not the login page`);
    }
});

test("the rendered filter, run by the real fail2ban-regex over the server's log, counts each refused login once, for 127.0.0.1, and nothing else", () => {
    const matches = matchesInLogFile("new");
    assertRefusalsMatch(matches);
    assert.ok(!matches.some((m) => m.ip === spoofedAddress));
});

test("every byte 0x80-0xFF: in the query a refused login that matches, in the path no login page and no match", () => {
    const matched = new Set(matchesInLogFile("new").map((m) => m.line));
    for (const byte of highBytes) {
        const query = sent.find((s) => s.byte === byte && s.counts)?.line ?? "";
        assert.ok(query.includes(`?x=${String.fromCharCode(byte)} (@${client})`), `byte ${hex(byte)} in the query: ${query}`);
        assert.ok(matched.has(query), `byte ${hex(byte)} in the query is not counted: ${query}`);
        const inPath = sent.find((s) => s.byte === byte && !s.counts);
        assert.ok(inPath?.line !== undefined && !matched.has(inPath.line), `byte ${hex(byte)} in the path: ${inPath?.line}`);
    }
});

test("the old filter missed refusals the new one counts (other statuses, bytes 0x85 and 0xA0) and took a forged address from a Referer", (t) => {
    const old = matchesInLogFile("old");
    const missed = sent.filter((s) => s.counts && !old.some((m) => m.line === s.line));
    t.diagnostic(`the old filter missed: ${missed.map((s) => `${s.name} (${s.status})`).join("; ")}`);
    for (const name of [
        "an absolute-form target",
        "bytes 0x80-0xFF in next",
        "no _xsrf at all",
        "a password that is not UTF-8",
        "a foreign Origin",
        "byte 0x85 in the query",
        "byte 0xA0 in the query",
    ]) {
        assert.ok(
            missed.some((s) => s.name === name),
            `the old filter counted ${name}`,
        );
    }
    const forged = old.filter((m) => m.ip === spoofedAddress).map((m) => sent.find((s) => s.line === m.line)?.name);
    assert.deepEqual(forged, [
        "the same Referer on a refusal other than 401",
        "a GET of a missing page whose Referer is a whole forged refused login",
    ]);
});

test("through a real journald and fail2ban's journal reader, as on the droplet: one entry a line, the same matches; also when the log is not UTF-8", () => {
    for (const [command, install] of [
        ["unshare", "util-linux"],
        ["systemd-cat", "systemd"],
        ["journalctl", "systemd"],
    ]) {
        requireCommand(command, `install Debian's ${install} package`);
    }
    const journald = ["/usr/lib/systemd/systemd-journald", "/lib/systemd/systemd-journald"].find((f) => fs.existsSync(f));
    assert.ok(journald, "no systemd-journald: install Debian's systemd package");
    const text = fs.readFileSync(path.join(tmp, "server.log"), "utf8");
    // A server whose stderr is Latin-1 writes the bytes 0x80-0xFF as they came: journald then keeps a
    // MESSAGE that is not UTF-8, python-systemd hands it over as bytes, and fail2ban decodes it itself.
    assert.ok(!/[^\x00-\xff]/.test(text), "the log is Latin-1 text");
    fs.writeFileSync(path.join(tmp, "server-latin1.log"), Buffer.from(text, "latin1"));
    filterFile("new");
    // A journald of its own in a private mount namespace (its sockets and files on tmpfs, the
    // default settings but for reading the kernel's log), fed the log through a stdout stream
    // exactly as a unit's output reaches it, and read by fail2ban-regex's journal backend.
    const script = String.raw`set -eu
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/systemd
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\n' > /etc/systemd/journald.conf
"$1" & journald=$!
trap 'kill $journald' EXIT
i=0; until [ -S /run/systemd/journal/stdout ]; do i=$((i+1)); [ $i -lt 100 ] || { echo "journald did not start" >&2; exit 1; }; sleep 0.1; done
systemd-cat -t jupyter-lab < "$2/server.log"
systemd-cat -t jupyter-lab-latin1 < "$2/server-latin1.log"
journalctl --sync
journalctl -D /run/log/journal -t jupyter-lab -o json > "$2/entries.json"
for ident in jupyter-lab jupyter-lab-latin1; do
    fail2ban-regex --raw -m "SYSLOG_IDENTIFIER=$ident" --out '<ip> <msg>' 'systemd-journal[journalpath=/run/log/journal]' "$2/filter-new.conf" > "$2/$ident.out"
done`;
    const result = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "-", journald, tmp], {
        encoding: "utf8",
        env: { ...process.env, PYTHONUTF8: "1" },
    });
    const output = (ident: string) =>
        fs.existsSync(path.join(tmp, `${ident}.out`)) ? fs.readFileSync(path.join(tmp, `${ident}.out`), "utf8") : "";
    assert.equal(
        result.status,
        0,
        `a journald of its own (run the tests as root, as CI does; fail2ban-regex reads a journal with ` +
            `Debian's python3-systemd package): exit ${result.status}\n${result.stderr}${output("jupyter-lab")}`,
    );
    const entries = fs
        .readFileSync(path.join(tmp, "entries.json"), "utf8")
        .split("\n")
        .filter((l) => l !== "").length;
    assert.equal(entries, text.split("\n").length - 1, "journald keeps each line as one entry");
    assertRefusalsMatch(parseMatches(output("jupyter-lab")));
    // Each byte that is not UTF-8 reaches the filter as U+FFFD.
    assertRefusalsMatch(parseMatches(output("jupyter-lab-latin1")), (line) => line.replace(/[\x80-\xff]/g, "\ufffd"));
});

test("journald with the login guard's LineMax keeps a 60 KB refused login whole, and it counts; by default it would be cut and missed", () => {
    for (const [command, install] of [
        ["unshare", "util-linux"],
        ["systemd-cat", "systemd"],
        ["journalctl", "systemd"],
    ]) {
        requireCommand(command, `install Debian's ${install} package`);
    }
    const journald = ["/usr/lib/systemd/systemd-journald", "/lib/systemd/systemd-journald"].find((f) => fs.existsSync(f));
    assert.ok(journald, "no systemd-journald: install Debian's systemd package");
    // A refused login as the server logs it, with a next of 60,000 characters (tornado takes 64 KiB).
    const refusal = fs
        .readFileSync(path.join(tmp, "server.log"), "utf8")
        .split("\n")
        .find((l) => / 401 POST \/login\?next=%2Flab \(@127\.0\.0\.1\) /.test(l));
    assert.ok(refusal !== undefined, "the server logged a plain refused login");
    fs.writeFileSync(path.join(tmp, "long.log"), `${refusal.replace("?next=%2Flab", `?next=/${"a".repeat(60_000)}`)}\n`);
    fs.writeFileSync(path.join(tmp, "journald-guard.conf"), renderJournaldSettings());
    filterFile("new");
    const counted = (settings: "default" | "guard") => {
        const script = String.raw`set -eu
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/systemd
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\n' > /etc/systemd/journald.conf
if [ "$3" = guard ]; then mkdir /etc/systemd/journald.conf.d && cp "$2/journald-guard.conf" /etc/systemd/journald.conf.d/jupyterlab-droplet.conf; fi
"$1" & journald=$!
trap 'kill $journald' EXIT
i=0; until [ -S /run/systemd/journal/stdout ]; do i=$((i+1)); [ $i -lt 100 ] || { echo "journald did not start" >&2; exit 1; }; sleep 0.1; done
systemd-cat -t jupyter-lab < "$2/long.log"
journalctl --sync
journalctl -D /run/log/journal -t jupyter-lab -o cat | wc -l > "$2/long-entries.txt"
fail2ban-regex --raw -m SYSLOG_IDENTIFIER=jupyter-lab --out '<ip>' 'systemd-journal[journalpath=/run/log/journal]' "$2/filter-new.conf" > "$2/long.out"`;
        const result = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "-", journald, tmp, settings], {
            encoding: "utf8",
            env: { ...process.env, PYTHONUTF8: "1" },
        });
        assert.equal(result.status, 0, `a journald of its own (run the tests as root, as CI does): ${result.stderr}`);
        return {
            entries: Number(fs.readFileSync(path.join(tmp, "long-entries.txt"), "utf8").trim()),
            counted: fs
                .readFileSync(path.join(tmp, "long.out"), "utf8")
                .split("\n")
                .filter((l) => l === "127.0.0.1").length,
        };
    };
    assert.deepEqual(counted("guard"), { entries: 1, counted: 1 }, "one entry, counted for the connection's address");
    const cut = counted("default");
    assert.ok(cut.entries > 1 && cut.counted === 0, `journald's default cuts it and the refusal goes uncounted: ${JSON.stringify(cut)}`);
});
