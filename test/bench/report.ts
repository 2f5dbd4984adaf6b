// What the benchmarks share: their report in test-results/, and how they end.
import * as fs from "fs";
import * as path from "path";
import { stopAllLocalDroplets } from "../vm/local-droplet";

/** Writes test-results/<name>-report.json and prints it. */
export function writeBenchReport(name: string, report: unknown): void {
    const resultsDir = path.resolve(__dirname, "..", "..", "test-results");
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, `${name}-report.json`), JSON.stringify(report, null, 2) + "\n");
    console.log(JSON.stringify(report, null, 2));
}

/** Runs a benchmark in `work`, then stops every local droplet and removes `work`; a failure exits 1 with its message. */
export function runBench(work: string, bench: (work: string) => Promise<void>): void {
    bench(work)
        .finally(async () => {
            await stopAllLocalDroplets();
            fs.rmSync(work, { recursive: true, force: true });
        })
        .catch((e: Error) => {
            console.error(e.message);
            process.exit(1);
        });
}
