// The real `pulumi preview` / `up` / `refresh` / `destroy`, end to end: the Pulumi CLI, the
// Node.js language host and the DigitalOcean, command, random and tls providers built from
// source (build-engine.sh), the program as a user runs it, the DigitalOcean provider talking to
// the local API stand-in, and every droplet a real local VM booted with the user-data the
// provider sent. The setup runs through the real command provider.
//
// Droplet boots are the expensive part (about 10 minutes each under emulation), so each one
// serves many checks, and two stacks' droplets boot side by side; alice's checks begin as soon as
// her `up` is done, while bob's upgrade finishes:
//   alice: the default image (debian-13-x64), a generated key, a reserved IP; every check of the
//          server a user meets, login throttling, then an image change that replaces her droplet
//          behind the same address and certificate.
//   bob:   ubuntu-24-04-x64 (socket-activated ssh), his own key in a real ssh-agent, retained
//          data; a size not offered in his region first, a Ctrl-C during the JupyterLab install,
//          then paused by the idle sweep (alice's kept, busy) and resumed (at a new address)
//          beside alice's replacement, both restoring what their first droplets kept on the volumes.
//   alice, last, on her new droplet: her own domain, with a certificate from Pebble (the real
//          ACME test server, on this machine) through the same certbot path as Let's Encrypt:
//          blocked port 80 first, then the certificate, a trusted login and a forced renewal.
// The stand-in answers a deterministic share of all requests with 429 and 503 throughout.
// Beside alice's checks, once her first `up` is done, the README's quick start runs as a new user
// runs it, with a local cloud of its own (quick-start.ts), at a lower priority: it takes the time
// the checks leave idle, and the last test before alice's destroy waits for it.
import * as assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import * as tls from "node:tls";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { shellQuote } from "../../droplet/step-scripts";
import { serverLayout } from "../../droplet/server-layout";
import { startDoStandin, Standin } from "../standin/do-api";
import { AcmeServer, buildAcmeBinaries, makeTrustingBrowserHome, startAcmeServer } from "./acme-server";
import { adversarialLogins, sendRawRequests, spoofedAddress } from "../support/adversarial-logins";
import { JupyterClient } from "../support/jupyter-client";
import { requireCommand } from "../support/jupyter-venv";
import { leaveCellRunning, runCell, startKernel } from "../support/kernel";
import {
    buildEngine,
    changedResources,
    copyProject,
    copyProjectAt,
    installPlugins,
    previewSteps,
    PulumiCli,
    readEvents,
    RunOptions,
    secondsByResource,
    urnName,
} from "./pulumi-cli";
import { QuickStartRun, startQuickStart } from "./quick-start";
import { VmBackend } from "./vm-backend";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-engine-"));
const resultsDir = path.resolve(__dirname, "..", "..", "test-results");
const report: Record<string, unknown> = {};
const seconds: Record<string, number | Record<string, number>> = {};
report.seconds = seconds;
let standin: Standin;
let backend: VmBackend;
let cli: PulumiCli;
let projectDir: string;
let agent: { socket: string; pid: number };
let acme: AcmeServer;
/**
 * bob's droplet is made by the last version that landed before this one, then upgraded by this
 * one: every change to the program is checked to upgrade a running server without replacing its
 * droplet or volume. Move it forward to the commit of each version that lands.
 */
const upgradeBaseline = "7454c865be2dbe4bd5494170d2b6d78f14bd3460";
let baselineCli: PulumiCli;

const alice = { stack: "alice", password: "alice's first password", newPassword: "alice's second password!", loginLimit: 3 };
const bob = {
    stack: "bob",
    password: "bob's password, long enough",
    keyFile: path.join(work, "bob_ed25519"),
    runningAddress: "",
    hostKey: "",
};
// Every 13th API request answered 429 (Retry-After 1 s), every 17th 503: the provider must retry.
const faults = { tooManyRequestsEvery: 13, unavailableEvery: 17, retryAfterSeconds: 1 };

type Outputs = Record<string, string | number | undefined>;
/** What alice's kernel step printed at her first up and after her package list changed. */
let aliceKernelAtFirstUp = "";
let aliceKernelAfterPackages = "";
/** alice's kernel left running a long cell by the culling test, for the idle sweep to find busy. */
let aliceBusyKernel = "";
/** bob's droplet: the previous version's `up`s and this version's upgrade, run while alice's server is checked. */
let bobChain: Promise<void> = Promise.resolve();
/** What the planting test saw before the password change. */
const planted = { before: "" };
const outs: Record<string, Outputs> = {};
/** The README's quick start, running beside the checks from alice's first `up` on. */
let quickStart: QuickStartRun | undefined;
/**
 * How much lower the quick start's priority is (nice(1)): enough that the checks beside it keep
 * most of the machine when both want it, not so much that its droplet stalls at boot.
 */
const quickStartNiceness = 10;

async function outputs(stack: string): Promise<Outputs> {
    const result = await cli.ok(["stack", "output", "--json", "--show-secrets", `--stack=${stack}`]);
    outs[stack] = JSON.parse(result.stdout) as Outputs;
    return outs[stack];
}

function baseUrl(out: Outputs): string {
    return new URL(String(out.url)).origin;
}

async function login(out: Outputs, password: string): Promise<{ client: JupyterClient; status: number }> {
    const client = new JupyterClient(baseUrl(out), String(out.certificatePem));
    const res = await client.login(password);
    return { client, status: res.status };
}

async function loggedIn(out: Outputs, password: string): Promise<JupyterClient> {
    const { client, status } = await login(out, password);
    assert.equal(status, 302, `login to ${String(out.url)} answered ${status}`);
    return client;
}

/** Whether a new connection from this machine gets an answer from JupyterLab within 3 s. */
async function jupyterAnswers(out: Outputs): Promise<boolean> {
    try {
        return (await new JupyterClient(baseUrl(out), String(out.certificatePem), 3_000).request("GET", "/api")).status === 200;
    } catch {
        return false;
    }
}

/** The stack's key for root: the generated one from the outputs, or bob's own. */
function rootKeyFile(stack: string): string {
    if (stack === bob.stack) {
        return bob.keyFile;
    }
    const keyFile = path.join(work, `key-${stack}`);
    fs.writeFileSync(keyFile, `${String(outs[stack].sshPrivateKey).trim()}\n`, { mode: 0o600 });
    return keyFile;
}

function sshAsRoot(stack: string, command: string, extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
    return spawnSync(
        "ssh",
        [
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ConnectTimeout=20",
            "-o",
            "LogLevel=ERROR",
            "-i",
            rootKeyFile(stack),
            ...extra,
            `root@${String(outs[stack].ipAddress)}`,
            command,
        ],
        { encoding: "utf8", timeout: 300_000 },
    );
}

/**
 * A failed setup step's part of `pulumi up`'s output: the step's own short command, then its name,
 * its last lines and what to do; never a script's text. Returns the lines, for the report.
 */
function stepFailure(printed: string, role: string, toolMessage: RegExp): string[] {
    const lines = printed.split("\n");
    const start = lines.findIndex((line) => line.includes(`running "${serverLayout.stepRunner} ${role} `));
    assert.ok(start >= 0, `the error names the ${role} step's command, run by path: ${printed}`);
    // The step's own command, without the engine's prefix (resource, status, diff) around it.
    const command = /running "([^"]*)"/.exec(lines[start])?.[1] ?? lines[start];
    assert.ok(command.length < 300, `a command line that fits on a screen: ${command}`);
    assert.ok(!printed.includes("set -euo pipefail"), "no script's text anywhere in the output");
    const end = lines.findIndex((line, i) => i > start && line.includes("What to do: "));
    assert.ok(
        end > start && end - start <= 40,
        `the step's message ends with what to do, within 40 lines: ${lines.slice(start).join("\n")}`,
    );
    const message = lines.slice(start, end + 1);
    assert.ok(
        message.some((line) => line.includes(`the ${role} step failed (exit 1)`)),
        message.join("\n"),
    );
    assert.match(message.join("\n"), toolMessage, "the tool's own message is in the step's last lines");
    return message.map((line) => line.trim());
}

function rootShell(stack: string, command: string): string {
    const result = sshAsRoot(stack, command);
    assert.equal(result.status, 0, `${command} on ${stack}: ${result.stderr}`);
    return result.stdout;
}

/** scripts/connect.sh as a user runs it. */
function connectScript(stack: string, env: NodeJS.ProcessEnv = {}): string {
    const result = spawnSync("bash", [path.join(projectDir, "scripts", "connect.sh"), stack], {
        cwd: projectDir,
        env: { ...cli.environment, ...env },
        encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
}

/** `ssh <alias> id -un` through the entry connect.sh wrote. */
function sshThroughConfig(alias: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string; stdout: string } {
    // ssh expands "~" from the passwd entry, not $HOME: point the entry's paths at the test's home.
    const home = String(cli.environment.HOME);
    const config = fs.readFileSync(path.join(home, ".ssh", "config"), "utf8").replaceAll("~/", `${home}/`);
    const configFile = path.join(work, "ssh_config");
    fs.writeFileSync(configFile, config);
    return spawnSync("ssh", ["-F", configFile, "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", alias, "id -un"], {
        encoding: "utf8",
        env: { ...process.env, SSH_AUTH_SOCK: "", ...env },
    });
}

async function setConfig(stack: string, config: Record<string, string>, secrets: Record<string, string> = {}): Promise<void> {
    for (const [key, value] of Object.entries(config)) {
        await cli.ok(["config", "set", `--stack=${stack}`, "--path", key, value]);
    }
    for (const [key, value] of Object.entries(secrets)) {
        await cli.ok(["config", "set", `--stack=${stack}`, "--secret", key], { stdin: value });
    }
}

/** Runs a shell script on the droplet as the jupyter user: what any notebook code can do. */
function asJupyter(stack: string, script: string): string {
    return rootShell(stack, `runuser -u ${serverLayout.user} -- bash -c ${shellQuote(script)}`);
}

/**
 * Plants, as the jupyter user, a Jupyter config of its own where Jupyter would look for one, a
 * .pth that runs at every Python start, and links at the paths root steps wrote to in earlier
 * versions (the config, the certificate and key, the SSH keys), pointing at root's files.
 */
function plantAsJupyter(stack: string): void {
    asJupyter(
        stack,
        `set -e; cd "$HOME"
        ran='open("/home/jupyter/planted-code-ran", "a").write'
        sitedir=$(python3 -c 'import site; print(site.getusersitepackages())')
        mkdir -p .jupyter .local/etc/jupyter "$sitedir"
        echo "$ran('~/.jupyter config\\n')" > .jupyter/jupyter_server_config.py
        echo "$ran('~/.local/etc/jupyter config\\n')" > .local/etc/jupyter/jupyter_server_config.py
        echo "import os; $ran('user site .pth\\n')" > "$sitedir/planted.pth"
        ln -sfn /etc/shadow .jupyter/jupyter_server_config.json
        rm -rf .jupyter/tls && ln -sfn /root .jupyter/tls
        mv .ssh .ssh.saved && ln -sfn /etc/ssh .ssh`,
    );
}

/** Undoes plantAsJupyter, as the jupyter user. */
function unplantAsJupyter(stack: string): void {
    asJupyter(
        stack,
        `set -e; cd "$HOME"
        rm -f .jupyter/jupyter_server_config.py .local/etc/jupyter/jupyter_server_config.py .jupyter/jupyter_server_config.json .jupyter/tls
        rm -f "$(python3 -c 'import site; print(site.getusersitepackages())')/planted.pth"
        rm .ssh && mv .ssh.saved .ssh`,
    );
}

/**
 * Owner, mode and content of what the planted links point at and of the root-owned config, and
 * every file outside the jupyter user's own trees that it owns: none of it may change.
 */
function rootFilesSnapshot(stack: string): string {
    const l = serverLayout;
    return rootShell(
        stack,
        `find /etc/ssh /root/.ssh -maxdepth 1 -printf '%p %u %g %m %s\n' | sort
        stat -c '%n %U %G %a' /root /etc
        sha256sum /etc/shadow /etc/ssh/sshd_config
        stat -c '%n %U %G %a' ${l.configDir} ${l.tlsDir} ${l.configFile} ${l.certFile} ${l.keyFile}
        find / -xdev -user ${l.user} -not -path '${l.home}' -not -path '${l.home}/*' -not -path '${l.kernelEnvRoot}/*' \
            -not -path '/tmp/*' -not -path '/var/tmp/*' -not -path '/var/log/journal/*' 2>/dev/null | sort`,
    );
}

/** `npm run server -- <verb> --stack <stack>` as a user runs it, in the project; its output is kept. */
function serverVerb(stack: string, verb: string[]): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn("npm", ["run", "--silent", "server", "--", ...verb, "--stack", stack], {
            cwd: projectDir,
            env: { ...cli.environment, ...(stack === bob.stack ? { SSH_AUTH_SOCK: agent.socket } : {}) },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
        });
        child.stderr.on("data", (d: Buffer) => {
            stderr += d.toString();
        });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
    });
}

/** Options for every engine command of a stack: bob's logs in through his agent. */
function stackOptions(stack: string, extra: RunOptions = {}): RunOptions {
    return stack === bob.stack ? { ...extra, env: { SSH_AUTH_SOCK: agent.socket, ...extra.env } } : extra;
}

let eventLogs = 0;
/** What alice's first `up` printed: the cost reminder is among its diagnostics. */
let firstUpOutput = "";
/** `pulumi up` (by this version, or another's `using`), with the engine's event log kept for the per-resource times and changes. */
async function up(
    stack: string,
    label: string,
    extra: RunOptions = {},
    using = cli,
): Promise<{ stdout: string; perResource: Record<string, number>; changed: Record<string, string> }> {
    const eventLog = path.join(work, `events-${++eventLogs}.jsonl`);
    const result = await using.ok(["up", "--yes", "--skip-preview", `--stack=${stack}`], stackOptions(stack, { ...extra, eventLog }));
    const events = readEvents(eventLog);
    const perResource = secondsByResource(events);
    seconds[label] = result.seconds;
    seconds[`${label}: per resource`] = perResource;
    return { stdout: result.stdout, perResource, changed: changedResources(events) };
}

/** The names of the resources a preview would change, and how. */
async function plannedChanges(stack: string): Promise<Record<string, string>> {
    const steps = previewSteps((await cli.ok(["preview", "--json", `--stack=${stack}`], stackOptions(stack))).stdout);
    return Object.fromEntries(
        steps.filter((s) => s.op !== "same" && !s.urn.includes("pulumi:pulumi:Stack")).map((s) => [urnName(s.urn), s.op]),
    );
}

/** What a setup step printed in its last run: its Command resource's stdout, from the stack's state. */
async function stepStdout(stack: string, role: string): Promise<string> {
    const exported = JSON.parse((await cli.ok(["stack", "export", `--stack=${stack}`])).stdout) as {
        deployment: { resources: { urn: string; outputs?: { stdout?: unknown } }[] };
    };
    const step = exported.deployment.resources.find((r) => r.urn.endsWith(`::setup-${role}`));
    assert.ok(step !== undefined, `${stack} has a setup-${role} step`);
    return typeof step.outputs?.stdout === "string" ? step.outputs.stdout : "";
}

/** The volume's cache as root sees it, and what the jupyter user (any notebook code) can do to it. */
function volumeCache(stack: string): { entries: string[]; mode: string; immutable: boolean; userCanMove: boolean } {
    const top = `${serverLayout.notebookDir}/.jupyterlab-droplet`;
    const [mode, attributes] = rootShell(stack, `stat -c '%U %a' ${top} && lsattr -d ${top} | cut -d ' ' -f 1`).trim().split("\n");
    const moved = sshAsRoot(stack, `runuser -u ${serverLayout.user} -- mv ${top} ${serverLayout.notebookDir}/moved`);
    return {
        entries: rootShell(stack, `ls ${top}/cache`).trim().split("\n"),
        mode,
        immutable: attributes.includes("i"),
        userCanMove: moved.status === 0,
    };
}

function startAgent(): { socket: string; pid: number } {
    const socket = path.join(work, "agent.sock");
    const out = execFileSync("ssh-agent", ["-s", "-a", socket]).toString();
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
    execFileSync("ssh-add", [bob.keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: "ignore" });
    return { socket, pid };
}

before(async () => {
    for (const [command, pkg] of [
        ["go", "golang (or Go from go.dev)"],
        ["ssh", "openssh-client"],
        ["ssh-agent", "openssh-client"],
        ["qemu-system-x86_64", "qemu-system-x86"],
        ["chromium", "chromium"],
    ]) {
        requireCommand(command, `install ${pkg} (Debian: apt-get install ${pkg.split(" ")[0]})`);
    }
    const engine = buildEngine();
    report.engineBuild = { seconds: engine.seconds, binaries: engine.binaries };
    console.log(`[engine] build-engine.sh: ${engine.seconds.toFixed(1)} s`);
    acme = await startAcmeServer({ workDir: path.join(work, "acme"), binDir: buildAcmeBinaries() });
    backend = new VmBackend({
        workDir: path.join(work, "cloud"),
        // 80 for the ACME server's HTTP-01 challenge, 443 for JupyterLab at its domain.
        forwardPorts: [9000, 80, 443],
        dns: acme,
        addresses: ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4", "127.0.1.5", "127.0.1.6"],
        // alice keeps her address through a replacement with a reserved IP; bob's new droplet gets a new one.
        reservedAddresses: ["127.0.2.1", "127.0.2.2"],
    });
    const imageStarted = Date.now();
    await backend.prepare();
    seconds["test image (build or cache)"] = (Date.now() - imageStarted) / 1000;
    standin = await startDoStandin({ backend, faults });
    projectDir = copyProject(work);
    const home = path.join(work, "home");
    fs.mkdirSync(home, { recursive: true });
    const cliDir = await installPlugins(engine.binDir, work, PulumiCli.environment(engine.binDir, home, standin.url));
    cli = new PulumiCli(projectDir, PulumiCli.environment(cliDir, home, standin.url));
    baselineCli = new PulumiCli(copyProjectAt(upgradeBaseline, work), cli.environment);
    fs.mkdirSync(path.join(work, "state"));
    await cli.ok(["login", `file://${path.join(work, "state")}`]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bob@laptop", "-f", bob.keyFile]);
    agent = startAgent();
});

after(async () => {
    report.pulumiCommands = cli?.timings;
    report.apiFaults = standin?.state.faults();
    report.dropletBoots = standin?.state
        .requests()
        .filter((r) => r.method === "POST" && r.path === "/v2/droplets" && r.status === 202).length;
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, "engine-report.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`[engine] report (test-results/engine-report.json):\n${JSON.stringify(report, null, 2)}`);
    await quickStart?.stop();
    if (agent !== undefined) {
        process.kill(agent.pid);
    }
    await standin?.close();
    await backend?.closeReservedRoutes();
    await acme?.close();
    fs.rmSync(work, { recursive: true, force: true });
});

/** Adds a DNS zone to the account, as a user does in the control panel. */
async function createZone(name: string): Promise<void> {
    // The stand-in answers some requests with 429 or 503 on purpose: try again, as a client would.
    for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${standin.url}/v2/domains`, {
            method: "POST",
            headers: { Authorization: "Bearer standin-token", "Content-Type": "application/json" },
            body: JSON.stringify({ name }),
        });
        if (res.status === 201) {
            return;
        }
        if (![429, 503].includes(res.status) || attempt === 5) {
            throw new Error(`creating the zone ${name}: ${res.status} ${await res.text()}`);
        }
        await new Promise((r) => setTimeout(r, 1_000));
    }
}

/** The names of the stand-in's droplets, volumes or the like, sorted. */
function sortedNames(items: { name: string }[]): string[] {
    return items.map((i) => i.name).sort();
}

/** Droplet creates the stand-in answered with success, per droplet name. */
function dropletCreates(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const d of standin.state.createdDroplets()) {
        counts[d] = (counts[d] ?? 0) + 1;
    }
    return counts;
}

describe("pulumi against the DigitalOcean stand-in, every droplet a VM", { concurrency: false }, () => {
    test("preview plans every resource and creates nothing", async () => {
        await cli.ok(["stack", "init", alice.stack]);
        await setConfig(alice.stack, { region: "fra1", dataVolumeGb: "1", reservedIp: "true" }, { password: alice.password });
        const preview = await cli.ok(["preview", "--json", `--stack=${alice.stack}`]);
        seconds.preview = preview.seconds;
        const creates = previewSteps(preview.stdout)
            .filter((s) => s.op === "create")
            .map((s) => urnName(s.urn));
        for (const name of [
            "server-droplet",
            "data-volume",
            "firewall-firewall",
            "ssh-do",
            "tls-cert",
            "setup-configure",
            "address-ip",
            "address-assignment",
        ]) {
            assert.ok(creates.includes(name), `preview plans to create ${name}: ${creates.join(", ")}`);
        }
        assert.equal(standin.state.droplets().length, 0, "a preview creates nothing");
    });

    test("bob: a size not offered in his region stops `up` with DigitalOcean's message, and no droplet is made", async () => {
        await cli.ok(["stack", "init", bob.stack]);
        await setConfig(
            bob.stack,
            {
                region: "syd1",
                size: "s-4vcpu-8gb",
                image: "ubuntu-24-04-x64",
                dataVolumeGb: "1",
                retainData: "true",
                sshPublicKey: fs.readFileSync(`${bob.keyFile}.pub`, "utf8").trim(),
            },
            { password: bob.password },
        );
        const failed = await cli.run(["up", "--yes", "--skip-preview", `--stack=${bob.stack}`], stackOptions(bob.stack));
        assert.notEqual(failed.code, 0);
        assert.match(failed.stdout + failed.stderr, /Size is not available in this region/);
        assert.deepEqual(
            standin.state.droplets().filter((d) => d.name === "jupyterlab-bob"),
            [],
        );
        assert.deepEqual(backend.runningDroplets(), []);
        await setConfig(bob.stack, { size: "s-1vcpu-2gb" });
    });

    test("alice's `up`, beside bob's (the previous version's: Ctrl-C during the JupyterLab install, `up` again; then this version's upgrade); her checks start when hers is done", async () => {
        const aliceUp = up(alice.stack, "first up (alice), to login working");
        bobChain = (async () => {
            // The previous version makes his droplet, with his stack's config as set above.
            fs.copyFileSync(
                path.join(projectDir, `Pulumi.${bob.stack}.yaml`),
                path.join(baselineCli.directory, `Pulumi.${bob.stack}.yaml`),
            );
            const eventLog = path.join(work, "events-interrupted.jsonl");
            const interrupted = await baselineCli.run(
                ["up", "--yes", "--skip-preview", `--stack=${bob.stack}`],
                stackOptions(bob.stack, {
                    eventLog,
                    interrupt: { when: (e) => e.resourcePreEvent?.metadata.urn.endsWith("::setup-jupyterlab") === true, afterSeconds: 20 },
                }),
            );
            report.interruptedUp = {
                code: interrupted.code,
                seconds: interrupted.seconds,
                tail: (interrupted.stdout + interrupted.stderr).split("\n").slice(-15),
            };
            assert.notEqual(interrupted.code, 0, "an interrupted `up` does not report success");
            assert.ok(
                readEvents(eventLog).some((e) => e.resourcePreEvent?.metadata.urn.endsWith("::setup-jupyterlab")),
                "the install had started",
            );
            await up(bob.stack, "up after Ctrl-C (bob), previous version", {}, baselineCli);
            // This version upgrades the running server: the droplet and volume stay; the steps whose
            // scripts changed run again.
            const upgrade = await up(bob.stack, "upgrade up (bob), this version on the previous version's droplet");
            report.upgrade = { baseline: upgradeBaseline, changed: upgrade.changed };
            for (const kept of ["server-droplet", "data-volume", "ssh-do", "tls-cert", "password-salt"]) {
                assert.ok(
                    ![`replace`, "create-replacement", "delete-replaced", "delete"].includes(upgrade.changed[kept] ?? "same"),
                    `the upgrade keeps ${kept}: ${JSON.stringify(upgrade.changed)}`,
                );
            }
            await cli.ok(["preview", "--expect-no-changes", `--stack=${bob.stack}`], stackOptions(bob.stack));
        })();
        // Awaited by bob's test below; never an unhandled rejection meanwhile.
        bobChain.catch(() => undefined);
        try {
            firstUpOutput = (await aliceUp).stdout;
        } finally {
            // The heaviest part of the run is over (bob's upgrade is a short one): the README's quick
            // start begins, beside alice's checks. Awaited by the last test before her destroy.
            quickStart = startQuickStart({ niceness: quickStartNiceness });
            quickStart.finished.catch(() => undefined);
        }
        assert.equal(dropletCreates()["jupyterlab-alice"], 1, "her droplet was created once");
        const aliceOut = await outputs(alice.stack);
        // alice's address is her reserved IP, assigned to her droplet, which has an address of its own.
        const aliceDroplet = standin.state.droplets().find((d) => d.name === "jupyterlab-alice");
        assert.deepEqual(standin.state.reservedIps(), [{ ip: String(aliceOut.ipAddress), region: "fra1", dropletId: aliceDroplet?.id }]);
        assert.notEqual(aliceDroplet?.ipv4, aliceOut.ipAddress);
        // The droplet's hourly price from the API plus the 1 GB volume's; the assigned reserved IP is free.
        assert.equal(aliceOut.hourlyPriceUsd, 0.01801);
        assert.equal(aliceOut.monthlyPriceUsd, 12.1);
        assert.equal(aliceOut.state, "running");
        assert.match(firstUpOutput, /jupyterlab-alice: running: \$0\.01801\/hour, up to \$12\.10\/month/);
    });

    describe("alice's server, as she meets it", { concurrency: false }, () => {
        test("the url answers with the certificate pinned; the password logs in; a notebook; a cell runs in the kernel env", async () => {
            const out = outs[alice.stack];
            assert.match(String(out.url), /^https:\/\/127\.0\.2\.1:9000\/lab$/);
            const version = await new JupyterClient(baseUrl(out), String(out.certificatePem)).waitUntilReady(30_000);
            assert.match(version, /^2\./);
            const client = await loggedIn(out, alice.password);
            const created = await client.api("PUT", "/api/contents/kept.ipynb", {
                type: "notebook",
                format: "json",
                content: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
            });
            assert.equal(created.status, 201, created.body);
            const cell = await runCell(client, baseUrl(out), String(out.certificatePem), "import sys; print(sys.prefix); 1+1");
            assert.equal(cell.result, "2", cell.error);
            assert.match(cell.stdout, /^\/opt\/jupyter-kernel\//, "the default kernel runs in the kernel environment");
        });

        test("JupyterLab in Chromium: log in and see the launcher (screenshot)", async () => {
            const out = outs[alice.stack];
            const spki = createPublicKey(String(out.certificatePem)).export({ type: "spki", format: "der" });
            const pin = createHash("sha256").update(spki).digest("base64");
            const browser = await chromium.launch({
                executablePath: "/usr/bin/chromium",
                args: [
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    // Trusts exactly this certificate's key, as a user who checked the fingerprint would.
                    `--ignore-certificate-errors-spki-list=${pin}`,
                ],
            });
            try {
                const page = await browser.newPage();
                // The droplet may share two cores with another: a page can take longer than 30 s.
                page.setDefaultTimeout(120_000);
                await page.goto(String(out.url));
                await page.fill("input[type=password]", alice.password);
                await Promise.all([page.waitForURL(/\/lab/), page.click("#login_submit")]);
                await page.locator(".jp-Launcher").first().waitFor({ timeout: 120_000 });
                fs.mkdirSync(resultsDir, { recursive: true });
                await page.screenshot({ path: path.join(resultsDir, "engine-jupyterlab-launcher.png") });
                assert.match(await page.title(), /JupyterLab/);
            } finally {
                await browser.close();
            }
        });

        test("a wrong password is refused; SSH with a password is refused", async () => {
            assert.equal((await login(outs[alice.stack], "not the password at all")).status, 401);
            const bySsh = sshAsRoot(alice.stack, "true", [
                "-o",
                "PreferredAuthentications=password,keyboard-interactive",
                "-o",
                "PubkeyAuthentication=no",
            ]);
            assert.notEqual(bySsh.status, 0);
            assert.match(bySsh.stderr, /Permission denied \(publickey\)/, "the server offers public key logins only");
        });

        test("only SSH and Jupyter listen beyond loopback; config and secrets root's, readable by JupyterLab only; the server runs as jupyter, enabled at boot", () => {
            const listening = rootShell(alice.stack, "ss -H -ltn")
                .trim()
                .split("\n")
                .map((line) => line.trim().split(/\s+/)[3]);
            const exposed = listening.filter((address) => !/^(127\.[\d.]+|\[::1\]|\[::ffff:127\.[\d.]+\]):\d+$/.test(address));
            assert.deepEqual(
                [...new Set(exposed.map((a) => Number(a.split(":").pop())))].sort((a, b) => a - b),
                [22, 9000],
                listening.join(" "),
            );
            for (const dir of [serverLayout.configDir, serverLayout.tlsDir]) {
                assert.equal(rootShell(alice.stack, `stat -c '%a %U %G' ${dir}`).trim(), "750 root jupyter", dir);
            }
            for (const file of [serverLayout.keyFile, serverLayout.configFile, serverLayout.certFile]) {
                assert.equal(rootShell(alice.stack, `stat -c '%a %U %G' ${file}`).trim(), "640 root jupyter", file);
            }
            assert.equal(rootShell(alice.stack, `stat -c '%a %U %G' ${serverLayout.selfSignedKeyFile}`).trim(), "600 root root");
            const pid = rootShell(alice.stack, `systemctl show -p MainPID --value ${serverLayout.service}`).trim();
            assert.equal(rootShell(alice.stack, `ps -o user= -p ${pid}`).trim(), "jupyter");
            const environment = rootShell(alice.stack, `tr '\\0' '\\n' < /proc/${pid}/environ`).split("\n");
            assert.ok(environment.includes(`JUPYTER_CONFIG_DIR=${serverLayout.configDir}`), environment.join(" "));
            assert.ok(environment.includes("PYTHONNOUSERSITE=1"));
            // The setup lock is root's alone: no other user can take it and stall the setup.
            assert.equal(rootShell(alice.stack, `stat -c '%a %U' ${serverLayout.setupLockDir}`).trim(), "700 root");
            assert.notEqual(
                sshAsRoot(alice.stack, `runuser -u jupyter -- flock --nonblock ${serverLayout.setupLockDir}/jupyterlab.lock true`).status,
                0,
            );
            // The scripts root runs are root's, and what they printed is root's to read.
            assert.equal(
                rootShell(alice.stack, `stat -c '%a %U' ${serverLayout.stepsDir} ${serverLayout.stepLogDir}`).trim(),
                "755 root\n700 root",
            );
            assert.equal(
                rootShell(alice.stack, `find ${serverLayout.stepsDir} -mindepth 1 \\( ! -user root -o -perm /022 \\) -print`).trim(),
                "",
                "no script another user could change",
            );
            assert.match(rootShell(alice.stack, `ls ${serverLayout.stepsDir}`), /^configure-jupyter-[0-9a-f]{12}\.sh$/m);
            assert.equal(rootShell(alice.stack, `systemctl is-enabled ${serverLayout.service}`).trim(), "enabled");
        });

        test("the notebook lives on the data volume", () => {
            const source = rootShell(alice.stack, `findmnt -n -o SOURCE ${serverLayout.notebookDir}`).trim();
            const device = rootShell(alice.stack, "readlink -f /dev/disk/by-id/scsi-0DO_Volume_jupyterlab-alice-notebooks").trim();
            assert.equal(source, device);
            assert.equal(rootShell(alice.stack, `stat -c %U ${serverLayout.notebookDir}/kept.ipynb`).trim(), "jupyter");
        });

        test("what her droplet installed is kept on her volume for the next one, where notebook code cannot reach it", async () => {
            aliceKernelAtFirstUp = await stepStdout(alice.stack, "kernel");
            const cache = volumeCache(alice.stack);
            assert.deepEqual(
                { mode: cache.mode, immutable: cache.immutable, userCanMove: cache.userCanMove },
                { mode: "root 700", immutable: true, userCanMove: false },
            );
            for (const kind of [
                /^jupyterlab-4\.6\.6-r1-[0-9a-f]{12}\.tar$/,
                /^kernel-[0-9a-f]{16}-r1-[0-9a-f]{12}\.tar$/,
                /^ssh-host-keys-[0-9a-f]{12}\.tar$/,
            ]) {
                assert.equal(cache.entries.filter((e) => kind.test(e)).length, 1, `one ${String(kind)}: ${cache.entries.join(", ")}`);
            }
            report.volumeCache = { alice: rootShell(alice.stack, `du -sh ${serverLayout.notebookDir}/.jupyterlab-droplet/cache/*`) };
        });

        test("connect.sh: key 0600, per-stack known_hosts, one config entry; ssh then works, as jupyter", () => {
            assert.match(connectScript(alice.stack), /ready: ssh jupyterlab-alice/);
            connectScript(alice.stack);
            const home = String(cli.environment.HOME);
            const config = fs.readFileSync(path.join(home, ".ssh", "config"), "utf8");
            assert.equal(config.match(/^Host jupyterlab-alice$/gm)?.length, 1, "re-running keeps one entry");
            assert.equal(fs.statSync(path.join(home, ".ssh", "jupyterlab-alice")).mode & 0o777, 0o600);
            const ssh = sshThroughConfig("jupyterlab-alice");
            assert.equal(ssh.status, 0, ssh.stderr);
            assert.equal(ssh.stdout.trim(), "jupyter", "VS Code and ssh log in as the user who owns the notebooks");
            assert.ok(!fs.existsSync(path.join(home, ".ssh", "known_hosts")), "the shared known_hosts is never touched");
        });

        test("everyday verbs: status gives state, url and cost; open --print the url; logs JupyterLab's journal, over SSH to the pinned host key", async () => {
            const out = outs[alice.stack];
            const status = await serverVerb(alice.stack, ["status"]);
            assert.equal(status.code, 0, status.stderr);
            assert.equal(status.stdout.trim(), `alice: running\n  url:  ${String(out.url)}\n  cost: ${String(out.costNote)}`);
            const open = await serverVerb(alice.stack, ["open", "--print"]);
            assert.equal(open.stdout.trim(), String(out.url));
            const logs = await serverVerb(alice.stack, ["logs", "--lines", "30"]);
            assert.equal(logs.code, 0, logs.stderr);
            assert.match(logs.stdout, /jupyter-lab\[\d+\]: .*(ServerApp|Jupyter Server)/, "JupyterLab's own log lines");
            assert.ok(logs.stdout.trim().split("\n").length <= 31, "at most the lines asked for");
        });

        test("refresh finds no drift; a no-op `up` changes nothing; preview --expect-no-changes passes", async () => {
            const refresh = await cli.ok(["refresh", "--yes", "--skip-preview", "--expect-no-changes", `--stack=${alice.stack}`]);
            seconds.refresh = refresh.seconds;
            const noop = await cli.ok(["up", "--yes", "--skip-preview", "--expect-no-changes", `--stack=${alice.stack}`]);
            seconds["no-op up"] = noop.seconds;
            assert.match(noop.stdout, /Resources:\s+\d+ unchanged/);
            assert.doesNotMatch(noop.stdout, /\d+ (created|updated|deleted|replaced)/);
            await cli.ok(["preview", "--expect-no-changes", `--stack=${alice.stack}`]);
        });

        test("no secret in the user-data, ps, the journal, cloud-init's log or the setup steps' logs and scripts", () => {
            const config = JSON.parse(rootShell(alice.stack, `cat ${serverLayout.configFile}`)) as {
                PasswordIdentityProvider: { hashed_password: string };
            };
            const hash = config.PasswordIdentityProvider.hashed_password;
            const tlsKeyLine = rootShell(alice.stack, `cat ${serverLayout.keyFile}`).split("\n")[1];
            const evidence = {
                "user-data (as the API got it)": standin.state.droplets().find((d) => d.name === "jupyterlab-alice")?.userData ?? "",
                "user-data (on the droplet)": rootShell(alice.stack, "cat /var/lib/cloud/instance/user-data.txt"),
                ps: rootShell(alice.stack, "ps -eo user,args ww"),
                journal: rootShell(alice.stack, "journalctl --no-pager -o cat"),
                "cloud-init log": rootShell(alice.stack, "cat /var/log/cloud-init-output.log"),
                "setup steps' logs": rootShell(alice.stack, `cat ${serverLayout.stepLogDir}/*.log`),
                "setup steps' scripts": rootShell(alice.stack, `cat ${serverLayout.stepsDir}/*`),
            };
            assert.match(evidence["setup steps' logs"], /configure-jupyter-[0-9a-f]{12}\.sh 9000/, "the configure step's run is logged");
            assert.ok(evidence["user-data (on the droplet)"].includes("#cloud-config"), "the droplet got the user-data");
            for (const [where, text] of Object.entries(evidence)) {
                for (const [what, secret] of [
                    ["password", alice.password],
                    ["hash", hash],
                    ["hash body", hash.split("$").pop() ?? ""],
                    ["TLS key", tlsKeyLine],
                    ["SSH private key", String(outs[alice.stack].sshPrivateKey).split("\n")[1]],
                ]) {
                    assert.ok(secret.length > 8, `the ${what} was found to search for`);
                    assert.ok(!text.includes(secret), `the ${what} appears in the ${where}`);
                }
            }
        });

        test("her packages: one from PyPI is importable; a bad one fails `up` with pip's message and changes nothing", async () => {
            await setConfig(alice.stack, { "pythonPackages[0]": "tabulate==0.9.0" });
            assert.deepEqual(await plannedChanges(alice.stack), { "setup-kernel": "update" });
            await up(alice.stack, "kernel packages up");
            aliceKernelAfterPackages = await stepStdout(alice.stack, "kernel");
            const out = outs[alice.stack];
            const client = await loggedIn(out, alice.password);
            const good = await runCell(client, baseUrl(out), String(out.certificatePem), "import tabulate; print(tabulate.__version__)");
            assert.equal(good.stdout.trim(), "0.9.0", good.error);

            await setConfig(alice.stack, { "pythonPackages[1]": "no-such-package-jupyterlab-droplet-test==0.0.1" });
            const failed = await cli.run(["up", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
            assert.notEqual(failed.code, 0, "a requirement that cannot be installed fails `up`");
            const message = stepFailure(failed.stdout + failed.stderr, "kernel", /no-such-package-jupyterlab-droplet-test/);
            assert.ok(message.some((line) => line.includes("installing the kernel packages failed; the previous packages stay in use")));
            report.kernelStepFailure = message;
            const still = await runCell(client, baseUrl(out), String(out.certificatePem), "import tabulate; print(tabulate.__version__)");
            assert.equal(still.stdout.trim(), "0.9.0", "the previous packages still work");
            await cli.ok(["config", "rm", `--stack=${alice.stack}`, "--path", "pythonPackages[1]"]);
            await cli.ok(["preview", "--expect-no-changes", `--stack=${alice.stack}`]);
        });

        test("a change that would delete or replace her volume stops `up` and `preview`, naming it, and nothing is written", async () => {
            // It counts every write at the stand-in: bob's `up`s must be done.
            await bobChain.catch(() => undefined);
            const volume = standin.state.volumes().find((v) => v.name === "jupyterlab-alice-notebooks");
            assert.ok(volume !== undefined);
            for (const [change, message] of [
                [
                    { dataVolumeGb: "0", region: "fra1" },
                    new RegExp(
                        `dataVolumeGb = 0: would delete the data volume jupyterlab-alice-notebooks \\(id ${volume.id}, 1 GB in fra1\\)` +
                            `[^]*pulumi config set allowVolumeDeletion ${volume.id}`,
                    ),
                ],
                [
                    { dataVolumeGb: "1", region: "nyc1" },
                    /region = "nyc1": would replace the data volume jupyterlab-alice-notebooks .* with an empty volume in nyc1/,
                ],
            ] as const) {
                await setConfig(alice.stack, change);
                const requestsBefore = standin.state.requests().length;
                for (const command of [["up", "--yes", "--skip-preview"], ["preview"]]) {
                    const refused = await cli.run([...command, `--stack=${alice.stack}`]);
                    assert.notEqual(refused.code, 0, `${command[0]} with ${JSON.stringify(change)} is refused`);
                    assert.match(refused.stdout + refused.stderr, message);
                }
                assert.deepEqual(
                    standin.state
                        .requests()
                        .slice(requestsBefore)
                        .filter((r) => r.method !== "GET"),
                    [],
                    "nothing was created or changed",
                );
            }
            await setConfig(alice.stack, { dataVolumeGb: "1", region: "fra1" });
            await cli.ok(["preview", "--expect-no-changes", `--stack=${alice.stack}`]);
        });

        test("notebook code plants links and a config of its own; the setup's root steps follow none (checked after the password change)", () => {
            plantAsJupyter(alice.stack);
            planted.before = rootFilesSnapshot(alice.stack);
        });

        test("a new password (and idleKernelMinutes 1, for the culling check below) changes only the configure step; only it logs in; old cookies stop working", async () => {
            const oldClient = await loggedIn(outs[alice.stack], alice.password);
            // One `up` for both: each changes the configure step alone.
            await setConfig(alice.stack, { idleKernelMinutes: "1" }, { password: alice.newPassword });
            assert.deepEqual(await plannedChanges(alice.stack), { "setup-configure": "update" });
            await up(alice.stack, "password change up");
            const out = await outputs(alice.stack);
            assert.equal((await login(out, alice.password)).status, 401);
            assert.equal((await oldClient.request("GET", "/api/contents")).status, 403, "old login cookies stop working");
            const client = await loggedIn(out, alice.newPassword);
            assert.equal((await client.request("GET", "/api/contents/kept.ipynb")).status, 200);
        });

        test("after the password change: nothing outside jupyter's own files changed owner, mode or content; the planted config never ran", () => {
            const after = rootFilesSnapshot(alice.stack);
            assert.equal(after, planted.before, "root's files are as they were");
            assert.equal(
                sshAsRoot(alice.stack, "test -e /home/jupyter/planted-code-ran").status,
                1,
                `JupyterLab ran code the jupyter user planted: ${sshAsRoot(alice.stack, "cat /home/jupyter/planted-code-ran").stdout}`,
            );
            unplantAsJupyter(alice.stack);
        });

        test("login throttling: new limits change only the guard step; at the limit the address is shut out of JupyterLab, not SSH", async () => {
            await setConfig(alice.stack, { maxLoginFailures: String(alice.loginLimit), banMinutes: "5" });
            assert.deepEqual(await plannedChanges(alice.stack), { "setup-login-guard": "update" });
            // First, another machine answers at her address (here: her droplet with a new host
            // key): the step refuses to talk to it, and sends it nothing.
            const hostKey = "/etc/ssh/ssh_host_ed25519_key";
            rootShell(
                alice.stack,
                `mkdir -p /root/saved-host-key && cp -a ${hostKey} ${hostKey}.pub /root/saved-host-key/ && rm ${hostKey} ${hostKey}.pub ` +
                    `&& ssh-keygen -q -t ed25519 -N '' -f ${hostKey} && systemctl reload ssh`,
            );
            const impostor = await cli.run(["up", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
            seconds["up refused by a changed host key"] = impostor.seconds;
            report.hostKeyMismatch = (impostor.stdout + impostor.stderr)
                .split("\n")
                .filter((line) => /mismatch|handshake/.test(line))
                .slice(0, 3);
            assert.notEqual(impostor.code, 0, "an `up` against a droplet with another host key fails");
            assert.match(impostor.stdout + impostor.stderr, /host key mismatch/);
            assert.equal(rootShell(alice.stack, "fail2ban-client get jupyterlab maxretry").trim(), "5", "the guard step never ran there");
            rootShell(alice.stack, `cp -a /root/saved-host-key/* /etc/ssh/ && rm -r /root/saved-host-key && systemctl reload ssh`);
            await up(alice.stack, "login limits up");
            const out = outs[alice.stack];
            assert.match(rootShell(alice.stack, "fail2ban-client status"), /Jail list:\s+jupyterlab, sshd\s*$/m);
            const restartedAt = rootShell(alice.stack, "systemctl show fail2ban --property=ActiveEnterTimestamp --value").trim();
            // An attacker's tries, each of a shape the guard's first filter did not count (or credited
            // to an address in its Referer): refused all the same, and every one counts.
            const origin = new URL(baseUrl(out));
            const attempts = adversarialLogins(origin.host).filter((r) =>
                ["bytes 0x80-0xFF in next", "an absolute-form target", "the same Referer on a refusal other than 401"].includes(r.name),
            );
            assert.equal(attempts.length, alice.loginLimit);
            const statuses = await sendRawRequests(
                { host: origin.hostname, port: Number(origin.port), ca: String(out.certificatePem) },
                attempts,
            );
            const limitReachedAt = Date.now();
            report.adversarialLogins = Object.fromEntries(attempts.map((r, i) => [r.name, statuses[i]]));
            assert.ok(
                statuses.every((status) => status >= 400),
                `each try is answered, and refused: ${JSON.stringify(report.adversarialLogins)}`,
            );
            while ((await jupyterAnswers(out)) && Date.now() - limitReachedAt < 60_000) {
                await new Promise((r) => setTimeout(r, 250));
            }
            seconds["limit reached to ban in effect"] = (Date.now() - limitReachedAt) / 1000;
            assert.equal(
                await jupyterAnswers(out),
                false,
                `JupyterLab still answers ${seconds["limit reached to ban in effect"]} s after the limit`,
            );
            await assert.rejects(
                new JupyterClient(baseUrl(out), String(out.certificatePem), 10_000).login(alice.newPassword),
                "even the right password cannot get in",
            );
            // The ban is fail2ban's, on the Jupyter port only: SSH works, and the server itself answers on the droplet.
            assert.equal(rootShell(alice.stack, "id -un").trim(), "root");
            assert.equal(
                rootShell(
                    alice.stack,
                    `curl -s -o /dev/null -w '%{http_code}' --cacert ${serverLayout.certFile} https://127.0.0.1:9000/api`,
                ),
                "200",
            );
            const journal = rootShell(alice.stack, `journalctl --unit fail2ban --no-pager --output cat --since '${restartedAt}'`);
            const found = [...journal.matchAll(/\[jupyterlab\] Found (\S+)/g)].map((m) => m[1]);
            const banned = /\[jupyterlab\] Ban (\S+)/.exec(journal)?.[1];
            assert.ok(banned !== undefined, `the journal names the banned address:\n${journal}`);
            assert.ok(
                found.filter((address) => address === banned).length >= alice.loginLimit,
                `fail2ban found the refused logins:\n${journal}`,
            );
            assert.ok(!journal.includes(spoofedAddress), `no address the attacker wrote into the request is credited:\n${journal}`);
            assert.ok(journal.indexOf(`Ban ${banned}`) > journal.lastIndexOf(`Found ${banned}`), "the ban follows the failures");
            assert.match(
                rootShell(alice.stack, "fail2ban-client status jupyterlab"),
                new RegExp(`Banned IP list:\\s+${banned.replaceAll(".", "\\.")}`),
            );
            report.loginBan = {
                limit: alice.loginLimit,
                bannedAddress: banned,
                journal: journal.split("\n").filter((l) => l.includes("jupyterlab")),
            };
            rootShell(alice.stack, `fail2ban-client set jupyterlab unbanip ${banned}`);
            const client = await loggedIn(out, alice.newPassword);
            assert.equal(
                (await client.request("GET", "/api/contents/kept.ipynb")).status,
                200,
                "after the unban the right password logs in",
            );
        });

        test("after a reboot the server comes back by itself, with the notebook", async () => {
            const out = outs[alice.stack];
            const droplet = backend.dropletAt(String(out.ipAddress));
            assert.ok(droplet !== undefined, "the backend runs alice's droplet");
            const started = Date.now();
            await droplet.reboot(rootKeyFile(alice.stack), 600_000);
            await new JupyterClient(baseUrl(out), String(out.certificatePem)).waitUntilReady(300_000);
            seconds["reboot to server ready"] = (Date.now() - started) / 1000;
            const client = await loggedIn(out, alice.newPassword);
            assert.equal((await client.request("GET", "/api/contents/kept.ipynb")).status, 200);
            assert.equal(rootShell(alice.stack, "systemctl is-active fail2ban").trim(), "active");
            assert.match(
                rootShell(alice.stack, "fail2ban-client status jupyterlab"),
                /Currently banned:/,
                "the JupyterLab jail is active again",
            );
            assert.match(rootShell(alice.stack, "fail2ban-client get jupyterlab maxretry"), new RegExp(`^${alice.loginLimit}$`, "m"));
        });

        test("her volume grows from 1 to 2 GB: `up` grows the filesystem too, and df shows it, with the notebook", async () => {
            const size = () =>
                Number(rootShell(alice.stack, `df --block-size=1 --output=size ${serverLayout.notebookDir} | tail -n 1`).trim());
            const before = size();
            await setConfig(alice.stack, { dataVolumeGb: "2" });
            assert.deepEqual(await plannedChanges(alice.stack), { "data-volume": "update", "setup-data-volume": "update" });
            await up(alice.stack, "volume grow up");
            const after = size();
            report.volumeGrow = { dfBytesBefore: before, dfBytesAfter: after };
            assert.ok(before < 1.1 * 2 ** 30 && after > 1.8 * 2 ** 30, `df: ${before} bytes before, ${after} after`);
            const client = await loggedIn(outs[alice.stack], alice.newPassword);
            assert.equal((await client.request("GET", "/api/contents/kept.ipynb")).status, 200);
        });

        test("without its volume JupyterLab does not start: never on the root disk under an empty mount point", async () => {
            const out = outs[alice.stack];
            const mountUnit = rootShell(alice.stack, `systemd-escape --path --suffix=mount ${serverLayout.notebookDir}`).trim();
            // As if the volume had not attached at boot: its mount cannot happen.
            rootShell(
                alice.stack,
                `systemctl stop ${serverLayout.service} && umount ${serverLayout.notebookDir} && systemctl mask --runtime ${mountUnit}`,
            );
            const start = sshAsRoot(alice.stack, `systemctl start ${serverLayout.service}`);
            assert.notEqual(start.status, 0, "JupyterLab refuses to start");
            await new Promise((r) => setTimeout(r, 10_000));
            assert.notEqual(rootShell(alice.stack, `systemctl is-active ${serverLayout.service} || true`).trim(), "active");
            assert.equal(await jupyterAnswers(out), false);
            assert.equal(sshAsRoot(alice.stack, `mountpoint --quiet ${serverLayout.notebookDir}`).status, 32, "still not mounted");
            rootShell(alice.stack, `systemctl unmask --runtime ${mountUnit} && systemctl start ${serverLayout.service}`);
            await new JupyterClient(baseUrl(out), String(out.certificatePem)).waitUntilReady(300_000);
            assert.equal(
                rootShell(alice.stack, `findmnt -n -o SOURCE ${serverLayout.notebookDir}`).trim(),
                rootShell(alice.stack, "readlink -f /dev/disk/by-id/scsi-0DO_Volume_jupyterlab-alice-notebooks").trim(),
                "starting it mounts the volume first",
            );
            const client = await loggedIn(out, alice.newPassword);
            assert.equal((await client.request("GET", "/api/contents/kept.ipynb")).status, 200);
        });

        test("idleKernelMinutes 1 (set with the new password): an idle kernel is culled within two minutes, one running a cell is kept", async () => {
            // Only the setting leaves the droplet: the file holds the password hash too.
            assert.equal(
                rootShell(alice.stack, `grep -o '"cull_idle_timeout": *[0-9]*' ${serverLayout.configFile}`).trim(),
                '"cull_idle_timeout": 60',
            );
            const out = outs[alice.stack];
            const client = await loggedIn(out, alice.newPassword);
            const idle = await startKernel(client);
            const busy = await leaveCellRunning(client, baseUrl(out), String(out.certificatePem), "import time; time.sleep(900)");
            const kernels = async () =>
                JSON.parse((await client.request("GET", "/api/kernels")).body) as { id: string; execution_state: string }[];
            const started = Date.now();
            while ((await kernels()).some((k) => k.id === idle) && Date.now() - started < 240_000) {
                await new Promise((r) => setTimeout(r, 5_000));
            }
            seconds["idle kernel culled after"] = (Date.now() - started) / 1000;
            const left = await kernels();
            assert.ok(!left.some((k) => k.id === idle), `the idle kernel is still there after ${seconds["idle kernel culled after"]} s`);
            assert.deepEqual(
                left.filter((k) => k.id === busy).map((k) => k.execution_state),
                ["busy"],
                "the kernel running a cell is kept",
            );
            // Still running its cell when the idle sweep looks at her server (bob's pause, below).
            aliceBusyKernel = busy;
        });
    });

    test("bob's server, made by the previous version (its `up` interrupted, then again), is upgraded by this one: droplet and volume kept; each droplet was created once", async () => {
        await bobChain;
        assert.deepEqual(dropletCreates(), { "jupyterlab-alice": 1, "jupyterlab-bob": 1 }, "each droplet was created exactly once");
        assert.deepEqual(sortedNames(standin.state.droplets()), ["jupyterlab-alice", "jupyterlab-bob"]);
        assert.equal(standin.state.volumes().length, 2);
        assert.equal(standin.state.sshKeys().length, 2);
        await outputs(bob.stack);
    });

    describe("bob's server: his own key through his agent, Ubuntu's socket-activated ssh", { concurrency: false }, () => {
        test("his password logs in; the outputs hold no private key", async () => {
            const out = outs[bob.stack];
            const client = await loggedIn(out, bob.password);
            const created = await client.api("PUT", "/api/contents/bobs.ipynb", {
                type: "notebook",
                format: "json",
                content: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
            });
            assert.equal(created.status, 201, created.body);
            assert.equal(out.sshPrivateKey, undefined);
            const all = (await cli.ok(["stack", "output", "--json", "--show-secrets", `--stack=${bob.stack}`])).stdout;
            assert.doesNotMatch(all, /PRIVATE KEY/);
            assert.equal(String(out.sshCommand), `ssh jupyter@${String(out.ipAddress)}`);
        });

        test("ssh is socket-activated as on Ubuntu 24.04, cloud-init finished cleanly, password logins are off", () => {
            assert.equal(rootShell(bob.stack, "systemctl is-enabled ssh.socket").trim(), "enabled");
            assert.notEqual(sshAsRoot(bob.stack, "systemctl cat sshd.service").status, 0, "no sshd.service, as on Ubuntu 24.04");
            assert.match(rootShell(bob.stack, "cloud-init status --long"), /status: done/);
            assert.match(rootShell(bob.stack, "sshd -T"), /^passwordauthentication no$/m);
        });

        test("connect.sh with no generated key: ssh through the agent, as jupyter", () => {
            connectScript(bob.stack);
            assert.ok(!fs.existsSync(path.join(String(cli.environment.HOME), ".ssh", "jupyterlab-bob")), "no key file is written");
            const ssh = sshThroughConfig("jupyterlab-bob", { SSH_AUTH_SOCK: agent.socket });
            assert.equal(ssh.status, 0, ssh.stderr);
            assert.equal(ssh.stdout.trim(), "jupyter");
        });
    });

    test("the idle sweep pauses bob's idle server and keeps alice's, busy with a long cell; a second sweep changes nothing; his droplet, firewall, certificate and setup go; the volume, key and password stay; the outputs say what it costs now", async () => {
        bob.runningAddress = String(outs[bob.stack].ipAddress);
        bob.hostKey = String(outs[bob.stack].sshHostKey);
        await setConfig(bob.stack, { paused: "true" });
        const changes = await plannedChanges(bob.stack);
        for (const gone of [
            "server-droplet",
            "firewall-firewall",
            "tls-cert",
            "tls-key",
            "setup-cloud-init",
            "setup-login-guard",
            "setup-configure",
        ]) {
            assert.equal(changes[gone], "delete", `${gone} is deleted: ${JSON.stringify(changes)}`);
        }
        for (const kept of ["data-volume", "ssh-do", "password-salt"]) {
            assert.equal(changes[kept], undefined, `${kept} stays: ${JSON.stringify(changes)}`);
        }
        // The sweep pauses by this very change (and `up`), when it finds the server idle.
        await setConfig(bob.stack, { paused: "false" });
        for (const stack of [alice.stack, bob.stack]) {
            await setConfig(stack, { autoPauseMinutes: "1" });
        }
        // Until his server has been idle a minute by Jupyter's own record (the tests above used it).
        const waited = Date.now();
        let dryRun = await serverVerb(bob.stack, ["sweep", "--dry-run"]);
        while (!/would pause/.test(dryRun.stdout) && Date.now() - waited < 240_000) {
            assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
            await new Promise((r) => setTimeout(r, 15_000));
            dryRun = await serverVerb(bob.stack, ["sweep", "--dry-run"]);
        }
        seconds["idle sweep: bob found idle after"] = (Date.now() - waited) / 1000;
        assert.match(dryRun.stdout, /^bob: idle [1-9]\d* min \(limit 1\): would pause \(dry run\)/m, dryRun.stdout + dryRun.stderr);
        assert.ok(
            standin.state.droplets().some((d) => d.name === "jupyterlab-bob"),
            "a dry run pauses nothing",
        );
        const busy = await serverVerb(alice.stack, ["sweep"]);
        assert.equal(busy.code, 0, busy.stdout + busy.stderr);
        assert.match(busy.stdout, /^alice: idle \d+ min \(limit 1\): kept: busy kernel$/m, busy.stdout);
        const paused = await serverVerb(bob.stack, ["sweep"]);
        seconds["idle sweep pauses bob, npm run server -- sweep"] = paused.seconds;
        report.sweep = { dryRun: dryRun.stdout.trim(), alice: busy.stdout.trim(), bob: paused.stdout.trim() };
        assert.equal(paused.code, 0, paused.stdout + paused.stderr);
        assert.match(paused.stdout, /^bob: idle [1-9]\d* min \(limit 1\): paused, saving \$0\.01786\/hour$/m, paused.stdout);
        assert.match(
            paused.stdout + paused.stderr,
            /jupyterlab-bob: paused: no droplet; the 1 GB volume costs \$0\.00015\/hour, up to \$0\.10\/month/,
        );
        // Again, with nothing changed: nothing is written at DigitalOcean.
        const writes = () => standin.state.requests().filter((r) => r.method !== "GET").length;
        const writesBefore = writes();
        const again = [await serverVerb(bob.stack, ["sweep"]), await serverVerb(alice.stack, ["sweep"])];
        report.sweepAgain = again.map((r) => r.stdout.trim());
        assert.match(again[0].stdout, /^bob: paused already$/m);
        assert.match(again[1].stdout, /^alice: idle \d+ min \(limit 1\): kept: busy kernel$/m);
        assert.equal(writes(), writesBefore, "a second sweep changes nothing");
        const aliceClient = await loggedIn(outs[alice.stack], alice.newPassword);
        await aliceClient.api("DELETE", `/api/kernels/${aliceBusyKernel}`);
        assert.deepEqual(
            standin.state.droplets().map((d) => d.name),
            ["jupyterlab-alice"],
        );
        assert.deepEqual(
            backend.runningDroplets().map((d) => d.name),
            ["jupyterlab-alice"],
            "bob's VM is gone",
        );
        assert.deepEqual(
            backend.deletedDroplets().map((d) => [d.name, d.shutDownCleanly]),
            [["jupyterlab-bob", true]],
            "his droplet was shut down (the guest powered itself off) before it was deleted",
        );
        assert.ok(
            standin.state.volumes().some((v) => v.name === "jupyterlab-bob-notebooks" && v.dropletIds.length === 0),
            "his volume stays, detached",
        );
        assert.equal(standin.state.sshKeys().length, 2, "his key stays registered");
        assert.equal(standin.state.firewalls().length, 1, "only alice's firewall is left");
        const out = await outputs(bob.stack);
        assert.equal(out.state, "paused");
        assert.equal(out.monthlyPriceUsd, 0.1, "the 1 GB volume alone");
        assert.equal(out.hourlyPriceUsd, 0.00015);
        assert.equal(out.password, bob.password);
        assert.equal(out.url, undefined, "no url while paused");
        const status = await serverVerb(bob.stack, ["status"]);
        assert.equal(status.code, 0, status.stderr);
        assert.match(
            status.stdout,
            /^bob: paused\n {2}cost: paused: no droplet; the 1 GB volume costs \$0\.00015\/hour[^\n]*\n {2}resume: npm run server -- resume --stack bob$/m,
        );
        const connect = spawnSync("bash", [path.join(projectDir, "scripts", "connect.sh"), bob.stack], {
            cwd: projectDir,
            env: cli.environment,
            encoding: "utf8",
        });
        assert.notEqual(connect.status, 0);
        assert.match(connect.stderr, /the stack is paused: .*'pulumi config set paused false'/);
        await cli.ok(["preview", "--expect-no-changes", `--stack=${bob.stack}`], stackOptions(bob.stack));
    });

    test("alice's image change replaces her droplet while bob resumes, side by side; the notebooks and passwords are the same", async () => {
        const volumes = Object.fromEntries(standin.state.volumes().map((v) => [v.name, v.id]));
        const before = { alice: outs[alice.stack] };
        await setConfig(alice.stack, { image: "ubuntu-24-04-x64" });
        await setConfig(bob.stack, { paused: "false" });
        const aliceChanges = await plannedChanges(alice.stack);
        assert.equal(aliceChanges["server-droplet"], "replace", JSON.stringify(aliceChanges));
        const bobChanges = await plannedChanges(bob.stack);
        assert.equal(bobChanges["server-droplet"], "create", JSON.stringify(bobChanges));
        for (const changes of [aliceChanges, bobChanges]) {
            assert.equal(changes["data-volume"], undefined, `the volume stays: ${JSON.stringify(changes)}`);
        }
        const results = await Promise.allSettled([
            up(alice.stack, "replacement up (alice)"),
            serverVerb(bob.stack, ["resume"]).then((resumed) => {
                seconds["resume (bob), npm run server -- resume"] = resumed.seconds;
                assert.equal(resumed.code, 0, resumed.stderr);
            }),
        ]);
        for (const r of results) {
            if (r.status === "rejected") {
                throw r.reason;
            }
        }
        assert.deepEqual(Object.fromEntries(standin.state.volumes().map((v) => [v.name, v.id])), volumes, "the same volumes");
        assert.deepEqual(
            backend.deletedDroplets().map((d) => [d.name, d.shutDownCleanly]),
            [
                ["jupyterlab-bob", true],
                ["jupyterlab-alice", true],
            ],
            "her replaced droplet was shut down before it was deleted",
        );
        const aliceOut = await outputs(alice.stack);
        const bobOut = await outputs(bob.stack);
        assert.equal(aliceOut.ipAddress, before.alice.ipAddress, "alice's reserved IP points at her new droplet");
        assert.equal(aliceOut.certificateSha256, before.alice.certificateSha256, "and her certificate, which names it, is the same");
        const aliceDroplet = standin.state.droplets().find((d) => d.name === "jupyterlab-alice");
        assert.equal(standin.state.reservedIps()[0]?.dropletId, aliceDroplet?.id);
        assert.notEqual(bobOut.ipAddress, bob.runningAddress, "bob's new droplet got a new address");
        assert.equal(bobOut.state, "running");
        assert.equal(bobOut.password, bob.password, "the same password");
        const aliceClient = await loggedIn(aliceOut, alice.newPassword);
        assert.equal((await aliceClient.request("GET", "/api/contents/kept.ipynb")).status, 200);
        const bobClient = await loggedIn(bobOut, bob.password);
        assert.equal((await bobClient.request("GET", "/api/contents/bobs.ipynb")).status, 200);
        await cli.ok(["preview", "--expect-no-changes", `--stack=${alice.stack}`]);

        // What the new droplets installed, and what they took from the volumes.
        const steps: Record<string, Record<string, string>> = {};
        for (const stack of [alice.stack, bob.stack]) {
            steps[stack] = {};
            for (const role of ["host-keys", "jupyterlab", "kernel"]) {
                steps[stack][role] = await stepStdout(stack, role);
            }
        }
        report.restoredFromVolume = steps;
        for (const stack of [alice.stack, bob.stack]) {
            assert.match(steps[stack].jupyterlab, /JupyterLab 4\.6\.6 restored from the volume/, stack);
            assert.match(steps[stack].kernel, /the kernel environment was restored from the volume/, stack);
            assert.match(steps[stack]["host-keys"], /the SSH host keys of the last droplet were restored from the volume/, stack);
        }
        // Her package list changed after her first droplet was set up: the environment restored is
        // the one built for the new list (the cache entry's name carries the list's digest), never the first.
        const digest = (stdout: string) => /\(([0-9a-f]{16})[,)]/.exec(stdout)?.[1];
        assert.equal(digest(steps[alice.stack].kernel), digest(aliceKernelAfterPackages), steps[alice.stack].kernel);
        assert.notEqual(digest(aliceKernelAfterPackages), digest(aliceKernelAtFirstUp), "her package list changed the digest");
        const tabulate = await runCell(
            aliceClient,
            baseUrl(aliceOut),
            String(aliceOut.certificatePem),
            "import tabulate; print(tabulate.__version__)",
        );
        assert.equal(tabulate.stdout.trim(), "0.9.0", tabulate.error);
        assert.equal(aliceOut.sshHostKey, before.alice.sshHostKey, "her new droplet answers with the host key she trusts");
        assert.equal(bobOut.sshHostKey, bob.hostKey, "and his, at his new address");
    });

    test("same address, same host key: ssh through connect.sh's entry works at once, without running it again", () => {
        const kept = sshThroughConfig("jupyterlab-alice");
        assert.equal(kept.status, 0, kept.stderr);
        assert.equal(kept.stdout.trim(), "jupyter");
    });

    test("new address: the old entry reaches nothing; connect.sh points it at the new droplet", () => {
        const stale = sshThroughConfig("jupyterlab-bob", { SSH_AUTH_SOCK: agent.socket });
        assert.notEqual(stale.status, 0);
        assert.match(stale.stderr, /Connection refused|Connection timed out/);
        connectScript(bob.stack);
        const fresh = sshThroughConfig("jupyterlab-bob", { SSH_AUTH_SOCK: agent.socket });
        assert.equal(fresh.status, 0, fresh.stderr);
        assert.equal(fresh.stdout.trim(), "jupyter");
    });

    test("the exported state holds no secret in plain text", async () => {
        const config = JSON.parse(rootShell(alice.stack, `cat ${serverLayout.configFile}`)) as {
            PasswordIdentityProvider: { hashed_password: string };
        };
        const hash = config.PasswordIdentityProvider.hashed_password;
        const tlsKeyLine = rootShell(alice.stack, `cat ${serverLayout.keyFile}`).split("\n")[1];
        assert.match(hash, /^argon2:/);
        for (const stack of [alice.stack, bob.stack]) {
            const exported = (await cli.ok(["stack", "export", `--stack=${stack}`])).stdout;
            for (const [what, secret] of [
                ["password", alice.newPassword],
                ["old password", alice.password],
                ["bob's password", bob.password],
                ["hash", hash],
                ["hash body", hash.split("$").pop() ?? ""],
                ["TLS key", tlsKeyLine],
                ["SSH private key", String(outs[alice.stack].sshPrivateKey).split("\n")[1]],
                ["bob's SSH private key", fs.readFileSync(bob.keyFile, "utf8").split("\n")[1]],
            ]) {
                assert.ok(secret.length > 8, `${what} was found to search for`);
                assert.ok(!exported.includes(secret), `the ${what} is in ${stack}'s exported state`);
                assert.ok(
                    !exported.includes(JSON.stringify(secret).slice(1, -1)),
                    `the ${what} (JSON-escaped) is in ${stack}'s exported state`,
                );
            }
        }
    });

    test("destroying bob's stack keeps his retained volume and leaves alice's server working", async () => {
        const destroy = await cli.ok(["destroy", "--yes", "--skip-preview", `--stack=${bob.stack}`], stackOptions(bob.stack));
        seconds["destroy (bob)"] = destroy.seconds;
        assert.deepEqual(
            standin.state.droplets().map((d) => d.name),
            ["jupyterlab-alice"],
        );
        assert.deepEqual(
            sortedNames(standin.state.volumes()),
            ["jupyterlab-alice-notebooks", "jupyterlab-bob-notebooks"],
            "retainData keeps bob's volume",
        );
        assert.equal((await login(outs[alice.stack], alice.newPassword)).status, 302, "alice's server still works");
    });

    describe("alice's own domain: a DNS record, a certificate from Pebble, a trusted login, renewal", { concurrency: false }, () => {
        const zone = "example.test";
        const domain = `nb.${zone}`;
        let selfSigned: Outputs;
        let address = "";
        let pebbleRootFile = "";

        /** The served certificate's serial, over a connection that trusts only Pebble's root. */
        function servedCertificate(): Promise<{ serial: string; authorized: boolean; error?: string }> {
            return new Promise((resolve, reject) => {
                const socket = tls.connect(
                    {
                        host: address,
                        port: 443,
                        servername: domain,
                        ca: fs.readFileSync(pebbleRootFile, "utf8"),
                        rejectUnauthorized: false,
                    },
                    () => {
                        resolve({
                            serial: socket.getPeerCertificate().serialNumber,
                            authorized: socket.authorized,
                            error: socket.authorizationError?.message,
                        });
                        socket.end();
                    },
                );
                socket.on("error", reject);
            });
        }

        function curlApi(caFile?: string): { status: number | null; code: string; stderr: string } {
            const result = spawnSync(
                "curl",
                [
                    "--silent",
                    "--show-error",
                    "--max-time",
                    "20",
                    "--output",
                    "/dev/null",
                    "--write-out",
                    "%{http_code}",
                    "--resolve",
                    `${domain}:443:${address}`,
                    ...(caFile === undefined ? [] : ["--cacert", caFile]),
                    `https://${domain}/api`,
                ],
                { encoding: "utf8" },
            );
            return { status: result.status, code: result.stdout, stderr: result.stderr };
        }

        test("a domain in no zone of the account stops `up`, naming it, and nothing is written", async () => {
            await createZone(zone);
            await setConfig(alice.stack, { domain: "nb.example.invalid" });
            const requestsBefore = standin.state.requests().length;
            const failed = await cli.run(["up", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
            assert.notEqual(failed.code, 0);
            assert.match(
                failed.stdout + failed.stderr,
                /jupyterlab-droplet:domain = "nb\.example\.invalid": must be in a DNS zone of this DigitalOcean account, and the account's zones are example\.test/,
            );
            const writes = standin.state
                .requests()
                .slice(requestsBefore)
                .filter((r) => r.method !== "GET");
            assert.deepEqual(writes, [], "nothing was created or changed");
        });

        test("port 80 unreachable: `up` fails with certbot's message; JupyterLab still answers, with its self-signed certificate", async () => {
            selfSigned = outs[alice.stack];
            // The droplet reaches Pebble's API as droplets reach Let's Encrypt's: trusting it through
            // the system's CA store (here a CA of this test's; Let's Encrypt's is a public one).
            rootShell(
                alice.stack,
                `echo ${Buffer.from(acme.apiCaPem).toString("base64")} | base64 -d > /usr/local/share/ca-certificates/local-acme-api.crt ` +
                    "&& update-ca-certificates >/dev/null && curl --silent --fail --output /dev/null https://10.0.2.2:14000/dir",
            );
            // Something between the ACME server and the droplet refuses port 80 (another firewall, say).
            rootShell(
                alice.stack,
                "nft add table inet test_block_http && nft add chain inet test_block_http input '{ type filter hook input priority -10; }' " +
                    "&& nft add rule inet test_block_http input tcp dport 80 reject with tcp reset",
            );
            await setConfig(alice.stack, { domain, acmeServer: acme.directoryUrlForGuest, acmeEmail: `alice@${zone}`, jupyterPort: "443" });
            const changes = await plannedChanges(alice.stack);
            // The new port reaches the firewall, the unit, the config and the login guard's jail.
            assert.deepEqual(
                changes,
                {
                    domain: "create",
                    "domain-record": "create",
                    "firewall-firewall": "update",
                    "setup-configure": "update",
                    "setup-login-guard": "update",
                    "setup-certificate": "update",
                },
                "no droplet is replaced",
            );
            const failed = await cli.run(["up", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
            seconds["up with port 80 blocked (fails)"] = failed.seconds;
            const printed = failed.stdout + failed.stderr;
            report.acmeFailure = printed.split("\n").filter((line) => /certbot|Detail|Type:|Challenge|keeps serving/.test(line));
            assert.notEqual(failed.code, 0);
            assert.match(printed, /certbot could not get a certificate for nb\.example\.test from https:\/\/10\.0\.2\.2:14000\/dir/);
            assert.match(printed, /Certbot failed to authenticate some domains|Some challenges have failed/, "certbot's own message");
            assert.match(printed, /Domain: nb\.example\.test/, "naming the domain the ACME server could not validate");
            assert.match(printed, /JupyterLab keeps serving its current certificate/);
            report.certificateStepFailure = stepFailure(printed, "certificate", /Domain: nb\.example\.test/);
            const client = new JupyterClient(`https://${String(selfSigned.ipAddress)}:443`, String(selfSigned.certificatePem));
            assert.equal((await client.request("GET", "/api")).status, 200, "the server answers on 443 with the self-signed certificate");
            assert.deepEqual(await acme.resolveA(domain), [String(selfSigned.ipAddress)], "the name already points at the server");
        });

        test("port 80 open: `up` gets the certificate; curl and Chromium trusting only Pebble's root log in at https://nb.example.test/lab", async () => {
            rootShell(alice.stack, "nft delete table inet test_block_http");
            // As if the record had not reached the ACME server's resolvers yet: its DNS answers
            // nothing for the name until the first validation has failed for it.
            await acme.clearA(domain);
            const pebbleLogStart = fs.statSync(acme.pebbleLogFile).size;
            const validations = () =>
                fs
                    .readFileSync(acme.pebbleLogFile, "utf8")
                    .slice(pebbleLogStart)
                    .split("\n")
                    .filter((line) => line.includes(`Attempting to validate w/ HTTP: http://${domain}:80/`)).length;
            let propagating = true;
            const propagated = (async () => {
                while (validations() === 0 && propagating) {
                    await new Promise((r) => setTimeout(r, 500));
                }
                await acme.setA(domain, String(selfSigned.ipAddress));
            })();
            const started = Date.now();
            try {
                await up(alice.stack, "domain up (certificate obtained)");
            } finally {
                propagating = false;
                await propagated;
            }
            assert.ok(validations() >= 2, `certbot tried again once the name resolved (${validations()} validations)`);
            const out = await outputs(alice.stack);
            assert.equal(out.url, `https://${domain}/lab`);
            assert.match(String(out.certificate), /^serving the certificate for nb\.example\.test: serial=[0-9A-F]+ notAfter=/);
            assert.equal(out.certificatePem, undefined, "no self-signed certificate to pin");
            assert.match(String(out.sshConfig), new RegExp(`^ {2}HostName ${domain.replaceAll(".", "\\.")}$`, "m"));
            [address] = await acme.resolveA(domain);
            assert.equal(address, String(out.ipAddress), "the DNS answers with alice's (reserved) address");
            assert.deepEqual(
                standin.state
                    .domainRecords()
                    .filter((r) => r.type === "A")
                    .map((r) => `${r.name}.${r.zone} A ${r.data} ttl ${r.ttl}`),
                [`nb.${zone} A ${address} ttl 60`],
            );
            pebbleRootFile = path.join(work, "pebble-root.pem");
            fs.writeFileSync(pebbleRootFile, await acme.rootPem());
            const trusted = curlApi(pebbleRootFile);
            assert.equal(trusted.status, 0, trusted.stderr);
            assert.equal(trusted.code, "200");
            assert.equal(curlApi().status, 60, "the system's CAs do not know Pebble's root: the trust is Pebble's");
            const selfSignedFile = path.join(work, "self-signed.pem");
            fs.writeFileSync(selfSignedFile, String(selfSigned.certificatePem));
            assert.equal(curlApi(selfSignedFile).status, 60, "the self-signed certificate is no longer the one served");

            const home = path.join(work, "browser-home");
            makeTrustingBrowserHome(home, fs.readFileSync(pebbleRootFile, "utf8"));
            const browser = await chromium.launch({
                executablePath: "/usr/bin/chromium",
                env: { ...process.env, HOME: home },
                args: [
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    `--host-resolver-rules=MAP ${domain} ${address}`,
                ],
            });
            try {
                const page = await browser.newPage();
                // The droplet may share two cores with another: a page can take longer than 30 s.
                page.setDefaultTimeout(120_000);
                await page.goto(String(out.url));
                await page.fill("input[type=password]", String(outs[alice.stack].password));
                await Promise.all([page.waitForURL(/\/lab/), page.click("#login_submit")]);
                await page.locator(".jp-Launcher").first().waitFor({ timeout: 120_000 });
                seconds["domain up to first trusted login"] = (Date.now() - started) / 1000;
                await page.screenshot({ path: path.join(resultsDir, "engine-own-domain-launcher.png") });
                assert.equal(new URL(page.url()).origin, `https://${domain}`);
            } finally {
                await browser.close();
            }
            for (const file of [serverLayout.acmeCertFile, serverLayout.acmeKeyFile]) {
                assert.equal(rootShell(alice.stack, `stat -c '%a %U %G' ${file}`).trim(), "600 root root", file);
            }
            assert.equal(rootShell(alice.stack, `stat -c '%a %U %G' ${serverLayout.keyFile}`).trim(), "640 root jupyter");
            // Port 443 without a capability: JupyterLab, and so every kernel and terminal it starts,
            // has none, and port 80 (the ACME challenge's) stays root's.
            const pid = rootShell(alice.stack, `systemctl show -p MainPID --value ${serverLayout.service}`).trim();
            const capabilities = rootShell(alice.stack, `grep -E '^Cap(Prm|Eff|Amb):' /proc/${pid}/status`);
            assert.match(capabilities, /^CapPrm:\s+0+\nCapEff:\s+0+\n[^]*CapAmb:\s+0+$/m, capabilities);
            const bind80 = sshAsRoot(
                alice.stack,
                `runuser -u jupyter -- python3 -c "import socket; socket.socket().bind(('0.0.0.0', 80))"`,
            );
            assert.notEqual(bind80.status, 0);
            assert.match(bind80.stderr, /Permission denied/, "notebook code cannot take port 80");
            assert.equal(rootShell(alice.stack, "systemctl is-enabled certbot.timer").trim(), "enabled", "the packaged timer renews it");
            await cli.ok(["preview", "--expect-no-changes", `--stack=${alice.stack}`]);
        });

        /** Orders the ACME server has taken: Pebble logs each request to its new-order URL. */
        function acmeOrders(): number {
            return fs
                .readFileSync(acme.pebbleLogFile, "utf8")
                .split("\n")
                .filter((line) => line.includes("POST /order-plz")).length;
        }

        test("a forced renewal (certbot renew, as its timer runs it): JupyterLab serves the new certificate, trusted, with no action by her", async () => {
            const ordersBefore = acmeOrders();
            const before = await servedCertificate();
            assert.ok(before.authorized, before.error);
            plantAsJupyter(alice.stack);
            const rootFiles = rootFilesSnapshot(alice.stack);
            const started = Date.now();
            rootShell(alice.stack, "certbot renew --force-renewal --no-random-sleep-on-renew --quiet");
            let after = await servedCertificate();
            while (after.serial === before.serial && Date.now() - started < 120_000) {
                await new Promise((r) => setTimeout(r, 1_000));
                after = await servedCertificate();
            }
            seconds["forced renewal to new certificate served"] = (Date.now() - started) / 1000;
            report.renewal = { before: before.serial, after: after.serial };
            assert.notEqual(after.serial, before.serial, "a new certificate (new serial) is served");
            assert.equal(acmeOrders(), ordersBefore + 1, "one order at the ACME server");
            // certbot's deploy hook keeps each certificate on the volume, for the next droplet: the
            // renewed one replaces the one before.
            const kept = volumeCache(alice.stack).entries.filter((e) => e.startsWith("letsencrypt-"));
            const renewedHash = rootShell(alice.stack, `sha256sum /etc/letsencrypt/live/${serverLayout.acmeCertName}/cert.pem`).slice(
                0,
                12,
            );
            assert.deepEqual(kept, [`letsencrypt-${renewedHash}.tar`]);
            assert.ok(after.authorized, after.error);
            assert.equal(rootFilesSnapshot(alice.stack), rootFiles, "the renewal changed none of root's files the jupyter user pointed at");
            assert.equal(sshAsRoot(alice.stack, "test -e /home/jupyter/planted-code-ran").status, 1, "the restart ran no planted code");
            unplantAsJupyter(alice.stack);
            const client = new JupyterClient(`https://${domain}`, fs.readFileSync(pebbleRootFile, "utf8"), 30_000, address);
            assert.equal((await client.login(String(outs[alice.stack].password))).status, 302, "she logs in as before");
        });
    });

    test(
        "the README's quick start, run beside the checks above: from the clone to a login, then Everyday use and Destroying, in an empty home, with no terminal",
        { timeout: 45 * 60_000 },
        async () => {
            assert.ok(quickStart !== undefined, "the quick start began once alice's first `up` ended");
            await quickStart.finished;
        },
    );

    test("destroy leaves nothing but the retained volume, and no VM running", async () => {
        const destroy = await cli.ok(["destroy", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
        seconds["destroy (alice)"] = destroy.seconds;
        await standin.state.idle();
        assert.deepEqual(standin.state.droplets(), []);
        assert.deepEqual(standin.state.firewalls(), []);
        assert.deepEqual(standin.state.sshKeys(), []);
        assert.deepEqual(standin.state.reservedIps(), [], "alice's reserved IP is released");
        assert.deepEqual(
            standin.state.domainRecords().filter((r) => r.type === "A"),
            [],
            "her DNS record is deleted",
        );
        assert.deepEqual(await acme.resolveA("nb.example.test"), [], "and the name resolves no more");
        assert.deepEqual(
            standin.state.volumes().map((v) => v.name),
            ["jupyterlab-bob-notebooks"],
        );
        assert.deepEqual(backend.runningDroplets(), []);
        const qemu = spawnSync("pgrep", ["-f", `qemu-system-x86_64.*${path.join(work, "cloud")}`]);
        assert.notEqual(qemu.status, 0, "no qemu process of this test is left");
        assert.deepEqual(standin.state.unknownCalls(), [], "the stand-in answered every call the provider made");
        // Over the whole run, not one phase: which request numbers get a fault depends on how
        // concurrent requests and retries interleave (a retry is never faulted).
        const apiFaults = standin.state.faults();
        assert.ok(
            apiFaults.tooManyRequests > 0 && apiFaults.unavailable > 0,
            `the provider met 429s and 503s, and every up still passed: ${JSON.stringify(apiFaults)}`,
        );
    });
});
