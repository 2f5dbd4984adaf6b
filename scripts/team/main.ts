// `npm run team -- up|status|down|sweep team.yaml`: one stack per person on the roster, through the
// Pulumi Automation API on this project (`sweep`: the server's sweep on each person's stack). The
// roster is checked in full before anything runs; `up` marks each stack as this roster's, and
// `down --prune` touches no stack without that mark.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createInterface } from "readline";
import { CommandLine, parseCommandLine, UsageError } from "./command-line";
import { prepareSheetDirectory, writePersonSheet } from "./person-file";
import { ProgressBoard, runBounded } from "./progress";
import {
    confirmed,
    notConfirmedMessage,
    planPrune,
    PrunePlan,
    PruneNotConfirmed,
    pruneDecision,
    prunePrompt,
    renderPrunePlan,
    renderUnlistedNote,
    rosterIdentity,
    stackMarker,
    standing,
} from "./prune";
import { PassphraseNotSet } from "./passphrase";
import { firstErrorLine, hourlyPrice, renderTable, stateFromOutputs, TableRow } from "./report";
import { declaredConfigKeys, mergedConfig, parseRoster, Person, readPasswords, Roster, RosterError } from "./roster";
import { RunListener, StackResult, TeamWorkspace } from "./stacks";
import { SweepOutcome, sweepExitCode, sweepLine } from "../server/idle";
import { sweepStack } from "../server/sweep";

const projectDir = path.resolve(__dirname, "..", "..");

function loadRoster(file: string): Roster {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new RosterError([`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
    }
    const declaredKeys = declaredConfigKeys(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
    return parseRoster(text, { declaredKeys, projectDir, file });
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
        const error = firstErrorLine([], reason instanceof Error ? reason.message : String(reason));
        return { stack: stacks[i], state: "failed", error, outputs: {} };
    });
}

/** What every command works with: the parsed command line and roster, the roster's identity, the workspace. */
interface Run {
    options: CommandLine;
    roster: Roster;
    /** The roster's identity in the markers `up` leaves (this machine, the file's real path). */
    identity: string;
    team: TeamWorkspace;
}

async function up({ options, roster, identity, team }: Run): Promise<StackResult[]> {
    const people = selectedPeople(roster, options.only);
    const passwords = readPasswords(people, path.dirname(path.resolve(options.rosterFile)), projectDir, {
        env: process.env,
        readFile: (file) => fs.readFileSync(file, "utf8"),
    });
    await team.requirePassphrase(people.map((p) => p.stack));
    const outDir = path.resolve(options.outDir ?? "");
    prepareSheetDirectory(outDir);
    const board = new ProgressBoard(people.map((p) => p.stack));
    const results = settledResults(
        await runBounded(people, options.concurrency, (person) => {
            const logFile = path.join(outDir, `${person.stack}.log`);
            fs.rmSync(logFile, { force: true });
            return team.up(
                person.stack,
                mergedConfig(roster.defaults, person),
                passwords.get(person.stack),
                stackMarker(identity, person.stack),
                listenerFor(board, person.stack, logFile),
            );
        }),
        people.map((p) => p.stack),
    );
    for (const result of results.filter((r) => r.state !== "failed")) {
        writePersonSheet(outDir, result.stack, result.outputs);
    }
    console.log(`\nEach person's url, password and SSH key: ${outDir}/<stack>.txt (mode 0600); the engine's log: ${outDir}/<stack>.log`);
    return results;
}

async function status({ options, roster, team }: Run): Promise<StackResult[]> {
    const people = selectedPeople(roster, options.only);
    const existing = await team.stackNames();
    await team.requirePassphrase(people.map((p) => p.stack).filter((stack) => existing.includes(stack)));
    const results = await runBounded(people, options.concurrency, async ({ stack }): Promise<StackResult> => {
        if (!existing.includes(stack)) {
            return { stack, state: "not deployed", outputs: {} };
        }
        const outputs = await team.outputs(stack);
        return { stack, state: stateFromOutputs(outputs), outputs };
    });
    return settledResults(
        results,
        people.map((p) => p.stack),
    );
}

async function down(run: Run): Promise<StackResult[]> {
    const { options, roster, team } = run;
    const people = selectedPeople(roster, options.only);
    const existing = await team.stackNames();
    const targets = people.map((p) => p.stack).filter((stack) => existing.includes(stack));
    // What --prune would destroy is read from the stacks' files alone, so it can be checked with the rest.
    const plan = options.prune ? await unlisted(run, existing) : undefined;
    await team.requirePassphrase([...targets, ...(plan?.prune ?? [])]);
    if (plan !== undefined) {
        targets.push(...(await confirmedPrune(run, plan, targets.length)));
    }
    const board = new ProgressBoard(targets);
    const destroyed = settledResults(
        await runBounded(targets, options.concurrency, (stack) => team.down(stack, listenerFor(board, stack))),
        targets,
    );
    const absent: StackResult[] = people
        .filter((p) => !existing.includes(p.stack))
        .map((p) => ({ stack: p.stack, state: "not deployed", outputs: {} }));
    return [...destroyed, ...absent];
}

/**
 * Sweeps each person's stack, several at once, and prints one line per person in the roster's
 * order on stdout (the pauses' progress is on stderr); no table: a cron mail reads the lines.
 */
async function sweep({ options, roster, team }: Run): Promise<number> {
    const stacks = selectedPeople(roster, options.only).map((p) => p.stack);
    const existing = await team.stackNames();
    await team.requirePassphrase(stacks.filter((stack) => existing.includes(stack)));
    const settled = await runBounded(stacks, options.concurrency, (stack) =>
        existing.includes(stack)
            ? sweepStack(stack, { dryRun: options.dryRun })
            : Promise.resolve<SweepOutcome>({ action: "not deployed" }),
    );
    // sweepStack turns every failure it expects into an outcome; anything else is said all the same.
    const outcomes = settled.map((result): SweepOutcome =>
        result.status === "fulfilled"
            ? result.value
            : { action: "could not read", reason: result.reason instanceof Error ? result.reason.message : String(result.reason) },
    );
    outcomes.forEach((outcome, i) => console.log(sweepLine(stacks[i], outcome)));
    return sweepExitCode(outcomes);
}

/** The project's stacks (given, or listed now) that the roster does not list, split by whether this roster made them. */
async function unlisted({ roster, identity, team }: Run, existing?: string[]): Promise<PrunePlan> {
    const listed = roster.people.map((p) => p.stack);
    const stacks = (existing ?? (await team.stackNames())).filter((stack) => !listed.includes(stack));
    const marked = await Promise.all(stacks.map(async (stack) => ({ stack, marker: await team.marker(stack) })));
    return planPrune(listed, marked, identity);
}

/**
 * The stacks `down --prune` may destroy: the plan's, off the roster and made by it. Lists them (with how each
 * stands) and what it leaves alone; then goes on with `--yes`, asks on a terminal, and without
 * either destroys nothing (PruneNotConfirmed).
 */
async function confirmedPrune(run: Run, plan: PrunePlan, rosterStacks: number): Promise<string[]> {
    // From the outputs in the backend: no program runs, DigitalOcean is not asked.
    const outputs = await runBounded(plan.prune, run.options.concurrency, (stack) => run.team.outputs(stack));
    const standings = new Map(
        plan.prune.map((stack, i) => {
            const read = outputs[i];
            return [stack, standing(read.status === "fulfilled" ? stateFromOutputs(read.value) : undefined)];
        }),
    );
    console.log(renderPrunePlan(plan, standings));
    const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
    const decision = pruneDecision(plan.prune.length, run.options.yes, terminal);
    if (decision === "refuse") {
        throw new PruneNotConfirmed(notConfirmedMessage("refuse", plan.prune.length));
    }
    if (decision === "ask" && !confirmed(await ask(prunePrompt(plan.prune.length, rosterStacks)))) {
        throw new PruneNotConfirmed(notConfirmedMessage("declined", plan.prune.length));
    }
    return plan.prune;
}

/** One line from the terminal; end of input (Ctrl-D) is an empty answer. */
function ask(question: string): Promise<string> {
    const terminal = createInterface({ input: process.stdin, output: process.stdout });
    return new Promise((resolve) => {
        terminal.once("close", () => resolve(""));
        terminal.question(question, (answer) => {
            resolve(answer);
            terminal.close();
        });
    });
}

async function main(argv: string[]): Promise<number> {
    const options = parseCommandLine(argv);
    const roster = loadRoster(options.rosterFile);
    const run: Run = {
        options,
        roster,
        identity: rosterIdentity(os.hostname(), fs.realpathSync(options.rosterFile)),
        team: await TeamWorkspace.open(projectDir),
    };
    if (options.command === "sweep") {
        return sweep(run);
    }
    const started = Date.now();
    const results = await { up, status, down }[options.command](run);
    console.log(`\n${renderTable(results.map(row))}`);
    const note = renderUnlistedNote(await unlisted(run), options.prune);
    if (note !== undefined) {
        console.log(`\n${note}`);
    }
    console.log(`\n${options.command}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return results.some((r) => r.state === "failed") ? 1 : 0;
}

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (e: unknown) => {
        // A bad roster or command line is the admin's to fix, an unconfirmed prune the admin's to
        // confirm, a missing passphrase the admin's to give: its message, not a stack trace.
        console.error(
            e instanceof RosterError || e instanceof UsageError || e instanceof PruneNotConfirmed || e instanceof PassphraseNotSet
                ? e.message
                : e,
        );
        process.exitCode = 2;
    },
);
