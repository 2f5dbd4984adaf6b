// `npm run team -- up|status|down|sweep team.yaml [flags]`: the flags, parsed and checked (pure).
import { parseArgs } from "util";

export const usage = `Usage: npm run team -- <command> <roster.yaml> [flags]
  up      --out DIR [--concurrency N] [--only STACK]
          bring each person's stack to the roster (N at a time, default 4); each person's url,
          password and SSH key go to DIR/<stack>.txt (DIR is made mode 0700, files 0600)
  status  [--only STACK]
          the table from the stacks' outputs; changes nothing
  down    [--concurrency N] [--only STACK] [--prune [--yes]]
          destroy the roster's stacks; --prune also the stacks this roster made (with \`up\`)
          that it no longer lists, after a y/N question on the terminal, or at once with --yes
          (-y); with neither a terminal nor --yes it destroys nothing. Stacks it did not make
          are never touched
  sweep   [--dry-run] [--concurrency N] [--only STACK]
          pause each person's server that JupyterLab says has been idle for their
          autoPauseMinutes, as \`npm run server -- sweep\` does (--dry-run: only say which);
          one line per person on stdout`;

export const commands = ["up", "status", "down", "sweep"] as const;
export type Command = (typeof commands)[number];

export interface CommandLine {
    command: Command;
    rosterFile: string;
    concurrency: number;
    outDir?: string;
    only?: string;
    prune: boolean;
    /** With --prune: destroy what it lists without asking. */
    yes: boolean;
    /** sweep: say what it would pause, and pause nothing. */
    dryRun: boolean;
}

export class UsageError extends Error {
    constructor(message: string) {
        super(`${message}\n\n${usage}`);
        this.name = "UsageError";
    }
}

export const defaultConcurrency = 4;

export function parseCommandLine(argv: string[]): CommandLine {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            options: {
                concurrency: { type: "string" },
                out: { type: "string" },
                only: { type: "string" },
                prune: { type: "boolean", default: false },
                yes: { type: "boolean", short: "y", default: false },
                "dry-run": { type: "boolean", default: false },
            },
        });
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
    const { positionals, values } = parsed;
    const [command, rosterFile, ...extra] = positionals;
    if (!(commands as readonly (string | undefined)[]).includes(command)) {
        throw new UsageError(`unknown command ${JSON.stringify(command ?? "")}: up, status, down or sweep`);
    }
    if (rosterFile === undefined || extra.length > 0) {
        throw new UsageError(`${command} takes one roster file${extra.length > 0 ? `, not also ${extra.join(" ")}` : ""}`);
    }
    const concurrency = Number(values.concurrency ?? defaultConcurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new UsageError(`--concurrency ${values.concurrency}: must be a whole number, 1 or more`);
    }
    if (command === "up" && values.out === undefined) {
        throw new UsageError("up needs --out DIR: where each person's url, password and SSH key are written");
    }
    if (values.out !== undefined && command !== "up") {
        throw new UsageError("--out goes with up only");
    }
    if (values.prune && command !== "down") {
        throw new UsageError("--prune goes with down only");
    }
    if (values.prune && values.only !== undefined) {
        throw new UsageError("--prune and --only: give one or the other");
    }
    if (values.yes && !values.prune) {
        throw new UsageError("--yes goes with down --prune only (it answers the question --prune asks)");
    }
    if (values["dry-run"] && command !== "sweep") {
        throw new UsageError("--dry-run goes with sweep only");
    }
    return {
        command: command as Command,
        rosterFile,
        concurrency,
        outDir: values.out,
        only: values.only,
        prune: values.prune,
        yes: values.yes,
        dryRun: values["dry-run"],
    };
}
