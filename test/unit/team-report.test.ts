// What `npm run team` shows and decides without the engine: the state from an up's resource
// changes, the first error line, progress from engine events, the table, the person's sheet,
// the bounded concurrency and the command line.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { defaultConcurrency, parseCommandLine, UsageError } from "../../scripts/team/command-line";
import { prepareSheetDirectory, renderPersonSheet, writePersonSheet } from "../../scripts/team/person-file";
import { ProgressBoard, runBounded } from "../../scripts/team/progress";

// A stand-in key body; its armour is assembled so no key scanner mistakes this file for a key.
const keyArmour = ["OPENSSH", "PRIVATE", "KEY"].join(" ");
const fakeKey = `-----BEGIN ${keyArmour}-----\nabc\n-----END ${keyArmour}-----\n`;
import { firstErrorLine, hourlyPrice, progressText, renderTable, stateFromChanges } from "../../scripts/team/report";

describe("the state of a person's stack after `up`", () => {
    test("only same: unchanged; nothing kept: created; some kept, some changed: updated", () => {
        assert.equal(stateFromChanges({ same: 22 }), "unchanged");
        assert.equal(stateFromChanges({ create: 23 }), "created");
        assert.equal(stateFromChanges({ same: 21, update: 1 }), "updated");
        assert.equal(stateFromChanges({ same: 18, replace: 1, create: 2, delete: 2 }), "updated");
        assert.equal(stateFromChanges({ create: 0, same: 5 }), "unchanged", "zero counts are no change");
    });

    test("the first error line: the resource's own error, not the engine's generic one", () => {
        const diagnostics = [
            'error: POST http://127.0.0.1:4000/v2/droplets: 422 (request "abc") Size is not available in this region.\n  more detail\n',
            "error: update failed\n",
        ];
        assert.equal(
            firstErrorLine(diagnostics, "code: 255"),
            "POST http://127.0.0.1:4000/v2/droplets: 422 Size is not available in this region.",
        );
        assert.equal(
            firstErrorLine(["update failed"], "code: 255\n stderr: error: something specific broke\n"),
            "something specific broke",
        );
        assert.equal(
            firstErrorLine(
                [
                    "error: sdk-v2/provider2.go:571: sdk.helper_schema: Error creating droplet: POST http://x/v2/droplets: 422 " +
                        '(request "r") Size is not available in this region.: provider=digitalocean@4.80.1\n',
                ],
                "",
            ),
            "Error creating droplet: POST http://x/v2/droplets: 422 Size is not available in this region.",
            "without the provider's wrapping",
        );
        assert.equal(firstErrorLine([], "spawn pulumi ENOENT"), "spawn pulumi ENOENT");
        assert.equal(firstErrorLine([], ""), "failed (no message)");
    });

    test("the hourly price is a number output, else unknown", () => {
        assert.equal(hourlyPrice(0.01786), 0.01786);
        assert.equal(hourlyPrice(undefined), undefined);
        assert.equal(hourlyPrice("0.02"), undefined);
    });
});

describe("progress from engine events", () => {
    const urn = "urn:pulumi:alice::jupyterlab-droplet::jupyterlab-droplet:index:Server$digitalocean:index/droplet:Droplet::server-droplet";
    const metadata = (op: string, type = "digitalocean:index/droplet:Droplet") =>
        ({ op, urn, type }) as unknown as NonNullable<EngineEvent["resourcePreEvent"]>["metadata"];
    const event = (fields: Partial<EngineEvent>) => ({ sequence: 1, timestamp: 1, ...fields });

    test("a resource starting, finishing or failing; the summary", () => {
        assert.equal(progressText(event({ resourcePreEvent: { metadata: metadata("create") } })), "create server-droplet ...");
        assert.equal(progressText(event({ resOutputsEvent: { metadata: metadata("create") } })), "create server-droplet done");
        assert.equal(
            progressText(event({ resOpFailedEvent: { metadata: metadata("create"), status: 1, steps: 1 } })),
            "create server-droplet FAILED",
        );
        assert.equal(
            progressText(event({ summaryEvent: { durationSeconds: 512.4 } as NonNullable<EngineEvent["summaryEvent"]> })),
            "finished in 512 s",
        );
    });

    test("unchanged resources, the stack and providers, and other events move nothing", () => {
        assert.equal(progressText(event({ resourcePreEvent: { metadata: metadata("same") } })), undefined);
        assert.equal(
            progressText(event({ resourcePreEvent: { metadata: metadata("create", "pulumi:providers:digitalocean") } })),
            undefined,
        );
        assert.equal(progressText(event({ diagnosticEvent: { message: "hi", color: "never", severity: "info" } })), undefined);
    });
});

describe("the table", () => {
    test("person, url, state (failed with its error), hourly price; a total when every price is known", () => {
        const table = renderTable([
            { stack: "alice", url: "https://127.0.1.1:9000/lab", state: "created", hourlyPriceUsd: 0.01786 },
            { stack: "bob", url: "https://127.0.1.2:9000/lab", state: "unchanged", hourlyPriceUsd: 0.03571 },
            { stack: "carol", state: "failed", error: "Size is not available in this region." },
        ]);
        assert.equal(
            table,
            [
                "PERSON  URL                         STATE                                          PER HOUR",
                "alice   https://127.0.1.1:9000/lab  created                                        $0.01786",
                "bob     https://127.0.1.2:9000/lab  unchanged                                      $0.03571",
                "carol   -                           failed: Size is not available in this region.  -",
                "2 stacks: $0.05357 per hour in all",
            ].join("\n"),
        );
    });

    test("a paused stack's volume counts in the total", () => {
        const table = renderTable([
            { stack: "alice", url: "https://127.0.1.1:9000/lab", state: "deployed", hourlyPriceUsd: 0.01786 },
            { stack: "bob", state: "paused", hourlyPriceUsd: 0.00149 },
            { stack: "carol", state: "not deployed" },
        ]);
        assert.match(table, /^bob +- +paused +\$0\.00149$/m);
        assert.match(table, /^carol +- +not deployed +-$/m);
        assert.match(table, /^2 stacks: \$0\.01935 per hour in all$/m);
    });

    test("no total while a running server's price is unknown (a program without the hourlyPriceUsd output)", () => {
        const table = renderTable([{ stack: "alice", url: "https://127.0.1.1:9000/lab", state: "deployed" }]);
        assert.equal(table, "PERSON  URL                         STATE     PER HOUR\nalice   https://127.0.1.1:9000/lab  deployed  -");
    });
});

describe("a person's sheet", () => {
    const outputs = {
        url: { value: "https://127.0.1.1:9000/lab", secret: false },
        password: { value: "generated password 123", secret: true },
        certificateSha256: { value: "AB:CD", secret: false },
        sshCommand: { value: "ssh -i ~/.ssh/jupyterlab-alice jupyter@127.0.1.1", secret: false },
        sshPrivateKey: { value: fakeKey, secret: true },
    };

    test("url, password, certificate fingerprint, ssh command and the generated key", () => {
        const sheet = renderPersonSheet("alice", outputs);
        for (const line of [
            "url: https://127.0.1.1:9000/lab",
            "password: generated password 123",
            "certificate SHA-256: AB:CD",
            "ssh: ssh -i ~/.ssh/jupyterlab-alice jupyter@127.0.1.1",
            fakeKey,
        ]) {
            assert.ok(sheet.includes(line), line);
        }
    });

    test("with the person's own key: no key in the sheet, a note instead", () => {
        const sheet = renderPersonSheet("bob", { ...outputs, sshPrivateKey: { value: undefined, secret: true } });
        assert.doesNotMatch(sheet, new RegExp(keyArmour));
        assert.match(sheet, /with the SSH key whose public half the roster gives as sshPublicKey/);
    });

    test("the directory is made 0700 (also when it existed), the sheet 0600, rewritten in place", (t) => {
        const parent = fs.mkdtempSync(path.join(os.tmpdir(), "jld-sheets-"));
        t.after(() => fs.rmSync(parent, { recursive: true, force: true }));
        const dir = path.join(parent, "team");
        fs.mkdirSync(dir, { mode: 0o755 });
        prepareSheetDirectory(dir);
        assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
        const file = writePersonSheet(dir, "alice", outputs);
        writePersonSheet(dir, "alice", outputs);
        assert.equal(file, path.join(dir, "alice.txt"));
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.deepEqual(fs.readdirSync(dir), ["alice.txt"], "no temporary file is left");
    });
});

describe("bounded concurrency", () => {
    test("never more than the limit at once; every item runs; a failure does not stop the others", async () => {
        let running = 0;
        let most = 0;
        const results = await runBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
            running++;
            most = Math.max(most, running);
            await new Promise((r) => setTimeout(r, 10 + (n % 3) * 5));
            running--;
            if (n === 4) {
                throw new Error("four failed");
            }
            return n * 10;
        });
        assert.equal(most, 3);
        assert.deepEqual(
            results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message)),
            [10, 20, 30, "four failed", 50, 60, 70],
        );
    });
});

describe("the progress lines", () => {
    function stream(isTTY: boolean): { out: NodeJS.WriteStream; written: string[] } {
        const written: string[] = [];
        return { out: { isTTY, columns: 40, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream, written };
    }

    test('in a log: each change once, as "person  text"; a repeat prints nothing', () => {
        const { out, written } = stream(false);
        const board = new ProgressBoard(["alice", "bob"], out);
        board.update("bob", "create server-droplet ...");
        board.update("bob", "create server-droplet ...");
        board.update("alice", "unchanged");
        assert.deepEqual(written, ["bob    create server-droplet ...\n", "alice  unchanged\n"]);
    });

    test("on a terminal: one line per person, redrawn in place and cut to the width", () => {
        const { out, written } = stream(true);
        const board = new ProgressBoard(["alice", "bob"], out);
        board.update("alice", `create ${"x".repeat(60)}`);
        assert.equal(written[0], "\x1b[2Kalice  waiting\n\x1b[2Kbob    waiting\n");
        assert.equal(written[1], `\x1b[2F\x1b[2Kalice  create ${"x".repeat(25)}\n\x1b[2Kbob    waiting\n`);
    });
});

describe("the command line", () => {
    test("up with its flags; status and down with their defaults", () => {
        assert.deepEqual(parseCommandLine(["up", "team.yaml", "--out", "secrets", "--concurrency", "2"]), {
            command: "up",
            rosterFile: "team.yaml",
            concurrency: 2,
            outDir: "secrets",
            only: undefined,
            prune: false,
            yes: false,
            dryRun: false,
        });
        assert.deepEqual(parseCommandLine(["status", "team.yaml"]), {
            command: "status",
            rosterFile: "team.yaml",
            concurrency: defaultConcurrency,
            outDir: undefined,
            only: undefined,
            prune: false,
            yes: false,
            dryRun: false,
        });
        assert.deepEqual(parseCommandLine(["down", "team.yaml", "--only", "alice"]).only, "alice");
        assert.equal(parseCommandLine(["down", "team.yaml", "--prune"]).prune, true);
        assert.deepEqual(parseCommandLine(["sweep", "team.yaml", "--dry-run", "--only", "bob", "--concurrency", "2"]), {
            command: "sweep",
            rosterFile: "team.yaml",
            concurrency: 2,
            outDir: undefined,
            only: "bob",
            prune: false,
            yes: false,
            dryRun: true,
        });
        assert.equal(parseCommandLine(["sweep", "team.yaml"]).dryRun, false);
    });

    test("mistakes are refused with the reason and the usage", () => {
        for (const [argv, reason] of [
            [["deploy", "team.yaml"], /unknown command "deploy": up, status, down or sweep/],
            [["up", "--out", "x"], /up takes one roster file/],
            [["up", "team.yaml"], /up needs --out DIR/],
            [["up", "team.yaml", "--out", "x", "--concurrency", "0"], /--concurrency 0: must be a whole number, 1 or more/],
            [["status", "team.yaml", "--prune"], /--prune goes with down only/],
            [["status", "team.yaml", "--out", "x"], /--out goes with up only/],
            [["down", "team.yaml", "--prune", "--only", "alice"], /--prune and --only/],
            [["down", "team.yaml", "--force"], /Unknown option '--force'/],
            [["sweep"], /sweep takes one roster file/],
            [["sweep", "team.yaml", "--out", "x"], /--out goes with up only/],
            [["sweep", "team.yaml", "--prune"], /--prune goes with down only/],
            [["up", "team.yaml", "--out", "x", "--dry-run"], /--dry-run goes with sweep only/],
            [["sweep", "team.yaml", "--dry-run=yes"], /--dry-run/],
        ] as const) {
            assert.throws(
                () => parseCommandLine([...argv]),
                (e: unknown) => e instanceof UsageError && reason.test(e.message) && /Usage: npm run team/.test(e.message),
            );
        }
    });
});
