// The volume's cache (droplet/steps/lib/volume-cache.sh) on a real ext4 filesystem on a loop
// device, mounted as the droplet mounts the notebooks volume: its top directory owned by the
// user who runs notebooks (here `nobody`), who must never be able to move, enter or replace the
// cache that root restores environments from. Needs root (mount, losetup, chattr), as CI runs it.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { readRemoteLibrary } from "../../droplet/step-scripts";
import { requireCommand } from "../support/jupyter-venv";

const user = "nobody";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-volume-cache-"));
const image = path.join(work, "volume.img");
/** The volume as the jupyter user sees it: its notebooks directory, which it owns. */
const notebooks = path.join(work, "notebooks");
const lockDir = path.join(work, "run");
let device = "";

before(() => {
    assert.equal(process.getuid?.(), 0, "the volume cache's tests mount a filesystem: run npm test as root, as CI does");
    for (const [command, pkg] of [
        ["losetup", "mount"],
        ["mkfs.ext4", "e2fsprogs"],
        ["chattr", "e2fsprogs"],
        ["runuser", "util-linux"],
    ]) {
        requireCommand(command, `install ${pkg} (apt-get install ${pkg})`);
    }
    execFileSync("truncate", ["-s", "64M", image]);
    execFileSync("mkfs.ext4", ["-q", image]);
    device = execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8" }).trim();
    fs.mkdirSync(notebooks);
    execFileSync("mount", [device, notebooks]);
    fs.chownSync(notebooks, uid(user), uid(user));
    // The work dir is root's 0700 by mkdtemp; the user must reach its notebooks through it.
    fs.chmodSync(work, 0o755);
});

after(() => {
    // Whatever a failed test left mounted, the step's own mounts first.
    spawnSync("bash", [
        "-c",
        `chattr -i ${notebooks}/.jupyterlab-droplet; grep -o ' ${work}/[^ ]*' /proc/mounts | sort -r | xargs -r umount`,
    ]);
    if (device !== "") {
        spawnSync("losetup", ["--detach", device]);
    }
    fs.rmSync(work, { recursive: true, force: true });
});

function uid(name: string): number {
    return Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
}

/** Runs `script` in bash with the library loaded, as the install steps do; fails on a non-zero exit. */
function withLibrary(script: string): { stdout: string; stderr: string } {
    const prelude = `set -euo pipefail\n${readRemoteLibrary("volume-cache")}\ntrap close_volume_cache EXIT\n`;
    const result = spawnSync("bash", ["-c", `${prelude}${script}`], {
        encoding: "utf8",
        env: { ...process.env, JLD_SETUP_LOCK_DIR: lockDir },
    });
    assert.equal(result.status, 0, `${script}\n${result.stdout}\n${result.stderr}`);
    return { stdout: result.stdout, stderr: result.stderr };
}

function asUser(command: string): { status: number | null; stderr: string } {
    return spawnSync("runuser", ["-u", user, "--", "bash", "-c", command], { encoding: "utf8" });
}

/** An environment-like tree: a marker, a file, a link that must stay a link. */
function makeEnvironment(dir: string, owner?: string): void {
    fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
    fs.writeFileSync(path.join(dir, "bin", "tool"), "#!/bin/sh\necho tool\n", { mode: 0o755 });
    fs.symlinkSync("/usr/bin/python3", path.join(dir, "bin", "python"));
    fs.writeFileSync(path.join(dir, ".complete"), "");
    if (owner !== undefined) {
        execFileSync("chown", ["-R", "-h", `${owner}:`, dir]);
    }
}

test("the cache is a root-only, immutable directory on the volume that the volume's owner cannot move, replace or enter", () => {
    const { stdout } = withLibrary(`open_volume_cache jupyterlab ${device}; echo "cache=$volume_cache"; close_volume_cache`);
    assert.match(stdout, /^cache=.*\/\.jupyterlab-droplet\/cache$/m);
    const top = path.join(notebooks, ".jupyterlab-droplet");
    const stat = fs.lstatSync(top);
    assert.ok(stat.isDirectory());
    assert.equal(stat.uid, 0);
    assert.equal(stat.mode & 0o777, 0o700);
    assert.match(execFileSync("lsattr", ["-d", top], { encoding: "utf8" }).split(" ")[0], /i/);
    for (const attempt of [
        `mv ${top} ${notebooks}/moved`,
        `rm -rf ${top}`,
        `ls ${top}`,
        `mkdir ${notebooks}/own && mv -T ${notebooks}/own ${top}`,
    ]) {
        const result = asUser(attempt);
        assert.notEqual(result.status, 0, `the volume's owner could: ${attempt}`);
    }
    assert.equal(fs.lstatSync(top).ino, stat.ino, "the same directory is still there");
    // The mount the step made is gone again.
    assert.ok(!fs.readFileSync("/proc/mounts", "utf8").includes(path.join(lockDir, "volume-jupyterlab")));
});

test("environments are kept and restored: root's as root, the user's read and unpacked as the user; one per kind", () => {
    const serverEnv = path.join(work, "server-env");
    makeEnvironment(serverEnv);
    const kernelEnv = path.join(work, "kernel-env");
    makeEnvironment(kernelEnv, user);
    const saved = withLibrary(`open_volume_cache kernel ${device}
        save_to_volume_cache jupyterlab-4.6.6-r1-abc ${serverEnv} 'jupyterlab-*'
        save_to_volume_cache kernel-d1-r1-abc ${kernelEnv} 'kernel-*' ${user}
        close_volume_cache`);
    assert.match(saved.stdout, /kept on the volume for the next droplet: jupyterlab-4\.6\.6-r1-abc/);
    assert.match(saved.stdout, /kept on the volume for the next droplet: kernel-d1-r1-abc/);

    const restoredServer = path.join(work, "restored-server");
    const restoredKernel = path.join(work, "restored-kernel");
    withLibrary(`open_volume_cache jupyterlab ${device}
        restore_from_volume_cache jupyterlab-4.6.6-r1-abc ${restoredServer}
        restore_from_volume_cache kernel-d1-r1-abc ${restoredKernel} ${user}
        if restore_from_volume_cache jupyterlab-9.9.9-r1-abc ${work}/none; then exit 1; fi
        close_volume_cache`);
    assert.equal(fs.readFileSync(path.join(restoredServer, "bin", "tool"), "utf8"), "#!/bin/sh\necho tool\n");
    assert.equal(fs.readlinkSync(path.join(restoredServer, "bin", "python")), "/usr/bin/python3");
    assert.equal(fs.statSync(path.join(restoredServer, "bin", "tool")).uid, 0);
    assert.equal(fs.statSync(path.join(restoredKernel, "bin", "tool")).uid, uid(user), "the user's environment stays the user's");
    assert.equal(fs.statSync(restoredKernel).uid, uid(user));
    assert.ok(!fs.existsSync(path.join(work, "none")), "a missing entry restores nothing");

    // A new version replaces the old entry of its kind, and leaves the other kind alone.
    const listed = withLibrary(`open_volume_cache jupyterlab ${device}
        save_to_volume_cache jupyterlab-4.7.0-r1-abc ${serverEnv} 'jupyterlab-*'
        ls "$volume_cache"; close_volume_cache`);
    assert.deepEqual(listed.stdout.trim().split("\n").slice(-2), ["jupyterlab-4.7.0-r1-abc.tar", "kernel-d1-r1-abc.tar"]);
});

test("the user's environment is read as the user: a link planted in it brings nothing of root's into the cache", () => {
    const kernelEnv = path.join(work, "planted-env");
    makeEnvironment(kernelEnv, user);
    // What notebook code can do to its own environment: point a name at a root-only file.
    execFileSync("runuser", ["-u", user, "--", "ln", "-s", "/etc/shadow", path.join(kernelEnv, "shadow")]);
    execFileSync("runuser", ["-u", user, "--", "ln", "-s", "/root", path.join(kernelEnv, "root-home")]);
    const restored = path.join(work, "planted-restored");
    withLibrary(`open_volume_cache kernel ${device}
        save_to_volume_cache kernel-planted-r1-abc ${kernelEnv} 'kernel-*' ${user}
        restore_from_volume_cache kernel-planted-r1-abc ${restored} ${user}
        close_volume_cache`);
    assert.equal(fs.readlinkSync(path.join(restored, "shadow")), "/etc/shadow", "kept as a link, never followed");
    assert.equal(fs.readlinkSync(path.join(restored, "root-home")), "/root");
});

test("a .jupyterlab-droplet the user made first is never used: a warning, and no cache", () => {
    withLibrary(`open_volume_cache x ${device}; top=$(dirname "$volume_cache"); chattr -i "$top"; rm -rf "$top"; close_volume_cache`);
    assert.equal(asUser(`mkdir -p ${notebooks}/.jupyterlab-droplet/cache && chmod 700 ${notebooks}/.jupyterlab-droplet`).status, 0);
    const { stdout, stderr } = withLibrary(`open_volume_cache jupyterlab ${device}; echo "cache=[$volume_cache]"; close_volume_cache`);
    assert.match(stdout, /^cache=\[\]$/m);
    assert.match(stderr, /warning: the volume's \.jupyterlab-droplet is not the setup's own/);
    assert.equal(fs.lstatSync(path.join(notebooks, ".jupyterlab-droplet")).uid, uid(user), "left as the user made it");
});

test("no volume device: no cache and no warning; a device that is not there: a warning, no cache", () => {
    const none = withLibrary(`open_volume_cache jupyterlab ""; echo "cache=[$volume_cache]"`);
    assert.match(none.stdout, /^cache=\[\]$/m);
    assert.equal(none.stderr, "");
    const missing = withLibrary(`open_volume_cache jupyterlab /dev/disk/by-id/scsi-0DO_Volume_none; echo "cache=[$volume_cache]"`);
    assert.match(missing.stdout, /^cache=\[\]$/m);
    assert.match(missing.stderr, /warning: no volume at/);
});

test("platform_key names the system, architecture and Python: stable here, 12 hex digits", () => {
    const first = withLibrary("platform_key").stdout.trim();
    assert.match(first, /^[0-9a-f]{12}$/);
    assert.equal(withLibrary("platform_key").stdout.trim(), first);
    const otherPython = withLibrary(`python3() { echo "3.99.0 (other)"; }; platform_key`).stdout.trim();
    assert.notEqual(otherPython, first, "another Python gives another key");
});
