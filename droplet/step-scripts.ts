// The setup's shell scripts (droplet/steps/) as the droplet receives them: each with the shell
// functions it calls (droplet/steps/lib/) and the server layout as environment variables. The
// first steps run inline, as nothing is on the droplet yet; the install-steps step copies every
// other step's script to the droplet once, and those run by path through run-step.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { layoutEnvironment, serverLayout } from "./server-layout";

export const remoteScriptDir = path.join(__dirname, "steps");

export type RemoteScript =
    | "wait-for-cloud-init"
    | "read-host-key"
    | "keep-host-keys"
    | "install-steps"
    | "run-step"
    | "install-jupyterlab"
    | "configure-jupyter"
    | "install-kernel-packages"
    | "configure-login-guard"
    | "obtain-certificate"
    | "deploy-certificate"
    | "grow-data-volume";

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** The shell functions (droplet/steps/lib/) each script calls, made part of it. */
const scriptLibraries: Partial<Record<RemoteScript, string[]>> = {
    "install-steps": ["file-payload"],
    "keep-host-keys": ["volume-cache"],
    "install-jupyterlab": ["setup-lock", "environment", "volume-cache"],
    "install-kernel-packages": ["setup-lock", "environment", "volume-cache"],
    "configure-jupyter": ["file-payload", "served-certificate"],
    "configure-login-guard": ["file-payload", "packages"],
    "obtain-certificate": ["file-payload", "packages", "served-certificate", "volume-cache"],
    "deploy-certificate": ["served-certificate", "volume-cache"],
};

export function readRemoteLibrary(name: string): string {
    return fs.readFileSync(path.join(remoteScriptDir, "lib", `${name}.sh`), "utf8");
}

/** A step's script with the functions it calls. */
export function readRemoteScript(script: RemoteScript): string {
    const text = fs.readFileSync(path.join(remoteScriptDir, `${script}.sh`), "utf8");
    const libraries = (scriptLibraries[script] ?? []).map((name) => readRemoteLibrary(name).replace(/^#!.*\n/, ""));
    // The step's own shebang stays first; its code runs after the functions are defined.
    const [shebang, ...body] = text.split("\n");
    return [shebang, ...libraries, ...body].join("\n");
}

/** A script that runs on its own on the droplet: the server layout and `settings` set at its top. */
export function standaloneScript(script: RemoteScript, settings: Record<string, string> = {}): string {
    const [shebang, ...body] = readRemoteScript(script).split("\n");
    const environment = Object.entries({ ...layoutEnvironment(), ...settings }).map(
        ([name, value]) => `export ${name}=${shellQuote(value)}`,
    );
    return [shebang, "# Written by jupyterlab-droplet: the server's layout and settings.", ...environment, ...body].join("\n");
}

/** A script as installed in serverLayout.stepsDir: its name carries a hash of its content. */
export interface InstalledScript {
    readonly name: string;
    readonly text: string;
}

export function installedScript(script: RemoteScript): InstalledScript {
    const text = standaloneScript(script);
    return { name: `${script}-${createHash("sha256").update(text).digest("hex").slice(0, 12)}.sh`, text };
}

/** run-step itself, at a fixed path: every installed step's command names it. */
export function installedRunner(): InstalledScript {
    return { name: path.basename(serverLayout.stepRunner), text: standaloneScript("run-step") };
}

/** `env JLD_...=... bash -c '<script>' <script> args...`: a script sent inline, run the same under any login shell. */
export function inlineCommand(script: RemoteScript, args: (string | number)[] = []): string {
    const environment = Object.entries(layoutEnvironment()).map(([name, value]) => `${name}=${shellQuote(value)}`);
    return [
        "env",
        ...environment,
        "bash",
        "-c",
        shellQuote(readRemoteScript(script)),
        script,
        ...args.map((a) => shellQuote(String(a))),
    ].join(" ");
}

/** `<stepRunner> ROLE <script>-<hash>.sh args...`: an installed script, run by path. */
export function installedCommand(role: string, script: InstalledScript, args: (string | number)[] = []): string {
    return [serverLayout.stepRunner, role, script.name, ...args.map((a) => shellQuote(String(a)))].join(" ");
}
