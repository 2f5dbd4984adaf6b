// Runs the real Pulumi CLI (built from Go modules by build-engine.sh) on a temporary copy of the
// project, with state in a local directory and the DigitalOcean provider pointed at the stand-in.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const projectDir = path.resolve(__dirname, "..", "..");

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

/**
 * Builds (or finds cached) the engine binaries named, or all of them; returns the bin directory
 * and how long that took.
 */
export function buildEngine(binaries: string[] = []): { binDir: string; seconds: number } {
    const started = Date.now();
    const result = spawnSync("bash", [path.join(__dirname, "build-engine.sh"), ...binaries], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (result.status !== 0) {
        throw new Error(`test/engine/build-engine.sh failed (exit ${result.status}); its log is above`);
    }
    const binDir = result.stdout.trim().split("\n").pop() ?? "";
    if (!fs.existsSync(path.join(binDir, "pulumi"))) {
        throw new Error(`build-engine.sh printed no bin directory with pulumi in it: ${JSON.stringify(result.stdout)}`);
    }
    return { binDir, seconds: (Date.now() - started) / 1000 };
}

/** A copy of the program (what a user checks out), sharing the repo's node_modules. */
export function copyProject(into: string): string {
    const dir = path.join(into, "project");
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of ["index.ts", "components", "scripts", "Pulumi.yaml", "Pulumi.dev.yaml", "package.json", "tsconfig.json"]) {
        fs.cpSync(path.join(projectDir, entry), path.join(dir, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

export class PulumiCli {
    /** Wall time of every command run, in order, for the report. */
    readonly timings: { command: string; seconds: number }[] = [];

    constructor(private readonly cwd: string, readonly environment: NodeJS.ProcessEnv) {}

    static environment(binDir: string, home: string, apiUrl: string): NodeJS.ProcessEnv {
        return {
            ...process.env,
            PATH: `${binDir}:${process.env.PATH ?? ""}`,
            PULUMI_HOME: path.join(home, "pulumi-home"),
            PULUMI_SKIP_UPDATE_CHECK: "1",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_CONFIG_PASSPHRASE: "engine test passphrase",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            DIGITALOCEAN_TOKEN: "standin-token",
            DIGITALOCEAN_API_URL: apiUrl,
            HOME: home,
            // The remote setup logs in with the generated key, never through an agent of the caller.
            SSH_AUTH_SOCK: "",
        };
    }

    run(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; echo?: boolean } = {}): Promise<CliResult> {
        const started = Date.now();
        return new Promise((resolve, reject) => {
            const child = spawn("pulumi", ["--non-interactive", ...args], { cwd: this.cwd, env: { ...this.environment, ...options.env } });
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
            child.on("error", reject);
            child.on("close", (code) => {
                const seconds = Math.round((Date.now() - started) / 100) / 10;
                const command = `pulumi ${args.filter((a) => !a.startsWith("--stack=")).join(" ")}`;
                this.timings.push({ command, seconds });
                console.log(`[engine] ${command}: ${seconds} s (exit ${code})`);
                resolve({ code: code ?? -1, stdout, stderr, seconds });
            });
            child.stdin.end(options.stdin ?? "");
        });
    }

    async ok(args: string[], options: { stdin?: string; echo?: boolean } = {}): Promise<CliResult> {
        const result = await this.run(args, options);
        if (result.code !== 0) {
            throw new Error(`pulumi ${args.join(" ")} failed (exit ${result.code}):\n${result.stdout.slice(-6000)}\n${result.stderr.slice(-4000)}`);
        }
        return result;
    }
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
