/**
 * Reserved IPs: /v2/reserved_ips (create in a region, get, delete), their actions (assign to a
 * droplet, unassign), the backend calls that route their traffic, and the reserved IP's JSON
 * shape.
 */

import { isIPv4 } from "node:net";

import { regionJson } from "./account";
import { actionJson, scopedActionRoutes, timedAction } from "./actions";
import { findRegion } from "./catalog";
import type { Cloud } from "./cloud";
import { dropletJson } from "./droplets";
import { ApiError, Fields, type JsonObject } from "./json-fields";
import type { ReservedIpRecord } from "./records";
import { list, route, type Ctx, type Reply, type Route } from "./routing";
import { NOT_LOCAL, nowIso } from "./util";

/** The account's default project, which new reserved IPs join. */
const DEFAULT_PROJECT_ID = "b6fc48a1-0000-4000-8000-00000000d0f7";
/** DigitalOcean's default: three reserved IPs per account. */
const RESERVED_IP_LIMIT = 3;

export function reservedIpRoutes(cloud: Cloud): Route[] {
    return [
        route("GET", "/v2/reserved_ips", (c) =>
            list(
                c,
                "reserved_ips",
                [...cloud.reservedIps.values()].map((x) => reservedIpJson(cloud, x)),
            ),
        ),
        route("POST", "/v2/reserved_ips", (c) => createReservedIp(cloud, c)),
        route("GET", "/v2/reserved_ips/:str", (c) => ({
            status: 200,
            body: { reserved_ip: reservedIpJson(cloud, cloud.reservedIp(c.params[0])) },
        })),
        route("DELETE", "/v2/reserved_ips/:str", (c) => deleteReservedIp(cloud, c)),
        ...scopedActionRoutes(cloud, "/v2/reserved_ips/:str", "reserved_ip", (ref) => cloud.reservedIp(ref).ip),
        route("POST", "/v2/reserved_ips/:str/actions", (c) => reservedIpAction(cloud, c)),
    ];
}

function createReservedIp(cloud: Cloud, c: Ctx): Reply {
    const f: Fields = Fields.root(c.body);
    if (f.has("droplet_id")) {
        throw ApiError.unprocessable(
            `droplet_id: creating a reserved IP already assigned ${NOT_LOCAL}; create it in a region, then assign it`,
        );
    }
    const region = f.str("region");
    if (findRegion(region) === undefined) throw ApiError.unprocessable(`region: no region ${JSON.stringify(region)}`);
    if (cloud.backend.reserveIp === undefined || cloud.backend.routeReservedIp === undefined) {
        throw ApiError.unprocessable(`reserved IPs ${NOT_LOCAL} without a backend that routes them`);
    }
    if (cloud.reservedIps.size >= RESERVED_IP_LIMIT) {
        throw ApiError.unprocessable(`creating this reserved IP would exceed your reserved IP limit of ${RESERVED_IP_LIMIT}`);
    }
    const ip = cloud.backend.reserveIp(region);
    if (!isIPv4(ip) || cloud.reservedIps.has(ip)) throw new Error(`backend reserved ${JSON.stringify(ip)}, not a new IPv4 address`);
    const reserved: ReservedIpRecord = { ip, region, createdAt: nowIso() };
    cloud.reservedIps.set(ip, reserved);
    return { status: 202, body: { reserved_ip: reservedIpJson(cloud, reserved), links: {} } };
}

async function deleteReservedIp(cloud: Cloud, c: Ctx): Promise<Reply> {
    const reserved = cloud.reservedIp(c.params[0]);
    if (reserved.dropletId !== undefined) await cloud.backend.routeReservedIp?.(reserved.ip, undefined);
    cloud.reservedIps.delete(reserved.ip);
    return { status: 204 };
}

async function reservedIpAction(cloud: Cloud, c: Ctx): Promise<Reply> {
    const reserved = cloud.reservedIp(c.params[0]);
    const f: Fields = Fields.root(c.body);
    const type = f.str("type");
    switch (type) {
        case "assign": {
            const dropletId = f.int("droplet_id");
            const d = cloud.droplets.get(dropletId);
            if (d === undefined || d.deleting) throw ApiError.unprocessable(`droplet_id: no droplet ${dropletId}`);
            if (d.region !== reserved.region) {
                throw ApiError.unprocessable(
                    `droplet_id: droplet ${dropletId} is in ${d.region} and the reserved IP ${reserved.ip} in ${reserved.region}`,
                );
            }
            if (d.status !== "active") throw ApiError.unprocessable(`droplet_id: droplet ${dropletId} is not active yet`);
            const other = [...cloud.reservedIps.values()].find((x) => x.dropletId === dropletId && x.ip !== reserved.ip);
            if (other !== undefined) {
                throw ApiError.unprocessable(
                    `droplet_id: droplet ${dropletId} already has the reserved IP ${other.ip}; a droplet has at most one`,
                );
            }
            await cloud.backend.routeReservedIp?.(reserved.ip, dropletId);
            reserved.dropletId = dropletId;
            return {
                status: 201,
                body: { action: actionJson(timedAction(cloud, "assign_ip", "reserved_ip", reserved.ip, reserved.region)) },
            };
        }
        case "unassign": {
            if (reserved.dropletId === undefined)
                throw ApiError.unprocessable(`the reserved IP ${reserved.ip} is not assigned to a droplet`);
            await cloud.backend.routeReservedIp?.(reserved.ip, undefined);
            reserved.dropletId = undefined;
            return {
                status: 201,
                body: { action: actionJson(timedAction(cloud, "unassign_ip", "reserved_ip", reserved.ip, reserved.region)) },
            };
        }
        default:
            throw ApiError.unprocessable(`type: reserved IP action ${JSON.stringify(type)} ${NOT_LOCAL}`);
    }
}

function reservedIpJson(cloud: Cloud, x: ReservedIpRecord): JsonObject {
    const d = x.dropletId === undefined ? undefined : cloud.droplets.get(x.dropletId);
    return {
        ip: x.ip,
        region: regionJson(x.region),
        droplet: d === undefined ? null : dropletJson(d),
        locked: false,
        project_id: DEFAULT_PROJECT_ID,
    };
}
