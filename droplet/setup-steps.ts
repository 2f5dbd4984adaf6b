// The remote setup, in order: every step's command line and stdin. RemoteSetup runs these
// through @pulumi/command. Secrets never appear on a command line: they travel on stdin.
import { certificatePayload } from "./acme-certificate";
import { renderFilePayload } from "./file-payload";
import { renderJupyterConfig } from "./jupyter-config";
import { kernelRequirements } from "./kernel-requirements";
import { loginGuardFiles } from "./login-guard";
import { volumeDevicePath } from "./server-layout";
import { inlineCommand, installedCommand, installedRunner, installedScript, RemoteScript } from "./step-scripts";
import { renderUnitDropIn } from "./systemd-unit";

/** What the setup is told: the stack's settings it carries to the droplet. */
export interface SetupArgs {
    jupyterlabVersion: string;
    jupyterPort: number;
    idleKernelMinutes: number;
    maxLoginFailures: number;
    banMinutes: number;
    pythonPackages: string[];
    /** The requirements file's text, when the stack names one. */
    requirementsText?: string;
    /** The data volume's name and size, when the notebooks live on one. */
    dataVolume?: { name: string; sizeGb: number };
    /** The server's domain; unset, the certificate step removes any ACME certificate. */
    domain?: string;
    acmeServer: string;
    acmeEmail?: string;
}

/** What only the configure step receives, and only on stdin. */
export interface SetupSecrets {
    hashedPassword: string;
    certPem: string;
    keyPem: string;
}

export type SetupRole =
    | "cloud-init"
    | "host-keys"
    | "host-key"
    | "scripts"
    | "login-guard"
    | "jupyterlab"
    | "kernel"
    | "configure"
    | "certificate"
    | "data-volume";

export interface SetupStep<Stdin> {
    /** The step's name; the Command resource is `<component>-<role>`. */
    role: SetupRole;
    command: string;
    stdin?: string | Stdin;
    /** Roles that must have run first. */
    after: SetupRole[];
    /**
     * Whether the step may connect before the droplet's host key is known, trusting whatever
     * answers: only the first steps, which carry no secret and change nothing. Every other step
     * checks the host key the host-key step read.
     */
    trustsFirstHostKey?: true;
}

/**
 * Every step with its stdin. `withSecrets` turns the configure step's rendering of the secrets
 * into its stdin: RemoteSetup applies it to the secret outputs; a test to plain values.
 */
export function setupSteps<Stdin>(args: SetupArgs, withSecrets: (render: (secrets: SetupSecrets) => string) => Stdin): SetupStep<Stdin>[] {
    const scripts = new Map<RemoteScript, ReturnType<typeof installedScript>>();
    const run = (role: SetupRole, script: RemoteScript, scriptArgs: (string | number)[] = []) => {
        const installed = scripts.get(script) ?? installedScript(script);
        scripts.set(script, installed);
        return installedCommand(role, installed, scriptArgs);
    };
    // With a data volume, the environments are kept on it for the next droplet (lib/volume-cache.sh).
    const volumeDevice = args.dataVolume === undefined ? [] : [volumeDevicePath(args.dataVolume.name)];
    const acme = args.domain === undefined ? ["", "", ""] : [args.domain, args.acmeServer, args.acmeEmail ?? ""];
    const installedSteps: SetupStep<Stdin>[] = [
        // Before JupyterLab first listens, so no password is ever tried unguarded.
        {
            role: "login-guard",
            command: run("login-guard", "configure-login-guard"),
            stdin: renderFilePayload(loginGuardFiles(args)),
            after: ["scripts"],
        },
        {
            role: "jupyterlab",
            command: run("jupyterlab", "install-jupyterlab", [args.jupyterlabVersion, ...volumeDevice]),
            after: ["scripts"],
        },
        // With uv of its own: it installs while JupyterLab's environment does.
        {
            role: "kernel",
            command: run("kernel", "install-kernel-packages", volumeDevice),
            stdin: kernelRequirements(args.pythonPackages, args.requirementsText),
            after: ["scripts"],
        },
        {
            role: "configure",
            command: run("configure", "configure-jupyter", [args.jupyterPort]),
            stdin: withSecrets((secrets) =>
                renderFilePayload({
                    "jupyter_server_config.json": renderJupyterConfig({
                        hashedPassword: secrets.hashedPassword,
                        port: args.jupyterPort,
                        idleKernelMinutes: args.idleKernelMinutes,
                    }),
                    "tls.crt": secrets.certPem,
                    "tls.key": secrets.keyPem,
                    "unit.conf": renderUnitDropIn({ dataVolume: args.dataVolume !== undefined }),
                }),
            ),
            after: ["login-guard", "jupyterlab", "kernel"],
        },
        // After configure, whose self-signed certificate JupyterLab serves if this step fails.
        // Only the domain's settings are arguments: without a domain, the ACME ones change nothing.
        {
            role: "certificate",
            command: run("certificate", "obtain-certificate", [
                ...acme,
                args.jupyterPort,
                ...(args.domain === undefined ? [] : volumeDevice),
            ]),
            stdin:
                args.domain === undefined
                    ? undefined
                    : certificatePayload({ domain: args.domain, jupyterPort: args.jupyterPort, volumeDevice: volumeDevice[0] }),
            after: ["configure"],
        },
        // A volume DigitalOcean has grown needs its filesystem grown too (after cloud-init's mount).
        ...(args.dataVolume === undefined
            ? []
            : [
                  {
                      role: "data-volume" as const,
                      command: run("data-volume", "grow-data-volume", [...volumeDevice, args.dataVolume.sizeGb]),
                      after: ["scripts" as const],
                  },
              ]),
    ];
    const copied = [installedRunner(), ...scripts.values()];
    return [
        { role: "cloud-init", command: inlineCommand("wait-for-cloud-init"), after: [], trustsFirstHostKey: true },
        // With a volume, the host keys of the droplet before (after cloud-init, which makes new ones).
        ...(args.dataVolume === undefined
            ? []
            : [
                  {
                      role: "host-keys" as const,
                      command: inlineCommand("keep-host-keys", volumeDevice),
                      after: ["cloud-init" as const],
                      trustsFirstHostKey: true as const,
                  },
              ]),
        // After cloud-init, which makes the droplet's host keys, and the kept keys' return.
        {
            role: "host-key",
            command: inlineCommand("read-host-key"),
            after: [args.dataVolume === undefined ? "cloud-init" : "host-keys"],
            trustsFirstHostKey: true,
        },
        // The scripts the other steps run, copied once: to the droplet whose host key was read.
        {
            role: "scripts",
            command: inlineCommand(
                "install-steps",
                copied.map((s) => s.name),
            ),
            stdin: renderFilePayload(Object.fromEntries(copied.map((s) => [s.name, s.text]))),
            after: ["host-key"],
        },
        ...installedSteps,
    ];
}
