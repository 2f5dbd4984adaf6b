// The real `pulumi preview` / `up` / `destroy`: the Pulumi CLI and providers built from their Go
// modules, the program as a user runs it, the DigitalOcean provider talking to the local
// stand-in, and every droplet a real local VM.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { startDoStandin, Standin } from "../standin/do-api";
import { JupyterClient } from "../support/jupyter-client";
import { requireCommand } from "../support/jupyter-venv";
import { buildEngine, copyProject, opFor, previewSteps, PulumiCli } from "./pulumi-cli";
import { VmBackend } from "./vm-backend";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-engine-"));
const resultsDir = path.resolve(__dirname, "..", "..", "test-results");
const report: Record<string, unknown> = {};
let standin: Standin;
let backend: VmBackend;
let cli: PulumiCli;
let projectDir: string;

const alice = { stack: "alice", password: "alice's first password", newPassword: "alice's second password!" };
const bob = { stack: "bob", password: "bob's password, long enough" };

type Outputs = Record<string, string | number | undefined>;

async function outputs(stack: string): Promise<Outputs> {
    const result = await cli.ok(["stack", "output", "--json", "--show-secrets", `--stack=${stack}`]);
    return JSON.parse(result.stdout) as Outputs;
}

async function login(out: Outputs, password: string): Promise<{ client: JupyterClient; status: number }> {
    const url = new URL(String(out.url));
    const client = new JupyterClient(url.origin, String(out.certificatePem));
    const res = await client.login(password);
    return { client, status: res.status };
}

function sshAsRoot(out: Outputs, command: string): string {
    const keyFile = path.join(work, `key-${String(out.ipAddress)}`);
    fs.writeFileSync(keyFile, `${String(out.sshPrivateKey).trim()}\n`, { mode: 0o600 });
    return execFileSync("ssh", ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes", "-i", keyFile, `root@${String(out.ipAddress)}`, command]).toString();
}

/** scripts/connect.sh as a user runs it, then `ssh jupyterlab-<stack>` through the entry it wrote. */
function connectScript(stack: string): string {
    const result = spawnSync("bash", [path.join(projectDir, "scripts", "connect.sh"), stack],
        { cwd: projectDir, env: cli.environment, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
}

function sshThroughConfig(alias: string): { status: number | null; stderr: string; stdout: string } {
    // ssh expands "~" from the passwd entry, not $HOME: point the entry's paths at the test's home.
    const home = String(cli.environment.HOME);
    const config = fs.readFileSync(path.join(home, ".ssh", "config"), "utf8").replaceAll("~/", `${home}/`);
    const configFile = path.join(work, "ssh_config");
    fs.writeFileSync(configFile, config);
    return spawnSync("ssh", ["-F", configFile, "-o", "BatchMode=yes", alias, "id -un"], { encoding: "utf8" });
}

async function setConfig(stack: string, config: Record<string, string>, secrets: Record<string, string> = {}): Promise<void> {
    for (const [key, value] of Object.entries(config)) {
        await cli.ok(["config", "set", `--stack=${stack}`, key, value]);
    }
    for (const [key, value] of Object.entries(secrets)) {
        await cli.ok(["config", "set", `--stack=${stack}`, "--secret", key], { stdin: value });
    }
}

before(async () => {
    for (const [command, pkg] of [["go", "golang (or Go from go.dev)"], ["ssh", "openssh-client"], ["qemu-system-x86_64", "qemu-system-x86"]]) {
        requireCommand(command, `install ${pkg}`);
    }
    const engine = buildEngine();
    report.engineBuildSeconds = engine.seconds;
    console.log(`[engine] build-engine.sh: ${engine.seconds.toFixed(1)} s`);
    backend = new VmBackend({
        workDir: path.join(work, "cloud"),
        forwardPorts: [9000],
        addresses: ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"],
    });
    standin = await startDoStandin({ backend });
    projectDir = copyProject(work);
    const home = path.join(work, "home");
    fs.mkdirSync(home, { recursive: true });
    cli = new PulumiCli(projectDir, PulumiCli.environment(engine.binDir, home, standin.url));
    fs.mkdirSync(path.join(work, "state"));
    await cli.ok(["login", `file://${path.join(work, "state")}`]);
});

after(async () => {
    report.pulumiCommands = cli?.timings;
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, "engine-report.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`[engine] report (test-results/engine-report.json):\n${JSON.stringify(report, null, 2)}`);
    await standin?.close();
    fs.rmSync(work, { recursive: true, force: true });
});

describe("pulumi preview, up and destroy against the stand-in", { concurrency: false }, () => {
    let first: Outputs;

    test("1. preview succeeds on a new stack", async () => {
        await cli.ok(["stack", "init", alice.stack]);
        await setConfig(alice.stack, { region: "fra1", dataVolumeGb: "1" }, { password: alice.password });
        const preview = await cli.ok(["preview", "--json", `--stack=${alice.stack}`]);
        const creates = previewSteps(preview.stdout).filter((s) => s.op === "create").map((s) => s.urn.split("::").pop());
        for (const name of ["server-droplet", "data-volume", "firewall-firewall", "ssh-do", "tls-cert", "setup-configure"]) {
            assert.ok(creates.includes(name), `preview plans to create ${name}: ${creates.join(", ")}`);
        }
        assert.equal(standin.state.droplets().length, 0, "a preview creates nothing");
    });

    test("2. up creates everything; the url answers and the password logs in", async () => {
        await cli.ok(["up", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
        first = await outputs(alice.stack);
        assert.match(String(first.url), /^https:\/\/127\.0\.1\.\d:9000\/lab$/);
        const { client, status } = await login(first, alice.password);
        assert.equal(status, 302);
        const created = await client.api("PUT", "/api/contents/kept.ipynb", {
            type: "notebook", format: "json", content: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
        });
        assert.equal(created.status, 201, created.body);
        assert.equal(standin.state.droplets().length, 1);
        assert.equal(standin.state.volumes().length, 1);
    });

    test("2b. connect.sh sets up SSH for the stack: key 0600, per-stack known_hosts, config entry", () => {
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

    test("3. preview --expect-no-changes passes right after", async () => {
        await cli.ok(["preview", "--expect-no-changes", `--stack=${alice.stack}`]);
    });

    test("4. a new password changes only what depends on it; the notebook stays", async () => {
        await setConfig(alice.stack, {}, { password: alice.newPassword });
        const steps = previewSteps((await cli.ok(["preview", "--json", `--stack=${alice.stack}`])).stdout);
        assert.equal(opFor(steps, "server-droplet"), "same");
        assert.equal(opFor(steps, "data-volume"), "same");
        assert.equal(opFor(steps, "setup-configure"), "update");
        const changed = steps.filter((s) => s.op !== "same" && !s.urn.includes("pulumi:pulumi:Stack")).map((s) => s.urn.split("::").pop());
        assert.deepEqual(changed, ["setup-configure"]);
        await cli.ok(["up", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
        const out = await outputs(alice.stack);
        assert.equal(out.ipAddress, first.ipAddress, "the same droplet");
        assert.equal((await login(out, alice.password)).status, 401);
        const { client, status } = await login(out, alice.newPassword);
        assert.equal(status, 302);
        assert.equal((await client.request("GET", "/api/contents/kept.ipynb")).status, 200);
    });

    test("5. a new image replaces the droplet; the notebook survives on the volume", async () => {
        const volumeId = standin.state.volumes()[0].id;
        await setConfig(alice.stack, { image: "debian-12-x64" });
        const steps = previewSteps((await cli.ok(["preview", "--json", `--stack=${alice.stack}`])).stdout);
        assert.equal(opFor(steps, "server-droplet"), "replace");
        assert.equal(opFor(steps, "data-volume"), "same");
        await cli.ok(["up", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
        const out = await outputs(alice.stack);
        assert.equal(standin.state.volumes()[0].id, volumeId, "the same volume");
        assert.equal(standin.state.droplets().length, 1);
        const { client, status } = await login(out, alice.newPassword);
        assert.equal(status, 302);
        assert.equal((await client.request("GET", "/api/contents/kept.ipynb")).status, 200);
        await cli.ok(["preview", "--expect-no-changes", `--stack=${alice.stack}`]);
        first = out;
    });

    test("5b. after the rebuild, the stale host key is refused until connect.sh runs again", () => {
        const stale = sshThroughConfig("jupyterlab-alice");
        assert.notEqual(stale.status, 0);
        assert.match(stale.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
        connectScript(alice.stack);
        const fresh = sshThroughConfig("jupyterlab-alice");
        assert.equal(fresh.status, 0, fresh.stderr);
    });

    test("6. the exported state holds no secret in plain text", async () => {
        const exported = (await cli.ok(["stack", "export", "--show-secrets=false", `--stack=${alice.stack}`])).stdout;
        const config = JSON.parse(sshAsRoot(first, "cat /home/jupyter/.jupyter/jupyter_server_config.json"));
        const hash = String(config.PasswordIdentityProvider.hashed_password);
        const tlsKey = sshAsRoot(first, "cat /home/jupyter/.jupyter/tls/jupyterlab.key");
        assert.match(hash, /^argon2:/);
        for (const [what, secret] of [["password", alice.newPassword], ["old password", alice.password], ["hash", hash],
            ["hash body", hash.split("$").pop() ?? ""], ["TLS key", tlsKey.split("\n")[1]],
            ["SSH private key", String(first.sshPrivateKey).split("\n")[1]]]) {
            assert.ok(secret.length > 8, `${what} was found to search for`);
            assert.ok(!exported.includes(secret), `the ${what} is in the exported state`);
            assert.ok(!exported.includes(JSON.stringify(secret).slice(1, -1)), `the ${what} (JSON-escaped) is in the exported state`);
        }
    });

    test("7. a second user's stack runs side by side; destroying it leaves the first working", async () => {
        await cli.ok(["stack", "init", bob.stack]);
        await setConfig(bob.stack, { region: "fra1", dataVolumeGb: "1", retainData: "true" }, { password: bob.password });
        await cli.ok(["up", "--yes", "--skip-preview", `--stack=${bob.stack}`]);
        const bobs = await outputs(bob.stack);
        assert.equal((await login(bobs, bob.password)).status, 302);
        const names = standin.state.droplets().map((d) => d.name).sort();
        assert.deepEqual(names, ["jupyterlab-alice", "jupyterlab-bob"]);
        assert.deepEqual(standin.state.volumes().map((v) => v.name).sort(), ["jupyterlab-alice-notebooks", "jupyterlab-bob-notebooks"]);
        await cli.ok(["destroy", "--yes", "--skip-preview", `--stack=${bob.stack}`]);
        assert.deepEqual(standin.state.droplets().map((d) => d.name), ["jupyterlab-alice"]);
        assert.deepEqual(standin.state.volumes().map((v) => v.name).sort(), ["jupyterlab-alice-notebooks", "jupyterlab-bob-notebooks"],
            "retainData keeps bob's volume");
        const { status } = await login(await outputs(alice.stack), alice.newPassword);
        assert.equal(status, 302, "alice's server still works");
    });

    test("8. destroy leaves nothing but a retained volume, and no VM running", async () => {
        await cli.ok(["destroy", "--yes", "--skip-preview", `--stack=${alice.stack}`]);
        await standin.state.idle();
        assert.deepEqual(standin.state.droplets(), []);
        assert.deepEqual(standin.state.firewalls(), []);
        assert.deepEqual(standin.state.sshKeys(), []);
        assert.deepEqual(standin.state.volumes().map((v) => v.name), ["jupyterlab-bob-notebooks"]);
        assert.deepEqual(backend.runningDroplets(), []);
        const qemu = spawnSync("pgrep", ["-f", `qemu-system-x86_64.*${path.join(work, "cloud")}`]);
        assert.notEqual(qemu.status, 0, "no qemu process of this test is left");
    });
});
