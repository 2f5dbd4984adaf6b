// Which of the project's stacks this roster made, and what `down --prune` may do with them (pure).
//
// `up` leaves a marker in each person's stack config, under a key of the tool's own namespace
// (the program reads only `jupyterlab-droplet:` keys): the stack's name and the roster's identity,
// this machine's name and the roster file's real path. `--prune` destroys only stacks off the
// roster whose marker is this roster's for that very stack; a stack made with `pulumi new` or
// `pulumi stack init`, another roster's, or one whose file was copied from a roster's stack is
// left alone. A roster file that moved, or a run on another machine, has another identity: it
// prunes nothing it made before, which is the safe side to fail on.
import { namespace } from "../../config/config";
import type { OutputState } from "./report";

/** The config key of the marker: its own namespace, so the program never sees it. */
export const markerKey = "jupyterlab-droplet-team:roster";

/** A roster's identity: the machine it runs on and its file's real path (symlinks resolved). */
export function rosterIdentity(hostName: string, realPath: string): string {
    return `${hostName}:${realPath}`;
}

/** The marker `up` leaves on a person's stack: which stack, made by which roster. */
export function stackMarker(identity: string, stack: string): string {
    return `${stack} in ${identity}`;
}

/**
 * The keys in a stack's file that `up` removes to make its config exactly the roster's: the
 * program's keys (`wanted`, without namespace) the roster no longer gives. The marker and any
 * other namespace's keys stay.
 */
export function staleConfigKeys(keysInFile: string[], wanted: string[]): string[] {
    const fullWanted = new Set(wanted.map((key) => `${namespace}:${key}`));
    return keysInFile.filter((key) => key.startsWith(`${namespace}:`) && !fullWanted.has(key));
}

/** A stack of the project that the roster does not list, with the marker in its config, if any. */
export interface UnlistedStack {
    stack: string;
    marker?: string;
}

export interface PrunePlan {
    /** Off the roster and made by it: what `down --prune` destroys and removes. */
    prune: string[];
    /** Off the roster and not made by it (no marker, or another's): never touched. */
    leftAlone: UnlistedStack[];
}

/** The project's stacks (`existing`, with their markers) that the roster does not list, split by who made them. */
export function planPrune(listed: string[], existing: UnlistedStack[], identity: string): PrunePlan {
    const onRoster = new Set(listed);
    const unlisted = existing.filter(({ stack }) => !onRoster.has(stack)).sort((a, b) => a.stack.localeCompare(b.stack));
    const made = (s: UnlistedStack) => s.marker === stackMarker(identity, s.stack);
    return { prune: unlisted.filter(made).map((s) => s.stack), leftAlone: unlisted.filter((s) => !made(s)) };
}

/** What `down --prune` does once it has the list: go on, ask on the terminal, or refuse. */
export type PruneDecision = "go" | "ask" | "refuse";

/** Nothing to prune, or `--yes`: go on; else ask if there is a terminal to ask on, and refuse if not. */
export function pruneDecision(toPrune: number, yes: boolean, terminal: boolean): PruneDecision {
    if (toPrune === 0 || yes) {
        return "go";
    }
    return terminal ? "ask" : "refuse";
}

/** An answer to the y/N question: only y or yes (any case) says yes; anything else, or nothing, no. */
export function confirmed(answer: string): boolean {
    return /^\s*y(es)?\s*$/i.test(answer);
}

/** `down --prune` stopped before destroying anything: refused without a terminal, or answered no. */
export class PruneNotConfirmed extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PruneNotConfirmed";
    }
}

/** How a stack to prune stands, as its outputs say; undefined when they could not be read. */
export function standing(state: OutputState | undefined): string {
    switch (state) {
        case "deployed":
            return "running";
        case "paused":
            return "paused (its volume kept)";
        case "not deployed":
            return "no server in its outputs";
        default:
            return "state unknown";
    }
}

function plural(count: number, word: string): string {
    return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** The left-alone stacks, each with why: `carol (no marker), bob (marked "bob in host:/old/team.yaml")`. */
function leftAloneList(stacks: UnlistedStack[]): string {
    return stacks
        .map(({ stack, marker }) => `${stack} (${marker === undefined ? "no marker" : `marked ${JSON.stringify(marker)}`})`)
        .join(", ");
}

const leftAloneTitle = "Stacks of this project not made by this roster: left alone";

/**
 * What `down --prune` shows before it destroys anything: the stacks it would prune, each with
 * how it stands (from its outputs), and those it leaves alone.
 */
export function renderPrunePlan(plan: PrunePlan, standing: ReadonlyMap<string, string>): string {
    const lines: string[] = [];
    if (plan.prune.length === 0) {
        lines.push("No stack off the roster was made by it: nothing to prune.");
    } else {
        const width = Math.max(...plan.prune.map((stack) => stack.length));
        lines.push(`Not on the roster and made by it, to destroy and remove (notebooks too, unless retainData): ${plan.prune.length}`);
        lines.push(...plan.prune.map((stack) => `  ${stack.padEnd(width)}  ${standing.get(stack) ?? "state unknown"}`));
    }
    if (plan.leftAlone.length > 0) {
        lines.push(`${leftAloneTitle}: ${leftAloneList(plan.leftAlone)}`);
    }
    return lines.join("\n");
}

/** The y/N question: the stacks off the roster, and the roster's own that go with them. */
export function prunePrompt(toPrune: number, rosterStacks: number): string {
    const also = rosterStacks === 0 ? "" : `, and the roster's ${plural(rosterStacks, "stack")}`;
    return `Destroy and remove the ${plural(toPrune, "stack")} above${also}? [y/N] `;
}

/** Why nothing was destroyed, and how to go on. */
export function notConfirmedMessage(decision: "refuse" | "declined", toPrune: number): string {
    const why = decision === "refuse" ? "no terminal to ask on, and no --yes" : "not confirmed";
    return (
        `Nothing was destroyed (${why}). To destroy the ${plural(toPrune, "stack")} listed: down --prune --yes; ` +
        "to destroy only the roster's: down without --prune."
    );
}

/** The note after every command: the stacks off the roster, which `--prune` would destroy and which it never touches. */
export function renderUnlistedNote(plan: PrunePlan, pruning: boolean): string | undefined {
    const lines: string[] = [];
    if (plan.prune.length > 0) {
        lines.push(
            `Stacks of this project not on the roster, made by it, left as they are (\`down --prune\` destroys them): ${plan.prune.join(", ")}`,
        );
    }
    if (plan.leftAlone.length > 0) {
        lines.push(`${leftAloneTitle}: ${leftAloneList(plan.leftAlone)}`);
    }
    if (lines.length === 0) {
        return pruning ? "Every stack of this project is on the roster now." : undefined;
    }
    return lines.join("\n");
}
