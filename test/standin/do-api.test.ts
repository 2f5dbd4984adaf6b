/**
 * Tests of the DigitalOcean stand-in over real HTTP, with the memory backend (which boots
 * nothing). Run: node --import tsx --test test/standin/do-api.test.ts
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { startDoStandin, type FaultOptions, type Json, type JsonObject, type Standin } from "./do-api";
import { MemoryBackend } from "./memory-backend";

const TOKEN = "standin-token";

// --- helpers --------------------------------------------------------------------------------------

interface Env {
    standin: Standin;
    backend: MemoryBackend;
    logs: string[];
    api: (method: string, path: string, body?: Json | string, token?: string | null) => Promise<ApiReply>;
}

interface ApiReply {
    status: number;
    json: JsonObject;
    headers: Headers;
}

async function withStandin(fn: (env: Env) => Promise<void>, opts: { deleteDelayMs?: number; faults?: FaultOptions } = {}): Promise<void> {
    const backend = new MemoryBackend({ bootDelayMs: 30, stopDelayMs: 10 });
    const logs: string[] = [];
    const standin = await startDoStandin({
        backend,
        token: TOKEN,
        deleteDelayMs: opts.deleteDelayMs ?? 150,
        actionDelayMs: 20,
        log: (line) => logs.push(line),
        ...(opts.faults !== undefined ? { faults: opts.faults } : {}),
    });
    const api: Env["api"] = async (method, path, body, token = TOKEN) => {
        const headers: Record<string, string> = { Accept: "application/json" };
        if (token !== null) headers.Authorization = `Bearer ${token}`;
        let payload: string | undefined;
        if (body !== undefined) {
            headers["Content-Type"] = "application/json";
            payload = typeof body === "string" ? body : JSON.stringify(body);
        }
        const res = await fetch(`${standin.url}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
        const text = await res.text();
        return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as JsonObject), headers: res.headers };
    };
    try {
        await fn({ standin, backend, logs, api });
    } finally {
        await standin.close();
    }
}

function obj(v: Json | undefined): JsonObject {
    assert.ok(typeof v === "object" && v !== null && !Array.isArray(v), `expected an object, got ${JSON.stringify(v)}`);
    return v;
}

function arr(v: Json | undefined): Json[] {
    assert.ok(Array.isArray(v), `expected an array, got ${JSON.stringify(v)}`);
    return v;
}

function num(v: Json | undefined): number {
    assert.equal(typeof v, "number", `expected a number, got ${JSON.stringify(v)}`);
    return v as number;
}

function str(v: Json | undefined): string {
    assert.equal(typeof v, "string", `expected a string, got ${JSON.stringify(v)}`);
    return v as string;
}

function assertError(reply: ApiReply, status: number, ...fragments: string[]): void {
    assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${JSON.stringify(reply.json)}`);
    assert.equal(typeof reply.json.id, "string");
    const message = str(reply.json.message);
    for (const fragment of fragments) {
        assert.ok(message.includes(fragment), `message ${JSON.stringify(message)} should mention ${JSON.stringify(fragment)}`);
    }
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Keys made by ssh-keygen, with ssh-keygen's own MD5 fingerprints to check ours against. */
const keys: { publicKey: string; md5: string }[] = [];
let keyDir = "";

before(() => {
    keyDir = mkdtempSync(join(tmpdir(), "do-standin-keys-"));
    for (let i = 0; i < 4; i++) {
        const file = join(keyDir, `k${i}`);
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `test-${i}`, "-f", file]);
        const publicKey = readFileSync(`${file}.pub`, "utf8");
        const md5 = execFileSync("ssh-keygen", ["-l", "-E", "md5", "-f", `${file}.pub`], { encoding: "utf8" });
        const match = /MD5:([0-9a-f:]+)/.exec(md5);
        assert.ok(match?.[1]);
        keys.push({ publicKey, md5: match[1] });
    }
});

after(() => rmSync(keyDir, { recursive: true, force: true }));

function key(i: number): { publicKey: string; md5: string } {
    const k = keys[i];
    assert.ok(k);
    return k;
}

async function createKey(env: Env, i: number): Promise<JsonObject> {
    const r = await env.api("POST", "/v2/account/keys", { name: `key-${i}`, public_key: key(i).publicKey });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return obj(r.json.ssh_key);
}

async function createVolume(env: Env, name: string, region = "fra1"): Promise<JsonObject> {
    const r = await env.api("POST", "/v2/volumes", {
        name,
        region,
        size_gigabytes: 10,
        description: "",
        snapshot_id: "",
        filesystem_type: "ext4",
        filesystem_label: "notebooks",
        tags: [],
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return obj(r.json.volume);
}

/** A droplet create body as godo sends it. */
function dropletBody(over: JsonObject = {}): JsonObject {
    return {
        name: "jupyter",
        region: "fra1",
        size: "s-1vcpu-2gb",
        image: "ubuntu-24-04-x64",
        ssh_keys: null,
        backups: false,
        ipv6: false,
        private_networking: false,
        monitoring: false,
        tags: [],
        ...over,
    };
}

async function createDroplet(env: Env, over: JsonObject = {}): Promise<JsonObject> {
    const r = await env.api("POST", "/v2/droplets", dropletBody(over));
    assert.equal(r.status, 202, JSON.stringify(r.json));
    return obj(r.json.droplet);
}

async function getDroplet(env: Env, id: Json | undefined): Promise<ApiReply> {
    return env.api("GET", `/v2/droplets/${num(id)}`);
}

// --- strictness ----------------------------------------------------------------------------------

describe("strictness", () => {
    it("answers 401 without the bearer token or with a wrong one", () =>
        withStandin(async (env) => {
            assertError(await env.api("GET", "/v2/account/keys", undefined, null), 401, "authenticate");
            assertError(await env.api("GET", "/v2/account/keys", undefined, "wrong"), 401, "authenticate");
            assert.equal((await env.api("GET", "/v2/account/keys")).status, 200);
        }));

    it("answers 404 naming an unknown route in its body, and logs it", () =>
        withStandin(async (env) => {
            const neighbors = await env.api("GET", "/v2/droplets/1/neighbors");
            assertError(neighbors, 404, "GET /v2/droplets/1/neighbors");
            assert.equal(neighbors.json.id, "not_found");
            assertError(await env.api("POST", "/v2/load_balancers", {}), 404, "POST /v2/load_balancers");
            assertError(await env.api("GET", "/v2/vpcs?per_page=200"), 404, "GET /v2/vpcs");
            assert.ok(
                env.logs.some((l) => l.includes("GET /v2/droplets/1/neighbors")),
                env.logs.join("\n"),
            );
            assert.deepEqual(
                env.standin.state.requests().map((r) => [r.method, r.path, r.status]),
                [
                    ["GET", "/v2/droplets/1/neighbors", 404],
                    ["POST", "/v2/load_balancers", 404],
                    ["GET", "/v2/vpcs?per_page=200", 404],
                ],
            );
            assert.deepEqual(env.standin.state.unknownCalls(), ["GET /v2/droplets/1/neighbors", "POST /v2/load_balancers", "GET /v2/vpcs"]);
        }));

    it("answers 405 naming a known route used with the wrong method", () =>
        withStandin(async (env) => {
            const r = await env.api("PATCH", "/v2/volumes/abc", {});
            assertError(r, 405, "PATCH", "/v2/volumes/abc");
            assert.match(r.headers.get("allow") ?? "", /GET/);
            assert.ok(env.logs.some((l) => l.includes("PATCH /v2/volumes/abc")));
            assert.deepEqual(env.standin.state.unknownCalls(), ["PATCH /v2/volumes/abc"]);
        }));

    it("answers 422 for a body that is not JSON", () =>
        withStandin(async (env) => {
            assertError(await env.api("POST", "/v2/account/keys", "{name: oops"), 422, "not valid JSON");
            assertError(await env.api("POST", "/v2/account/keys", "[1,2]"), 422, "must be a JSON object");
        }));

    it("answers 422 naming a missing or mistyped field", () =>
        withStandin(async (env) => {
            assertError(await env.api("POST", "/v2/account/keys", { name: "k" }), 422, "public_key", "required");
            assertError(
                await env.api("POST", "/v2/volumes", { name: "data", region: "fra1", size_gigabytes: "10" }),
                422,
                "size_gigabytes",
                "integer",
            );
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ backups: "yes" })), 422, "backups", "boolean");
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ tags: [1] })), 422, "tags[0]");
            assertError(
                await env.api("POST", "/v2/firewalls", {
                    name: "fw",
                    inbound_rules: [{ protocol: "tcp", ports: "22", sources: { addresses: "0.0.0.0/0" } }],
                }),
                422,
                "inbound_rules[0].sources.addresses",
                "array",
            );
            assert.equal(env.standin.state.volumes().length, 0);
            assert.equal(env.standin.state.droplets().length, 0);
        }));
});

// --- SSH keys ------------------------------------------------------------------------------------

describe("ssh keys", () => {
    it("create, get by id and by fingerprint, rename, list, delete", () =>
        withStandin(async (env) => {
            const k = await createKey(env, 0);
            assert.equal(typeof k.id, "number");
            assert.equal(k.name, "key-0");
            assert.equal(k.fingerprint, key(0).md5, "fingerprint is the MD5 ssh-keygen shows");
            assert.equal(k.public_key, key(0).publicKey.trim());

            const byId = await env.api("GET", `/v2/account/keys/${num(k.id)}`);
            assert.equal(byId.status, 200);
            assert.deepEqual(byId.json.ssh_key, k);
            const byFp = await env.api("GET", `/v2/account/keys/${str(k.fingerprint)}`);
            assert.deepEqual(byFp.json.ssh_key, k);

            const renamed = await env.api("PUT", `/v2/account/keys/${num(k.id)}`, { name: "renamed" });
            assert.equal(obj(renamed.json.ssh_key).name, "renamed");

            const list = await env.api("GET", "/v2/account/keys");
            assert.equal(arr(list.json.ssh_keys).length, 1);
            assert.equal(obj(list.json.meta).total, 1);
            assert.ok(obj(list.json.links));

            assert.equal((await env.api("DELETE", `/v2/account/keys/${num(k.id)}`)).status, 204);
            assertError(await env.api("GET", `/v2/account/keys/${num(k.id)}`), 404);
            assert.equal(env.standin.state.sshKeys().length, 0);
        }));

    it("refuses a public key already on the account, even with another comment", () =>
        withStandin(async (env) => {
            await createKey(env, 0);
            const again = key(0).publicKey.replace("test-0", "someone-else");
            assertError(
                await env.api("POST", "/v2/account/keys", { name: "dup", public_key: again }),
                422,
                "SSH Key is already in use on your account",
            );
            assert.equal(env.standin.state.sshKeys().length, 1);
        }));

    it("refuses something that is not an OpenSSH public key", () =>
        withStandin(async (env) => {
            assertError(await env.api("POST", "/v2/account/keys", { name: "x", public_key: "ssh-ed25519" }), 422, "public_key");
            assertError(
                await env.api("POST", "/v2/account/keys", { name: "x", public_key: "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA==" }),
                422,
                "public_key",
            );
            assertError(
                await env.api("POST", "/v2/account/keys", {
                    name: "x",
                    public_key: `-----BEGIN ${["OPENSSH", "PRIVATE", "KEY"].join(" ")}-----`,
                }),
                422,
                "private key",
            );
        }));

    it("pages lists with links and meta.total", () =>
        withStandin(async (env) => {
            for (let i = 0; i < 3; i++) await createKey(env, i);
            const first = await env.api("GET", "/v2/account/keys?per_page=2");
            assert.equal(arr(first.json.ssh_keys).length, 2);
            assert.equal(obj(first.json.meta).total, 3);
            const next = str(obj(obj(first.json.links).pages).next);
            const second = await env.api("GET", new URL(next).pathname + new URL(next).search);
            assert.equal(arr(second.json.ssh_keys).length, 1);
            assert.equal(obj(obj(second.json.links).pages).next, undefined);
        }));
});

// --- volumes -------------------------------------------------------------------------------------

describe("volumes", () => {
    it("create, get, list by name and region, delete; the backend makes and removes the disk", () =>
        withStandin(async (env) => {
            const v = await createVolume(env, "notebooks");
            assert.match(str(v.id), UUID);
            assert.equal(obj(v.region).slug, "fra1");
            assert.equal(v.size_gigabytes, 10);
            assert.equal(v.filesystem_type, "ext4");
            assert.equal(v.filesystem_label, "notebooks");
            assert.deepEqual(v.droplet_ids, []);
            assert.match(str(v.created_at), RFC3339);
            assert.deepEqual(env.backend.calls[0], {
                op: "createVolume",
                volume: { id: v.id, name: "notebooks", region: "fra1", sizeGb: 10, filesystemType: "ext4", filesystemLabel: "notebooks" },
            });

            assert.deepEqual((await env.api("GET", `/v2/volumes/${str(v.id)}`)).json.volume, v);
            const found = await env.api("GET", "/v2/volumes?name=notebooks&region=fra1");
            assert.equal(arr(found.json.volumes).length, 1);
            const none = await env.api("GET", "/v2/volumes?name=notebooks&region=ams3");
            assert.equal(arr(none.json.volumes).length, 0);

            assert.equal((await env.api("DELETE", `/v2/volumes/${str(v.id)}`)).status, 204);
            assertError(await env.api("GET", `/v2/volumes/${str(v.id)}`), 404);
            assert.deepEqual(env.backend.ops(), ["createVolume", "deleteVolume"]);
            assert.equal(env.backend.disks.size, 0);
        }));

    it("keeps volume names unique per region", () =>
        withStandin(async (env) => {
            await createVolume(env, "data", "fra1");
            const dup = await env.api("POST", "/v2/volumes", { name: "data", region: "fra1", size_gigabytes: 5 });
            assertError(dup, 409, "data", "fra1");
            await createVolume(env, "data", "ams3");
            assert.equal(env.standin.state.volumes().length, 2);
        }));

    it("enforces DigitalOcean's volume name, size and filesystem rules", () =>
        withStandin(async (env) => {
            const body = (over: JsonObject): JsonObject => ({ name: "data", region: "fra1", size_gigabytes: 5, ...over });
            assertError(await env.api("POST", "/v2/volumes", body({ name: "Data" })), 422, "name", "lowercase");
            assertError(await env.api("POST", "/v2/volumes", body({ name: "1data" })), 422, "name");
            assertError(await env.api("POST", "/v2/volumes", body({ size_gigabytes: 0 })), 422, "size_gigabytes");
            assertError(await env.api("POST", "/v2/volumes", body({ region: "mars1" })), 422, "region");
            assertError(await env.api("POST", "/v2/volumes", body({ filesystem_type: "btrfs" })), 422, "filesystem_type");
            assertError(
                await env.api("POST", "/v2/volumes", body({ filesystem_type: "xfs", filesystem_label: "thirteen-char" })),
                422,
                "filesystem_label",
                "12",
            );
            assertError(
                await env.api("POST", "/v2/volumes", body({ filesystem_label: "lbl" })),
                422,
                "filesystem_label",
                "filesystem_type",
            );
            assert.equal(env.standin.state.volumes().length, 0);
            assert.equal(env.backend.calls.length, 0);
        }));

    it("grows a volume through a resize action, never shrinks it", () =>
        withStandin(async (env) => {
            const v = await createVolume(env, "data");
            const r = await env.api("POST", `/v2/volumes/${str(v.id)}/actions`, { type: "resize", size_gigabytes: 20, region: "fra1" });
            assert.equal(r.status, 202);
            assert.equal(obj(r.json.action).type, "resize_volume");
            assert.equal(obj((await env.api("GET", `/v2/volumes/${str(v.id)}`)).json.volume).size_gigabytes, 20);
            assertError(
                await env.api("POST", `/v2/volumes/${str(v.id)}/actions`, { type: "resize", size_gigabytes: 15 }),
                422,
                "size_gigabytes",
            );
        }));
});

// --- droplets ------------------------------------------------------------------------------------

describe("droplets", () => {
    it("create boots through the backend: new, then active with the backend's address", () =>
        withStandin(async (env) => {
            const k0 = await createKey(env, 0);
            const k1 = await createKey(env, 1);
            const v = await createVolume(env, "notebooks");
            const r = await env.api(
                "POST",
                "/v2/droplets",
                dropletBody({
                    ssh_keys: [num(k0.id), str(k1.fingerprint)],
                    volumes: [{ id: str(v.id) }],
                    user_data: "#cloud-config\n",
                    tags: ["jupyter"],
                }),
            );
            assert.equal(r.status, 202, JSON.stringify(r.json));
            const d = obj(r.json.droplet);
            assert.equal(typeof d.id, "number");
            assert.equal(d.status, "new");
            assert.equal(d.locked, false);
            assert.deepEqual(obj(d.networks).v4, []);
            assert.deepEqual(d.volume_ids, [v.id]);
            const actionLink = obj(arr(obj(r.json.links).actions)[0]);
            assert.equal(actionLink.rel, "create");

            await env.standin.state.idle();
            const got = obj((await getDroplet(env, d.id)).json.droplet);
            assert.equal(got.status, "active");
            assert.deepEqual(obj(got.networks).v4, [
                { ip_address: "127.0.0.10", netmask: "255.0.0.0", gateway: "127.0.0.1", type: "public" },
            ]);
            assert.equal(got.size_slug, "s-1vcpu-2gb");
            assert.deepEqual({ memory: got.memory, vcpus: got.vcpus, disk: got.disk }, { memory: 2048, vcpus: 1, disk: 50 });
            const size = obj(got.size);
            assert.equal(size.slug, "s-1vcpu-2gb");
            assert.equal(size.price_monthly, 12);
            assert.equal(size.price_hourly, 0.01786);
            assert.equal(obj(got.region).slug, "fra1");
            assert.equal(obj(got.image).slug, "ubuntu-24-04-x64");
            assert.deepEqual(got.tags, ["jupyter"]);
            assert.deepEqual(got.features, []);
            assert.match(str(got.created_at), RFC3339);
            assert.match(str(got.vpc_uuid), UUID);
            assert.deepEqual(got.backup_ids, []);
            assert.deepEqual(got.snapshot_ids, []);

            const action = obj((await env.api("GET", `/v2/actions/${num(actionLink.id)}`)).json.action);
            assert.equal(action.status, "completed");
            assert.match(str(action.completed_at), RFC3339);

            assert.deepEqual(obj((await env.api("GET", `/v2/volumes/${str(v.id)}`)).json.volume).droplet_ids, [d.id]);

            const boot = env.backend.calls.find((c) => c.op === "bootDroplet");
            assert.ok(boot?.op === "bootDroplet");
            assert.deepEqual(boot.droplet, {
                id: d.id,
                name: "jupyter",
                region: "fra1",
                image: "ubuntu-24-04-x64",
                size: "s-1vcpu-2gb",
                memoryMb: 2048,
                vcpus: 1,
                diskGb: 50,
                userData: "#cloud-config\n",
                authorizedKeys: [key(0).publicKey.trim(), key(1).publicKey.trim()],
                volumes: [{ id: v.id, name: "notebooks" }],
            });
            assert.deepEqual(env.standin.state.tags(), ["jupyter"]);
            const listed = await env.api("GET", "/v2/droplets?tag_name=jupyter");
            assert.equal(arr(listed.json.droplets).length, 1);
        }));

    it("delete is asynchronous: the droplet answers GET and keeps its volume until it is gone", () =>
        withStandin(
            async (env) => {
                const v = await createVolume(env, "notebooks");
                const d = await createDroplet(env, { volumes: [{ id: str(v.id) }] });
                await env.standin.state.idle();

                assert.equal((await env.api("DELETE", `/v2/droplets/${num(d.id)}`)).status, 204);
                while (env.backend.running.has(num(d.id))) await new Promise((r) => setTimeout(r, 5));
                const during = await getDroplet(env, d.id);
                assert.equal(during.status, 200, "a deleted droplet still answers for a while after its VM stopped");
                assert.deepEqual(obj((await env.api("GET", `/v2/volumes/${str(v.id)}`)).json.volume).droplet_ids, [d.id]);
                assertError(await env.api("DELETE", `/v2/volumes/${str(v.id)}`), 409, "attached", String(num(d.id)));

                await env.standin.state.idle();
                assertError(await getDroplet(env, d.id), 404, "could not be found");
                assert.deepEqual(obj((await env.api("GET", `/v2/volumes/${str(v.id)}`)).json.volume).droplet_ids, []);
                assert.ok(env.backend.calls.some((c) => c.op === "stopDroplet" && c.id === d.id));
                assert.equal(env.backend.running.size, 0);
                assert.equal((await env.api("DELETE", `/v2/volumes/${str(v.id)}`)).status, 204);
                assert.equal(env.backend.disks.size, 0);
            },
            { deleteDelayMs: 800 },
        ));

    it("refuses a droplet name that does not end in a letter or digit, at create and at rename, as DigitalOcean's name pattern does", () =>
        withStandin(async (env) => {
            for (const name of ["jupyter-", "jupyter.", "nb.example.com.", "-", "."]) {
                const r = await env.api("POST", "/v2/droplets", dropletBody({ name }));
                assertError(r, 422, "name", "end with a letter or digit");
                assert.equal(r.json.id, "unprocessable_entity");
                assert.match(str(r.json.request_id), UUID);
            }
            assert.deepEqual(env.standin.state.createdDroplets(), []);
            // The pattern ^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$ takes these.
            for (const name of ["a", "9", "nb-1", "nb.example.com", "-nb", ".nb"]) await createDroplet(env, { name });
            await env.standin.state.idle();
            const d = env.standin.state.droplets()[0];
            assert.ok(d);
            assertError(await env.api("POST", `/v2/droplets/${d.id}/actions`, { type: "rename", name: "notebook-" }), 422, "name");
            assert.equal(env.standin.state.droplets()[0]?.name, "a");
        }));

    it("rejects unknown sizes, regions and images, and sizes a region does not offer", () =>
        withStandin(async (env) => {
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ size: "s-1vcpu-3gb" })), 422, "size", "invalid size");
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ region: "fra9" })), 422, "region", "invalid region");
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ image: "ubuntu-18-04-x64" })), 422, "image", "invalid image");
            // DigitalOcean's own answer for a size the region does not offer, word for word.
            for (const over of [
                { size: "s-1vcpu-512mb-10gb", region: "lon1" },
                { size: "s-4vcpu-8gb", region: "syd1" },
            ]) {
                const r = await env.api("POST", "/v2/droplets", dropletBody(over));
                assert.equal(r.status, 422, JSON.stringify(r.json));
                assert.equal(r.json.id, "unprocessable_entity");
                assert.equal(r.json.message, "Size is not available in this region.");
            }
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ name: "bad_name" })), 422, "name", "hostname");
            assert.equal(env.standin.state.droplets().length, 0);
            assert.equal(env.backend.calls.length, 0);
        }));

    it("accepts every size and image of the catalogue", () =>
        withStandin(async (env) => {
            for (const size of ["s-1vcpu-1gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-8gb"]) {
                const d = await createDroplet(env, { size, image: "debian-12-x64" });
                assert.equal(obj(d.size).slug, size);
            }
            const u22 = await createDroplet(env, { image: "ubuntu-22-04-x64", region: "nyc3" });
            assert.equal(obj(u22.image).distribution, "Ubuntu");
            const d13 = obj((await createDroplet(env, { image: "debian-13-x64", region: "syd1" })).image);
            assert.deepEqual([d13.slug, d13.distribution, d13.name], ["debian-13-x64", "Debian", "13 x64"]);
        }));

    it("a resize to a size the droplet's region does not offer names size and region", () =>
        withStandin(async (env) => {
            const d = await createDroplet(env, { region: "syd1", size: "s-2vcpu-4gb" });
            await env.standin.state.idle();
            const path = `/v2/droplets/${num(d.id)}/actions`;
            assertError(await env.api("POST", path, { type: "resize", size: "s-4vcpu-8gb", disk: true }), 422, "s-4vcpu-8gb", "syd1");
            assert.equal(obj((await getDroplet(env, d.id)).json.droplet).size_slug, "s-2vcpu-4gb");
        }));

    it("rejects unknown ssh keys, oversized user data and IPv6", () =>
        withStandin(async (env) => {
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ ssh_keys: [12345] })), 422, "ssh_keys[0]", "12345");
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ ssh_keys: ["aa:bb"] })), 422, "ssh_keys[0]", "aa:bb");
            const big = "#cloud-config\n" + "x".repeat(64 * 1024);
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ user_data: big })), 422, "user_data", "64 KiB");
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ ipv6: true })), 422, "ipv6");
            assert.equal(env.standin.state.droplets().length, 0);
        }));

    it("keeps to the account's droplet limit", () =>
        withStandin(async (env) => {
            const limit = num(obj((await env.api("GET", "/v2/account")).json.account).droplet_limit);
            for (let i = 0; i < limit; i++) await createDroplet(env, { name: `d${i}` });
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ name: "one-too-many" })), 422, "droplet limit");
            assert.equal(env.standin.state.droplets().length, limit);
        }));

    it("attaches volumes at create only in their own region and only if free", () =>
        withStandin(async (env) => {
            const ams = await createVolume(env, "elsewhere", "ams3");
            assertError(await env.api("POST", "/v2/droplets", dropletBody({ volumes: [{ id: str(ams.id) }] })), 422, "volumes[0]", "ams3");
            assertError(
                await env.api("POST", "/v2/droplets", dropletBody({ volumes: [{ id: "0b0e7d9c-0000-4000-8000-000000000000" }] })),
                422,
                "volumes[0]",
            );
            const v = await createVolume(env, "notebooks");
            const first = await createDroplet(env, { volumes: [str(v.id)] });
            assertError(
                await env.api("POST", "/v2/droplets", dropletBody({ name: "second", volumes: [{ id: str(v.id) }] })),
                422,
                "volumes[0]",
                "already attached",
                String(num(first.id)),
            );
            assert.equal(env.standin.state.droplets().length, 1);
        }));

    it("a volume detached from a droplet whose VM still runs cannot be booted elsewhere until that droplet is gone", () =>
        withStandin(async (env) => {
            const v = await createVolume(env, "notebooks");
            const first = await createDroplet(env, { volumes: [{ id: str(v.id) }] });
            await env.standin.state.idle();
            const detach = await env.api("POST", `/v2/volumes/${str(v.id)}/actions`, {
                type: "detach",
                droplet_id: num(first.id),
                region: "fra1",
            });
            assert.equal(detach.status, 202);
            assertError(
                await env.api("POST", "/v2/droplets", dropletBody({ name: "second", volumes: [{ id: str(v.id) }] })),
                422,
                "volumes[0]",
                "running local VM",
            );
            // The provider's delete-before-replace: delete the first, then create the second at once.
            assert.equal((await env.api("DELETE", `/v2/droplets/${num(first.id)}`)).status, 204);
            const second = await createDroplet(env, { name: "second", volumes: [{ id: str(v.id) }] });
            await env.standin.state.idle();
            const ops = env.backend.calls.map((c) => `${c.op}:${"id" in c ? c.id : c.op === "bootDroplet" ? c.droplet.id : ""}`);
            assert.ok(
                ops.indexOf(`stopDroplet:${num(first.id)}`) < ops.indexOf(`bootDroplet:${num(second.id)}`),
                `the second VM boots after the first stopped: ${ops.join(", ")}`,
            );
            assert.equal(obj((await getDroplet(env, second.id)).json.droplet).status, "active");
        }));

    it("a failed boot leaves the droplet off with the reason logged, and it can still be deleted", () =>
        withStandin(async (env) => {
            env.backend.failNextBoot("qemu exited with status 1");
            const r = await env.api("POST", "/v2/droplets", dropletBody());
            const d = obj(r.json.droplet);
            const actionId = num(obj(arr(obj(r.json.links).actions)[0]).id);
            await env.standin.state.idle();
            assert.equal(obj((await getDroplet(env, d.id)).json.droplet).status, "off");
            assert.equal(obj((await env.api("GET", `/v2/actions/${actionId}`)).json.action).status, "errored");
            assert.equal(env.standin.state.droplets()[0]?.bootError, "qemu exited with status 1");
            assert.ok(env.logs.some((l) => l.includes("qemu exited with status 1")));
            assert.equal((await env.api("DELETE", `/v2/droplets/${num(d.id)}`)).status, 204);
            await env.standin.state.idle();
            assert.equal((await getDroplet(env, d.id)).status, 404);
        }));

    it("power off, resize (never shrinking the disk) and power on through droplet actions", () =>
        withStandin(async (env) => {
            const releaseBoot = env.backend.pause();
            const d = await createDroplet(env, { size: "s-1vcpu-2gb" });
            const path = `/v2/droplets/${num(d.id)}/actions`;
            assertError(await env.api("POST", path, { type: "power_off" }), 422, "still being created");
            releaseBoot();
            await env.standin.state.idle();
            assertError(await env.api("POST", path, { type: "resize", size: "s-2vcpu-4gb", disk: true }), 422, "powered off");

            const releaseOff = env.backend.pause();
            const off = await env.api("POST", path, { type: "power_off" });
            assert.equal(off.status, 201);
            assert.equal(obj((await getDroplet(env, d.id)).json.droplet).locked, true);
            assertError(await env.api("POST", path, { type: "power_on" }), 422, "pending event");
            assertError(await env.api("DELETE", `/v2/droplets/${num(d.id)}`), 422, "pending event");
            releaseOff();
            await env.standin.state.idle();
            const offAction = obj((await env.api("GET", `${path}/${num(obj(off.json.action).id)}`)).json.action);
            assert.equal(offAction.status, "completed");
            assert.equal(obj((await getDroplet(env, d.id)).json.droplet).status, "off");
            assertError(await env.api("POST", path, { type: "power_off" }), 422, "Droplet is already powered off");

            assertError(await env.api("POST", path, { type: "resize", size: "s-1vcpu-1gb", disk: true }), 422, "size", "cannot shrink");
            assert.equal((await env.api("POST", path, { type: "resize", size: "s-2vcpu-4gb", disk: true })).status, 201);
            await env.standin.state.idle();
            const resized = obj((await getDroplet(env, d.id)).json.droplet);
            assert.deepEqual([resized.size_slug, resized.vcpus, resized.memory, resized.disk], ["s-2vcpu-4gb", 2, 4096, 80]);
            assert.equal(obj(resized.size).price_monthly, 24);

            assert.equal((await env.api("POST", path, { type: "power_on" })).status, 201);
            await env.standin.state.idle();
            assert.equal(obj((await getDroplet(env, d.id)).json.droplet).status, "active");
            assert.deepEqual(
                env.backend.ops().filter((o) => o !== "bootDroplet"),
                ["powerOffDroplet", "resizeDroplet", "powerOnDroplet"],
            );
        }));

    it("shutdown asks the backend for a graceful power-off, power_off for a hard one; shutting down an off droplet is no error", () =>
        withStandin(async (env) => {
            const gentle = await createDroplet(env, { name: "gentle" });
            const hard = await createDroplet(env, { name: "hard" });
            await env.standin.state.idle();
            const gentlePath = `/v2/droplets/${num(gentle.id)}/actions`;

            const releaseOff = env.backend.pause();
            const shutdown = await env.api("POST", gentlePath, { type: "shutdown" });
            assert.equal(shutdown.status, 201);
            assert.equal(obj(shutdown.json.action).type, "shutdown");
            // Until the guest is off, the droplet is active and locked (the provider polls for "off").
            const during = obj((await getDroplet(env, gentle.id)).json.droplet);
            assert.deepEqual([during.status, during.locked], ["active", true]);
            releaseOff();
            await env.standin.state.idle();
            assert.equal(obj((await env.api("GET", `${gentlePath}/${num(obj(shutdown.json.action).id)}`)).json.action).status, "completed");
            const done = obj((await getDroplet(env, gentle.id)).json.droplet);
            assert.deepEqual([done.status, done.locked], ["off", false]);

            // terraform-provider-digitalocean shuts a droplet down before deleting it even if it is off.
            const again = await env.api("POST", gentlePath, { type: "shutdown" });
            assert.equal(again.status, 201);
            await env.standin.state.idle();
            assert.equal(obj((await env.api("GET", `/v2/actions/${num(obj(again.json.action).id)}`)).json.action).status, "completed");
            assertError(await env.api("POST", gentlePath, { type: "power_off" }), 422, "Droplet is already powered off");

            assert.equal((await env.api("POST", `/v2/droplets/${num(hard.id)}/actions`, { type: "power_off" })).status, 201);
            await env.standin.state.idle();
            assert.equal(obj((await getDroplet(env, hard.id)).json.droplet).status, "off");
            assert.deepEqual(
                env.backend.calls.filter((c) => c.op === "powerOffDroplet"),
                [
                    { op: "powerOffDroplet", id: num(gentle.id), graceful: true },
                    { op: "powerOffDroplet", id: num(hard.id), graceful: false },
                ],
            );
        }));

    it("a shutdown the guest does not follow errors its action and leaves the droplet active", () =>
        withStandin(async (env) => {
            const d = await createDroplet(env);
            await env.standin.state.idle();
            env.backend.failNextShutdown("the guest ignored its power button");
            const r = await env.api("POST", `/v2/droplets/${num(d.id)}/actions`, { type: "shutdown" });
            assert.equal(r.status, 201);
            await env.standin.state.idle();
            assert.equal(obj((await env.api("GET", `/v2/actions/${num(obj(r.json.action).id)}`)).json.action).status, "errored");
            const droplet = obj((await getDroplet(env, d.id)).json.droplet);
            assert.deepEqual([droplet.status, droplet.locked], ["active", false]);
            assert.ok(
                env.logs.some((l) => l.includes("the guest ignored its power button")),
                env.logs.join("\n"),
            );
            assert.ok(env.backend.running.has(num(d.id)));
        }));

    it("a delete with graceful_shutdown, as the provider makes it: shutdown, wait for off, detach the volume, DELETE", () =>
        withStandin(async (env) => {
            const v = await createVolume(env, "notebooks");
            const d = await createDroplet(env, { volumes: [{ id: str(v.id) }] });
            await env.standin.state.idle();
            assert.equal((await env.api("POST", `/v2/droplets/${num(d.id)}/actions`, { type: "shutdown" })).status, 201);
            await env.standin.state.idle();
            assert.equal(obj((await getDroplet(env, d.id)).json.droplet).status, "off");
            const detach = await env.api("POST", `/v2/volumes/${str(v.id)}/actions`, {
                type: "detach",
                droplet_id: num(d.id),
                region: "fra1",
            });
            assert.equal(detach.status, 202);
            assert.equal((await env.api("DELETE", `/v2/droplets/${num(d.id)}`)).status, 204);
            await env.standin.state.idle();
            assert.equal((await getDroplet(env, d.id)).status, 404);
            assert.deepEqual(
                env.backend.ops().filter((o) => o === "powerOffDroplet" || o === "stopDroplet"),
                ["powerOffDroplet", "stopDroplet"],
                "the backend is told to stop (delete) the VM after it was shut down",
            );
            // Its replacement attaches the volume.
            const next = await createDroplet(env, { name: "jupyter-2", volumes: [{ id: str(v.id) }] });
            await env.standin.state.idle();
            assert.equal(obj((await getDroplet(env, next.id)).json.droplet).status, "active");
        }));
});

// --- volume actions ------------------------------------------------------------------------------

describe("volume actions", () => {
    it("attach to an existing droplet: same region, one droplet at a time, else not supported locally", () =>
        withStandin(async (env) => {
            const v = await createVolume(env, "notebooks");
            const holder = await createDroplet(env, { volumes: [{ id: str(v.id) }] });
            const other = await createDroplet(env, { name: "other" });
            const far = await createDroplet(env, { name: "far", region: "ams3" });
            const path = `/v2/volumes/${str(v.id)}/actions`;
            assertError(await env.api("POST", path, { type: "attach", droplet_id: num(far.id) }), 422, "same region");
            assertError(
                await env.api("POST", path, { type: "attach", droplet_id: num(other.id) }),
                422,
                "already attached",
                String(num(holder.id)),
            );
            const free = await createVolume(env, "spare");
            assertError(
                await env.api("POST", `/v2/volumes/${str(free.id)}/actions`, { type: "attach", droplet_id: num(other.id), region: "fra1" }),
                422,
                "not supported by the local stand-in",
                "volume_ids",
            );
            assertError(await env.api("POST", path, { type: "attach" }), 422, "droplet_id", "required");
            assert.deepEqual(obj((await env.api("GET", `/v2/volumes/${str(free.id)}`)).json.volume).droplet_ids, []);
        }));

    it("detach answers an action that completes, and keeps droplet and volume consistent", () =>
        withStandin(async (env) => {
            const v = await createVolume(env, "notebooks");
            const d = await createDroplet(env, { volumes: [{ id: str(v.id) }] });
            await env.standin.state.idle();
            const path = `/v2/volumes/${str(v.id)}/actions`;
            const r = await env.api("POST", path, { type: "detach", droplet_id: num(d.id), region: "fra1" });
            assert.equal(r.status, 202);
            const action = obj(r.json.action);
            assert.equal(action.status, "in-progress");
            assert.equal(action.completed_at, null);
            assert.equal(action.resource_type, "volume");
            await env.standin.state.idle();
            const done = obj((await env.api("GET", `/v2/actions/${num(action.id)}`)).json.action);
            assert.equal(done.status, "completed");
            assert.match(str(done.completed_at), RFC3339);
            assert.deepEqual((await env.api("GET", `${path}/${num(action.id)}`)).json.action, done);

            assert.deepEqual(obj((await env.api("GET", `/v2/volumes/${str(v.id)}`)).json.volume).droplet_ids, []);
            assert.deepEqual(obj((await getDroplet(env, d.id)).json.droplet).volume_ids, []);
            assertError(await env.api("POST", path, { type: "detach", droplet_id: num(d.id) }), 422, "Attachment not found");
            assertError(await env.api("POST", path, { type: "snapshot" }), 422, "type");
        }));
});

// --- reserved IPs --------------------------------------------------------------------------------

describe("reserved IPs", () => {
    it("create in a region, assign to an active droplet, unassign, delete: the backend routes its traffic", () =>
        withStandin(async (env) => {
            const created = await env.api("POST", "/v2/reserved_ips", { region: "fra1" });
            assert.equal(created.status, 202, JSON.stringify(created.json));
            const ip = str(obj(created.json.reserved_ip).ip);
            assert.equal(obj(obj(created.json.reserved_ip).region).slug, "fra1");
            assert.equal(obj(created.json.reserved_ip).droplet, null);
            const d = await createDroplet(env);
            const path = `/v2/reserved_ips/${ip}/actions`;
            assertError(await env.api("POST", path, { type: "assign", droplet_id: num(d.id) }), 422, "not active yet");
            await env.standin.state.idle();
            const assigned = await env.api("POST", path, { type: "assign", droplet_id: num(d.id) });
            assert.equal(assigned.status, 201, JSON.stringify(assigned.json));
            const action = obj(assigned.json.action);
            assert.equal(action.resource_type, "reserved_ip");
            await env.standin.state.idle();
            assert.equal(obj((await env.api("GET", `${path}/${num(action.id)}`)).json.action).status, "completed");
            assert.equal(num(obj(obj((await env.api("GET", `/v2/reserved_ips/${ip}`)).json.reserved_ip).droplet).id), num(d.id));
            assert.equal(env.backend.reservedRoutes.get(ip), num(d.id));
            assert.deepEqual(env.standin.state.reservedIps(), [{ ip, region: "fra1", dropletId: num(d.id) }]);

            assert.equal((await env.api("POST", path, { type: "unassign" })).status, 201);
            assert.equal(obj((await env.api("GET", `/v2/reserved_ips/${ip}`)).json.reserved_ip).droplet, null);
            assert.equal(env.backend.reservedRoutes.has(ip), false);
            assertError(await env.api("POST", path, { type: "unassign" }), 422, "not assigned");
            assertError(await env.api("POST", path, { type: "float" }), 422, "type");

            assert.equal((await env.api("DELETE", `/v2/reserved_ips/${ip}`)).status, 204);
            assertError(await env.api("GET", `/v2/reserved_ips/${ip}`), 404, "");
        }));

    it("a deleted droplet loses its reserved IP, which stays on the account; one per droplet, same region only", () =>
        withStandin(async (env) => {
            const ip = str(obj((await env.api("POST", "/v2/reserved_ips", { region: "fra1" })).json.reserved_ip).ip);
            const second = str(obj((await env.api("POST", "/v2/reserved_ips", { region: "fra1" })).json.reserved_ip).ip);
            const elsewhere = str(obj((await env.api("POST", "/v2/reserved_ips", { region: "ams3" })).json.reserved_ip).ip);
            assertError(await env.api("POST", "/v2/reserved_ips", { region: "fra1" }), 422, "reserved IP limit of 3");
            const d = await createDroplet(env);
            await env.standin.state.idle();
            assert.equal((await env.api("POST", `/v2/reserved_ips/${ip}/actions`, { type: "assign", droplet_id: num(d.id) })).status, 201);
            assertError(
                await env.api("POST", `/v2/reserved_ips/${second}/actions`, { type: "assign", droplet_id: num(d.id) }),
                422,
                "at most one",
            );
            assertError(
                await env.api("POST", `/v2/reserved_ips/${elsewhere}/actions`, { type: "assign", droplet_id: num(d.id) }),
                422,
                "ams3",
            );
            assert.equal((await env.api("DELETE", `/v2/droplets/${num(d.id)}`)).status, 204);
            await env.standin.state.idle();
            assert.deepEqual(
                env.standin.state.reservedIps().find((x) => x.ip === ip),
                { ip, region: "fra1" },
            );
            assert.equal(env.backend.reservedRoutes.has(ip), false);
            assertError(await env.api("POST", "/v2/reserved_ips", { region: "fra1", droplet_id: 1 }), 422, "droplet_id");
        }));
});

// --- DNS domains and records --------------------------------------------------------------------

type RecordFields = Record<string, Json | undefined>;

/**
 * A record request body as godo sends it: priority, port, weight and flags always (0 when unset);
 * a field overridden with undefined is left out, as godo's omitempty leaves out type, name, data
 * and ttl when they are empty.
 */
function recordBody(over: RecordFields = {}): JsonObject {
    const body: RecordFields = {
        type: "A",
        name: "nb",
        data: "203.0.113.10",
        priority: 0,
        port: 0,
        ttl: 300,
        weight: 0,
        flags: 0,
        ...over,
    };
    return Object.fromEntries(Object.entries(body).filter((entry): entry is [string, Json] => entry[1] !== undefined));
}

async function createZone(env: Env, name: string, ipAddress?: string): Promise<JsonObject> {
    const r = await env.api("POST", "/v2/domains", { name, ...(ipAddress !== undefined ? { ip_address: ipAddress } : {}) });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return obj(r.json.domain);
}

async function createRecord(env: Env, zone: string, over: RecordFields = {}): Promise<JsonObject> {
    const r = await env.api("POST", `/v2/domains/${zone}/records`, recordBody(over));
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return obj(r.json.domain_record);
}

describe("DNS domains", () => {
    it("create (with DigitalOcean's NS and SOA records), get with its zone file, delete", () =>
        withStandin(async (env) => {
            assert.deepEqual(await createZone(env, "Example.COM"), { name: "example.com", ttl: 1800, zone_file: null });
            const got = obj((await env.api("GET", "/v2/domains/example.com")).json.domain);
            assert.equal(got.name, "example.com");
            assert.match(str(got.zone_file), /^example\.com\. 1800 IN NS ns1\.digitalocean\.com\.$/m);
            assert.deepEqual(
                env.standin.state.domainRecords().map((r) => [r.zone, r.type, r.name, r.data]),
                [
                    ["example.com", "NS", "@", "ns1.digitalocean.com"],
                    ["example.com", "NS", "@", "ns2.digitalocean.com"],
                    ["example.com", "NS", "@", "ns3.digitalocean.com"],
                    ["example.com", "SOA", "@", "1800"],
                ],
            );
            assert.deepEqual(env.standin.state.domains(), [{ name: "example.com", ttl: 1800 }]);

            assert.equal((await env.api("DELETE", "/v2/domains/example.com")).status, 204);
            assertError(await env.api("GET", "/v2/domains/example.com"), 404, "could not be found");
            assert.deepEqual(env.standin.state.domains(), []);
            assert.deepEqual(env.standin.state.domainRecords(), []);
        }));

    it("ip_address makes an apex A record, which the backend publishes until the domain is deleted", () =>
        withStandin(async (env) => {
            await createZone(env, "example.com", "203.0.113.5");
            assert.equal(env.backend.dnsAddresses.get("example.com"), "203.0.113.5");
            const a = env.standin.state.domainRecords().filter((r) => r.type === "A");
            assert.deepEqual(
                a.map((r) => [r.name, r.data]),
                [["@", "203.0.113.5"]],
            );
            assert.match(
                str(obj((await env.api("GET", "/v2/domains/example.com")).json.domain).zone_file),
                /^example\.com\. 1800 IN A 203\.0\.113\.5$/m,
            );
            await createRecord(env, "example.com");
            assert.equal((await env.api("DELETE", "/v2/domains/example.com")).status, 204);
            assert.deepEqual([...env.backend.dnsAddresses], []);
        }));

    it("lists domains in pages, as getDomains asks (page, per_page=200), with links and meta.total", () =>
        withStandin(async (env) => {
            for (const name of ["a.example", "b.example", "c.example"]) await createZone(env, name);
            const all = await env.api("GET", "/v2/domains?page=1&per_page=200");
            assert.deepEqual(
                arr(all.json.domains).map((d) => obj(d).name),
                ["a.example", "b.example", "c.example"],
            );
            assert.equal(obj(all.json.meta).total, 3);
            assert.deepEqual(obj(all.json.links).pages, {});
            const first = await env.api("GET", "/v2/domains?page=1&per_page=2");
            assert.equal(arr(first.json.domains).length, 2);
            const next = new URL(str(obj(obj(first.json.links).pages).next));
            assert.equal(next.searchParams.get("page"), "2");
            const second = await env.api("GET", next.pathname + next.search);
            assert.deepEqual(
                arr(second.json.domains).map((d) => obj(d).name),
                ["c.example"],
            );
            assert.equal(obj(obj(second.json.links).pages).next, undefined);
        }));

    it("refuses invalid and duplicate names and a bad ip_address; 404 for an unknown domain", () =>
        withStandin(async (env) => {
            await createZone(env, "example.com");
            assertError(await env.api("POST", "/v2/domains", { name: "example.com" }), 422, "name", "already");
            assertError(await env.api("POST", "/v2/domains", { name: "localhost" }), 422, "name", "not a valid domain name");
            assertError(await env.api("POST", "/v2/domains", { name: "bad_name.com" }), 422, "name");
            assertError(await env.api("POST", "/v2/domains", {}), 422, "name", "required");
            assertError(await env.api("POST", "/v2/domains", { name: "other.com", ip_address: "2001:db8::1" }), 422, "ip_address", "IPv4");
            assert.deepEqual(
                env.standin.state.domains().map((d) => d.name),
                ["example.com"],
            );
            for (const [method, path] of [
                ["GET", "/v2/domains/nope.com"],
                ["DELETE", "/v2/domains/nope.com"],
                ["GET", "/v2/domains/nope.com/records"],
                ["POST", "/v2/domains/nope.com/records"],
            ] as const) {
                const r = await env.api(method, path, method === "POST" ? recordBody() : undefined);
                assertError(r, 404, "The resource you were accessing could not be found.");
                assert.equal(r.json.id, "not_found");
            }
        }));
});

describe("DNS records", () => {
    it("create, read, update, delete an A record as the provider does; the backend publishes each change", () =>
        withStandin(async (env) => {
            await createZone(env, "example.com");
            const created = await createRecord(env, "example.com");
            const id = num(created.id);
            const path = `/v2/domains/example.com/records/${id}`;
            assert.deepEqual(created, {
                id,
                type: "A",
                name: "nb",
                data: "203.0.113.10",
                priority: null,
                port: null,
                ttl: 300,
                weight: null,
                flags: null,
                tag: null,
            });
            assert.deepEqual(obj((await env.api("GET", path)).json.domain_record), created);
            assert.deepEqual([...env.backend.dnsAddresses], [["nb.example.com", "203.0.113.10"]]);

            const updated = await env.api("PUT", path, recordBody({ type: undefined, name: "lab", data: "203.0.113.11", ttl: 60 }));
            assert.equal(updated.status, 200, JSON.stringify(updated.json));
            assert.deepEqual(
                env.standin.state.domainRecords().filter((r) => r.type === "A"),
                [{ zone: "example.com", id, type: "A", name: "lab", data: "203.0.113.11", ttl: 60 }],
            );
            assert.deepEqual([...env.backend.dnsAddresses], [["lab.example.com", "203.0.113.11"]]);
            // A PUT without ttl (godo leaves out 0) keeps it.
            assert.equal(obj((await env.api("PUT", path, recordBody({ name: "lab", ttl: undefined }))).json.domain_record).ttl, 60);

            assert.equal((await env.api("DELETE", path)).status, 204);
            assertError(await env.api("GET", path), 404, "could not be found");
            assertError(await env.api("DELETE", path), 404, "could not be found");
            assert.deepEqual([...env.backend.dnsAddresses], []);
            assert.deepEqual(
                env.backend.calls.filter((c) => c.op === "publishDnsRecord").map((c) => [c.fqdn, c.data]),
                [
                    ["nb.example.com", "203.0.113.10"],
                    ["nb.example.com", undefined],
                    ["lab.example.com", "203.0.113.11"],
                    ["lab.example.com", "203.0.113.10"],
                    ["lab.example.com", undefined],
                ],
            );
        }));

    it('answers names relative to the domain, "@" for the apex, whatever form the request used', () =>
        withStandin(async (env) => {
            await createZone(env, "example.com");
            assert.equal((await createRecord(env, "example.com", { name: "@", data: "203.0.113.1" })).name, "@");
            assert.equal((await createRecord(env, "example.com", { name: "example.com.", data: "203.0.113.2" })).name, "@");
            assert.equal((await createRecord(env, "example.com", { name: "nb.example.com.", data: "203.0.113.3" })).name, "nb");
            assert.equal((await createRecord(env, "example.com", { name: "a.b", data: "203.0.113.4" })).name, "a.b");
            assert.equal((await createRecord(env, "example.com", { name: "*", data: "203.0.113.5" })).name, "*");
            // Without the trailing dot a name is relative, even one that looks fully qualified.
            assert.equal((await createRecord(env, "example.com", { name: "x.example.com", data: "203.0.113.6" })).name, "x.example.com");
            assert.equal(env.backend.dnsAddresses.get("example.com"), "203.0.113.2");
            assert.equal(env.backend.dnsAddresses.get("nb.example.com"), "203.0.113.3");
            assert.equal(env.backend.dnsAddresses.get("a.b.example.com"), "203.0.113.4");
            assert.equal(env.backend.dnsAddresses.get("x.example.com.example.com"), "203.0.113.6");
        }));

    it("refuses a bad type, data, name or ttl with 422 naming the field, and changes nothing", () =>
        withStandin(async (env) => {
            await createZone(env, "example.com");
            const post = (over: RecordFields): Promise<ApiReply> => env.api("POST", "/v2/domains/example.com/records", recordBody(over));
            assertError(await post({ type: "FOO" }), 422, "type", "must be one of");
            assertError(await post({ type: "CNAME", data: "example.org." }), 422, "type", "CNAME records", "not supported");
            assertError(await post({ data: "not-an-ip" }), 422, "data", "IPv4");
            assertError(await post({ data: "2001:db8::1" }), 422, "data", "IPv4");
            assertError(await post({ data: undefined }), 422, "data", "required");
            assertError(await post({ name: "bad name" }), 422, "name", "not a valid record name");
            assertError(await post({ name: "-nb" }), 422, "name");
            assertError(await post({ name: "a.*" }), 422, "name");
            assertError(await post({ name: `${"x".repeat(64)}` }), 422, "name");
            assertError(await post({ name: "nb.example.org." }), 422, "name", "not in the domain example.com");
            assertError(await post({ ttl: 10 }), 422, "ttl", "at least 30");
            assertError(await post({ priority: "high" }), 422, "priority", "integer");
            assert.equal(env.standin.state.domainRecords().filter((r) => r.type === "A").length, 0);
            assert.equal(env.backend.calls.filter((c) => c.op === "publishDnsRecord").length, 0);

            const id = num((await createRecord(env, "example.com")).id);
            const path = `/v2/domains/example.com/records/${id}`;
            assertError(await env.api("PUT", path, recordBody({ data: "300.1.1.1" })), 422, "data", "IPv4");
            assertError(await env.api("PUT", path, recordBody({ type: "AAAA" })), 422, "type");
            assertError(await env.api("PUT", path, recordBody({ ttl: 0 })), 422, "ttl");
            assert.deepEqual(
                env.standin.state
                    .domainRecords()
                    .filter((r) => r.type === "A")
                    .map((r) => [r.name, r.data, r.ttl]),
                [["nb", "203.0.113.10", 300]],
            );
        }));

    it("404 for a record of another domain or an unknown id; DigitalOcean's own NS and SOA records stay put", () =>
        withStandin(async (env) => {
            await createZone(env, "example.com");
            await createZone(env, "example.org");
            const id = num((await createRecord(env, "example.com")).id);
            for (const method of ["GET", "PUT", "DELETE"]) {
                const body = method === "PUT" ? recordBody() : undefined;
                assertError(await env.api(method, `/v2/domains/example.org/records/${id}`, body), 404, "could not be found");
                assertError(await env.api(method, `/v2/domains/example.com/records/${id + 1000}`, body), 404, "could not be found");
            }
            const soa = env.standin.state.domainRecords().find((r) => r.zone === "example.com" && r.type === "SOA");
            assert.ok(soa);
            assertError(await env.api("DELETE", `/v2/domains/example.com/records/${soa.id}`), 422, "SOA records");
            assertError(await env.api("PATCH", `/v2/domains/example.com/records/${id}`, { ttl: 60 }), 405, "PATCH");
            assert.equal(env.standin.state.domainRecords().length, 9);
        }));

    it("lists a domain's records in pages, and filters them by type and by full name", () =>
        withStandin(async (env) => {
            await createZone(env, "example.com");
            await createRecord(env, "example.com", { name: "nb" });
            await createRecord(env, "example.com", { name: "lab", data: "203.0.113.20" });
            const first = await env.api("GET", "/v2/domains/example.com/records?page=1&per_page=4");
            assert.deepEqual(
                arr(first.json.domain_records).map((r) => obj(r).type),
                ["NS", "NS", "NS", "SOA"],
            );
            assert.equal(obj(first.json.meta).total, 6);
            const next = new URL(str(obj(obj(first.json.links).pages).next));
            const second = await env.api("GET", next.pathname + next.search);
            assert.deepEqual(
                arr(second.json.domain_records).map((r) => obj(r).name),
                ["nb", "lab"],
            );

            const byType = await env.api("GET", "/v2/domains/example.com/records?type=A");
            assert.deepEqual(
                arr(byType.json.domain_records).map((r) => obj(r).name),
                ["nb", "lab"],
            );
            const byName = await env.api("GET", "/v2/domains/example.com/records?type=A&name=lab.example.com");
            assert.deepEqual(
                arr(byName.json.domain_records).map((r) => obj(r).data),
                ["203.0.113.20"],
            );
            const apex = await env.api("GET", "/v2/domains/example.com/records?name=example.com");
            assert.equal(arr(apex.json.domain_records).length, 4);
        }));

    it("of several A records at one name the last written is published; deleting it publishes the one before", () =>
        withStandin(async (env) => {
            await createZone(env, "example.com");
            const older = num((await createRecord(env, "example.com", { data: "203.0.113.1" })).id);
            const newer = num((await createRecord(env, "example.com", { data: "203.0.113.2" })).id);
            assert.equal(env.backend.dnsAddresses.get("nb.example.com"), "203.0.113.2");
            assert.equal((await env.api("DELETE", `/v2/domains/example.com/records/${newer}`)).status, 204);
            assert.equal(env.backend.dnsAddresses.get("nb.example.com"), "203.0.113.1");
            assert.equal((await env.api("DELETE", `/v2/domains/example.com/records/${older}`)).status, 204);
            assert.equal(env.backend.dnsAddresses.has("nb.example.com"), false);
        }));

    it("a backend that fails to publish answers 500 and changes nothing", () =>
        withStandin(async (env) => {
            await createZone(env, "example.com");
            const id = num((await createRecord(env, "example.com")).id);
            env.backend.publishDnsRecord = () => Promise.reject(new Error("dns server down"));
            assertError(await env.api("POST", "/v2/domains/example.com/records", recordBody({ name: "lab" })), 500, "dns server down");
            assertError(
                await env.api("PUT", `/v2/domains/example.com/records/${id}`, recordBody({ data: "203.0.113.99" })),
                500,
                "dns server down",
            );
            assertError(await env.api("DELETE", `/v2/domains/example.com/records/${id}`), 500, "dns server down");
            assert.deepEqual(
                env.standin.state
                    .domainRecords()
                    .filter((r) => r.type === "A")
                    .map((r) => [r.id, r.name, r.data]),
                [[id, "nb", "203.0.113.10"]],
            );
        }));
});

// --- firewalls -----------------------------------------------------------------------------------

describe("firewalls", () => {
    const rules = (dropletId: number): JsonObject => ({
        name: "jupyter-fw",
        droplet_ids: [dropletId],
        inbound_rules: [
            { protocol: "tcp", ports: "22", sources: { addresses: ["0.0.0.0/0", "::/0"] } },
            { protocol: "tcp", ports: "8888", sources: { addresses: ["203.0.113.7/32"] } },
            { protocol: "icmp", sources: { addresses: ["0.0.0.0/0"] } },
        ],
        outbound_rules: [{ protocol: "tcp", ports: "all", destinations: { addresses: ["0.0.0.0/0", "::/0"] } }],
        tags: [],
    });

    it("create, get, update, delete with the rule shapes the provider reads", () =>
        withStandin(async (env) => {
            const d = await createDroplet(env);
            const r = await env.api("POST", "/v2/firewalls", rules(num(d.id)));
            assert.equal(r.status, 202, JSON.stringify(r.json));
            const fw = obj(r.json.firewall);
            assert.match(str(fw.id), UUID);
            assert.equal(fw.status, "succeeded");
            assert.deepEqual(fw.droplet_ids, [d.id]);
            assert.deepEqual(fw.pending_changes, []);
            assert.match(str(fw.created_at), RFC3339);
            assert.deepEqual(fw.inbound_rules, [
                { protocol: "tcp", ports: "22", sources: { addresses: ["0.0.0.0/0", "::/0"] } },
                { protocol: "tcp", ports: "8888", sources: { addresses: ["203.0.113.7/32"] } },
                { protocol: "icmp", ports: "0", sources: { addresses: ["0.0.0.0/0"] } },
            ]);
            assert.deepEqual(fw.outbound_rules, [{ protocol: "tcp", ports: "0", destinations: { addresses: ["0.0.0.0/0", "::/0"] } }]);
            assert.deepEqual((await env.api("GET", `/v2/firewalls/${str(fw.id)}`)).json.firewall, fw);

            const updated = await env.api("PUT", `/v2/firewalls/${str(fw.id)}`, { ...rules(num(d.id)), name: "jupyter-fw2" });
            assert.equal(updated.status, 200);
            assert.equal(obj(updated.json.firewall).name, "jupyter-fw2");
            const byDroplet = await env.api("GET", `/v2/droplets/${num(d.id)}/firewalls`);
            assert.equal(arr(byDroplet.json.firewalls).length, 1);

            assert.equal((await env.api("DELETE", `/v2/firewalls/${str(fw.id)}`)).status, 204);
            assertError(await env.api("GET", `/v2/firewalls/${str(fw.id)}`), 404);
        }));

    it("keeps firewall names unique and validates rules field by field", () =>
        withStandin(async (env) => {
            const d = await createDroplet(env);
            assert.equal((await env.api("POST", "/v2/firewalls", rules(num(d.id)))).status, 202);
            assertError(await env.api("POST", "/v2/firewalls", rules(num(d.id))), 409, "jupyter-fw");
            const base = { ...rules(num(d.id)), name: "other" };
            const inbound = (rule: JsonObject): JsonObject => ({ ...base, inbound_rules: [rule] });
            assertError(
                await env.api("POST", "/v2/firewalls", inbound({ protocol: "tcp", sources: { addresses: ["1.2.3.4"] } })),
                422,
                "inbound_rules[0].ports",
            );
            assertError(
                await env.api("POST", "/v2/firewalls", inbound({ protocol: "tcp", ports: "22" })),
                422,
                "inbound_rules[0].sources",
                "required",
            );
            assertError(
                await env.api("POST", "/v2/firewalls", inbound({ protocol: "tcp", ports: "22", sources: {} })),
                422,
                "inbound_rules[0].sources",
            );
            assertError(
                await env.api("POST", "/v2/firewalls", inbound({ protocol: "sctp", ports: "22", sources: { addresses: ["1.2.3.4"] } })),
                422,
                "protocol",
            );
            assertError(
                await env.api("POST", "/v2/firewalls", inbound({ protocol: "tcp", ports: "70000", sources: { addresses: ["1.2.3.4"] } })),
                422,
                "ports",
            );
            assertError(
                await env.api("POST", "/v2/firewalls", inbound({ protocol: "tcp", ports: "22", sources: { addresses: ["1.2.3.4/40"] } })),
                422,
                "addresses[0]",
            );
            assertError(await env.api("POST", "/v2/firewalls", { ...base, droplet_ids: [999] }), 422, "droplet_ids[0]", "999");
            assertError(await env.api("POST", "/v2/firewalls", { ...base, name: "bad name" }), 422, "name");
            assertError(await env.api("POST", "/v2/firewalls", { ...base, tags: ["nosuchtag"] }), 422, "tags[0]");
            assert.equal(env.standin.state.firewalls().length, 1);
        }));

    it("drops a deleted droplet from the firewall once the droplet is gone", () =>
        withStandin(async (env) => {
            const d = await createDroplet(env);
            const fw = obj((await env.api("POST", "/v2/firewalls", rules(num(d.id)))).json.firewall);
            await env.standin.state.idle();
            await env.api("DELETE", `/v2/droplets/${num(d.id)}`);
            await env.standin.state.idle();
            assert.deepEqual(obj((await env.api("GET", `/v2/firewalls/${str(fw.id)}`)).json.firewall).droplet_ids, []);
        }));

    it("refuses a firewall with no rules at all, inbound or outbound, as DigitalOcean does", () =>
        withStandin(async (env) => {
            const d = await createDroplet(env);
            const { inbound_rules: inbound, outbound_rules: outbound, ...bare } = rules(num(d.id));
            for (const body of [bare, { ...bare, inbound_rules: [], outbound_rules: [] }, { ...bare, inbound_rules: null }]) {
                const r = await env.api("POST", "/v2/firewalls", body);
                assertError(r, 422, "at least one inbound or outbound rule");
                assert.equal(r.json.id, "unprocessable_entity");
            }
            assert.deepEqual(env.standin.state.firewalls(), []);
            // One rule either way is enough.
            assert.equal((await env.api("POST", "/v2/firewalls", { ...bare, name: "in-only", inbound_rules: inbound })).status, 202);
            const out = await env.api("POST", "/v2/firewalls", { ...bare, name: "out-only", outbound_rules: outbound });
            assert.equal(out.status, 202);
            // An update replaces the firewall: it must keep a rule too.
            const id = str(obj(out.json.firewall).id);
            assertError(
                await env.api("PUT", `/v2/firewalls/${id}`, { ...bare, name: "out-only" }),
                422,
                "at least one inbound or outbound rule",
            );
            assert.equal(arr(obj((await env.api("GET", `/v2/firewalls/${id}`)).json.firewall).outbound_rules).length, 1);
        }));
});

// --- tags ----------------------------------------------------------------------------------------

describe("tags", () => {
    it("create, get with resource counts, tag and untag a droplet, delete", () =>
        withStandin(async (env) => {
            const created = await env.api("POST", "/v2/tags", { name: "jupyter" });
            assert.equal(created.status, 201);
            assert.equal(obj(created.json.tag).name, "jupyter");
            const d = await createDroplet(env);
            const tagged = await env.api("POST", "/v2/tags/jupyter/resources", {
                resources: [{ resource_id: String(num(d.id)), resource_type: "droplet" }],
            });
            assert.equal(tagged.status, 204);
            const tag = obj((await env.api("GET", "/v2/tags/jupyter")).json.tag);
            const resources = obj(tag.resources);
            assert.equal(resources.count, 1);
            assert.equal(obj(resources.droplets).count, 1);
            for (const k of ["images", "volumes", "volume_snapshots", "databases"]) assert.equal(obj(resources[k]).count, 0);
            assert.deepEqual(obj((await getDroplet(env, d.id)).json.droplet).tags, ["jupyter"]);

            const untagged = await env.api("DELETE", "/v2/tags/jupyter/resources", {
                resources: [{ resource_id: String(num(d.id)), resource_type: "droplet" }],
            });
            assert.equal(untagged.status, 204);
            assert.deepEqual(obj((await getDroplet(env, d.id)).json.droplet).tags, []);
            assertError(
                await env.api("POST", "/v2/tags/jupyter/resources", { resources: [{ resource_id: "42", resource_type: "droplet" }] }),
                422,
                "resources[0].resource_id",
            );
            assert.equal((await env.api("DELETE", "/v2/tags/jupyter")).status, 204);
            assertError(await env.api("GET", "/v2/tags/jupyter"), 404);
            assertError(await env.api("POST", "/v2/tags", { name: "has space" }), 422, "name");
        }));
});

// --- actions -------------------------------------------------------------------------------------

describe("actions", () => {
    it("answer the region object the regions endpoint answers, features and sizes included", () =>
        withStandin(async (env) => {
            const regions = new Map(arr((await env.api("GET", "/v2/regions")).json.regions).map((r) => [str(obj(r).slug), r]));
            const v = await createVolume(env, "notebooks", "ams3");
            const d = await createDroplet(env, { region: "ams3", volumes: [str(v.id)] });
            await env.standin.state.idle();
            const off = await env.api("POST", `/v2/droplets/${num(d.id)}/actions`, { type: "power_off" });
            assert.equal(off.status, 201);
            const detach = await env.api("POST", `/v2/volumes/${str(v.id)}/actions`, { type: "detach", droplet_id: num(d.id) });
            assert.equal(detach.status, 202);
            await env.standin.state.idle();
            const ams3 = obj(regions.get("ams3"));
            assert.ok(arr(ams3.features).length > 0 && arr(ams3.sizes).length > 0);
            for (const reply of [off, detach]) assert.deepEqual(obj(reply.json.action).region, ams3);
            const actions = arr((await env.api("GET", "/v2/actions")).json.actions).map(obj);
            assert.deepEqual(
                actions.map((a) => a.type),
                ["create", "power_off", "detach_volume"],
            );
            for (const a of actions) {
                assert.equal(a.region_slug, "ams3");
                assert.deepEqual(a.region, ams3);
                assert.deepEqual(obj((await env.api("GET", `/v2/actions/${num(a.id)}`)).json.action).region, ams3);
            }
        }));
});

describe("catalogue", () => {
    it("lists sizes with DigitalOcean's numbers and regions", () =>
        withStandin(async (env) => {
            const sizes = arr((await env.api("GET", "/v2/sizes?per_page=200")).json.sizes).map(obj);
            const small = sizes.find((s) => s.slug === "s-1vcpu-512mb-10gb");
            assert.deepEqual([small?.memory, small?.vcpus, small?.disk, small?.price_monthly], [512, 1, 10, 4]);
            const regionList = arr((await env.api("GET", "/v2/regions")).json.regions).map(obj);
            assert.deepEqual(
                regionList.map((r) => r.slug),
                ["nyc1", "nyc3", "ams3", "fra1", "lon1", "sfo3", "sgp1", "tor1", "blr1", "syd1"],
            );
            // A size the program accepts that one region does not offer, for the scenario that needs it.
            const big = sizes.find((s) => s.slug === "s-4vcpu-8gb");
            assert.ok(!arr(big?.regions).includes("syd1") && arr(big?.regions).includes("fra1"));
            const syd1 = regionList.find((r) => r.slug === "syd1");
            assert.ok(!arr(syd1?.sizes).includes("s-4vcpu-8gb") && arr(syd1?.sizes).includes("s-2vcpu-4gb"));
            const images = arr((await env.api("GET", "/v2/images?per_page=200")).json.images).map((i) => obj(i).slug);
            assert.deepEqual(images, ["ubuntu-24-04-x64", "ubuntu-22-04-x64", "debian-12-x64", "debian-13-x64"]);
            const debian13 = obj((await env.api("GET", "/v2/images/debian-13-x64")).json.image);
            assert.deepEqual([debian13.distribution, debian13.name], ["Debian", "13 x64"]);
            assert.equal(obj((await env.api("GET", "/v2/account")).json.account).status, "active");
        }));
});

// --- fault injection -----------------------------------------------------------------------------

describe("fault injection", () => {
    it("is off by default", () =>
        withStandin(async (env) => {
            for (let i = 0; i < 30; i++) assert.equal((await env.api("GET", `/v2/regions?i=${i}`)).status, 200);
            assert.deepEqual(env.standin.state.faults(), { tooManyRequests: 0, unavailable: 0 });
            assert.ok(env.standin.state.requests().every((r) => r.fault === undefined));
        }));

    it("answers every Nth request 429 with Retry-After, every Mth 503, never two in a row", () =>
        withStandin(async (env) => {
            env.standin.setFaults({ tooManyRequestsEvery: 3, unavailableEvery: 4, retryAfterSeconds: 2 });
            // Not authenticated: answered 401, and not counted.
            assertError(await env.api("GET", "/v2/regions", undefined, null), 401);
            const replies: ApiReply[] = [];
            for (let n = 1; n <= 24; n++) replies.push(await env.api("GET", `/v2/regions?n=${n}`));
            const statuses = replies.map((r) => r.status);
            // 429 on multiples of 3 and 503 on multiples of 4 (429 wins on 12, 24), except right after
            // a fault: 4, 9, 16 and 21 follow one and are answered.
            const expected = Array.from({ length: 24 }, (_, i) => {
                const n = i + 1;
                return { 3: 429, 6: 429, 8: 503, 12: 429, 15: 429, 18: 429, 20: 503, 24: 429 }[n] ?? 200;
            });
            assert.deepEqual(statuses, expected);
            statuses.forEach((s, i) => assert.ok(i === 0 || s === 200 || statuses[i - 1] === 200, `two faults in a row at ${i}`));

            const tooMany = replies[2];
            assert.ok(tooMany);
            assert.deepEqual(
                { id: tooMany.json.id, message: tooMany.json.message },
                { id: "too_many_requests", message: "API Rate limit exceeded." },
            );
            assert.equal(tooMany.headers.get("retry-after"), "2");
            assert.equal(tooMany.headers.get("ratelimit-limit"), "5000");
            assert.equal(tooMany.headers.get("ratelimit-remaining"), "0");
            assert.ok(Number(tooMany.headers.get("ratelimit-reset")) >= Math.floor(Date.now() / 1000));
            const unavailable = replies[7];
            assert.ok(unavailable);
            assertError(unavailable, 503);
            assert.equal(unavailable.json.id, "service_unavailable");
            assert.equal(unavailable.headers.get("retry-after"), null);
            assert.equal(replies[0]?.headers.get("ratelimit-remaining"), "4999");

            assert.deepEqual(env.standin.state.faults(), { tooManyRequests: 6, unavailable: 2 });
            const faulted = env.standin.state.requests().filter((r) => r.fault !== undefined);
            assert.deepEqual(
                faulted.map((r) => [r.path, r.status, r.fault]),
                [
                    ["/v2/regions?n=3", 429, "too_many_requests"],
                    ["/v2/regions?n=6", 429, "too_many_requests"],
                    ["/v2/regions?n=8", 503, "service_unavailable"],
                    ["/v2/regions?n=12", 429, "too_many_requests"],
                    ["/v2/regions?n=15", 429, "too_many_requests"],
                    ["/v2/regions?n=18", 429, "too_many_requests"],
                    ["/v2/regions?n=20", 503, "service_unavailable"],
                    ["/v2/regions?n=24", 429, "too_many_requests"],
                ],
            );
            assert.ok(
                env.logs.some((l) => l.includes("429") && l.includes("/v2/regions?n=3")),
                env.logs.join("\n"),
            );

            // Off again: everything is handled; the counts stay.
            env.standin.setFaults(undefined);
            for (let n = 1; n <= 12; n++) assert.equal((await env.api("GET", `/v2/regions?off=${n}`)).status, 200);
            assert.deepEqual(env.standin.state.faults(), { tooManyRequests: 6, unavailable: 2 });
        }));

    it("a faulted request changes nothing; its retry is handled, and creates exactly once", () =>
        withStandin(
            async (env) => {
                const k = await createKey(env, 0); // request 1
                const body = dropletBody({ ssh_keys: [num(k.id)], tags: ["jupyter"] });
                assertError(await env.api("POST", "/v2/droplets", body), 429, "Rate limit"); // request 2
                await env.standin.state.idle();
                assert.deepEqual(env.standin.state.droplets(), []);
                assert.deepEqual(env.standin.state.tags(), []);
                assert.deepEqual(env.standin.state.actions(), []);
                assert.deepEqual(env.backend.calls, []);
                assert.equal(obj((await env.api("GET", "/v2/droplets")).json.meta).total, 0); // request 3

                // Request 4 is a multiple of 2, but it repeats the faulted request (a client's retry,
                // here after another client's request): it is handled, and creates exactly one droplet.
                const created = await env.api("POST", "/v2/droplets", body);
                assert.equal(created.status, 202, JSON.stringify(created.json));
                assert.deepEqual(env.standin.state.createdDroplets(), ["jupyter"]);
                assert.equal(env.standin.state.droplets().length, 1);
                assert.deepEqual(env.standin.state.tags(), ["jupyter"]);
                const id = num(obj(created.json.droplet).id);
                await env.standin.state.idle();

                // 503: a faulted DELETE deletes nothing; the retry deletes.
                env.standin.setFaults({ unavailableEvery: 2 });
                assert.equal((await getDroplet(env, id)).status, 200); // request 1
                assertError(await env.api("DELETE", `/v2/droplets/${id}`), 503); // request 2
                await env.standin.state.idle();
                assert.deepEqual(
                    env.standin.state.droplets().map((d) => [d.id, d.deleting, d.status]),
                    [[id, false, "active"]],
                );
                assert.ok(!env.backend.ops().includes("stopDroplet"));
                assert.equal((await env.api("DELETE", `/v2/droplets/${id}`)).status, 204); // request 3
                assert.equal(env.standin.state.droplets()[0]?.deleting, true);
                assertError(await getDroplet(env, id), 503); // request 4: not a retry, not after a fault

                assert.deepEqual(
                    env.standin.state
                        .requests()
                        .map((r) => `${r.method} ${r.path} ${r.status}${r.fault !== undefined ? ` ${r.fault}` : ""}`),
                    [
                        "POST /v2/account/keys 201",
                        "POST /v2/droplets 429 too_many_requests",
                        "GET /v2/droplets 200",
                        "POST /v2/droplets 202",
                        `GET /v2/droplets/${id} 200`,
                        `DELETE /v2/droplets/${id} 503 service_unavailable`,
                        `DELETE /v2/droplets/${id} 204`,
                        `GET /v2/droplets/${id} 503 service_unavailable`,
                    ],
                );
                assert.deepEqual(env.standin.state.faults(), { tooManyRequests: 1, unavailable: 2 });
                assert.deepEqual(env.standin.state.createdDroplets(), ["jupyter"]);
            },
            { faults: { tooManyRequestsEvery: 2 } },
        ));

    it("refuses fault options that could fault every request, and keeps the faults it had", () =>
        withStandin(async (env) => {
            env.standin.setFaults({ tooManyRequestsEvery: 2 });
            assert.equal((await env.api("GET", "/v2/regions?n=1")).status, 200);
            for (const bad of [
                { tooManyRequestsEvery: 1 },
                { unavailableEvery: 0 },
                { tooManyRequestsEvery: 2.5 },
                { tooManyRequestsEvery: 3, retryAfterSeconds: -1 },
                { tooManyRequestsEvery: 3, retryAfterSeconds: 0.5 },
            ]) {
                assert.throws(() => env.standin.setFaults(bad), RangeError, JSON.stringify(bad));
            }
            await assert.rejects(startDoStandin({ backend: new MemoryBackend(), faults: { unavailableEvery: 1 } }), RangeError);
            // The failed calls changed nothing, numbering included: request 2 is faulted.
            const second = await env.api("GET", "/v2/regions?n=2");
            assert.equal(second.status, 429);
            assert.equal(second.headers.get("retry-after"), "1", "Retry-After defaults to 1 s");
            assert.deepEqual(env.standin.state.faults(), { tooManyRequests: 1, unavailable: 0 });

            // Retry-After 0 is allowed (the client then retries at once).
            env.standin.setFaults({ tooManyRequestsEvery: 2, retryAfterSeconds: 0 });
            assert.equal((await env.api("GET", "/v2/regions?n=3")).status, 200);
            const r = await env.api("GET", "/v2/regions?n=4");
            assert.equal(r.status, 429);
            assert.equal(r.headers.get("retry-after"), "0");
        }));
});
