// Nothing a user has is lost to a config change: a change that would delete the notebooks
// volume, or replace it with an empty one, is refused before any resource is registered, unless
// the user names that volume to say it is on purpose. The volume the stack has is looked up in
// the account by its name (every stack's volume is named after the stack): an API read, which
// leaves nothing in the state.
import * as digitalocean from "@pulumi/digitalocean";
import { ConfigError } from "./config";

/** The volume a stack has, as DigitalOcean describes it. */
export interface VolumeRecord {
    id: string;
    name: string;
    region: string;
    sizeGb: number;
}

export interface VolumeSettings {
    region: string;
    dataVolumeGb: number;
    /** The id of a volume the user agrees to lose. */
    allowVolumeDeletion?: string;
}

/** Why `next` must not be applied to a stack that has `previous`, or undefined when it may. */
export function volumeChangeProblem(previous: VolumeRecord | undefined, next: VolumeSettings): ConfigError | undefined {
    if (previous === undefined) {
        return undefined;
    }
    const volume = `the data volume ${previous.name} (id ${previous.id}, ${previous.sizeGb} GB in ${previous.region})`;
    if (next.dataVolumeGb > 0 && next.dataVolumeGb < previous.sizeGb && next.region === previous.region) {
        return new ConfigError(
            "dataVolumeGb",
            String(next.dataVolumeGb),
            `is smaller than ${volume}: DigitalOcean volumes can only grow. Set ${previous.sizeGb} or more`,
        );
    }
    if (next.allowVolumeDeletion === previous.id) {
        return undefined;
    }
    const onPurpose =
        "To do it on purpose, copy your notebooks off first (scp, or a snapshot of the volume in the control panel), " +
        `then \`pulumi config set allowVolumeDeletion ${previous.id}\` and run \`pulumi up\` again`;
    if (next.dataVolumeGb === 0) {
        return new ConfigError("dataVolumeGb", "0", `would delete ${volume} and every notebook on it. ${onPurpose}`);
    }
    if (next.region !== previous.region) {
        return new ConfigError(
            "region",
            JSON.stringify(next.region),
            `would replace ${volume} with an empty volume in ${next.region} (a volume cannot move between regions), ` +
                `and the notebooks with it. ${onPurpose}`,
        );
    }
    return undefined;
}

/**
 * The account's volume named `name`, in any region: undefined when there is none. Volumes of that
 * name in several regions (a retained one beside its replacement) are a config error: which one
 * this stack means cannot be told.
 */
export async function existingVolume(name: string): Promise<VolumeRecord | undefined> {
    try {
        const volume = await digitalocean.getVolume({ name });
        return { id: volume.id, name: volume.name, region: volume.region ?? "", sizeGb: volume.size };
    } catch (e) {
        const message = (e as Error).message;
        if (message.includes(`no volumes found with name ${name}`)) {
            return undefined;
        }
        if (message.includes(`too many volumes found with name ${name}`)) {
            throw new ConfigError(
                "dataVolumeGb",
                "(any)",
                `cannot be checked: the account has volumes named ${name} in several regions. ` +
                    "Delete or rename the one this stack no longer uses (Volumes, in the control panel)",
            );
        }
        throw e;
    }
}
