// `npm run server -- <verb>`: everyday use of a stack's server, as thin wrappers over the `pulumi`
// CLI and the stack's own outputs and config (no state of its own). See command-line.ts.
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { PassphraseNotSet } from "../team/passphrase";
import { TeamWorkspace } from "../team/stacks";
import { parseServerCommandLine, ServerCommandLine, StackOutputs, statusText, UsageError } from "./command-line";
import { sweepExitCode, sweepLine } from "./idle";
import { projectDir, setPausedAndUp, stackArgs } from "./pulumi-cli";
import { withRootSsh } from "./ssh-access";
import { sweepStack } from "./sweep";

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
        pulumiOutput(["stack", "output", "--json", ...(secrets ? ["--show-secrets"] : []), ...stackArgs(line.stack)]),
    ) as StackOutputs;
}

function stackName(line: ServerCommandLine): string {
    return line.stack ?? pulumiOutput(["stack", "--show-name"]).trim();
}

/** JupyterLab's journal over SSH as root, trusting only the host key the setup read. */
async function logs(line: ServerCommandLine): Promise<number> {
    const out = outputs(line, true);
    if (out.state !== "running") {
        console.error(`${stackName(line)} is ${String(out.state ?? "not deployed")}: no server to read logs from`);
        return 1;
    }
    return withRootSsh(out, (ssh) => {
        const command = `journalctl --unit jupyterlab.service --no-pager --output short-iso --lines ${line.lines}`;
        return spawnSync("ssh", [...ssh.options, ssh.destination, command], { stdio: "inherit" }).status ?? 1;
    });
}

/** One line about the stack on stdout (a pause's progress on stderr); passphrase checked first, as the team's commands check it. */
async function sweep(line: ServerCommandLine): Promise<number> {
    const stack = stackName(line);
    await (await TeamWorkspace.open(projectDir)).requirePassphrase([stack]);
    const outcome = await sweepStack(stack, { dryRun: line.dryRun });
    console.log(sweepLine(stack, outcome));
    return sweepExitCode([outcome]);
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
            return setPausedAndUp(stackName(line), true);
        case "resume":
            return setPausedAndUp(stackName(line), false);
        case "connect":
            return (
                spawnSync("bash", [path.join(projectDir, "scripts", "connect.sh"), ...(line.stack === undefined ? [] : [line.stack])], {
                    cwd: projectDir,
                    stdio: "inherit",
                }).status ?? 1
            );
        case "logs":
            return logs(line);
        case "sweep":
            return sweep(line);
    }
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
        // A wrong command line, or a passphrase not given (nothing was touched): its message, exit 2.
        const told = e instanceof UsageError || e instanceof PassphraseNotSet;
        console.error(told ? e.message : `error: ${e.message}`);
        process.exit(told ? 2 : 1);
    },
);
