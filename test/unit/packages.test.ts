// install_missing_packages (droplet/steps/lib/packages.sh), which the login guard's and the
// certificate's steps call: when it refreshes apt's package lists and when it does not. apt-get
// and dpkg-query are stand-ins on PATH (a unit test must not install packages on this machine):
// they keep a log of their calls and, like a mirror that moved on, refuse an install from lists
// marked stale until `apt-get update` has run.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, beforeEach, describe, test } from "node:test";
import { readRemoteLibrary } from "../../droplet/step-scripts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-packages-"));
const bin = path.join(work, "bin");
const lists = path.join(work, "lists");
const calls = path.join(work, "calls");
/** Present while the lists are behind the mirror: an install fails until `apt-get update`. */
const behindMirror = path.join(work, "behind-mirror");
/** Present while no install can succeed (a package the mirror does not have). */
const noSuchPackage = path.join(work, "no-such-package");
/** Present while the packages are installed. */
const installed = path.join(work, "installed");

fs.mkdirSync(bin);
fs.writeFileSync(
    path.join(bin, "apt-get"),
    `#!/bin/bash
args="$*"
echo "apt-get \${args#-o DPkg::Lock::Timeout=600 }" >>${calls}
case "$args" in
  *" update"*) rm -f ${behindMirror}; touch ${lists} ;;
  *" install "*)
    if [ -e ${behindMirror} ]; then echo "E: Failed to fetch: 404 Not Found" >&2; exit 100; fi
    if [ -e ${noSuchPackage} ]; then echo "E: Unable to locate package fail2ban" >&2; exit 100; fi
    touch ${installed} ;;
  *) echo "unknown apt-get call: $args" >&2; exit 2 ;;
esac
`,
    { mode: 0o755 },
);
fs.writeFileSync(
    path.join(bin, "dpkg-query"),
    `#!/bin/bash
shift 2
for p in "$@"; do
  if [ -e ${installed} ]; then echo installed; else echo not-installed; fi
done
`,
    { mode: 0o755 },
);

after(() => fs.rmSync(work, { recursive: true, force: true }));

beforeEach(() => {
    fs.rmSync(calls, { force: true });
    fs.rmSync(installed, { force: true });
    fs.rmSync(behindMirror, { force: true });
    fs.rmSync(noSuchPackage, { force: true });
    fs.mkdirSync(lists, { recursive: true });
});

/** Runs install_missing_packages with the lists last refreshed MINUTES ago. */
function install(minutesAgo: number): { status: number | null; stdout: string; stderr: string; calls: string[] } {
    const refreshed = new Date(Date.now() - minutesAgo * 60_000);
    fs.utimesSync(lists, refreshed, refreshed);
    const script = `set -euo pipefail\n${readRemoteLibrary("packages")}\npackage_lists_dir=${lists}\ninstall_missing_packages fail2ban nftables\n`;
    const result = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    const log = fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trimEnd().split("\n") : [];
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: log };
}

const update = "apt-get update -qq";
const installCall = "apt-get install -y -qq --no-install-recommends fail2ban nftables";

describe("install_missing_packages", () => {
    test("packages already installed: apt-get is not run", () => {
        fs.writeFileSync(installed, "");
        const run = install(5);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.calls, []);
        assert.equal(run.stdout, "");
    });

    test("lists refreshed within the hour (cloud-init's, on a new droplet): installed without another update", () => {
        const run = install(20);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.calls, [installCall]);
        assert.match(run.stdout, /^installed fail2ban nftables in \d+s$/m);
    });

    test("lists older than an hour: refreshed first", () => {
        const run = install(61);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.calls, [update, installCall]);
    });

    test("recent lists the mirror has moved past: the failed install is followed by an update and a second install", () => {
        fs.writeFileSync(behindMirror, "");
        const run = install(20);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.calls, [installCall, update, installCall]);
        assert.match(run.stderr, /the package lists were out of date: refreshing them and trying again/);
    });

    test("an install that fails again after the update fails the step, with apt's message", () => {
        fs.writeFileSync(noSuchPackage, "");
        const run = install(20);
        assert.notEqual(run.status, 0);
        assert.deepEqual(run.calls, [installCall, update, installCall]);
        assert.match(run.stderr, /E: Unable to locate package fail2ban\n[\s\S]*E: Unable to locate package fail2ban/);
        assert.doesNotMatch(run.stdout, /installed/);
    });
});
