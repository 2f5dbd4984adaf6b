// Nothing a user has is lost to a config change: a change that would delete the notebooks
// volume, or replace it with an empty one, is refused before any resource is registered, unless
// the user names that volume to say it is on purpose. The volume the stack has is looked up in
// the account by its name (every stack's volume is named after the stack): an API read, which
// leaves nothing in the state.
import * as digitalocean from "@pulumi/digitalocean";
import { ConfigError } from "./config";
import { dataVolumeName, legacyResourceBaseName, stackTags } from "./naming";

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
 * The volume `stack` has: the account's volume named `name`, or, for a stack whose names the
 * legacy rule made otherwise (a stack name too long for `jupyterlab-<stack>`), the volume the
 * legacy rule named, if it is this stack's. A volume keeps the name it was created with (a
 * DigitalOcean volume cannot be renamed), so a stack created before names got a hash still has
 * its volume under the legacy name. Undefined when there is none.
 */
export async function existingVolume(name: string, stack?: string): Promise<VolumeRecord | undefined> {
    const current = await volumeNamed(name);
    if (current !== undefined || stack === undefined) {
        return current?.record;
    }
    const legacyName = dataVolumeName(legacyResourceBaseName(stack));
    if (legacyName === name) {
        return undefined;
    }
    const legacy = await volumeNamed(legacyName);
    return legacy !== undefined && belongsTo(legacy.tags, stack) ? legacy.record : undefined;
}

/**
 * Whether a volume with these tags is `stack`'s. Two long stack names that begin alike had the
 * same legacy names, so the volume under a legacy name may be another stack's: the stack's tag
 * (`jupyterlab-droplet:<stack>`, never cut) tells. DigitalOcean's tags are case-insensitive. A
 * volume that carries no stack's tag at all (one a user untagged) counts as this stack's: its
 * checks then err on the side of refusing.
 */
function belongsTo(tags: string[], stack: string): boolean {
    const own = stackTags(stack)[1].toLowerCase();
    const stackTagged = tags.map((tag) => tag.toLowerCase()).filter((tag) => tag.startsWith("jupyterlab-droplet:"));
    return stackTagged.length === 0 || stackTagged.includes(own);
}

/**
 * The account's volume named `name`, in any region, with its tags: undefined when there is none.
 * Volumes of that name in several regions (a retained one beside its replacement) are a config
 * error: which one this stack means cannot be told.
 */
async function volumeNamed(name: string): Promise<{ record: VolumeRecord; tags: string[] } | undefined> {
    try {
        const volume = await digitalocean.getVolume({ name });
        return {
            record: { id: volume.id, name: volume.name, region: volume.region ?? "", sizeGb: volume.size },
            tags: volume.tags ?? [],
        };
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
