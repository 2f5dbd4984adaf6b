/**
 * DNS domains and their records: /v2/domains (create with DigitalOcean's NS and SOA records, get
 * with the zone file, delete) and /v2/domains/{name}/records (A records: list by type and name,
 * create, get, update, delete), record names relative to the domain, and the backend calls that
 * publish each A record.
 */

import { isIPv4 } from "node:net";

import type { Cloud } from "./cloud";
import { ApiError, Fields, type JsonObject } from "./json-fields";
import type { DnsRecord, ZoneRecord } from "./records";
import { list, route, type Ctx, type Reply, type Route } from "./routing";
import { NOT_LOCAL, errorText } from "./util";

/** A domain's TTL, and a record's when its create request names none. */
export const DEFAULT_DNS_TTL = 1800;
const MIN_DNS_TTL = 30;
const DOMAIN_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** One label of a record name: hostnames, plus "_" for service labels like _acme-challenge. */
const RECORD_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
/** The types DigitalOcean knows; the stand-in creates only A records (the ones this project uses). */
const DNS_RECORD_TYPES = ["A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT"];
const DIGITALOCEAN_NAMESERVERS = ["ns1.digitalocean.com", "ns2.digitalocean.com", "ns3.digitalocean.com"];

export function dnsRoutes(cloud: Cloud): Route[] {
    return [
        route("GET", "/v2/domains", (c) =>
            list(
                c,
                "domains",
                [...cloud.zones.values()].map((z) => domainJson(cloud, z)),
            ),
        ),
        route("POST", "/v2/domains", (c) => createDomain(cloud, c)),
        route("GET", "/v2/domains/:str", (c) => ({ status: 200, body: { domain: domainJson(cloud, cloud.zone(c.params[0])) } })),
        route("DELETE", "/v2/domains/:str", (c) => deleteDomain(cloud, c)),
        route("GET", "/v2/domains/:str/records", (c) => listDnsRecords(cloud, c)),
        route("POST", "/v2/domains/:str/records", (c) => createDnsRecord(cloud, c)),
        route("GET", "/v2/domains/:str/records/:num", (c) => ({
            status: 200,
            body: { domain_record: dnsRecordJson(dnsRecord(cloud, c)) },
        })),
        route("PUT", "/v2/domains/:str/records/:num", (c) => updateDnsRecord(cloud, c)),
        route("DELETE", "/v2/domains/:str/records/:num", (c) => deleteDnsRecord(cloud, c)),
    ];
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

/** The record of `/v2/domains/{zone}/records/{id}`: 404 unless the zone exists and the record is its own. */
function dnsRecord(cloud: Cloud, c: Ctx): DnsRecord {
    const zone = cloud.zone(c.params[0]);
    const found = cloud.dnsRecords.get(Number(c.params[1]));
    if (found === undefined || found.zone !== zone.name) throw ApiError.notFound();
    return found;
}

function zoneRecords(cloud: Cloud, zone: ZoneRecord): DnsRecord[] {
    return [...cloud.dnsRecords.values()].filter((r) => r.zone === zone.name);
}

function addDnsRecord(cloud: Cloud, fields: Omit<DnsRecord, "id" | "written">): DnsRecord {
    const record: DnsRecord = { ...fields, id: cloud.nextDnsRecordId++, written: ++cloud.dnsWrites };
    cloud.dnsRecords.set(record.id, record);
    return record;
}

/** What `fqdn` should answer: of its A records (`except` left out), the one written last. */
function lastWrittenAddress(cloud: Cloud, fqdn: string, except: DnsRecord): string | undefined {
    let last: DnsRecord | undefined;
    for (const r of cloud.dnsRecords.values()) {
        if (r !== except && r.type === "A" && recordFqdn(r) === fqdn && (last === undefined || r.written > last.written)) last = r;
    }
    return last?.data;
}

/** Awaited before the state changes, so that a backend failure answers 500 and changes nothing. */
async function publishAddress(cloud: Cloud, fqdn: string, address: string | undefined): Promise<void> {
    const publish = cloud.backend.publishDnsRecord?.bind(cloud.backend);
    if (publish === undefined) {
        cloud.log(`DNS name ${fqdn} -> ${address ?? "(none)"} in the API only: the backend serves no DNS`);
        return;
    }
    try {
        await publish(fqdn, "A", address);
    } catch (e) {
        throw new ApiError(500, "server_error", `publishing ${fqdn} in the local DNS failed: ${errorText(e)}`);
    }
}

async function createDomain(cloud: Cloud, c: Ctx): Promise<Reply> {
    const f: Fields = Fields.root(c.body);
    const name = f.str("name").toLowerCase();
    if (!DOMAIN_NAME.test(name)) f.fail("name", `${JSON.stringify(f.raw("name"))} is not a valid domain name`);
    if (cloud.zones.has(name)) f.fail("name", `the domain ${name} is already on this account`);
    const ipAddress = f.optStr("ip_address") ?? "";
    if (ipAddress !== "" && !isIPv4(ipAddress)) f.fail("ip_address", `must be an IPv4 address, got ${JSON.stringify(ipAddress)}`);
    if (ipAddress !== "") await publishAddress(cloud, name, ipAddress);
    const zone: ZoneRecord = { name };
    cloud.zones.set(name, zone);
    // The records DigitalOcean makes with every domain: its name servers, the SOA, and an apex A
    // record for ip_address.
    for (const ns of DIGITALOCEAN_NAMESERVERS) addDnsRecord(cloud, { zone: name, type: "NS", name: "@", data: ns, ttl: DEFAULT_DNS_TTL });
    addDnsRecord(cloud, { zone: name, type: "SOA", name: "@", data: String(DEFAULT_DNS_TTL), ttl: DEFAULT_DNS_TTL });
    if (ipAddress !== "") addDnsRecord(cloud, { zone: name, type: "A", name: "@", data: ipAddress, ttl: DEFAULT_DNS_TTL });
    // DigitalOcean answers a new domain's zone file as null: it has not generated it yet.
    return { status: 201, body: { domain: { ...domainJson(cloud, zone), zone_file: null } } };
}

async function deleteDomain(cloud: Cloud, c: Ctx): Promise<Reply> {
    const zone = cloud.zone(c.params[0]);
    const records = zoneRecords(cloud, zone);
    for (const fqdn of new Set(records.filter((r) => r.type === "A").map(recordFqdn))) {
        await publishAddress(cloud, fqdn, undefined);
    }
    for (const r of records) cloud.dnsRecords.delete(r.id);
    cloud.zones.delete(zone.name);
    return { status: 204 };
}

function listDnsRecords(cloud: Cloud, c: Ctx): Reply {
    const zone = cloud.zone(c.params[0]);
    // godo's RecordsByType and RecordsByName; DigitalOcean's name filter takes the full name.
    const type = c.url.searchParams.get("type");
    const name = c.url.searchParams.get("name")?.toLowerCase().replace(/\.$/, "");
    const items = zoneRecords(cloud, zone).filter(
        (r) => (type === null || r.type === type) && (name === undefined || recordFqdn(r) === name),
    );
    return list(c, "domain_records", items.map(dnsRecordJson));
}

async function createDnsRecord(cloud: Cloud, c: Ctx): Promise<Reply> {
    const zone = cloud.zone(c.params[0]);
    const f: Fields = Fields.root(c.body);
    const type = f.str("type");
    if (!DNS_RECORD_TYPES.includes(type)) f.fail("type", `must be one of ${DNS_RECORD_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
    if (type !== "A") f.fail("type", `${type} records ${NOT_LOCAL}; it serves A records`);
    const name = relativeRecordName(f.str("name"), zone.name);
    const data = readAddress(f);
    const ttl = readDnsTtl(f) ?? DEFAULT_DNS_TTL;
    checkUnusedRecordFields(f);
    await publishAddress(cloud, recordFqdn({ zone: zone.name, name }), data);
    const record = addDnsRecord(cloud, { zone: zone.name, type, name, data, ttl });
    return { status: 201, body: { domain_record: dnsRecordJson(record) } };
}

/** The provider's update: godo's EditRecord, a PUT of name, data and ttl (type left out). */
async function updateDnsRecord(cloud: Cloud, c: Ctx): Promise<Reply> {
    const record = dnsRecord(cloud, c);
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
    if (after !== before) await publishAddress(cloud, before, lastWrittenAddress(cloud, before, record));
    await publishAddress(cloud, after, data);
    Object.assign(record, { name, data, ttl, written: ++cloud.dnsWrites });
    return { status: 200, body: { domain_record: dnsRecordJson(record) } };
}

async function deleteDnsRecord(cloud: Cloud, c: Ctx): Promise<Reply> {
    const record = dnsRecord(cloud, c);
    if (record.type !== "A") throw ApiError.unprocessable(`deleting ${record.type} records ${NOT_LOCAL}`);
    const fqdn = recordFqdn(record);
    await publishAddress(cloud, fqdn, lastWrittenAddress(cloud, fqdn, record));
    cloud.dnsRecords.delete(record.id);
    return { status: 204 };
}

function domainJson(cloud: Cloud, zone: ZoneRecord): JsonObject {
    return { name: zone.name, ttl: DEFAULT_DNS_TTL, zone_file: zoneFile(cloud, zone) };
}

/** The zone in BIND's format, as DigitalOcean answers it. */
function zoneFile(cloud: Cloud, zone: ZoneRecord): string {
    const lines = [`$ORIGIN ${zone.name}.`, `$TTL ${DEFAULT_DNS_TTL}`];
    for (const r of zoneRecords(cloud, zone)) {
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
