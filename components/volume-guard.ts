// Nothing a user has is lost to a config change: a change that would delete the notebooks
// volume, or replace it with an empty one, is refused before any resource is registered, unless
// the user names that volume to say it is on purpose. What the stack has now is read from its
// own last outputs (a stack reference to itself), the only record of it before the engine runs.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config";

/** The stack output that records the volume, for the next run to compare with. */
export const volumeOutputName = "dataVolume";

/** The volume a stack has, as its outputs record it. */
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
        return new ConfigError("dataVolumeGb", String(next.dataVolumeGb),
            `is smaller than ${volume}: DigitalOcean volumes can only grow. Set ${previous.sizeGb} or more`);
    }
    if (next.allowVolumeDeletion === previous.id) {
        return undefined;
    }
    const onPurpose = "To do it on purpose, copy your notebooks off first (scp, or a snapshot of the volume in the control panel), " +
        `then \`pulumi config set allowVolumeDeletion ${previous.id}\` and run \`pulumi up\` again`;
    if (next.dataVolumeGb === 0) {
        return new ConfigError("dataVolumeGb", "0", `would delete ${volume} and every notebook on it. ${onPurpose}`);
    }
    if (next.region !== previous.region) {
        return new ConfigError("region", JSON.stringify(next.region),
            `would replace ${volume} with an empty volume in ${next.region} (a volume cannot move between regions), ` +
            `and the notebooks with it. ${onPurpose}`);
    }
    return undefined;
}

/** Reads the volume record from this stack's last outputs: undefined for a new stack or one without a volume. */
export async function recordedVolume(): Promise<VolumeRecord | undefined> {
    const self = new pulumi.StackReference("previous-outputs", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails(volumeOutputName);
    const value = (details.value ?? details.secretValue) as Partial<VolumeRecord> | undefined;
    if (value === undefined || typeof value.id !== "string" || typeof value.region !== "string" || typeof value.sizeGb !== "number") {
        return undefined;
    }
    return { id: value.id, name: String(value.name), region: value.region, sizeGb: value.sizeGb };
}
