// The sweep's pure parts (scripts/server/idle.ts): the idle decision from Jupyter's three answers
// and the time, the one line per server, the cost a pause saves, the exit code; and the command
// lines of both sweeps, run as a user runs them. Reading real answers: sweep-jupyter.test.ts.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, test } from "node:test";
import { hourlySaving, idleTime, judge, JupyterAnswers, sweepExitCode, sweepLine, UnexpectedAnswer } from "../../scripts/server/idle";

const repoDir = path.resolve(__dirname, "..", "..");
const now = new Date("2026-03-01T12:00:00Z");
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString().replace(/Z$/, "000Z");

/** Answers as jupyter_server gives them: the server's last activity, kernels and terminals with their own. */
function answers(serverMinutesAgo: number, kernels: [string, number][] = [], terminals: number[] = []): JupyterAnswers {
    return {
        status: { started: minutesAgo(600), last_activity: minutesAgo(serverMinutesAgo), kernels: kernels.length, connections: 0 },
        kernels: kernels.map(([state, ago], i) => ({
            id: `k${i}`,
            name: "python3",
            last_activity: minutesAgo(ago),
            execution_state: state,
            connections: 0,
        })),
        terminals: terminals.map((ago, i) => ({ name: String(i + 1), last_activity: minutesAgo(ago) })),
    };
}

describe("the idle decision", () => {
    test("idle once nothing has happened for the limit; active before", () => {
        assert.deepEqual(judge(answers(60), now, 60), { decision: "idle", idleMs: 3_600_000 });
        assert.deepEqual(judge(answers(59.5), now, 60), { decision: "active", idleMs: 3_570_000 });
        assert.equal(judge(answers(500, [["idle", 200]]), now, 60).decision, "idle");
    });

    test("the latest of the server's, every kernel's and every terminal's last activity counts", () => {
        assert.deepEqual(
            judge(
                answers(
                    90,
                    [
                        ["idle", 70],
                        ["idle", 30],
                    ],
                    [80],
                ),
                now,
                60,
            ),
            { decision: "active", idleMs: 30 * 60_000 },
        );
        assert.deepEqual(judge(answers(90, [["idle", 70]], [10, 75]), now, 60), { decision: "active", idleMs: 10 * 60_000 });
    });

    test("a kernel busy or starting keeps the server, however long ago anything happened", () => {
        assert.equal(judge(answers(900, [["busy", 900]]), now, 1).decision, "busy");
        assert.equal(
            judge(
                answers(900, [
                    ["idle", 900],
                    ["starting", 900],
                ]),
                now,
                1,
            ).decision,
            "busy",
        );
        assert.equal(judge(answers(900, [["dead", 900]]), now, 1).decision, "idle");
    });

    test("a server clock ahead of the time given is no negative idle time", () => {
        assert.deepEqual(judge(answers(-2), now, 60), { decision: "active", idleMs: 0 });
    });

    test("an answer jupyter_server would not give is refused, saying what is wrong", () => {
        const wrong: [JupyterAnswers, RegExp][] = [
            [{ ...answers(1), status: [] }, /\/api\/status is not an object/],
            [{ ...answers(1), status: { last_activity: "yesterday" } }, /\/api\/status last_activity is "yesterday", not a time/],
            [{ ...answers(1), kernels: { id: "k0" } }, /\/api\/kernels is not a list/],
            [{ ...answers(1), kernels: [{ last_activity: minutesAgo(1) }] }, /\/api\/kernels\[0\] has no execution_state/],
            [{ ...answers(1), kernels: [{ execution_state: "idle" }] }, /\/api\/kernels\[0\]\.last_activity is undefined, not a time/],
            [{ ...answers(1), terminals: ["1"] }, /\/api\/terminals\[0\] is not an object/],
        ];
        for (const [given, message] of wrong) {
            assert.throws(
                () => judge(given, now, 60),
                (e: Error) =>
                    e instanceof UnexpectedAnswer && /^unexpected answer from JupyterLab: /.test(e.message) && message.test(e.message),
            );
        }
    });

    test("the idle time in whole minutes, as the line says it", () => {
        assert.deepEqual(idleTime({ decision: "active", idleMs: 59 * 60_000 + 59_999 }, 60), { minutes: 59, limit: 60 });
    });
});

describe("the line", () => {
    const idle = { minutes: 64, limit: 60 };
    test("one line per server: stack, idle time and limit, what was done", () => {
        for (const [outcome, line] of [
            [{ action: "paused", idle, savedUsdPerHour: 0.01786 }, "bob: idle 64 min (limit 60): paused, saving $0.01786/hour"],
            [{ action: "paused", idle }, "bob: idle 64 min (limit 60): paused"],
            [{ action: "would pause", idle }, "bob: idle 64 min (limit 60): would pause (dry run)"],
            [{ action: "kept: busy kernel", idle }, "bob: idle 64 min (limit 60): kept: busy kernel"],
            [{ action: "kept: active", idle: { minutes: 12, limit: 60 } }, "bob: idle 12 min (limit 60): kept: active 12 min ago"],
            [
                { action: "could not pause", idle, reason: "pulumi exited with 255 (its output is on stderr)" },
                "bob: idle 64 min (limit 60): could not pause: pulumi exited with 255 (its output is on stderr)",
            ],
            [{ action: "paused already" }, "bob: paused already"],
            [{ action: "auto-pause off" }, "bob: auto-pause off"],
            [{ action: "not deployed" }, "bob: not deployed"],
            [
                { action: "could not read", reason: "ssh: Host key verification failed." },
                "bob: could not read: ssh: Host key verification failed.",
            ],
        ] as const) {
            assert.equal(sweepLine("bob", outcome), line);
        }
    });

    test("the exit code is 1 when a server's activity could not be read or its pause failed", () => {
        assert.equal(sweepExitCode([{ action: "paused already" }, { action: "would pause", idle }, { action: "auto-pause off" }]), 0);
        assert.equal(
            sweepExitCode([
                { action: "paused", idle },
                { action: "could not read", reason: "x" },
            ]),
            1,
        );
        assert.equal(sweepExitCode([{ action: "could not pause", idle, reason: "x" }]), 1);
    });

    test("what a pause saves: the hourly price before minus after, to five decimals", () => {
        // s-1vcpu-2gb with its 10 GB volume, then the volume alone (the outputs' own figures).
        assert.equal(hourlySaving(0.01935, 0.00149), 0.01786);
        assert.equal(hourlySaving(0.02679, 0.00893), 0.01786);
        assert.equal(hourlySaving(undefined, 0.00149), undefined);
        assert.equal(hourlySaving(0.01935, "0.00149"), undefined);
    });
});

describe("the command lines, as run", () => {
    // A wrong command line is refused before anything runs: no pulumi, no stack, no passphrase needed.
    for (const [script, argv, message] of [
        ["scripts/server/main.ts", ["sweep", "--print"], /^--print goes with open\n\nUsage: npm run server/],
        ["scripts/team/main.ts", ["sweep", "team.yaml", "--out", "x"], /^--out goes with up only\n\nUsage: npm run team/],
    ] as const) {
        test(`${script} ${argv.join(" ")}: the reason and the usage on stderr, exit 2`, () => {
            const run = spawnSync(process.execPath, ["--import", "tsx", script, ...argv], { cwd: repoDir, encoding: "utf8" });
            assert.equal(run.status, 2, run.stderr);
            assert.match(run.stderr, message);
            assert.equal(run.stdout, "");
        });
    }
});
