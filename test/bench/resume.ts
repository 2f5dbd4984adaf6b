// Measures what the data volume's cache buys: the setup's own steps (setupSteps, as RemoteSetup
// runs them, JupyterLab's and the kernel's installs side by side) on a new local droplet with a
// new volume, then on a second new droplet given the same volume, as a resume or a replacement
// gives it. Not a test (the engine suite proves resume and replacement through `pulumi up`): it
// times each step without the engine, and checks that the second droplet restored rather than
// installed, and kept the first one's SSH host key.
//   npm run bench:resume      -> test-results/resume-report.json
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaults } from "../../config/config";
import { renderCloudInit } from "../../droplet/cloud-init";
import { SetupRole, SetupStep, setupSteps } from "../../droplet/setup-steps";
import { makeSelfSignedPair } from "../support/certificate";
import { runBench, writeBenchReport } from "./report";
import { bootLocalDroplet, createVolumeDisk, ensureImage, LocalDroplet } from "../vm/local-droplet";

const volumeName = "jupyterlab-bench-notebooks";

/** Runs every step once its `after` steps are done, as the engine does; returns seconds per step and their outputs. */
async function runSteps(
    droplet: LocalDroplet,
    keyFile: string,
    steps: SetupStep<string>[],
): Promise<{ seconds: Record<string, number>; stdout: Record<string, string> }> {
    const seconds: Record<string, number> = {};
    const stdout: Record<string, string> = {};
    const done = new Map<SetupRole, Promise<void>>();
    const run = (step: SetupStep<string>): Promise<void> => {
        const existing = done.get(step.role);
        if (existing !== undefined) {
            return existing;
        }
        const started = (async () => {
            await Promise.all(step.after.map((role) => run(steps.find((s) => s.role === role)!)));
            const began = Date.now();
            const result = await droplet.ssh(keyFile, step.command, step.stdin);
            seconds[step.role] = (Date.now() - began) / 1000;
            stdout[step.role] = result.stdout.trim();
            console.log(`  ${step.role}: ${seconds[step.role].toFixed(1)} s`);
            if (result.code !== 0) {
                throw new Error(`${step.role} failed (${result.code}): ${result.stdout}\n${result.stderr}`);
            }
        })();
        done.set(step.role, started);
        return started;
    };
    await Promise.all(steps.map(run));
    return { seconds, stdout };
}

async function main(work: string): Promise<void> {
    const keyFile = path.join(work, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
    // The configure step checks JupyterLab answers at 127.0.0.1 with it, as the program's certificate allows.
    makeSelfSignedPair({
        keyFile: path.join(work, "tls.key"),
        certFile: path.join(work, "tls.crt"),
        commonName: "bench",
        ipAddress: "127.0.0.1",
    });
    const volume = { name: volumeName, path: path.join(work, "volume.raw") };
    await createVolumeDisk({ path: volume.path, sizeGb: 2, filesystemType: "ext4" });
    const steps = setupSteps(
        {
            jupyterlabVersion: defaults.jupyterlabVersion,
            jupyterPort: 9000,
            idleKernelMinutes: 60,
            maxLoginFailures: 5,
            banMinutes: 60,
            pythonPackages: [],
            dataVolume: { name: volumeName, sizeGb: 2 },
            acmeServer: defaults.acmeServer,
        },
        (render) =>
            render({
                // Any argon2 hash will do: nobody logs in here.
                hashedPassword: "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                certPem: fs.readFileSync(path.join(work, "tls.crt"), "utf8"),
                keyPem: fs.readFileSync(path.join(work, "tls.key"), "utf8"),
            }),
    );
    const report: Record<string, unknown> = { machine: `${os.cpus().length} host cores, qemu TCG, 2 vCPU, 2 GB` };
    {
        const imageDir = await ensureImage();
        for (const round of ["first droplet, new volume", "second droplet, the same volume"]) {
            console.log(round);
            const started = Date.now();
            const droplet = await bootLocalDroplet({
                name: `jupyterlab-bench-${round.startsWith("first") ? 1 : 2}`,
                userData: renderCloudInit({ dataVolumeName: volumeName }),
                authorizedKeys: [fs.readFileSync(`${keyFile}.pub`, "utf8")],
                ipv4: "127.0.0.44",
                forwardPorts: [22],
                volumes: [volume],
                workDir: path.join(work, round.startsWith("first") ? "one" : "two"),
                imageDir,
                // The second as Ubuntu 24.04 starts ssh (socket-activated), as a replacement by an
                // image change may: the restored host keys must reach its sshd too.
                sshActivation: round.startsWith("first") ? "service" : "socket",
            });
            await droplet.waitForSsh(keyFile, 900_000);
            const booted = (Date.now() - started) / 1000;
            const result = await runSteps(droplet, keyFile, steps);
            report[round] = {
                bootToSsh: booted,
                setup: (Date.now() - started) / 1000 - booted,
                total: (Date.now() - started) / 1000,
                perStep: result.seconds,
                hostKey: result.stdout["host-key"],
                jupyterlab: result.stdout.jupyterlab,
                kernel: result.stdout.kernel,
                hostKeys: result.stdout["host-keys"],
            };
            await droplet.shutdown();
            await droplet.stop();
        }
        const [first, second] = [report["first droplet, new volume"], report["second droplet, the same volume"]] as {
            hostKey: string;
            jupyterlab: string;
            kernel: string;
            total: number;
        }[];
        report.checks = {
            sameHostKey: first.hostKey === second.hostKey,
            jupyterlabRestored: /restored from the volume/.test(second.jupyterlab),
            kernelRestored: /restored from the volume/.test(second.kernel),
            secondOverFirst: Math.round((second.total / first.total) * 100) / 100,
        };
        writeBenchReport("resume", report);
    }
}

runBench(fs.mkdtempSync(path.join(os.tmpdir(), "jld-bench-resume-")), main);
