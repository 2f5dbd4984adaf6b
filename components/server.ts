import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface ServerArgs {
    readonly dropletName: string;
    readonly region: string;
    readonly size: string;
    readonly image: string;
    readonly sshKeyFingerprints: pulumi.Input<string>[];
    /** Rendered by renderCloudInit: constant for the droplet's life, and never secret. */
    readonly userData: string;
    readonly volumeIds: pulumi.Input<string>[];
    readonly tags: string[];
}

/** The droplet itself. */
export class Server extends pulumi.ComponentResource {
    public readonly dropletId: pulumi.Output<string>;
    public readonly ipv4Address: pulumi.Output<string>;
    public readonly priceMonthly: pulumi.Output<number>;
    public readonly priceHourly: pulumi.Output<number>;

    constructor(name: string, args: ServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jupyterlab-droplet:index:Server", name, {}, opts);
        const droplet = new digitalocean.Droplet(
            `${name}-droplet`,
            {
                name: args.dropletName,
                region: args.region,
                size: args.size,
                image: args.image,
                sshKeys: args.sshKeyFingerprints,
                userData: args.userData,
                volumeIds: args.volumeIds,
                tags: args.tags,
                ipv6: false,
                // Shut the droplet down (and wait until it is off) before deleting it: a droplet deleted
                // while running loses whatever the kernel has not yet flushed to the volume, e.g. the
                // last notebook saves. The provider reads this flag only when it deletes the droplet:
                // turning it on is an in-place update that just records it, never a replacement.
                gracefulShutdown: true,
            },
            {
                parent: this,
                // A volume attaches to one droplet at a time: the old droplet must be gone before a
                // replacement can attach it.
                deleteBeforeReplace: true,
                // The provider gives a delete 60 s by default, shutdown included, and fails the delete
                // (leaving the droplet running) if the guest is not off by then: a busy droplet's
                // shutdown can take longer.
                customTimeouts: { delete: "10m" },
            },
        );
        this.dropletId = droplet.id;
        this.ipv4Address = droplet.ipv4Address;
        this.priceMonthly = droplet.priceMonthly;
        this.priceHourly = droplet.priceHourly;
        this.registerOutputs({ dropletId: this.dropletId, ipv4Address: this.ipv4Address });
    }
}
