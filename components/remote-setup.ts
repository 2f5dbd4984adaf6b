import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { SetupArgs, SetupRole, SetupSecrets, setupSteps } from "../droplet/setup-steps";

export interface RemoteSetupArgs {
    /** Every step runs again on a new droplet, even one that got an old droplet's address. */
    readonly dropletId: pulumi.Input<string>;
    readonly host: pulumi.Input<string>;
    /** The generated SSH private key; when undefined the user's SSH agent (SSH_AUTH_SOCK) logs in. */
    readonly privateKey?: pulumi.Input<string>;
    /** The stack's settings the setup carries to the droplet. */
    readonly settings: SetupArgs;
    /** The password hash, certificate and key: only the configure step gets them, on stdin. */
    readonly secrets: { readonly [K in keyof SetupSecrets]: pulumi.Input<string> };
    /** The domain's DNS record: the certificate step waits for it, as the ACME server looks the name up. */
    readonly domainRecord?: pulumi.Resource;
    /** The notebooks volume, when there is one: its filesystem is grown after DigitalOcean grows it. */
    readonly dataVolume?: pulumi.Resource;
}

/**
 * Prepares the booted droplet over SSH, in the steps droplet/setup-steps.ts lists: waits for
 * cloud-init, reads the host key, copies the steps' scripts, sets up fail2ban, installs JupyterLab
 * and the kernel's packages side by side, pushes the config and restarts the server, then waits
 * until it answers; last, with a domain, gets and serves an ACME certificate (or, without one,
 * serves the self-signed one). Each step runs again only when its own inputs (its script among
 * them) change, or on a new droplet.
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
        const steps = setupSteps(args.settings, (render) =>
            pulumi.secret(
                pulumi
                    .all([args.secrets.hashedPassword, args.secrets.certPem, args.secrets.keyPem])
                    .apply(([hashedPassword, certPem, keyPem]) => render({ hashedPassword, certPem, keyPem })),
            ),
        );
        const stepTriggers: Partial<Record<SetupRole, pulumi.Input<string>[]>> = {
            // A new JupyterLab needs the configure step's restart and its check that it answers.
            configure: [args.settings.jupyterlabVersion],
        };
        const stepDependencies: Partial<Record<SetupRole, pulumi.Resource[]>> = {
            certificate: args.domainRecord === undefined ? [] : [args.domainRecord],
            // After DigitalOcean has grown the volume.
            "data-volume": args.dataVolume === undefined ? [] : [args.dataVolume],
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
