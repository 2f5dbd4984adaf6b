import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { renderCloudInit, sshdHardening } from "../../droplet/cloud-init";
import { renderFilePayload } from "../../droplet/file-payload";
import { renderJupyterConfig } from "../../droplet/jupyter-config";
import { kernelRequirements } from "../../droplet/kernel-requirements";
import { loginGuardFiles, renderLoginJails } from "../../droplet/login-guard";
import { inlineCommand, readRemoteLibrary, readRemoteScript, remoteScriptDir, shellQuote } from "../../droplet/step-scripts";
import { serverLayout } from "../../droplet/server-layout";
import { sshConfigEntry, sshKeyFingerprint } from "../../droplet/ssh-config";
import { renderSystemdUnit, renderUnitDropIn } from "../../droplet/systemd-unit";
import { certificatePayload, renderRenewalHook } from "../../droplet/acme-certificate";
import { requireCommand } from "../support/jupyter-venv";
import { makeSelfSignedPair } from "../support/certificate";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jld-render-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

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
    assert.match(
        userData,
        /- \["\/dev\/disk\/by-id\/scsi-0DO_Volume_jupyterlab-alice-notebooks", "\/home\/jupyter\/notebooks", ext4, "defaults,nofail/,
    );
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
    for (const expected of [
        "User=jupyter",
        "Group=jupyter",
        "Restart=on-failure",
        "WantedBy=multi-user.target",
        `ExecStart=${serverLayout.serverEnv}/bin/jupyter-lab`,
        `Environment=JUPYTER_CONFIG_DIR=${serverLayout.legacyConfigDir}`,
        `ConditionPathExists=${serverLayout.legacyConfigFile}`,
        "NoNewPrivileges=true",
    ]) {
        assert.ok(lines.includes(expected), `missing ${expected}`);
    }
    assert.ok(!/^User=root/m.test(unit));
});

test("the user-data is byte for byte what earlier versions sent: upgrading the program replaces no droplet", () => {
    // The user-data can never change (DigitalOcean cannot update it in place), so the unit in it
    // keeps the paths it has always had and the configure step's drop-in overrides them.
    const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
    assert.equal(sha256(renderCloudInit({})), "4d25b206496387981ad06a67572e9b7c1527ef96d9c810329bcae7f62d6d7ad7");
    assert.equal(
        sha256(renderCloudInit({ dataVolumeName: "jupyterlab-alice-notebooks" })),
        "b14d7717a5f36d3afbae85634b683ecc3c03f4f10cd37c64566ecf3e06ff22c1",
    );
});

test("the Jupyter config uses jupyter_server 2.x names: hash, TLS, all interfaces, no token, no password change", () => {
    const config = JSON.parse(renderJupyterConfig({ hashedPassword: "argon2:$argon2id$x", port: 9000, idleKernelMinutes: 60 }));
    assert.deepEqual(config.ServerApp, {
        ip: "0.0.0.0",
        port: 9000,
        port_retries: 0,
        certfile: serverLayout.certFile,
        keyfile: serverLayout.keyFile,
        root_dir: serverLayout.notebookDir,
        open_browser: false,
        allow_remote_access: true,
        allow_root: false,
    });
    assert.deepEqual(config.IdentityProvider, { token: "" });
    assert.deepEqual(config.PasswordIdentityProvider, {
        hashed_password: "argon2:$argon2id$x",
        password_required: true,
        allow_password_change: false,
    });
    assert.deepEqual(config.KernelSpecManager, { ensure_native_kernel: false });
    assert.deepEqual(
        config.LabApp,
        { user_settings_dir: serverLayout.userSettingsDir, workspaces_dir: serverLayout.workspacesDir },
        "settings and layouts in the user's home: the config dir is read-only to JupyterLab",
    );
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
    const files = { "jupyter_server_config.json": '{\n  "a": 1\n}\n', "tls.crt": "CERT\nline 2\n", "tls.key": "KEY 'quoted' $x\n" };
    const read = (payload: string, names: string[]) =>
        spawnSync("bash", ["-c", `set -eu; ${readRemoteLibrary("file-payload")}\nread_file_payload "$@"`, "-", tmp, ...names], {
            input: payload,
            encoding: "utf8",
        });
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
    const scripts = [remoteScriptDir, path.join(remoteScriptDir, "lib")].flatMap((dir) =>
        fs
            .readdirSync(dir)
            .filter((f) => f.endsWith(".sh"))
            .map((f) => path.join(dir, f)),
    );
    const others = ["scripts/connect.sh", ".ci/run"].filter((f) => fs.existsSync(f));
    assert.ok(scripts.length >= 5, `expected the remote steps in ${remoteScriptDir}`);
    const result = spawnSync("shellcheck", ["--shell=bash", ...scripts, ...others], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
});

test("inline commands carry the layout and quote every argument", () => {
    const command = inlineCommand("install-jupyterlab", ["4.6.6"]);
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
    const entry = sshConfigEntry({
        alias: "jupyterlab-alice",
        hostName: "203.0.113.7",
        user: "jupyter",
        identityFile: "~/.ssh/jupyterlab-alice",
    });
    assert.equal(
        entry,
        [
            "Host jupyterlab-alice",
            "  HostName 203.0.113.7",
            "  User jupyter",
            "  IdentityFile ~/.ssh/jupyterlab-alice",
            "  IdentitiesOnly yes",
            "  HostKeyAlias jupyterlab-alice",
            "  UserKnownHostsFile ~/.ssh/known_hosts.d/jupyterlab-alice",
            "  StrictHostKeyChecking yes",
            "",
        ].join("\n"),
    );
});

test("the host key fingerprint matches ssh-keygen's", () => {
    requireCommand("ssh-keygen", "install Debian's openssh-client package");
    const keyFile = path.join(tmp, "host_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
    const publicKey = fs.readFileSync(`${keyFile}.pub`, "utf8");
    const expected = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${keyFile}.pub`])
        .toString()
        .split(" ")[1];
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

test("the unit's drop-in: the root-owned config dir, no user site, the volume it needs; no capability", () => {
    for (const dataVolume of [true, false]) {
        const dropIn = renderUnitDropIn({ dataVolume });
        assert.match(
            dropIn,
            /^ConditionPathExists=\nConditionPathExists=\/etc\/jupyterlab-droplet\/jupyter_server_config\.json$/m,
            "the unit's own condition, on the old config file, is dropped first",
        );
        assert.match(dropIn, /^Environment=JUPYTER_CONFIG_DIR=\/etc\/jupyterlab-droplet$/m);
        assert.match(dropIn, /^Environment=PYTHONNOUSERSITE=1$/m);
        assert.doesNotMatch(dropIn, /Capabilit/);
        assert.equal(/^RequiresMountsFor=\/home\/jupyter\/notebooks$/m.test(dropIn), dataVolume);
        assert.equal(/^ExecStartPre=\/usr\/bin\/mountpoint --quiet \/home\/jupyter\/notebooks$/m.test(dropIn), dataVolume);
    }
});

test("systemd-analyze verify reads every key of the unit and its drop-in in its right section", (t) => {
    const analyze = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
    assert.equal(analyze.status, 0, "install Debian's systemd package (apt-get install systemd) for systemd-analyze");
    const dir = fs.mkdtempSync(path.join(tmp, "unit-"));
    const unit = path.join(dir, "jupyterlab.service");
    fs.writeFileSync(unit, renderSystemdUnit());
    fs.mkdirSync(`${unit}.d`);
    fs.writeFileSync(path.join(`${unit}.d`, "jupyterlab-droplet.conf"), renderUnitDropIn({ dataVolume: true }));
    const verify = spawnSync("systemd-analyze", ["verify", "--man=no", unit], { encoding: "utf8" });
    t.diagnostic(verify.stderr);
    assert.doesNotMatch(verify.stderr, /Unknown (key|section)|Failed to parse|Invalid/, verify.stderr);
});

test("certbot's renewal hook: the layout, domain and port set at its top, the functions it calls, and it passes shellcheck", () => {
    requireCommand("shellcheck", "install Debian's shellcheck package (apt-get install shellcheck)");
    const hook = renderRenewalHook({ domain: "nb.example.com", jupyterPort: 443 });
    assert.match(hook, /^#!\/usr\/bin\/env bash\n/);
    assert.match(hook, /^export JLD_DOMAIN=nb\.example\.com$/m);
    assert.match(hook, /^export JLD_PORT=443$/m);
    assert.match(hook, new RegExp(`^export JLD_ACME_CERT_FILE=${serverLayout.acmeCertFile}$`, "m"));
    assert.ok(hook.indexOf("switch_served_certificate() {") < hook.indexOf('switch_served_certificate "${JLD_PORT:?}"'));
    const file = path.join(tmp, "renewal-hook.sh");
    fs.writeFileSync(file, hook);
    const result = spawnSync("shellcheck", [file], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const payload = certificatePayload({ domain: "nb.example.com", jupyterPort: 443 });
    assert.equal(Buffer.from(payload.trim().split(" ")[1], "base64").toString(), hook);
});

test("serve_best_certificate serves the ACME pair while one is installed and valid, else the self-signed one", () => {
    requireCommand("openssl", "install Debian's openssl package (apt-get install openssl)");
    const dir = fs.mkdtempSync(path.join(tmp, "served-"));
    const pair = (name: string, subject: string) => {
        makeSelfSignedPair({
            keyFile: path.join(dir, `${name}.key`),
            certFile: path.join(dir, `${name}.crt`),
            commonName: subject,
            days: 2,
        });
    };
    pair("self-signed", "self-signed");
    const user = os.userInfo().username;
    const env = {
        ...process.env,
        JLD_USER: user,
        JLD_CERT_FILE: path.join(dir, "served.crt"),
        JLD_KEY_FILE: path.join(dir, "served.key"),
        JLD_SELF_SIGNED_CERT_FILE: path.join(dir, "self-signed.crt"),
        JLD_SELF_SIGNED_KEY_FILE: path.join(dir, "self-signed.key"),
        JLD_ACME_CERT_FILE: path.join(dir, "acme.crt"),
        JLD_ACME_KEY_FILE: path.join(dir, "acme.key"),
        JLD_ACME_NAME_FILE: path.join(dir, "acme.name"),
    };
    const serve = () => {
        const name = execFileSync("bash", ["-c", `${readRemoteLibrary("served-certificate")}\nserve_best_certificate`], { env })
            .toString()
            .trim();
        const served = fs.readFileSync(env.JLD_CERT_FILE, "utf8");
        const kind = served === fs.readFileSync(env.JLD_SELF_SIGNED_CERT_FILE, "utf8") ? "self-signed" : "acme";
        assert.equal(
            fs.readFileSync(env.JLD_KEY_FILE, "utf8"),
            fs.readFileSync(path.join(dir, `${kind}.key`), "utf8"),
            "the key goes with its certificate",
        );
        assert.equal(fs.statSync(env.JLD_KEY_FILE).mode & 0o777, 0o640, "root's, readable by JupyterLab's group");
        return { name, kind };
    };
    assert.deepEqual(serve(), { name: "127.0.0.1", kind: "self-signed" }, "no ACME pair yet");
    pair("acme", "nb.example.com");
    assert.deepEqual(serve(), { name: "127.0.0.1", kind: "self-signed" }, "a pair without its name is not served");
    fs.writeFileSync(env.JLD_ACME_NAME_FILE, "nb.example.com\n");
    assert.deepEqual(serve(), { name: "nb.example.com", kind: "acme" });
    fs.writeFileSync(env.JLD_ACME_CERT_FILE, "not a certificate\n");
    assert.deepEqual(serve(), { name: "127.0.0.1", kind: "self-signed" }, "a certificate openssl cannot read is not served");
    fs.rmSync(env.JLD_ACME_CERT_FILE);
    assert.deepEqual(serve(), { name: "127.0.0.1", kind: "self-signed" }, "after the domain is removed");
});
