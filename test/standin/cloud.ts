/**
 * The shared state of the DigitalOcean stand-in: every resource it holds, the id counters, the
 * backend that runs droplets and volumes, the bookkeeping of background work, and the lookups that
 * find a resource by the reference a path names (404 if there is none). Each resource family's
 * module reads and changes this one object.
 */

import { randomUUID } from "node:crypto";

import { REGIONS } from "./catalog";
import { ApiError } from "./json-fields";
import type {
    ActionRecord,
    DnsRecord,
    DropletRecord,
    FirewallRecord,
    KeyRecord,
    ReservedIpRecord,
    TagRecord,
    VolumeRecord,
    ZoneRecord,
} from "./records";
import type { LocalCloudBackend } from "./types";
import { errorText } from "./util";

export class Cloud {
    readonly keys = new Map<number, KeyRecord>();
    readonly droplets = new Map<number, DropletRecord>();
    readonly volumes = new Map<string, VolumeRecord>();
    readonly firewalls = new Map<string, FirewallRecord>();
    readonly reservedIps = new Map<string, ReservedIpRecord>();
    /** Keyed by the domain's (lower-case) name. */
    readonly zones = new Map<string, ZoneRecord>();
    readonly dnsRecords = new Map<number, DnsRecord>();
    nextDnsRecordId = 3_300_000_001;
    dnsWrites = 0;
    /** Keyed by lower-cased name: DigitalOcean's tags are case-insensitive. */
    readonly tags = new Map<string, TagRecord>();
    readonly actions = new Map<number, ActionRecord>();
    readonly createdDropletNames: string[] = [];
    /** Volume id -> droplet whose local VM has the volume's disk, until that VM stops. */
    readonly vmDisks = new Map<string, number>();
    /** Droplet id -> volumes deleted through the API whose disks wait for that VM to stop. */
    readonly deferredVolumeDeletes = new Map<number, string[]>();
    /** Volume names being created (the backend call is awaited), "region/name". */
    readonly pendingVolumeNames = new Set<string>();
    readonly vpcs = new Map<string, string>(REGIONS.map((r) => [r.slug, randomUUID()]));
    nextDropletId = 520_000_001;
    nextKeyId = 43_000_001;
    nextActionId = 2_100_000_001;
    private readonly pending = new Set<Promise<void>>();

    constructor(
        readonly backend: LocalCloudBackend,
        /** How long a deleted droplet goes on answering GET (see StandinOptions). */
        readonly deleteDelayMs: number,
        /** How long an action stays "in-progress" at least. */
        readonly actionDelayMs: number,
        readonly log: (line: string) => void,
    ) {}

    /** Runs background work; idle() waits for it. Failures are logged, never thrown. */
    track(work: () => Promise<void>): Promise<void> {
        const p: Promise<void> = work()
            .catch((e: unknown) => this.log(`background work failed: ${errorText(e)}`))
            .finally(() => this.pending.delete(p));
        this.pending.add(p);
        return p;
    }

    async idle(): Promise<void> {
        while (this.pending.size > 0) {
            await Promise.all([...this.pending]);
        }
    }

    // --- lookups --------------------------------------------------------------------------------

    /** An SSH key by id or by fingerprint. */
    key(ref: string | undefined): KeyRecord {
        return orNotFound(
            /^\d+$/.test(ref ?? "") ? this.keys.get(Number(ref)) : [...this.keys.values()].find((k) => k.fingerprint === ref),
        );
    }

    droplet(ref: string | undefined): DropletRecord {
        return orNotFound(this.droplets.get(Number(ref)));
    }

    volume(ref: string | undefined): VolumeRecord {
        return orNotFound(this.volumes.get(ref ?? ""));
    }

    firewall(ref: string | undefined): FirewallRecord {
        return orNotFound(this.firewalls.get(ref ?? ""));
    }

    tag(ref: string | undefined): TagRecord {
        return orNotFound(this.tags.get((ref ?? "").toLowerCase()));
    }

    action(ref: string | undefined): ActionRecord {
        return orNotFound(this.actions.get(Number(ref)));
    }

    reservedIp(ip: string): ReservedIpRecord {
        return orNotFound(this.reservedIps.get(ip));
    }

    /** A DNS domain by its name, in any case. */
    zone(ref: string | undefined): ZoneRecord {
        return orNotFound(this.zones.get((ref ?? "").toLowerCase()));
    }
}

/** What a lookup found, or DigitalOcean's 404. */
function orNotFound<T>(found: T | undefined): T {
    if (found === undefined) throw ApiError.notFound();
    return found;
}
