// `npm run server`: the verbs' command line and what `status` prints (the pure parts; the verbs
// themselves run in the engine suite on its droplets; the sweep's judgement is in sweep.test.ts).
import * as assert from "node:assert/strict";
import { test } from "node:test";
import { parseServerCommandLine, statusText, UsageError } from "../../scripts/server/command-line";

test("each verb, with --stack and its own flags", () => {
    const plain = { stack: undefined, lines: 100, printOnly: false, dryRun: false };
    assert.deepEqual(parseServerCommandLine(["status"]), { ...plain, verb: "status" });
    assert.deepEqual(parseServerCommandLine(["pause", "--stack", "bob"]), { ...plain, verb: "pause", stack: "bob" });
    assert.deepEqual(parseServerCommandLine(["logs", "-n", "20", "-s", "alice"]), { ...plain, verb: "logs", stack: "alice", lines: 20 });
    assert.deepEqual(parseServerCommandLine(["open", "--print"]), { ...plain, verb: "open", printOnly: true });
    assert.deepEqual(parseServerCommandLine(["sweep"]), { ...plain, verb: "sweep" });
    assert.deepEqual(parseServerCommandLine(["sweep", "--stack", "bob", "--dry-run"]), {
        ...plain,
        verb: "sweep",
        stack: "bob",
        dryRun: true,
    });
});

test("a wrong command line says what is wrong, then the usage", () => {
    for (const [argv, message] of [
        [[], /^no verb given\n\nUsage: npm run server/],
        [["stop"], /^unknown verb "stop": the verbs are status, open, pause, resume, connect, logs, sweep/],
        [["status", "extra"], /^unexpected "extra" after status/],
        [["status", "--lines", "5"], /^--lines goes with logs/],
        [["logs", "--lines", "0"], /^--lines "0": must be a whole number from 1 to 100000/],
        [["pause", "--print"], /^--print goes with open/],
        [["status", "--colour"], /Unknown option '--colour'/],
        [["pause", "--dry-run"], /^--dry-run goes with sweep/],
        [["sweep", "--lines", "5"], /^--lines goes with logs/],
        [["sweep", "--print"], /^--print goes with open/],
        [["sweep", "roster.yaml"], /^unexpected "roster.yaml" after sweep/],
        [["sweep", "--dry-run=no"], /--dry-run/],
    ] as const) {
        assert.throws(
            () => parseServerCommandLine([...argv]),
            (e: Error) => e instanceof UsageError && message.test(e.message),
            JSON.stringify(argv),
        );
    }
});

test("status: state, url and cost while running; how to resume while paused; a stack never deployed", () => {
    assert.equal(
        statusText("alice", { state: "running", url: "https://203.0.113.10:9000/lab", costNote: "running: $0.01935/hour" }),
        "alice: running\n  url:  https://203.0.113.10:9000/lab\n  cost: running: $0.01935/hour",
    );
    assert.equal(
        statusText("bob", { state: "paused", costNote: "paused: no droplet; the 1 GB volume costs $0.00015/hour" }),
        "bob: paused\n  cost: paused: no droplet; the 1 GB volume costs $0.00015/hour\n  resume: npm run server -- resume --stack bob",
    );
    assert.equal(statusText("carol", {}), "carol: no server yet (the stack has no outputs): run `pulumi up`");
});
