// The team roster: parsing, validation through the program's own readConfig (every problem
// named with its stack, key and value), the per-person config merge and the password sources.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { declaredConfigKeys, mergedConfig, parseRoster, rawConfigValue, readPasswords, RosterError } from "../../scripts/team/roster";

const projectDir = path.resolve(__dirname, "..", "..");
const declaredKeys = declaredConfigKeys(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
const context = { declaredKeys, projectDir, file: "team.yaml" };

/** The problems a roster is refused with (fails the test if it is accepted). */
function problems(yaml: string): string[] {
    try {
        parseRoster(yaml, context);
    } catch (e) {
        assert.ok(e instanceof RosterError, String(e));
        return e.problems;
    }
    assert.fail("the roster was accepted");
}

describe("roster parsing", () => {
    test("Pulumi.yaml's declared keys are the roster's keys", () => {
        for (const key of [
            "region",
            "size",
            "image",
            "sshPublicKey",
            "allowedCidrs",
            "jupyterPort",
            "dataVolumeGb",
            "retainData",
            "pythonPackages",
        ]) {
            assert.ok(declaredKeys.includes(key), key);
        }
        assert.ok(!declaredKeys.includes("password"), "the password is never a declared (plain) key");
    });

    test("the issue's example: defaults for everyone, a person's own keys over them", () => {
        const roster = parseRoster(
            `
defaults:
  region: fra1
people:
  - stack: alice
  - stack: bob
    config:
      size: s-2vcpu-4gb
`,
            context,
        );
        assert.deepEqual(
            roster.people.map((p) => p.stack),
            ["alice", "bob"],
        );
        assert.deepEqual(mergedConfig(roster.defaults, roster.people[0]), { region: "fra1" });
        assert.deepEqual(mergedConfig(roster.defaults, roster.people[1]), { region: "fra1", size: "s-2vcpu-4gb" });
    });

    test("a person's key wins over the same default; lists, numbers and booleans keep their YAML types", () => {
        const roster = parseRoster(
            `
defaults: { region: fra1, dataVolumeGb: 5, retainData: true, allowedCidrs: [203.0.113.0/24] }
people:
  - stack: carol
    config: { region: lon1, allowedCidrs: [198.51.100.7/32, "2001:db8::/48"], pythonPackages: [pandas==2.2.3] }
`,
            context,
        );
        assert.deepEqual(mergedConfig(roster.defaults, roster.people[0]), {
            region: "lon1",
            dataVolumeGb: 5,
            retainData: true,
            allowedCidrs: ["198.51.100.7/32", "2001:db8::/48"],
            pythonPackages: ["pandas==2.2.3"],
        });
    });

    test("values reach readConfig as pulumi.Config would hand them over", () => {
        assert.equal(rawConfigValue(5), "5");
        assert.equal(rawConfigValue(false), "false");
        assert.equal(rawConfigValue("fra1"), "fra1");
        assert.equal(rawConfigValue(["203.0.113.7/32"]), '["203.0.113.7/32"]');
    });

    test("password sources: from an environment variable or a file", () => {
        const roster = parseRoster(
            `
people:
  - stack: dan
    passwordFromEnv: DAN_PASSWORD
  - stack: eve
    passwordFile: secrets/eve.txt
  - stack: fay
`,
            context,
        );
        assert.deepEqual(
            roster.people.map((p) => p.password),
            [{ kind: "env", variable: "DAN_PASSWORD" }, { kind: "file", path: "secrets/eve.txt" }, undefined],
        );
    });
});

describe("roster validation: every problem named before anything runs", () => {
    test("bad values are named with the stack, the key and the value, using the program's own messages", () => {
        const found = problems(`
people:
  - stack: alice
    config: { size: s-1vcpu-1gb, jupyterPort: 22 }
  - stack: bob
    config: { allowedCidrs: [1.2.3.4/40], image: windows-2022 }
`);
        assert.deepEqual(found, [
            'team.yaml:4:21: stack alice: Invalid config jupyterlab-droplet:size = "s-1vcpu-1gb": has 1024 MB of RAM; JupyterLab needs a size with at least 2 GB, such as s-1vcpu-2gb or s-2vcpu-4gb',
            "team.yaml:4:47: stack alice: Invalid config jupyterlab-droplet:jupyterPort = 22: 22 is the SSH port; choose 443 or a port from 1024 to 65535",
            'team.yaml:6:50: stack bob: Invalid config jupyterlab-droplet:image = "windows-2022": must be an Ubuntu or Debian x86-64 image slug such as debian-13-x64 or ubuntu-24-04-x64',
            'team.yaml:6:29: stack bob: Invalid config jupyterlab-droplet:allowedCidrs = "1.2.3.4/40": each entry must be an IPv4 or IPv6 CIDR block such as 203.0.113.7/32 or 2001:db8::/48',
        ]);
    });

    test("a bad default is named once, as the defaults', not once per person", () => {
        const found = problems(`
defaults: { region: fra2 }
people: [{ stack: alice }, { stack: bob }, { stack: carol, config: { region: mars1 } }]
`);
        assert.deepEqual(found, [
            'team.yaml:2:21: defaults (every stack): Invalid config jupyterlab-droplet:region = "fra2": must be one of nyc1, nyc2, nyc3, sfo2, sfo3, tor1, lon1, ams3, fra1, sgp1, blr1, syd1, atl1',
            'team.yaml:3:78: stack carol: Invalid config jupyterlab-droplet:region = "mars1": must be one of nyc1, nyc2, nyc3, sfo2, sfo3, tor1, lon1, ams3, fra1, sgp1, blr1, syd1, atl1',
        ]);
    });

    test("an unknown key is named with its value and the known keys", () => {
        const [found] = problems("people: [{ stack: alice, config: { sise: s-2vcpu-4gb } }]");
        assert.match(
            found,
            /^team\.yaml:1:36: stack alice: unknown config key jupyterlab-droplet:sise = "s-2vcpu-4gb": the keys are region, size, /,
        );
    });

    test("a password in the roster is refused without showing it", () => {
        const found = problems(`
defaults: { password: "everyone's password" }
people: [{ stack: alice, config: { password: "alice's own password" } }]
`);
        assert.equal(found.length, 2);
        for (const problem of found) {
            assert.match(
                problem,
                /jupyterlab-droplet:password: a password never goes in the roster in plain text; use `passwordFromEnv: VAR` or `passwordFile: path`/,
            );
            assert.doesNotMatch(problem, /everyone's password|alice's own password/);
        }
        assert.match(found[0], /^team\.yaml:2:13: defaults: /);
        assert.match(found[1], /^team\.yaml:3:36: stack alice: /);
    });

    test("stacks: a bad name, a duplicate, two names that give one droplet name, a missing stack field", () => {
        assert.deepEqual(
            problems(`
people:
  - stack: alice
  - stack: alice
  - stack: Bob
  - stack: bob
  - stack: "-x"
  - name: carol
`),
            [
                "team.yaml:7:12: people[4]: stack \"-x\": must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit",
                'team.yaml:8:5: people[5]: must be a map with `stack: <name>` (got {"name":"carol"})',
                "team.yaml:4:12: stack alice: listed twice",
                "team.yaml:6:12: stack bob: its droplet would be named jupyterlab-bob, like stack Bob's; rename one",
            ],
        );
    });

    test("the roster's shape: YAML errors, no people, unknown fields, a non-map config, a map as a value, both password sources", () => {
        assert.match(
            problems("people: [alice")[0],
            /^team\.yaml:1:9: Flow sequence in block collection must be sufficiently indented and end with a \]/,
        );
        assert.deepEqual(problems("- alice"), [
            "team.yaml:1:1: must be a map with `people:` (a list) and optionally `defaults:` (a map of config keys)",
        ]);
        assert.deepEqual(problems("defaults: { region: fra1 }"), [
            "team.yaml: people: must be a list with at least one `- stack: <name>` entry",
        ]);
        assert.deepEqual(
            problems(`
team: x
people:
  - stack: alice
    config: [region, fra1]
  - stack: bob
    email: bob@example.com
    config: { allowedCidrs: { office: 203.0.113.7/32 } }
  - stack: carol
    passwordFromEnv: CAROL_PASSWORD
    passwordFile: carol.txt
  - stack: dan
    passwordFromEnv: "not a name"
`),
            [
                'team.yaml:2:1: unknown top-level key "team": a roster has only `defaults` and `people`',
                'team.yaml:5:13: stack alice: config must be a map of config keys to values (got ["region","fra1"])',
                'team.yaml:7:5: stack bob: unknown field "email": a person has stack, config, passwordFromEnv, passwordFile',
                'team.yaml:8:29: stack bob: Invalid config jupyterlab-droplet:allowedCidrs = {"office":"203.0.113.7/32"}: must be a value or a list of values',
                "team.yaml:11:5: stack carol: passwordFromEnv and passwordFile: give one password source, not both",
                'team.yaml:13:22: stack dan: passwordFromEnv = "not a name": must be an environment variable name such as ALICE_PASSWORD',
            ],
        );
    });
});

describe("password sources, read when `up` runs", () => {
    const rosterDir = fs.mkdtempSync(path.join(os.tmpdir(), "jld-roster-"));
    after(() => fs.rmSync(rosterDir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(rosterDir, "eve.txt"), "eve's password from a file\n");
    fs.writeFileSync(path.join(rosterDir, "short.txt"), "short\n");
    fs.writeFileSync(path.join(rosterDir, "empty.txt"), "");
    const reader = {
        env: { DAN_PASSWORD: "dan's password from the env", SHORT: "tiny" },
        readFile: (file: string) => fs.readFileSync(file, "utf8"),
    };

    test("an environment variable or a file (its final newline dropped); none for the rest", () => {
        const roster = parseRoster(
            `
people:
  - { stack: dan, passwordFromEnv: DAN_PASSWORD }
  - { stack: eve, passwordFile: eve.txt }
  - { stack: fay }
`,
            context,
        );
        const passwords = readPasswords(roster.people, rosterDir, projectDir, reader);
        assert.deepEqual(
            [...passwords],
            [
                ["dan", "dan's password from the env"],
                ["eve", "eve's password from a file"],
            ],
        );
    });

    test("unset, unreadable, empty or too short: each named by stack and source, the value never shown", () => {
        const roster = parseRoster(
            `
people:
  - { stack: a, passwordFromEnv: NOT_SET }
  - { stack: b, passwordFile: missing.txt }
  - { stack: c, passwordFile: empty.txt }
  - { stack: d, passwordFile: short.txt }
  - { stack: e, passwordFromEnv: SHORT }
`,
            context,
        );
        assert.throws(
            () => readPasswords(roster.people, rosterDir, projectDir, reader),
            (e: unknown) => {
                assert.ok(e instanceof RosterError);
                assert.deepEqual(e.problems, [
                    "stack a: passwordFromEnv = NOT_SET: that environment variable is not set",
                    `stack b: passwordFile = "missing.txt": ${path.join(rosterDir, "missing.txt")} cannot be read (ENOENT)`,
                    `stack c: passwordFile = "empty.txt": ${path.join(rosterDir, "empty.txt")} is empty`,
                    "stack d: Invalid config jupyterlab-droplet:password = (a value of 5 characters): must be at least 12 characters long",
                    "stack e: Invalid config jupyterlab-droplet:password = (a value of 4 characters): must be at least 12 characters long",
                ]);
                assert.doesNotMatch(e.message, /short|tiny/);
                return true;
            },
        );
    });
});
