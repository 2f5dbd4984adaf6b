/**
 * SSH keys: /v2/account/keys (list, create, get by id or fingerprint, rename, delete), reading
 * OpenSSH public keys and computing DigitalOcean's MD5 fingerprints.
 */

import { createHash } from "node:crypto";

import type { Cloud } from "./cloud";
import { ApiError, Fields, type JsonObject } from "./json-fields";
import type { KeyRecord } from "./records";
import { list, route, type Ctx, type Reply, type Route } from "./routing";

const KEY_TYPES = new Set([
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
]);

export function sshKeyRoutes(cloud: Cloud): Route[] {
    return [
        route("GET", "/v2/account/keys", (c) => list(c, "ssh_keys", [...cloud.keys.values()].map(keyJson))),
        route("POST", "/v2/account/keys", (c) => createKey(cloud, c)),
        route("GET", "/v2/account/keys/:str", (c) => ({ status: 200, body: { ssh_key: keyJson(cloud.key(c.params[0])) } })),
        route("PUT", "/v2/account/keys/:str", (c) => updateKey(cloud, c)),
        route("DELETE", "/v2/account/keys/:str", (c) => deleteKey(cloud, c)),
    ];
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

function createKey(cloud: Cloud, c: Ctx): Reply {
    const f: Fields = Fields.root(c.body);
    const name = f.str("name");
    const { normalized, fingerprint } = parsePublicKey(f.str("public_key"), "public_key");
    if ([...cloud.keys.values()].some((k) => k.fingerprint === fingerprint)) {
        throw ApiError.unprocessable("SSH Key is already in use on your account");
    }
    const key: KeyRecord = { id: cloud.nextKeyId++, name, publicKey: normalized, fingerprint };
    cloud.keys.set(key.id, key);
    return { status: 201, body: { ssh_key: keyJson(key) } };
}

function updateKey(cloud: Cloud, c: Ctx): Reply {
    const key = cloud.key(c.params[0]);
    const f: Fields = Fields.root(c.body);
    key.name = f.str("name");
    return { status: 200, body: { ssh_key: keyJson(key) } };
}

function deleteKey(cloud: Cloud, c: Ctx): Reply {
    const key = cloud.key(c.params[0]);
    cloud.keys.delete(key.id);
    return { status: 204 };
}

function keyJson(k: KeyRecord): JsonObject {
    return { id: k.id, fingerprint: k.fingerprint, public_key: k.publicKey, name: k.name };
}
