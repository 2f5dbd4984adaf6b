// The README's Quick start, Everyday use and Destroying, followed word for word: the shell blocks
// tagged `<!-- run by: test/engine/quick-start.ts -->` are read out of README.md and run in
// order by one bash, as in one terminal, in an empty home (so an empty ~/.pulumi: no CLI, no
// plugin, no state), with no terminal at all (a new session: no controlling tty; stdin a pipe).
// The environment points at a local cloud of its own: a DigitalOcean API stand-in
// (DIGITALOCEAN_API_URL), whose droplets are local VMs. The secrets the README has the user type
// (the passphrase, the token, the password) arrive on stdin, where its `read` and
// `pulumi config set --secret` read them. After the Quick start it logs in to JupyterLab at the
// url `npm run server -- open` printed, with the password the README's last command printed;
// then the rest runs, `pulumi destroy` last.
//
// What cannot run here is replaced, in the text of the block, and nothing else (the list below,
// which test/unit/readme.test.ts holds to the README):
//   - the clone from GitHub: a clone of this repository (its HEAD: commit what you mean to test);
//   - the Pulumi CLI from get.pulumi.com: the engine's own build (test/engine/build-engine.sh) of
//     the same version, put where the installer puts the CLI, with the provider plugins the first
//     `pulumi up` would download put in the plugin cache by `pulumi plugin install --file`;
//   - ifconfig.me: a server on this machine that answers, as ifconfig.me does, with the address
//     the request came from.
// The machine's own settings stay: npm's registry and cache, as in team.test.ts, and Pulumi's
// update check and plugin downloads turned off (nothing can be downloaded here). Pulumi finds `~`
// by the passwd entry, not $HOME: the blocks run in a mount namespace in which that ~/.pulumi is
// the empty home's (inEmptyHome), so the machine's own is never touched.
//
// full-flow.test.ts runs it in the background, beside alice's checks, once her first `up` is
// done: its one droplet and the README's commands then take the time those checks leave idle
// (waits on SSH, timers and the engine) instead of time of their own. Its processes and VM run
// at a lower priority (`niceness`), so the checks beside it keep the speed their waits assume.
// The time from the clone to a working login is the report's cloneToLoginSeconds
// (test-results/quick-start-report.json): with the suite beside it, longer than alone.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { startDoStandin, Standin } from "../standin/do-api";
import { JupyterClient } from "../support/jupyter-client";
import { fencedBlocks, isShellBlock } from "../support/markdown-blocks";
import { requireCommand } from "../support/jupyter-venv";
import { buildEngine } from "./pulumi-cli";
import { VmBackend } from "./vm-backend";

/** This file, as README.md's tags name it. */
const runBy = "test/engine/quick-start.ts";
const repoDir = path.resolve(__dirname, "..", "..");
const resultsDir = path.join(repoDir, "test-results");
/** This run's directory (made by prepare), and in it: */
let work = "";
/** the user's home: empty, and so is ~/.pulumi, until the README's steps fill them; */
let home = "";
/** ~/.pulumi as Pulumi finds it, by the passwd entry (see inEmptyHome). */
const passwdPulumiHome = path.join(os.userInfo().homedir, ".pulumi");
/** Whether this test made passwdPulumiHome (empty) as the mount point: it removes it after. */
let madeMountPoint = false;
/** where the user opens the terminal: the clone is made here. */
let startDir = "";
/** How much lower than the suite's the priority of this run's processes and VM is (nice(1)). */
let niceness = 0;
const secrets = { passphrase: "quick start passphrase", token: "standin-token", password: "a quick start password" };
const report: Record<string, unknown> = {};
let standin: Standin;
let whatIsMyIp: http.Server;
let binDir: string;
/** The bash running the README's blocks, while it runs (a new session: its process group is its pid). */
let running: ChildProcess | undefined;

/** The version package-lock.json pins for an npm package. */
function lockedVersion(pkg: string): string {
    const lock = JSON.parse(fs.readFileSync(path.join(repoDir, "package-lock.json"), "utf8")) as {
        packages: Record<string, { version?: string }>;
    };
    const version = lock.packages[`node_modules/${pkg}`]?.version;
    assert.ok(version !== undefined, `package-lock.json pins no version of ${pkg}`);
    return version;
}

/**
 * Shows a stream of the README's bash line by line, each under this run's name: the suite's own
 * output runs beside it. A line split between chunks is shown once it is whole.
 */
function echoer(): (chunk: Buffer) => void {
    let partial = "";
    return (chunk) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) process.stderr.write(`[quick-start] ${line}\n`);
    };
}

/** Single-quoted for bash. */
function quoted(s: string): string {
    return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * What this test puts in place of what cannot run here: each `text` is replaced by `by` in the
 * blocks' text, and must be found there (test/unit/readme.test.ts lists the same texts).
 */
function substitutions(): { text: string; by: string; why: string }[] {
    // The clone's source ends in /jupyterlab-droplet as GitHub's url does, so `cd jupyterlab-droplet` follows.
    const origin = path.join(work, "origin", "jupyterlab-droplet");
    fs.mkdirSync(path.dirname(origin), { recursive: true });
    fs.symlinkSync(repoDir, origin);
    const pulumiBin = "$HOME/.pulumi/bin";
    const installCli = [
        `mkdir -p "${pulumiBin}"`,
        `cp ${quoted(path.join(binDir, "pulumi"))} ${quoted(path.join(binDir, "pulumi-language-nodejs"))} "${pulumiBin}/"`,
        ...["digitalocean", "command", "random", "tls"].map(
            (provider) =>
                `"${pulumiBin}/pulumi" plugin install resource ${provider} ${lockedVersion(`@pulumi/${provider}`)} --file ${quoted(
                    path.join(binDir, `pulumi-resource-${provider}`),
                )}`,
        ),
    ].join(" && ");
    return [
        {
            text: "https://github.com/<owner>/jupyterlab-droplet",
            by: origin,
            why: "no GitHub here: a clone of this repository",
        },
        {
            text: "curl -fsSL https://get.pulumi.com | sh -s -- --version 3.248.0",
            by: installCli,
            why: "no downloads here: the engine's own build of the CLI where the installer puts it, and the plugins `pulumi up` would download",
        },
        {
            text: "https://ifconfig.me",
            by: `http://127.0.0.1:${(whatIsMyIp.address() as AddressInfo).port}/`,
            why: "no internet here: a local server that answers with the caller's address",
        },
    ];
}

/**
 * Pulumi takes `~` from the passwd entry, not from $HOME (`pulumi login --local` is `file://~`,
 * and its home is ~/.pulumi): a command run through this sees, in a mount namespace of its own,
 * the empty home's .pulumi at the passwd entry's ~/.pulumi, so that every tool's `~/.pulumi` is
 * the same empty directory and the machine's own (if any) is neither read nor written. Needs
 * root, as `npm test`'s journald tests do.
 */
function inEmptyHome(command: string[]): [string, string[]] {
    return [
        "unshare",
        [
            "--mount",
            "--propagation",
            "private",
            "--",
            "bash",
            "-c",
            'mount --bind "$1" "$2" && shift 2 && exec "$@"',
            "in-empty-home",
            path.join(home, ".pulumi"),
            passwdPulumiHome,
            ...command,
        ],
    ];
}

/** The user's environment: the machine's, less anything of the test runner's, npm's or Pulumi's; plus the local cloud. */
function userEnvironment(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
        if (!/^(PULUMI_|DIGITALOCEAN_|npm_|NODE_TEST_CONTEXT$|NODE_OPTIONS$|SSH_AUTH_SOCK$|INIT_CWD$)/i.test(key)) {
            env[key] = value;
        }
    }
    // No node_modules/.bin of the runner's npm, and no pulumi already on PATH: the README installs it.
    env.PATH = (process.env.PATH ?? "")
        .split(":")
        .filter((dir) => dir !== "" && !dir.includes("node_modules") && !fs.existsSync(path.join(dir, "pulumi")))
        .join(":");
    const userNpmrc = path.join(os.homedir(), ".npmrc");
    return {
        ...env,
        HOME: home,
        // npm as the machine has it set up (registry, CA file, cache), though HOME is the test's.
        ...(fs.existsSync(userNpmrc) ? { NPM_CONFIG_USERCONFIG: userNpmrc } : {}),
        NPM_CONFIG_CACHE: path.join(os.homedir(), ".npm"),
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        // The local cloud, in place of api.digitalocean.com: the one thing the README does not say.
        DIGITALOCEAN_API_URL: standin.url,
    };
}

async function prepare(): Promise<void> {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-quick-start-"));
    home = path.join(work, "home");
    startDir = path.join(work, "start");
    for (const [command, pkg] of [
        ["go", "golang (or Go from go.dev)"],
        ["git", "git"],
        ["ssh", "openssh-client"],
        ["qemu-system-x86_64", "qemu-system-x86"],
        ["npm", "npm"],
    ]) {
        requireCommand(command, `install ${pkg} (Debian: apt-get install ${pkg.split(" ")[0]})`);
    }
    const engine = buildEngine();
    binDir = engine.binDir;
    report.engineBuild = { seconds: engine.seconds };
    const backend = new VmBackend({
        workDir: path.join(work, "cloud"),
        forwardPorts: [9000],
        addresses: ["127.0.3.1", "127.0.3.2"],
        niceness,
    });
    await backend.prepare();
    standin = await startDoStandin({ backend, token: secrets.token });
    whatIsMyIp = http.createServer((req, res) => res.end(`${(req.socket.remoteAddress ?? "").replace(/^::ffff:/, "")}`));
    await new Promise<void>((resolve) => whatIsMyIp.listen(0, "127.0.0.1", resolve));
    assert.equal(
        process.getuid?.(),
        0,
        "the quick start test needs root, for a mount namespace in which ~/.pulumi is empty (run the engine suite as root, as CI does)",
    );
    fs.mkdirSync(path.join(home, ".pulumi"), { recursive: true });
    fs.mkdirSync(startDir, { recursive: true });
    if (!fs.existsSync(passwdPulumiHome)) {
        fs.mkdirSync(passwdPulumiHome, { mode: 0o700 });
        madeMountPoint = true;
    }
}

/** Writes the report; ends the README's bash if it still runs, the stand-in and its VM; removes the run's directory. */
async function cleanUp(): Promise<void> {
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, "quick-start-report.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`[quick-start] report (test-results/quick-start-report.json):\n${JSON.stringify(report, null, 2)}`);
    if (running?.pid !== undefined && running.exitCode === null && running.signalCode === null) {
        process.kill(-running.pid, "SIGKILL");
    }
    whatIsMyIp?.close();
    // Stops any VM left by a run that failed before `pulumi destroy`.
    await standin?.close();
    if (madeMountPoint) {
        fs.rmdirSync(passwdPulumiHome); // empty: everything went to the test's home, in the namespace
    }
    if (work !== "") {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/** The README's blocks, run and checked (see the top of this file). */
async function followReadme(): Promise<void> {
    assert.equal(path.relative(repoDir, __filename), runBy, "the README's tags name this file by this path");
    const readme = fs.readFileSync(path.join(repoDir, "README.md"), "utf8");
    const blocks = fencedBlocks(readme).filter((b) => isShellBlock(b) && b.runBy === runBy);
    assert.equal(blocks.length, readme.split(`<!-- run by: ${runBy} -->`).length - 1, "every tag of this file's is on a shell block");
    const lastQuickStart = blocks.map((b) => b.section).lastIndexOf("Quick start");
    assert.ok(lastQuickStart >= 0 && lastQuickStart < blocks.length - 1, "the Quick start's blocks, then the rest");
    let texts = blocks.map((b) => b.text);
    for (const { text, by } of substitutions()) {
        assert.ok(
            texts.some((t) => t.includes(text)),
            `README.md's blocks no longer hold ${JSON.stringify(text)}: update this test and test/unit/readme.test.ts`,
        );
        texts = texts.map((t) => t.replaceAll(text, by));
    }

    // One bash for all the blocks, as one terminal. After each block a marker line; after the
    // Quick start it waits on a fifo for the test's login.
    const fifo = path.join(work, "login-done");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    const script = [
        "set -euxo pipefail",
        ...texts.flatMap((text, i) => [
            `# README.md line ${blocks[i].line} (${blocks[i].section})`,
            text,
            `echo "::block ${i} done::"`,
            ...(i === lastQuickStart ? [`read -r answer <${quoted(fifo)}`, `[ "$answer" = continue ]`] : []),
        ]),
    ].join("\n");
    const scriptFile = path.join(work, "readme-blocks.sh");
    fs.writeFileSync(scriptFile, `${script}\n`);

    const started = Date.now();
    const child = spawn("nice", ["-n", String(niceness), ...inEmptyHome(["bash", scriptFile]).flat()], {
        cwd: startDir,
        env: userEnvironment(),
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
    });
    running = child;
    // What the README has the user type: the passphrase (step 5), the token (6), the password (7).
    child.stdin.end(`${secrets.passphrase}\n${secrets.token}\n${secrets.password}\n`);
    let output = "";
    const blockOutput: string[] = [];
    /** Each block's wall time, and when it ended counted from the clone's start. */
    const blockTimes: { line: number; section: string; firstCommand: string; seconds: number; endedAtSeconds: number }[] = [];
    let blockStart = 0;
    let lastEnd = started;
    let loginReady: () => void = () => undefined;
    const atLogin = new Promise<void>((resolve) => (loginReady = resolve));
    const echoStdout = echoer();
    const collect = (d: Buffer) => {
        echoStdout(d);
        output += d.toString();
        for (;;) {
            const marker = /::block (\d+) done::\n/.exec(output.slice(blockStart));
            if (marker === null) break;
            const i = Number(marker[1]);
            blockOutput[i] = output.slice(blockStart, blockStart + marker.index);
            blockStart += marker.index + marker[0].length;
            const now = Date.now();
            blockTimes.push({
                line: blocks[i].line,
                section: blocks[i].section,
                firstCommand: blocks[i].text.split("\n")[0].replace(/\s+#.*$/, ""),
                seconds: Math.round((now - lastEnd) / 100) / 10,
                endedAtSeconds: Math.round((now - started) / 100) / 10,
            });
            lastEnd = now;
            if (i === lastQuickStart) loginReady();
        }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", echoer());
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const ended = await Promise.race([atLogin.then(() => "login" as const), exited]);
    assert.equal(ended, "login", `the Quick start's blocks failed (exit ${String(ended)}): see the output above`);

    // What the README promised along the way.
    assert.match(blockOutput[blocks.findIndex((b) => b.text.includes("pulumi version"))], /^v3\.248\.0$/m, "pulumi version");
    assert.match(output, /\["127\.0\.0\.1\/32"\]/, "allowedCidrs is this machine's address, as the local ifconfig.me saw it");
    const last = blockOutput[lastQuickStart];
    const url = /^https:\/\/\S+\/lab$/m.exec(last)?.[0];
    assert.ok(url !== undefined, `npm run server -- open printed the url:\n${last}`);
    const password = last.trimEnd().split("\n").pop();
    assert.equal(password, secrets.password, "the last command printed the password set in step 7");

    // The login, as the browser after the certificate is accepted: the certificate pinned is the stack's own.
    const clone = path.join(startDir, "jupyterlab-droplet");
    const pem = spawnSync(...inEmptyHome(["pulumi", "stack", "output", "certificatePem"]), {
        cwd: clone,
        encoding: "utf8",
        env: {
            ...userEnvironment(),
            PATH: `${home}/.pulumi/bin:${userEnvironment().PATH}`,
            PULUMI_CONFIG_PASSPHRASE: secrets.passphrase,
        },
    });
    assert.equal(pem.status, 0, pem.stderr);
    const client = new JupyterClient(new URL(url).origin, pem.stdout.trim());
    let loggedIn = false;
    try {
        loggedIn = (await client.login(password)).status === 302 && (await client.request("GET", "/api/contents")).status === 200;
    } finally {
        fs.writeFileSync(fifo, loggedIn ? "continue\n" : "stop\n");
    }
    assert.ok(loggedIn, `logged in at ${url} with the password`);
    report.cloneToLoginSeconds = Math.round((Date.now() - started) / 100) / 10;
    console.log(`[quick-start] from the clone to a login at ${url}: ${String(report.cloneToLoginSeconds)} s`);

    const code = await exited;
    report.blocks = blockTimes;
    report.totalSeconds = Math.round((Date.now() - started) / 100) / 10;
    assert.equal(code, 0, "Everyday use and Destroying ran: see the output above");
    const everyday = blockOutput[blocks.findIndex((b) => b.section === "Everyday use")];
    assert.match(everyday, /^alice: running$/m, "npm run server -- status");
    assert.ok(everyday.includes(url), "npm run server -- open --print");
    await standin.state.idle();
    assert.deepEqual(standin.state.droplets(), [], "pulumi destroy left no droplet");
    assert.deepEqual(standin.state.volumes(), [], "nor a volume");
    assert.deepEqual(standin.state.sshKeys(), []);
    assert.deepEqual(standin.state.firewalls(), []);
    assert.ok(!fs.existsSync(path.join(clone, "Pulumi.alice.yaml")), "pulumi stack rm removed the stack's file");
    assert.deepEqual(standin.state.unknownCalls(), []);
}

/** A quick start under way: `finished` settles when it is done and cleaned up; `stop` ends it early. */
export interface QuickStartRun {
    finished: Promise<void>;
    stop(): Promise<void>;
}

/**
 * Starts the README's quick start in the background, its processes and VM NICENESS lower in
 * priority than the caller's (0: the same). Needs root (see inEmptyHome).
 */
export function startQuickStart(options: { niceness: number }): QuickStartRun {
    niceness = options.niceness;
    let cleaned: Promise<void> | undefined;
    const cleanUpOnce = () => (cleaned ??= cleanUp());
    const finished = (async () => {
        try {
            await prepare();
            await followReadme();
        } finally {
            await cleanUpOnce();
        }
    })();
    return { finished, stop: cleanUpOnce };
}
