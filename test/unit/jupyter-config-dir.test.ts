// JupyterLab with its config dir read-only, as on the droplet (root's, and /etc read-only under
// the unit's ProtectSystem=full), after a kernel has made ~/.ipython: the real JupyterLab from PyPI.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { serverLayout } from "../../droplet/server-layout";
import { freePort } from "../support/free-port";
import { JupyterClient } from "../support/jupyter-client";
import { ensureJupyterVenv, requireCommand } from "../support/jupyter-venv";
import { testServerConfig } from "../support/jupyter-server";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jld-config-dir-"));

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const password = "a long test password";

/**
 * Starts JupyterLab on a read-only bind mount of its config dir, its home at `<tmp>/<name>` (the
 * rendered config's paths under /home/jupyter moved there), and runs `whileUp` once it answers;
 * resolves to whether it answered, and its log.
 */
async function startReadOnly(
    name: string,
    withMarker: boolean,
    whileUp?: (client: JupyterClient, home: string) => Promise<void>,
): Promise<{ answered: boolean; log: string }> {
    const dir = path.join(tmp, name);
    const configDir = path.join(dir, "config");
    fs.mkdirSync(path.join(dir, ".ipython"), { recursive: true }); // what a kernel's first run leaves
    fs.mkdirSync(path.join(dir, "notebooks"));
    fs.mkdirSync(configDir);
    const port = await freePort();
    const config = await testServerConfig(dir, password, port);
    for (const [key, value] of Object.entries(config.LabApp as Record<string, string>)) {
        config.LabApp[key] = value.replace(serverLayout.home, dir);
    }
    fs.writeFileSync(path.join(configDir, "jupyter_server_config.json"), JSON.stringify(config));
    if (withMarker) {
        // What the configure step (droplet/steps/configure-jupyter.sh) installs beside the config.
        fs.writeFileSync(path.join(configDir, "migrated"), "");
    }
    const script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && exec "$2"';
    const server = spawn(
        "unshare",
        ["--mount", "--propagation", "private", "sh", "-c", script, "-", configDir, path.join(ensureJupyterVenv(), "bin", "jupyter-lab")],
        {
            env: {
                ...process.env,
                JUPYTER_CONFIG_DIR: configDir,
                JUPYTER_DATA_DIR: path.join(dir, "data"),
                JUPYTER_RUNTIME_DIR: path.join(dir, "runtime"),
                HOME: dir,
                IPYTHONDIR: path.join(dir, ".ipython"),
            },
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    let log = "";
    server.stdout.on("data", (d: Buffer) => (log += d.toString()));
    server.stderr.on("data", (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((resolve) => server.on("exit", () => resolve()));
    try {
        const client = new JupyterClient(`https://127.0.0.1:${port}`, fs.readFileSync(path.join(dir, "tls.crt"), "utf8"));
        const ready = client.waitUntilReady(60_000);
        const answered = await Promise.race([
            ready.then(
                () => true,
                () => false,
            ),
            exited.then(() => false),
        ]);
        if (answered && whileUp !== undefined) {
            await whileUp(client, dir);
        }
        return { answered, log };
    } finally {
        server.kill("SIGTERM");
        await exited;
    }
}

test("JupyterLab starts with its config dir read-only once ~/.ipython exists, with the configure step's migration marker, and saves settings in the home; without the marker, it fails", async () => {
    requireCommand("openssl", "install Debian's openssl package");
    requireCommand("unshare", "install Debian's util-linux package");
    assert.equal(process.getuid?.(), 0, "a read-only bind mount needs root: run the unit tests as root, as CI does");
    const withMarker = await startReadOnly("with-marker", true, async (client, home) => {
        // A setting changed in the browser (here the theme) is saved in the user's home, not in the read-only config dir.
        assert.equal((await client.login(password)).status, 302);
        const saved = await client.api("PUT", "/lab/api/settings/@jupyterlab/apputils-extension:themes", {
            raw: '{ "theme": "JupyterLab Dark" }',
        });
        assert.equal(saved.status, 204, saved.body);
        const file = path.join(
            serverLayout.userSettingsDir.replace(serverLayout.home, home),
            "@jupyterlab",
            "apputils-extension",
            "themes.jupyterlab-settings",
        );
        assert.match(fs.readFileSync(file, "utf8"), /JupyterLab Dark/);
    });
    assert.ok(withMarker.answered, `JupyterLab did not answer:\n${withMarker.log}`);
    const without = await startReadOnly("without-marker", false);
    assert.equal(without.answered, false, "without the marker JupyterLab tries to write it, and cannot");
    assert.match(without.log, /Read-only file system: '[^']*\/migrated'/);
});
