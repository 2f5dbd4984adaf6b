// The `pulumi` CLI as the verbs and the sweep run it: in the project's directory, on one stack (or
// the current one). Asynchronous, so that `npm run team -- sweep` can sweep several stacks at once.
import { spawn } from "child_process";
import * as path from "path";
import { createInterface } from "readline";

export const projectDir = path.resolve(__dirname, "..", "..");

export function stackArgs(stack: string | undefined): string[] {
    return stack === undefined ? [] : ["--stack", stack];
}

function notInstalled(e: Error): Error {
    return new Error(`pulumi could not run (${e.message}): install the Pulumi CLI (see the README's Quick start)`);
}

/**
 * Runs `pulumi` with its output shown. With `report` it is shown on stderr, each line after the
 * report's label, and stdin is closed: stdout stays the sweep's report (a cron mail of one line a
 * server), and nothing can wait for an answer. Without it, the terminal's own stdio.
 */
export function pulumiShown(args: string[], report?: { label: string }): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", args, { cwd: projectDir, stdio: report === undefined ? "inherit" : ["ignore", "pipe", "pipe"] });
        if (report !== undefined) {
            for (const stream of [child.stdout, child.stderr]) {
                createInterface({ input: stream! }).on("line", (line) => process.stderr.write(`${report.label}${line}\n`));
            }
        }
        child.on("error", (e) => reject(notInstalled(e)));
        child.on("close", (code) => resolve(code ?? 1));
    });
}

/** Runs `pulumi` and resolves to its stdout; a failure rejects with what it said last on stderr. */
export function pulumiRead(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", args, { cwd: projectDir, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", (e) => reject(notInstalled(e)));
        child.on("close", (code) => {
            const said = stderr.trim().split("\n").pop() ?? "";
            return code === 0 ? resolve(stdout) : reject(new Error(`pulumi ${args.slice(0, 2).join(" ")} failed (exit ${code}): ${said}`));
        });
    });
}

/**
 * What `pause` and `resume` do: set `paused` and run `pulumi up --yes`. The sweep passes `report`:
 * then what it says, and the up's progress, go to stderr.
 */
export async function setPausedAndUp(stack: string, paused: boolean, report?: { label: string }): Promise<number> {
    const set = await pulumiShown(["config", "set", "paused", String(paused), "--stack", stack], report);
    if (set !== 0) {
        return set;
    }
    const notice = `paused=${paused}; running \`pulumi up\``;
    if (report === undefined) {
        console.log(`${stack}: ${notice}`);
    } else {
        console.error(`${report.label}${notice}`);
    }
    return pulumiShown(["up", "--yes", "--stack", stack], report);
}
