// A team's servers: the real `pulumi new` on the project as a template, then `npm run team` (the
// Automation API driving the real Pulumi CLI, built from source) against the DigitalOcean API
// stand-in, every droplet a real local VM.
//
// Two droplets boot, side by side, in the first `team up` and serve every later scenario: the
// second `up` (both unchanged), a third person whose droplet the stand-in refuses (the two stay
// unchanged, the exit code says one failed), `status`, and `down`. A roster with a bad entry is
// refused before anything exists. `down --prune` destroys only what the roster made: another
// team's roster prunes none of it, and the `pulumi new` stack is left to its owner. The single `pulumi up`s to compare the team's with are
// full-flow.test.ts's, in the same `npm run test:engine` (engine-report.json): two more boots
// here would cost CI ten minutes or more.
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { startDoStandin, Standin } from "../standin/do-api";
import { requireCommand } from "../support/jupyter-venv";
import { buildEngine, copyProject, installPlugins, previewSteps, PulumiCli, urnName } from "./pulumi-cli";
import { VmBackend } from "./vm-backend";

const repoDir = path.resolve(__dirname, "..", "..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-team-"));
const resultsDir = path.resolve(repoDir, "test-results");
const seconds: Record<string, number> = {};
const report: Record<string, unknown> = { seconds };
let standin: Standin;
let backend: VmBackend;
let cli: PulumiCli;
let projectDir: string;

const sheetsDir = path.join(work, "team-secrets");
/** Where `pulumi new` makes the template's project, and its stack carol's config file. */
const newProjectDir = path.join(work, "new-project");
const bobPassword = "bob's password from the environment";
// Everyone starts paused: each stack holds a volume, a key and a password, and no droplet. The
// roster's commands run as for running servers (the Automation API, side by side, the sheets);
// what a running server does is full-flow.test.ts's, and a droplet here would cost the suite
// a fresh install (about 11 minutes under emulation).
const teamRoster = `
defaults:
  region: fra1
  dataVolumeGb: 1
  paused: true
people:
  - stack: alice
  - stack: bob
    passwordFromEnv: BOB_PASSWORD
`;
const rosters = {
    team: teamRoster,
    // The stand-in answers s-4vcpu-8gb in syd1 as DigitalOcean does a size a region lacks: 422.
    withRefusedPerson: `${teamRoster}  - stack: dan
    config:
      paused: false
      region: syd1
      size: s-4vcpu-8gb
`,
    // Bob's entry gets a size with too little memory.
    withBadEntry: `${teamRoster}    config:
      size: s-1vcpu-1gb
`,
    // Another admin's roster in the same backend: one person, with no stack yet.
    otherTeam: `
people:
  - stack: zed
`,
};

/**
 * Writes a version of the roster. The admin edits one file, team.yaml, as an admin would: its
 * path is the roster's identity in the marker `up` leaves on each stack, which `--prune` goes by.
 * The other team's roster is a file of its own.
 */
function writeRoster(name: keyof typeof rosters): string {
    const file = path.join(work, name === "otherTeam" ? "other-team.yaml" : "team.yaml");
    fs.writeFileSync(file, rosters[name]);
    return file;
}

interface TeamRun {
    code: number;
    output: string;
    seconds: number;
    /** Every process's command line, sampled each second while the command ran. */
    processLists: string[];
}

/** `npm run team -- <args>` in the project, as an admin runs it. */
function team(args: string[], label: string): Promise<TeamRun> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn("npm", ["run", "--silent", "team", "--", ...args], {
            cwd: projectDir,
            env: { ...cli.environment, BOB_PASSWORD: bobPassword },
        });
        let output = "";
        const collect = (d: Buffer) => {
            output += d.toString();
            process.stderr.write(d);
        };
        child.stdout.on("data", collect);
        child.stderr.on("data", collect);
        const processLists: string[] = [];
        const sampler = setInterval(() => {
            processLists.push(spawnSync("ps", ["-eo", "args", "ww"], { encoding: "utf8" }).stdout);
        }, 1000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearInterval(sampler);
            seconds[label] = (Date.now() - started) / 1000;
            console.log(`[team] npm run team -- ${args.join(" ")}: ${seconds[label].toFixed(1)} s (exit ${code})`);
            resolve({ code: code ?? -1, output, seconds: seconds[label], processLists });
        });
    });
}

/** The table's line for a stack. */
function tableLine(output: string, stack: string): string {
    const table = output.slice(output.lastIndexOf("PERSON "));
    const line = table.split("\n").find((l) => l.startsWith(`${stack} `));
    assert.ok(line !== undefined, `the table has a line for ${stack}:\n${table}`);
    return line;
}

/** The engine's own time for each person, from the progress lines ("alice  finished in 512 s"). */
function engineSeconds(output: string): Record<string, number> {
    return Object.fromEntries([...output.matchAll(/^(\S+)\s+finished in (\d+) s$/gm)].map((m) => [m[1], Number(m[2])]));
}

function readSheet(stack: string): { file: string; password: string; text: string } {
    const file = path.join(sheetsDir, `${stack}.txt`);
    const text = fs.readFileSync(file, "utf8");
    const field = (name: string) => new RegExp(`^${name}: (.+)$`, "m").exec(text)?.[1] ?? "";
    return { file, password: field("password"), text };
}

async function stackNames(): Promise<string[]> {
    const listed = JSON.parse((await cli.ok(["stack", "ls", "--json"])).stdout) as { name: string }[];
    return listed.map((s) => s.name).sort();
}

function sortedVolumeNames(): string[] {
    return standin.state
        .volumes()
        .map((v) => v.name)
        .sort();
}

/** Calls that change something at DigitalOcean, answered so far. */
function changingCalls(): number {
    return standin.state.requests().filter((r) => r.method !== "GET").length;
}

before(async () => {
    for (const [command, pkg] of [
        ["go", "golang (or Go from go.dev)"],
        ["ssh", "openssh-client"],
        ["qemu-system-x86_64", "qemu-system-x86"],
        ["npm", "npm"],
    ]) {
        requireCommand(command, `install ${pkg} (Debian: apt-get install ${pkg.split(" ")[0]})`);
    }
    const engine = buildEngine();
    report.engineBuild = { seconds: engine.seconds };
    backend = new VmBackend({
        workDir: path.join(work, "cloud"),
        forwardPorts: [9000],
        addresses: ["127.0.2.1", "127.0.2.2", "127.0.2.3"],
    });
    await backend.prepare();
    standin = await startDoStandin({ backend });
    projectDir = copyProject(work);
    const home = path.join(work, "home");
    fs.mkdirSync(home, { recursive: true });
    const userNpmrc = path.join(os.homedir(), ".npmrc");
    const environment = {
        ...PulumiCli.environment(engine.binDir, home, standin.url),
        // npm as the user has it set up (registry, CA file, cache), though HOME is the test's.
        ...(fs.existsSync(userNpmrc) ? { NPM_CONFIG_USERCONFIG: userNpmrc } : {}),
        NPM_CONFIG_CACHE: path.join(os.homedir(), ".npm"),
    };
    const cliDir = await installPlugins(engine.binDir, work, environment);
    cli = new PulumiCli(projectDir, { ...environment, PATH: `${cliDir}:${process.env.PATH ?? ""}` });
    fs.mkdirSync(path.join(work, "state"));
    await cli.ok(["login", `file://${path.join(work, "state")}`]);
});

after(async () => {
    report.dropletBoots = standin?.state.createdDroplets();
    report.pulumiCommands = cli?.timings;
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, "team-report.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(`[team] report (test-results/team-report.json):\n${JSON.stringify(report, null, 2)}`);
    await standin?.close();
    fs.rmSync(work, { recursive: true, force: true });
});

describe("a team's servers: the template and the roster", { concurrency: false }, () => {
    test("`pulumi new` on `npm run template`'s copy, non-interactively: the program's files only; the answers land in the stack's config; `pulumi preview` plans the server", async () => {
        // The template as `npm run template -- DIR` makes it from this checkout: no node_modules
        // (`pulumi new` installs them), no stack files with their secrets, no tests, no CI.
        const template = path.join(work, "template");
        const made = spawnSync("bash", [path.join(repoDir, "scripts", "template.sh"), template], { encoding: "utf8" });
        assert.equal(made.status, 0, made.stderr);
        assert.deepEqual(fs.readdirSync(template).sort(), [
            ".gitignore",
            "Pulumi.yaml",
            "components",
            "config",
            "droplet",
            "index.ts",
            "package-lock.json",
            "package.json",
            "scripts",
            "tsconfig.json",
        ]);
        fs.mkdirSync(newProjectDir);
        const inNew = new PulumiCli(newProjectDir, cli.environment);
        const created = await inNew.ok([
            "new",
            template,
            "--stack",
            "carol",
            "--yes",
            "-c",
            "jupyterlab-droplet:region=ams3",
            "-c",
            "jupyterlab-droplet:dataVolumeGb=2",
            "-c",
            'jupyterlab-droplet:allowedCidrs=["203.0.113.7/32"]',
        ]);
        seconds["pulumi new (with npm install)"] = created.seconds;
        const config = JSON.parse((await inNew.ok(["config", "--json", "--stack=carol"])).stdout) as Record<string, { value?: string }>;
        const value = (key: string) => config[`jupyterlab-droplet:${key}`]?.value;
        assert.equal(value("region"), "ams3", "an answer given with -c");
        assert.equal(value("size"), "s-1vcpu-2gb", "the prompt's default");
        assert.equal(value("dataVolumeGb"), "2");
        assert.equal(value("allowedCidrs"), '["203.0.113.7/32"]');
        assert.equal(config["jupyterlab-droplet:password"], undefined, "an empty password answer leaves it to be generated");
        const stackFiles = fs.readdirSync(newProjectDir).filter((f) => /^Pulumi\..+\.yaml$/.test(f));
        assert.deepEqual(stackFiles, ["Pulumi.carol.yaml"], "the new project has its own stack's file and no other");
        assert.doesNotMatch(fs.readFileSync(path.join(newProjectDir, "Pulumi.carol.yaml"), "utf8"), /secure:/, "and no secret in it");
        assert.ok(!fs.existsSync(path.join(newProjectDir, "test")) && !fs.existsSync(path.join(newProjectDir, ".ci")), "no tests, no CI");
        const preview = await inNew.ok(["preview", "--json", "--stack=carol"]);
        seconds["pulumi preview (the new project)"] = preview.seconds;
        const creates = previewSteps(preview.stdout)
            .filter((s) => s.op === "create")
            .map((s) => urnName(s.urn));
        for (const name of ["server-droplet", "data-volume", "firewall-firewall", "setup-configure"]) {
            assert.ok(creates.includes(name), `preview plans ${name}: ${creates.join(", ")}`);
        }
        assert.deepEqual(standin.state.droplets(), [], "a preview creates nothing");
    });

    test("a roster with a bad entry: named (stack, key, value) before anything runs, for every command", async () => {
        const roster = writeRoster("withBadEntry");
        const stacksBefore = await stackNames();
        const callsBefore = changingCalls();
        for (const args of [
            ["up", roster, "--out", sheetsDir],
            ["status", roster],
            ["down", roster],
        ]) {
            const run = await team(args, `bad roster: ${args[0]}`);
            assert.equal(run.code, 2, run.output);
            assert.match(run.output, /stack bob: Invalid config jupyterlab-droplet:size = "s-1vcpu-1gb": has 1024 MB of RAM/);
            assert.match(run.output, /nothing was run/);
        }
        assert.deepEqual(await stackNames(), stacksBefore, "no stack was created");
        assert.equal(changingCalls(), callsBefore, "DigitalOcean was asked for nothing");
        assert.deepEqual(standin.state.droplets(), []);
        assert.deepEqual(standin.state.volumes(), []);
        assert.ok(!fs.existsSync(sheetsDir), "no secrets directory was made");
    });

    test("`team up` for two people, side by side: both stacks created paused (volume, key, password; no droplet); each sheet (0600) holds its person's password and key", async () => {
        const requestsBefore = standin.state.requests().length;
        const run = await team(["up", writeRoster("team"), "--out", sheetsDir], "team up, two people, new");
        report.twoPersonTeamUp = {
            seconds: run.seconds,
            engineSecondsPerPerson: engineSeconds(run.output),
            // What a new paused stack costs of DigitalOcean's API rate limit.
            apiRequestsPerPerson: (standin.state.requests().length - requestsBefore) / 2,
        };
        assert.equal(run.code, 0, run.output);
        assert.match(tableLine(run.output, "alice"), /^alice +- +created +\$\d/);
        assert.match(tableLine(run.output, "bob"), /^bob +- +created +\$\d/);
        assert.deepEqual(standin.state.createdDroplets(), []);
        assert.deepEqual(sortedVolumeNames(), ["jupyterlab-alice-notebooks", "jupyterlab-bob-notebooks"], "their volumes wait for them");
        assert.equal(fs.statSync(sheetsDir).mode & 0o777, 0o700);
        const alice = readSheet("alice");
        const bob = readSheet("bob");
        for (const sheet of [alice, bob]) {
            assert.equal(fs.statSync(sheet.file).mode & 0o777, 0o600, sheet.file);
            assert.match(
                sheet.text,
                new RegExp(`-----BEGIN ${["OPENSSH", "PRIVATE", "KEY"].join(" ")}-----`),
                "the generated SSH key is in the sheet",
            );
        }
        assert.equal(bob.password, bobPassword, "bob's password is the one from the roster's source");
        assert.match(alice.password, /^[A-Za-z0-9]{24}$/, "alice's was generated");
        for (const [stack, sheet] of [
            ["alice", alice],
            ["bob", bob],
        ] as const) {
            assert.match(sheet.text, /^url: \(none: the server is not up\)$/m, `${stack}'s sheet says the server is not up`);
            const output = (await cli.ok(["stack", "output", "password", "--show-secrets", `--stack=${stack}`])).stdout.trim();
            assert.equal(sheet.password, output, `${stack}'s sheet holds the password the stack's server takes`);
        }
        // Secrets: not in the terminal, not on any command line, not in plain text in the stack's config file.
        for (const secret of [
            alice.password,
            bob.password,
            alice.text.split("\n").find((l) => /^[A-Za-z0-9+/]{40,}$/.test(l)) ?? "no key line",
        ]) {
            assert.ok(!run.output.includes(secret), "a secret was printed");
            assert.ok(!run.processLists.some((list) => list.includes(secret)), "a secret was on a command line");
        }
        assert.ok(run.processLists.length >= run.seconds / 2, "the process list was sampled throughout");
        const bobConfig = fs.readFileSync(path.join(projectDir, "Pulumi.bob.yaml"), "utf8");
        assert.match(bobConfig, /jupyterlab-droplet:password:\n\s+secure: /);
        assert.ok(!bobConfig.includes(bobPassword));
    });

    test("a second `team up` with nothing changed: both unchanged", async () => {
        const run = await team(["up", writeRoster("team"), "--out", sheetsDir], "team up, unchanged");
        assert.equal(run.code, 0, run.output);
        assert.match(tableLine(run.output, "alice"), / unchanged /);
        assert.match(tableLine(run.output, "bob"), / unchanged /);
        assert.deepEqual(standin.state.createdDroplets(), [], "no droplet was created");
    });

    test("one person's droplet refused by DigitalOcean: named with its error; the others unchanged; exit code 1", async () => {
        const run = await team(
            ["up", writeRoster("withRefusedPerson"), "--out", sheetsDir, "--concurrency", "3"],
            "team up, third person refused",
        );
        assert.equal(run.code, 1, run.output);
        assert.match(tableLine(run.output, "dan"), /^dan +- +failed: .*Size is not available in this region\./);
        assert.match(tableLine(run.output, "alice"), / unchanged /);
        assert.match(tableLine(run.output, "bob"), / unchanged /);
        assert.deepEqual(standin.state.droplets(), []);
        assert.ok(!fs.existsSync(path.join(sheetsDir, "dan.txt")), "no sheet for a person without a server");
        assert.match(
            fs.readFileSync(path.join(sheetsDir, "dan.log"), "utf8"),
            /Size is not available in this region/,
            "the engine's log says why",
        );
    });

    test("`status`: the table from the outputs, nothing changed; stacks not in the roster are listed, by who made them", async () => {
        const callsBefore = standin.state.requests().length;
        const run = await team(["status", writeRoster("team")], "status");
        assert.equal(run.code, 0, run.output);
        assert.match(tableLine(run.output, "alice"), /^alice +- +paused +\$\d/);
        assert.match(tableLine(run.output, "bob"), /^bob +- +paused +\$\d/);
        // Dan's stack was made by this roster (its `up` failed after the marker was set); carol's by `pulumi new`.
        assert.match(run.output, /not on the roster, made by it, left as they are \(`down --prune` destroys them\): dan\n/);
        assert.match(run.output, /not made by this roster: left alone: carol \(no marker\)\n/);
        assert.equal(standin.state.requests().length, callsBefore, "status asked DigitalOcean nothing");
    });

    test("`down --only alice` destroys hers alone; another roster prunes nothing of ours; `down --prune` asks for --yes, then destroys only the stacks this roster made", async () => {
        const roster = writeRoster("team");
        const only = await team(["down", roster, "--only", "alice"], "down --only alice");
        assert.equal(only.code, 0, only.output);
        assert.match(tableLine(only.output, "alice"), / destroyed /);
        assert.deepEqual(standin.state.droplets(), [], "the servers are paused: no droplet");
        assert.deepEqual(await stackNames(), ["bob", "carol", "dan"]);

        // Another team's roster in the same backend, even with --yes: none of these stacks is its own.
        const callsBefore = changingCalls();
        const other = await team(["down", writeRoster("otherTeam"), "--prune", "--yes"], "down --prune --yes, another team's roster");
        assert.equal(other.code, 0, other.output);
        assert.match(other.output, /nothing to prune/);
        assert.match(
            other.output,
            /not made by this roster: left alone: bob \(marked "bob in [^"]+\/team\.yaml"\), carol \(no marker\), dan \(marked "dan in [^"]+\/team\.yaml"\)/,
        );
        assert.deepEqual(await stackNames(), ["bob", "carol", "dan"]);

        // No terminal (the test's pipes) and no --yes: the list, the hint, nothing destroyed.
        const refused = await team(["down", roster, "--prune"], "down --prune, no terminal");
        assert.equal(refused.code, 2, refused.output);
        assert.match(
            refused.output,
            /made by it, to destroy and remove \(notebooks too, unless retainData\): 1\n {2}dan {2}no server in its outputs\n/,
        );
        assert.match(refused.output, /not made by this roster: left alone: carol \(no marker\)/);
        assert.match(
            refused.output,
            /Nothing was destroyed \(no terminal to ask on, and no --yes\)\. To destroy the 1 stack listed: down --prune --yes/,
        );
        assert.doesNotMatch(refused.output, /^PERSON /m, "no table: nothing ran");
        assert.deepEqual(await stackNames(), ["bob", "carol", "dan"]);
        assert.deepEqual(standin.state.droplets(), [], "the servers are paused: no droplet");
        assert.equal(changingCalls(), callsBefore, "DigitalOcean was asked to change nothing");

        const prune = await team(["down", roster, "--prune", "--yes"], "down --prune --yes");
        assert.equal(prune.code, 0, prune.output);
        for (const stack of ["bob", "dan"]) {
            assert.match(tableLine(prune.output, stack), / destroyed /);
        }
        assert.doesNotMatch(prune.output.slice(prune.output.lastIndexOf("PERSON ")), /^carol /m, "carol's stack is not in the table");
        assert.match(prune.output, /not made by this roster: left alone: carol \(no marker\)/);
        assert.deepEqual(await stackNames(), ["carol"]);

        // Carol removes her own stack: `pulumi new` made it and a preview left nothing in it, so no --force.
        await new PulumiCli(newProjectDir, cli.environment).ok(["stack", "rm", "carol", "--yes"]);
        await standin.state.idle();
        assert.deepEqual(await stackNames(), []);
        assert.deepEqual(standin.state.droplets(), []);
        assert.deepEqual(standin.state.volumes(), [], "dan's volume, made before his droplet was refused, is gone too");
        assert.deepEqual(standin.state.sshKeys(), []);
        assert.deepEqual(standin.state.firewalls(), []);
        assert.deepEqual(backend.runningDroplets(), []);
        assert.deepEqual(standin.state.unknownCalls(), []);
    });
});
