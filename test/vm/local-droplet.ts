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

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open, rm, writeFile } from "node:fs/promises";
import type { Socket } from "node:net";
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
  /** Kills qemu and removes the overlay disk and seed (never the volume files). */
  stop(): Promise<void>;
  /** Whether the qemu process is still running. */
  isRunning(): boolean;
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

function run(command: string, args: string[], opts: { stdin?: string | Buffer; timeoutMs?: number; stderrTo?: "pipe" | "inherit" } = {}): Promise<ExecResult> {
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
  requireTools([["bash", "bash"], ["debootstrap", "debootstrap"], ["mkfs.ext4", "e2fsprogs"], ["flock", "util-linux"]]);
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

const running = new Map<number, { child: ChildProcess; cleanupPaths: string[] }>();
let handlersInstalled = false;

function killAllSync(): void {
  for (const [pid, entry] of running) {
    try {
      process.kill(pid, "SIGKILL");
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

async function stopPid(pid: number): Promise<void> {
  const entry = running.get(pid);
  if (!entry) return;
  const { child } = entry;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
  running.delete(pid);
  await Promise.all(entry.cleanupPaths.map((p) => rm(p, { force: true })));
}

function sshArgs(ipv4: string, privateKeyPath: string, user: string, extra: string[]): string[] {
  return [
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "ConnectTimeout=10",
    "-o", "ServerAliveInterval=15",
    "-o", "LogLevel=ERROR",
    "-i", privateKeyPath,
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
  return ["-accel", "tcg", "-cpu", "max"];
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
    "-name", opts.name,
    "-machine", "pc",
    ...accelArgs(),
    "-smp", String(opts.cpus ?? 2),
    "-m", String(opts.memoryMb ?? 2048),
    "-nodefaults", "-no-user-config",
    "-display", "none",
    "-serial", `file:${consoleLogPath}`,
    "-kernel", join(imageDir, "vmlinuz"),
    "-initrd", join(imageDir, "initrd.img"),
    "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0",
    "-drive", `file=${overlay},if=none,id=root,format=qcow2,discard=unmap`,
    "-device", "virtio-blk-pci,drive=root",
    "-drive", `file=${seed},if=none,id=seed,format=raw,readonly=on`,
    "-device", "virtio-blk-pci,drive=seed",
    "-netdev", `user,id=net0${hostfwd}`,
    "-device", "virtio-net-pci,netdev=net0",
    "-device", "virtio-rng-pci",
  ];
  if (volumes.length > 0) args.push("-device", "virtio-scsi-pci,id=scsi0");
  volumes.forEach((v, i) => {
    // udev names a SCSI disk by its VPD page 0x83 id: "0" + vendor + product + device_id,
    // whitespace collapsed to "_": scsi-0DO_Volume_<name>, as on DigitalOcean.
    args.push(
      "-drive", `file=${resolve(v.path)},if=none,id=vol${i},format=raw`,
      "-device", `scsi-hd,bus=scsi0.0,channel=0,scsi-id=${i},lun=0,drive=vol${i},vendor=DO,product=Volume,serial=${v.name.slice(0, 20)},device_id=${v.name}`,
    );
  });

  // setpriv --pdeathsig: qemu dies with this process even when it is killed hard.
  const usePdeath = spawnSync("sh", ["-c", "setpriv --help 2>/dev/null | grep -q pdeathsig"]).status === 0;
  const child = usePdeath
    ? spawn("setpriv", ["--pdeathsig", "KILL", "--", "qemu-system-x86_64", ...args], { stdio: ["ignore", "ignore", "pipe"] })
    : spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
  const stderrChunks: Buffer[] = [];
  child.stderr?.on("data", (b: Buffer) => stderrChunks.push(b));
  const pid = child.pid;
  if (pid === undefined) throw new Error("qemu did not start");
  installExitHandlers();
  running.set(pid, { child, cleanupPaths: [overlay, seed] });
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
  const isRunning = () => child.exitCode === null && child.signalCode === null;
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
  };
  return droplet;
}
