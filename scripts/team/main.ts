// `npm run team -- up|status|down team.yaml`: one stack per person on the roster, through the
// Pulumi Automation API on this project. The roster is checked in full before anything runs.
import * as fs from "fs";
import * as path from "path";
import { CommandLine, parseCommandLine, UsageError } from "./command-line";
import { prepareSheetDirectory, writePersonSheet } from "./person-file";
import { ProgressBoard, runBounded } from "./progress";
import { hourlyPrice, PersonState, renderTable, TableRow } from "./report";
import { declaredConfigKeys, mergedConfig, parseRoster, Person, readPasswords, Roster, RosterError } from "./roster";
import { RunListener, StackResult, TeamWorkspace } from "./stacks";

const projectDir = path.resolve(__dirname, "..", "..");

function loadRoster(file: string): Roster {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new RosterError([`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
    }
    const declaredKeys = declaredConfigKeys(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
    return parseRoster(text, { declaredKeys, projectDir });
}

function selectedPeople(roster: Roster, only: string | undefined): Person[] {
    if (only === undefined) {
        return roster.people;
    }
    const people = roster.people.filter((p) => p.stack === only);
    if (people.length === 0) {
        throw new RosterError([`--only ${only}: no such stack in the roster (${roster.people.map((p) => p.stack).join(", ")})`]);
    }
    return people;
}

function row(result: StackResult): TableRow {
    const url: unknown = result.outputs.url?.value;
    return {
        stack: result.stack,
        url: typeof url === "string" ? url : undefined,
        state: result.state,
        error: result.error,
        hourlyPriceUsd: hourlyPrice(result.outputs.hourlyPriceUsd?.value),
    };
}

/** A listener that moves the person's progress line and, when given a log file, appends the engine's text to it. */
function listenerFor(board: ProgressBoard, stack: string, logFile?: string): RunListener {
    return {
        progress: (text) => board.update(stack, text),
        output: (text) => {
            if (logFile !== undefined) {
                fs.appendFileSync(logFile, text, { mode: 0o600 });
            }
        },
    };
}

function settledResults(results: PromiseSettledResult<StackResult>[], stacks: string[]): StackResult[] {
    // attempt() turns every failure into a result; a rejection here is a bug, shown as a failure all the same.
    return results.map((r, i) => {
        if (r.status === "fulfilled") {
            return r.value;
        }
        const reason: unknown = r.reason;
        const error = (reason instanceof Error ? reason.message : String(reason)).split("\n")[0];
        return { stack: stacks[i], state: "failed", error, outputs: {} };
    });
}

async function up(options: CommandLine, roster: Roster, team: TeamWorkspace): Promise<StackResult[]> {
    const people = selectedPeople(roster, options.only);
    const passwords = readPasswords(people, path.dirname(path.resolve(options.rosterFile)), projectDir,
        { env: process.env, readFile: (file) => fs.readFileSync(file, "utf8") });
    const outDir = path.resolve(options.outDir ?? "");
    prepareSheetDirectory(outDir);
    const board = new ProgressBoard(people.map((p) => p.stack));
    const results = settledResults(await runBounded(people, options.concurrency, (person) => {
        const logFile = path.join(outDir, `${person.stack}.log`);
        fs.rmSync(logFile, { force: true });
        return team.up(person.stack, mergedConfig(roster.defaults, person), passwords.get(person.stack), listenerFor(board, person.stack, logFile));
    }), people.map((p) => p.stack));
    for (const result of results.filter((r) => r.state !== "failed")) {
        writePersonSheet(outDir, result.stack, result.outputs);
    }
    console.log(`\nEach person's url, password and SSH key: ${outDir}/<stack>.txt (mode 0600); the engine's log: ${outDir}/<stack>.log`);
    return results;
}

async function status(options: CommandLine, roster: Roster, team: TeamWorkspace): Promise<StackResult[]> {
    const people = selectedPeople(roster, options.only);
    const existing = await team.stackNames();
    const results = await runBounded(people, options.concurrency, async ({ stack }): Promise<StackResult> => {
        if (!existing.includes(stack)) {
            return { stack, state: "not deployed", outputs: {} };
        }
        const outputs = await team.outputs(stack);
        // The program's `state` output says "paused" for a stack kept with its volume but no droplet.
        const state: PersonState = outputs.state?.value === "paused" ? "paused" : outputs.url === undefined ? "not deployed" : "deployed";
        return { stack, state, outputs };
    });
    return settledResults(results, people.map((p) => p.stack));
}

async function down(options: CommandLine, roster: Roster, team: TeamWorkspace): Promise<StackResult[]> {
    const people = selectedPeople(roster, options.only);
    const existing = await team.stackNames();
    const targets = people.map((p) => p.stack).filter((stack) => existing.includes(stack));
    if (options.prune) {
        targets.push(...unlisted(roster, existing));
    }
    const board = new ProgressBoard(targets);
    const destroyed = settledResults(await runBounded(targets, options.concurrency, (stack) => team.down(stack, listenerFor(board, stack))), targets);
    const absent: StackResult[] = people.filter((p) => !existing.includes(p.stack)).map((p) => ({ stack: p.stack, state: "not deployed", outputs: {} }));
    return [...destroyed, ...absent];
}

/** This project's stacks that the roster does not list. */
function unlisted(roster: Roster, existing: string[]): string[] {
    const listed = new Set(roster.people.map((p) => p.stack));
    return existing.filter((stack) => !listed.has(stack));
}

async function main(argv: string[]): Promise<number> {
    const options = parseCommandLine(argv);
    const roster = loadRoster(options.rosterFile);
    const team = await TeamWorkspace.open(projectDir);
    const started = Date.now();
    const results = await { up, status, down }[options.command](options, roster, team);
    console.log(`\n${renderTable(results.map(row))}`);
    const others = unlisted(roster, await team.stackNames()).sort();
    if (others.length > 0) {
        console.log(`\nStacks of this project not in the roster, left as they are (\`down --prune\` destroys them): ${others.join(", ")}`);
    } else if (options.prune) {
        console.log("\nEvery stack of this project is on the roster now.");
    }
    console.log(`\n${options.command}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return results.some((r) => r.state === "failed") ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
}, (e: unknown) => {
    // A bad roster or command line is the admin's to fix: its message, not a stack trace.
    console.error(e instanceof RosterError || e instanceof UsageError ? e.message : e);
    process.exitCode = 2;
});
