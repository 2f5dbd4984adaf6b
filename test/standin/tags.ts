/**
 * Tags: /v2/tags (create, get with resource counts, delete), tagging and untagging droplets and
 * volumes, DigitalOcean's tag name rule and case-insensitive names, and the tag's JSON shape.
 */

import type { Cloud } from "./cloud";
import { ApiError, Fields, type JsonObject } from "./json-fields";
import type { TagRecord } from "./records";
import { list, route, type Ctx, type Reply, type Route } from "./routing";
import { NOT_LOCAL } from "./util";

const TAG_NAME = /^[a-zA-Z0-9:\-_]{1,255}$/;

export function tagRoutes(cloud: Cloud): Route[] {
    return [
        route("GET", "/v2/tags", (c) =>
            list(
                c,
                "tags",
                [...cloud.tags.values()].map((t) => tagJson(cloud, t)),
            ),
        ),
        route("POST", "/v2/tags", (c) => createTag(cloud, c)),
        route("GET", "/v2/tags/:str", (c) => ({ status: 200, body: { tag: tagJson(cloud, cloud.tag(c.params[0])) } })),
        route("DELETE", "/v2/tags/:str", (c) => deleteTag(cloud, c)),
        route("POST", "/v2/tags/:str/resources", (c) => tagResources(cloud, c, true)),
        route("DELETE", "/v2/tags/:str/resources", (c) => tagResources(cloud, c, false)),
    ];
}

export function checkTagName(name: string, field: string): void {
    if (!TAG_NAME.test(name)) {
        throw ApiError.unprocessable(
            `${field}: tag ${JSON.stringify(name)} is invalid; tags may contain letters, numbers, colons, dashes and underscores, up to 255 characters`,
        );
    }
}

/** The tag of that name, created if the account has none (of any case). */
export function ensureTag(cloud: Cloud, name: string): TagRecord {
    const existing = cloud.tags.get(name.toLowerCase());
    if (existing !== undefined) return existing;
    const tag = { name };
    cloud.tags.set(name.toLowerCase(), tag);
    return tag;
}

function createTag(cloud: Cloud, c: Ctx): Reply {
    const f: Fields = Fields.root(c.body);
    const name = f.str("name");
    checkTagName(name, "name");
    return { status: 201, body: { tag: tagJson(cloud, ensureTag(cloud, name)) } };
}

function deleteTag(cloud: Cloud, c: Ctx): Reply {
    const tag = cloud.tag(c.params[0]);
    const lower = tag.name.toLowerCase();
    const keep = (t: string): boolean => t.toLowerCase() !== lower;
    for (const d of cloud.droplets.values()) d.tags = d.tags.filter(keep);
    for (const v of cloud.volumes.values()) v.tags = v.tags.filter(keep);
    for (const fw of cloud.firewalls.values()) {
        fw.tags = fw.tags.filter(keep);
        for (const rule of [...fw.inboundRules, ...fw.outboundRules]) rule.tags = rule.tags.filter(keep);
    }
    cloud.tags.delete(lower);
    return { status: 204 };
}

function tagResources(cloud: Cloud, c: Ctx, add: boolean): Reply {
    const tag = cloud.tag(c.params[0]);
    const f: Fields = Fields.root(c.body);
    const items = f.optArray("resources");
    if (items === undefined || items.length === 0) f.fail("resources", "is required");
    const targets = items.map((item, i) => {
        const rf: Fields = Fields.of(item, `resources[${i}]`);
        const id = rf.str("resource_id");
        const type = rf.str("resource_type");
        if (type === "droplet") {
            const d = cloud.droplets.get(Number(id));
            if (d === undefined || !/^\d+$/.test(id)) rf.fail("resource_id", `no droplet ${id}`);
            return d;
        }
        if (type === "volume") {
            const v = cloud.volumes.get(id);
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

function tagJson(cloud: Cloud, t: TagRecord): JsonObject {
    const lower = t.name.toLowerCase();
    const has = (tags: string[]): boolean => tags.some((x) => x.toLowerCase() === lower);
    const droplets = [...cloud.droplets.values()].filter((d) => has(d.tags));
    const volumes = [...cloud.volumes.values()].filter((v) => has(v.tags));
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
