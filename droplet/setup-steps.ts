// Builds the command lines that run the shell steps in droplet/steps/ on the server. The
// scripts are sent inline (nothing to copy first) and receive the server layout as
// environment variables; secrets never appear here, they travel on stdin.
import * as fs from "fs";
import * as path from "path";
import { layoutEnvironment, volumeDevicePath } from "./server-layout";

export const remoteScriptDir = path.join(__dirname, "steps");

export type RemoteScript =
    | "wait-for-cloud-init"
    | "install-jupyterlab"
    | "configure-jupyter"
    | "install-kernel-packages"
    | "configure-login-guard"
    | "obtain-certificate"
    | "deploy-certificate"
    | "grow-data-volume"
    | "read-host-key";

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** The shell functions (droplet/steps/lib/) each step calls, sent ahead of it. */
const stepLibraries: Partial<Record<RemoteScript, string[]>> = {
    "install-jupyterlab": ["setup-lock"],
    "install-kernel-packages": ["setup-lock"],
    "configure-jupyter": ["file-payload", "served-certificate"],
    "configure-login-guard": ["file-payload", "packages"],
    "obtain-certificate": ["file-payload", "packages", "served-certificate"],
    "deploy-certificate": ["served-certificate"],
};

export function readRemoteLibrary(name: string): string {
    return fs.readFileSync(path.join(remoteScriptDir, "lib", `${name}.sh`), "utf8");
}

/** A step's script with the functions it calls (nothing is copied to the server first). */
export function readRemoteScript(script: RemoteScript): string {
    const text = fs.readFileSync(path.join(remoteScriptDir, `${script}.sh`), "utf8");
    const libraries = (stepLibraries[script] ?? []).map((name) => readRemoteLibrary(name).replace(/^#!.*\n/, ""));
    // The step's own shebang stays first; its code runs after the functions are defined.
    const [shebang, ...body] = text.split("\n");
    return [shebang, ...libraries, ...body].join("\n");
}

/** A script that runs on its own later (certbot's hook): the server layout and `settings` set at its top. */
export function standaloneScript(script: RemoteScript, settings: Record<string, string>): string {
    const [shebang, ...body] = readRemoteScript(script).split("\n");
    const environment = Object.entries({ ...layoutEnvironment(), ...settings }).map(
        ([name, value]) => `export ${name}=${shellQuote(value)}`,
    );
    return [shebang, "# Written by jupyterlab-droplet: the server's layout and settings.", ...environment, ...body].join("\n");
}

/** `env JLD_...=... bash -c '<script>' <script> args...`: runs the same under any login shell. */
export function remoteCommand(script: RemoteScript, args: (string | number)[] = []): string {
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

export interface SetupStepsArgs {
    jupyterlabVersion: string;
    jupyterPort: number;
    /** The data volume's name and size, when the notebooks live on one. */
    dataVolume?: { name: string; sizeGb: number };
    /** The server's domain; unset, the certificate step removes any ACME certificate. */
    domain?: string;
    acmeServer: string;
    acmeEmail?: string;
}

export interface SetupStep<Stdin> {
    /** The step's name; the Command resource is `<component>-<role>`. */
    role: "cloud-init" | "host-key" | "login-guard" | "jupyterlab" | "kernel" | "configure" | "certificate" | "data-volume";
    command: string;
    stdin?: Stdin;
    /** Roles that must have run first. */
    after: SetupStep<Stdin>["role"][];
    /**
     * Whether the step may connect before the droplet's host key is known, trusting whatever
     * answers: only the first steps, which carry no secret and change nothing. Every other step
     * checks the host key the host-key step read.
     */
    trustsFirstHostKey?: true;
}

/** What each step reads on stdin (renderFilePayload's format for the files). */
export interface SetupStdin<Stdin> {
    /** fail2ban's jails, filter and settings. */
    loginGuard: Stdin;
    /** requirements.txt text for the kernel environment. */
    kernelRequirements: Stdin;
    /** The Jupyter config, certificate and key: secret. */
    jupyterConfig: Stdin;
    /** certbot's renewal hook, with a domain only. */
    certificate?: Stdin;
}

/**
 * The remote setup, in order: what RemoteSetup runs through @pulumi/command, and what the
 * local droplet test runs over ssh, so both run exactly the same commands with the same stdin.
 */
export function setupSteps<Stdin>(args: SetupStepsArgs, stdin: SetupStdin<Stdin>): SetupStep<Stdin>[] {
    return [
        { role: "cloud-init", command: remoteCommand("wait-for-cloud-init"), after: [], trustsFirstHostKey: true },
        // After cloud-init, which makes the droplet's host keys.
        { role: "host-key", command: remoteCommand("read-host-key"), after: ["cloud-init"], trustsFirstHostKey: true },
        // Before JupyterLab first listens, so no password is ever tried unguarded.
        { role: "login-guard", command: remoteCommand("configure-login-guard"), stdin: stdin.loginGuard, after: ["cloud-init"] },
        { role: "jupyterlab", command: remoteCommand("install-jupyterlab", [args.jupyterlabVersion]), after: ["cloud-init"] },
        // The kernel's packages are installed with the installer JupyterLab's environment brings.
        { role: "kernel", command: remoteCommand("install-kernel-packages"), stdin: stdin.kernelRequirements, after: ["jupyterlab"] },
        {
            role: "configure",
            command: remoteCommand("configure-jupyter", [args.jupyterPort]),
            stdin: stdin.jupyterConfig,
            after: ["login-guard", "jupyterlab", "kernel"],
        },
        // After configure, whose self-signed certificate JupyterLab serves if this step fails.
        { role: "certificate", command: certificateCommand(args), stdin: stdin.certificate, after: ["configure"] },
        // A volume DigitalOcean has grown needs its filesystem grown too (after cloud-init's mount).
        ...(args.dataVolume === undefined
            ? []
            : [
                  {
                      role: "data-volume" as const,
                      command: remoteCommand("grow-data-volume", [volumeDevicePath(args.dataVolume.name), args.dataVolume.sizeGb]),
                      after: ["cloud-init" as const],
                  },
              ]),
    ];
}

/** Only the domain's settings are arguments: without a domain, the ACME ones change nothing. */
function certificateCommand(args: SetupStepsArgs): string {
    const acme = args.domain === undefined ? ["", "", ""] : [args.domain, args.acmeServer, args.acmeEmail ?? ""];
    return remoteCommand("obtain-certificate", [...acme, args.jupyterPort]);
}
