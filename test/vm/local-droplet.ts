// A "local droplet": a real Debian 13 VM under qemu, prepared by cloud-init from the
// same kind of user-data a DigitalOcean droplet gets, reachable over SSH as root on a
// loopback address of its own (e.g. 127.0.0.2) through qemu's user-mode networking.
//
// The image comes in two variants of one root filesystem (see build-image.sh): OpenSSH as
// Debian ships it (ssh.service enabled), standing in for DigitalOcean's debian-13-x64, and
// OpenSSH socket-activated as Ubuntu 24.04 ships it (ssh.socket enabled, ssh.service
// disabled, no sshd.service), standing in for ubuntu-24-04-x64: there `systemctl reload ssh`
// fails until a first connection has started ssh.service, which setup code must cope with.
//
// Volumes are attached like DigitalOcean attaches them: a SCSI disk (virtio-scsi) whose
// vendor/product/device id make udev name it /dev/disk/by-id/scsi-0DO_Volume_<name>.
//
// Each qemu listens on a QMP socket in its work dir (<name>.qmp): it is how a volume grows
// while the guest runs (block_resize, seen by the guest kernel at once, as a DigitalOcean
// volume resize is) and how the guest is asked to shut down (system_powerdown: the ACPI power
// button, as DigitalOcean's `shutdown` action presses it).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open, rm, writeFile } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";

const BUILD_SCRIPT = join(__dirname, "build-image.sh");

export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface SshOptions {
    /** Login name; default "root". */
    user?: string;
    /** Extra `-o` style arguments for ssh, e.g. ["-o", "PreferredAuthentications=password"]. */
    sshArgs?: string[];
    /** Kill ssh after this long (default 30 minutes). */
    timeoutMs?: number;
    /**
     * Retry for this long while the connection fails before authentication (the command did
     * not run): sshd restarts while cloud-init regenerates host keys and writes its config.
     * Default 90 s; 0 = no retry.
     */
    retryConnectMs?: number;
}

export interface VolumeAttachment {
    /** The DigitalOcean volume name: the guest sees /dev/disk/by-id/scsi-0DO_Volume_<name>. */
    name: string;
    /** The raw disk file (see createVolumeDisk). Never deleted by stop(). */
    path: string;
}

export interface BootOptions {
    name: string;
    /** The user-data, passed to cloud-init byte for byte. */
    userData: string | Buffer;
    /** Public keys (OpenSSH one-line format) that cloud-init installs for root. */
    authorizedKeys: string[];
    /** Loopback address the forwarded ports listen on, e.g. "127.0.0.2". */
    ipv4: string;
    /** Guest TCP ports forwarded from ipv4:<port> to the guest's <port>, e.g. [22, 9000]. */
    forwardPorts: number[];
    volumes?: VolumeAttachment[];
    /** Directory for the overlay disk, the NoCloud seed and the console log. */
    workDir: string;
    memoryMb?: number;
    cpus?: number;
    /** How much lower than this process's the priority of qemu is (nice(1)), for every thread of it; default 0. */
    niceness?: number;
    /** Root disk size in GB; when larger than the image, cloud-init grows the filesystem. */
    diskGb?: number;
    /** An already built image directory (default: ensureImage()). */
    imageDir?: string;
    /**
     * How the guest's OpenSSH starts: "service" (default) as on Debian 13, "socket" as on
     * Ubuntu 24.04 (socket-activated; ssh.service runs only once a connection started it).
     */
    sshActivation?: SshActivation;
}

export interface LocalDroplet {
    readonly name: string;
    readonly ipv4: string;
    readonly consoleLogPath: string;
    readonly pid: number;
    /** Resolves once `ssh root@ipv4 true` succeeds; rejects with the console's tail on timeout. */
    waitForSsh(privateKeyPath: string, timeoutMs?: number): Promise<void>;
    ssh(privateKeyPath: string, command: string, stdin?: string | Buffer, options?: SshOptions): Promise<ExecResult>;
    /**
     * Runs `cloud-init status --wait --long` as root. Exit code 0 = done, 2 = done with
     * recoverable errors (newer cloud-init), 1 = error; `status` is the "status:" value.
     */
    waitForCloudInit(privateKeyPath?: string, timeoutMs?: number): Promise<CloudInitResult>;
    /** Reboots the guest (systemctl reboot) and waits until SSH answers from the new boot. */
    reboot(privateKeyPath?: string, timeoutMs?: number): Promise<void>;
    /**
     * Kills qemu (if it still runs) and removes the overlay disk, the seed and the QMP socket
     * (never the volume files). Works on a droplet that is already off.
     */
    stop(): Promise<void>;
    /** Whether the qemu process is still running. */
    isRunning(): boolean;
    /**
     * A graceful shutdown, as DigitalOcean's `shutdown` action: presses the guest's ACPI power
     * button (QMP system_powerdown, again every 15 s while qemu runs: a guest still booting may
     * miss it) and resolves once qemu has exited by itself after the guest powered off. Rejects,
     * with qemu still running, when that took longer than timeoutMs (default 2 minutes), and when
     * qemu ended some other way. Keeps the disks: stop() removes them.
     */
    shutdown(timeoutMs?: number): Promise<void>;
    /** Pulls the plug, as DigitalOcean's `power_off` action: ends qemu at once; keeps the disks. */
    powerOff(): Promise<void>;
    /**
     * Whether qemu exited by itself, with status 0, after the guest kernel powered off (its console
     * ends with the kernel's "reboot: Power down"): false while it runs and after it was killed.
     */
    shutDownCleanly(): boolean;
    /**
     * Grows the disk file of an attached volume (by its name) to sizeBytes, as a DigitalOcean volume
     * resize does: while qemu runs, through QMP block_resize, which grows the file and tells the
     * guest at once (its kernel rescans the SCSI disk: `lsblk -b` shows the new size); when qemu is
     * not running, the file only. Never shrinks.
     */
    growVolume(name: string, sizeBytes: number): Promise<void>;
    /** Sends one QMP command to this droplet's qemu and resolves with its `return` value. */
    qmp(execute: string, args?: Record<string, unknown>): Promise<unknown>;
}

export interface CloudInitResult extends ExecResult {
    /** "done", "error", "degraded done", ... as cloud-init reports it. */
    status: string;
}

export class MissingPrerequisiteError extends Error {
    override name = "MissingPrerequisiteError";
}

/** Fails with the Debian package to install when a tool is missing. */
export function requireTools(tools: ReadonlyArray<readonly [command: string, debianPackage: string]>): void {
    const missing = tools.filter(([command]) => spawnSync("sh", ["-c", `command -v ${command}`]).status !== 0);
    if (missing.length > 0) {
        const list = missing.map(([command, pkg]) => `'${command}' (Debian package ${pkg})`).join(", ");
        const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(" ");
        throw new MissingPrerequisiteError(`missing ${list}: apt-get install ${pkgs}`);
    }
}

export const LOCAL_DROPLET_TOOLS: ReadonlyArray<readonly [string, string]> = [
    ["qemu-system-x86_64", "qemu-system-x86"],
    ["qemu-img", "qemu-utils"],
    ["cloud-localds", "cloud-image-utils"],
    ["genisoimage", "genisoimage"],
    ["ssh", "openssh-client"],
    ["ssh-keygen", "openssh-client"],
    ["mkfs.ext4", "e2fsprogs"],
    ["debootstrap", "debootstrap"],
];

function run(
    command: string,
    args: string[],
    opts: { stdin?: string | Buffer; timeoutMs?: number; stderrTo?: "pipe" | "inherit" } = {},
): Promise<ExecResult> {
    return new Promise((resolvePromise, reject) => {
        const child = spawn(command, args, { stdio: ["pipe", "pipe", opts.stderrTo ?? "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout?.on("data", (b: Buffer) => out.push(b));
        child.stderr?.on("data", (b: Buffer) => err.push(b));
        let timer: NodeJS.Timeout | undefined;
        if (opts.timeoutMs !== undefined) {
            timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
        }
        child.on("error", (e) => {
            if (timer) clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code, signal) => {
            if (timer) clearTimeout(timer);
            resolvePromise({
                code: code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1),
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: Buffer.concat(err).toString("utf8"),
            });
        });
        child.stdin?.on("error", () => undefined); // the command may exit without reading stdin
        child.stdin?.end(opts.stdin ?? "");
    });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
    const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
    return table[signal];
}

async function checked(command: string, args: string[]): Promise<ExecResult> {
    const r = await run(command, args);
    if (r.code !== 0) {
        throw new Error(`${command} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    }
    return r;
}

/** How a local droplet's OpenSSH starts: as on Debian 13 ("service") or Ubuntu 24.04 ("socket"). */
export type SshActivation = "service" | "socket";

const IMAGE_DISKS: Record<SshActivation, string> = {
    service: "disk.raw",
    socket: "disk-ssh-socket.raw",
};

/** The root disk of an image directory (from ensureImage()) for the given OpenSSH activation. */
export function imageDisk(imageDir: string, sshActivation: SshActivation = "service"): string {
    const disk = IMAGE_DISKS[sshActivation];
    if (disk === undefined) throw new Error(`unknown sshActivation ${String(sshActivation)}: "service" or "socket"`);
    return join(imageDir, disk);
}

/**
 * Builds the test image if its recipe changed (test/vm/build-image.sh) and returns its
 * directory (vmlinuz, initrd.img and one root disk per SshActivation, see imageDisk()).
 * Progress of a build goes to this process's stderr.
 */
export async function ensureImage(): Promise<string> {
    requireTools([
        ["bash", "bash"],
        ["debootstrap", "debootstrap"],
        ["mkfs.ext4", "e2fsprogs"],
        ["flock", "util-linux"],
    ]);
    const r = await run("bash", [BUILD_SCRIPT], { stderrTo: "inherit" });
    if (r.code !== 0) throw new Error(`build-image.sh failed with exit code ${r.code}`);
    const lines = r.stdout.trim().split("\n");
    const dir = lines[lines.length - 1]?.trim() ?? "";
    const missing = (Object.keys(IMAGE_DISKS) as SshActivation[]).filter((a) => !existsSync(imageDisk(dir, a)));
    if (!dir || missing.length > 0) throw new Error(`build-image.sh printed no complete image directory: ${r.stdout}`);
    return dir;
}

export interface VolumeDiskOptions {
    path: string;
    sizeGb: number;
    /** Like DigitalOcean's initial_filesystem_type; omitted = an unformatted volume. */
    filesystemType?: "ext4" | "xfs";
    /** Like DigitalOcean's initial_filesystem_label. */
    label?: string;
}

/** Creates a sparse raw disk file, formatted the way DigitalOcean formats a new volume. */
export async function createVolumeDisk(opts: VolumeDiskOptions): Promise<void> {
    if (!(opts.sizeGb > 0)) throw new Error(`sizeGb must be positive, got ${opts.sizeGb}`);
    mkdirSync(dirname(resolve(opts.path)), { recursive: true });
    const fh = await open(opts.path, "w");
    try {
        await fh.truncate(Math.round(opts.sizeGb * 1024 ** 3));
    } finally {
        await fh.close();
    }
    if (opts.filesystemType === "ext4") {
        requireTools([["mkfs.ext4", "e2fsprogs"]]);
        const label = opts.label ? ["-L", opts.label] : [];
        await checked("mkfs.ext4", ["-q", "-F", ...label, opts.path]);
    } else if (opts.filesystemType === "xfs") {
        requireTools([["mkfs.xfs", "xfsprogs"]]);
        const label = opts.label ? ["-L", opts.label] : [];
        await checked("mkfs.xfs", ["-q", "-f", ...label, opts.path]);
    }
}

/**
 * Grows the disk file of a volume that no running qemu has open (sparse; never shrinks it). A
 * volume attached to a running local droplet grows with LocalDroplet.growVolume instead.
 */
export async function growVolumeDisk(path: string, sizeBytes: number): Promise<void> {
    if (!needsGrowing(path, sizeBytes)) return;
    const fh = await open(path, "r+");
    try {
        await fh.truncate(sizeBytes);
    } finally {
        await fh.close();
    }
}

/** Whether a volume's disk file is smaller than sizeBytes; throws if sizeBytes would shrink it. */
function needsGrowing(path: string, sizeBytes: number): boolean {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`sizeBytes must be a positive integer, got ${sizeBytes}`);
    const current = statSync(path).size;
    if (sizeBytes < current) throw new Error(`volume file ${path} has ${current} bytes; it cannot shrink to ${sizeBytes}`);
    return sizeBytes > current;
}

/** The longest path a unix socket can have (sun_path holds 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * One QMP exchange on a fresh connection: the greeting, qmp_capabilities, the command; resolves
 * with the command's `return` value (events are skipped). qemu takes one QMP client at a time.
 */
function qmpExchange(socketPath: string, execute: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<unknown> {
    return new Promise((resolvePromise, reject) => {
        const socket = createConnection(socketPath);
        let settled = false;
        let buffer = "";
        let stage: "greeting" | "capabilities" | "command" = "greeting";
        const finish = (error: Error | undefined, value?: unknown): void => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            socket.destroy();
            if (error) reject(error);
            else resolvePromise(value);
        };
        const timer = setTimeout(() => finish(new Error(`QMP ${execute}: no answer from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
        const send = (message: Record<string, unknown>): void => {
            socket.write(JSON.stringify(message) + "\n");
        };
        socket.setEncoding("utf8");
        socket.on("error", (e: NodeJS.ErrnoException) =>
            finish(Object.assign(new Error(`QMP ${execute} on ${socketPath}: ${e.message}`), { code: e.code })),
        );
        socket.on("close", () => finish(new Error(`QMP ${execute}: qemu closed ${socketPath} before answering`)));
        socket.on("data", (chunk: string) => {
            buffer += chunk;
            for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
                const line = buffer.slice(0, nl).trim();
                buffer = buffer.slice(nl + 1);
                if (line === "") continue;
                let message: Record<string, unknown>;
                try {
                    message = JSON.parse(line) as Record<string, unknown>;
                } catch {
                    finish(new Error(`QMP ${execute}: not JSON from qemu: ${line}`));
                    return;
                }
                if ("event" in message) continue;
                const error = message.error as { class?: string; desc?: string } | undefined;
                if (error !== undefined) {
                    finish(
                        new Error(
                            `QMP ${stage === "command" ? execute : "qmp_capabilities"}: ${error.class ?? "Error"}: ${error.desc ?? line}`,
                        ),
                    );
                    return;
                }
                if (stage === "greeting") {
                    if (!("QMP" in message)) {
                        finish(new Error(`QMP ${execute}: expected qemu's greeting, got ${line}`));
                        return;
                    }
                    stage = "capabilities";
                    send({ execute: "qmp_capabilities" });
                } else if (stage === "capabilities") {
                    stage = "command";
                    send(args === undefined ? { execute } : { execute, arguments: args });
                } else {
                    finish(undefined, message.return);
                    return;
                }
            }
        });
    });
}

/** A qemu this process started, until stop(); `killed` once this process ended it. */
interface RunningQemu {
    child: ChildProcess;
    cleanupPaths: string[];
    killed: boolean;
}

const running = new Map<number, RunningQemu>();
let handlersInstalled = false;

function exited(child: ChildProcess): boolean {
    return child.exitCode !== null || child.signalCode !== null;
}

function killAllSync(): void {
    for (const [pid, entry] of running) {
        try {
            // A qemu that exited by itself (its pid may be someone else's by now) is left alone.
            if (!exited(entry.child)) process.kill(pid, "SIGKILL");
        } catch {
            // already gone
        }
        for (const p of entry.cleanupPaths) rmSync(p, { force: true });
    }
    running.clear();
}

function installExitHandlers(): void {
    if (handlersInstalled) return;
    handlersInstalled = true;
    process.on("exit", killAllSync);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(sig, () => {
            killAllSync();
            process.kill(process.pid, sig);
        });
    }
}

/** Stops every local droplet this process started (for after() hooks). */
export async function stopAllLocalDroplets(): Promise<void> {
    const entries = [...running.keys()];
    await Promise.all(entries.map((pid) => stopPid(pid)));
}

/** Ends a qemu this process started, if it still runs (SIGTERM, then SIGKILL after 10 s). */
async function killPid(pid: number): Promise<void> {
    const entry = running.get(pid);
    if (!entry) return;
    const { child } = entry;
    if (!exited(child)) {
        entry.killed = true;
        const gone = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await gone;
        clearTimeout(timer);
    }
}

async function stopPid(pid: number): Promise<void> {
    const entry = running.get(pid);
    if (!entry) return;
    await killPid(pid);
    running.delete(pid);
    await Promise.all(entry.cleanupPaths.map((p) => rm(p, { force: true })));
}

function sshArgs(ipv4: string, privateKeyPath: string, user: string, extra: string[]): string[] {
    return [
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "LogLevel=ERROR",
        "-i",
        privateKeyPath,
        ...extra,
        `${user}@${ipv4}`,
    ];
}

function metaData(name: string, instanceId: string, keys: string[]): string {
    // YAML with JSON-quoted strings (JSON is YAML): no escaping surprises in keys or names.
    const lines = [
        `instance-id: ${JSON.stringify(instanceId)}`,
        `local-hostname: ${JSON.stringify(name)}`,
        "public-keys:",
        ...keys.map((k) => `  - ${JSON.stringify(k.trim())}`),
    ];
    return lines.join("\n") + "\n";
}

// ssh failed before authentication, so the command did not run (safe to retry).
const PRE_AUTH_FAILURE = /kex_exchange_identification|banner exchange|connect to host .* (Connection refused|Connection timed out)/;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tail(path: string, lines: number): string {
    try {
        return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
        return "(no console log)";
    }
}

function accelArgs(): string[] {
    // KVM does not boot a guest on this kind of machine (nested virtualisation); TCG does.
    if (process.env.LOCAL_DROPLET_ACCEL === "kvm") return ["-accel", "kvm", "-cpu", "host"];
    // qemu64, not max: with max the guest's libraries pick AVX2 and SSE4.2 code paths, which TCG
    // emulates slowly. Measured on one booted droplet, the same work ran 8-25% faster on qemu64
    // (300 fork-and-exec: 11.6 s against 13.7-14.1; a Python venv: 40 s against 43.6; a sha256
    // loop: 8 s against 11). Debian and the wheels a droplet installs need no more than x86-64.
    return ["-accel", "tcg", "-cpu", "qemu64"];
}

/** Boots a local droplet. Call stop() (or stopAllLocalDroplets()) when done. */
/** How far a guest's kernel got, from its console: running init, panicked, or neither yet. */
export function kernelStage(consoleText: string): "init" | "panic" | "booting" {
    if (/Kernel panic/.test(consoleText)) return "panic";
    if (/Run \/(s?bin\/)?init as init process|systemd\[1\]:/.test(consoleText)) return "init";
    return "booting";
}

/**
 * Waits until the guest's kernel has started init, or panicked. Under TCG emulation the guest
 * kernel very rarely panics in its first second ("Attempted to kill the idle task"), which no
 * cloud droplet does: the caller boots such a guest again. Gives up waiting after timeoutMs.
 */
export async function waitForKernel(droplet: LocalDroplet, timeoutMs = 180_000): Promise<"init" | "panic" | "booting"> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const stage = kernelStage(readFileSync(droplet.consoleLogPath, "utf8"));
        if (stage !== "booting" || Date.now() >= deadline || !droplet.isRunning()) return stage;
        await sleep(1000);
    }
}

export async function bootLocalDroplet(opts: BootOptions): Promise<LocalDroplet> {
    requireTools(LOCAL_DROPLET_TOOLS.filter(([c]) => c !== "debootstrap"));
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(opts.ipv4)) {
        throw new Error(`ipv4 must be a loopback address (127.0.0.0/8), got ${opts.ipv4}`);
    }
    if (!/^[a-z0-9][a-z0-9.-]*$/i.test(opts.name)) throw new Error(`invalid droplet name ${opts.name}`);
    const volumes = opts.volumes ?? [];
    for (const v of volumes) {
        // DigitalOcean volume names: lowercase letters, digits and dashes.
        if (!/^[a-z0-9][a-z0-9-]*$/.test(v.name)) throw new Error(`invalid volume name ${v.name}`);
        if (!existsSync(v.path)) throw new Error(`volume file ${v.path} does not exist`);
    }
    const imageDir = opts.imageDir ?? (await ensureImage());
    const backingDisk = imageDisk(imageDir, opts.sshActivation);
    if (!existsSync(backingDisk)) throw new Error(`image disk ${backingDisk} does not exist (an image built before it had this variant?)`);
    const workDir = resolve(opts.workDir);
    mkdirSync(workDir, { recursive: true });

    const overlay = join(workDir, `${opts.name}.qcow2`);
    const seedDir = join(workDir, `${opts.name}-seed`);
    const seed = join(workDir, `${opts.name}-seed.iso`);
    const consoleLogPath = join(workDir, `${opts.name}-console.log`);
    const qmpPath = join(workDir, `${opts.name}.qmp`);
    if (Buffer.byteLength(qmpPath) > MAX_SOCKET_PATH) {
        throw new Error(`the QMP socket path ${qmpPath} is longer than ${MAX_SOCKET_PATH} bytes: use a shorter workDir or name`);
    }
    rmSync(qmpPath, { force: true });

    // Copy-on-write overlay: the cached image stays untouched.
    const size = opts.diskGb !== undefined ? [`${opts.diskGb}G`] : [];
    await checked("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", backingDisk, overlay, ...size]);

    // NoCloud seed: user-data byte for byte, meta-data with the keys for root.
    mkdirSync(seedDir, { recursive: true });
    const instanceId = `i-${opts.name}-${randomBytes(4).toString("hex")}`;
    await writeFile(join(seedDir, "user-data"), opts.userData);
    await writeFile(join(seedDir, "meta-data"), metaData(opts.name, instanceId, opts.authorizedKeys));
    await checked("cloud-localds", [seed, join(seedDir, "user-data"), join(seedDir, "meta-data")]);
    rmSync(seedDir, { recursive: true, force: true });
    writeFileSync(consoleLogPath, "");

    const hostfwd = opts.forwardPorts.map((p) => `,hostfwd=tcp:${opts.ipv4}:${p}-:${p}`).join("");
    const args = [
        "-name",
        opts.name,
        "-machine",
        "pc",
        ...accelArgs(),
        "-smp",
        String(opts.cpus ?? 2),
        "-m",
        String(opts.memoryMb ?? 2048),
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-serial",
        `file:${consoleLogPath}`,
        "-qmp",
        `unix:${qmpPath},server=on,wait=off`,
        "-kernel",
        join(imageDir, "vmlinuz"),
        "-initrd",
        join(imageDir, "initrd.img"),
        "-append",
        "root=/dev/vda rw console=ttyS0 net.ifnames=0",
        // cache=unsafe: the guest's flushes never reach this machine's disk. A test droplet is
        // thrown away, never recovered from a crash, and under emulation every fsync waits.
        "-drive",
        `file=${overlay},if=none,id=root,format=qcow2,discard=unmap,cache=unsafe`,
        "-device",
        "virtio-blk-pci,drive=root",
        "-drive",
        `file=${seed},if=none,id=seed,format=raw,readonly=on`,
        "-device",
        "virtio-blk-pci,drive=seed",
        "-netdev",
        `user,id=net0${hostfwd}`,
        "-device",
        "virtio-net-pci,netdev=net0",
        "-device",
        "virtio-rng-pci",
    ];
    if (volumes.length > 0) args.push("-device", "virtio-scsi-pci,id=scsi0");
    volumes.forEach((v, i) => {
        // udev names a SCSI disk by its VPD page 0x83 id: "0" + vendor + product + device_id,
        // whitespace collapsed to "_": scsi-0DO_Volume_<name>, as on DigitalOcean.
        args.push(
            "-drive",
            `file=${resolve(v.path)},if=none,id=vol${i},format=raw,cache=unsafe`,
            "-device",
            `scsi-hd,bus=scsi0.0,channel=0,scsi-id=${i},lun=0,drive=vol${i},vendor=DO,product=Volume,serial=${v.name.slice(0, 20)},device_id=${v.name}`,
        );
    });

    // setpriv --pdeathsig: qemu dies with this process even when it is killed hard.
    const usePdeath = spawnSync("sh", ["-c", "setpriv --help 2>/dev/null | grep -q pdeathsig"]).status === 0;
    // nice before exec: every thread qemu starts (one per vCPU) inherits it.
    const command = [...(usePdeath ? ["setpriv", "--pdeathsig", "KILL", "--"] : []), "qemu-system-x86_64", ...args];
    const child = spawn("nice", ["-n", String(opts.niceness ?? 0), ...command], { stdio: ["ignore", "ignore", "pipe"] });
    const stderrChunks: Buffer[] = [];
    child.stderr?.on("data", (b: Buffer) => stderrChunks.push(b));
    const pid = child.pid;
    if (pid === undefined) throw new Error("qemu did not start");
    installExitHandlers();
    const entry: RunningQemu = { child, cleanupPaths: [overlay, seed, qmpPath], killed: false };
    running.set(pid, entry);
    // A forgotten droplet must not keep this process alive: when it exits, the exit
    // handler (and setpriv's parent-death signal) ends qemu.
    child.unref();
    (child.stderr as Socket | null)?.unref();

    // Fail early if qemu refuses its arguments.
    await sleep(500);
    if (child.exitCode !== null) {
        running.delete(pid);
        throw new Error(`qemu exited at once (${child.exitCode}): ${Buffer.concat(stderrChunks).toString("utf8")}`);
    }

    let lastKey: string | undefined;
    const isRunning = () => !exited(child);
    const hasExited = new Promise<void>((r) => {
        if (exited(child)) r();
        else child.once("exit", () => r());
    });
    const qemuError = () =>
        `qemu is not running (exit ${child.exitCode ?? child.signalCode}): ${Buffer.concat(stderrChunks).toString("utf8")}\n--- console ---\n${tail(consoleLogPath, 40)}`;

    const ssh = async (privateKeyPath: string, command: string, stdin?: string | Buffer, options: SshOptions = {}): Promise<ExecResult> => {
        const retryUntil = Date.now() + (options.retryConnectMs ?? 90_000);
        for (;;) {
            const r = await run("ssh", [...sshArgs(opts.ipv4, privateKeyPath, options.user ?? "root", options.sshArgs ?? []), command], {
                stdin,
                timeoutMs: options.timeoutMs ?? 30 * 60_000,
            });
            if (!(r.code === 255 && PRE_AUTH_FAILURE.test(r.stderr)) || Date.now() >= retryUntil || !isRunning()) return r;
            await sleep(2_000);
        }
    };

    const pollSsh = async (privateKeyPath: string, timeoutMs: number, accept: (r: ExecResult) => boolean): Promise<ExecResult> => {
        const deadline = Date.now() + timeoutMs;
        let last: ExecResult | undefined;
        while (Date.now() < deadline) {
            if (!isRunning()) throw new Error(qemuError());
            last = await ssh(privateKeyPath, "cat /proc/sys/kernel/random/boot_id", undefined, { timeoutMs: 20_000, retryConnectMs: 0 });
            if (last.code === 0 && accept(last)) return last;
            await sleep(2_000);
        }
        throw new Error(
            `no SSH to root@${opts.ipv4} after ${timeoutMs} ms (last: ${last?.code} ${last?.stderr.trim()})\n--- console ---\n${tail(consoleLogPath, 40)}`,
        );
    };

    // One QMP exchange at a time (qemu serves one client at a time anyway). Right after the
    // spawn the socket may not be listening yet: retry connecting for a few seconds.
    let qmpQueue: Promise<unknown> = Promise.resolve();
    const qmp = (execute: string, args?: Record<string, unknown>): Promise<unknown> => {
        const exchange = async (): Promise<unknown> => {
            const retryUntil = Date.now() + 5_000;
            for (;;) {
                if (!isRunning()) throw new Error(`QMP ${execute}: ${qemuError()}`);
                try {
                    return await qmpExchange(qmpPath, execute, args, 30_000);
                } catch (e) {
                    const code = (e as NodeJS.ErrnoException).code;
                    if (!(code === "ENOENT" || code === "ECONNREFUSED") || Date.now() >= retryUntil) throw e;
                    await sleep(200);
                }
            }
        };
        const result = qmpQueue.then(exchange, exchange);
        qmpQueue = result.catch(() => undefined);
        return result;
    };

    const shutDownCleanly = (): boolean =>
        child.exitCode === 0 && child.signalCode === null && !entry.killed && /reboot: Power down/.test(tail(consoleLogPath, 5));

    const droplet: LocalDroplet = {
        name: opts.name,
        ipv4: opts.ipv4,
        consoleLogPath,
        pid,
        isRunning,
        ssh,
        async waitForSsh(privateKeyPath, timeoutMs = 10 * 60_000) {
            lastKey = privateKeyPath;
            await pollSsh(privateKeyPath, timeoutMs, () => true);
        },
        async waitForCloudInit(privateKeyPath = lastKey, timeoutMs = 30 * 60_000) {
            if (!privateKeyPath) throw new Error("waitForCloudInit() needs a private key (or call waitForSsh first)");
            const r = await ssh(privateKeyPath, "cloud-init status --wait --long", undefined, { timeoutMs });
            const status = /^status:\s*(.+)$/m.exec(r.stdout)?.[1]?.trim() ?? "unknown";
            return { ...r, status };
        },
        async reboot(privateKeyPath = lastKey, timeoutMs = 10 * 60_000) {
            if (!privateKeyPath) throw new Error("reboot() needs a private key (or call waitForSsh first)");
            const before = await ssh(privateKeyPath, "cat /proc/sys/kernel/random/boot_id");
            if (before.code !== 0) throw new Error(`cannot read boot id before reboot: ${before.stderr}`);
            // The connection may drop before ssh reports an exit code: ignore it.
            await ssh(privateKeyPath, "systemctl reboot", undefined, { timeoutMs: 30_000 });
            await pollSsh(privateKeyPath, timeoutMs, (r) => r.stdout.trim() !== before.stdout.trim());
        },
        async stop() {
            await stopPid(pid);
        },
        qmp,
        async shutdown(timeoutMs = 120_000) {
            const started = Date.now();
            while (isRunning() && Date.now() - started < timeoutMs) {
                try {
                    await qmp("system_powerdown");
                } catch (e) {
                    // qemu may exit while answering; anything else is a real failure.
                    if (isRunning()) throw e;
                    break;
                }
                await settledWithin(hasExited, Math.min(15_000, timeoutMs - (Date.now() - started)));
            }
            if (isRunning()) {
                throw new Error(
                    `the guest of ${opts.name} did not power off within ${timeoutMs} ms of the ACPI power button; qemu still runs\n` +
                        `--- console ---\n${tail(consoleLogPath, 20)}`,
                );
            }
            if (!shutDownCleanly()) throw new Error(`${opts.name} did not shut down cleanly: ${qemuError()}`);
        },
        async powerOff() {
            await killPid(pid);
        },
        shutDownCleanly,
        async growVolume(name, sizeBytes) {
            const index = volumes.findIndex((v) => v.name === name);
            const volume = volumes[index];
            if (volume === undefined) throw new Error(`${opts.name} has no volume ${name} attached`);
            const file = resolve(volume.path);
            if (!needsGrowing(file, sizeBytes)) return;
            if (isRunning()) {
                try {
                    // qemu truncates the raw file itself and reports the new capacity to the guest.
                    await qmp("block_resize", { device: `vol${index}`, size: sizeBytes });
                    return;
                } catch (e) {
                    if (isRunning()) throw e;
                }
            }
            await growVolumeDisk(file, sizeBytes);
        },
    };
    return droplet;
}

/** Resolves when the promise settles or after ms, whichever comes first (no timer left behind). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
        promise.then(
            () => undefined,
            () => undefined,
        ),
        new Promise<void>((r) => {
            timer = setTimeout(r, Math.max(0, ms));
        }),
    ]);
    clearTimeout(timer);
}
