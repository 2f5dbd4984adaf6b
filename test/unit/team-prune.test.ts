// What `down --prune` may touch: only stacks off the roster that carry this roster's marker for
// themselves; the y/N question, --yes and the refusal without a terminal; the marker's key and
// the config `up` keeps; the --yes flag on the command line.
import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { namespace } from "../../config/config";
import { parseCommandLine, UsageError } from "../../scripts/team/command-line";
import {
    confirmed,
    markerKey,
    notConfirmedMessage,
    planPrune,
    pruneDecision,
    prunePrompt,
    renderPrunePlan,
    renderUnlistedNote,
    rosterIdentity,
    stackMarker,
    staleConfigKeys,
    standing,
} from "../../scripts/team/prune";
import { stateFromOutputs } from "../../scripts/team/report";

const identity = rosterIdentity("admin-laptop", "/home/admin/team.yaml");
const mine = (stack: string) => ({ stack, marker: stackMarker(identity, stack) });

describe("the roster's marker", () => {
    test("in a namespace of its own, never the program's", () => {
        assert.ok(!markerKey.startsWith(`${namespace}:`), markerKey);
        assert.equal(markerKey.split(":")[0], "jupyterlab-droplet-team");
    });

    test("names the stack, the machine and the roster file's path", () => {
        assert.equal(stackMarker(identity, "alice"), "alice in admin-laptop:/home/admin/team.yaml");
    });

    test("`up` removes the program's keys the roster dropped, and keeps the marker and other namespaces' keys", () => {
        const inFile = [`${namespace}:region`, `${namespace}:size`, `${namespace}:password`, markerKey, "digitalocean:token"];
        assert.deepEqual(staleConfigKeys(inFile, ["region"]), [`${namespace}:size`, `${namespace}:password`]);
        assert.deepEqual(staleConfigKeys(inFile, ["region", "size", "password"]), []);
        assert.deepEqual(staleConfigKeys([markerKey], []), [], "a roster with no keys at all still keeps the marker");
    });
});

describe("which stacks `down --prune` destroys", () => {
    test("off the roster and marked by it: pruned; on the roster: never in the plan", () => {
        const plan = planPrune(["alice", "bob"], [mine("alice"), mine("bob"), mine("dan"), mine("carl")], identity);
        assert.deepEqual(plan, { prune: ["carl", "dan"], leftAlone: [] });
    });

    test("no marker (made with `pulumi new` or `pulumi stack init`): left alone", () => {
        const plan = planPrune(["alice"], [mine("alice"), { stack: "carol" }, mine("dan")], identity);
        assert.deepEqual(plan, { prune: ["dan"], leftAlone: [{ stack: "carol" }] });
    });

    test("another roster's stacks, in the same backend: left alone, both ways", () => {
        const other = rosterIdentity("admin-laptop", "/home/admin/other-team.yaml");
        const stacks = [mine("alice"), { stack: "zed", marker: stackMarker(other, "zed") }];
        assert.deepEqual(planPrune([], stacks, identity).prune, ["alice"]);
        assert.deepEqual(planPrune([], stacks, other).prune, ["zed"]);
        assert.deepEqual(planPrune(["alice"], stacks, other), { prune: ["zed"], leftAlone: [] });
    });

    test("a moved roster file, or the same path on another machine: prunes nothing it made before", () => {
        const stacks = [mine("dan"), mine("eve")];
        assert.deepEqual(planPrune([], stacks, rosterIdentity("admin-laptop", "/home/admin/moved/team.yaml")).prune, []);
        assert.deepEqual(planPrune([], stacks, rosterIdentity("ci-runner", "/home/admin/team.yaml")).prune, []);
    });

    test("a stack whose config file was copied from a roster stack's (another name): left alone", () => {
        const plan = planPrune([], [{ stack: "alice2", marker: stackMarker(identity, "alice") }], identity);
        assert.deepEqual(plan, { prune: [], leftAlone: [{ stack: "alice2", marker: "alice in admin-laptop:/home/admin/team.yaml" }] });
    });

    test("an empty backend, or one with only the roster's stacks: nothing", () => {
        assert.deepEqual(planPrune(["alice"], [], identity), { prune: [], leftAlone: [] });
        assert.deepEqual(planPrune(["alice"], [mine("alice")], identity), { prune: [], leftAlone: [] });
    });
});

describe("asking before pruning", () => {
    test("--yes goes on; a terminal is asked; no terminal and no --yes refuses", () => {
        assert.equal(pruneDecision(2, true, false), "go");
        assert.equal(pruneDecision(2, true, true), "go", "--yes asks nothing, even on a terminal");
        assert.equal(pruneDecision(2, false, true), "ask");
        assert.equal(pruneDecision(2, false, false), "refuse");
    });

    test("nothing to prune: nothing to ask", () => {
        assert.equal(pruneDecision(0, false, false), "go");
        assert.equal(pruneDecision(0, false, true), "go");
    });

    test("only y or yes is yes; the default (Enter, Ctrl-D) is no", () => {
        for (const answer of ["y", "Y", "yes", "YES", " y\n"]) {
            assert.equal(confirmed(answer), true, JSON.stringify(answer));
        }
        for (const answer of ["", "\n", "n", "no", "yess", "sure", "y y"]) {
            assert.equal(confirmed(answer), false, JSON.stringify(answer));
        }
    });

    test("the question counts the stacks; the refusal says how to go on", () => {
        assert.equal(prunePrompt(1, 0), "Destroy and remove the 1 stack above? [y/N] ");
        assert.equal(prunePrompt(2, 1), "Destroy and remove the 2 stacks above, and the roster's 1 stack? [y/N] ");
        assert.match(
            notConfirmedMessage("refuse", 1),
            /^Nothing was destroyed \(no terminal to ask on, and no --yes\)\. .*down --prune --yes/,
        );
        assert.match(notConfirmedMessage("declined", 2), /^Nothing was destroyed \(not confirmed\)\. To destroy the 2 stacks listed/);
    });
});

describe("what `--prune` and every command show", () => {
    test("the stacks to prune, with how each stands; those left alone, with why", () => {
        const plan = planPrune(
            [],
            [mine("dan"), mine("eve"), mine("frank"), { stack: "carol" }, { stack: "zed", marker: "zed in elsewhere:/x.yaml" }],
            identity,
        );
        const standings = new Map([
            ["dan", standing("not deployed")],
            ["eve", standing("deployed")],
            ["frank", standing("paused")],
        ]);
        assert.equal(
            renderPrunePlan(plan, standings),
            [
                "Not on the roster and made by it, to destroy and remove (notebooks too, unless retainData): 3",
                "  dan    no server in its outputs",
                "  eve    running",
                "  frank  paused (its volume kept)",
                'Stacks of this project not made by this roster: left alone: carol (no marker), zed (marked "zed in elsewhere:/x.yaml")',
            ].join("\n"),
        );
        assert.match(renderPrunePlan(planPrune([], [mine("dan")], identity), new Map()), /dan {2}state unknown/);
        assert.equal(
            renderPrunePlan(planPrune([], [{ stack: "carol" }], identity), new Map()),
            "No stack off the roster was made by it: nothing to prune.\nStacks of this project not made by this roster: left alone: carol (no marker)",
        );
    });

    test("how a stack stands, from its outputs", () => {
        assert.equal(
            stateFromOutputs({ state: { value: "running", secret: false }, url: { value: "https://x", secret: false } }),
            "deployed",
        );
        assert.equal(stateFromOutputs({ state: { value: "paused", secret: false } }), "paused");
        assert.equal(stateFromOutputs({}), "not deployed");
        assert.equal(standing(undefined), "state unknown");
    });

    test("the note after up, status and down names the stacks off the roster, split by who made them", () => {
        const plan = planPrune(["alice"], [mine("alice"), mine("dan"), { stack: "carol" }], identity);
        assert.equal(
            renderUnlistedNote(plan, false),
            [
                "Stacks of this project not on the roster, made by it, left as they are (`down --prune` destroys them): dan",
                "Stacks of this project not made by this roster: left alone: carol (no marker)",
            ].join("\n"),
        );
        assert.equal(
            renderUnlistedNote(planPrune([], [{ stack: "carol" }], identity), true),
            "Stacks of this project not made by this roster: left alone: carol (no marker)",
        );
        assert.equal(renderUnlistedNote(planPrune(["alice"], [mine("alice")], identity), false), undefined);
        assert.equal(
            renderUnlistedNote(planPrune(["alice"], [mine("alice")], identity), true),
            "Every stack of this project is on the roster now.",
        );
    });
});

describe("--yes on the command line", () => {
    test("with down --prune; -y for short; off by default", () => {
        assert.equal(parseCommandLine(["down", "team.yaml", "--prune", "--yes"]).yes, true);
        assert.equal(parseCommandLine(["down", "team.yaml", "--prune", "-y"]).yes, true);
        assert.equal(parseCommandLine(["down", "team.yaml", "--prune"]).yes, false);
        assert.equal(parseCommandLine(["up", "team.yaml", "--out", "x"]).yes, false);
    });

    test("anywhere else it is refused: it answers only --prune's question", () => {
        for (const argv of [
            ["down", "team.yaml", "--yes"],
            ["up", "team.yaml", "--out", "x", "--yes"],
            ["status", "team.yaml", "-y"],
        ]) {
            assert.throws(
                () => parseCommandLine(argv),
                (e: unknown) => e instanceof UsageError && /--yes goes with down --prune only/.test(e.message),
                argv.join(" "),
            );
        }
    });
});
