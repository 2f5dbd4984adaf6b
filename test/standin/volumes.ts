/**
 * Block storage volumes: /v2/volumes (list by name and region, create, get, delete), their
 * actions (attach, detach, resize), DigitalOcean's name, size and filesystem rules, the backend
 * calls that make, grow and remove their disks, and the volume's JSON shape.
 */

import { randomUUID } from "node:crypto";

import { regionJson } from "./account";
import { actionJson, scopedActionRoutes, timedAction } from "./actions";
import { findRegion } from "./catalog";
import type { Cloud } from "./cloud";
import { ApiError, Fields, type JsonObject } from "./json-fields";
import type { VolumeRecord } from "./records";
import { list, route, type Ctx, type Reply, type Route } from "./routing";
import { checkTagName, ensureTag } from "./tags";
import { NOT_LOCAL, errorText, nowIso } from "./util";

const VOLUME_NAME = /^[a-z][a-z0-9-]{0,63}$/;
const FS_LABEL_LIMIT: Record<string, number> = { ext4: 16, xfs: 12 };
const MAX_VOLUME_GB = 16 * 1024;

export function volumeRoutes(cloud: Cloud): Route[] {
    return [
        route("GET", "/v2/volumes", (c) => listVolumes(cloud, c)),
        route("POST", "/v2/volumes", (c) => createVolume(cloud, c)),
        route("GET", "/v2/volumes/:str", (c) => ({ status: 200, body: { volume: volumeJson(cloud.volume(c.params[0])) } })),
        route("DELETE", "/v2/volumes/:str", (c) => deleteVolume(cloud, c)),
        ...scopedActionRoutes(cloud, "/v2/volumes/:str", "volume", (ref) => cloud.volume(ref).id),
        route("POST", "/v2/volumes/:str/actions", (c) => volumeAction(cloud, c)),
    ];
}

function listVolumes(cloud: Cloud, c: Ctx): Reply {
    const name = c.url.searchParams.get("name");
    const region = c.url.searchParams.get("region");
    const items = [...cloud.volumes.values()].filter((v) => (name === null || v.name === name) && (region === null || v.region === region));
    return list(
        c,
        "volumes",
        items.map((v) => volumeJson(v)),
    );
}

async function createVolume(cloud: Cloud, c: Ctx): Promise<Reply> {
    const f: Fields = Fields.root(c.body);
    const name = f.str("name");
    if (!VOLUME_NAME.test(name)) {
        throw ApiError.unprocessable(
            "name: must be lowercase, begin with a letter and hold only letters, numbers and '-', up to 64 characters",
        );
    }
    const snapshotId = f.optStr("snapshot_id") ?? "";
    if (snapshotId !== "") throw ApiError.unprocessable(`snapshot_id: volumes from snapshots ${NOT_LOCAL}`);
    const region = f.str("region");
    if (findRegion(region) === undefined) throw ApiError.unprocessable(`region: ${JSON.stringify(region)} is not a valid region`);
    const sizeGb = f.int("size_gigabytes");
    if (sizeGb < 1 || sizeGb > MAX_VOLUME_GB) {
        throw ApiError.unprocessable(`size_gigabytes: must be between 1 and ${MAX_VOLUME_GB}, got ${sizeGb}`);
    }
    const description = f.optStr("description") ?? "";
    const filesystemType = f.optStr("filesystem_type") ?? "";
    if (filesystemType !== "" && FS_LABEL_LIMIT[filesystemType] === undefined) {
        throw ApiError.unprocessable(`filesystem_type: must be "ext4" or "xfs", got ${JSON.stringify(filesystemType)}`);
    }
    const filesystemLabel = f.optStr("filesystem_label") ?? "";
    if (filesystemLabel !== "") {
        const limit = FS_LABEL_LIMIT[filesystemType];
        if (limit === undefined) throw ApiError.unprocessable("filesystem_label: may only be used together with filesystem_type");
        if (filesystemLabel.length > limit) {
            throw ApiError.unprocessable(`filesystem_label: ${filesystemType} labels are limited to ${limit} characters`);
        }
    }
    const tags = f.optStrArray("tags") ?? [];
    tags.forEach((t, i) => checkTagName(t, `tags[${i}]`));

    const nameKey = `${region}/${name}`;
    if (cloud.pendingVolumeNames.has(nameKey) || [...cloud.volumes.values()].some((v) => v.region === region && v.name === name)) {
        throw ApiError.conflict(`a volume named ${name} already exists in region ${region}; volume names are unique per region`);
    }
    const id = randomUUID();
    cloud.pendingVolumeNames.add(nameKey);
    try {
        await cloud.backend.createVolume({
            id,
            name,
            region,
            sizeGb,
            ...(filesystemType !== "" ? { filesystemType } : {}),
            ...(filesystemLabel !== "" ? { filesystemLabel } : {}),
        });
    } catch (e) {
        throw new ApiError(500, "server_error", `creating the volume's local disk failed: ${errorText(e)}`);
    } finally {
        cloud.pendingVolumeNames.delete(nameKey);
    }
    const volume: VolumeRecord = {
        id,
        name,
        region,
        sizeGb,
        description,
        filesystemType,
        filesystemLabel,
        createdAt: nowIso(),
        dropletIds: [],
        tags: tags.map((t) => ensureTag(cloud, t).name),
    };
    cloud.volumes.set(id, volume);
    return { status: 201, body: { volume: volumeJson(volume) } };
}

async function deleteVolume(cloud: Cloud, c: Ctx): Promise<Reply> {
    const v = cloud.volume(c.params[0]);
    if (v.dropletIds.length > 0) {
        throw ApiError.conflict(
            `A volume that's attached to a Droplet cannot be deleted: volume ${v.name} is attached to droplet ${v.dropletIds.join(", ")}; detach it first`,
        );
    }
    const holder = cloud.vmDisks.get(v.id);
    if (holder !== undefined) {
        // Detached in the API, but the local VM of that droplet still has the disk open.
        cloud.deferredVolumeDeletes.set(holder, [...(cloud.deferredVolumeDeletes.get(holder) ?? []), v.id]);
        cloud.log(`volume ${v.id} deleted; its disk goes when the VM of droplet ${holder} stops`);
    } else {
        try {
            await cloud.backend.deleteVolume(v.id);
        } catch (e) {
            throw new ApiError(500, "server_error", `deleting the volume's local disk failed: ${errorText(e)}`);
        }
    }
    cloud.volumes.delete(v.id);
    return { status: 204 };
}

async function volumeAction(cloud: Cloud, c: Ctx): Promise<Reply> {
    const v = cloud.volume(c.params[0]);
    const f: Fields = Fields.root(c.body);
    const type = f.str("type");
    const region = f.optStr("region");
    if (region !== undefined && region !== "" && region !== v.region) {
        throw ApiError.unprocessable(`region: volume ${v.name} is in ${v.region}, not ${region}`);
    }
    switch (type) {
        case "attach": {
            const dropletId = f.int("droplet_id");
            const d = cloud.droplets.get(dropletId);
            if (d === undefined || d.deleting) throw ApiError.unprocessable(`droplet_id: no droplet ${dropletId}`);
            if (d.region !== v.region) {
                throw ApiError.unprocessable(
                    `droplet_id: droplet ${dropletId} is in region ${d.region} and volume ${v.name} in ${v.region}; they must be in the same region`,
                );
            }
            if (v.dropletIds.includes(dropletId)) {
                throw ApiError.unprocessable(`droplet_id: volume ${v.name} is already attached to droplet ${dropletId}`);
            }
            if (v.dropletIds.length > 0) {
                throw ApiError.unprocessable(
                    `droplet_id: volume ${v.name} is already attached to droplet ${v.dropletIds.join(", ")}; a volume attaches to one droplet at a time`,
                );
            }
            throw ApiError.unprocessable(
                `type: attaching a volume to a droplet that already exists ${NOT_LOCAL} (its local VM cannot hot-plug disks); ` +
                    "attach volumes when the droplet is created, with volume_ids",
            );
        }
        case "detach": {
            const dropletId = f.int("droplet_id");
            const d = cloud.droplets.get(dropletId);
            if (!v.dropletIds.includes(dropletId) || d === undefined) {
                throw ApiError.unprocessable("droplet_id: Attachment not found");
            }
            v.dropletIds = v.dropletIds.filter((x) => x !== dropletId);
            d.volumeIds = d.volumeIds.filter((x) => x !== v.id);
            if (cloud.vmDisks.get(v.id) === dropletId && d.vmStopped === undefined) {
                const vm =
                    d.status === "off"
                        ? "powered-off VM keeps the disk until the droplet is deleted"
                        : "running VM keeps the disk until it stops";
                cloud.log(`volume ${v.id} detached from droplet ${dropletId} in the API; its ${vm}`);
            }
            return { status: 202, body: { action: actionJson(timedAction(cloud, "detach_volume", "volume", v.id, v.region)) } };
        }
        case "resize": {
            const sizeGb = f.int("size_gigabytes");
            if (sizeGb <= v.sizeGb) {
                throw ApiError.unprocessable(`size_gigabytes: a volume can only grow; it has ${v.sizeGb} GB, asked for ${sizeGb}`);
            }
            if (sizeGb > MAX_VOLUME_GB) throw ApiError.unprocessable(`size_gigabytes: at most ${MAX_VOLUME_GB}`);
            if (cloud.backend.resizeVolume !== undefined) {
                try {
                    await cloud.backend.resizeVolume({ id: v.id, sizeGb });
                } catch (e) {
                    throw new ApiError(500, "server_error", `resizing the volume's local disk failed: ${errorText(e)}`);
                }
            } else {
                cloud.log(`volume ${v.id} resized to ${sizeGb} GB in the API only: the backend cannot resize its disk`);
            }
            v.sizeGb = sizeGb;
            return { status: 202, body: { action: actionJson(timedAction(cloud, "resize_volume", "volume", v.id, v.region)) } };
        }
        default:
            throw ApiError.unprocessable(`type: volume action ${JSON.stringify(type)} ${NOT_LOCAL}`);
    }
}

export function volumeJson(v: VolumeRecord): JsonObject {
    return {
        id: v.id,
        region: regionJson(v.region),
        droplet_ids: [...v.dropletIds],
        name: v.name,
        description: v.description,
        size_gigabytes: v.sizeGb,
        created_at: v.createdAt,
        filesystem_type: v.filesystemType,
        filesystem_label: v.filesystemLabel,
        tags: [...v.tags],
    };
}
