/**
 * State for tests: StandinState, the snapshots of everything the DigitalOcean stand-in holds and
 * of the requests it has answered.
 */

import type { Cloud } from "./cloud";
import { DEFAULT_DNS_TTL } from "./dns";
import type { FaultInjector } from "./faults";
import type { HttpFront } from "./http";
import type { StandinState } from "./types";

export function stateView(cloud: Cloud, front: HttpFront, faults: FaultInjector): StandinState {
    return {
        sshKeys: () => [...cloud.keys.values()].map((k) => ({ ...k })),
        droplets: () =>
            [...cloud.droplets.values()].map((d) => ({
                id: d.id,
                name: d.name,
                region: d.region,
                size: d.size.slug,
                image: d.image.slug,
                status: d.status,
                locked: d.locked,
                ...(d.ipv4 !== undefined ? { ipv4: d.ipv4 } : {}),
                userData: d.userData,
                sshKeyIds: [...d.sshKeyIds],
                volumeIds: [...d.volumeIds],
                tags: [...d.tags],
                features: [...d.features],
                deleting: d.deleting,
                ...(d.bootError !== undefined ? { bootError: d.bootError } : {}),
            })),
        volumes: () =>
            [...cloud.volumes.values()].map((v) => ({
                id: v.id,
                name: v.name,
                region: v.region,
                sizeGb: v.sizeGb,
                filesystemType: v.filesystemType,
                filesystemLabel: v.filesystemLabel,
                dropletIds: [...v.dropletIds],
                tags: [...v.tags],
            })),
        reservedIps: () =>
            [...cloud.reservedIps.values()].map((x) => ({
                ip: x.ip,
                region: x.region,
                ...(x.dropletId !== undefined ? { dropletId: x.dropletId } : {}),
            })),
        firewalls: () =>
            [...cloud.firewalls.values()].map((fw) => ({
                id: fw.id,
                name: fw.name,
                inboundRules: fw.inboundRules.map((r) => ({ ...r })),
                outboundRules: fw.outboundRules.map((r) => ({ ...r })),
                dropletIds: [...fw.dropletIds],
                tags: [...fw.tags],
            })),
        domains: () => [...cloud.zones.values()].map((z) => ({ name: z.name, ttl: DEFAULT_DNS_TTL })),
        domainRecords: () =>
            [...cloud.dnsRecords.values()].map(({ zone, id, type, name, data, ttl }) => ({ zone, id, type, name, data, ttl })),
        tags: () => [...cloud.tags.values()].map((t) => t.name),
        actions: () =>
            [...cloud.actions.values()].map((a) => ({
                id: a.id,
                type: a.type,
                status: a.status,
                resourceType: a.resourceType,
                resourceId: a.resourceId,
            })),
        requests: () => [...front.requestLog],
        faults: () => faults.counts(),
        createdDroplets: () => [...cloud.createdDropletNames],
        unknownCalls: () => [...front.unknownCallLog],
        idle: () => cloud.idle(),
    };
}
