// What the team command tells the admin: one progress line per person while the engine runs, and
// a table at the end. Pure functions of engine events, summaries and outputs.
import type { EngineEvent, OpMap, OutputMap } from "@pulumi/pulumi/automation";
import { formatHourlyUsd } from "../../config/pricing";
import { isPassphraseNotSetError, passphraseNotSetMessage } from "./passphrase";

/** What happened to a person's stack in this run, or (for `status`) how it stands. */
export type PersonState = "created" | "updated" | "unchanged" | "destroyed" | "deployed" | "paused" | "not deployed" | "failed";

export interface TableRow {
    stack: string;
    url?: string;
    state: PersonState;
    /** For a failed stack: the first error line. */
    error?: string;
    hourlyPriceUsd?: number;
}

/**
 * The state an `up` left a stack in, from its summary's resource changes: nothing but "same" is
 * unchanged; nothing kept from before ("same" absent) is created; anything else updated.
 */
export function stateFromChanges(changes: OpMap | undefined): "created" | "updated" | "unchanged" {
    const counts = Object.entries(changes ?? {}).filter(([, count]) => (count ?? 0) > 0);
    if (counts.every(([op]) => op === "same")) {
        return "unchanged";
    }
    return counts.some(([op]) => op === "same") ? "updated" : "created";
}

/** How a stack stands by its outputs alone (no program run, no API call). */
export type OutputState = "deployed" | "paused" | "not deployed";

/** The program's `state` output says "paused" for a stack kept with its volume but no droplet; no url, no server. */
export function stateFromOutputs(outputs: OutputMap): OutputState {
    return outputs.state?.value === "paused" ? "paused" : outputs.url === undefined ? "not deployed" : "deployed";
}

/** The resource's name in its URN (after the last "::"). */
function resourceName(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

/** The progress line an engine event moves a person to, or undefined for events that say nothing new. */
export function progressText(event: EngineEvent): string | undefined {
    const started = event.resourcePreEvent?.metadata;
    if (started !== undefined && started.op !== "same" && !started.type.startsWith("pulumi:")) {
        return `${started.op} ${resourceName(started.urn)} ...`;
    }
    const finished = event.resOutputsEvent?.metadata;
    if (finished !== undefined && finished.op !== "same" && !finished.type.startsWith("pulumi:")) {
        return `${finished.op} ${resourceName(finished.urn)} done`;
    }
    const failed = event.resOpFailedEvent?.metadata;
    if (failed !== undefined) {
        return `${failed.op} ${resourceName(failed.urn)} FAILED`;
    }
    const summary = event.summaryEvent;
    if (summary !== undefined) {
        return `finished in ${Math.round(summary.durationSeconds)} s`;
    }
    return undefined;
}

/** Error messages the engine repeats for every failed run, which say nothing about the cause. */
const genericErrors = [/^update failed$/, /^destroy failed$/, /^preview failed$/, /^one or more errors occurred/i];

/**
 * The Automation API's framing of a failed CLI command ("code: -2", " stdout: ", " err?: " with
 * nothing after them): never the cause.
 */
const commandFraming = /^\s*(?:code: -?\d+|stdout:|stderr:|err\?:)\s*$/;

/**
 * The first line that explains a failure: from the engine's error diagnostics in order (the
 * generic "update failed" last), else from the thrown error's text. The CLI's missing-passphrase
 * error, wherever it is, is the advice to set one.
 */
export function firstErrorLine(diagnostics: string[], thrown: string): string {
    if ([...diagnostics, thrown].some(isPassphraseNotSetError)) {
        return passphraseNotSetMessage;
    }
    // Without the wrapping a provider adds (its Go source line, its SDK's name, its version).
    const clean = (line: string) =>
        line
            .trim()
            .replace(/^std(?:out|err):\s*/, "")
            .replace(/^error:\s*/, "")
            .replace(/^[\w./-]+\.go:\d+:\s*/, "")
            .replace(/^sdk\.helper_schema:\s*/, "")
            .replace(/:\s*provider=\S+$/, "")
            .replace(/ \(request "[^"]*"\)/, "");
    const specific = (line: string) => line !== "" && !genericErrors.some((pattern) => pattern.test(line));
    const fromDiagnostics = diagnostics.map((d) => clean(d.trim().split("\n")[0]));
    const thrownLines = thrown.split("\n").filter((line) => line.trim() !== "" && !commandFraming.test(line));
    const fromThrown = thrownLines.filter((line) => /\berror:/.test(line)).map(clean);
    return (
        fromDiagnostics.find(specific) ??
        fromThrown.find(specific) ??
        fromDiagnostics[0] ??
        (thrownLines.length > 0 ? clean(thrownLines[0]) : "failed (no message)")
    );
}

/** A stack output as the hourly price, if it is one (older program versions have none). */
export function hourlyPrice(output: unknown): number | undefined {
    return typeof output === "number" && Number.isFinite(output) ? output : undefined;
}

/** Hourly rates are fractions of a cent: five decimals, as the program's cost note gives them. */
function formatPrice(usd: number | undefined): string {
    return usd === undefined ? "-" : formatHourlyUsd(usd);
}

/** States in which a stack holds something DigitalOcean bills for. */
const billedStates: PersonState[] = ["created", "updated", "unchanged", "deployed", "paused"];

function formatState(row: TableRow): string {
    return row.state === "failed" ? `failed: ${row.error ?? ""}` : row.state;
}

/** The final table: person, url, state, hourly price; a total when every billed stack's price is known. */
export function renderTable(rows: TableRow[]): string {
    const header = ["PERSON", "URL", "STATE", "PER HOUR"];
    const cells = rows.map((row) => [row.stack, row.url ?? "-", formatState(row), formatPrice(row.hourlyPriceUsd)]);
    const widths = header.map((title, column) => Math.max(title.length, ...cells.map((c) => c[column].length)));
    const line = (c: string[]) =>
        c
            .map((cell, column) => (column === c.length - 1 ? cell : cell.padEnd(widths[column])))
            .join("  ")
            .trimEnd();
    const lines = [line(header), ...cells.map(line)];
    const billed = rows.filter((row) => billedStates.includes(row.state));
    if (billed.length > 0 && billed.every((row) => row.hourlyPriceUsd !== undefined)) {
        const total = billed.reduce((sum, row) => sum + (row.hourlyPriceUsd ?? 0), 0);
        lines.push(`${billed.length} stack${billed.length === 1 ? "" : "s"}: ${formatPrice(total)} per hour in all`);
    }
    return lines.join("\n");
}
