import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface ReservedAddressArgs {
    readonly region: string;
}

/**
 * A DigitalOcean reserved IP: an address that outlives droplets, so the url, the certificate
 * (which names the address) and the SSH entry stay the same through pause, resume and
 * replacement. Free while assigned to a droplet; charged while not (see pricing.ts).
 */
export class ReservedAddress extends pulumi.ComponentResource {
    public readonly ipAddress: pulumi.Output<string>;

    constructor(
        private readonly name: string,
        args: ReservedAddressArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("jupyterlab-droplet:index:ReservedAddress", name, {}, opts);
        const reserved = new digitalocean.ReservedIp(`${name}-ip`, { region: args.region }, { parent: this });
        this.ipAddress = reserved.ipAddress;
        this.registerOutputs({ ipAddress: this.ipAddress });
    }

    /**
     * Points the address at a droplet. The result is the address once it reaches that droplet:
     * what must wait for it (the remote setup) takes it from here.
     */
    assignTo(dropletId: pulumi.Input<string>): pulumi.Output<string> {
        const assignment = new digitalocean.ReservedIpAssignment(
            `${this.name}-assignment`,
            {
                ipAddress: this.ipAddress,
                dropletId: pulumi.output(dropletId).apply(Number),
            },
            {
                parent: this,
                // A new droplet gets a new assignment: the old one goes first, while its droplet exists.
                deleteBeforeReplace: true,
            },
        );
        return assignment.ipAddress;
    }
}
