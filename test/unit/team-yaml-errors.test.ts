// Where a roster's problems are: YAML syntax errors as `<file>:<line>:<column>: <what>` with the
// line's full text and a caret under the column (from the yaml package's own positions), and the
// roster's structural problems with the line and column of the key or value they are about.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { declaredConfigKeys, parseRoster, RosterError } from "../../scripts/team/roster";

const projectDir = path.resolve(__dirname, "..", "..");
const context = {
    declaredKeys: declaredConfigKeys(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")),
    projectDir,
    file: "rosters/team.yaml",
};

/** The error a roster is refused with (fails the test if it is accepted). */
function refusal(yaml: string): RosterError {
    try {
        parseRoster(yaml, context);
    } catch (e) {
        assert.ok(e instanceof RosterError, String(e));
        return e;
    }
    assert.fail("the roster was accepted");
}

describe("YAML syntax errors: file, line, column, the line and a caret", () => {
    test("a tab in the indentation: the line as it is (tab and all), the caret under the tab", () => {
        const error = refusal("people:\n  - stack: alice\n\t  config: { region: fra1 }\n");
        assert.deepEqual(error.problems, [
            "rosters/team.yaml:3:1: Tabs are not allowed as indentation\n    \t  config: { region: fra1 }\n    ^^^",
        ]);
        assert.equal(
            error.message,
            "The roster has 1 problem; nothing was run:\n" +
                "  rosters/team.yaml:3:1: Tabs are not allowed as indentation\n      \t  config: { region: fra1 }\n      ^^^",
        );
    });

    test("the same with Windows line ends: no carriage return in the excerpt", () => {
        assert.deepEqual(refusal("people:\r\n  - stack: alice\r\n\t config: {}\r\n").problems, [
            "rosters/team.yaml:3:1: Tabs are not allowed as indentation\n    \t config: {}\n    ^^",
        ]);
    });

    test("an unclosed quote is shown where it opens, not where the yaml package runs out of text", () => {
        assert.deepEqual(refusal('people:\n  - stack: "alice\n  - stack: bob\n').problems, [
            'rosters/team.yaml:2:12: Missing closing "quote: the " opened here is still open at line 4, column 1\n' +
                '      - stack: "alice\n' +
                "               ^",
        ]);
        assert.deepEqual(refusal("people:\n  - stack: 'alice\n").problems, [
            "rosters/team.yaml:2:12: Missing closing 'quote: the ' opened here is still open at line 3, column 1\n" +
                "      - stack: 'alice\n" +
                "               ^",
        ]);
    });

    test("an unclosed bracket: the { or [ that opens it, with the line in full (however long)", () => {
        assert.deepEqual(
            refusal(
                "defaults: { region: fra1, size: s-2vcpu-4gb, allowedCidrs: [203.0.113.0/24, 198.51.100.0/24, 192.0.2.0/24]\npeople:\n  - stack: bob\n",
            ).problems,
            [
                "rosters/team.yaml:1:11: Flow map in block collection must be sufficiently indented and end with a }: the { opened here is still open at line 2, column 1\n" +
                    "    defaults: { region: fra1, size: s-2vcpu-4gb, allowedCidrs: [203.0.113.0/24, 198.51.100.0/24, 192.0.2.0/24]\n" +
                    "              ^",
            ],
        );
        assert.deepEqual(refusal("people: [alice").problems, [
            "rosters/team.yaml:1:9: Flow sequence in block collection must be sufficiently indented and end with a ]: the [ opened here is still open at line 1, column 15\n" +
                "    people: [alice\n" +
                "            ^",
        ]);
    });

    test("a duplicate key: the second one, and where the first is (two people written as one)", () => {
        assert.deepEqual(refusal("people:\n  - stack: alice\n    stack: bob\n").problems, [
            'rosters/team.yaml:3:5: Map keys must be unique: "stack" is also at line 2, column 5\n' + "        stack: bob\n" + "        ^",
        ]);
    });

    test("a tab before the column stays a tab in the caret's line, so the caret stays under it", () => {
        assert.deepEqual(refusal("defaults: {\tregion: fra1, region: lon1 }\npeople: [{ stack: a }]\n").problems, [
            'rosters/team.yaml:1:27: Map keys must be unique: "region" is also at line 1, column 13\n' +
                "    defaults: {\tregion: fra1, region: lon1 }\n" +
                "               \t              ^",
        ]);
    });

    test("every error is named, not only the first; a second document and an alias to nothing too", () => {
        assert.equal(refusal("people:\n  - stack: a\n    config: { allowedCidrs: [203.0.113.7/32 }\n").problems.length, 2);
        assert.deepEqual(refusal("people: [{ stack: a }]\n---\npeople: [{ stack: b }]\n").problems, [
            "rosters/team.yaml:2:1: a roster is one YAML document: this `---` starts a second one\n    ---\n    ^",
        ]);
        assert.deepEqual(refusal("people:\n  - *alice\n").problems, [
            "rosters/team.yaml:2:5: Unresolved alias (the anchor must be set before the alias): alice\n      - *alice\n        ^",
        ]);
    });
});

describe("structural problems: the line and column of the key or value", () => {
    test("an unknown key, a person without stack, a duplicate stack, a bad value, all at once", () => {
        const error = refusal(
            [
                "defaults:",
                "  region: fra1",
                "people:",
                "  - stack: alice",
                "    sise: s-2vcpu-4gb",
                "  - name: bob",
                "  - stack: carol",
                "    config:",
                "      region: mars1",
                "      sise: s-2vcpu-4gb",
                "  - stack: alice",
                "teams: [a]",
                "",
            ].join("\n"),
        );
        assert.deepEqual(
            error.problems.map((p) => p.replace(/: the keys are .*/, ": the keys are ...")),
            [
                'rosters/team.yaml:12:1: unknown top-level key "teams": a roster has only `defaults` and `people`',
                'rosters/team.yaml:5:5: stack alice: unknown field "sise": a person has stack, config, passwordFromEnv, passwordFile',
                'rosters/team.yaml:6:5: people[1]: must be a map with `stack: <name>` (got {"name":"bob"})',
                'rosters/team.yaml:10:7: stack carol: unknown config key jupyterlab-droplet:sise = "s-2vcpu-4gb": the keys are ...',
                "rosters/team.yaml:11:12: stack alice: listed twice",
                'rosters/team.yaml:9:15: stack carol: Invalid config jupyterlab-droplet:region = "mars1": must be one of nyc1, nyc2, nyc3, sfo2, sfo3, tor1, lon1, ams3, fra1, sgp1, blr1, syd1, atl1',
            ],
        );
    });

    test("a key with nothing after it is placed at the key; a missing `people` at the file", () => {
        assert.deepEqual(refusal("people:\n  - stack:\n").problems, [
            'rosters/team.yaml:2:5: people[0]: must be a map with `stack: <name>` (got {"stack":null})',
        ]);
        assert.deepEqual(refusal("defaults: { region: fra1 }\n").problems, [
            "rosters/team.yaml: people: must be a list with at least one `- stack: <name>` entry",
        ]);
    });

    test('without a file name the problems start with "roster"', () => {
        assert.throws(
            () => parseRoster("people:\n  - stack: alice\n\t  config: {}\n", { declaredKeys: context.declaredKeys, projectDir }),
            (e: unknown) => e instanceof RosterError && e.problems[0].startsWith("roster:3:1: Tabs are not allowed as indentation\n"),
        );
    });
});
