// The server setup on a real Linux VM: the program's own user-data (same renderer), then its own
// remote setup steps (same commands, same stdin) over SSH, then what a user sees, from the host.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { renderCloudInit } from "../../components/cloud-init";
import { defaults } from "../../components/config";
import { renderConfigPayload, renderJupyterConfig } from "../../components/jupyter-config";
import { kernelRequirements } from "../../components/kernel-requirements";
import { hashJupyterPassword } from "../../components/password-hash";
import { setupSteps, SetupStep } from "../../components/remote-scripts";
import { serverLayout } from "../../components/server-layout";
import { knownHostsLine, sshConfigEntry } from "../../components/ssh-config";
import { resourceBaseName } from "../../components/naming";
import { JupyterClient } from "../support/jupyter-client";
import { OutputsStack } from "../support/outputs-stack";
import { requireCommand } from "../support/jupyter-venv";
import { runCell } from "../support/kernel";
import { bootLocalDroplet, createVolumeDisk, ensureImage, LocalDroplet, stopAllLocalDroplets } from "../vm/local-droplet";

const ip = "127.0.0.42";
const port = defaults.jupyterPort;
const baseUrl = `https://${ip}:${port}`;
const volumeName = "jupyterlab-e2e-notebooks";
const resultsDir = path.resolve(__dirname, "..", "..", "test-results");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-e2e-"));
const keyFile = path.join(work, "id_ed25519");
const volumeFile = path.join(work, "volume.raw");

const phases: Record<string, number> = {};
const report: Record<string, unknown> = { phasesSeconds: phases };
async function timed<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
        return await work();
    } finally {
        phases[phase] = Math.round((Date.now() - started) / 100) / 10;
        console.log(`[e2e] ${phase}: ${phases[phase]} s`);
    }
}

/** What the program would compute: the same renderers, the test's own certificate and password. */
interface Secrets {
    password: string;
    hash: string;
    certPem: string;
    keyPem: string;
}

async function makeSecrets(password: string, certPem: string, keyPem: string): Promise<Secrets> {
    return { password, hash: await hashJupyterPassword(password, Buffer.from(`salt-${password}`).subarray(0, 16)), certPem, keyPem };
}

function steps(secrets: Secrets): SetupStep<string>[] {
    const payload = renderConfigPayload({
        "jupyter_server_config.json": renderJupyterConfig({ hashedPassword: secrets.hash, port }),
        "tls.crt": secrets.certPem,
        "tls.key": secrets.keyPem,
    });
    return setupSteps({ jupyterlabVersion: defaults.jupyterlabVersion, jupyterPort: port, kernelRequirements: "" },
        payload, kernelRequirements([]));
}

/** Runs steps over ssh as root exactly as @pulumi/command does: the command line, stdin. */
async function runSteps(droplet: LocalDroplet, list: SetupStep<string>[], label: string): Promise<Record<string, string>> {
    const outputs: Record<string, string> = {};
    for (const step of list) {
        const result = await timed(`${label}: ${step.role}`, () => droplet.ssh(keyFile, step.command, step.stdin ?? ""));
        assert.equal(result.code, 0, `step ${step.role} failed:\n${result.stdout}\n${result.stderr}`);
        outputs[step.role] = result.stdout;
    }
    return outputs;
}

async function rootShell(droplet: LocalDroplet, command: string): Promise<string> {
    const result = await droplet.ssh(keyFile, command);
    assert.equal(result.code, 0, `${command}: ${result.stderr}`);
    return result.stdout;
}

let droplet: LocalDroplet;
let hostKey = "";
let outputsStack: OutputsStack;
const alias = resourceBaseName("e2e");

/** Publishes what the program would export for SSH, runs scripts/connect.sh, then `ssh <alias>`. */
async function connectAndSsh(): Promise<{ status: number | null; stdout: string; stderr: string }> {
    outputsStack ??= await OutputsStack.create(path.join(work, "connect"), "e2e");
    await outputsStack.publish({
        sshConfig: sshConfigEntry({ alias, hostName: ip, user: "jupyter", identityFile: `~/.ssh/${alias}` }),
        knownHostsLine: knownHostsLine(alias, hostKey),
        sshPrivateKey: fs.readFileSync(keyFile, "utf8"),
    });
    const connect = spawnSync("bash", [path.join(outputsStack.projectDir, "scripts", "connect.sh")],
        { cwd: outputsStack.projectDir, env: outputsStack.cli.environment, encoding: "utf8" });
    assert.equal(connect.status, 0, connect.stderr);
    assert.match(connect.stdout, new RegExp(`ready: ssh ${alias}`));
    return sshThroughEntry();
}

function sshThroughEntry(): { status: number | null; stdout: string; stderr: string } {
    // ssh expands "~" from the passwd entry, not $HOME: point the entry's paths at the test's home.
    const home = outputsStack.home;
    const configFile = path.join(work, "ssh_config");
    fs.writeFileSync(configFile, fs.readFileSync(path.join(home, ".ssh", "config"), "utf8").replaceAll("~/", `${home}/`));
    return spawnSync("ssh", ["-F", configFile, "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", alias, "id -un"], { encoding: "utf8" });
}
let secrets: Secrets;
const userData = renderCloudInit({ dataVolumeName: volumeName });

before(async () => {
    for (const [command, install] of [["ssh-keygen", "openssh-client"], ["openssl", "openssl"], ["chromium", "chromium"]]) {
        requireCommand(command, `install Debian's ${install} package (apt-get install ${install})`);
    }
    fs.mkdirSync(resultsDir, { recursive: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
    execFileSync("openssl", ["req", "-x509", "-nodes", "-days", "2", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-keyout", path.join(work, "tls.key"), "-out", path.join(work, "tls.crt"), "-subj", "/CN=jupyterlab-e2e",
        "-addext", `subjectAltName=IP:${ip},IP:127.0.0.1,DNS:localhost`], { stdio: "ignore" });
    secrets = await makeSecrets("e2e password, long enough", fs.readFileSync(path.join(work, "tls.crt"), "utf8"),
        fs.readFileSync(path.join(work, "tls.key"), "utf8"));
});

after(async () => {
    await stopAllLocalDroplets();
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, "e2e-report.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`[e2e] report (test-results/e2e-report.json):\n${JSON.stringify(report, null, 2)}`);
    fs.rmSync(work, { recursive: true, force: true });
});

async function loggedIn(password: string): Promise<JupyterClient> {
    const client = new JupyterClient(baseUrl, secrets.certPem);
    const res = await client.login(password);
    assert.equal(res.status, 302, `login answered ${res.status}`);
    return client;
}

describe("a local droplet set up by the program's own user-data and steps", { concurrency: false }, () => {
    test("boots with the program's user-data and a DigitalOcean-style volume", async () => {
        const imageDir = await timed("image build (or cache)", () => ensureImage());
        await createVolumeDisk({ path: volumeFile, sizeGb: 2, filesystemType: "ext4", label: "notebooks" });
        droplet = await timed("boot", () => bootLocalDroplet({
            name: "jupyterlab-e2e", userData, authorizedKeys: [fs.readFileSync(`${keyFile}.pub`, "utf8")], ipv4: ip,
            forwardPorts: [22, port], volumes: [{ name: volumeName, path: volumeFile }], workDir: work, imageDir,
        }));
        await timed("boot to SSH", () => droplet.waitForSsh(keyFile, 600_000));
    });

    test("the remote setup steps run: cloud-init done, JupyterLab installed, server ready", async () => {
        const outputs = await runSteps(droplet, steps(secrets), "setup");
        assert.match(outputs["cloud-init"], /cloud-init finished/);
        assert.match(outputs.configure, /JupyterLab answers over HTTPS/);
        const scanned = execFileSync("ssh-keyscan", ["-t", "ed25519", ip]).toString().trim().split(" ").slice(1).join(" ");
        assert.equal(outputs["host-key"].trim(), scanned, "the exported host key is the one sshd serves");
        hostKey = outputs["host-key"].trim();
    });

    test("connect.sh writes the key, the per-stack known_hosts and the entry; ssh then works, as jupyter", async () => {
        const ssh = await timed("connect.sh and ssh", () => connectAndSsh());
        assert.equal(ssh.status, 0, ssh.stderr);
        assert.equal(ssh.stdout.trim(), "jupyter");
        const home = outputsStack.home;
        assert.equal(fs.statSync(path.join(home, ".ssh", alias)).mode & 0o777, 0o600);
        assert.equal(fs.readFileSync(path.join(home, ".ssh", "known_hosts.d", alias), "utf8"), `${knownHostsLine(alias, hostKey)}\n`);
        await connectAndSsh();
        assert.equal(fs.readFileSync(path.join(home, ".ssh", "config"), "utf8").match(new RegExp(`^Host ${alias}$`, "gm"))?.length, 1,
            "re-running keeps one entry");
        assert.ok(!fs.existsSync(path.join(home, ".ssh", "known_hosts")), "the shared known_hosts is never touched");
    });

    test("GET /api answers over HTTPS with the certificate pinned", async () => {
        const version = await timed("server ready (from host)", () => new JupyterClient(baseUrl, secrets.certPem).waitUntilReady(120_000));
        assert.match(version, /^2\./);
        await assert.rejects(new JupyterClient(baseUrl, fs.readFileSync(path.join(work, "tls.crt"), "utf8").replace(/[A-Za-z]/, "x")).request("GET", "/api"));
    });

    test("the password logs in; a notebook is created; a cell runs in the kernel", async () => {
        const client = await timed("first login", () => loggedIn(secrets.password));
        const created = await client.api("PUT", "/api/contents/survivor.ipynb", {
            type: "notebook", format: "json", content: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
        });
        assert.equal(created.status, 201, created.body);
        const cell = await timed("first cell", () => runCell(client, baseUrl, secrets.certPem, "1+1"));
        assert.equal(cell.result, "2", cell.error);
        const where = await runCell(client, baseUrl, secrets.certPem, "import sys; print(sys.prefix)");
        assert.match(where.stdout, /^\/opt\/jupyter-kernel\//, "the default kernel runs in the kernel environment");
    });

    test("the user's packages: one from PyPI is importable in a notebook; a bad one fails and changes nothing", async () => {
        const kernelStep = (requirements: string) => setupSteps({ jupyterlabVersion: defaults.jupyterlabVersion, jupyterPort: port, kernelRequirements: requirements },
            "", kernelRequirements(requirements === "" ? [] : requirements.trim().split("\n"))).filter((step) => step.role === "kernel");
        await timed("kernel packages install", () => runSteps(droplet, kernelStep("tabulate==0.9.0\n"), "packages"));
        const client = await loggedIn(secrets.password);
        const good = await runCell(client, baseUrl, secrets.certPem, "import tabulate; print(tabulate.__version__)");
        assert.equal(good.stdout.trim(), "0.9.0", good.error);

        const [bad] = kernelStep("tabulate==0.9.0\nno-such-package-jupyterlab-droplet-test==0.0.1\n");
        const failed = await droplet.ssh(keyFile, bad.command, bad.stdin ?? "");
        assert.notEqual(failed.code, 0, "a requirement that cannot be installed fails the step");
        assert.match(failed.stderr, /installing the kernel packages failed; the previous packages stay in use/);
        assert.match(failed.stderr, /no-such-package-jupyterlab-droplet-test/, "the installer's own message names the package");
        await new JupyterClient(baseUrl, secrets.certPem).waitUntilReady(30_000);
        const still = await runCell(client, baseUrl, secrets.certPem, "import tabulate; print(tabulate.__version__)");
        assert.equal(still.stdout.trim(), "0.9.0", "the previous packages still work");

        const unchanged = await droplet.ssh(keyFile, kernelStep("tabulate==0.9.0\n")[0].command, "tabulate==0.9.0\n");
        assert.match(unchanged.stdout, /the kernel environment is up to date/, "nothing changed, nothing re-installed");
    });

    test("JupyterLab in Chromium: log in and see the launcher", async () => {
        const spki = createPublicKey(secrets.certPem).export({ type: "spki", format: "der" });
        const pin = createHash("sha256").update(spki).digest("base64");
        const browser = await chromium.launch({
            executablePath: "/usr/bin/chromium",
            args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                // Trusts exactly this certificate's key, as a user who checked the fingerprint would.
                `--ignore-certificate-errors-spki-list=${pin}`],
        });
        try {
            const page = await browser.newPage();
            await page.goto(`${baseUrl}/lab`);
            await page.fill("input[type=password]", secrets.password);
            await Promise.all([page.waitForURL(/\/lab/), page.click("#login_submit")]);
            await page.locator(".jp-Launcher").first().waitFor({ timeout: 120_000 });
            await page.screenshot({ path: path.join(resultsDir, "e2e-jupyterlab-launcher.png") });
            assert.match(await page.title(), /JupyterLab/);
        } finally {
            await browser.close();
        }
    });

    test("a wrong password is refused; SSH with a password is refused", async () => {
        const client = new JupyterClient(baseUrl, secrets.certPem);
        assert.equal((await client.login("not the password at all")).status, 401);
        const bySsh = await droplet.ssh(keyFile, "true", "", {
            sshArgs: ["-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no"], retryConnectMs: 0,
        });
        assert.notEqual(bySsh.code, 0);
        assert.match(bySsh.stderr, /Permission denied \(publickey\)/, "the server offers public key logins only");
    });

    test("only SSH and Jupyter listen beyond loopback; files are 0600 and the server is not root", async () => {
        const listening = (await rootShell(droplet, "ss -H -ltn")).trim().split("\n").map((line) => line.trim().split(/\s+/)[3]);
        const exposed = listening.filter((address) => !/^(127\.[\d.]+|\[::1\]):\d+$/.test(address));
        assert.deepEqual([...new Set(exposed.map((a) => Number(a.split(":").pop())))].sort((a, b) => a - b), [22, port], listening.join(" "));
        for (const file of [serverLayout.keyFile, serverLayout.configFile, serverLayout.certFile]) {
            assert.equal((await rootShell(droplet, `stat -c '%a %U %G' ${file}`)).trim(), "600 jupyter jupyter", file);
        }
        const pid = (await rootShell(droplet, `systemctl show -p MainPID --value ${serverLayout.service}`)).trim();
        assert.equal((await rootShell(droplet, `ps -o user= -p ${pid}`)).trim(), "jupyter");
        const enabled = (await rootShell(droplet, `systemctl is-enabled ${serverLayout.service}`)).trim();
        assert.equal(enabled, "enabled");
    });

    test("no secret in the user-data, in ps output or in the journal", async () => {
        const keyLine = secrets.keyPem.split("\n")[1];
        const evidence = {
            "user-data (rendered)": userData,
            "user-data (on the VM)": await rootShell(droplet, "cat /var/lib/cloud/instance/user-data.txt"),
            "ps": await rootShell(droplet, "ps -eo user,args ww"),
            "journal": await rootShell(droplet, "journalctl --no-pager -o cat"),
            "cloud-init log": await rootShell(droplet, "cat /var/log/cloud-init-output.log"),
        };
        assert.ok(evidence["user-data (on the VM)"].includes("#cloud-config"), "the VM got the user-data");
        for (const [where, text] of Object.entries(evidence)) {
            for (const [what, secret] of [["password", secrets.password], ["hash", secrets.hash], ["hash body", secrets.hash.split("$").pop() ?? ""],
                ["TLS key", keyLine]]) {
                assert.ok(!text.includes(secret), `the ${what} appears in the ${where}`);
            }
        }
    });

    test("the notebook lives on the data volume", async () => {
        const source = (await rootShell(droplet, `findmnt -n -o SOURCE ${serverLayout.notebookDir}`)).trim();
        const device = (await rootShell(droplet, `readlink -f /dev/disk/by-id/scsi-0DO_Volume_${volumeName}`)).trim();
        assert.equal(source, device);
        assert.equal((await rootShell(droplet, `stat -c %U ${serverLayout.notebookDir}/survivor.ipynb`)).trim(), "jupyter");
    });

    test("after a reboot the server comes back by itself, with the notebook", async () => {
        await timed("reboot to SSH", () => droplet.reboot(keyFile, 600_000));
        await timed("reboot to server ready", () => new JupyterClient(baseUrl, secrets.certPem).waitUntilReady(300_000));
        const client = await loggedIn(secrets.password);
        assert.equal((await client.request("GET", "/api/contents/survivor.ipynb")).status, 200);
    });

    test("a new password: only the new one works, the notebook is still there", async () => {
        const oldPassword = secrets.password;
        const oldClient = await loggedIn(oldPassword);
        secrets = await makeSecrets("the second password, also long", secrets.certPem, secrets.keyPem);
        const configure = steps(secrets).filter((step) => step.role === "configure");
        await timed("new password push", () => runSteps(droplet, configure, "password change"));
        assert.equal((await new JupyterClient(baseUrl, secrets.certPem).login(oldPassword)).status, 401);
        assert.equal((await oldClient.request("GET", "/api/contents")).status, 403, "old login cookies stop working");
        const client = await loggedIn(secrets.password);
        assert.equal((await client.request("GET", "/api/contents/survivor.ipynb")).status, 200);
    });

    test("a fresh droplet with the same volume finds the notebook", async () => {
        await droplet.stop();
        assert.equal(droplet.isRunning(), false);
        droplet = await timed("second boot", () => bootLocalDroplet({
            name: "jupyterlab-e2e", userData, authorizedKeys: [fs.readFileSync(`${keyFile}.pub`, "utf8")], ipv4: ip,
            forwardPorts: [22, port], volumes: [{ name: volumeName, path: volumeFile }], workDir: work,
        }));
        await timed("second boot to SSH", () => droplet.waitForSsh(keyFile, 600_000));
        const outputs = await runSteps(droplet, steps(secrets), "second setup");
        const client = await loggedIn(secrets.password);
        assert.equal((await client.request("GET", "/api/contents/survivor.ipynb")).status, 200);

        // Same address, new host key: the stale entry is refused, and connect.sh mends it.
        const stale = sshThroughEntry();
        assert.notEqual(stale.status, 0);
        assert.match(stale.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
        hostKey = outputs["host-key"].trim();
        const fresh = await connectAndSsh();
        assert.equal(fresh.status, 0, fresh.stderr);
    });
});
