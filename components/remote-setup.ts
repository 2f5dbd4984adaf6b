import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { remoteCommand } from "./remote-scripts";

export interface RemoteSetupArgs {
    /** Every step runs again on a new droplet, even one that got an old droplet's address. */
    readonly dropletId: pulumi.Input<string>;
    readonly host: pulumi.Input<string>;
    /** The generated SSH private key; when undefined the user's SSH agent (SSH_AUTH_SOCK) logs in. */
    readonly privateKey?: pulumi.Input<string>;
    readonly jupyterlabVersion: string;
    readonly jupyterPort: number;
    /** The config, certificate and key for configure-jupyter.sh's stdin (renderConfigPayload). */
    readonly configPayload: pulumi.Input<string>;
    /** The kernel environment's requirements (requirements.txt text), possibly empty. */
    readonly kernelRequirements: string;
}

/**
 * Prepares the booted droplet over SSH: waits for cloud-init, installs JupyterLab and the
 * kernel's packages, pushes the config and restarts the server, then waits until it answers.
 * Each step runs again only when its own inputs change.
 */
export class RemoteSetup extends pulumi.ComponentResource {
    /** The droplet's ED25519 SSH host key, as `ssh-ed25519 AAAA...`. */
    public readonly hostKey: pulumi.Output<string>;
    /** What the last configure step printed (how long JupyterLab took to answer). */
    public readonly readyMessage: pulumi.Output<string>;

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
        const step = (role: string, create: string, extra: Partial<command.remote.CommandArgs>, dependsOn: pulumi.Resource[]) =>
            new command.remote.Command(`${name}-${role}`, {
                connection,
                create,
                triggers: [args.dropletId],
                addPreviousOutputInEnv: false,
                ...extra,
            }, { parent: this, dependsOn });

        const cloudInit = step("cloud-init", remoteCommand("wait-for-cloud-init"), {}, []);
        const hostKey = step("host-key", remoteCommand("read-host-key"), {}, [cloudInit]);
        const jupyterlab = step("jupyterlab", remoteCommand("install-jupyterlab", [args.jupyterlabVersion]), {}, [cloudInit]);
        const kernel = step("kernel", remoteCommand("install-kernel-packages"), { stdin: args.kernelRequirements }, [cloudInit]);
        const configure = step("configure", remoteCommand("configure-jupyter", [args.jupyterPort]), {
            stdin: pulumi.secret(args.configPayload),
            // A new JupyterLab needs a restart to run, and the check that it answers.
            triggers: [args.dropletId, args.jupyterlabVersion],
        }, [jupyterlab, kernel]);

        this.hostKey = hostKey.stdout.apply((out) => out.trim());
        this.readyMessage = configure.stdout.apply((out) => out.trim());
        this.registerOutputs({ hostKey: this.hostKey, readyMessage: this.readyMessage });
    }
}
