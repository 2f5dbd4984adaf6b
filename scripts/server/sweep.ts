// The sweep of one stack: when JupyterLab has been idle for the stack's autoPauseMinutes, pause it
// as `npm run server -- pause` does; else say why not. `npm run server -- sweep` runs it on one
// stack, `npm run team -- sweep` on every stack of a roster, several at once. It reads the stack's
// outputs and config with the `pulumi` CLI, the activity over SSH (jupyter-activity.ts), decides
// with idle.ts, and returns what it did for the caller to say on stdout; a pause's `pulumi up`
// shows on stderr.
import { formatProblems, namespace, readConfig } from "../../config/config";
import { StackOutputs } from "./command-line";
import { hourlySaving, idleTime, judge, SweepOutcome, Verdict } from "./idle";
import { readServerActivity } from "./jupyter-activity";
import { projectDir, pulumiRead, setPausedAndUp } from "./pulumi-cli";

export interface SweepOptions {
    /** Say what would be paused, and pause nothing. */
    dryRun: boolean;
}

async function stackOutputs(stack: string, secrets: boolean): Promise<StackOutputs> {
    return JSON.parse(
        await pulumiRead(["stack", "output", "--json", ...(secrets ? ["--show-secrets"] : []), "--stack", stack]),
    ) as StackOutputs;
}

/**
 * The stack's autoPauseMinutes, read as `pulumi up` reads the config (every key through the
 * program's own checks: a config `pulumi up` would refuse cannot be paused either), or why not.
 */
async function autoPauseMinutes(stack: string): Promise<number | string> {
    // Each key as {value, secret}; Pulumi.yaml's defaults included, a secret's value left out.
    const config = JSON.parse(await pulumiRead(["config", "--json", "--stack", stack])) as Record<
        string,
        { value?: string; secret?: boolean }
    >;
    const full = (key: string) => `${namespace}:${key}`;
    const reading = readConfig(
        {
            get: (key) => config[full(key)]?.value,
            isSecret: (key) => config[full(key)]?.secret === true,
            keys: () =>
                Object.keys(config)
                    .filter((key) => key.startsWith(`${namespace}:`))
                    .map((key) => key.slice(namespace.length + 1)),
        },
        projectDir,
    );
    return reading.ok ? reading.config.autoPauseMinutes : `the stack's config: ${formatProblems(reading.problems).replace(/\n/g, "; ")}`;
}

function reason(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

export async function sweepStack(stack: string, options: SweepOptions): Promise<SweepOutcome> {
    let before: StackOutputs;
    let limit: number | string;
    try {
        before = await stackOutputs(stack, true);
        if (before.state === "paused") {
            return { action: "paused already" };
        }
        if (before.state !== "running") {
            return { action: "not deployed" };
        }
        limit = await autoPauseMinutes(stack);
    } catch (e) {
        return { action: "could not read", reason: reason(e) };
    }
    if (typeof limit === "string") {
        return { action: "could not read", reason: limit };
    }
    if (limit === 0) {
        return { action: "auto-pause off" };
    }
    let verdict: Verdict;
    try {
        const reading = await readServerActivity(before);
        verdict = judge(reading.answers, reading.serverTime, limit);
    } catch (e) {
        return { action: "could not read", reason: reason(e) };
    }
    const idle = idleTime(verdict, limit);
    if (verdict.decision !== "idle") {
        return { action: verdict.decision === "busy" ? "kept: busy kernel" : "kept: active", idle };
    }
    if (options.dryRun) {
        return { action: "would pause", idle };
    }
    try {
        const code = await setPausedAndUp(stack, true, { label: `${stack}| ` });
        if (code !== 0) {
            return { action: "could not pause", idle, reason: `pulumi exited with ${code} (its output is on stderr)` };
        }
    } catch (e) {
        return { action: "could not pause", idle, reason: reason(e) };
    }
    const after: StackOutputs = await stackOutputs(stack, false).catch(() => ({}));
    return { action: "paused", idle, savedUsdPerHour: hourlySaving(before.hourlyPriceUsd, after.hourlyPriceUsd) };
}
