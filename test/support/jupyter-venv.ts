// A Python venv with the real jupyter_server and JupyterLab from PyPI, at the version the
// program installs on droplets, cached outside the repo.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { defaults } from "../../config/config";
import { cacheDir } from "./cache";

export function requireCommand(command: string, install: string): void {
    try {
        execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    } catch {
        throw new Error(`${command} is not installed: ${install}`);
    }
}

export function ensureJupyterVenv(version: string = defaults.jupyterlabVersion): string {
    const venv = path.join(cacheDir(), `venv-jupyterlab-${version}`);
    const marker = path.join(venv, ".complete");
    if (!fs.existsSync(marker)) {
        requireCommand("python3", "install Python 3 with its venv module (Debian: apt-get install python3 python3-venv)");
        fs.rmSync(venv, { recursive: true, force: true });
        fs.mkdirSync(path.dirname(venv), { recursive: true });
        execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
        execFileSync(path.join(venv, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", `jupyterlab==${version}`], {
            stdio: "inherit",
        });
        fs.writeFileSync(marker, "");
    }
    return venv;
}
