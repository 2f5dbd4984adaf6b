/**
 * Droplet actions: POST /v2/droplets/{id}/actions (power off, shutdown, power on, resize, rename,
 * backups, private networking), each locking the droplet while its backend work runs, and a
 * droplet's action list.
 */

import { isIPv4 } from "node:net";

import { actionJson, finishAction, newAction, scopedActionRoutes } from "./actions";
import { findSize } from "./catalog";
import type { Cloud } from "./cloud";
import { checkDropletName } from "./droplets";
import { ApiError, Fields } from "./json-fields";
import type { DropletRecord } from "./records";
import { route, type Ctx, type Reply, type Route } from "./routing";
import { NOT_LOCAL, errorText, sleep } from "./util";

export function dropletActionRoutes(cloud: Cloud): Route[] {
    return [
        ...scopedActionRoutes(cloud, "/v2/droplets/:num", "droplet", (ref) => cloud.droplet(ref).id),
        route("POST", "/v2/droplets/:num/actions", (c) => dropletAction(cloud, c)),
    ];
}

function dropletAction(cloud: Cloud, c: Ctx): Reply {
    const d = cloud.droplet(c.params[0]);
    const f: Fields = Fields.root(c.body);
    const type = f.str("type");
    if (d.deleting) throw ApiError.unprocessable(`droplet ${d.id} is being deleted`);
    if (d.locked) throw ApiError.unprocessable("Droplet already has a pending event.");
    if (d.status === "new") throw ApiError.unprocessable(`droplet ${d.id} is still being created`);

    switch (type) {
        case "power_off":
        case "shutdown": {
            const graceful = type === "shutdown";
            if (d.status === "off") {
                // DigitalOcean refuses to power off a droplet that is off, but a shutdown of one is not
                // an error (terraform-provider-digitalocean relies on it when it deletes a droplet with
                // graceful_shutdown).
                if (!graceful) throw ApiError.unprocessable("Droplet is already powered off.");
                return lockedAction(cloud, d, type, () => Promise.resolve());
            }
            const powerOff = cloud.backend.powerOffDroplet?.bind(cloud.backend);
            if (powerOff === undefined) {
                throw ApiError.unprocessable(`type: ${type} ${NOT_LOCAL}: its backend cannot power a VM off`);
            }
            return lockedAction(cloud, d, type, async () => {
                await powerOff(d.id, { graceful });
                d.status = "off";
            });
        }
        case "power_on": {
            if (d.status === "active") throw ApiError.unprocessable("Droplet is already powered on.");
            const powerOn = cloud.backend.powerOnDroplet?.bind(cloud.backend);
            if (powerOn === undefined) {
                throw ApiError.unprocessable(`type: ${type} ${NOT_LOCAL}: its backend cannot power a VM on`);
            }
            if (d.bootError !== undefined) {
                throw ApiError.unprocessable(`droplet ${d.id} never booted (${d.bootError}); delete it instead`);
            }
            return lockedAction(cloud, d, type, async () => {
                const { ipv4 } = await powerOn(d.id);
                if (!isIPv4(ipv4)) throw new Error(`backend answered ${JSON.stringify(ipv4)}, not an IPv4 address`);
                d.ipv4 = ipv4;
                d.status = "active";
            });
        }
        case "resize": {
            const size = findSize(f.str("size"));
            if (size === undefined)
                throw ApiError.unprocessable(`size: You specified an invalid size (${JSON.stringify(f.raw("size") ?? null)}).`);
            if (!size.regions.includes(d.region)) {
                throw ApiError.unprocessable(`size: ${size.slug} is not available in region ${d.region}`);
            }
            const resizeDisk = f.optBool("disk") ?? false;
            if (d.status !== "off") throw ApiError.unprocessable("Droplet must be powered off before it can be resized.");
            if (size.disk < d.disk) {
                throw ApiError.unprocessable(
                    `size: ${size.slug} has a ${size.disk} GB disk, smaller than this droplet's ${d.disk} GB; disks cannot shrink`,
                );
            }
            const resize = cloud.backend.resizeDroplet?.bind(cloud.backend);
            return lockedAction(cloud, d, type, async () => {
                if (resize !== undefined) {
                    await resize({ id: d.id, size: size.slug, resizeDisk });
                } else {
                    cloud.log(`droplet ${d.id} resized to ${size.slug} in the API only: the backend cannot resize its VM`);
                }
                d.size = size;
                if (resizeDisk) d.disk = size.disk;
            });
        }
        case "rename": {
            const name = f.str("name");
            checkDropletName(name);
            d.name = name;
            return lockedAction(cloud, d, type, () => Promise.resolve());
        }
        case "enable_backups":
        case "disable_backups": {
            const on = type === "enable_backups";
            if (on && f.has("backup_policy")) Fields.of(f.raw("backup_policy"), "backup_policy");
            d.features = d.features.filter((x) => x !== "backups").concat(on ? ["backups"] : []);
            return lockedAction(cloud, d, type, () => Promise.resolve());
        }
        case "change_backup_policy": {
            Fields.of(f.raw("backup_policy"), "backup_policy");
            if (!d.features.includes("backups")) {
                throw ApiError.unprocessable("backup_policy: can only be changed when backups are enabled");
            }
            return lockedAction(cloud, d, type, () => Promise.resolve());
        }
        case "enable_private_networking":
            // Every droplet is in its region's default VPC already.
            return lockedAction(cloud, d, type, () => Promise.resolve());
        default:
            throw ApiError.unprocessable(`type: droplet action ${JSON.stringify(type)} ${NOT_LOCAL}`);
    }
}

/** An action that locks the droplet while its backend work runs. */
function lockedAction(cloud: Cloud, d: DropletRecord, type: string, work: () => Promise<void>): Reply {
    const action = newAction(cloud, type, "droplet", d.id, d.region);
    d.locked = true;
    const run = d.vm.then(async () => {
        try {
            await Promise.all([work(), sleep(cloud.actionDelayMs)]);
            finishAction(action, "completed");
        } catch (e) {
            cloud.log(`droplet ${d.id} action ${type} failed: ${errorText(e)}`);
            finishAction(action, "errored");
        } finally {
            d.locked = false;
        }
    });
    d.vm = run;
    void cloud.track(() => run);
    return { status: 201, body: { action: actionJson(action) } };
}
