import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface DataVolumeArgs {
    readonly volumeName: string;
    readonly region: string;
    readonly sizeGb: number;
    /** Keep the volume on `pulumi destroy`. Defaults to false. */
    readonly retain?: boolean;
    readonly tags: string[];
}

/** The block storage volume that holds the notebooks, so they outlive any droplet. */
export class DataVolume extends pulumi.ComponentResource {
    public readonly volumeId: pulumi.Output<string>;
    public readonly volumeName: pulumi.Output<string>;

    constructor(name: string, args: DataVolumeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jupyterlab-droplet:index:DataVolume", name, {}, opts);
        const volume = new digitalocean.Volume(
            `${name}-volume`,
            {
                name: args.volumeName,
                region: args.region,
                size: args.sizeGb,
                initialFilesystemType: "ext4",
                initialFilesystemLabel: "notebooks",
                description: "JupyterLab notebooks (jupyterlab-droplet)",
                tags: args.tags,
            },
            {
                parent: this,
                retainOnDelete: args.retain ?? false,
                // DigitalOcean cannot rename a volume: a new name replaces it with an empty one (the
                // provider's `name` is ForceNew). A volume keeps the name it was created with, e.g.
                // a stack's created under the legacy naming rule (config/naming.ts). A replacement
                // for another reason (a region given up with allowVolumeDeletion) keeps it too.
                ignoreChanges: ["name"],
            },
        );
        this.volumeId = volume.id;
        this.volumeName = volume.name;
        this.registerOutputs({ volumeId: this.volumeId, volumeName: this.volumeName });
    }
}
