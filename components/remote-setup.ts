import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { certificatePayload } from "../droplet/acme-certificate";
import { setupSteps } from "../droplet/setup-steps";

export interface RemoteSetupArgs {
    /** Every step runs again on a new droplet, even one that got an old droplet's address. */
    readonly dropletId: pulumi.Input<string>;
    readonly host: pulumi.Input<string>;
    /** The generated SSH private key; when undefined the user's SSH agent (SSH_AUTH_SOCK) logs in. */
    readonly privateKey?: pulumi.Input<string>;
    readonly jupyterlabVersion: string;
    readonly jupyterPort: number;
    /** The config, certificate and key for configure-jupyter.sh's stdin (renderFilePayload). */
    readonly configPayload: pulumi.Input<string>;
    /** fail2ban's files for configure-login-guard.sh's stdin (renderFilePayload). */
    readonly loginGuardPayload: string;
    /** The kernel environment's requirements (requirements.txt text), possibly empty. */
    readonly kernelRequirements: string;
    /** The server's domain, for a certificate from acmeServer; unset, it serves the self-signed one. */
    readonly domain?: string;
    /** The domain's DNS record: the certificate step waits for it, as the ACME server looks the name up. */
    readonly domainRecord?: pulumi.Resource;
    readonly acmeServer: string;
    readonly acmeEmail?: string;
    /** The notebooks volume, when there is one: its filesystem is grown after the volume is. */
    readonly dataVolume?: { readonly name: string; readonly sizeGb: number; readonly resource: pulumi.Resource };
}

/**
 * Prepares the booted droplet over SSH: waits for cloud-init, sets up fail2ban, installs
 * JupyterLab and the kernel's packages, pushes the config and restarts the server, then waits until it answers;
 * last, with a domain, gets and serves an ACME certificate (or, without one, serves the self-signed one).
 * Each step runs again only when its own inputs change, or on a new droplet.
 */
export class RemoteSetup extends pulumi.ComponentResource {
    /** The droplet's ED25519 SSH host key, as `ssh-ed25519 AAAA...`. */
    public readonly hostKey: pulumi.Output<string>;
    /** What the configure step printed (how long JupyterLab took to answer). */
    public readonly readyMessage: pulumi.Output<string>;
    /** What the certificate step printed: the certificate served, its serial and expiry. */
    public readonly certificateReport: pulumi.Output<string>;

    constructor(name: string, args: RemoteSetupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jupyterlab-droplet:index:RemoteSetup", name, {}, opts);
        const connection: command.types.input.remote.ConnectionArgs = {
            host: args.host,
            user: "root",
            privateKey: args.privateKey,
            // A new droplet refuses connections until sshd is up: keep trying for several minutes.
            dialErrorLimit: 100,
            perDialTimeout: 15,
        };
        const steps = setupSteps<pulumi.Input<string>>(args, {
            loginGuard: args.loginGuardPayload,
            kernelRequirements: args.kernelRequirements,
            jupyterConfig: pulumi.secret(args.configPayload),
            certificate: args.domain === undefined ? undefined : certificatePayload({ domain: args.domain, jupyterPort: args.jupyterPort }),
        });
        const stepTriggers: Partial<Record<(typeof steps)[number]["role"], pulumi.Input<string>[]>> = {
            // A new JupyterLab needs the configure step's restart and its check that it answers.
            configure: [args.jupyterlabVersion],
        };
        const stepDependencies: Partial<Record<(typeof steps)[number]["role"], pulumi.Resource[]>> = {
            certificate: args.domainRecord === undefined ? [] : [args.domainRecord],
            // After DigitalOcean has grown the volume.
            "data-volume": args.dataVolume === undefined ? [] : [args.dataVolume.resource],
        };
        const created = new Map<string, command.remote.Command>();
        let hostKey: pulumi.Output<string> | undefined;
        for (const step of steps) {
            if (!step.trustsFirstHostKey && hostKey === undefined) {
                throw new Error(`the setup step ${step.role} would run before the droplet's host key is known`);
            }
            const stepCommand = new command.remote.Command(
                `${name}-${step.role}`,
                {
                    // Only the first steps trust whatever answers; the rest connect only to the droplet whose
                    // host key was read then, and its sshd is up: a wrong key fails the step within a minute.
                    connection: step.trustsFirstHostKey ? connection : { ...connection, hostKey, dialErrorLimit: 20 },
                    create: step.command,
                    stdin: step.stdin,
                    triggers: [args.dropletId, ...(stepTriggers[step.role] ?? [])],
                    addPreviousOutputInEnv: false,
                },
                { parent: this, dependsOn: [...step.after.map((role) => created.get(role)!), ...(stepDependencies[step.role] ?? [])] },
            );
            created.set(step.role, stepCommand);
            if (step.role === "host-key") {
                hostKey = stepCommand.stdout.apply((out) => out.trim());
            }
        }
        this.hostKey = hostKey!;
        this.readyMessage = created.get("configure")!.stdout.apply((out) => out.trim());
        this.certificateReport = created.get("certificate")!.stdout.apply((out) => out.trim().split("\n").pop() ?? "");
        this.registerOutputs({ hostKey: this.hostKey, readyMessage: this.readyMessage, certificateReport: this.certificateReport });
    }
}
