/**
 * Small helpers for every part of the DigitalOcean stand-in: timestamps as DigitalOcean writes
 * them, sleeping, an error's text, and the words for what the stand-in does not do.
 */

/** Ends a 422's message for a request DigitalOcean would take but the stand-in cannot carry out. */
export const NOT_LOCAL = "is not supported by the local stand-in";

export function nowIso(): string {
    return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

export function errorText(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}
