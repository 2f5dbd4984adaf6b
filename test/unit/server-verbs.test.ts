// `npm run server`: the verbs' command line and what `status` prints (the pure parts; the verbs
// themselves run in the engine suite on its droplets).
import * as assert from "node:assert/strict";
import { test } from "node:test";
import { parseServerCommandLine, statusText, UsageError } from "../../scripts/server/command-line";

test("each verb, with --stack and its own flags", () => {
    assert.deepEqual(parseServerCommandLine(["status"]), { verb: "status", stack: undefined, lines: 100, printOnly: false });
    assert.deepEqual(parseServerCommandLine(["pause", "--stack", "bob"]), { verb: "pause", stack: "bob", lines: 100, printOnly: false });
    assert.deepEqual(parseServerCommandLine(["logs", "-n", "20", "-s", "alice"]), {
        verb: "logs",
        stack: "alice",
        lines: 20,
        printOnly: false,
    });
    assert.deepEqual(parseServerCommandLine(["open", "--print"]), { verb: "open", stack: undefined, lines: 100, printOnly: true });
});

test("a wrong command line says what is wrong, then the usage", () => {
    for (const [argv, message] of [
        [[], /^no verb given\n\nUsage: npm run server/],
        [["stop"], /^unknown verb "stop": the verbs are status, open, pause, resume, connect, logs/],
        [["status", "extra"], /^unexpected "extra" after status/],
        [["status", "--lines", "5"], /^--lines goes with logs/],
        [["logs", "--lines", "0"], /^--lines "0": must be a whole number from 1 to 100000/],
        [["pause", "--print"], /^--print goes with open/],
        [["status", "--colour"], /Unknown option '--colour'/],
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
