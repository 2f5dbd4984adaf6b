// `npm run server -- <verb> [--stack STACK] [flags]`: the verbs and flags, parsed and checked (pure).
import { parseArgs } from "util";

export const usage = `Usage: npm run server -- <verb> [--stack STACK]
  status              the server's state, url and what it costs now (from the stack's outputs)
  open [--print]      open the url in the browser (--print: only print it)
  pause               set paused=true and run \`pulumi up\`: the droplet goes, the notebooks stay
  resume              set paused=false and run \`pulumi up\`: a new droplet, the same notebooks
  connect             set up \`ssh jupyterlab-<stack>\` and VS Code (scripts/connect.sh)
  logs [--lines N]    JupyterLab's last N log lines (default 100), over SSH
  sweep [--dry-run]   pause the server if JupyterLab has been idle for autoPauseMinutes
                      (--dry-run: only say whether it would); one line on stdout
Without --stack: the current stack (\`pulumi stack select\`).`;

export const verbs = ["status", "open", "pause", "resume", "connect", "logs", "sweep"] as const;
export type Verb = (typeof verbs)[number];

export interface ServerCommandLine {
    verb: Verb;
    stack?: string;
    lines: number;
    printOnly: boolean;
    /** sweep: say what it would pause, and pause nothing. */
    dryRun: boolean;
}

export class UsageError extends Error {
    constructor(message: string) {
        super(`${message}\n\n${usage}`);
        this.name = "UsageError";
    }
}

export function parseServerCommandLine(argv: string[]): ServerCommandLine {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            options: {
                stack: { type: "string", short: "s" },
                lines: { type: "string", short: "n" },
                print: { type: "boolean" },
                "dry-run": { type: "boolean" },
            },
        });
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
    const [verb, ...rest] = parsed.positionals;
    if (verb === undefined || !(verbs as readonly string[]).includes(verb)) {
        throw new UsageError(
            verb === undefined ? "no verb given" : `unknown verb ${JSON.stringify(verb)}: the verbs are ${verbs.join(", ")}`,
        );
    }
    if (rest.length > 0) {
        throw new UsageError(`unexpected ${JSON.stringify(rest.join(" "))} after ${verb}`);
    }
    if (parsed.values.lines !== undefined && verb !== "logs") {
        throw new UsageError("--lines goes with logs");
    }
    if (parsed.values.print === true && verb !== "open") {
        throw new UsageError("--print goes with open");
    }
    if (parsed.values["dry-run"] === true && verb !== "sweep") {
        throw new UsageError("--dry-run goes with sweep");
    }
    const lines = Number(parsed.values.lines ?? "100");
    if (!Number.isInteger(lines) || lines < 1 || lines > 100_000) {
        throw new UsageError(`--lines ${JSON.stringify(parsed.values.lines)}: must be a whole number from 1 to 100000`);
    }
    return {
        verb: verb as Verb,
        stack: parsed.values.stack,
        lines,
        printOnly: parsed.values.print === true,
        dryRun: parsed.values["dry-run"] === true,
    };
}

/** A stack's outputs as `pulumi stack output --json` gives them (the ones used here are plain values). */
export type StackOutputs = Record<string, string | number | boolean | undefined>;

/** What `status` prints, from the stack's outputs. */
export function statusText(stack: string, outputs: StackOutputs): string {
    if (outputs.state === undefined) {
        return `${stack}: no server yet (the stack has no outputs): run \`pulumi up\``;
    }
    const lines = [`${stack}: ${String(outputs.state)}`];
    if (outputs.url !== undefined) {
        lines.push(`  url:  ${String(outputs.url)}`);
    }
    if (outputs.costNote !== undefined) {
        lines.push(`  cost: ${String(outputs.costNote)}`);
    }
    if (outputs.state === "paused") {
        lines.push("  resume: npm run server -- resume" + (stack === "" ? "" : ` --stack ${stack}`));
    }
    return lines.join("\n");
}
