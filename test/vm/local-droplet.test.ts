// Boots a local droplet (Debian 13 under qemu) with a small cloud-config of this test's
// own, and checks that it behaves like a DigitalOcean droplet: root logs in with the key,
// cloud-init runs the user-data, a volume shows up at /dev/disk/by-id/scsi-0DO_Volume_<name>,
// password logins are refused, it survives a reboot, a volume grown while it runs shows its new
// size in the guest at once, a graceful shutdown (the ACPI power button) ends with qemu exiting
// by itself and what was written to the volume on it, and stop() leaves no qemu behind.
// Then boots the image's Ubuntu 24.04 stand-in (sshActivation "socket") and checks that its
// ssh is socket-activated the way Ubuntu 24.04's is.
//
// Run: node --import tsx --test test/vm/local-droplet.test.ts   (as root; takes a few minutes)

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
    LOCAL_DROPLET_TOOLS,
    bootLocalDroplet,
    createVolumeDisk,
    ensureImage,
    requireTools,
    stopAllLocalDroplets,
    type LocalDroplet,
} from "./local-droplet";

const VOLUME = "notebooks";
const IPV4 = "127.0.0.2";
const GIB = 1024 ** 3;

function seconds(since: number): string {
    return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

function processExists(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

let workDir = "";
let key = "";
let imageDir = "";
let droplet: LocalDroplet | undefined;

before(() => {
    // A missing tool fails the test with the package to install; it never skips.
    requireTools([...LOCAL_DROPLET_TOOLS, ["setpriv", "util-linux"]]);
    workDir = mkdtempSync(join(tmpdir(), "local-droplet-test-"));
    key = join(workDir, "id_ed25519");
    const kg = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "local-droplet-test", "-f", key]);
    assert.equal(kg.status, 0, `ssh-keygen failed: ${kg.stderr?.toString()}`);
});

after(async () => {
    await stopAllLocalDroplets();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test("image builds (or comes from the cache)", { timeout: 40 * 60_000 }, async () => {
    const t0 = Date.now();
    imageDir = await ensureImage();
    console.log(`phase image: ${seconds(t0)} (${imageDir})`);
    // A second call must come from the cache, quickly.
    const t1 = Date.now();
    assert.equal(await ensureImage(), imageDir);
    console.log(`phase image (cached): ${seconds(t1)}`);
    assert.ok(Date.now() - t1 < 30_000, "a cached image must not be rebuilt");
});

test("a local droplet boots, runs its user-data and behaves like a droplet", { timeout: 30 * 60_000 }, async (t) => {
    assert.ok(imageDir, "image test must run first");
    const publicKey = spawnSync("ssh-keygen", ["-y", "-f", key]).stdout.toString().trim();

    const volumePath = join(workDir, `${VOLUME}.raw`);
    await createVolumeDisk({ path: volumePath, sizeGb: 1, filesystemType: "ext4", label: VOLUME });

    const userData = [
        "#cloud-config",
        "write_files:",
        "  - path: /etc/local-droplet-test",
        "    content: |",
        "      written by cloud-init",
        "    permissions: '0644'",
        "users:",
        "  - name: alice",
        "    shell: /bin/bash",
        "",
    ].join("\n");

    const t0 = Date.now();
    droplet = await bootLocalDroplet({
        name: "test-droplet",
        userData,
        authorizedKeys: [publicKey],
        ipv4: IPV4,
        forwardPorts: [22],
        volumes: [{ name: VOLUME, path: volumePath }],
        workDir,
        imageDir,
    });
    const d = droplet;
    t.diagnostic(`console log: ${d.consoleLogPath}`);

    await d.waitForSsh(key, 10 * 60_000);
    console.log(`phase boot to SSH: ${seconds(t0)}`);

    const status = await d.waitForCloudInit(key);
    console.log(`phase cloud-init done: ${seconds(t0)} (exit ${status.code}, status ${status.status})`);
    assert.ok(status.code === 0 || status.code === 2, `cloud-init status: ${status.code}\n${status.stdout}\n${status.stderr}`);
    assert.equal(status.status, "done");

    await t.test("root logs in with the key and the user-data ran", async () => {
        const who = await d.ssh(key, "id -un; hostname; cat /etc/local-droplet-test; id alice");
        assert.equal(who.code, 0, who.stderr);
        const [user, host, content, alice] = who.stdout.split("\n");
        assert.equal(user, "root");
        assert.equal(host, "test-droplet");
        assert.equal(content, "written by cloud-init");
        assert.match(alice ?? "", /uid=\d+\(alice\)/);
    });

    await t.test("user-data reached the guest byte for byte", async () => {
        const ud = await d.ssh(key, "cat /var/lib/cloud/instance/user-data.txt");
        assert.equal(ud.code, 0, ud.stderr);
        assert.equal(ud.stdout, userData);
    });

    await t.test(`the volume is at /dev/disk/by-id/scsi-0DO_Volume_${VOLUME} with its label`, async () => {
        const dev = `/dev/disk/by-id/scsi-0DO_Volume_${VOLUME}`;
        const r = await d.ssh(key, `udevadm settle; blkid -o export ${dev}; ls /dev/disk/by-id/`);
        assert.equal(r.code, 0, r.stderr);
        t.diagnostic(
            `by-id: ${r.stdout
                .split("\n")
                .filter((l) => !l.includes("="))
                .join(" ")}`,
        );
        assert.match(r.stdout, /^TYPE=ext4$/m);
        assert.match(r.stdout, new RegExp(`^LABEL=${VOLUME}$`, "m"));
        const m = await d.ssh(key, `mkdir -p /mnt/v && mount ${dev} /mnt/v && echo hi > /mnt/v/x && cat /mnt/v/x && umount /mnt/v`);
        assert.equal(m.code, 0, m.stderr);
        assert.equal(m.stdout, "hi\n");
    });

    await t.test("no unit failed to start (the network came up with DHCP)", async () => {
        const r = await d.ssh(
            key,
            "systemctl is-system-running --wait; systemctl --failed --no-legend --plain; ip -4 -o addr show dev eth0",
        );
        assert.match(r.stdout, /^running\n/, `${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /inet 10\.0\.2\.15\//);
    });

    await t.test("ssh runs as ssh.service (alias sshd.service), as on Debian 13", async () => {
        const r = await d.ssh(
            key,
            "systemctl is-enabled ssh.service ssh.socket; systemctl is-active ssh.service; systemctl cat sshd.service >/dev/null && echo has-sshd",
        );
        assert.deepEqual(r.stdout.trim().split("\n"), ["enabled", "disabled", "active", "has-sshd"], r.stderr);
    });

    await t.test("password logins are refused (only publickey is offered)", async () => {
        const r = await d.ssh(key, "true", undefined, {
            sshArgs: ["-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no"],
        });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /Permission denied \(publickey\)/);
    });

    await t.test("it comes back after a reboot", async () => {
        const t1 = Date.now();
        await d.reboot(key);
        console.log(`phase reboot to SSH: ${seconds(t1)}`);
        const r = await d.ssh(key, "cat /etc/local-droplet-test && cloud-init status --wait");
        assert.equal(r.stdout.split("\n")[0], "written by cloud-init");
    });

    await t.test("a volume grown while the droplet runs shows its new size in the guest at once", async () => {
        const dev = `/dev/disk/by-id/scsi-0DO_Volume_${VOLUME}`;
        const before = await d.ssh(key, `lsblk -bdno SIZE ${dev}`);
        assert.equal(before.stdout.trim(), String(1 * GIB), before.stderr);
        const t1 = Date.now();
        await d.growVolume(VOLUME, 2 * GIB);
        assert.equal(statSync(volumePath).size, 2 * GIB, "qemu grew the disk file");
        // The guest kernel rescans the SCSI disk when qemu reports its capacity changed.
        let seen = "";
        for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
            seen = (await d.ssh(key, `lsblk -bdno SIZE ${dev}`)).stdout.trim();
            if (seen === String(2 * GIB)) break;
            await new Promise((r) => setTimeout(r, 1000));
        }
        console.log(`phase volume grow seen in the guest: ${seconds(t1)}`);
        assert.equal(seen, String(2 * GIB), "lsblk in the guest shows the grown volume");
        const dmesg = await d.ssh(key, "dmesg | grep -i 'capacity change' | tail -n 1");
        t.diagnostic(`guest kernel: ${dmesg.stdout.trim()}`);
        await assert.rejects(d.growVolume(VOLUME, 1 * GIB), /cannot shrink/);
    });

    await t.test("a graceful shutdown ends with qemu exiting by itself, and what was written reaches the volume", async () => {
        // Written to the page cache only (no sync): a droplet deleted while running would lose it.
        const w = await d.ssh(
            key,
            `mount /dev/disk/by-id/scsi-0DO_Volume_${VOLUME} /mnt/v && echo saved-before-shutdown > /mnt/v/unflushed`,
        );
        assert.equal(w.code, 0, w.stderr);
        const pid = d.pid;
        const t1 = Date.now();
        await d.shutdown(3 * 60_000);
        console.log(`phase graceful shutdown (qemu exited by itself): ${seconds(t1)}`);
        assert.equal(d.isRunning(), false);
        assert.equal(processExists(pid), false, `qemu (pid ${pid}) still runs`);
        assert.equal(d.shutDownCleanly(), true);
        const read = spawnSync("debugfs", ["-R", "cat /unflushed", volumePath]);
        assert.equal(read.stdout.toString(), "saved-before-shutdown\n", read.stderr.toString());
        // With qemu gone, a volume grows as a file.
        await d.growVolume(VOLUME, 3 * GIB);
        assert.equal(statSync(volumePath).size, 3 * GIB);
    });

    await t.test("stop() on a droplet that is off removes the overlay, not the volume", async () => {
        await d.stop();
        assert.equal(d.isRunning(), false);
        assert.equal(d.shutDownCleanly(), true, "stop() after the shutdown killed nothing");
        const left = spawnSync("ls", [workDir]).stdout.toString();
        assert.doesNotMatch(left, /\.qcow2|\.qmp/);
        assert.match(left, new RegExp(`${VOLUME}\\.raw`));
    });
});

test("the socket variant boots with ssh socket-activated as on Ubuntu 24.04", { timeout: 30 * 60_000 }, async (t) => {
    assert.ok(imageDir, "image test must run first");
    const publicKey = spawnSync("ssh-keygen", ["-y", "-f", key]).stdout.toString().trim();
    const t0 = Date.now();
    const d = await bootLocalDroplet({
        name: "test-droplet-socket",
        userData: "#cloud-config\nwrite_files:\n  - path: /etc/local-droplet-test\n    content: socket variant\n",
        authorizedKeys: [publicKey],
        ipv4: IPV4,
        forwardPorts: [22],
        workDir,
        imageDir,
        sshActivation: "socket",
    });
    t.diagnostic(`console log: ${d.consoleLogPath}`);
    await d.waitForSsh(key, 10 * 60_000);
    console.log(`phase boot to SSH (socket variant): ${seconds(t0)}`);
    const status = await d.waitForCloudInit(key);
    console.log(`phase cloud-init done (socket variant): ${seconds(t0)} (exit ${status.code}, status ${status.status})`);
    assert.equal(status.code, 0, `${status.stdout}\n${status.stderr}`);
    assert.equal(status.status, "done");

    // Connecting has started ssh.service by now, so what the guest had before its first
    // connection shows in what is enabled: the socket, not the service.
    const units = await d.ssh(key, "systemctl is-enabled ssh.socket ssh.service; systemctl is-active ssh.socket");
    assert.deepEqual(units.stdout.trim().split("\n"), ["enabled", "disabled", "active"], units.stderr);
    const sshd = await d.ssh(key, "systemctl cat sshd.service");
    assert.notEqual(sshd.code, 0, `sshd.service must not exist: ${sshd.stdout}`);

    // With ssh.service stopped (as before the first connection; this session survives it),
    // `systemctl reload ssh` fails as on Ubuntu 24.04, and the next connection starts it again.
    const reload = await d.ssh(key, "systemctl stop ssh.service; systemctl is-active ssh.service; systemctl reload ssh; echo reload=$?");
    assert.match(reload.stdout, /^inactive\nreload=[1-9]/, reload.stderr);
    assert.match(reload.stderr, /ssh\.service is not active/);
    const again = await d.ssh(key, "systemctl is-active ssh.service");
    assert.equal(again.stdout.trim(), "active", again.stderr);

    // stop() on a running droplet kills qemu: that is no clean shutdown.
    const pid = d.pid;
    await d.stop();
    assert.equal(processExists(pid), false, `qemu (pid ${pid}) still runs`);
    assert.equal(d.shutDownCleanly(), false);
});
