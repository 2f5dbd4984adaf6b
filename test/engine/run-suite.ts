// `npm run test:engine`: the engine suite in two lanes on this machine's two cores (lanes.ts).
//   first, alone:  acme-server.test.ts, cli.test.ts (no droplet)
//   lane A:        full-flow.test.ts, streamed as it runs
//   lane B:        quick-start.test.ts, then team.test.ts, once full-flow has made its first two
//                  droplets (or ended); its output is kept in test-results/engine-lane-b.log and
//                  printed when it ends, so the two lanes' lines never interleave
// Exits non-zero if any file failed. Each part's wall time goes to test-results/engine-lanes.json.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { laneMarked, markLane } from "./lanes";

const root = path.resolve(__dirname, "..", "..");
const resultsDir = path.join(root, "test-results");
const first = ["test/engine/acme-server.test.ts", "test/engine/cli.test.ts"];
const laneA = ["test/engine/full-flow.test.ts"];
const laneB = ["test/engine/quick-start.test.ts", "test/engine/team.test.ts"];

interface Run {
    code: number;
    seconds: number;
}

/** Runs the files with node's test runner, one file at a time; output to this process's, or to logFile. */
function runFiles(files: string[], env: NodeJS.ProcessEnv, logFile?: string): Promise<Run> {
    const started = Date.now();
    const args = ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=1", ...files];
    const out = logFile === undefined ? "inherit" : fs.openSync(logFile, "w");
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", out, out] });
    return new Promise((resolve) => {
        child.on("exit", (code, signal) => {
            if (typeof out === "number") fs.closeSync(out);
            resolve({ code: code ?? (signal === null ? 1 : 128), seconds: (Date.now() - started) / 1000 });
        });
    });
}

async function main(): Promise<number> {
    fs.mkdirSync(resultsDir, { recursive: true });
    const lanes = fs.mkdtempSync(path.join(os.tmpdir(), "jld-engine-lanes-"));
    const env = { ...process.env, JLD_ENGINE_LANES: lanes };
    const timings: Record<string, number> = {};
    const suiteStarted = Date.now();

    const firstRun = await runFiles(first, env);
    timings["acme-server and cli"] = firstRun.seconds;

    let laneAEnded = false;
    const laneARun = runFiles(laneA, env).then((r) => {
        laneAEnded = true;
        return r;
    });
    const laneBRun = (async () => {
        const waitStarted = Date.now();
        while (!laneAEnded && !laneMarked("full-flow-first-ups-done", lanes)) {
            await new Promise((r) => setTimeout(r, 5_000));
        }
        timings["lane B: waited for full-flow's first droplets"] = (Date.now() - waitStarted) / 1000;
        const logFile = path.join(resultsDir, "engine-lane-b.log");
        console.log(`[lanes] quick-start and team start beside full-flow; their output: test-results/engine-lane-b.log`);
        const run = await runFiles(laneB, env, logFile);
        markLane("other-lane-done", lanes);
        console.log(`[lanes] quick-start and team ended (exit ${run.code}, ${run.seconds.toFixed(0)} s); their output:`);
        process.stdout.write(fs.readFileSync(logFile, "utf8"));
        console.log(`[lanes] end of quick-start and team's output`);
        return run;
    })();
    const [a, b] = await Promise.all([laneARun, laneBRun]);
    timings["lane A: full-flow"] = a.seconds;
    timings["lane B: quick-start and team"] = b.seconds;
    timings["the whole suite"] = (Date.now() - suiteStarted) / 1000;
    fs.writeFileSync(path.join(resultsDir, "engine-lanes.json"), JSON.stringify(timings, null, 2) + "\n");
    console.log(`[lanes] seconds (test-results/engine-lanes.json): ${JSON.stringify(timings)}`);
    fs.rmSync(lanes, { recursive: true, force: true });
    const failed = Object.entries({ "acme-server and cli": firstRun, "full-flow": a, "quick-start and team": b }).filter(
        ([, r]) => r.code !== 0,
    );
    for (const [name, r] of failed) {
        console.error(`[lanes] ${name} failed (exit ${r.code})`);
    }
    return failed.length === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        console.error(e);
        process.exit(1);
    },
);
