/**
 * Droplets: /v2/droplets (list by tag or name, create, get, delete, a droplet's firewalls), the
 * checks of a create request, booting and stopping their VMs through the backend, and the
 * droplet's JSON shape. Droplet actions (power, resize, rename, ...) are in droplet-actions.ts.
 */

import { isIPv4 } from "node:net";

import { DROPLET_LIMIT, imageJson, regionJson, sizeJson } from "./account";
import { finishAction, newAction } from "./actions";
import { findImage, findRegion, findSize } from "./catalog";
import type { Cloud } from "./cloud";
import { firewallJson } from "./firewalls";
import { ApiError, Fields, describe, type Json, type JsonObject } from "./json-fields";
import type { DropletRecord, VolumeRecord } from "./records";
import { list, route, type Ctx, type Reply, type Route } from "./routing";
import { checkTagName, ensureTag } from "./tags";
import type { DropletSpec } from "./types";
import { NOT_LOCAL, errorText, nowIso, sleep } from "./util";

const USER_DATA_LIMIT_BYTES = 64 * 1024;
const DROPLET_NAME = /^[a-zA-Z0-9.-]{1,255}$/;
/** DigitalOcean's name pattern, ^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$, ends in a letter or digit. */
const DROPLET_NAME_END = /[a-zA-Z0-9]$/;

export function dropletRoutes(cloud: Cloud): Route[] {
    return [
        route("GET", "/v2/droplets", (c) => listDroplets(cloud, c)),
        route("POST", "/v2/droplets", (c) => createDroplet(cloud, c)),
        route("GET", "/v2/droplets/:num", (c) => ({ status: 200, body: { droplet: dropletJson(cloud.droplet(c.params[0])) } })),
        route("DELETE", "/v2/droplets/:num", (c) => deleteDroplet(cloud, c)),
        route("GET", "/v2/droplets/:num/firewalls", (c) => dropletFirewalls(cloud, c)),
    ];
}

/** A droplet's name, at create and at rename. */
export function checkDropletName(name: string): void {
    if (!DROPLET_NAME.test(name)) {
        throw ApiError.unprocessable("name: Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)");
    }
    if (!DROPLET_NAME_END.test(name)) {
        throw ApiError.unprocessable(`name: must end with a letter or digit (a-z, A-Z, 0-9), got ${JSON.stringify(name)}`);
    }
}

function listDroplets(cloud: Cloud, c: Ctx): Reply {
    const tagName = c.url.searchParams.get("tag_name");
    const name = c.url.searchParams.get("name");
    const items = [...cloud.droplets.values()].filter(
        (d) => (tagName === null || d.tags.some((t) => t.toLowerCase() === tagName.toLowerCase())) && (name === null || d.name === name),
    );
    return list(
        c,
        "droplets",
        items.map((d) => dropletJson(d)),
    );
}

function createDroplet(cloud: Cloud, c: Ctx): Reply {
    const f: Fields = Fields.root(c.body);
    if (f.has("names")) {
        throw ApiError.unprocessable(`names: creating several droplets in one request ${NOT_LOCAL}`);
    }
    const name = f.str("name");
    checkDropletName(name);
    const regionSlug = f.str("region");
    if (findRegion(regionSlug) === undefined) {
        throw ApiError.unprocessable(`region: You specified an invalid region for Droplet creation (${JSON.stringify(regionSlug)}).`);
    }
    const size = findSize(f.str("size"));
    if (size === undefined) {
        throw ApiError.unprocessable(
            `size: You specified an invalid size for Droplet creation (${JSON.stringify(f.raw("size") ?? null)}).`,
        );
    }
    if (!size.regions.includes(regionSlug)) {
        // DigitalOcean's own answer, word for word.
        throw ApiError.unprocessable("Size is not available in this region.");
    }
    const imageRef = f.raw("image");
    if (imageRef === undefined || imageRef === null) f.fail("image", "is required");
    if (typeof imageRef !== "string" && typeof imageRef !== "number") {
        f.fail("image", `must be an image slug or id, got ${describe(imageRef)}`);
    }
    const image = findImage(imageRef);
    if (image === undefined) {
        throw ApiError.unprocessable(`image: You specified an invalid image for Droplet creation (${JSON.stringify(imageRef)}).`);
    }

    const sshKeyIds = (f.optArray("ssh_keys") ?? []).map((ref, i) => {
        const field = `ssh_keys[${i}]`;
        if (typeof ref === "number" && Number.isSafeInteger(ref)) {
            const k = cloud.keys.get(ref);
            if (k === undefined) throw ApiError.unprocessable(`${field}: no SSH key with id ${ref} on this account`);
            return k.id;
        }
        if (typeof ref === "string") {
            const k = [...cloud.keys.values()].find((x) => x.fingerprint === ref || String(x.id) === ref);
            if (k === undefined) throw ApiError.unprocessable(`${field}: no SSH key with fingerprint ${ref} on this account`);
            return k.id;
        }
        throw ApiError.unprocessable(`${field}: must be an SSH key id or fingerprint, got ${describe(ref)}`);
    });

    const backups = f.optBool("backups") ?? false;
    if (f.optBool("ipv6") === true) {
        throw ApiError.unprocessable(`ipv6: IPv6 ${NOT_LOCAL}`);
    }
    f.optBool("private_networking");
    const monitoring = f.optBool("monitoring") ?? false;
    const agent = f.optBool("with_droplet_agent");
    if (f.optBool("public_networking") === false) {
        throw ApiError.unprocessable(`public_networking: a droplet without a public address ${NOT_LOCAL}`);
    }
    if (f.has("backup_policy")) {
        Fields.of(f.raw("backup_policy"), "backup_policy");
        if (!backups) throw ApiError.unprocessable("backup_policy: can only be set when backups are enabled");
    }
    if (f.has("gpu_partition_mode")) {
        throw ApiError.unprocessable(`gpu_partition_mode: GPU droplets ${NOT_LOCAL}`);
    }

    const userData = f.optStr("user_data") ?? "";
    if (Buffer.byteLength(userData, "utf8") > USER_DATA_LIMIT_BYTES) {
        throw ApiError.unprocessable(`user_data: is ${Buffer.byteLength(userData, "utf8")} bytes; DigitalOcean limits user data to 64 KiB`);
    }

    const vpcUuid = f.optStr("vpc_uuid");
    const regionVpc = cloud.vpcs.get(regionSlug) ?? "";
    if (vpcUuid !== undefined && vpcUuid !== "" && vpcUuid !== regionVpc) {
        throw ApiError.unprocessable(`vpc_uuid: no VPC ${vpcUuid} in region ${regionSlug} (its default VPC is ${regionVpc})`);
    }

    const tags = f.optStrArray("tags") ?? [];
    tags.forEach((t, i) => checkTagName(t, `tags[${i}]`));

    const volumes = resolveCreateVolumes(cloud, f, regionSlug);

    const live = [...cloud.droplets.values()].filter((x) => !x.deleting).length;
    if (live >= DROPLET_LIMIT) {
        throw ApiError.unprocessable(`creating this droplet would exceed your droplet limit of ${DROPLET_LIMIT}`);
    }

    const id = cloud.nextDropletId++;
    const features = [...(backups ? ["backups"] : []), ...(monitoring ? ["monitoring"] : []), ...(agent === true ? ["droplet_agent"] : [])];
    const droplet: DropletRecord = {
        id,
        name,
        region: regionSlug,
        size,
        image,
        disk: size.disk,
        status: "new",
        locked: false,
        createdAt: nowIso(),
        userData,
        sshKeyIds,
        volumeIds: volumes.map((v) => v.id),
        tags: tags.map((t) => ensureTag(cloud, t).name),
        features,
        vpcUuid: regionVpc,
        deleting: false,
        vm: Promise.resolve(),
    };
    cloud.droplets.set(id, droplet);
    cloud.createdDropletNames.push(name);

    // The disks of the volumes may still be held by the VM of a droplet being deleted.
    const waitFor: Promise<void>[] = [];
    for (const v of volumes) {
        v.dropletIds = [id];
        const holder = cloud.droplets.get(cloud.vmDisks.get(v.id) ?? -1);
        if (holder?.vmStopped !== undefined) waitFor.push(holder.vmStopped);
        cloud.vmDisks.set(v.id, id);
    }

    const action = newAction(cloud, "create", "droplet", id, regionSlug);
    const spec: DropletSpec = {
        id,
        name,
        region: regionSlug,
        image: image.slug,
        size: size.slug,
        memoryMb: size.memory,
        vcpus: size.vcpus,
        diskGb: size.disk,
        userData,
        authorizedKeys: sshKeyIds.map((k) => cloud.keys.get(k)?.publicKey ?? "").filter((k) => k !== ""),
        volumes: volumes.map((v) => ({ id: v.id, name: v.name })),
    };
    droplet.vm = cloud.track(async () => {
        await Promise.all(waitFor);
        try {
            const { ipv4 } = await cloud.backend.bootDroplet(spec);
            if (!isIPv4(ipv4)) throw new Error(`backend answered ${JSON.stringify(ipv4)}, not an IPv4 address`);
            droplet.ipv4 = ipv4;
            droplet.status = "active";
            finishAction(action, "completed");
            cloud.log(`droplet ${id} (${name}) is active at ${ipv4}`);
        } catch (e) {
            droplet.status = "off";
            droplet.bootError = errorText(e);
            finishAction(action, "errored");
            cloud.log(`droplet ${id} (${name}) failed to boot: ${droplet.bootError}`);
        }
    });

    return {
        status: 202,
        body: {
            droplet: dropletJson(droplet),
            links: { actions: [{ id: action.id, rel: "create", href: `${c.base}/v2/actions/${action.id}` }] },
        },
    };
}

/** The `volumes` of a droplet create request: ids (strings), `{id}` or `{name}` objects. */
function resolveCreateVolumes(cloud: Cloud, f: Fields, regionSlug: string): VolumeRecord[] {
    const refs = f.optArray("volumes") ?? [];
    const out: VolumeRecord[] = [];
    refs.forEach((ref, i) => {
        const field = `volumes[${i}]`;
        let volume: VolumeRecord | undefined;
        if (typeof ref === "string") {
            volume = cloud.volumes.get(ref);
            if (volume === undefined) throw ApiError.unprocessable(`${field}: no volume with id ${ref}`);
        } else if (ref !== null && typeof ref === "object" && !Array.isArray(ref)) {
            const vf: Fields = Fields.of(ref, field);
            if (vf.has("id")) {
                const vid = vf.str("id");
                volume = cloud.volumes.get(vid);
                if (volume === undefined) throw ApiError.unprocessable(`${field}.id: no volume with id ${vid}`);
            } else {
                const vname = vf.str("name");
                volume = [...cloud.volumes.values()].find((v) => v.name === vname && v.region === regionSlug);
                if (volume === undefined) {
                    throw ApiError.unprocessable(`${field}.name: no volume named ${vname} in region ${regionSlug}`);
                }
            }
        } else {
            throw ApiError.unprocessable(`${field}: must be a volume id or an object with id or name, got ${describe(ref)}`);
        }
        if (out.includes(volume)) throw ApiError.unprocessable(`${field}: volume ${volume.id} is named twice`);
        if (volume.region !== regionSlug) {
            throw ApiError.unprocessable(
                `${field}: volume ${volume.name} is in region ${volume.region}; a droplet in ${regionSlug} cannot attach it`,
            );
        }
        if (volume.dropletIds.length > 0) {
            throw ApiError.unprocessable(
                `${field}: volume ${volume.name} (${volume.id}) is already attached to droplet ${volume.dropletIds.join(", ")}`,
            );
        }
        const holder = cloud.droplets.get(cloud.vmDisks.get(volume.id) ?? -1);
        if (holder !== undefined && holder.vmStopped === undefined) {
            throw ApiError.unprocessable(
                `${field}: volume ${volume.name} was detached from droplet ${holder.id}, whose running local VM still uses its disk; ` +
                    `detaching from a running droplet takes effect locally only when that droplet is deleted`,
            );
        }
        out.push(volume);
    });
    if (out.length > 7) throw ApiError.unprocessable("volumes: a droplet can have at most 7 volumes attached");
    return out;
}

function deleteDroplet(cloud: Cloud, c: Ctx): Reply {
    const d = cloud.droplet(c.params[0]);
    if (d.deleting) return { status: 204 };
    if (d.locked) throw ApiError.unprocessable("Droplet already has a pending event.");
    d.deleting = true;
    // As on DigitalOcean, deleting a droplet unassigns its reserved IP (which stays on the account).
    for (const reserved of cloud.reservedIps.values()) {
        if (reserved.dropletId === d.id) {
            reserved.dropletId = undefined;
            void cloud.track(() => cloud.backend.routeReservedIp?.(reserved.ip, undefined) ?? Promise.resolve());
        }
    }
    const stopped = stopVm(cloud, d);
    d.vmStopped = stopped;
    void cloud.track(async () => {
        await Promise.all([stopped, sleep(cloud.deleteDelayMs)]);
        removeDroplet(cloud, d);
    });
    return { status: 204 };
}

/** Stops the droplet's VM after whatever it is doing; releases the volume disks it held. */
function stopVm(cloud: Cloud, d: DropletRecord): Promise<void> {
    const stopped = d.vm.then(async () => {
        try {
            await cloud.backend.stopDroplet(d.id);
        } catch (e) {
            cloud.log(`stopping the VM of droplet ${d.id} failed: ${errorText(e)}`);
        }
        d.status = "off";
        for (const [volumeId, holder] of [...cloud.vmDisks]) {
            if (holder === d.id) cloud.vmDisks.delete(volumeId);
        }
        for (const volumeId of cloud.deferredVolumeDeletes.get(d.id) ?? []) {
            try {
                await cloud.backend.deleteVolume(volumeId);
            } catch (e) {
                cloud.log(`deleting the disk of volume ${volumeId} failed: ${errorText(e)}`);
            }
        }
        cloud.deferredVolumeDeletes.delete(d.id);
    });
    d.vm = stopped;
    return cloud.track(() => stopped);
}

function removeDroplet(cloud: Cloud, d: DropletRecord): void {
    cloud.droplets.delete(d.id);
    for (const v of cloud.volumes.values()) {
        v.dropletIds = v.dropletIds.filter((x) => x !== d.id);
    }
    for (const fw of cloud.firewalls.values()) {
        fw.dropletIds = fw.dropletIds.filter((x) => x !== d.id);
        for (const rule of [...fw.inboundRules, ...fw.outboundRules]) {
            rule.dropletIds = rule.dropletIds.filter((x) => x !== d.id);
        }
    }
    cloud.log(`droplet ${d.id} (${d.name}) is gone`);
}

function dropletFirewalls(cloud: Cloud, c: Ctx): Reply {
    const d = cloud.droplet(c.params[0]);
    const lower = d.tags.map((t) => t.toLowerCase());
    const items = [...cloud.firewalls.values()].filter(
        (fw) => fw.dropletIds.includes(d.id) || fw.tags.some((t) => lower.includes(t.toLowerCase())),
    );
    return list(c, "firewalls", items.map(firewallJson));
}

/** Stops every droplet VM that is still up (for close()). */
export async function stopAllDroplets(cloud: Cloud): Promise<void> {
    for (const d of cloud.droplets.values()) {
        if (d.vmStopped === undefined) {
            d.deleting = true;
            d.vmStopped = stopVm(cloud, d);
        }
    }
    await cloud.idle();
}

export function dropletJson(d: DropletRecord): JsonObject {
    const v4: Json[] = d.ipv4 === undefined ? [] : [{ ip_address: d.ipv4, netmask: "255.0.0.0", gateway: "127.0.0.1", type: "public" }];
    return {
        id: d.id,
        name: d.name,
        memory: d.size.memory,
        vcpus: d.size.vcpus,
        disk: d.disk,
        locked: d.locked,
        status: d.status,
        kernel: null,
        created_at: d.createdAt,
        features: [...d.features],
        backup_ids: [],
        next_backup_window: null,
        snapshot_ids: [],
        image: imageJson(d.image),
        volume_ids: [...d.volumeIds],
        size: sizeJson(d.size),
        size_slug: d.size.slug,
        networks: { v4, v6: [] },
        region: regionJson(d.region),
        tags: [...d.tags],
        vpc_uuid: d.vpcUuid,
    };
}
