// The team roster: who gets a server, with which config. Parsing and validation are pure (the
// caller reads the files), and every value is checked by the program's own readConfig, so a
// roster accepts exactly what `pulumi up` on a stack would.
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { namespace, readConfig } from "../../components/config";
import { resourceBaseName } from "../../components/naming";

/** A config value as YAML gives it: scalars, or a list of scalars (allowedCidrs, pythonPackages). */
export type RosterValue = string | number | boolean | (string | number | boolean)[];

/** Where a person's password comes from when the program should not generate one. */
export type PasswordSource = { kind: "env"; variable: string } | { kind: "file"; path: string };

export interface Person {
    stack: string;
    /** The person's own config keys (over the roster's defaults). */
    config: Record<string, RosterValue>;
    password?: PasswordSource;
}

export interface Roster {
    defaults: Record<string, RosterValue>;
    people: Person[];
}

export class RosterError extends Error {
    constructor(readonly problems: string[]) {
        super(`The roster has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was run:\n` +
            problems.map((p) => `  ${p}`).join("\n"));
        this.name = "RosterError";
    }
}

export interface RosterContext {
    /** The config keys Pulumi.yaml declares (the password key is separate: never in a roster). */
    declaredKeys: string[];
    /** The project directory, which readConfig resolves requirementsFile against. */
    projectDir: string;
}

const personFields = ["stack", "config", "passwordFromEnv", "passwordFile"];
const stackNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Parses and validates a roster's YAML text, naming every problem (stack, key, value) at once. */
export function parseRoster(text: string, context: RosterContext): Roster {
    let document: unknown;
    try {
        document = parseYaml(text);
    } catch (e) {
        throw new RosterError([`not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
    }
    const problems: string[] = [];
    if (!isMap(document)) {
        throw new RosterError(["must be a map with `people:` (a list) and optionally `defaults:` (a map of config keys)"]);
    }
    for (const key of Object.keys(document).filter((k) => k !== "defaults" && k !== "people")) {
        problems.push(`unknown top-level key ${JSON.stringify(key)}: a roster has only \`defaults\` and \`people\``);
    }
    const defaults = readConfigMap("defaults", document.defaults ?? {}, context.declaredKeys, problems);
    const people: Person[] = [];
    if (!Array.isArray(document.people) || document.people.length === 0) {
        problems.push("people: must be a list with at least one `- stack: <name>` entry");
    } else {
        document.people.forEach((entry: unknown, index: number) => {
            const person = readPerson(entry, index, context.declaredKeys, problems);
            if (person !== undefined) {
                people.push(person);
            }
        });
    }
    problems.push(...duplicateStacks(people));
    problems.push(...invalidValues(defaults, people, context.projectDir));
    if (problems.length > 0) {
        throw new RosterError(problems);
    }
    return { defaults, people };
}

function isMap(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readPerson(entry: unknown, index: number, declaredKeys: string[], problems: string[]): Person | undefined {
    const where = `people[${index}]`;
    if (!isMap(entry) || typeof entry.stack !== "string") {
        problems.push(`${where}: must be a map with \`stack: <name>\` (got ${JSON.stringify(entry)})`);
        return undefined;
    }
    const stack = entry.stack;
    const named = `stack ${stack}`;
    if (!stackNamePattern.test(stack)) {
        problems.push(`${where}: stack ${JSON.stringify(stack)}: must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit`);
    }
    for (const key of Object.keys(entry).filter((k) => !personFields.includes(k))) {
        problems.push(`${named}: unknown field ${JSON.stringify(key)}: a person has ${personFields.join(", ")}`);
    }
    const config = readConfigMap(named, entry.config ?? {}, declaredKeys, problems);
    const password = readPasswordSource(named, entry, problems);
    return { stack, config, password };
}

function readPasswordSource(named: string, entry: Record<string, unknown>, problems: string[]): PasswordSource | undefined {
    const { passwordFromEnv, passwordFile } = entry;
    if (passwordFromEnv !== undefined && passwordFile !== undefined) {
        problems.push(`${named}: passwordFromEnv and passwordFile: give one password source, not both`);
        return undefined;
    }
    if (passwordFromEnv !== undefined) {
        if (typeof passwordFromEnv !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordFromEnv)) {
            problems.push(`${named}: passwordFromEnv = ${JSON.stringify(passwordFromEnv)}: must be an environment variable name such as ALICE_PASSWORD`);
            return undefined;
        }
        return { kind: "env", variable: passwordFromEnv };
    }
    if (passwordFile !== undefined) {
        if (typeof passwordFile !== "string" || passwordFile === "") {
            problems.push(`${named}: passwordFile = ${JSON.stringify(passwordFile)}: must be a file path (relative to the roster)`);
            return undefined;
        }
        return { kind: "file", path: passwordFile };
    }
    return undefined;
}

/** A map of config keys (defaults, or a person's config): known keys, YAML scalars or lists. */
function readConfigMap(where: string, value: unknown, declaredKeys: string[], problems: string[]): Record<string, RosterValue> {
    if (!isMap(value)) {
        problems.push(`${where}: config must be a map of config keys to values (got ${JSON.stringify(value)})`);
        return {};
    }
    const config: Record<string, RosterValue> = {};
    for (const [key, item] of Object.entries(value)) {
        const shown = `${namespace}:${key} = ${JSON.stringify(item)}`;
        if (key === "password") {
            // Never echo it: a roster is a plain file, likely in version control.
            problems.push(`${where}: ${namespace}:password: a password never goes in the roster in plain text; ` +
                "use `passwordFromEnv: VAR` or `passwordFile: path` on the person, or leave it out for a generated one");
        } else if (!declaredKeys.includes(key)) {
            problems.push(`${where}: unknown config key ${shown}: the keys are ${declaredKeys.join(", ")}`);
        } else if (isRosterValue(item)) {
            config[key] = item;
        } else {
            problems.push(`${where}: Invalid config ${shown}: must be a value or a list of values`);
        }
    }
    return config;
}

function isScalar(value: unknown): value is string | number | boolean {
    return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function isRosterValue(value: unknown): value is RosterValue {
    return isScalar(value) || (Array.isArray(value) && value.every(isScalar));
}

/** Two entries for one stack, or two stacks whose DigitalOcean names would collide. */
function duplicateStacks(people: Person[]): string[] {
    const problems: string[] = [];
    const byBaseName = new Map<string, string>();
    for (const { stack } of people) {
        const baseName = resourceBaseName(stack);
        const earlier = byBaseName.get(baseName);
        if (earlier === stack) {
            problems.push(`stack ${stack}: listed twice`);
        } else if (earlier !== undefined) {
            problems.push(`stack ${stack}: its droplet would be named ${baseName}, like stack ${earlier}'s; rename one`);
        } else {
            byBaseName.set(baseName, stack);
        }
    }
    return problems;
}

/** The config a person's stack gets: the roster's defaults, then their own keys over them. */
export function mergedConfig(defaults: Record<string, RosterValue>, person: Person): Record<string, RosterValue> {
    return { ...defaults, ...person.config };
}

/** A value as `pulumi.Config.get` hands it to the program: lists as JSON text, the rest as text. */
export function rawConfigValue(value: RosterValue): string {
    return Array.isArray(value) ? JSON.stringify(value) : String(value);
}

/**
 * Each person's merged config through the program's readConfig. A problem in a default is named
 * once, as the defaults'; a problem in a person's own key is named with their stack.
 */
function invalidValues(defaults: Record<string, RosterValue>, people: Person[], projectDir: string): string[] {
    const problems = new Set<string>();
    for (const person of people) {
        const config = mergedConfig(defaults, person);
        try {
            readConfig({
                get: (key) => (key in config ? rawConfigValue(config[key]) : undefined),
                isSecret: () => false,
            }, projectDir);
        } catch (e) {
            for (const message of (e as Error).message.split("\n")) {
                const key = /^Invalid config [^:]+:([A-Za-z0-9]+) /.exec(message)?.[1];
                const fromDefaults = key !== undefined && !(key in person.config) && key in defaults;
                problems.add(`${fromDefaults ? "defaults (every stack)" : `stack ${person.stack}`}: ${message}`);
            }
        }
    }
    return [...problems];
}

/**
 * Checks a password read from a person's source with the program's own rules (as a secret, so
 * only its length and form are judged), naming the stack and never the value.
 */
export function passwordProblems(stack: string, password: string, projectDir: string): string[] {
    try {
        readConfig({ get: (key) => (key === "password" ? password : undefined), isSecret: () => true }, projectDir);
        return [];
    } catch (e) {
        return (e as Error).message.split("\n").map((message) => `stack ${stack}: ${message}`);
    }
}

/** The config keys Pulumi.yaml declares, read from its text. */
export function declaredConfigKeys(pulumiYaml: string): string[] {
    const project = parseYaml(pulumiYaml) as { config?: Record<string, unknown> };
    return Object.keys(project.config ?? {});
}

/** How a password source is read: the environment and the file system, given by the caller. */
export interface SecretReader {
    env: NodeJS.ProcessEnv;
    readFile(file: string): string;
}

/**
 * Reads each password source the roster names (files relative to the roster's directory) and
 * checks the password with the program's rules; problems name the stack and the source, never
 * the value.
 */
export function readPasswords(people: Person[], rosterDir: string, projectDir: string, reader: SecretReader): Map<string, string> {
    const passwords = new Map<string, string>();
    const problems: string[] = [];
    for (const { stack, password: source } of people) {
        if (source === undefined) {
            continue;
        }
        let password: string | undefined;
        if (source.kind === "env") {
            password = reader.env[source.variable];
            if (password === undefined || password === "") {
                problems.push(`stack ${stack}: passwordFromEnv = ${source.variable}: that environment variable is not set`);
            }
        } else {
            const file = path.resolve(rosterDir, source.path);
            try {
                // A file written by an editor or `echo` ends with a newline that is not part of the password.
                password = reader.readFile(file).replace(/\r?\n$/, "");
                if (password === "") {
                    problems.push(`stack ${stack}: passwordFile = ${JSON.stringify(source.path)}: ${file} is empty`);
                }
            } catch (e) {
                problems.push(`stack ${stack}: passwordFile = ${JSON.stringify(source.path)}: ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
            }
        }
        if (password !== undefined && password !== "") {
            const found = passwordProblems(stack, password, projectDir);
            problems.push(...found);
            if (found.length === 0) {
                passwords.set(stack, password);
            }
        }
    }
    if (problems.length > 0) {
        throw new RosterError(problems);
    }
    return passwords;
}
