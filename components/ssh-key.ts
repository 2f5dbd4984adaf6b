import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

export interface SshKeyArgs {
    /** The key's name in the DigitalOcean account. */
    readonly keyName: string;
    /** The user's own OpenSSH public key. Defaults to a generated ED25519 key. */
    readonly publicKey?: string;
}

/** The SSH key the droplet trusts for root: the user's own, or one generated here. */
export class SshKey extends pulumi.ComponentResource {
    public readonly fingerprint: pulumi.Output<string>;
    public readonly publicKey: pulumi.Output<string>;
    /** The generated private key (a secret); undefined when the user brought their own key. */
    public readonly privateKey?: pulumi.Output<string>;

    constructor(name: string, args: SshKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jupyterlab-droplet:index:SshKey", name, {}, opts);
        if (args.publicKey !== undefined) {
            this.publicKey = pulumi.output(args.publicKey);
        } else {
            const generated = new tls.PrivateKey(`${name}-private`, { algorithm: "ED25519" }, { parent: this });
            this.publicKey = generated.publicKeyOpenssh.apply((key) => key.trim());
            this.privateKey = pulumi.secret(generated.privateKeyOpenssh);
        }
        const registered = new digitalocean.SshKey(
            `${name}-do`,
            {
                name: args.keyName,
                publicKey: this.publicKey,
            },
            { parent: this },
        );
        this.fingerprint = registered.fingerprint;
        this.registerOutputs({ fingerprint: this.fingerprint, publicKey: this.publicKey });
    }
}
