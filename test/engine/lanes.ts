// How the engine suite's test files share this machine's two cores (run-suite.ts): full-flow.test.ts
// makes its two droplets alone, then tells the other lane it may start (the quick start's and the
// team's droplets boot while alice's server is checked, which leaves a core mostly idle), and waits
// for that lane to finish before its replacement and resume boot two droplets again. Run alone
// (without JLD_ENGINE_LANES), a file neither signals nor waits.
import * as fs from "node:fs";
import * as path from "node:path";

/** The milestones one lane waits for in the other. */
export type LaneMark = "full-flow-first-ups-done" | "other-lane-done";

function laneDir(): string | undefined {
    const dir = process.env.JLD_ENGINE_LANES;
    return dir === undefined || dir === "" ? undefined : dir;
}

/** Records a milestone for the other lane (nothing when not run by run-suite.ts). */
export function markLane(mark: LaneMark, dir = laneDir()): void {
    if (dir !== undefined) {
        fs.writeFileSync(path.join(dir, mark), new Date().toISOString() + "\n");
    }
}

/** Whether the milestone was recorded. */
export function laneMarked(mark: LaneMark, dir = laneDir()): boolean {
    return dir !== undefined && fs.existsSync(path.join(dir, mark));
}

/** Resolves once the other lane recorded the milestone (at once when not run by run-suite.ts); returns the seconds waited. */
export async function waitForLane(mark: LaneMark, why: string): Promise<number> {
    const dir = laneDir();
    const started = Date.now();
    if (dir === undefined || laneMarked(mark, dir)) {
        return 0;
    }
    console.log(`[lanes] waiting for ${mark}: ${why}`);
    while (!laneMarked(mark, dir)) {
        await new Promise((r) => setTimeout(r, 5_000));
    }
    const waited = (Date.now() - started) / 1000;
    console.log(`[lanes] ${mark} after ${waited.toFixed(0)} s`);
    return waited;
}
