/**
 * What the DigitalOcean stand-in keeps of each resource: the records behind its answers (their
 * JSON shapes live with each resource family).
 */

import type { ImageInfo, SizeInfo } from "./catalog";
import type { ActionResourceType, ActionStatus, DropletStatus } from "./types";

export interface KeyRecord {
    id: number;
    name: string;
    publicKey: string;
    fingerprint: string;
}

export interface DropletRecord {
    id: number;
    name: string;
    region: string;
    size: SizeInfo;
    image: ImageInfo;
    /** Disk in GB; stays put when a resize keeps the disk. */
    disk: number;
    status: DropletStatus;
    locked: boolean;
    createdAt: string;
    ipv4?: string;
    userData: string;
    sshKeyIds: number[];
    volumeIds: string[];
    tags: string[];
    features: string[];
    vpcUuid: string;
    deleting: boolean;
    bootError?: string;
    /** The chain of backend calls for this droplet's VM; each new one waits for the last. */
    vm: Promise<void>;
    /** Resolves once the VM has been stopped for good (set at DELETE). */
    vmStopped?: Promise<void>;
}

export interface VolumeRecord {
    id: string;
    name: string;
    region: string;
    sizeGb: number;
    description: string;
    filesystemType: string;
    filesystemLabel: string;
    createdAt: string;
    dropletIds: number[];
    tags: string[];
}

export interface RuleRecord {
    protocol: string;
    ports: string;
    addresses: string[];
    dropletIds: number[];
    tags: string[];
}

export interface FirewallRecord {
    id: string;
    name: string;
    createdAt: string;
    inboundRules: RuleRecord[];
    outboundRules: RuleRecord[];
    dropletIds: number[];
    tags: string[];
}

export interface ActionRecord {
    id: number;
    type: string;
    status: ActionStatus;
    startedAt: string;
    completedAt: string | null;
    resourceType: ActionResourceType;
    /** Droplet id, or volume uuid or reserved IP (answered as 0: godo reads resource_id as an integer). */
    resourceId: number | string;
    region: string;
}

export interface ReservedIpRecord {
    ip: string;
    region: string;
    dropletId?: number;
    createdAt: string;
}

export interface TagRecord {
    name: string;
}

/** A DNS domain (zone). Its name is lower case; its TTL is DigitalOcean's fixed 1800 s. */
export interface ZoneRecord {
    name: string;
}

/** One of a domain's records. */
export interface DnsRecord {
    id: number;
    zone: string;
    type: string;
    /** Relative to the zone; "@" for the apex. */
    name: string;
    data: string;
    ttl: number;
    /** When it was last created or changed (a counter): of several A records at one name, the last written is published. */
    written: number;
}
