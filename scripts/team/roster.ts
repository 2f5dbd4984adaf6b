// The team roster: who gets a server, with which config. Parsing and validation are pure (the
// caller reads the files), and every value is checked by the program's own readConfig, so a
// roster accepts exactly what `pulumi up` on a stack would.
import * as path from "path";
import {
    Document,
    isAlias,
    isMap as isYamlMap,
    isNode,
    isScalar as isYamlScalar,
    isSeq,
    LineCounter,
    Node,
    parse as parseYaml,
    parseDocument,
    visit,
    YAMLError,
} from "yaml";
import { formatProblem, namespace, readConfig } from "../../config/config";
import { resourceBaseName } from "../../config/naming";

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
        // A problem may go on over lines (a YAML error's excerpt): all of them indented alike.
        super(
            `The roster has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was run:\n` +
                problems.map((p) => `  ${p.replace(/\n/g, "\n  ")}`).join("\n"),
        );
        this.name = "RosterError";
    }
}

export interface RosterContext {
    /** The config keys Pulumi.yaml declares (the password key is separate: never in a roster). */
    declaredKeys: string[];
    /** The project directory, which readConfig resolves requirementsFile against. */
    projectDir: string;
    /** The roster's file as the admin named it, which every problem starts with (`<file>:<line>:<column>: `); "roster" if not given. */
    file?: string;
}

/** A place in the roster's data: keys of maps, indexes of lists (as in `people[2].config.region`). */
type RosterPath = (string | number)[];

/** Where a problem is: `<file>:<line>:<column>` of the key or value at a path, or `<file>` when the path is not in the text. */
type Locate = (path: RosterPath, part?: "key" | "value") => string;

const personFields = ["stack", "config", "passwordFromEnv", "passwordFile"];
const stackNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * Parses and validates a roster's YAML text, naming every problem (stack, key, value) at once,
 * each with where it is in the file (`<file>:<line>:<column>: `).
 */
export function parseRoster(text: string, context: RosterContext): Roster {
    const file = context.file ?? "roster";
    const lines = new LineCounter();
    // The positions are the yaml package's own (its errors' offsets, its nodes' ranges), turned
    // into lines and columns by its LineCounter; the messages are built here, not prettified.
    const yamlDocument = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    if (yamlDocument.errors.length > 0) {
        throw new RosterError(yamlDocument.errors.map((error) => syntaxProblem(error, yamlDocument, text, lines, file)));
    }
    let document: unknown;
    try {
        document = yamlDocument.toJS();
    } catch (e) {
        // An alias to an anchor that is not there (or not yet): the one error toJS finds itself.
        const alias = unresolvedAlias(yamlDocument);
        const what = (e as Error).message;
        throw new RosterError([alias?.range == null ? `${file}: ${what}` : excerpt(file, text, lines, alias.range[0], what)]);
    }
    const at: Locate = (path, part = "value") => {
        const node = nodeAt(yamlDocument, path, part);
        return node?.range == null ? file : position(file, lines, node.range[0]);
    };
    const problems: string[] = [];
    if (!isMap(document)) {
        throw new RosterError([`${at([])}: must be a map with \`people:\` (a list) and optionally \`defaults:\` (a map of config keys)`]);
    }
    for (const key of Object.keys(document).filter((k) => k !== "defaults" && k !== "people")) {
        problems.push(`${at([key], "key")}: unknown top-level key ${JSON.stringify(key)}: a roster has only \`defaults\` and \`people\``);
    }
    const defaults = readConfigMap("defaults", ["defaults"], document.defaults ?? {}, context.declaredKeys, at, problems);
    const people: Listed[] = [];
    if (!Array.isArray(document.people) || document.people.length === 0) {
        problems.push(`${at(["people"])}: people: must be a list with at least one \`- stack: <name>\` entry`);
    } else {
        document.people.forEach((entry: unknown, index: number) => {
            const person = readPerson(entry, index, context.declaredKeys, at, problems);
            if (person !== undefined) {
                people.push({ person, index });
            }
        });
    }
    problems.push(...duplicateStacks(people, at));
    problems.push(...invalidValues(defaults, people, context.projectDir, at));
    if (problems.length > 0) {
        throw new RosterError(problems);
    }
    return { defaults, people: people.map((p) => p.person) };
}

/** A person with their entry's index in the roster's `people` list (where their problems are). */
interface Listed {
    person: Person;
    index: number;
}

/** `<file>:<line>:<column>` of an offset in the text. */
function position(file: string, lines: LineCounter, offset: number): string {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
}

/** The node at a path of the document (the key's node, for part "key"), through aliases; undefined if the path is not there. */
function nodeAt(document: Document, path: RosterPath, part: "key" | "value"): Node | undefined {
    let node: unknown = document.contents;
    for (const [i, segment] of path.entries()) {
        if (isAlias(node)) {
            node = node.resolve(document);
        }
        if (isYamlMap(node)) {
            const pair = node.items.find((item) => isYamlScalar(item.key) && String(item.key.value) === String(segment));
            if (pair === undefined) {
                return undefined;
            }
            // `key:` with nothing after it: the key is where the value is missing.
            node = (i === path.length - 1 && part === "key") || pair.value === null ? pair.key : pair.value;
        } else if (isSeq(node) && typeof segment === "number") {
            node = node.items[segment];
        } else {
            return undefined;
        }
    }
    return isNode(node) ? node : undefined;
}

function unresolvedAlias(document: Document): Node | undefined {
    let found: Node | undefined;
    visit(document, {
        Alias: (_, alias) => {
            if (found === undefined && alias.resolve(document) === undefined) {
                found = alias;
            }
        },
    });
    return found;
}

/**
 * A YAML syntax error as `<file>:<line>:<column>: <what is wrong>`, then the line's full text
 * and a caret under the column. An unclosed quote or bracket is shown where it opens (the yaml
 * package notices it where the text runs out of it); a duplicate key names the first one.
 */
function syntaxProblem(error: YAMLError, document: Document, text: string, lines: LineCounter, file: string): string {
    const [start, end] = error.pos;
    if (start < 0) {
        return `${file}: ${error.message}`;
    }
    const noticed = lines.linePos(start);
    const opened = openingOf(error, document, text);
    let what = error.code === "MULTIPLE_DOCS" ? "a roster is one YAML document: this `---` starts a second one" : error.message;
    if (opened !== undefined) {
        what += `: the ${text[opened]} opened here is still open at line ${noticed.line}, column ${noticed.col}`;
    }
    if (error.code === "DUPLICATE_KEY") {
        const first = firstOfDuplicateKey(document, start);
        if (first !== undefined) {
            const { line, col } = lines.linePos(first.range[0]);
            what += `: ${JSON.stringify(String(first.value))} is also at line ${line}, column ${col}`;
        }
    }
    if (opened !== undefined) {
        return excerpt(file, text, lines, opened, what);
    }
    // The error's span when it lies on its first line.
    const stop = lines.linePos(end);
    return excerpt(file, text, lines, start, what, stop.line === noticed.line ? stop.col - noticed.col : 1);
}

/** `<file>:<line>:<column>: <what>`, then the line's full text and carets under the column (`width` of them, within the line). */
function excerpt(file: string, text: string, lines: LineCounter, offset: number, what: string, width = 1): string {
    const { line, col } = lines.linePos(offset);
    const lineText = text.slice(lines.lineStarts[line - 1], lines.lineStarts[line] ?? text.length).replace(/\r?\n$/, "");
    // Tabs before the column are kept in the caret's line, so it stays under the column on a terminal.
    const caret = lineText.slice(0, col - 1).replace(/[^\t]/g, " ") + "^".repeat(Math.max(1, Math.min(width, lineText.length - col + 1)));
    return `${file}:${line}:${col}: ${what}\n    ${lineText}\n    ${caret}`;
}

/** For an unclosed quote or flow collection: the offset of its opening quote or bracket. */
function openingOf(error: YAMLError, document: Document, text: string): number | undefined {
    const closer =
        /^Missing closing (["'])quote/.exec(error.message)?.[1] ??
        /^Flow (?:map|sequence) .* end with an? ([}\]])$/.exec(error.message)?.[1];
    const opener = closer === "}" ? "{" : closer === "]" ? "[" : closer;
    if (opener === undefined) {
        return undefined;
    }
    const at = error.pos[0];
    let found: number | undefined;
    // Depth first, outer before inner: the last one that reaches the error is the innermost.
    visit(document, (_, node) => {
        if (isNode(node) && node.range != null && text[node.range[0]] === opener && node.range[0] < at && at <= node.range[2]) {
            found = node.range[0];
        }
    });
    return found;
}

/** The earlier key of a duplicate whose second one starts at `offset`. */
function firstOfDuplicateKey(document: Document, offset: number): { value: unknown; range: [number, number, number] } | undefined {
    let found: { value: unknown; range: [number, number, number] } | undefined;
    visit(document, {
        Map: (_, map) => {
            const second = map.items.find((pair) => isYamlScalar(pair.key) && pair.key.range?.[0] === offset);
            if (second !== undefined && isYamlScalar(second.key)) {
                const key = second.key.value;
                const first = map.items.find((pair) => pair !== second && isYamlScalar(pair.key) && pair.key.value === key);
                if (first !== undefined && isYamlScalar(first.key) && first.key.range != null) {
                    found = { value: key, range: first.key.range };
                }
            }
        },
    });
    return found;
}

function isMap(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readPerson(entry: unknown, index: number, declaredKeys: string[], at: Locate, problems: string[]): Person | undefined {
    const where = `people[${index}]`;
    const path = ["people", index];
    if (!isMap(entry) || typeof entry.stack !== "string") {
        problems.push(`${at(path)}: ${where}: must be a map with \`stack: <name>\` (got ${JSON.stringify(entry)})`);
        return undefined;
    }
    const stack = entry.stack;
    const named = `stack ${stack}`;
    if (!stackNamePattern.test(stack)) {
        problems.push(
            `${at([...path, "stack"])}: ${where}: stack ${JSON.stringify(stack)}: must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit`,
        );
    }
    for (const key of Object.keys(entry).filter((k) => !personFields.includes(k))) {
        problems.push(
            `${at([...path, key], "key")}: ${named}: unknown field ${JSON.stringify(key)}: a person has ${personFields.join(", ")}`,
        );
    }
    const config = readConfigMap(named, [...path, "config"], entry.config ?? {}, declaredKeys, at, problems);
    const password = readPasswordSource(named, path, entry, at, problems);
    return { stack, config, password };
}

function readPasswordSource(
    named: string,
    path: RosterPath,
    entry: Record<string, unknown>,
    at: Locate,
    problems: string[],
): PasswordSource | undefined {
    const { passwordFromEnv, passwordFile } = entry;
    if (passwordFromEnv !== undefined && passwordFile !== undefined) {
        problems.push(
            `${at([...path, "passwordFile"], "key")}: ${named}: passwordFromEnv and passwordFile: give one password source, not both`,
        );
        return undefined;
    }
    if (passwordFromEnv !== undefined) {
        if (typeof passwordFromEnv !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordFromEnv)) {
            problems.push(
                `${at([...path, "passwordFromEnv"])}: ${named}: passwordFromEnv = ${JSON.stringify(passwordFromEnv)}: must be an environment variable name such as ALICE_PASSWORD`,
            );
            return undefined;
        }
        return { kind: "env", variable: passwordFromEnv };
    }
    if (passwordFile !== undefined) {
        if (typeof passwordFile !== "string" || passwordFile === "") {
            problems.push(
                `${at([...path, "passwordFile"])}: ${named}: passwordFile = ${JSON.stringify(passwordFile)}: must be a file path (relative to the roster)`,
            );
            return undefined;
        }
        return { kind: "file", path: passwordFile };
    }
    return undefined;
}

/** A map of config keys (defaults, or a person's config): known keys, YAML scalars or lists. */
function readConfigMap(
    where: string,
    path: RosterPath,
    value: unknown,
    declaredKeys: string[],
    at: Locate,
    problems: string[],
): Record<string, RosterValue> {
    if (!isMap(value)) {
        problems.push(`${at(path)}: ${where}: config must be a map of config keys to values (got ${JSON.stringify(value)})`);
        return {};
    }
    const config: Record<string, RosterValue> = {};
    for (const [key, item] of Object.entries(value)) {
        const shown = `${namespace}:${key} = ${JSON.stringify(item)}`;
        if (key === "password") {
            // Never echo it: a roster is a plain file, likely in version control.
            problems.push(
                `${at([...path, key], "key")}: ${where}: ${namespace}:password: a password never goes in the roster in plain text; ` +
                    "use `passwordFromEnv: VAR` or `passwordFile: path` on the person, or leave it out for a generated one",
            );
        } else if (!declaredKeys.includes(key)) {
            problems.push(`${at([...path, key], "key")}: ${where}: unknown config key ${shown}: the keys are ${declaredKeys.join(", ")}`);
        } else if (isRosterValue(item)) {
            config[key] = item;
        } else {
            problems.push(
                `${at([...path, key])}: ${where}: ${formatProblem({ key, value: JSON.stringify(item), allowed: "must be a value or a list of values" })}`,
            );
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
function duplicateStacks(people: Listed[], at: Locate): string[] {
    const problems: string[] = [];
    const byBaseName = new Map<string, string>();
    for (const {
        person: { stack },
        index,
    } of people) {
        const baseName = resourceBaseName(stack);
        const earlier = byBaseName.get(baseName);
        const here = at(["people", index, "stack"]);
        if (earlier === stack) {
            problems.push(`${here}: stack ${stack}: listed twice`);
        } else if (earlier !== undefined) {
            problems.push(`${here}: stack ${stack}: its droplet would be named ${baseName}, like stack ${earlier}'s; rename one`);
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
function invalidValues(defaults: Record<string, RosterValue>, people: Listed[], projectDir: string, at: Locate): string[] {
    const problems = new Set<string>();
    for (const { person, index } of people) {
        const config = mergedConfig(defaults, person);
        const reading = readConfig(
            {
                get: (key) => (key in config ? rawConfigValue(config[key]) : undefined),
                isSecret: () => false,
            },
            projectDir,
        );
        for (const problem of reading.ok ? [] : reading.problems) {
            const { key } = problem;
            const fromDefaults = !(key in person.config) && key in defaults;
            // At the value readConfig refused; a problem of a key the roster does not set at the person's entry.
            const here = fromDefaults
                ? at(["defaults", key])
                : key in person.config
                  ? at(["people", index, "config", key])
                  : at(["people", index]);
            problems.add(`${here}: ${fromDefaults ? "defaults (every stack)" : `stack ${person.stack}`}: ${formatProblem(problem)}`);
        }
    }
    return [...problems];
}

/**
 * Checks a password read from a person's source with the program's own rules (as a secret, so
 * only its length and form are judged), naming the stack and never the value.
 */
export function passwordProblems(stack: string, password: string, projectDir: string): string[] {
    const reading = readConfig({ get: (key) => (key === "password" ? password : undefined), isSecret: () => true }, projectDir);
    return reading.ok ? [] : reading.problems.map((problem) => `stack ${stack}: ${formatProblem(problem)}`);
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
                problems.push(
                    `stack ${stack}: passwordFile = ${JSON.stringify(source.path)}: ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
                );
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
