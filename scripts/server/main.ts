// `npm run server -- <verb>`: everyday use of a stack's server, as thin wrappers over the `pulumi`
// CLI and the stack's own outputs and config (no state of its own). See command-line.ts.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseServerCommandLine, ServerCommandLine, StackOutputs, statusText, UsageError } from "./command-line";

const projectDir = path.resolve(__dirname, "..", "..");

function stackArgs(line: ServerCommandLine): string[] {
    return line.stack === undefined ? [] : ["--stack", line.stack];
}

/** Runs `pulumi` with the terminal's own stdio (progress shown); resolves to its exit code. */
function pulumiShown(args: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", args, { cwd: projectDir, stdio: "inherit" });
        child.on("error", reject);
        child.on("exit", (code) => resolve(code ?? 1));
    });
}

/** Runs `pulumi` and returns its stdout; its error output goes to the terminal, and a failure ends this. */
function pulumiOutput(args: string[]): string {
    const result = spawnSync("pulumi", args, { cwd: projectDir, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (result.error !== undefined) {
        throw new Error(`pulumi could not run (${result.error.message}): install the Pulumi CLI (see the README's Quick start)`);
    }
    if (result.status !== 0) {
        process.exit(result.status ?? 1);
    }
    return result.stdout;
}

function outputs(line: ServerCommandLine, secrets = false): StackOutputs {
    return JSON.parse(
        pulumiOutput(["stack", "output", "--json", ...(secrets ? ["--show-secrets"] : []), ...stackArgs(line)]),
    ) as StackOutputs;
}

function stackName(line: ServerCommandLine): string {
    return line.stack ?? pulumiOutput(["stack", "--show-name"]).trim();
}

async function setPausedAndUp(line: ServerCommandLine, paused: boolean): Promise<number> {
    pulumiOutput(["config", "set", "paused", String(paused), ...stackArgs(line)]);
    console.log(`${stackName(line)}: paused=${paused}; running \`pulumi up\``);
    return pulumiShown(["up", "--yes", ...stackArgs(line)]);
}

/** JupyterLab's journal over SSH as root, trusting only the host key the setup read. */
function logs(line: ServerCommandLine): number {
    const out = outputs(line, true);
    if (out.state !== "running") {
        console.error(`${stackName(line)} is ${String(out.state ?? "not deployed")}: no server to read logs from`);
        return 1;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyterlab-logs-"));
    try {
        const knownHosts = path.join(dir, "known_hosts");
        fs.writeFileSync(knownHosts, `${String(out.knownHostsLine)}\n`, { mode: 0o600 });
        const alias = String(out.knownHostsLine).split(" ")[0];
        const identity: string[] = [];
        if (typeof out.sshPrivateKey === "string") {
            fs.writeFileSync(path.join(dir, "key"), `${out.sshPrivateKey.trim()}\n`, { mode: 0o600 });
            identity.push("-i", path.join(dir, "key"), "-o", "IdentitiesOnly=yes");
        }
        const result = spawnSync(
            "ssh",
            [
                "-o",
                `UserKnownHostsFile=${knownHosts}`,
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                `HostKeyAlias=${alias}`,
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=20",
                ...identity,
                `root@${String(out.ipAddress)}`,
                `journalctl --unit jupyterlab.service --no-pager --output short-iso --lines ${line.lines}`,
            ],
            { stdio: "inherit" },
        );
        return result.status ?? 1;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function main(argv: string[]): Promise<number> {
    const line = parseServerCommandLine(argv);
    switch (line.verb) {
        case "status":
            console.log(statusText(stackName(line), outputs(line)));
            return 0;
        case "open": {
            const url = outputs(line).url;
            if (url === undefined) {
                console.error(`${stackName(line)} has no url: it is paused or not deployed (npm run server -- status)`);
                return 1;
            }
            console.log(String(url));
            const opener = process.platform === "darwin" ? "open" : "xdg-open";
            if (!line.printOnly && process.stdout.isTTY && spawnSync("which", [opener]).status === 0) {
                spawn(opener, [String(url)], { detached: true, stdio: "ignore" }).unref();
            }
            return 0;
        }
        case "pause":
            return setPausedAndUp(line, true);
        case "resume":
            return setPausedAndUp(line, false);
        case "connect":
            return (
                spawnSync("bash", [path.join(projectDir, "scripts", "connect.sh"), ...(line.stack === undefined ? [] : [line.stack])], {
                    cwd: projectDir,
                    stdio: "inherit",
                }).status ?? 1
            );
        case "logs":
            return logs(line);
    }
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
        console.error(e instanceof UsageError ? e.message : `error: ${e.message}`);
        process.exit(e instanceof UsageError ? 2 : 1);
    },
);
