/**
 * The DigitalOcean stand-in's public types: its options, the backend that runs its droplets and
 * volumes, and the views of its state that tests read. do-api.ts exports them.
 */

export type DropletStatus = "new" | "active" | "off";
export type ActionStatus = "in-progress" | "completed" | "errored";
export type ActionResourceType = "droplet" | "volume" | "reserved_ip";

export interface VolumeSpec {
    id: string;
    name: string;
    region: string;
    sizeGb: number;
    filesystemType?: string;
    filesystemLabel?: string;
}

export interface DropletSpec {
    id: number;
    name: string;
    region: string;
    image: string;
    size: string;
    /** The size's resources, from the catalogue (memory in MiB, disk in GB). */
    memoryMb: number;
    vcpus: number;
    diskGb: number;
    userData: string;
    /** Public keys (OpenSSH one-line form) of the SSH keys named at create. */
    authorizedKeys: string[];
    /** Volumes attached at create, in the order the request named them. */
    volumes: { id: string; name: string }[];
}

/** What actually runs a droplet or holds a volume. */
export interface LocalCloudBackend {
    createVolume(v: VolumeSpec): Promise<void>;
    deleteVolume(id: string): Promise<void>;
    bootDroplet(d: DropletSpec): Promise<{ ipv4: string }>;
    stopDroplet(id: number): Promise<void>;
    /**
     * Optional. Without it, the `power_off` and `shutdown` droplet actions answer 422.
     * `power_off` passes graceful false: pull the plug. `shutdown` passes graceful true: ask the
     * guest to power itself off (its ACPI power button) and resolve once it has; reject if it did
     * not, and the droplet stays active (DigitalOcean's shutdown is best effort, too).
     */
    powerOffDroplet?(id: number, how: { graceful: boolean }): Promise<void>;
    /** Optional. Without it, the `power_on` droplet action answers 422. */
    powerOnDroplet?(id: number): Promise<{ ipv4: string }>;
    /** Optional. Without it, a resize changes the API's record only (and says so in the log). */
    resizeDroplet?(d: { id: number; size: string; resizeDisk: boolean }): Promise<void>;
    /** Optional. Without it, a volume resize changes the API's record only (and says so in the log). */
    resizeVolume?(v: { id: string; sizeGb: number }): Promise<void>;
    /**
     * Optional, with routeReservedIp. A new reserved IPv4 address for the region. Without it,
     * creating a reserved IP answers 422.
     */
    reserveIp?(region: string): string;
    /** Sends a reserved IP's traffic to a droplet (its id), or nowhere (undefined). */
    routeReservedIp?(ip: string, dropletId: number | undefined): Promise<void>;
    /**
     * Optional. Makes `fqdn` (lower case, no trailing dot) answer `data` for `type` (always "A" and
     * an IPv4 address for now), or nothing for that type (undefined). Called, and awaited before
     * the API answers, whenever an A record is created, changed or deleted, and for each of a
     * domain's names when the domain is deleted. Of several A records at one name (DigitalOcean's
     * round robin) the one written last is published. Without it, DNS records live in the API only.
     */
    publishDnsRecord?(fqdn: string, type: string, data: string | undefined): Promise<void>;
}

export interface StandinOptions {
    backend: LocalCloudBackend;
    /** The bearer token clients must send. Defaults to "standin-token". */
    token?: string;
    /** Defaults to 127.0.0.1; only loopback addresses are accepted. */
    host?: string;
    /** Defaults to 0 (any free port). */
    port?: number;
    /**
     * How long a deleted droplet goes on answering GET (counted from its DELETE; it also stays
     * until its VM has stopped). Its volumes stay attached until then. Defaults to 3000 ms.
     */
    deleteDelayMs?: number;
    /** How long an action stays "in-progress" at least. Defaults to 500 ms. */
    actionDelayMs?: number;
    /** Where log lines go. Defaults to stderr. */
    log?: (line: string) => void;
    /** Also log every request with its status (unknown routes and auth failures are always logged). */
    logRequests?: boolean;
    /** Fault injection; off when absent. Can be changed later with `Standin.setFaults`. */
    faults?: FaultOptions;
}

/**
 * Which authenticated requests to answer with a fault instead of handling them. Requests are
 * numbered 1, 2, 3, ... from the moment the faults are set (401s are not counted); request n is
 * answered
 *   - 429 `{"id":"too_many_requests","message":"API Rate limit exceeded."}` with `Retry-After`
 *     and `RateLimit-Limit`/`RateLimit-Remaining: 0`/`RateLimit-Reset` headers when n is a
 *     multiple of `tooManyRequestsEvery`,
 *   - else 503 `{"id":"service_unavailable",...}` (no Retry-After) when n is a multiple of
 *     `unavailableEvery`,
 * except that a request is never faulted right after a faulted request, nor when it repeats (same
 * method, path, query and body) a faulted request not yet repeated, i.e. a client's retry. So a
 * client that retries at least once (the DigitalOcean provider retries 429 and 5xx up to
 * `http_retry_max` = 4 times) always recovers. A faulted request changes no state.
 */
export interface FaultOptions {
    /** Answer every Nth authenticated request 429. An integer >= 2; absent means never. */
    tooManyRequestsEvery?: number;
    /** Answer every Mth authenticated request 503. An integer >= 2; absent means never. */
    unavailableEvery?: number;
    /** The 429's `Retry-After`, in whole seconds (an integer >= 0). Defaults to 1. */
    retryAfterSeconds?: number;
}

/** How many faults have been answered since the stand-in started (setFaults does not reset it). */
export interface FaultCounts {
    readonly tooManyRequests: number;
    readonly unavailable: number;
}

/** The error id a fault was answered with. */
export type FaultKind = "too_many_requests" | "service_unavailable";

export interface SshKeyView {
    readonly id: number;
    readonly name: string;
    readonly fingerprint: string;
    readonly publicKey: string;
}

export interface DropletView {
    readonly id: number;
    readonly name: string;
    readonly region: string;
    readonly size: string;
    readonly image: string;
    readonly status: DropletStatus;
    readonly locked: boolean;
    readonly ipv4?: string;
    readonly userData: string;
    readonly sshKeyIds: readonly number[];
    readonly volumeIds: readonly string[];
    readonly tags: readonly string[];
    readonly features: readonly string[];
    /** True from its DELETE until it is gone. */
    readonly deleting: boolean;
    /** Why the backend failed to boot it, if it did. */
    readonly bootError?: string;
}

export interface VolumeView {
    readonly id: string;
    readonly name: string;
    readonly region: string;
    readonly sizeGb: number;
    readonly filesystemType: string;
    readonly filesystemLabel: string;
    readonly dropletIds: readonly number[];
    readonly tags: readonly string[];
}

export interface FirewallRuleView {
    readonly protocol: string;
    readonly ports: string;
    readonly addresses: readonly string[];
    readonly dropletIds: readonly number[];
    readonly tags: readonly string[];
}

export interface FirewallView {
    readonly id: string;
    readonly name: string;
    readonly inboundRules: readonly FirewallRuleView[];
    readonly outboundRules: readonly FirewallRuleView[];
    readonly dropletIds: readonly number[];
    readonly tags: readonly string[];
}

export interface ReservedIpView {
    readonly ip: string;
    readonly region: string;
    /** The droplet it is assigned to, if any. */
    readonly dropletId?: number;
}

export interface DomainView {
    readonly name: string;
    readonly ttl: number;
}

export interface DomainRecordView {
    /** The domain (zone) it belongs to. */
    readonly zone: string;
    readonly id: number;
    readonly type: string;
    /** Relative to the zone, "@" for the zone's apex, as DigitalOcean answers it. */
    readonly name: string;
    readonly data: string;
    readonly ttl: number;
}

export interface ActionView {
    readonly id: number;
    readonly type: string;
    readonly status: ActionStatus;
    readonly resourceType: ActionResourceType;
    readonly resourceId: number | string;
}

export interface RequestLogEntry {
    readonly method: string;
    readonly path: string;
    readonly status: number;
    /** Set when the request was answered by fault injection (and so not handled). */
    readonly fault?: FaultKind;
}

/** What tests can inspect: snapshots of everything that exists now. */
export interface StandinState {
    sshKeys(): SshKeyView[];
    droplets(): DropletView[];
    volumes(): VolumeView[];
    firewalls(): FirewallView[];
    reservedIps(): ReservedIpView[];
    domains(): DomainView[];
    /** The records of every domain, the NS and SOA records DigitalOcean makes included. */
    domainRecords(): DomainRecordView[];
    tags(): string[];
    actions(): ActionView[];
    /** Every request answered so far, in order, faulted ones included. */
    requests(): RequestLogEntry[];
    /** How many 429 and 503 fault injection has answered so far. */
    faults(): FaultCounts;
    /** The name of every droplet created so far (answered 202), in order, deleted ones included. */
    createdDroplets(): string[];
    /**
     * Every call no route answers ("METHOD /path", unknown or with a method the route lacks): a
     * provider upgrade that makes a new call shows up here, and tests assert it stays empty.
     */
    unknownCalls(): string[];
    /** Resolves when no backend call or timed transition (boot, stop, delete, action) is pending. */
    idle(): Promise<void>;
}

export interface Standin {
    url: string;
    state: StandinState;
    /**
     * Switches fault injection on (with these options) or off (undefined, or no `*Every` set).
     * Request numbering starts again at 1; the counts of `state.faults()` go on. Throws a
     * RangeError for an option out of range, leaving the faults as they were.
     */
    setFaults(faults: FaultOptions | undefined): void;
    /** Stops the server, stops every droplet VM still running and waits for pending backend work. */
    close(): Promise<void>;
}
