// Reads and checks the stack's config once, before any resource is registered, through the table
// of settings. Pure: it sees config only through a ConfigSource, so tests need no Pulumi at all.
import { describeSecret } from "./password";
import { ConfigError, ConfigProblem } from "./problems";
import { configKeys, crossKeyRules, DropletConfig, Setting, settingList } from "./settings";
import { unknownKeyProblem } from "./typos";
import { controlCharacterIn } from "./values";

/** Where raw config values come from: the stack's config in index.ts, a plain map in tests. */
export interface ConfigSource {
    /** The raw string value of `key` (structured values arrive as JSON text), or undefined. */
    get(key: string): string | undefined;
    /** Whether `key` was set as a secret (`pulumi config set --secret`). */
    isSecret(key: string): boolean;
    /** Every key set in the namespace, when the source can tell: an unknown one is a mistyped one. */
    keys?(): string[];
}

/** The config, or every problem with it (formatProblems says them to a person). */
export type ConfigReading = { ok: true; config: DropletConfig } | { ok: false; problems: ConfigProblem[] };

/** Checks every key, collecting all problems so the user fixes them in one round. */
export function readConfig(source: ConfigSource, projectDir: string): ConfigReading {
    const problems: ConfigProblem[] = [];
    const values: Record<string, unknown> = {};
    for (const { name, key, setting } of settingList) {
        try {
            values[name] = readSetting(key, setting, source, projectDir);
        } catch (e) {
            if (!(e instanceof ConfigError)) {
                throw e;
            }
            problems.push(e.problem);
            values[name] = structuredClone(setting.default);
        }
    }
    const config = values as DropletConfig;
    for (const key of source.keys?.() ?? []) {
        if (!configKeys.includes(key)) {
            problems.push(unknownKeyProblem(key, source.isSecret(key) ? "(a secret value)" : JSON.stringify(source.get(key) ?? "")));
        }
    }
    for (const rule of crossKeyRules) {
        const problem = rule(config);
        if (problem !== undefined) {
            problems.push(problem);
        }
    }
    return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** One key's value: its default when unset or empty, else what its parser makes of it. */
function readSetting(key: string, setting: Setting<unknown>, source: ConfigSource, projectDir: string): unknown {
    const raw = source.get(key);
    if (raw === undefined || raw === "") {
        // A copy: the table's own lists are never handed out.
        return structuredClone(setting.default);
    }
    // A private key pasted where the public one goes has line breaks too: its own check says what it is.
    const control = /PRIVATE KEY/.test(raw) ? undefined : controlCharacterIn(raw);
    if (control !== undefined) {
        throw new ConfigError(
            key,
            setting.secret ? describeSecret(raw) : JSON.stringify(raw),
            `must not contain control characters (line breaks, tabs, escapes), and it holds ${control}`,
        );
    }
    return setting.parse(raw, { key, default: setting.default, projectDir, isSecret: () => source.isSecret(key) });
}
