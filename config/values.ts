// The kinds of value settings share: whole numbers in a range, true or false, lists (which arrive
// as JSON text), and the control characters no value may hold.
import { ConfigError } from "./problems";

/** What a parser knows besides the raw value: the key it reads, its default, where the project is. */
export interface ReadContext<T> {
    key: string;
    default: T | undefined;
    /** The directory paths in the config are relative to. */
    projectDir: string;
    /** Whether the value was set as a secret (`pulumi config set --secret`). */
    isSecret(): boolean;
}

/** Reads a set, non-empty value (unset is the setting's default), or throws a ConfigError. */
export type Parse<T> = (raw: string, context: ReadContext<T>) => T;

/** A whole number from `min` to `max`; `allowed` says the range as the user should read it. */
export function wholeNumber(min: number, max: number, allowed: string): Parse<number> {
    return (raw, { key }) => {
        if (!/^-?\d+$/.test(raw.trim())) {
            throw new ConfigError(key, JSON.stringify(raw), `must be a whole number: ${allowed}`);
        }
        const number = Number(raw);
        if (number < min || number > max) {
            throw new ConfigError(key, raw, allowed);
        }
        return number;
    };
}

export const trueOrFalse: Parse<boolean> = (raw, { key }) => {
    if (raw === "true" || raw === "false") {
        return raw === "true";
    }
    throw new ConfigError(key, JSON.stringify(raw), "must be true or false");
};

/** A list, as `pulumi config set --path 'key[0]' example` makes one. */
export function jsonList(key: string, raw: string, example: string): unknown[] {
    const allowed = `must be a list, set with \`pulumi config set --path '${key}[0]' ${example}\``;
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        throw new ConfigError(key, JSON.stringify(raw), allowed);
    }
    if (!Array.isArray(parsed)) {
        throw new ConfigError(key, raw, allowed);
    }
    return parsed;
}

/**
 * The first control character in a raw value or in any string a JSON value holds, as "U+000A",
 * or undefined. No setting has a use for one, and in a list entry a line break would turn one
 * requirement into two lines of requirements.txt, the second read by pip as an option.
 */
export function controlCharacterIn(value: string): string | undefined {
    const texts = [value];
    try {
        const walk = (v: unknown): void => {
            if (typeof v === "string") {
                texts.push(v);
            } else if (typeof v === "object" && v !== null) {
                Object.values(v).forEach(walk);
            }
        };
        walk(JSON.parse(value));
    } catch {
        // Not JSON: the raw text is all there is.
    }
    for (const text of texts) {
        const found = /[\u0000-\u001f\u007f-\u009f]/.exec(text);
        if (found !== null) {
            return `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
        }
    }
    return undefined;
}
