// Measures installing JupyterLab on a local droplet with pip and with uv, both from PyPI, on a
// machine prepared by the program's own user-data. Not a test: it decides which installer the
// setup uses (droplet/steps/install-jupyterlab.sh uses the faster, uv).
//   npm run bench:installers      -> test-results/installers-report.json
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderCloudInit } from "../../droplet/cloud-init";
import { defaults } from "../../config/config";
import { inlineCommand } from "../../droplet/step-scripts";
import { runBench, writeBenchReport } from "./report";
import { bootLocalDroplet, ensureImage } from "../vm/local-droplet";

async function main(work: string): Promise<void> {
    const keyFile = path.join(work, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
    const version = process.argv[2] ?? defaults.jupyterlabVersion;
    const rounds = Number(process.argv[3] ?? "1");
    {
        const droplet = await bootLocalDroplet({
            name: "jupyterlab-bench",
            userData: renderCloudInit(),
            authorizedKeys: [fs.readFileSync(`${keyFile}.pub`, "utf8")],
            ipv4: "127.0.0.43",
            forwardPorts: [22],
            workDir: work,
            imageDir: await ensureImage(),
        });
        await droplet.waitForSsh(keyFile, 900_000);
        const ready = await droplet.ssh(keyFile, inlineCommand("wait-for-cloud-init"));
        if (ready.code !== 0) {
            throw new Error(`cloud-init failed: ${ready.stderr}`);
        }
        const timeOf = async (label: string, script: string): Promise<number> => {
            const started = Date.now();
            const result = await droplet.ssh(keyFile, script);
            if (result.code !== 0) {
                throw new Error(`${label} failed: ${result.stderr}`);
            }
            const seconds = Math.round((Date.now() - started) / 100) / 10;
            console.log(`${label}: ${seconds} s`);
            return seconds;
        };
        const results: { pip: number[]; uv: number[] } = { pip: [], uv: [] };
        for (let round = 0; round < rounds; round++) {
            // Each from an empty environment and without caches, as on a new droplet.
            results.pip.push(
                await timeOf(
                    `pip, round ${round + 1}`,
                    "set -e; rm -rf /tmp/b; python3 -m venv /tmp/b; " +
                        `/tmp/b/bin/pip install -q --disable-pip-version-check --no-cache-dir jupyterlab==${version}; /tmp/b/bin/jupyter-lab --version; rm -rf /tmp/b`,
                ),
            );
            results.uv.push(
                await timeOf(
                    `uv, round ${round + 1}`,
                    "set -e; rm -rf /tmp/b; python3 -m venv /tmp/b; " +
                        "/tmp/b/bin/pip install -q --disable-pip-version-check --no-cache-dir uv; " +
                        `/tmp/b/bin/uv pip install -q --no-cache --compile-bytecode --python /tmp/b/bin/python jupyterlab==${version}; ` +
                        "/tmp/b/bin/jupyter-lab --version; rm -rf /tmp/b",
                ),
            );
        }
        const report = { jupyterlab: version, secondsPerRound: results, machine: `${os.cpus().length} host cores, qemu TCG, 2 vCPU, 2 GB` };
        writeBenchReport("installers", report);
    }
}

runBench(fs.mkdtempSync(path.join(os.tmpdir(), "jld-bench-")), main);
