/**
 * Firewalls: /v2/firewalls (create, get, update, delete; add and remove droplets, tags and rules),
 * reading and checking their rules field by field, and the firewall's JSON shape.
 */

import { randomUUID } from "node:crypto";
import { isIP } from "node:net";

import type { Cloud } from "./cloud";
import { ApiError, Fields, type JsonObject } from "./json-fields";
import type { FirewallRecord, RuleRecord } from "./records";
import { list, route, type Ctx, type Reply, type Route } from "./routing";
import { checkTagName } from "./tags";
import { NOT_LOCAL, nowIso } from "./util";

const FIREWALL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9.-]+$/;

export function firewallRoutes(cloud: Cloud): Route[] {
    return [
        route("GET", "/v2/firewalls", (c) => list(c, "firewalls", [...cloud.firewalls.values()].map(firewallJson))),
        route("POST", "/v2/firewalls", (c) => createFirewall(cloud, c)),
        route("GET", "/v2/firewalls/:str", (c) => ({ status: 200, body: { firewall: firewallJson(cloud.firewall(c.params[0])) } })),
        route("PUT", "/v2/firewalls/:str", (c) => updateFirewall(cloud, c)),
        route("DELETE", "/v2/firewalls/:str", (c) => deleteFirewall(cloud, c)),
        route("POST", "/v2/firewalls/:str/droplets", (c) => firewallDroplets(cloud, c, true)),
        route("DELETE", "/v2/firewalls/:str/droplets", (c) => firewallDroplets(cloud, c, false)),
        route("POST", "/v2/firewalls/:str/tags", (c) => firewallTags(cloud, c, true)),
        route("DELETE", "/v2/firewalls/:str/tags", (c) => firewallTags(cloud, c, false)),
        route("POST", "/v2/firewalls/:str/rules", (c) => firewallRules(cloud, c, true)),
        route("DELETE", "/v2/firewalls/:str/rules", (c) => firewallRules(cloud, c, false)),
    ];
}

function readFirewall(cloud: Cloud, f: Fields, existingId: string | undefined): Omit<FirewallRecord, "id" | "createdAt"> {
    const name = f.str("name");
    if (!FIREWALL_NAME.test(name)) {
        throw ApiError.unprocessable(
            "name: must begin with a letter or digit and hold only letters, digits, '.' and '-' (at least 2 characters)",
        );
    }
    if ([...cloud.firewalls.values()].some((fw) => fw.name === name && fw.id !== existingId)) {
        throw ApiError.conflict(`a firewall named ${name} already exists; firewall names are unique`);
    }
    const dropletIds = checkDropletIds(cloud, f, "droplet_ids", f.optIntArray("droplet_ids") ?? []);
    const tags = checkExistingTags(cloud, f, "tags", f.optStrArray("tags") ?? []);
    const inboundRules = readRules(cloud, f, "inbound_rules", "sources");
    const outboundRules = readRules(cloud, f, "outbound_rules", "destinations");
    if (inboundRules.length + outboundRules.length === 0) {
        throw ApiError.unprocessable("inbound_rules, outbound_rules: a firewall must have at least one inbound or outbound rule");
    }
    return { name, inboundRules, outboundRules, dropletIds, tags };
}

function checkDropletIds(cloud: Cloud, f: Fields, field: string, ids: number[]): number[] {
    ids.forEach((id, i) => {
        const d = cloud.droplets.get(id);
        if (d === undefined || d.deleting) throw ApiError.unprocessable(`${f.name(field)}[${i}]: no droplet ${id}`);
    });
    return [...new Set(ids)];
}

function checkExistingTags(cloud: Cloud, f: Fields, field: string, names: string[]): string[] {
    return names.map((t, i) => {
        checkTagName(t, `${f.name(field)}[${i}]`);
        const tag = cloud.tags.get(t.toLowerCase());
        if (tag === undefined) throw ApiError.unprocessable(`${f.name(field)}[${i}]: no tag named ${t}`);
        return tag.name;
    });
}

function readRules(cloud: Cloud, f: Fields, field: string, targetField: "sources" | "destinations"): RuleRecord[] {
    const items = f.optArray(field) ?? [];
    return items.map((item, i) => {
        const rf: Fields = Fields.of(item, f.name(`${field}[${i}]`));
        const protocol = rf.str("protocol");
        if (!["tcp", "udp", "icmp"].includes(protocol)) rf.fail("protocol", `must be tcp, udp or icmp, got ${JSON.stringify(protocol)}`);
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
            if ((tf.optArray(unsupported) ?? []).length > 0) tf.fail(unsupported, `load balancers and Kubernetes clusters ${NOT_LOCAL}`);
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
        const dropletIds = checkDropletIds(cloud, tf, "droplet_ids", tf.optIntArray("droplet_ids") ?? []);
        const tags = checkExistingTags(cloud, tf, "tags", tf.optStrArray("tags") ?? []);
        if (addresses.length + dropletIds.length + tags.length === 0) {
            throw ApiError.unprocessable(`${tf.where}: must name at least one address, droplet or tag`);
        }
        return { protocol, ports, addresses, dropletIds, tags };
    });
}

function createFirewall(cloud: Cloud, c: Ctx): Reply {
    const fw: FirewallRecord = { id: randomUUID(), createdAt: nowIso(), ...readFirewall(cloud, Fields.root(c.body), undefined) };
    cloud.firewalls.set(fw.id, fw);
    return { status: 202, body: { firewall: firewallJson(fw) } };
}

function updateFirewall(cloud: Cloud, c: Ctx): Reply {
    const fw = cloud.firewall(c.params[0]);
    Object.assign(fw, readFirewall(cloud, Fields.root(c.body), fw.id));
    return { status: 200, body: { firewall: firewallJson(fw) } };
}

function deleteFirewall(cloud: Cloud, c: Ctx): Reply {
    const fw = cloud.firewall(c.params[0]);
    cloud.firewalls.delete(fw.id);
    return { status: 204 };
}

function firewallDroplets(cloud: Cloud, c: Ctx, add: boolean): Reply {
    const fw = cloud.firewall(c.params[0]);
    const f: Fields = Fields.root(c.body);
    const ids = f.optIntArray("droplet_ids");
    if (ids === undefined || ids.length === 0) f.fail("droplet_ids", "is required");
    if (add) {
        fw.dropletIds = [...new Set([...fw.dropletIds, ...checkDropletIds(cloud, f, "droplet_ids", ids)])];
    } else {
        fw.dropletIds = fw.dropletIds.filter((x) => !ids.includes(x));
    }
    return { status: 204 };
}

function firewallTags(cloud: Cloud, c: Ctx, add: boolean): Reply {
    const fw = cloud.firewall(c.params[0]);
    const f: Fields = Fields.root(c.body);
    const names = f.optStrArray("tags");
    if (names === undefined || names.length === 0) f.fail("tags", "is required");
    if (add) {
        fw.tags = [...new Set([...fw.tags, ...checkExistingTags(cloud, f, "tags", names)])];
    } else {
        const lower = names.map((n) => n.toLowerCase());
        fw.tags = fw.tags.filter((t) => !lower.includes(t.toLowerCase()));
    }
    return { status: 204 };
}

function firewallRules(cloud: Cloud, c: Ctx, add: boolean): Reply {
    const fw = cloud.firewall(c.params[0]);
    const f: Fields = Fields.root(c.body);
    const inbound = readRules(cloud, f, "inbound_rules", "sources");
    const outbound = readRules(cloud, f, "outbound_rules", "destinations");
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

export function firewallJson(fw: FirewallRecord): JsonObject {
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
