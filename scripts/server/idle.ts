// The sweep's judgement, pure: whether a server is idle, from Jupyter's own record of activity
// (its answers to GET /api/status, /api/kernels and /api/terminals) and the time; the one line the
// sweep says about each server; what a pause saves. Reading the answers is jupyter-activity.ts's,
// the sweep itself sweep.ts's.
import { formatHourlyUsd } from "../../config/pricing";
import { hourlyPrice } from "../team/report";

/** The three answers, parsed from JSON and not yet checked. */
export interface JupyterAnswers {
    status: unknown;
    kernels: unknown;
    terminals: unknown;
}

/** An answer jupyter_server 2.x would not give: the sweep then says so and pauses nothing. */
export class UnexpectedAnswer extends Error {
    constructor(message: string) {
        super(`unexpected answer from JupyterLab: ${message}`);
        this.name = "UnexpectedAnswer";
    }
}

/** Kernel states in which code runs or is about to: a server with such a kernel is never paused. */
const workingStates: readonly string[] = ["busy", "starting"];

export interface Verdict {
    /** busy: a kernel runs code; active: used within the limit; idle: unused for the limit or longer. */
    decision: "busy" | "active" | "idle";
    /** Since the last activity anywhere on the server (never below 0). */
    idleMs: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A timestamp as jupyter_server writes them (ISO 8601, UTC). */
function time(value: unknown, where: string): number {
    const parsed = typeof value === "string" ? Date.parse(value) : NaN;
    if (Number.isNaN(parsed)) {
        throw new UnexpectedAnswer(`${where} is ${JSON.stringify(value)}, not a time`);
    }
    return parsed;
}

/** Each entry of a list answer (kernels, terminals), checked to be an object. */
function entries(answer: unknown, path: string): Record<string, unknown>[] {
    if (!Array.isArray(answer)) {
        throw new UnexpectedAnswer(`${path} is not a list`);
    }
    return answer.map((entry: unknown, i) => {
        if (!isObject(entry)) {
            throw new UnexpectedAnswer(`${path}[${i}] is not an object`);
        }
        return entry;
    });
}

/**
 * Idle means no kernel busy or starting, and nothing for `limitMinutes`: the latest of the
 * server's last_activity (which counts API requests, kernel messages and terminal use) and every
 * kernel's and terminal's own, at least `limitMinutes` before `now`.
 */
export function judge(answers: JupyterAnswers, now: Date, limitMinutes: number): Verdict {
    if (!isObject(answers.status)) {
        throw new UnexpectedAnswer("/api/status is not an object");
    }
    const times = [time(answers.status.last_activity, "/api/status last_activity")];
    let working = 0;
    entries(answers.kernels, "/api/kernels").forEach((kernel, i) => {
        if (typeof kernel.execution_state !== "string") {
            throw new UnexpectedAnswer(`/api/kernels[${i}] has no execution_state`);
        }
        working += workingStates.includes(kernel.execution_state) ? 1 : 0;
        times.push(time(kernel.last_activity, `/api/kernels[${i}].last_activity`));
    });
    entries(answers.terminals, "/api/terminals").forEach((terminal, i) =>
        times.push(time(terminal.last_activity, `/api/terminals[${i}].last_activity`)),
    );
    // A clock a little ahead of the server's is no activity in the future.
    const idleMs = Math.max(0, now.getTime() - Math.max(...times));
    const decision = working > 0 ? "busy" : idleMs >= limitMinutes * 60_000 ? "idle" : "active";
    return { decision, idleMs };
}

/** How long a server has been idle, and its limit, in whole minutes (as the line says them). */
export interface IdleTime {
    minutes: number;
    limit: number;
}

export function idleTime(verdict: Verdict, limitMinutes: number): IdleTime {
    return { minutes: Math.floor(verdict.idleMs / 60_000), limit: limitMinutes };
}

/** What the sweep did with one stack, or why it did nothing. */
export type SweepOutcome =
    | { action: "paused already" | "not deployed" | "auto-pause off" }
    | { action: "could not read"; reason: string }
    | { action: "kept: busy kernel" | "kept: active" | "would pause"; idle: IdleTime }
    | { action: "paused"; idle: IdleTime; savedUsdPerHour?: number }
    | { action: "could not pause"; idle: IdleTime; reason: string };

/** The sweep's one line about a stack, e.g. `bob: idle 64 min (limit 60): paused, saving $0.01786/hour`. */
export function sweepLine(stack: string, outcome: SweepOutcome): string {
    switch (outcome.action) {
        case "paused already":
        case "not deployed":
        case "auto-pause off":
            return `${stack}: ${outcome.action}`;
        case "could not read":
            return `${stack}: could not read: ${outcome.reason}`;
    }
    const { minutes, limit } = outcome.idle;
    const idle = `${stack}: idle ${minutes} min (limit ${limit})`;
    switch (outcome.action) {
        case "kept: busy kernel":
            return `${idle}: kept: busy kernel`;
        case "kept: active":
            return `${idle}: kept: active ${minutes} min ago`;
        case "would pause":
            return `${idle}: would pause (dry run)`;
        case "paused":
            return `${idle}: paused${outcome.savedUsdPerHour === undefined ? "" : `, saving ${formatHourlyUsd(outcome.savedUsdPerHour)}/hour`}`;
        case "could not pause":
            return `${idle}: could not pause: ${outcome.reason}`;
    }
}

/** The sweep's exit code: 1 when any server's activity could not be read or its pause failed. */
export function sweepExitCode(outcomes: readonly SweepOutcome[]): number {
    return outcomes.some((o) => o.action === "could not read" || o.action === "could not pause") ? 1 : 0;
}

/**
 * What a pause saves per hour: the stack's hourlyPriceUsd output before minus after, to the
 * five decimals prices have; undefined when either is missing (a program older than the output).
 */
export function hourlySaving(before: unknown, after: unknown): number | undefined {
    const [was, is] = [hourlyPrice(before), hourlyPrice(after)];
    return was === undefined || is === undefined ? undefined : Math.round((was - is) * 100_000) / 100_000;
}
