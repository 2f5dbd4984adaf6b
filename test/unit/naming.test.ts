// The names a stack's resources get: DigitalOcean's rules for droplet and volume names, one name per
// stack however long, existing stacks never renamed, and the volume a stack named under the
// legacy rule still found.
import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { dataVolumeName, legacyResourceBaseName, resourceBaseName, stackTags } from "../../config/naming";
import { existingVolume } from "../../config/volume-guard";

/** DigitalOcean's droplet name rule, as its API states it. */
const dropletNamePattern = /^[a-zA-Z0-9]?[a-z0-9A-Z.-]*[a-z0-9A-Z]$/;
/** Volume names: lowercase letters, digits and hyphens, beginning with a letter, up to 64 (docs/resources/volume.md). */
const volumeNamePattern = /^[a-z][a-z0-9-]{0,63}$/;

const longStacks = [
    `${"a".repeat(36)}-b`,
    "a".repeat(37),
    "a".repeat(100),
    `${"a".repeat(36)}--------------x`,
    `${"x".repeat(60)}-alice`,
    `${"x".repeat(60)}-bob`,
    `Team.Research_${"Q".repeat(50)}`,
    "-.-_".repeat(25),
];

function assertAccepted(stack: string): void {
    const base = resourceBaseName(stack);
    assert.match(base, dropletNamePattern, `the droplet name for ${stack}`);
    assert.ok(base.length <= 48, `${base} fits 48 characters`);
    assert.match(dataVolumeName(base), volumeNamePattern, `the volume name for ${stack}`);
}

describe("resource names", () => {
    test("a 38-character stack whose cut falls after a hyphen gets a name that ends in a letter or digit", () => {
        const stack = `${"a".repeat(36)}-b`;
        assert.equal(stack.length, 38);
        assert.equal(legacyResourceBaseName(stack), `jupyterlab-${"a".repeat(36)}-`, "the legacy rule ended it in a hyphen");
        assert.doesNotMatch(legacyResourceBaseName(stack), dropletNamePattern);
        const base = resourceBaseName(stack);
        assert.match(base, /[a-z0-9]$/);
        assert.match(base, dropletNamePattern);
        assert.match(base, /^jupyterlab-a+-[0-9a-f]{8}$/, `${base}: the stack's beginning and a hash of it`);
    });

    test("two long stack names with the same 60-character beginning get names of their own", () => {
        const alice = `${"x".repeat(60)}-alice`;
        const bob = `${"x".repeat(60)}-bob`;
        assert.equal(legacyResourceBaseName(alice), legacyResourceBaseName(bob), "the legacy rule gave them one name");
        assert.notEqual(resourceBaseName(alice), resourceBaseName(bob));
        assert.notEqual(dataVolumeName(resourceBaseName(alice)), dataVolumeName(resourceBaseName(bob)));
        const upper = `${"X".repeat(60)}-alice`;
        assert.notEqual(resourceBaseName(upper), resourceBaseName(alice), "nor do stacks that differ only in case");
    });

    test("a name that fits stays exactly as it was: no existing stack is renamed", () => {
        assert.equal(resourceBaseName("alice"), "jupyterlab-alice");
        const fitting = ["alice", "dev", "bob-research", "a--b", "a".repeat(37), "Bob.Research", "Alice", "a_b", "a.b", "-x-", "___"];
        for (const stack of fitting) {
            assert.equal(resourceBaseName(stack), legacyResourceBaseName(stack), stack);
        }
        assert.equal(resourceBaseName("a".repeat(37)), `jupyterlab-${"a".repeat(37)}`, "48 characters, the most that is kept");
        assert.equal(resourceBaseName("Bob.Research"), "jupyterlab-bob-research");
    });

    test("every name is one DigitalOcean accepts for a droplet, and <name>-notebooks for a volume", () => {
        for (const stack of [...longStacks, "alice", "Alice", "a.b", "___", "0day"]) {
            assertAccepted(stack);
        }
    });
});

describe("the volume of a stack named under the legacy rule is still found", () => {
    interface MockVolume {
        id: string;
        name: string;
        region: string;
        size: number;
        tags: string[];
    }

    /** existingVolume's answer in an account that holds `volumes`, and the names it looked up. */
    async function lookUp(volumes: MockVolume[], name: string, stack?: string) {
        const asked: string[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
                call: (args) => {
                    assert.equal(args.token, "digitalocean:index/getVolume:getVolume");
                    const wanted = String(args.inputs.name);
                    asked.push(wanted);
                    const found = volumes.filter((v) => v.name === wanted);
                    if (found.length !== 1) {
                        // The provider's words (terraform-provider-digitalocean, datasource_volume.go).
                        const details =
                            found.length === 0
                                ? `no volumes found with name ${wanted}`
                                : `too many volumes found with name ${wanted} (found ${found.length}, expected 1)`;
                        throw Object.assign(new Error(details), { details });
                    }
                    return { ...found[0], dropletIds: [], urn: `do:volume:${found[0].id}` };
                },
            },
            "jupyterlab-droplet",
            stack ?? "alice",
            false,
        );
        return { volume: await existingVolume(name, stack), asked };
    }

    const stack = `${"x".repeat(60)}-alice`;
    const name = dataVolumeName(resourceBaseName(stack));
    const legacyName = dataVolumeName(legacyResourceBaseName(stack));
    const legacyVolume = { id: "vol-1", name: legacyName, region: "nyc3", size: 10, tags: stackTags(stack) };

    test("legacyResourceBaseName is the rule names were made by before: jupyterlab-<cleaned stack>, cut to 48", () => {
        assert.equal(legacyResourceBaseName(stack), `jupyterlab-${"x".repeat(37)}`);
        assert.equal(legacyResourceBaseName("Bob.Research"), "jupyterlab-bob-research");
        assert.equal(legacyResourceBaseName("___"), "jupyterlab-stack");
        assert.notEqual(name, legacyName);
    });

    test("a long stack's volume under its legacy name is its volume, with the name it has", async () => {
        const { volume, asked } = await lookUp([legacyVolume], name, stack);
        assert.deepEqual(volume, { id: "vol-1", name: legacyName, region: "nyc3", sizeGb: 10 });
        assert.deepEqual(asked, [name, legacyName], "today's name first, then the legacy one");
    });

    test("a volume under today's name wins over one under the legacy name", async () => {
        const { volume, asked } = await lookUp([legacyVolume, { ...legacyVolume, id: "vol-2", name }], name, stack);
        assert.deepEqual(asked, [name]);
        assert.deepEqual(volume, { id: "vol-2", name, region: "nyc3", sizeGb: 10 });
    });

    test("the volume under the legacy name is not taken when it is another stack's (its stack tag says so)", async () => {
        const bob = `${"x".repeat(60)}-bob`;
        const bobs = { ...legacyVolume, tags: stackTags(bob) };
        assert.equal(dataVolumeName(legacyResourceBaseName(bob)), legacyName, "both had one legacy name");
        assert.equal((await lookUp([bobs], name, stack)).volume, undefined);
        const upperCased = { ...legacyVolume, tags: stackTags(stack).map((tag) => tag.toUpperCase()) };
        assert.equal((await lookUp([upperCased], name, stack)).volume?.id, "vol-1", "tags are case-insensitive");
        const untagged = { ...legacyVolume, tags: [] };
        assert.equal((await lookUp([untagged], name, stack)).volume?.id, "vol-1", "an untagged one counts: the checks err on refusing");
    });

    test("legacy volumes in several regions are refused, as today's are", async () => {
        await assert.rejects(lookUp([legacyVolume, { ...legacyVolume, id: "vol-3", region: "fra1" }], name, stack), (e: Error) => {
            assert.match(e.message, new RegExp(`volumes named ${legacyName} in several regions`));
            return true;
        });
    });

    test("a short stack's name has no legacy twin: one lookup", async () => {
        const { volume, asked } = await lookUp([], "jupyterlab-alice-notebooks", "alice");
        assert.equal(volume, undefined);
        assert.deepEqual(asked, ["jupyterlab-alice-notebooks"]);
    });

    test("without the stack, only the name given is looked up", async () => {
        const { volume, asked } = await lookUp([legacyVolume], name);
        assert.equal(volume, undefined);
        assert.deepEqual(asked, [name]);
    });
});
