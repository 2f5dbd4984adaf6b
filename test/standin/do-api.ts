/**
 * A local, stateful, strict stand-in for the parts of the DigitalOcean API that the
 * DigitalOcean Pulumi provider (bridged from terraform-provider-digitalocean, which speaks
 * through the godo client) uses for this project: SSH keys, droplets, block storage volumes,
 * firewalls, tags, actions, reserved IPs, and DNS domains with their A records.
 *
 * Point the provider at it with `DIGITALOCEAN_API_URL=<url>` and `DIGITALOCEAN_TOKEN=<token>`.
 *
 * Strict means: a wrong token answers 401, an unknown route 404 and a known route with the
 * wrong method 405 (both naming method and path in the answer's message and in the log), a
 * malformed body 422 naming the field, and DigitalOcean's own rules (unique key fingerprints,
 * unique volume names per region, one droplet per volume, same region, ...) answer the errors
 * DigitalOcean answers. A provider upgrade that makes a call the stand-in does not know thus
 * fails loudly instead of being answered something plausible.
 *
 * Fault injection (off by default; `faults` option, `setFaults()` at runtime) answers a
 * deterministic share of authenticated requests 429 or 503 before handling them, so that the
 * provider's retries (go-retryablehttp through godo) are exercised; a faulted request changes
 * nothing, and no two consecutive requests are faulted.
 *
 * Droplets and volumes are backed by a LocalCloudBackend: the engine tests boot a real local VM
 * per droplet (and serve the A records from a real DNS server); the stand-in's own tests use the
 * memory backend, which boots nothing.
 */

import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP, isIPv4, type AddressInfo } from "node:net";

import { findImage, findRegion, findSize, REGIONS, SIZES, IMAGES, type ImageInfo, type SizeInfo } from "./catalog";
import { ApiError, Fields, describe, type Json, type JsonObject } from "./json-fields";

export { ApiError } from "./json-fields";
export type { Json, JsonObject } from "./json-fields";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

type DropletStatus = "new" | "active" | "off";
type ActionStatus = "in-progress" | "completed" | "errored";

interface KeyRecord {
    id: number;
    name: string;
    publicKey: string;
    fingerprint: string;
}

interface DropletRecord {
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

interface VolumeRecord {
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

interface RuleRecord {
    protocol: string;
    ports: string;
    addresses: string[];
    dropletIds: number[];
    tags: string[];
}

interface FirewallRecord {
    id: string;
    name: string;
    createdAt: string;
    inboundRules: RuleRecord[];
    outboundRules: RuleRecord[];
    dropletIds: number[];
    tags: string[];
}

interface ActionRecord {
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

type ActionResourceType = "droplet" | "volume" | "reserved_ip";

interface ReservedIpRecord {
    ip: string;
    region: string;
    dropletId?: number;
    createdAt: string;
}

interface TagRecord {
    name: string;
}

/** A DNS domain (zone). Its name is lower case; its TTL is DigitalOcean's fixed 1800 s. */
interface ZoneRecord {
    name: string;
}

/** One of a domain's records. */
interface DnsRecord {
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

// ---------------------------------------------------------------------------------------------
// Rules and constants
// ---------------------------------------------------------------------------------------------

const USER_DATA_LIMIT_BYTES = 64 * 1024;
const DROPLET_LIMIT = 10;
const DROPLET_NAME = /^[a-zA-Z0-9.-]{1,255}$/;
const VOLUME_NAME = /^[a-z][a-z0-9-]{0,63}$/;
const FIREWALL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9.-]+$/;
const TAG_NAME = /^[a-zA-Z0-9:\-_]{1,255}$/;
const FS_LABEL_LIMIT: Record<string, number> = { ext4: 16, xfs: 12 };
const KEY_TYPES = new Set([
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
]);
const MAX_VOLUME_GB = 16 * 1024;
const NOT_LOCAL = "is not supported by the local stand-in";
/** The account's default project, which new reserved IPs join. */
const DEFAULT_PROJECT_ID = "b6fc48a1-0000-4000-8000-00000000d0f7";
/** DigitalOcean's default: three reserved IPs per account. */
const RESERVED_IP_LIMIT = 3;
/** A domain's TTL, and a record's when its create request names none. */
const DEFAULT_DNS_TTL = 1800;
const MIN_DNS_TTL = 30;
const DOMAIN_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** One label of a record name: hostnames, plus "_" for service labels like _acme-challenge. */
const RECORD_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
/** The types DigitalOcean knows; the stand-in creates only A records (the ones this project uses). */
const DNS_RECORD_TYPES = ["A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT"];
const DIGITALOCEAN_NAMESERVERS = ["ns1.digitalocean.com", "ns2.digitalocean.com", "ns3.digitalocean.com"];

function nowIso(): string {
    return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorText(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

/** Parses an OpenSSH one-line public key; answers DigitalOcean's MD5 fingerprint. */
function parsePublicKey(text: string, field: string): { normalized: string; fingerprint: string } {
    const trimmed = text.trim();
    if (trimmed.includes("PRIVATE KEY")) {
        throw ApiError.unprocessable(`${field}: this is a private key; send the public key`);
    }
    const parts = trimmed.split(/\s+/);
    const [type, data] = parts;
    if (parts.length < 2 || type === undefined || data === undefined) {
        throw ApiError.unprocessable(`${field}: must be an OpenSSH public key "<type> <base64> [comment]"`);
    }
    if (!KEY_TYPES.has(type)) {
        throw ApiError.unprocessable(`${field}: unsupported key type ${JSON.stringify(type)}`);
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
        throw ApiError.unprocessable(`${field}: key data is not base64`);
    }
    const blob = Buffer.from(data, "base64");
    const innerLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (innerLength < 0 || blob.length < 4 + innerLength || blob.subarray(4, 4 + innerLength).toString("latin1") !== type) {
        throw ApiError.unprocessable(`${field}: key data does not encode a ${type} key`);
    }
    const hex = createHash("md5").update(blob).digest("hex");
    const fingerprint = hex.match(/../g)?.join(":") ?? hex;
    return { normalized: trimmed, fingerprint };
}

/** An A record's data: an IPv4 address. */
function readAddress(f: Fields): string {
    const data = f.str("data");
    if (!isIPv4(data)) f.fail("data", `an A record's data must be an IPv4 address, got ${JSON.stringify(data)}`);
    return data;
}

function readDnsTtl(f: Fields): number | undefined {
    const ttl = f.optInt("ttl");
    if (ttl !== undefined && ttl < MIN_DNS_TTL) f.fail("ttl", `must be at least ${MIN_DNS_TTL} seconds, got ${ttl}`);
    return ttl;
}

/** godo sends these in every record request (0 when unset); an A record has no use for them. */
function checkUnusedRecordFields(f: Fields): void {
    for (const field of ["priority", "port", "weight", "flags"]) f.optInt(field);
    f.optStr("tag");
}

function checkTagName(name: string, field: string): void {
    if (!TAG_NAME.test(name)) {
        throw ApiError.unprocessable(
            `${field}: tag ${JSON.stringify(name)} is invalid; tags may contain letters, numbers, colons, dashes and underscores, up to 255 characters`,
        );
    }
}

/**
 * A record's name as DigitalOcean stores and answers it: relative to the zone, "@" for the apex.
 * A name with a trailing dot is fully qualified and must lie in the zone ("nb.example.com." is
 * "nb", "example.com." is "@"); the provider relies on that when it compares names.
 */
function relativeRecordName(given: string, zone: string): string {
    let name = given;
    if (given.endsWith(".")) {
        const qualified = given.slice(0, -1).toLowerCase();
        if (qualified === zone) return "@";
        if (!qualified.endsWith(`.${zone}`)) {
            throw ApiError.unprocessable(`name: ${JSON.stringify(given)} is not in the domain ${zone}`);
        }
        name = given.slice(0, -(zone.length + 2));
    }
    if (name === "@") return name;
    const labels = name.split(".");
    const valid = labels.every((label, i) => (label === "*" ? i === 0 : RECORD_LABEL.test(label)));
    if (!valid || name.length + zone.length + 1 > 253) {
        throw ApiError.unprocessable(
            `name: ${JSON.stringify(given)} is not a valid record name; use "@" for the domain itself, or labels of letters, digits, '-' and '_' (up to 63 characters each)`,
        );
    }
    return name;
}

/** The name a record answers to, in lower case and without the trailing dot. */
function recordFqdn(r: { zone: string; name: string }): string {
    return (r.name === "@" ? r.zone : `${r.name}.${r.zone}`).toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// The stand-in
// ---------------------------------------------------------------------------------------------

interface Ctx {
    method: string;
    url: URL;
    params: string[];
    body: Json | undefined;
    base: string;
}

interface Reply {
    status: number;
    body?: JsonObject;
    /** Extra response headers. */
    headers?: Record<string, string>;
    fault?: FaultKind;
}

type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

interface Route {
    method: string;
    pattern: RegExp;
    handler: Handler;
}

class DoStandin {
    private readonly keys = new Map<number, KeyRecord>();
    private readonly droplets = new Map<number, DropletRecord>();
    private readonly volumes = new Map<string, VolumeRecord>();
    private readonly firewalls = new Map<string, FirewallRecord>();
    private readonly reservedIps = new Map<string, ReservedIpRecord>();
    /** Keyed by the domain's (lower-case) name. */
    private readonly zones = new Map<string, ZoneRecord>();
    private readonly dnsRecords = new Map<number, DnsRecord>();
    private nextDnsRecordId = 3_300_000_001;
    private dnsWrites = 0;
    /** Keyed by lower-cased name: DigitalOcean's tags are case-insensitive. */
    private readonly tags = new Map<string, TagRecord>();
    private readonly actions = new Map<number, ActionRecord>();
    private readonly requestLog: RequestLogEntry[] = [];
    private readonly unknownCallLog: string[] = [];
    private readonly createdDropletNames: string[] = [];
    /** Volume id -> droplet whose local VM has the volume's disk, until that VM stops. */
    private readonly vmDisks = new Map<string, number>();
    /** Droplet id -> volumes deleted through the API whose disks wait for that VM to stop. */
    private readonly deferredVolumeDeletes = new Map<number, string[]>();
    /** Volume names being created (the backend call is awaited), "region/name". */
    private readonly pendingVolumeNames = new Set<string>();
    private readonly pending = new Set<Promise<void>>();
    private readonly vpcs = new Map<string, string>(REGIONS.map((r) => [r.slug, randomUUID()]));
    private nextDropletId = 520_000_001;
    private nextKeyId = 43_000_001;
    private nextActionId = 2_100_000_001;
    private readonly routes: Route[];
    /** Fault injection: the options in force (undefined: off), numbering and bookkeeping. */
    private faultOptions: Required<FaultOptions> | undefined;
    private faultSeq = 0;
    private lastFaulted = false;
    /** "method path?query\nbody" of faulted requests whose repeat (a retry) has not come yet. */
    private readonly awaitingRetry = new Set<string>();
    private readonly faultCounts = { tooManyRequests: 0, unavailable: 0 };

    constructor(
        private readonly backend: LocalCloudBackend,
        private readonly token: string,
        private readonly deleteDelayMs: number,
        private readonly actionDelayMs: number,
        readonly log: (line: string) => void,
        private readonly logRequests: boolean,
        faults: FaultOptions | undefined,
    ) {
        this.routes = this.buildRoutes();
        this.setFaults(faults);
    }

    // --- fault injection ------------------------------------------------------------------------

    setFaults(faults: FaultOptions | undefined): void {
        const every = (name: keyof FaultOptions): number => {
            const v = faults?.[name];
            if (v === undefined) return 0;
            if (!Number.isSafeInteger(v) || v < 2) {
                throw new RangeError(`faults.${name} must be an integer of at least 2, got ${String(v)}`);
            }
            return v;
        };
        const tooManyRequestsEvery = every("tooManyRequestsEvery");
        const unavailableEvery = every("unavailableEvery");
        const retryAfterSeconds = faults?.retryAfterSeconds ?? 1;
        if (!Number.isSafeInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
            throw new RangeError(`faults.retryAfterSeconds must be a whole number of seconds, got ${String(retryAfterSeconds)}`);
        }
        this.faultOptions =
            tooManyRequestsEvery === 0 && unavailableEvery === 0
                ? undefined
                : { tooManyRequestsEvery, unavailableEvery, retryAfterSeconds };
        this.faultSeq = 0;
        this.lastFaulted = false;
        this.awaitingRetry.clear();
    }

    /** The fault to answer this authenticated request with, if any (see FaultOptions). */
    private fault(method: string, url: URL, bodyText: string, requestId: string): Reply | undefined {
        const options = this.faultOptions;
        if (options === undefined) return undefined;
        const n = ++this.faultSeq;
        const key = `${method} ${url.pathname}${url.search}\n${bodyText}`;
        const afterFault = this.lastFaulted;
        this.lastFaulted = false;
        if (this.awaitingRetry.delete(key) || afterFault) return undefined;
        const { tooManyRequestsEvery: tooMany, unavailableEvery: unavailable, retryAfterSeconds } = options;
        let reply: Reply;
        if (tooMany > 0 && n % tooMany === 0) {
            this.faultCounts.tooManyRequests++;
            reply = {
                status: 429,
                fault: "too_many_requests",
                body: { id: "too_many_requests", message: "API Rate limit exceeded.", request_id: requestId },
                headers: {
                    "Retry-After": String(retryAfterSeconds),
                    "RateLimit-Limit": "5000",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": String(Math.floor(Date.now() / 1000) + retryAfterSeconds),
                },
            };
        } else if (unavailable > 0 && n % unavailable === 0) {
            this.faultCounts.unavailable++;
            reply = {
                status: 503,
                fault: "service_unavailable",
                body: {
                    id: "service_unavailable",
                    message: "The service is temporarily unavailable. Please try again later.",
                    request_id: requestId,
                },
            };
        } else {
            return undefined;
        }
        this.lastFaulted = true;
        this.awaitingRetry.add(key);
        this.log(`fault injected: ${reply.status} for ${method} ${url.pathname}${url.search} (request ${n} since faults were set)`);
        return reply;
    }

    // --- plumbing -------------------------------------------------------------------------------

    private buildRoutes(): Route[] {
        const r = (method: string, path: string, handler: Handler): Route => ({
            method,
            pattern: new RegExp(`^${path.replace(/:num/g, "(\\d+)").replace(/:str/g, "([^/]+)")}$`),
            handler,
        });
        return [
            r("GET", "/v2/account", () => this.getAccount()),
            r("GET", "/v2/regions", (c) =>
                this.list(
                    c,
                    "regions",
                    REGIONS.map((x) => this.regionJson(x.slug)),
                ),
            ),
            r("GET", "/v2/sizes", (c) => this.list(c, "sizes", SIZES.map(sizeJson))),
            r("GET", "/v2/images", (c) => this.list(c, "images", IMAGES.map(imageJson))),
            r("GET", "/v2/images/:str", (c) => this.getImage(c)),

            r("GET", "/v2/account/keys", (c) => this.list(c, "ssh_keys", [...this.keys.values()].map(keyJson))),
            r("POST", "/v2/account/keys", (c) => this.createKey(c)),
            r("GET", "/v2/account/keys/:str", (c) => ({ status: 200, body: { ssh_key: keyJson(this.key(c.params[0])) } })),
            r("PUT", "/v2/account/keys/:str", (c) => this.updateKey(c)),
            r("DELETE", "/v2/account/keys/:str", (c) => this.deleteKey(c)),

            r("GET", "/v2/droplets", (c) => this.listDroplets(c)),
            r("POST", "/v2/droplets", (c) => this.createDroplet(c)),
            r("GET", "/v2/droplets/:num", (c) => ({ status: 200, body: { droplet: this.dropletJson(this.droplet(c.params[0])) } })),
            r("DELETE", "/v2/droplets/:num", (c) => this.deleteDroplet(c)),
            r("GET", "/v2/droplets/:num/actions", (c) => this.listActions(c, "droplet", this.droplet(c.params[0]).id)),
            r("POST", "/v2/droplets/:num/actions", (c) => this.dropletAction(c)),
            r("GET", "/v2/droplets/:num/actions/:num", (c) => this.getScopedAction(c, "droplet", this.droplet(c.params[0]).id)),
            r("GET", "/v2/droplets/:num/firewalls", (c) => this.dropletFirewalls(c)),

            r("GET", "/v2/actions", (c) => this.list(c, "actions", [...this.actions.values()].map(actionJson))),
            r("GET", "/v2/actions/:num", (c) => ({ status: 200, body: { action: actionJson(this.action(c.params[0])) } })),

            r("GET", "/v2/volumes", (c) => this.listVolumes(c)),
            r("POST", "/v2/volumes", (c) => this.createVolume(c)),
            r("GET", "/v2/volumes/:str", (c) => ({ status: 200, body: { volume: this.volumeJson(this.volume(c.params[0])) } })),
            r("DELETE", "/v2/volumes/:str", (c) => this.deleteVolume(c)),
            r("GET", "/v2/volumes/:str/actions", (c) => this.listActions(c, "volume", this.volume(c.params[0]).id)),
            r("POST", "/v2/volumes/:str/actions", (c) => this.volumeAction(c)),
            r("GET", "/v2/volumes/:str/actions/:num", (c) => this.getScopedAction(c, "volume", this.volume(c.params[0]).id)),

            r("GET", "/v2/firewalls", (c) => this.list(c, "firewalls", [...this.firewalls.values()].map(firewallJson))),
            r("POST", "/v2/firewalls", (c) => this.createFirewall(c)),
            r("GET", "/v2/firewalls/:str", (c) => ({ status: 200, body: { firewall: firewallJson(this.firewall(c.params[0])) } })),
            r("PUT", "/v2/firewalls/:str", (c) => this.updateFirewall(c)),
            r("DELETE", "/v2/firewalls/:str", (c) => this.deleteFirewall(c)),
            r("POST", "/v2/firewalls/:str/droplets", (c) => this.firewallDroplets(c, true)),
            r("DELETE", "/v2/firewalls/:str/droplets", (c) => this.firewallDroplets(c, false)),
            r("POST", "/v2/firewalls/:str/tags", (c) => this.firewallTags(c, true)),
            r("DELETE", "/v2/firewalls/:str/tags", (c) => this.firewallTags(c, false)),
            r("POST", "/v2/firewalls/:str/rules", (c) => this.firewallRules(c, true)),
            r("DELETE", "/v2/firewalls/:str/rules", (c) => this.firewallRules(c, false)),

            r("GET", "/v2/reserved_ips", (c) =>
                this.list(
                    c,
                    "reserved_ips",
                    [...this.reservedIps.values()].map((x) => this.reservedIpJson(x)),
                ),
            ),
            r("POST", "/v2/reserved_ips", (c) => this.createReservedIp(c)),
            r("GET", "/v2/reserved_ips/:str", (c) => ({
                status: 200,
                body: { reserved_ip: this.reservedIpJson(this.reservedIp(c.params[0])) },
            })),
            r("DELETE", "/v2/reserved_ips/:str", (c) => this.deleteReservedIp(c)),
            r("GET", "/v2/reserved_ips/:str/actions", (c) => this.listActions(c, "reserved_ip", this.reservedIp(c.params[0]).ip)),
            r("POST", "/v2/reserved_ips/:str/actions", (c) => this.reservedIpAction(c)),
            r("GET", "/v2/reserved_ips/:str/actions/:num", (c) => this.getScopedAction(c, "reserved_ip", this.reservedIp(c.params[0]).ip)),

            r("GET", "/v2/domains", (c) =>
                this.list(
                    c,
                    "domains",
                    [...this.zones.values()].map((z) => this.domainJson(z)),
                ),
            ),
            r("POST", "/v2/domains", (c) => this.createDomain(c)),
            r("GET", "/v2/domains/:str", (c) => ({ status: 200, body: { domain: this.domainJson(this.zone(c.params[0])) } })),
            r("DELETE", "/v2/domains/:str", (c) => this.deleteDomain(c)),
            r("GET", "/v2/domains/:str/records", (c) => this.listDnsRecords(c)),
            r("POST", "/v2/domains/:str/records", (c) => this.createDnsRecord(c)),
            r("GET", "/v2/domains/:str/records/:num", (c) => ({ status: 200, body: { domain_record: dnsRecordJson(this.dnsRecord(c)) } })),
            r("PUT", "/v2/domains/:str/records/:num", (c) => this.updateDnsRecord(c)),
            r("DELETE", "/v2/domains/:str/records/:num", (c) => this.deleteDnsRecord(c)),

            r("GET", "/v2/tags", (c) =>
                this.list(
                    c,
                    "tags",
                    [...this.tags.values()].map((t) => this.tagJson(t)),
                ),
            ),
            r("POST", "/v2/tags", (c) => this.createTag(c)),
            r("GET", "/v2/tags/:str", (c) => ({ status: 200, body: { tag: this.tagJson(this.tag(c.params[0])) } })),
            r("DELETE", "/v2/tags/:str", (c) => this.deleteTag(c)),
            r("POST", "/v2/tags/:str/resources", (c) => this.tagResources(c, true)),
            r("DELETE", "/v2/tags/:str/resources", (c) => this.tagResources(c, false)),
        ];
    }

    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const method = req.method ?? "GET";
        const rawUrl = req.url ?? "/";
        const host = req.headers.host ?? "127.0.0.1";
        const url = new URL(rawUrl, `http://${host}`);
        const requestId = randomUUID();
        let status = 500;
        let fault: FaultKind | undefined;
        try {
            const bodyText = await readBody(req);
            const reply = await this.dispatch(method, url, bodyText, req.headers.authorization, `http://${host}`, requestId);
            status = reply.status;
            fault = reply.fault;
            send(res, reply.status, reply.body, requestId, reply.headers);
        } catch (e) {
            if (e instanceof ApiError) {
                status = e.status;
                if (e.status === 405) {
                    res.setHeader("Allow", this.allowedMethods(url.pathname).join(", "));
                }
                send(res, e.status, { id: e.id, message: e.message, request_id: requestId }, requestId);
            } else {
                status = 500;
                this.log(`500 ${method} ${url.pathname}: ${errorText(e)}`);
                send(res, 500, { id: "server_error", message: `stand-in failure: ${errorText(e)}`, request_id: requestId }, requestId);
            }
        } finally {
            this.requestLog.push({ method, path: `${url.pathname}${url.search}`, status, ...(fault !== undefined ? { fault } : {}) });
            if (this.logRequests) this.log(`${method} ${url.pathname}${url.search} -> ${status}`);
        }
    }

    private async dispatch(
        method: string,
        url: URL,
        bodyText: string,
        authorization: string | undefined,
        base: string,
        requestId: string,
    ): Promise<Reply> {
        const path = url.pathname;
        if (authorization !== `Bearer ${this.token}`) {
            this.log(`401 ${method} ${path}: missing or wrong bearer token`);
            throw new ApiError(401, "Unauthorized", "Unable to authenticate you");
        }
        // Before anything is looked at, so that a faulted request changes nothing.
        const fault = this.fault(method, url, bodyText, requestId);
        if (fault !== undefined) return fault;
        const matching = this.routes.filter((r) => r.pattern.test(path));
        if (matching.length === 0) {
            this.log(`404 unknown route: ${method} ${path}${url.search}`);
            this.unknownCallLog.push(`${method} ${path}`);
            throw ApiError.notFound(`no such route in the DigitalOcean stand-in: ${method} ${path}`);
        }
        const route = matching.find((r) => r.method === method);
        if (route === undefined) {
            this.log(`405 method not allowed: ${method} ${path}`);
            this.unknownCallLog.push(`${method} ${path}`);
            throw new ApiError(405, "method_not_allowed", `method ${method} is not allowed on ${path}`);
        }
        const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
        let body: Json | undefined;
        if (bodyText.trim() !== "") {
            try {
                body = JSON.parse(bodyText) as Json;
            } catch (e) {
                throw ApiError.unprocessable(`request body: not valid JSON (${errorText(e)})`);
            }
        }
        return route.handler({ method, url, params, body, base });
    }

    private allowedMethods(path: string): string[] {
        return this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method);
    }

    /** Runs background work; idle() waits for it. Failures are logged, never thrown. */
    private track(work: () => Promise<void>): Promise<void> {
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

    /** Stops every droplet VM that is still up (for close()). */
    async stopAll(): Promise<void> {
        for (const d of this.droplets.values()) {
            if (d.vmStopped === undefined) {
                d.deleting = true;
                d.vmStopped = this.stopVm(d);
            }
        }
        await this.idle();
    }

    private list(c: Ctx, key: string, items: Json[]): Reply {
        const page = queryInt(c.url, "page", 1);
        const perPage = queryInt(c.url, "per_page", 20);
        if (page < 1) throw ApiError.unprocessable("page: must be at least 1");
        if (perPage < 1 || perPage > 200) throw ApiError.unprocessable("per_page: must be between 1 and 200");
        const last = Math.max(1, Math.ceil(items.length / perPage));
        const slice = items.slice((page - 1) * perPage, page * perPage);
        const pageUrl = (n: number): string => {
            const u = new URL(c.url.pathname + c.url.search, c.base);
            u.searchParams.set("page", String(n));
            u.searchParams.set("per_page", String(perPage));
            return u.toString();
        };
        const pages: JsonObject = {};
        if (page > 1) {
            pages.first = pageUrl(1);
            pages.prev = pageUrl(page - 1);
        }
        if (page < last) {
            pages.next = pageUrl(page + 1);
            pages.last = pageUrl(last);
        }
        return { status: 200, body: { [key]: slice, links: { pages }, meta: { total: items.length } } };
    }

    // --- lookups --------------------------------------------------------------------------------

    private key(ref: string | undefined): KeyRecord {
        const found = /^\d+$/.test(ref ?? "") ? this.keys.get(Number(ref)) : [...this.keys.values()].find((k) => k.fingerprint === ref);
        if (found === undefined) throw ApiError.notFound();
        return found;
    }

    private droplet(ref: string | undefined): DropletRecord {
        const found = this.droplets.get(Number(ref));
        if (found === undefined) throw ApiError.notFound();
        return found;
    }

    private volume(ref: string | undefined): VolumeRecord {
        const found = this.volumes.get(ref ?? "");
        if (found === undefined) throw ApiError.notFound();
        return found;
    }

    private firewall(ref: string | undefined): FirewallRecord {
        const found = this.firewalls.get(ref ?? "");
        if (found === undefined) throw ApiError.notFound();
        return found;
    }

    private tag(ref: string | undefined): TagRecord {
        const found = this.tags.get((ref ?? "").toLowerCase());
        if (found === undefined) throw ApiError.notFound();
        return found;
    }

    private action(ref: string | undefined): ActionRecord {
        const found = this.actions.get(Number(ref));
        if (found === undefined) throw ApiError.notFound();
        return found;
    }

    // --- account and catalogue ------------------------------------------------------------------

    private getAccount(): Reply {
        return {
            status: 200,
            body: {
                account: {
                    droplet_limit: DROPLET_LIMIT,
                    floating_ip_limit: 3,
                    reserved_ip_limit: 3,
                    volume_limit: 100,
                    email: "standin@example.invalid",
                    name: "Local stand-in",
                    uuid: "b6fc48a1-0000-4000-8000-000000000001",
                    email_verified: true,
                    status: "active",
                    status_message: "",
                },
            },
        };
    }

    private getImage(c: Ctx): Reply {
        const ref = c.params[0] ?? "";
        const image = findImage(/^\d+$/.test(ref) ? Number(ref) : ref);
        if (image === undefined) throw ApiError.notFound();
        return { status: 200, body: { image: imageJson(image) } };
    }

    private regionJson(slug: string): JsonObject {
        const region = findRegion(slug);
        return {
            slug,
            name: region?.name ?? slug,
            sizes: SIZES.filter((s) => s.regions.includes(slug)).map((s) => s.slug),
            available: true,
            features: ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"],
        };
    }

    // --- SSH keys -------------------------------------------------------------------------------

    private createKey(c: Ctx): Reply {
        const f: Fields = Fields.root(c.body);
        const name = f.str("name");
        const { normalized, fingerprint } = parsePublicKey(f.str("public_key"), "public_key");
        if ([...this.keys.values()].some((k) => k.fingerprint === fingerprint)) {
            throw ApiError.unprocessable("SSH Key is already in use on your account");
        }
        const key: KeyRecord = { id: this.nextKeyId++, name, publicKey: normalized, fingerprint };
        this.keys.set(key.id, key);
        return { status: 201, body: { ssh_key: keyJson(key) } };
    }

    private updateKey(c: Ctx): Reply {
        const key = this.key(c.params[0]);
        const f: Fields = Fields.root(c.body);
        key.name = f.str("name");
        return { status: 200, body: { ssh_key: keyJson(key) } };
    }

    private deleteKey(c: Ctx): Reply {
        const key = this.key(c.params[0]);
        this.keys.delete(key.id);
        return { status: 204 };
    }

    // --- droplets -------------------------------------------------------------------------------

    private listDroplets(c: Ctx): Reply {
        const tagName = c.url.searchParams.get("tag_name");
        const name = c.url.searchParams.get("name");
        const items = [...this.droplets.values()].filter(
            (d) =>
                (tagName === null || d.tags.some((t) => t.toLowerCase() === tagName.toLowerCase())) && (name === null || d.name === name),
        );
        return this.list(
            c,
            "droplets",
            items.map((d) => this.dropletJson(d)),
        );
    }

    private createDroplet(c: Ctx): Reply {
        const f: Fields = Fields.root(c.body);
        if (f.has("names")) {
            throw ApiError.unprocessable(`names: creating several droplets in one request ${NOT_LOCAL}`);
        }
        const name = f.str("name");
        if (!DROPLET_NAME.test(name)) {
            throw ApiError.unprocessable("name: Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)");
        }
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
                const k = this.keys.get(ref);
                if (k === undefined) throw ApiError.unprocessable(`${field}: no SSH key with id ${ref} on this account`);
                return k.id;
            }
            if (typeof ref === "string") {
                const k = [...this.keys.values()].find((x) => x.fingerprint === ref || String(x.id) === ref);
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
            throw ApiError.unprocessable(
                `user_data: is ${Buffer.byteLength(userData, "utf8")} bytes; DigitalOcean limits user data to 64 KiB`,
            );
        }

        const vpcUuid = f.optStr("vpc_uuid");
        const regionVpc = this.vpcs.get(regionSlug) ?? "";
        if (vpcUuid !== undefined && vpcUuid !== "" && vpcUuid !== regionVpc) {
            throw ApiError.unprocessable(`vpc_uuid: no VPC ${vpcUuid} in region ${regionSlug} (its default VPC is ${regionVpc})`);
        }

        const tags = f.optStrArray("tags") ?? [];
        tags.forEach((t, i) => checkTagName(t, `tags[${i}]`));

        const volumes = this.resolveCreateVolumes(f, regionSlug);

        const live = [...this.droplets.values()].filter((x) => !x.deleting).length;
        if (live >= DROPLET_LIMIT) {
            throw ApiError.unprocessable(`creating this droplet would exceed your droplet limit of ${DROPLET_LIMIT}`);
        }

        const id = this.nextDropletId++;
        const features = [
            ...(backups ? ["backups"] : []),
            ...(monitoring ? ["monitoring"] : []),
            ...(agent === true ? ["droplet_agent"] : []),
        ];
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
            tags: tags.map((t) => this.ensureTag(t).name),
            features,
            vpcUuid: regionVpc,
            deleting: false,
            vm: Promise.resolve(),
        };
        this.droplets.set(id, droplet);
        this.createdDropletNames.push(name);

        // The disks of the volumes may still be held by the VM of a droplet being deleted.
        const waitFor: Promise<void>[] = [];
        for (const v of volumes) {
            v.dropletIds = [id];
            const holder = this.droplets.get(this.vmDisks.get(v.id) ?? -1);
            if (holder?.vmStopped !== undefined) waitFor.push(holder.vmStopped);
            this.vmDisks.set(v.id, id);
        }

        const action = this.newAction("create", "droplet", id, regionSlug);
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
            authorizedKeys: sshKeyIds.map((k) => this.keys.get(k)?.publicKey ?? "").filter((k) => k !== ""),
            volumes: volumes.map((v) => ({ id: v.id, name: v.name })),
        };
        droplet.vm = this.track(async () => {
            await Promise.all(waitFor);
            try {
                const { ipv4 } = await this.backend.bootDroplet(spec);
                if (!isIPv4(ipv4)) throw new Error(`backend answered ${JSON.stringify(ipv4)}, not an IPv4 address`);
                droplet.ipv4 = ipv4;
                droplet.status = "active";
                this.finishAction(action, "completed");
                this.log(`droplet ${id} (${name}) is active at ${ipv4}`);
            } catch (e) {
                droplet.status = "off";
                droplet.bootError = errorText(e);
                this.finishAction(action, "errored");
                this.log(`droplet ${id} (${name}) failed to boot: ${droplet.bootError}`);
            }
        });

        return {
            status: 202,
            body: {
                droplet: this.dropletJson(droplet),
                links: { actions: [{ id: action.id, rel: "create", href: `${c.base}/v2/actions/${action.id}` }] },
            },
        };
    }

    /** The `volumes` of a droplet create request: ids (strings), `{id}` or `{name}` objects. */
    private resolveCreateVolumes(f: Fields, regionSlug: string): VolumeRecord[] {
        const refs = f.optArray("volumes") ?? [];
        const out: VolumeRecord[] = [];
        refs.forEach((ref, i) => {
            const field = `volumes[${i}]`;
            let volume: VolumeRecord | undefined;
            if (typeof ref === "string") {
                volume = this.volumes.get(ref);
                if (volume === undefined) throw ApiError.unprocessable(`${field}: no volume with id ${ref}`);
            } else if (ref !== null && typeof ref === "object" && !Array.isArray(ref)) {
                const vf: Fields = Fields.of(ref, field);
                if (vf.has("id")) {
                    const vid = vf.str("id");
                    volume = this.volumes.get(vid);
                    if (volume === undefined) throw ApiError.unprocessable(`${field}.id: no volume with id ${vid}`);
                } else {
                    const vname = vf.str("name");
                    volume = [...this.volumes.values()].find((v) => v.name === vname && v.region === regionSlug);
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
            const holder = this.droplets.get(this.vmDisks.get(volume.id) ?? -1);
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

    private deleteDroplet(c: Ctx): Reply {
        const d = this.droplet(c.params[0]);
        if (d.deleting) return { status: 204 };
        if (d.locked) throw ApiError.unprocessable("Droplet already has a pending event.");
        d.deleting = true;
        // As on DigitalOcean, deleting a droplet unassigns its reserved IP (which stays on the account).
        for (const reserved of this.reservedIps.values()) {
            if (reserved.dropletId === d.id) {
                reserved.dropletId = undefined;
                void this.track(() => this.backend.routeReservedIp?.(reserved.ip, undefined) ?? Promise.resolve());
            }
        }
        const stopped = this.stopVm(d);
        d.vmStopped = stopped;
        void this.track(async () => {
            await Promise.all([stopped, sleep(this.deleteDelayMs)]);
            this.removeDroplet(d);
        });
        return { status: 204 };
    }

    /** Stops the droplet's VM after whatever it is doing; releases the volume disks it held. */
    private stopVm(d: DropletRecord): Promise<void> {
        const stopped = d.vm.then(async () => {
            try {
                await this.backend.stopDroplet(d.id);
            } catch (e) {
                this.log(`stopping the VM of droplet ${d.id} failed: ${errorText(e)}`);
            }
            d.status = "off";
            for (const [volumeId, holder] of [...this.vmDisks]) {
                if (holder === d.id) this.vmDisks.delete(volumeId);
            }
            for (const volumeId of this.deferredVolumeDeletes.get(d.id) ?? []) {
                try {
                    await this.backend.deleteVolume(volumeId);
                } catch (e) {
                    this.log(`deleting the disk of volume ${volumeId} failed: ${errorText(e)}`);
                }
            }
            this.deferredVolumeDeletes.delete(d.id);
        });
        d.vm = stopped;
        return this.track(() => stopped);
    }

    private removeDroplet(d: DropletRecord): void {
        this.droplets.delete(d.id);
        for (const v of this.volumes.values()) {
            v.dropletIds = v.dropletIds.filter((x) => x !== d.id);
        }
        for (const fw of this.firewalls.values()) {
            fw.dropletIds = fw.dropletIds.filter((x) => x !== d.id);
            for (const rule of [...fw.inboundRules, ...fw.outboundRules]) {
                rule.dropletIds = rule.dropletIds.filter((x) => x !== d.id);
            }
        }
        this.log(`droplet ${d.id} (${d.name}) is gone`);
    }

    private dropletFirewalls(c: Ctx): Reply {
        const d = this.droplet(c.params[0]);
        const lower = d.tags.map((t) => t.toLowerCase());
        const items = [...this.firewalls.values()].filter(
            (fw) => fw.dropletIds.includes(d.id) || fw.tags.some((t) => lower.includes(t.toLowerCase())),
        );
        return this.list(c, "firewalls", items.map(firewallJson));
    }

    private dropletAction(c: Ctx): Reply {
        const d = this.droplet(c.params[0]);
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
                    return this.lockedAction(d, type, () => Promise.resolve());
                }
                const powerOff = this.backend.powerOffDroplet?.bind(this.backend);
                if (powerOff === undefined) {
                    throw ApiError.unprocessable(`type: ${type} ${NOT_LOCAL}: its backend cannot power a VM off`);
                }
                return this.lockedAction(d, type, async () => {
                    await powerOff(d.id, { graceful });
                    d.status = "off";
                });
            }
            case "power_on": {
                if (d.status === "active") throw ApiError.unprocessable("Droplet is already powered on.");
                const powerOn = this.backend.powerOnDroplet?.bind(this.backend);
                if (powerOn === undefined) {
                    throw ApiError.unprocessable(`type: ${type} ${NOT_LOCAL}: its backend cannot power a VM on`);
                }
                if (d.bootError !== undefined) {
                    throw ApiError.unprocessable(`droplet ${d.id} never booted (${d.bootError}); delete it instead`);
                }
                return this.lockedAction(d, type, async () => {
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
                const resize = this.backend.resizeDroplet?.bind(this.backend);
                return this.lockedAction(d, type, async () => {
                    if (resize !== undefined) {
                        await resize({ id: d.id, size: size.slug, resizeDisk });
                    } else {
                        this.log(`droplet ${d.id} resized to ${size.slug} in the API only: the backend cannot resize its VM`);
                    }
                    d.size = size;
                    if (resizeDisk) d.disk = size.disk;
                });
            }
            case "rename": {
                const name = f.str("name");
                if (!DROPLET_NAME.test(name)) {
                    throw ApiError.unprocessable("name: Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)");
                }
                d.name = name;
                return this.lockedAction(d, type, () => Promise.resolve());
            }
            case "enable_backups":
            case "disable_backups": {
                const on = type === "enable_backups";
                if (on && f.has("backup_policy")) Fields.of(f.raw("backup_policy"), "backup_policy");
                d.features = d.features.filter((x) => x !== "backups").concat(on ? ["backups"] : []);
                return this.lockedAction(d, type, () => Promise.resolve());
            }
            case "change_backup_policy": {
                Fields.of(f.raw("backup_policy"), "backup_policy");
                if (!d.features.includes("backups")) {
                    throw ApiError.unprocessable("backup_policy: can only be changed when backups are enabled");
                }
                return this.lockedAction(d, type, () => Promise.resolve());
            }
            case "enable_private_networking":
                // Every droplet is in its region's default VPC already.
                return this.lockedAction(d, type, () => Promise.resolve());
            default:
                throw ApiError.unprocessable(`type: droplet action ${JSON.stringify(type)} ${NOT_LOCAL}`);
        }
    }

    /** An action that locks the droplet while its backend work runs. */
    private lockedAction(d: DropletRecord, type: string, work: () => Promise<void>): Reply {
        const action = this.newAction(type, "droplet", d.id, d.region);
        d.locked = true;
        const run = d.vm.then(async () => {
            try {
                await Promise.all([work(), sleep(this.actionDelayMs)]);
                this.finishAction(action, "completed");
            } catch (e) {
                this.log(`droplet ${d.id} action ${type} failed: ${errorText(e)}`);
                this.finishAction(action, "errored");
            } finally {
                d.locked = false;
            }
        });
        d.vm = run;
        void this.track(() => run);
        return { status: 201, body: { action: actionJson(action) } };
    }

    // --- actions --------------------------------------------------------------------------------

    private newAction(type: string, resourceType: ActionResourceType, resourceId: number | string, region: string): ActionRecord {
        const action: ActionRecord = {
            id: this.nextActionId++,
            type,
            status: "in-progress",
            startedAt: nowIso(),
            completedAt: null,
            resourceType,
            resourceId,
            region,
        };
        this.actions.set(action.id, action);
        return action;
    }

    private finishAction(action: ActionRecord, status: "completed" | "errored"): void {
        action.status = status;
        action.completedAt = nowIso();
    }

    /** An action whose state change is already applied; it completes after the action delay. */
    private timedAction(type: string, resourceType: ActionResourceType, resourceId: number | string, region: string): ActionRecord {
        const action = this.newAction(type, resourceType, resourceId, region);
        void this.track(async () => {
            await sleep(this.actionDelayMs);
            this.finishAction(action, "completed");
        });
        return action;
    }

    private listActions(c: Ctx, resourceType: ActionResourceType, resourceId: number | string): Reply {
        const items = [...this.actions.values()].filter((a) => a.resourceType === resourceType && a.resourceId === resourceId);
        return this.list(c, "actions", items.map(actionJson));
    }

    private getScopedAction(c: Ctx, resourceType: ActionResourceType, resourceId: number | string): Reply {
        const action = this.action(c.params[1]);
        if (action.resourceType !== resourceType || action.resourceId !== resourceId) throw ApiError.notFound();
        return { status: 200, body: { action: actionJson(action) } };
    }

    // --- volumes --------------------------------------------------------------------------------

    private listVolumes(c: Ctx): Reply {
        const name = c.url.searchParams.get("name");
        const region = c.url.searchParams.get("region");
        const items = [...this.volumes.values()].filter(
            (v) => (name === null || v.name === name) && (region === null || v.region === region),
        );
        return this.list(
            c,
            "volumes",
            items.map((v) => this.volumeJson(v)),
        );
    }

    private async createVolume(c: Ctx): Promise<Reply> {
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
        if (this.pendingVolumeNames.has(nameKey) || [...this.volumes.values()].some((v) => v.region === region && v.name === name)) {
            throw ApiError.conflict(`a volume named ${name} already exists in region ${region}; volume names are unique per region`);
        }
        const id = randomUUID();
        this.pendingVolumeNames.add(nameKey);
        try {
            await this.backend.createVolume({
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
            this.pendingVolumeNames.delete(nameKey);
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
            tags: tags.map((t) => this.ensureTag(t).name),
        };
        this.volumes.set(id, volume);
        return { status: 201, body: { volume: this.volumeJson(volume) } };
    }

    private async deleteVolume(c: Ctx): Promise<Reply> {
        const v = this.volume(c.params[0]);
        if (v.dropletIds.length > 0) {
            throw ApiError.conflict(
                `A volume that's attached to a Droplet cannot be deleted: volume ${v.name} is attached to droplet ${v.dropletIds.join(", ")}; detach it first`,
            );
        }
        const holder = this.vmDisks.get(v.id);
        if (holder !== undefined) {
            // Detached in the API, but the local VM of that droplet still has the disk open.
            this.deferredVolumeDeletes.set(holder, [...(this.deferredVolumeDeletes.get(holder) ?? []), v.id]);
            this.log(`volume ${v.id} deleted; its disk goes when the VM of droplet ${holder} stops`);
        } else {
            try {
                await this.backend.deleteVolume(v.id);
            } catch (e) {
                throw new ApiError(500, "server_error", `deleting the volume's local disk failed: ${errorText(e)}`);
            }
        }
        this.volumes.delete(v.id);
        return { status: 204 };
    }

    private async volumeAction(c: Ctx): Promise<Reply> {
        const v = this.volume(c.params[0]);
        const f: Fields = Fields.root(c.body);
        const type = f.str("type");
        const region = f.optStr("region");
        if (region !== undefined && region !== "" && region !== v.region) {
            throw ApiError.unprocessable(`region: volume ${v.name} is in ${v.region}, not ${region}`);
        }
        switch (type) {
            case "attach": {
                const dropletId = f.int("droplet_id");
                const d = this.droplets.get(dropletId);
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
                const d = this.droplets.get(dropletId);
                if (!v.dropletIds.includes(dropletId) || d === undefined) {
                    throw ApiError.unprocessable("droplet_id: Attachment not found");
                }
                v.dropletIds = v.dropletIds.filter((x) => x !== dropletId);
                d.volumeIds = d.volumeIds.filter((x) => x !== v.id);
                if (this.vmDisks.get(v.id) === dropletId && d.vmStopped === undefined) {
                    const vm =
                        d.status === "off"
                            ? "powered-off VM keeps the disk until the droplet is deleted"
                            : "running VM keeps the disk until it stops";
                    this.log(`volume ${v.id} detached from droplet ${dropletId} in the API; its ${vm}`);
                }
                return { status: 202, body: { action: actionJson(this.timedAction("detach_volume", "volume", v.id, v.region)) } };
            }
            case "resize": {
                const sizeGb = f.int("size_gigabytes");
                if (sizeGb <= v.sizeGb) {
                    throw ApiError.unprocessable(`size_gigabytes: a volume can only grow; it has ${v.sizeGb} GB, asked for ${sizeGb}`);
                }
                if (sizeGb > MAX_VOLUME_GB) throw ApiError.unprocessable(`size_gigabytes: at most ${MAX_VOLUME_GB}`);
                if (this.backend.resizeVolume !== undefined) {
                    try {
                        await this.backend.resizeVolume({ id: v.id, sizeGb });
                    } catch (e) {
                        throw new ApiError(500, "server_error", `resizing the volume's local disk failed: ${errorText(e)}`);
                    }
                } else {
                    this.log(`volume ${v.id} resized to ${sizeGb} GB in the API only: the backend cannot resize its disk`);
                }
                v.sizeGb = sizeGb;
                return { status: 202, body: { action: actionJson(this.timedAction("resize_volume", "volume", v.id, v.region)) } };
            }
            default:
                throw ApiError.unprocessable(`type: volume action ${JSON.stringify(type)} ${NOT_LOCAL}`);
        }
    }

    // --- reserved IPs --------------------------------------------------------------------------

    private reservedIp(ip: string): ReservedIpRecord {
        const reserved = this.reservedIps.get(ip);
        if (reserved === undefined) throw ApiError.notFound();
        return reserved;
    }

    private createReservedIp(c: Ctx): Reply {
        const f: Fields = Fields.root(c.body);
        if (f.has("droplet_id")) {
            throw ApiError.unprocessable(
                `droplet_id: creating a reserved IP already assigned ${NOT_LOCAL}; create it in a region, then assign it`,
            );
        }
        const region = f.str("region");
        if (findRegion(region) === undefined) throw ApiError.unprocessable(`region: no region ${JSON.stringify(region)}`);
        if (this.backend.reserveIp === undefined || this.backend.routeReservedIp === undefined) {
            throw ApiError.unprocessable(`reserved IPs ${NOT_LOCAL} without a backend that routes them`);
        }
        if (this.reservedIps.size >= RESERVED_IP_LIMIT) {
            throw ApiError.unprocessable(`creating this reserved IP would exceed your reserved IP limit of ${RESERVED_IP_LIMIT}`);
        }
        const ip = this.backend.reserveIp(region);
        if (!isIPv4(ip) || this.reservedIps.has(ip)) throw new Error(`backend reserved ${JSON.stringify(ip)}, not a new IPv4 address`);
        const reserved: ReservedIpRecord = { ip, region, createdAt: nowIso() };
        this.reservedIps.set(ip, reserved);
        return { status: 202, body: { reserved_ip: this.reservedIpJson(reserved), links: {} } };
    }

    private async deleteReservedIp(c: Ctx): Promise<Reply> {
        const reserved = this.reservedIp(c.params[0]);
        if (reserved.dropletId !== undefined) await this.backend.routeReservedIp?.(reserved.ip, undefined);
        this.reservedIps.delete(reserved.ip);
        return { status: 204 };
    }

    private async reservedIpAction(c: Ctx): Promise<Reply> {
        const reserved = this.reservedIp(c.params[0]);
        const f: Fields = Fields.root(c.body);
        const type = f.str("type");
        switch (type) {
            case "assign": {
                const dropletId = f.int("droplet_id");
                const d = this.droplets.get(dropletId);
                if (d === undefined || d.deleting) throw ApiError.unprocessable(`droplet_id: no droplet ${dropletId}`);
                if (d.region !== reserved.region) {
                    throw ApiError.unprocessable(
                        `droplet_id: droplet ${dropletId} is in ${d.region} and the reserved IP ${reserved.ip} in ${reserved.region}`,
                    );
                }
                if (d.status !== "active") throw ApiError.unprocessable(`droplet_id: droplet ${dropletId} is not active yet`);
                const other = [...this.reservedIps.values()].find((x) => x.dropletId === dropletId && x.ip !== reserved.ip);
                if (other !== undefined) {
                    throw ApiError.unprocessable(
                        `droplet_id: droplet ${dropletId} already has the reserved IP ${other.ip}; a droplet has at most one`,
                    );
                }
                await this.backend.routeReservedIp?.(reserved.ip, dropletId);
                reserved.dropletId = dropletId;
                return {
                    status: 201,
                    body: { action: actionJson(this.timedAction("assign_ip", "reserved_ip", reserved.ip, reserved.region)) },
                };
            }
            case "unassign": {
                if (reserved.dropletId === undefined)
                    throw ApiError.unprocessable(`the reserved IP ${reserved.ip} is not assigned to a droplet`);
                await this.backend.routeReservedIp?.(reserved.ip, undefined);
                reserved.dropletId = undefined;
                return {
                    status: 201,
                    body: { action: actionJson(this.timedAction("unassign_ip", "reserved_ip", reserved.ip, reserved.region)) },
                };
            }
            default:
                throw ApiError.unprocessable(`type: reserved IP action ${JSON.stringify(type)} ${NOT_LOCAL}`);
        }
    }

    private reservedIpJson(x: ReservedIpRecord): JsonObject {
        const d = x.dropletId === undefined ? undefined : this.droplets.get(x.dropletId);
        return {
            ip: x.ip,
            region: this.regionJson(x.region),
            droplet: d === undefined ? null : this.dropletJson(d),
            locked: false,
            project_id: DEFAULT_PROJECT_ID,
        };
    }

    // --- DNS domains and records ---------------------------------------------------------------

    private zone(ref: string | undefined): ZoneRecord {
        const found = this.zones.get((ref ?? "").toLowerCase());
        if (found === undefined) throw ApiError.notFound();
        return found;
    }

    /** The record of `/v2/domains/{zone}/records/{id}`: 404 unless the zone exists and the record is its own. */
    private dnsRecord(c: Ctx): DnsRecord {
        const zone = this.zone(c.params[0]);
        const found = this.dnsRecords.get(Number(c.params[1]));
        if (found === undefined || found.zone !== zone.name) throw ApiError.notFound();
        return found;
    }

    private zoneRecords(zone: ZoneRecord): DnsRecord[] {
        return [...this.dnsRecords.values()].filter((r) => r.zone === zone.name);
    }

    private addDnsRecord(fields: Omit<DnsRecord, "id" | "written">): DnsRecord {
        const record: DnsRecord = { ...fields, id: this.nextDnsRecordId++, written: ++this.dnsWrites };
        this.dnsRecords.set(record.id, record);
        return record;
    }

    /** What `fqdn` should answer: of its A records (`except` left out), the one written last. */
    private lastWrittenAddress(fqdn: string, except: DnsRecord): string | undefined {
        let last: DnsRecord | undefined;
        for (const r of this.dnsRecords.values()) {
            if (r !== except && r.type === "A" && recordFqdn(r) === fqdn && (last === undefined || r.written > last.written)) last = r;
        }
        return last?.data;
    }

    /** Awaited before the state changes, so that a backend failure answers 500 and changes nothing. */
    private async publishAddress(fqdn: string, address: string | undefined): Promise<void> {
        const publish = this.backend.publishDnsRecord?.bind(this.backend);
        if (publish === undefined) {
            this.log(`DNS name ${fqdn} -> ${address ?? "(none)"} in the API only: the backend serves no DNS`);
            return;
        }
        try {
            await publish(fqdn, "A", address);
        } catch (e) {
            throw new ApiError(500, "server_error", `publishing ${fqdn} in the local DNS failed: ${errorText(e)}`);
        }
    }

    private async createDomain(c: Ctx): Promise<Reply> {
        const f: Fields = Fields.root(c.body);
        const name = f.str("name").toLowerCase();
        if (!DOMAIN_NAME.test(name)) f.fail("name", `${JSON.stringify(f.raw("name"))} is not a valid domain name`);
        if (this.zones.has(name)) f.fail("name", `the domain ${name} is already on this account`);
        const ipAddress = f.optStr("ip_address") ?? "";
        if (ipAddress !== "" && !isIPv4(ipAddress)) f.fail("ip_address", `must be an IPv4 address, got ${JSON.stringify(ipAddress)}`);
        if (ipAddress !== "") await this.publishAddress(name, ipAddress);
        const zone: ZoneRecord = { name };
        this.zones.set(name, zone);
        // The records DigitalOcean makes with every domain: its name servers, the SOA, and an apex A
        // record for ip_address.
        for (const ns of DIGITALOCEAN_NAMESERVERS) this.addDnsRecord({ zone: name, type: "NS", name: "@", data: ns, ttl: DEFAULT_DNS_TTL });
        this.addDnsRecord({ zone: name, type: "SOA", name: "@", data: String(DEFAULT_DNS_TTL), ttl: DEFAULT_DNS_TTL });
        if (ipAddress !== "") this.addDnsRecord({ zone: name, type: "A", name: "@", data: ipAddress, ttl: DEFAULT_DNS_TTL });
        // DigitalOcean answers a new domain's zone file as null: it has not generated it yet.
        return { status: 201, body: { domain: { ...this.domainJson(zone), zone_file: null } } };
    }

    private async deleteDomain(c: Ctx): Promise<Reply> {
        const zone = this.zone(c.params[0]);
        const records = this.zoneRecords(zone);
        for (const fqdn of new Set(records.filter((r) => r.type === "A").map(recordFqdn))) {
            await this.publishAddress(fqdn, undefined);
        }
        for (const r of records) this.dnsRecords.delete(r.id);
        this.zones.delete(zone.name);
        return { status: 204 };
    }

    private listDnsRecords(c: Ctx): Reply {
        const zone = this.zone(c.params[0]);
        // godo's RecordsByType and RecordsByName; DigitalOcean's name filter takes the full name.
        const type = c.url.searchParams.get("type");
        const name = c.url.searchParams.get("name")?.toLowerCase().replace(/\.$/, "");
        const items = this.zoneRecords(zone).filter(
            (r) => (type === null || r.type === type) && (name === undefined || recordFqdn(r) === name),
        );
        return this.list(c, "domain_records", items.map(dnsRecordJson));
    }

    private async createDnsRecord(c: Ctx): Promise<Reply> {
        const zone = this.zone(c.params[0]);
        const f: Fields = Fields.root(c.body);
        const type = f.str("type");
        if (!DNS_RECORD_TYPES.includes(type)) f.fail("type", `must be one of ${DNS_RECORD_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
        if (type !== "A") f.fail("type", `${type} records ${NOT_LOCAL}; it serves A records`);
        const name = relativeRecordName(f.str("name"), zone.name);
        const data = readAddress(f);
        const ttl = readDnsTtl(f) ?? DEFAULT_DNS_TTL;
        checkUnusedRecordFields(f);
        await this.publishAddress(recordFqdn({ zone: zone.name, name }), data);
        const record = this.addDnsRecord({ zone: zone.name, type, name, data, ttl });
        return { status: 201, body: { domain_record: dnsRecordJson(record) } };
    }

    /** The provider's update: godo's EditRecord, a PUT of name, data and ttl (type left out). */
    private async updateDnsRecord(c: Ctx): Promise<Reply> {
        const record = this.dnsRecord(c);
        if (record.type !== "A") throw ApiError.unprocessable(`changing ${record.type} records ${NOT_LOCAL}`);
        const f: Fields = Fields.root(c.body);
        const type = f.optStr("type");
        if (type !== undefined && type !== record.type) f.fail("type", `changing a record's type ${NOT_LOCAL}; it is ${record.type}`);
        const name = f.has("name") ? relativeRecordName(f.str("name"), record.zone) : record.name;
        const data = f.has("data") ? readAddress(f) : record.data;
        const ttl = readDnsTtl(f) ?? record.ttl;
        checkUnusedRecordFields(f);
        const before = recordFqdn(record);
        const after = recordFqdn({ zone: record.zone, name });
        if (after !== before) await this.publishAddress(before, this.lastWrittenAddress(before, record));
        await this.publishAddress(after, data);
        Object.assign(record, { name, data, ttl, written: ++this.dnsWrites });
        return { status: 200, body: { domain_record: dnsRecordJson(record) } };
    }

    private async deleteDnsRecord(c: Ctx): Promise<Reply> {
        const record = this.dnsRecord(c);
        if (record.type !== "A") throw ApiError.unprocessable(`deleting ${record.type} records ${NOT_LOCAL}`);
        const fqdn = recordFqdn(record);
        await this.publishAddress(fqdn, this.lastWrittenAddress(fqdn, record));
        this.dnsRecords.delete(record.id);
        return { status: 204 };
    }

    private domainJson(zone: ZoneRecord): JsonObject {
        return { name: zone.name, ttl: DEFAULT_DNS_TTL, zone_file: this.zoneFile(zone) };
    }

    /** The zone in BIND's format, as DigitalOcean answers it. */
    private zoneFile(zone: ZoneRecord): string {
        const lines = [`$ORIGIN ${zone.name}.`, `$TTL ${DEFAULT_DNS_TTL}`];
        for (const r of this.zoneRecords(zone)) {
            const data =
                r.type === "SOA"
                    ? `ns1.digitalocean.com. hostmaster.${zone.name}. 1 10800 3600 604800 ${DEFAULT_DNS_TTL}`
                    : r.type === "NS"
                      ? `${r.data}.`
                      : r.data;
            lines.push(`${recordFqdn(r)}. ${r.ttl} IN ${r.type} ${data}`);
        }
        return `${lines.join("\n")}\n`;
    }

    // --- firewalls ------------------------------------------------------------------------------

    private readFirewall(f: Fields, existingId: string | undefined): Omit<FirewallRecord, "id" | "createdAt"> {
        const name = f.str("name");
        if (!FIREWALL_NAME.test(name)) {
            throw ApiError.unprocessable(
                "name: must begin with a letter or digit and hold only letters, digits, '.' and '-' (at least 2 characters)",
            );
        }
        if ([...this.firewalls.values()].some((fw) => fw.name === name && fw.id !== existingId)) {
            throw ApiError.conflict(`a firewall named ${name} already exists; firewall names are unique`);
        }
        const dropletIds = this.checkDropletIds(f, "droplet_ids", f.optIntArray("droplet_ids") ?? []);
        const tags = this.checkExistingTags(f, "tags", f.optStrArray("tags") ?? []);
        return {
            name,
            inboundRules: this.readRules(f, "inbound_rules", "sources"),
            outboundRules: this.readRules(f, "outbound_rules", "destinations"),
            dropletIds,
            tags,
        };
    }

    private checkDropletIds(f: Fields, field: string, ids: number[]): number[] {
        ids.forEach((id, i) => {
            const d = this.droplets.get(id);
            if (d === undefined || d.deleting) throw ApiError.unprocessable(`${f.name(field)}[${i}]: no droplet ${id}`);
        });
        return [...new Set(ids)];
    }

    private checkExistingTags(f: Fields, field: string, names: string[]): string[] {
        return names.map((t, i) => {
            checkTagName(t, `${f.name(field)}[${i}]`);
            const tag = this.tags.get(t.toLowerCase());
            if (tag === undefined) throw ApiError.unprocessable(`${f.name(field)}[${i}]: no tag named ${t}`);
            return tag.name;
        });
    }

    private readRules(f: Fields, field: string, targetField: "sources" | "destinations"): RuleRecord[] {
        const items = f.optArray(field) ?? [];
        return items.map((item, i) => {
            const rf: Fields = Fields.of(item, f.name(`${field}[${i}]`));
            const protocol = rf.str("protocol");
            if (!["tcp", "udp", "icmp"].includes(protocol))
                rf.fail("protocol", `must be tcp, udp or icmp, got ${JSON.stringify(protocol)}`);
            let ports = "0";
            if (protocol !== "icmp") {
                const given = rf.str("ports");
                ports = given === "all" ? "0" : given;
                const m = /^(\d+)(?:-(\d+))?$/.exec(ports);
                const lo = Number(m?.[1]);
                const hi = m?.[2] === undefined ? lo : Number(m[2]);
                if (m === null || (ports !== "0" && (lo < 1 || hi > 65535 || lo > hi))) {
                    rf.fail("ports", `must be a port, a range like 8000-9000, "0" or "all", got ${JSON.stringify(given)}`);
                }
            }
            const tf = rf.obj(targetField);
            for (const unsupported of ["load_balancer_uids", "kubernetes_ids"]) {
                if ((tf.optArray(unsupported) ?? []).length > 0)
                    tf.fail(unsupported, `load balancers and Kubernetes clusters ${NOT_LOCAL}`);
            }
            const addresses = tf.optStrArray("addresses") ?? [];
            addresses.forEach((a, j) => {
                const [ip, prefix, ...rest] = a.split("/");
                const family = isIP(ip ?? "");
                const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
                if (family === 0 || !prefixOk || rest.length > 0) {
                    tf.fail(`addresses[${j}]`, `${JSON.stringify(a)} is not an IPv4/IPv6 address or CIDR`);
                }
            });
            const dropletIds = this.checkDropletIds(tf, "droplet_ids", tf.optIntArray("droplet_ids") ?? []);
            const tags = this.checkExistingTags(tf, "tags", tf.optStrArray("tags") ?? []);
            if (addresses.length + dropletIds.length + tags.length === 0) {
                throw ApiError.unprocessable(`${tf.where}: must name at least one address, droplet or tag`);
            }
            return { protocol, ports, addresses, dropletIds, tags };
        });
    }

    private createFirewall(c: Ctx): Reply {
        const fw: FirewallRecord = { id: randomUUID(), createdAt: nowIso(), ...this.readFirewall(Fields.root(c.body), undefined) };
        this.firewalls.set(fw.id, fw);
        return { status: 202, body: { firewall: firewallJson(fw) } };
    }

    private updateFirewall(c: Ctx): Reply {
        const fw = this.firewall(c.params[0]);
        Object.assign(fw, this.readFirewall(Fields.root(c.body), fw.id));
        return { status: 200, body: { firewall: firewallJson(fw) } };
    }

    private deleteFirewall(c: Ctx): Reply {
        const fw = this.firewall(c.params[0]);
        this.firewalls.delete(fw.id);
        return { status: 204 };
    }

    private firewallDroplets(c: Ctx, add: boolean): Reply {
        const fw = this.firewall(c.params[0]);
        const f: Fields = Fields.root(c.body);
        const ids = f.optIntArray("droplet_ids");
        if (ids === undefined || ids.length === 0) f.fail("droplet_ids", "is required");
        if (add) {
            fw.dropletIds = [...new Set([...fw.dropletIds, ...this.checkDropletIds(f, "droplet_ids", ids)])];
        } else {
            fw.dropletIds = fw.dropletIds.filter((x) => !ids.includes(x));
        }
        return { status: 204 };
    }

    private firewallTags(c: Ctx, add: boolean): Reply {
        const fw = this.firewall(c.params[0]);
        const f: Fields = Fields.root(c.body);
        const names = f.optStrArray("tags");
        if (names === undefined || names.length === 0) f.fail("tags", "is required");
        if (add) {
            fw.tags = [...new Set([...fw.tags, ...this.checkExistingTags(f, "tags", names)])];
        } else {
            const lower = names.map((n) => n.toLowerCase());
            fw.tags = fw.tags.filter((t) => !lower.includes(t.toLowerCase()));
        }
        return { status: 204 };
    }

    private firewallRules(c: Ctx, add: boolean): Reply {
        const fw = this.firewall(c.params[0]);
        const f: Fields = Fields.root(c.body);
        const inbound = this.readRules(f, "inbound_rules", "sources");
        const outbound = this.readRules(f, "outbound_rules", "destinations");
        const same = (a: RuleRecord, b: RuleRecord): boolean => JSON.stringify(a) === JSON.stringify(b);
        if (add) {
            fw.inboundRules.push(...inbound);
            fw.outboundRules.push(...outbound);
        } else {
            fw.inboundRules = fw.inboundRules.filter((r) => !inbound.some((x) => same(r, x)));
            fw.outboundRules = fw.outboundRules.filter((r) => !outbound.some((x) => same(r, x)));
        }
        return { status: 204 };
    }

    // --- tags -----------------------------------------------------------------------------------

    private ensureTag(name: string): TagRecord {
        const existing = this.tags.get(name.toLowerCase());
        if (existing !== undefined) return existing;
        const tag = { name };
        this.tags.set(name.toLowerCase(), tag);
        return tag;
    }

    private createTag(c: Ctx): Reply {
        const f: Fields = Fields.root(c.body);
        const name = f.str("name");
        checkTagName(name, "name");
        return { status: 201, body: { tag: this.tagJson(this.ensureTag(name)) } };
    }

    private deleteTag(c: Ctx): Reply {
        const tag = this.tag(c.params[0]);
        const lower = tag.name.toLowerCase();
        const keep = (t: string): boolean => t.toLowerCase() !== lower;
        for (const d of this.droplets.values()) d.tags = d.tags.filter(keep);
        for (const v of this.volumes.values()) v.tags = v.tags.filter(keep);
        for (const fw of this.firewalls.values()) {
            fw.tags = fw.tags.filter(keep);
            for (const rule of [...fw.inboundRules, ...fw.outboundRules]) rule.tags = rule.tags.filter(keep);
        }
        this.tags.delete(lower);
        return { status: 204 };
    }

    private tagResources(c: Ctx, add: boolean): Reply {
        const tag = this.tag(c.params[0]);
        const f: Fields = Fields.root(c.body);
        const items = f.optArray("resources");
        if (items === undefined || items.length === 0) f.fail("resources", "is required");
        const targets = items.map((item, i) => {
            const rf: Fields = Fields.of(item, `resources[${i}]`);
            const id = rf.str("resource_id");
            const type = rf.str("resource_type");
            if (type === "droplet") {
                const d = this.droplets.get(Number(id));
                if (d === undefined || !/^\d+$/.test(id)) rf.fail("resource_id", `no droplet ${id}`);
                return d;
            }
            if (type === "volume") {
                const v = this.volumes.get(id);
                if (v === undefined) rf.fail("resource_id", `no volume ${id}`);
                return v;
            }
            return rf.fail("resource_type", `tagging ${JSON.stringify(type)} resources ${NOT_LOCAL}`);
        });
        const lower = tag.name.toLowerCase();
        for (const t of targets) {
            const without = t.tags.filter((x) => x.toLowerCase() !== lower);
            t.tags = add ? [...without, tag.name] : without;
        }
        return { status: 204 };
    }

    // --- JSON shapes ----------------------------------------------------------------------------

    private dropletJson(d: DropletRecord): JsonObject {
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
            region: this.regionJson(d.region),
            tags: [...d.tags],
            vpc_uuid: d.vpcUuid,
        };
    }

    private volumeJson(v: VolumeRecord): JsonObject {
        return {
            id: v.id,
            region: this.regionJson(v.region),
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

    private tagJson(t: TagRecord): JsonObject {
        const lower = t.name.toLowerCase();
        const has = (tags: string[]): boolean => tags.some((x) => x.toLowerCase() === lower);
        const droplets = [...this.droplets.values()].filter((d) => has(d.tags));
        const volumes = [...this.volumes.values()].filter((v) => has(v.tags));
        const lastDroplet = droplets[droplets.length - 1];
        return {
            name: t.name,
            resources: {
                count: droplets.length + volumes.length,
                droplets: {
                    count: droplets.length,
                    ...(lastDroplet !== undefined ? { last_tagged_uri: `/v2/droplets/${lastDroplet.id}` } : {}),
                },
                images: { count: 0 },
                volumes: { count: volumes.length },
                volume_snapshots: { count: 0 },
                databases: { count: 0 },
            },
        };
    }

    // --- state for tests ------------------------------------------------------------------------

    stateView(): StandinState {
        return {
            sshKeys: () => [...this.keys.values()].map((k) => ({ ...k })),
            droplets: () =>
                [...this.droplets.values()].map((d) => ({
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
                [...this.volumes.values()].map((v) => ({
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
                [...this.reservedIps.values()].map((x) => ({
                    ip: x.ip,
                    region: x.region,
                    ...(x.dropletId !== undefined ? { dropletId: x.dropletId } : {}),
                })),
            firewalls: () =>
                [...this.firewalls.values()].map((fw) => ({
                    id: fw.id,
                    name: fw.name,
                    inboundRules: fw.inboundRules.map((r) => ({ ...r })),
                    outboundRules: fw.outboundRules.map((r) => ({ ...r })),
                    dropletIds: [...fw.dropletIds],
                    tags: [...fw.tags],
                })),
            domains: () => [...this.zones.values()].map((z) => ({ name: z.name, ttl: DEFAULT_DNS_TTL })),
            domainRecords: () =>
                [...this.dnsRecords.values()].map(({ zone, id, type, name, data, ttl }) => ({ zone, id, type, name, data, ttl })),
            tags: () => [...this.tags.values()].map((t) => t.name),
            actions: () =>
                [...this.actions.values()].map((a) => ({
                    id: a.id,
                    type: a.type,
                    status: a.status,
                    resourceType: a.resourceType,
                    resourceId: a.resourceId,
                })),
            requests: () => [...this.requestLog],
            faults: () => ({ ...this.faultCounts }),
            createdDroplets: () => [...this.createdDropletNames],
            unknownCalls: () => [...this.unknownCallLog],
            idle: () => this.idle(),
        };
    }
}

// --- JSON shapes that need no state -------------------------------------------------------------

function dnsRecordJson(r: DnsRecord): JsonObject {
    // DigitalOcean answers null for the fields a record's type has no use for.
    return {
        id: r.id,
        type: r.type,
        name: r.name,
        data: r.data,
        priority: null,
        port: null,
        ttl: r.ttl,
        weight: null,
        flags: null,
        tag: null,
    };
}

function keyJson(k: KeyRecord): JsonObject {
    return { id: k.id, fingerprint: k.fingerprint, public_key: k.publicKey, name: k.name };
}

function sizeJson(s: SizeInfo): JsonObject {
    return {
        slug: s.slug,
        memory: s.memory,
        vcpus: s.vcpus,
        disk: s.disk,
        transfer: s.transfer,
        price_monthly: s.priceMonthly,
        price_hourly: s.priceHourly,
        regions: [...s.regions],
        available: true,
        description: s.description,
        disk_info: [{ type: "local", size: { amount: s.disk, unit: "gib" } }],
    };
}

function imageJson(i: ImageInfo): JsonObject {
    return {
        id: i.id,
        name: i.name,
        distribution: i.distribution,
        slug: i.slug,
        public: true,
        regions: REGIONS.map((r) => r.slug),
        created_at: i.createdAt,
        min_disk_size: i.minDiskSize,
        type: "base",
        size_gigabytes: i.sizeGigabytes,
        description: `${i.distribution} ${i.name}`,
        tags: [],
        status: "available",
    };
}

function actionJson(a: ActionRecord): JsonObject {
    const region = findRegion(a.region);
    return {
        id: a.id,
        status: a.status,
        type: a.type,
        started_at: a.startedAt,
        completed_at: a.completedAt,
        resource_id: typeof a.resourceId === "number" ? a.resourceId : 0,
        resource_type: a.resourceType,
        region: region === undefined ? null : { slug: region.slug, name: region.name, available: true },
        region_slug: a.region,
    };
}

function firewallJson(fw: FirewallRecord): JsonObject {
    const rule = (r: RuleRecord, targetKey: "sources" | "destinations"): JsonObject => {
        const target: JsonObject = {};
        if (r.addresses.length > 0) target.addresses = [...r.addresses];
        if (r.dropletIds.length > 0) target.droplet_ids = [...r.dropletIds];
        if (r.tags.length > 0) target.tags = [...r.tags];
        return { protocol: r.protocol, ports: r.ports, [targetKey]: target };
    };
    return {
        id: fw.id,
        name: fw.name,
        status: "succeeded",
        inbound_rules: fw.inboundRules.map((r) => rule(r, "sources")),
        outbound_rules: fw.outboundRules.map((r) => rule(r, "destinations")),
        created_at: fw.createdAt,
        droplet_ids: [...fw.dropletIds],
        tags: [...fw.tags],
        pending_changes: [],
    };
}

// --- HTTP helpers -------------------------------------------------------------------------------

function queryInt(url: URL, name: string, fallback: number): number {
    const raw = url.searchParams.get(name);
    if (raw === null) return fallback;
    if (!/^\d+$/.test(raw)) throw ApiError.unprocessable(`${name}: must be a positive integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
}

async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
        chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    }
    return Buffer.concat(chunks).toString("utf8");
}

function send(
    res: ServerResponse,
    status: number,
    body: JsonObject | undefined,
    requestId: string,
    headers: Record<string, string> = {},
): void {
    res.setHeader("X-Request-Id", requestId);
    res.setHeader("RateLimit-Limit", "5000");
    res.setHeader("RateLimit-Remaining", "4999");
    res.setHeader("RateLimit-Reset", String(Math.floor(Date.now() / 1000) + 60));
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (body === undefined || status === 204) {
        res.writeHead(status);
        res.end();
        return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
}

function isLoopback(host: string): boolean {
    return host === "localhost" || host === "::1" || (isIPv4(host) && host.startsWith("127."));
}

/** Starts the stand-in on a loopback address. */
export async function startDoStandin(options: StandinOptions): Promise<Standin> {
    const { backend, token = "standin-token", host = "127.0.0.1", port = 0 } = options;
    if (!isLoopback(host)) throw new Error(`the DigitalOcean stand-in only listens on loopback, not ${host}`);
    const log = options.log ?? ((line: string) => process.stderr.write(`[do-standin] ${line}\n`));
    const standin = new DoStandin(
        backend,
        token,
        options.deleteDelayMs ?? 3000,
        options.actionDelayMs ?? 500,
        log,
        options.logRequests ?? false,
        options.faults,
    );
    const server = createServer((req, res) => {
        void standin.handle(req, res);
    });
    // Outlive the Go client's idle connections (90 s), so that it never sends a request on a
    // connection the server is closing (its retry of a POST could then create twice).
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
            server.off("error", reject);
            resolve();
        });
    });
    const address = server.address() as AddressInfo;
    const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return {
        url: `http://${urlHost}:${address.port}`,
        state: standin.stateView(),
        setFaults: (faults) => standin.setFaults(faults),
        close: async () => {
            await new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            });
            await standin.stopAll();
        },
    };
}
