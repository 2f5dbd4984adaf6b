// Runs the real Pulumi CLI (built from Go modules by build-engine.sh) on a temporary copy of the
// project, with state in a local directory and the DigitalOcean provider pointed at the stand-in.
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const projectDir = path.resolve(__dirname, "..", "..");

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

/** How each engine binary was had: built (with its wall time), taken from the cache, or installed. */
export type EngineBuildTimes = Record<string, { how: "built" | "cached" | "installed"; seconds: number }>;

/**
 * The environment a test runs build-engine.sh in: `base` (the machine's), with a Pulumi home of
 * the test's own, empty. build-engine.sh takes a released plugin of the pinned version from
 * ${PULUMI_HOME:-~/.pulumi}/plugins instead of building it: one that a user once installed
 * (`pulumi plugin install`) would stand in for the build, or the refusal, that the test means to
 * see. HOME stays as it is: build-engine.sh reads it for nothing else than that default and its
 * engine cache (${JUPYTERLAB_DROPLET_CACHE:-~/.cache/jupyterlab-droplet}/engine, keyed by content,
 * so shared safely), and Go's own settings there (`go env -w`) are how the machine reaches modules.
 */
export function buildEngineEnvironment(pulumiHome: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    fs.mkdirSync(pulumiHome, { recursive: true });
    return { ...base, PULUMI_HOME: pulumiHome };
}

/**
 * Builds (or finds cached) the engine binaries named, or all of them; returns the bin directory,
 * how long that took, and each binary's build time. Always from the upstream sources (or the
 * engine cache): never a released plugin from the user's Pulumi home (buildEngineEnvironment).
 */
export function buildEngine(binaries: string[] = []): { binDir: string; seconds: number; binaries: EngineBuildTimes } {
    const started = Date.now();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "jld-build-"));
    const timesFile = path.join(scratch, "times");
    const result = spawnSync("bash", [path.join(__dirname, "build-engine.sh"), ...binaries], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...buildEngineEnvironment(path.join(scratch, "pulumi-home")), BUILD_ENGINE_TIMES: timesFile },
    });
    if (result.status !== 0) {
        throw new Error(`test/engine/build-engine.sh failed (exit ${result.status}); its log above names the file and the step`);
    }
    const binDir = result.stdout.trim().split("\n").pop() ?? "";
    if (!fs.existsSync(path.join(binDir, "pulumi"))) {
        throw new Error(`build-engine.sh printed no bin directory with pulumi in it: ${JSON.stringify(result.stdout)}`);
    }
    const times: EngineBuildTimes = {};
    for (const line of fs.readFileSync(timesFile, "utf8").trim().split("\n")) {
        const [name, how, seconds] = line.split(" ");
        times[name] = { how: how as EngineBuildTimes[string]["how"], seconds: Number(seconds) };
    }
    fs.rmSync(scratch, { recursive: true, force: true });
    return { binDir, seconds: (Date.now() - started) / 1000, binaries: times };
}

const providers = ["digitalocean", "command", "random", "tls"] as const;

/** The version package-lock.json pins for an npm package. */
function lockedVersion(pkg: string): string {
    const lock = JSON.parse(fs.readFileSync(path.join(projectDir, "package-lock.json"), "utf8")) as {
        packages: Record<string, { version?: string }>;
    };
    const version = lock.packages[`node_modules/${pkg}`]?.version;
    if (version === undefined) {
        throw new Error(`package-lock.json pins no version of ${pkg}`);
    }
    return version;
}

/**
 * Sets a Pulumi home up as a user's machine is after `pulumi plugin install`: the provider
 * plugins from the engine's bin directory, at the versions the npm SDKs ask for, in the plugin
 * cache. Returns a directory holding only the CLI and its language host, for PATH (a plugin on
 * PATH would win over the cache, with a warning on every command).
 */
export async function installPlugins(binDir: string, into: string, environment: NodeJS.ProcessEnv): Promise<string> {
    const cliDir = path.join(into, "cli");
    fs.mkdirSync(cliDir, { recursive: true });
    for (const name of ["pulumi", "pulumi-language-nodejs"]) {
        fs.linkSync(path.join(binDir, name), path.join(cliDir, name));
    }
    const cli = new PulumiCli(into, { ...environment, PATH: `${cliDir}:${process.env.PATH ?? ""}` });
    for (const provider of providers) {
        await cli.ok([
            "plugin",
            "install",
            "resource",
            provider,
            lockedVersion(`@pulumi/${provider}`),
            "--file",
            path.join(binDir, `pulumi-resource-${provider}`),
        ]);
    }
    return cliDir;
}

/** The program's own paths (package.json's "files"): what `npm run template` gives `pulumi new`. */
export function programFiles(packageJson = fs.readFileSync(path.join(projectDir, "package.json"), "utf8")): string[] {
    return (JSON.parse(packageJson) as { files: string[] }).files;
}

/** A copy of the program (what a user checks out), sharing the repo's node_modules. */
export function copyProject(into: string): string {
    const dir = path.join(into, "project");
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of [...programFiles(), "Pulumi.dev.yaml"]) {
        fs.cpSync(path.join(projectDir, entry), path.join(dir, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

export class PulumiCli {
    /** Wall time of every command run, in order, for the report. */
    readonly timings: { command: string; seconds: number }[] = [];

    constructor(
        private readonly cwd: string,
        readonly environment: NodeJS.ProcessEnv,
    ) {}

    /** The project directory it runs in. */
    get directory(): string {
        return this.cwd;
    }

    static environment(binDir: string, home: string, apiUrl: string): NodeJS.ProcessEnv {
        return {
            ...process.env,
            PATH: `${binDir}:${process.env.PATH ?? ""}`,
            PULUMI_HOME: path.join(home, "pulumi-home"),
            PULUMI_SKIP_UPDATE_CHECK: "1",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_CONFIG_PASSPHRASE: "engine test passphrase",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            // Unhides `--event-log`, which the tests read the per-resource times from.
            PULUMI_DEBUG_COMMANDS: "true",
            DIGITALOCEAN_TOKEN: "standin-token",
            DIGITALOCEAN_API_URL: apiUrl,
            HOME: home,
            // The remote setup logs in with the generated key, never through an agent of the caller.
            SSH_AUTH_SOCK: "",
        };
    }

    run(args: string[], options: RunOptions = {}): Promise<CliResult> {
        const started = Date.now();
        const eventArgs = options.eventLog === undefined ? [] : ["--event-log", options.eventLog];
        return new Promise((resolve, reject) => {
            const child = spawn("pulumi", ["--non-interactive", ...args, ...eventArgs], {
                cwd: this.cwd,
                env: { ...this.environment, ...options.env },
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d: Buffer) => {
                stdout += d.toString();
                if (options.echo) {
                    process.stderr.write(d);
                }
            });
            child.stderr.on("data", (d: Buffer) => {
                stderr += d.toString();
                if (options.echo) {
                    process.stderr.write(d);
                }
            });
            let interrupted: NodeJS.Timeout | undefined;
            if (options.interrupt !== undefined) {
                const { when, afterSeconds } = options.interrupt;
                const eventLog = options.eventLog;
                if (eventLog === undefined) {
                    throw new Error("interrupt needs an eventLog to watch");
                }
                interrupted = setInterval(() => {
                    if (fs.existsSync(eventLog) && readEvents(eventLog).some(when)) {
                        clearInterval(interrupted);
                        setTimeout(() => {
                            console.log(`[engine] Ctrl-C (one SIGINT) to pulumi ${args[0]}`);
                            child.kill("SIGINT");
                        }, afterSeconds * 1000);
                    }
                }, 1000);
            }
            child.on("error", reject);
            child.on("close", (code) => {
                clearInterval(interrupted);
                const seconds = Math.round((Date.now() - started) / 100) / 10;
                const command = `pulumi ${args.join(" ")}`;
                this.timings.push({ command, seconds });
                console.log(`[engine] ${command}: ${seconds} s (exit ${code})`);
                resolve({ code: code ?? -1, stdout, stderr, seconds });
            });
            child.stdin.end(options.stdin ?? "");
        });
    }

    async ok(args: string[], options: RunOptions = {}): Promise<CliResult> {
        const result = await this.run(args, options);
        if (result.code !== 0) {
            throw new Error(
                `pulumi ${args.join(" ")} failed (exit ${result.code}):\n${result.stdout.slice(-6000)}\n${result.stderr.slice(-4000)}`,
            );
        }
        return result;
    }
}

export interface RunOptions {
    stdin?: string;
    env?: NodeJS.ProcessEnv;
    echo?: boolean;
    /** Where the engine writes its event log (`--event-log`). */
    eventLog?: string;
    /** One SIGINT, as a user's Ctrl-C, afterSeconds after the first event that matches. */
    interrupt?: { when: (event: EngineEvent) => boolean; afterSeconds: number };
}

/** One line of the engine's event log (the fields the tests read). */
export interface EngineEvent {
    timestamp: number;
    resourcePreEvent?: { metadata: { op: string; urn: string } };
    resOutputsEvent?: { metadata: { op: string; urn: string } };
    resOpFailedEvent?: { metadata: { op: string; urn: string } };
    diagnosticEvent?: { message: string; severity: string; urn?: string };
}

export function readEvents(file: string): EngineEvent[] {
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .flatMap((line) => {
            try {
                return [JSON.parse(line) as EngineEvent];
            } catch {
                return []; // the engine may be writing this line right now
            }
        });
}

/** The resource's name in its URN (after the last "::"). */
export function urnName(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

/**
 * Seconds each resource's step took (from its create or update starting to its outputs), from an
 * event log; resources the engine left as they were, and default providers, are left out.
 */
export function secondsByResource(events: EngineEvent[]): Record<string, number> {
    const started = new Map<string, number>();
    const seconds: Record<string, number> = {};
    for (const event of events) {
        const pre = event.resourcePreEvent?.metadata;
        if (pre !== undefined && ["create", "update", "create-replacement"].includes(pre.op) && !pre.urn.includes("pulumi:providers:")) {
            started.set(pre.urn, event.timestamp);
        }
        const done = event.resOutputsEvent?.metadata;
        if (done !== undefined && started.has(done.urn)) {
            seconds[urnName(done.urn)] = event.timestamp - started.get(done.urn)!;
            started.delete(done.urn);
        }
    }
    return seconds;
}

/** What an `up` did to each resource it did not leave as it was (create, update, replace, delete...), from its event log. */
export function changedResources(events: EngineEvent[]): Record<string, string> {
    const changed: Record<string, string> = {};
    for (const event of events) {
        const pre = event.resourcePreEvent?.metadata;
        if (
            pre !== undefined &&
            pre.op !== "same" &&
            pre.op !== "read" &&
            !pre.urn.includes("pulumi:providers:") &&
            !pre.urn.includes("pulumi:pulumi:Stack")
        ) {
            changed[urnName(pre.urn)] = pre.op;
        }
    }
    return changed;
}

/** The program's paths at a commit: package.json's "files", or the paths before it listed them. */
function programFilesAt(commit: string): string[] {
    const packageJson = spawnSync("git", ["-C", projectDir, "show", `${commit}:package.json`], { encoding: "utf8" });
    const listed = packageJson.status === 0 ? (JSON.parse(packageJson.stdout) as { files?: string[] }).files : undefined;
    return (listed ?? ["index.ts", "components", "scripts", "Pulumi.yaml", "package.json", "tsconfig.json"]).filter(
        (entry) => ![".gitignore", "package-lock.json"].includes(entry),
    );
}

/**
 * The project as an earlier commit had it (the files copyProject copies), beside the current copy,
 * for an `up` with that version: git archive of `commit` from this repository.
 */
export function copyProjectAt(commit: string, into: string): string {
    const dir = path.join(into, `project-${commit.slice(0, 12)}`);
    fs.mkdirSync(dir, { recursive: true });
    const archive = spawnSync("git", ["-C", projectDir, "archive", "--format=tar", commit, ...programFilesAt(commit)], {
        maxBuffer: 256 * 1024 * 1024,
    });
    if (archive.status !== 0) {
        throw new Error(
            `git archive ${commit}: ${archive.stderr.toString()} (the engine suite needs the repository's history: a full clone, not a shallow one)`,
        );
    }
    execFileSync("tar", ["-x", "-C", dir], { input: archive.stdout });
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

/** One step of `pulumi preview --json`. */
export interface PreviewStep {
    op: string;
    urn: string;
}

export function previewSteps(json: string): PreviewStep[] {
    const parsed = JSON.parse(json) as { steps?: PreviewStep[] };
    return parsed.steps ?? [];
}

/** The operation planned for the resource whose URN ends with `::<name>`. */
export function opFor(steps: PreviewStep[], name: string): string {
    const step = steps.find((s) => s.urn.endsWith(`::${name}`));
    return step?.op ?? "same";
}
