import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { renderCloudInit, sshdHardening } from "../../components/cloud-init";
import { renderFilePayload } from "../../components/file-payload";
import { renderJupyterConfig } from "../../components/jupyter-config";
import { kernelRequirements } from "../../components/kernel-requirements";
import { loginGuardFiles, renderLoginJails } from "../../components/login-guard";
import { readRemoteLibrary, readRemoteScript, remoteCommand, remoteScriptDir, shellQuote } from "../../components/remote-scripts";
import { serverLayout } from "../../components/server-layout";
import { sshConfigEntry, sshKeyFingerprint } from "../../components/ssh-config";
import { renderSystemdUnit } from "../../components/systemd-unit";
import { requireCommand } from "../support/jupyter-venv";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jld-render-"));

function cloudInitSchema(userData: string): { ok: boolean; output: string } {
    requireCommand("cloud-init", "install Debian's cloud-init package (apt-get install cloud-init)");
    const file = path.join(tmp, "user-data");
    fs.writeFileSync(file, userData);
    const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
    return { ok: result.status === 0, output: result.stdout + result.stderr };
}

test("the user-data passes cloud-init's schema, with and without a data volume", () => {
    for (const userData of [renderCloudInit(), renderCloudInit({ dataVolumeName: "jupyterlab-alice-notebooks" })]) {
        const result = cloudInitSchema(userData);
        assert.ok(result.ok, result.output);
        assert.match(result.output, /Valid cloud-config/);
    }
});

test("the schema check itself catches a broken user-data", () => {
    assert.equal(cloudInitSchema(renderCloudInit().replace("ssh_pwauth: false", "ssh_pwauth: [1, 2]")).ok, false);
});

test("the user-data prepares the machine: user, password logins off, swap, unit, volume mount", () => {
    const userData = renderCloudInit({ dataVolumeName: "jupyterlab-alice-notebooks" });
    assert.ok(userData.startsWith("#cloud-config\n"));
    assert.match(userData, /^ssh_pwauth: false$/m);
    assert.match(userData, /^disable_root: false$/m);
    assert.match(userData, /^ {2}- name: jupyter\n {4}gecos: JupyterLab\n {4}shell: \/bin\/bash\n {4}lock_passwd: true$/m);
    assert.match(userData, /^swap:\n {2}filename: \/swapfile\n {2}size: 2147483648\n/m);
    assert.match(userData, /- \["\/dev\/disk\/by-id\/scsi-0DO_Volume_jupyterlab-alice-notebooks", "\/home\/jupyter\/notebooks", ext4, "defaults,nofail/);
    assert.ok(userData.includes("      PasswordAuthentication no\n"));
    assert.ok(userData.includes(`    content: |\n      [Unit]\n`));
    assert.match(userData, /- \[systemctl, enable, jupyterlab.service\]/);
    // Ubuntu 24.04's ssh is socket-activated: a plain `reload ssh` fails there until a first login.
    assert.match(userData, /systemctl try-reload-or-restart ssh.service && exit 0; sleep 5; done; exit 1"\]/);
    assert.doesNotMatch(userData, /systemctl reload/);
    assert.ok(!renderCloudInit().includes("mounts:"), "no volume, no mount");
});

test("the user-data is deterministic and within DigitalOcean's 64 KiB limit", () => {
    // That it ignores password, certificate, port and version is asserted on the droplet's inputs in program.test.ts.
    assert.equal(renderCloudInit({ dataVolumeName: "v" }), renderCloudInit({ dataVolumeName: "v" }));
    assert.ok(Buffer.byteLength(renderCloudInit({ dataVolumeName: "v" })) < 64 * 1024, "DigitalOcean's 64 KiB user-data limit");
});

test("sshd hardening turns password and keyboard-interactive logins off", () => {
    assert.match(sshdHardening, /^PasswordAuthentication no$/m);
    assert.match(sshdHardening, /^KbdInteractiveAuthentication no$/m);
    assert.match(sshdHardening, /^PermitRootLogin prohibit-password$/m);
});

test("the systemd unit runs JupyterLab as the jupyter user, on boot, restarting on failure", () => {
    const unit = renderSystemdUnit();
    const lines = unit.split("\n");
    for (const expected of ["User=jupyter", "Group=jupyter", "Restart=on-failure", "WantedBy=multi-user.target",
        `ExecStart=${serverLayout.serverEnv}/bin/jupyter-lab`, `Environment=JUPYTER_CONFIG_DIR=${serverLayout.configDir}`,
        `ConditionPathExists=${serverLayout.configFile}`, "NoNewPrivileges=true"]) {
        assert.ok(lines.includes(expected), `missing ${expected}`);
    }
    assert.ok(!/^User=root/m.test(unit));
});

test("the Jupyter config uses jupyter_server 2.x names: hash, TLS, all interfaces, no token, no password change", () => {
    const config = JSON.parse(renderJupyterConfig({ hashedPassword: "argon2:$argon2id$x", port: 9000, idleKernelMinutes: 60 }));
    assert.deepEqual(config.ServerApp, {
        ip: "0.0.0.0", port: 9000, port_retries: 0, certfile: serverLayout.certFile, keyfile: serverLayout.keyFile,
        root_dir: serverLayout.notebookDir, open_browser: false, allow_remote_access: true, allow_root: false,
    });
    assert.deepEqual(config.IdentityProvider, { token: "" });
    assert.deepEqual(config.PasswordIdentityProvider,
        { hashed_password: "argon2:$argon2id$x", password_required: true, allow_password_change: false });
    assert.deepEqual(config.KernelSpecManager, { ensure_native_kernel: false });
    assert.ok(!("NotebookApp" in config), "no 1.x names");
});

test("idle kernels and terminals are culled after idleKernelMinutes; busy or connected kernels are kept; 0 turns it off", () => {
    const config = JSON.parse(renderJupyterConfig({ hashedPassword: "h", port: 9000, idleKernelMinutes: 60 }));
    assert.deepEqual(config.MappingKernelManager, { cull_idle_timeout: 3600, cull_interval: 300, cull_connected: false, cull_busy: false });
    assert.deepEqual(config.TerminalManager, { cull_inactive_timeout: 3600, cull_interval: 300 });
    const short = JSON.parse(renderJupyterConfig({ hashedPassword: "h", port: 9000, idleKernelMinutes: 1 }));
    assert.equal(short.MappingKernelManager.cull_idle_timeout, 60);
    assert.equal(short.MappingKernelManager.cull_interval, 60, "checked at least once per timeout");
    assert.equal(short.TerminalManager.cull_interval, 60);
    const never = JSON.parse(renderJupyterConfig({ hashedPassword: "h", port: 9000, idleKernelMinutes: 0 }));
    assert.ok(!("MappingKernelManager" in never) && !("TerminalManager" in never), "0: jupyter_server's own default, no culling");
});

test("the file payload decodes in bash exactly as the configure steps read it; unknown or missing files fail", () => {
    const files = { "jupyter_server_config.json": "{\n  \"a\": 1\n}\n", "tls.crt": "CERT\nline 2\n", "tls.key": "KEY 'quoted' $x\n" };
    const read = (payload: string, names: string[]) => spawnSync("bash", ["-c", `set -eu; ${readRemoteLibrary("file-payload")}\nread_file_payload "$@"`, "-", tmp, ...names],
        { input: payload, encoding: "utf8" });
    const good = read(renderFilePayload(files), Object.keys(files));
    assert.equal(good.status, 0, good.stderr);
    for (const [name, content] of Object.entries(files)) {
        assert.equal(fs.readFileSync(path.join(tmp, name), "utf8"), content);
    }
    const unknown = read(renderFilePayload({ ...files, "evil.sh": "x" }), Object.keys(files));
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /unexpected file name in the setup payload: evil\.sh/);
    const missing = read(renderFilePayload({ "tls.crt": "CERT\n" }), ["tls.crt", "absent.key"]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /the setup payload is missing absent\.key/);
});

test("a step that reads a payload is sent with the function, after its own shebang", () => {
    const script = readRemoteScript("configure-login-guard");
    assert.match(script, /^#!\/usr\/bin\/env bash\n/);
    assert.ok(script.indexOf("read_file_payload() {") < script.indexOf('read_file_payload "$staging"'));
    assert.ok(!readRemoteScript("install-jupyterlab").includes("read_file_payload"));
});

test("every shell step passes shellcheck", () => {
    requireCommand("shellcheck", "install Debian's shellcheck package (apt-get install shellcheck)");
    const scripts = [remoteScriptDir, path.join(remoteScriptDir, "lib")]
        .flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith(".sh")).map((f) => path.join(dir, f)));
    const others = ["scripts/connect.sh", ".ci/run"].filter((f) => fs.existsSync(f));
    assert.ok(scripts.length >= 5, `expected the remote steps in ${remoteScriptDir}`);
    const result = spawnSync("shellcheck", ["--shell=bash", ...scripts, ...others], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
});

test("remote commands carry the layout and quote every argument", () => {
    const command = remoteCommand("install-jupyterlab", ["4.6.6"]);
    assert.ok(command.startsWith("env JLD_USER=jupyter "));
    assert.ok(command.endsWith(" install-jupyterlab 4.6.6"));
    for (const word of ["plain", "with space", "it's", "$HOME", "a\nb", "`x`", "*"]) {
        const echoed = execFileSync("sh", ["-c", `printf '%s' ${shellQuote(word)}`]).toString();
        assert.equal(echoed, word);
    }
});

test("kernel requirements join the package list and the requirements file", () => {
    assert.equal(kernelRequirements([]), "");
    assert.equal(kernelRequirements(["pandas==2.2.3", "numpy>=2"], "scipy\n\n"), "pandas==2.2.3\nnumpy>=2\nscipy\n");
    assert.equal(kernelRequirements([], "   \n"), "");
});

test("the SSH config entry pins a per-stack alias and known_hosts file", () => {
    const entry = sshConfigEntry({ alias: "jupyterlab-alice", hostName: "203.0.113.7", user: "jupyter", identityFile: "~/.ssh/jupyterlab-alice" });
    assert.equal(entry, [
        "Host jupyterlab-alice", "  HostName 203.0.113.7", "  User jupyter", "  IdentityFile ~/.ssh/jupyterlab-alice",
        "  IdentitiesOnly yes", "  HostKeyAlias jupyterlab-alice", "  UserKnownHostsFile ~/.ssh/known_hosts.d/jupyterlab-alice",
        "  StrictHostKeyChecking yes", ""].join("\n"));
});

test("the host key fingerprint matches ssh-keygen's", () => {
    requireCommand("ssh-keygen", "install Debian's openssh-client package");
    const keyFile = path.join(tmp, "host_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
    const publicKey = fs.readFileSync(`${keyFile}.pub`, "utf8");
    const expected = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${keyFile}.pub`]).toString().split(" ")[1];
    assert.equal(sshKeyFingerprint(publicKey), expected);
});

test("the login guard's jails: the limits from the config, the Jupyter port only, sshd on; maxLoginFailures 0 turns the jail off", () => {
    const jails = renderLoginJails({ jupyterPort: 9000, maxLoginFailures: 5, banMinutes: 60 });
    const section = (text: string, name: string) => new RegExp(`\\n\\[${name}\\]\\n([\\s\\S]*?)(?=\\n\\[|$)`).exec(text)?.[1] ?? "";
    assert.match(section(jails, "jupyterlab"), /\nenabled = true\n/);
    assert.match(section(jails, "jupyterlab"), /\nport = 9000\nprotocol = tcp\n[^]*\nmaxretry = 5\nfindtime = 10m\nbantime = 60m\n/);
    assert.match(section(jails, "jupyterlab"), /\nbackend = systemd\[journalflags=1\]\njournalmatch = _SYSTEMD_UNIT=jupyterlab\.service\n/);
    assert.match(section(jails, "sshd"), /^enabled = true\nbackend = systemd\n/);
    const off = renderLoginJails({ jupyterPort: 9000, maxLoginFailures: 0, banMinutes: 60 });
    assert.match(section(off, "jupyterlab"), /\nenabled = false\n/);
    assert.match(section(off, "sshd"), /^enabled = true\n/, "the sshd jail stays on");
});

test("the real fail2ban-client accepts the rendered settings, with the jail on and off", () => {
    requireCommand("fail2ban-client", "install Debian's fail2ban package (apt-get install fail2ban)");
    for (const maxLoginFailures of [5, 0]) {
        // The distribution's own settings, with ours added where the configure step puts them.
        const confDir = path.join(tmp, `fail2ban-${maxLoginFailures}`);
        fs.cpSync("/etc/fail2ban", confDir, { recursive: true });
        const files = loginGuardFiles({ jupyterPort: 9000, maxLoginFailures, banMinutes: 60 });
        fs.writeFileSync(path.join(confDir, "jail.d", "jupyterlab-droplet.local"), files["jail.local"]);
        fs.writeFileSync(path.join(confDir, "filter.d", "jupyterlab-droplet.conf"), files["filter.conf"]);
        fs.writeFileSync(path.join(confDir, "fail2ban.d", "jupyterlab-droplet.local"), files["fail2ban.local"]);
        const result = spawnSync("fail2ban-client", ["-c", confDir, "--test"], { encoding: "utf8" });
        assert.equal(result.status, 0, `fail2ban-client --test: ${result.stdout}${result.stderr}`);
        const dump = execFileSync("fail2ban-client", ["-c", confDir, "-d"], { encoding: "utf8" });
        // Its own backend options: the journal files of users too, where JupyterLab's log goes.
        assert.equal(dump.includes("['add', 'jupyterlab', 'systemd[journalflags=1]']"), maxLoginFailures > 0, dump.slice(0, 2000));
        assert.match(dump, /\['add', 'sshd', 'systemd'\]/);
        if (maxLoginFailures > 0) {
            assert.match(dump, /\['set', 'jupyterlab', 'maxretry', 5\]/);
            assert.match(dump, /\['set', 'jupyterlab', 'bantime', '60m'\]/);
            assert.match(dump, /\['set', 'jupyterlab', 'usedns', 'no'\]/);
            assert.match(dump, /\['set', 'jupyterlab', 'addjournalmatch', '_SYSTEMD_UNIT=jupyterlab\.service'\]/);
            assert.match(dump, /\['multi-set', 'jupyterlab', 'action', 'nftables-multiport', .*\['port', '9000'\]/);
        }
    }
});
