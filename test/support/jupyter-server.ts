// The real JupyterLab from the test venv, serving HTTPS with the program's rendered config and
// argon2 hash: only the server's paths move into the test's directory, every other setting is as
// rendered.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { defaults } from "../../config/config";
import { renderJupyterConfig } from "../../droplet/jupyter-config";
import { hashJupyterPassword } from "../../droplet/password-hash";
import { makeSelfSignedPair } from "./certificate";
import { freePort } from "./free-port";
import { JupyterClient } from "./jupyter-client";
import { ensureJupyterVenv, requireCommand } from "./jupyter-venv";

export interface RunningJupyter {
    /** https://127.0.0.1:<port> */
    baseUrl: string;
    port: number;
    /** The self-signed certificate it serves. */
    certPem: string;
    /** What it has logged so far. */
    log(): string;
    stop(): Promise<void>;
}

/**
 * The program's rendered config for a test server on 127.0.0.1:`port`, with its paths in `dir`: a
 * certificate for 127.0.0.1 made the way the recipe made it (dir/tls.crt, dir/tls.key), and the
 * notebooks in dir/notebooks (the caller makes it).
 */
export async function testServerConfig(dir: string, password: string, port: number): Promise<Record<string, Record<string, unknown>>> {
    const certFile = path.join(dir, "tls.crt");
    const keyFile = path.join(dir, "tls.key");
    makeSelfSignedPair({ keyFile, certFile, commonName: "jupyterlab-test", ipAddress: "127.0.0.1" });
    const config = JSON.parse(
        renderJupyterConfig({
            hashedPassword: await hashJupyterPassword(password, Buffer.from("0123456789abcdef")),
            port,
            idleKernelMinutes: defaults.idleKernelMinutes,
        }),
    ) as Record<string, Record<string, unknown>>;
    // Tests run as root here and in CI; on the droplet the server runs as the jupyter user.
    Object.assign(config.ServerApp, {
        ip: "127.0.0.1",
        certfile: certFile,
        keyfile: keyFile,
        root_dir: path.join(dir, "notebooks"),
        allow_root: process.getuid?.() === 0,
    });
    return config;
}

/**
 * Starts JupyterLab on 127.0.0.1 with files under `dir`, serving a certificate for 127.0.0.1 made
 * the way the recipe made it, and resolves once it answers.
 */
export async function startJupyter(dir: string, password: string): Promise<RunningJupyter> {
    requireCommand("openssl", "install Debian's openssl package");
    const venv = ensureJupyterVenv();
    const certFile = path.join(dir, "tls.crt");
    const port = await freePort();
    fs.mkdirSync(path.join(dir, "notebooks"));
    const config = await testServerConfig(dir, password, port);
    const configDir = path.join(dir, "config");
    fs.mkdirSync(configDir);
    fs.writeFileSync(path.join(configDir, "jupyter_server_config.json"), JSON.stringify(config));
    const server: ChildProcess = spawn(path.join(venv, "bin", "jupyter-lab"), [], {
        env: {
            ...process.env,
            JUPYTER_CONFIG_DIR: configDir,
            JUPYTER_DATA_DIR: path.join(dir, "data"),
            JUPYTER_RUNTIME_DIR: path.join(dir, "runtime"),
            HOME: dir,
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    server.stdout?.on("data", (d: Buffer) => (log += d.toString()));
    server.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((resolve) => server.on("exit", () => resolve()));
    const baseUrl = `https://127.0.0.1:${port}`;
    const certPem = fs.readFileSync(certFile, "utf8");
    const stop = async () => {
        server.kill("SIGTERM");
        await exited;
    };
    try {
        await new JupyterClient(baseUrl, certPem).waitUntilReady(60_000);
    } catch (e) {
        await stop();
        throw new Error(`${(e as Error).message}\n--- JupyterLab log ---\n${log}`);
    }
    return { baseUrl, port, certPem, log: () => log, stop };
}
