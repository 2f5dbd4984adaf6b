// One person's stack through the Automation API: its config brought to the roster's, then `up`,
// `destroy` or its outputs. Every operation runs the Pulumi CLI on this project's directory.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EngineEvent, LocalWorkspace, OutputMap, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { namespace } from "../../config/config";
import { passphraseGiven, passphraseInEnvironment, PassphraseNotSet, passphraseProblem } from "./passphrase";
import { markerKey, staleConfigKeys } from "./prune";
import { firstErrorLine, PersonState, progressText, stateFromChanges } from "./report";
import { RosterValue } from "./roster";

export interface StackResult {
    stack: string;
    state: PersonState;
    error?: string;
    outputs: OutputMap;
}

/** What each run reports as it goes: a progress line, and the engine's own text for the log. */
export interface RunListener {
    progress: (text: string) => void;
    output: (text: string) => void;
}

export class TeamWorkspace {
    private constructor(
        private readonly workspace: LocalWorkspace,
        private readonly pulumi: PulumiCommand,
        private readonly projectDir: string,
    ) {}

    /** The project's workspace, on the Pulumi CLI found on PATH. */
    static async open(projectDir: string): Promise<TeamWorkspace> {
        const pulumi = await PulumiCommand.get();
        return new TeamWorkspace(await LocalWorkspace.create({ workDir: projectDir, pulumiCommand: pulumi }), pulumi, projectDir);
    }

    /** The names of this project's stacks in the current backend. */
    async stackNames(): Promise<string[]> {
        // Some backends name stacks organization/project/stack.
        return (await this.workspace.listStacks()).map((s) => s.name.split("/").pop() ?? s.name);
    }

    /**
     * Creates or selects the stack, sets its config to exactly `config` (and the password, if
     * given) with the roster's `marker`, runs `up`. The marker is set before `up`, so a stack
     * whose `up` fails is marked too.
     */
    async up(
        stackName: string,
        config: Record<string, RosterValue>,
        password: string | undefined,
        marker: string,
        listener: RunListener,
    ): Promise<StackResult> {
        return this.attempt(stackName, listener, async (onEvent) => {
            const stack = await Stack.createOrSelect(stackName, this.workspace);
            await this.setConfig(stackName, config, password, marker);
            const result = await stack.up({ onEvent, onOutput: listener.output });
            return { stack: stackName, state: stateFromChanges(result.summary.resourceChanges), outputs: result.outputs };
        });
    }

    /** Destroys everything the stack holds, then removes the stack (and its config file). */
    async down(stackName: string, listener: RunListener): Promise<StackResult> {
        return this.attempt(stackName, listener, async (onEvent) => {
            const stack = await Stack.select(stackName, this.workspace);
            await stack.destroy({ onEvent, onOutput: listener.output });
            await this.workspace.removeStack(stackName);
            return { stack: stackName, state: "destroyed", outputs: {} };
        });
    }

    /**
     * The roster marker in the stack's own file, if it has one: a stack made in another directory
     * has no file here, and a file that cannot be read counts as unmarked (never pruned).
     */
    async marker(stackName: string): Promise<string | undefined> {
        try {
            const value = (await this.configInStackFile(stackName))[markerKey];
            return typeof value === "string" ? value : undefined;
        } catch {
            return undefined;
        }
    }

    /** The backend the CLI is logged in to (its URL, as `pulumi whoami` gives it), or undefined when that cannot be told. */
    async backendUrl(): Promise<string | undefined> {
        try {
            return (await this.workspace.whoAmI()).url;
        } catch {
            return undefined;
        }
    }

    /** The secrets provider the stack's own file names, if it has a file that names one. */
    async secretsProvider(stackName: string): Promise<string | undefined> {
        try {
            return (await this.workspace.stackSettings(stackName)).secretsProvider;
        } catch {
            return undefined;
        }
    }

    /**
     * Refuses (PassphraseNotSet) before any of `stacks` is touched when one keeps its secrets with a
     * passphrase and the environment gives the CLI none. Asks the CLI nothing when it has one.
     */
    async requirePassphrase(stacks: string[]): Promise<void> {
        const given = passphraseInEnvironment(process.env);
        let fileProblem: string | undefined;
        if (given?.kind === "file") {
            try {
                // The CLI runs in the project directory, and reads a relative path from there.
                fs.accessSync(path.resolve(this.projectDir, given.file), fs.constants.R_OK);
            } catch (e) {
                fileProblem = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
            }
        }
        if (passphraseGiven(process.env, fileProblem) || stacks.length === 0) {
            return;
        }
        const [backendUrl, secretsProviders] = await Promise.all([
            this.backendUrl(),
            Promise.all(stacks.map((stack) => this.secretsProvider(stack))),
        ]);
        const problem = passphraseProblem({ env: process.env, fileProblem, backendUrl, secretsProviders });
        if (problem !== undefined) {
            throw new PassphraseNotSet(problem);
        }
    }

    /** The stack's outputs (secrets included, for the caller to keep out of sight); runs no program. */
    outputs(stackName: string): Promise<OutputMap> {
        return this.workspace.stackOutputs(stackName);
    }

    /** Runs one operation, turning the engine's events into progress and a failure into its first error line. */
    private async attempt(
        stackName: string,
        listener: RunListener,
        operation: (onEvent: (event: EngineEvent) => void) => Promise<StackResult>,
    ): Promise<StackResult> {
        const errors: string[] = [];
        const onEvent = (event: EngineEvent) => {
            const text = progressText(event);
            if (text !== undefined) {
                listener.progress(text);
            }
            if (event.diagnosticEvent?.severity === "error") {
                errors.push(event.diagnosticEvent.message);
            }
        };
        try {
            const result = await operation(onEvent);
            listener.progress(result.state);
            return result;
        } catch (e) {
            const error = firstErrorLine(errors, (e as Error).message);
            listener.progress(`failed: ${error}`);
            return { stack: stackName, state: "failed", error, outputs: {} };
        }
    }

    /**
     * Makes the stack's config exactly the roster's: the program's keys it no longer names are
     * removed, so the program's defaults apply again; the marker (in its own namespace) is set
     * first. Plain values go on the CLI's command line; the password never does (the Automation
     * API's setConfig would put it there): it goes through stdin.
     */
    private async setConfig(
        stackName: string,
        config: Record<string, RosterValue>,
        password: string | undefined,
        marker: string,
    ): Promise<void> {
        const fullKey = (key: string) => `${namespace}:${key}`;
        await this.workspace.setAllConfigJson(
            stackName,
            JSON.stringify({
                [markerKey]: { value: marker },
                ...Object.fromEntries(
                    Object.entries(config).map(([key, value]) => [
                        fullKey(key),
                        Array.isArray(value) ? { value: JSON.stringify(value), objectValue: value } : { value: String(value) },
                    ]),
                ),
            }),
        );
        const wanted = [...Object.keys(config), ...(password === undefined ? [] : ["password"])];
        // The file exists now: set-all has just written it.
        const stale = staleConfigKeys(Object.keys(await this.configInStackFile(stackName)), wanted);
        if (stale.length > 0) {
            await this.workspace.removeAllConfig(stackName, stale);
        }
        if (password !== undefined) {
            await this.cliWithStdin(["config", "set", "--secret", fullKey("password"), "--stack", stackName], password);
        }
    }

    /** The config in the stack's own file, not `pulumi config`'s, which adds Pulumi.yaml's defaults. */
    private async configInStackFile(stackName: string): Promise<Record<string, unknown>> {
        return (await this.workspace.stackSettings(stackName)).config ?? {};
    }

    /** The workspace's CLI with the environment the workspace gives it, and `input` on stdin. */
    private cliWithStdin(args: string[], input: string): Promise<void> {
        return new Promise((resolve, reject) => {
            const child = spawn(this.pulumi.command, [...args, "--non-interactive"], {
                cwd: this.projectDir,
                env: { ...process.env, ...this.workspace.envVars, PULUMI_AUTOMATION_API: "true" },
                stdio: ["pipe", "ignore", "pipe"],
            });
            let stderr = "";
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("error", reject);
            child.on("close", (code) =>
                code === 0 ? resolve() : reject(new Error(`pulumi ${args.slice(0, 2).join(" ")} failed (exit ${code}): ${stderr.trim()}`)),
            );
            child.stdin.end(input);
        });
    }
}
