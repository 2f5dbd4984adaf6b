import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { hashJupyterPassword, jupyterArgon2 } from "../droplet/password-hash";

export interface JupyterPasswordArgs {
    /** The user's password (a secret). Defaults to a generated 24-character one. */
    readonly password?: pulumi.Output<string>;
}

/** The JupyterLab password and its argon2 hash, both secrets. */
export class JupyterPassword extends pulumi.ComponentResource {
    public readonly password: pulumi.Output<string>;
    public readonly hash: pulumi.Output<string>;

    constructor(name: string, args: JupyterPasswordArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jupyterlab-droplet:index:JupyterPassword", name, {}, opts);
        this.password = pulumi.secret(
            args.password ??
                new random.RandomPassword(
                    `${name}-generated`,
                    {
                        length: 24,
                        special: false,
                    },
                    { parent: this },
                ).result,
        );
        // The salt lives in state, so the same password always hashes to the same value and a
        // second `pulumi up` changes nothing.
        const salt = new random.RandomBytes(`${name}-salt`, { length: jupyterArgon2.saltLength }, { parent: this });
        this.hash = pulumi.secret(
            pulumi
                .all([this.password, salt.base64])
                .apply(([password, saltBase64]) => hashJupyterPassword(password, Buffer.from(saltBase64, "base64"))),
        );
        this.registerOutputs({ password: this.password, hash: this.hash });
    }
}
