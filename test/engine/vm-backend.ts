// The stand-in's backend for the engine tests: every droplet is a real local droplet (a qemu VM
// booted with the user-data the provider sent), every volume a disk file formatted the way
// DigitalOcean formats a new volume. A droplet's public IPv4 is the loopback address its SSH
// and Jupyter ports are forwarded on. A reserved IP is another loopback address whose same
// ports a forwarder process sends to the droplet it is assigned to, as DigitalOcean's network does.
// The `shutdown` droplet action presses the VM's ACPI power button and waits for qemu to exit by
// itself, `power_off` pulls the plug; each deleted droplet is remembered with whether it was shut
// down cleanly first (deletedDroplets()). A volume resize grows the disk file through the qemu
// that has it open (QMP block_resize), so the guest sees the new size live, as on DigitalOcean.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { DropletSpec, LocalCloudBackend, VolumeSpec } from "../standin/do-api";
import { bootLocalDroplet, createVolumeDisk, ensureImage, growVolumeDisk, LocalDroplet, waitForKernel } from "../vm/local-droplet";

/**
 * The image slugs the local cloud boots, and how each one's ssh starts: debian-13-x64 is the
 * test image itself; ubuntu-24-04-x64 is the same image with ssh socket-activated as on Ubuntu
 * 24.04 (Ubuntu's archive is not reachable here), the one difference that breaks setups there.
 */
const IMAGES: Record<string, "service" | "socket"> = {
    "debian-13-x64": "service",
    "ubuntu-24-04-x64": "socket",
};

export interface VmBackendOptions {
    workDir: string;
    /** Guest ports forwarded besides SSH, e.g. the Jupyter port. */
    forwardPorts: number[];
    /** Loopback addresses handed out in turn, e.g. ["127.0.1.1", "127.0.1.2", ...]. */
    addresses: string[];
    /** Loopback addresses handed out as reserved IPs, e.g. ["127.0.2.1", ...]. */
    reservedAddresses?: string[];
    /** The DNS server the zones' A records are served from (as DigitalOcean's name servers serve them). */
    dns?: { setA(name: string, address: string): Promise<void>; clearA(name: string): Promise<void> };
    /**
     * How long the `shutdown` action waits for a guest to power off before it fails (the droplet
     * then stays active, as DigitalOcean's best-effort shutdown leaves it). Defaults to 5 minutes.
     */
    shutdownTimeoutMs?: number;
    /** How much lower than this process's the priority of the droplets' VMs is (nice(1)); default 0. */
    niceness?: number;
    log?: (line: string) => void;
}

/** A droplet the API deleted, and whether its VM had been shut down cleanly before that. */
export interface DeletedDroplet {
    id: number;
    name: string;
    /** qemu had exited by itself after the guest powered off (a `shutdown`); false if it was killed. */
    shutDownCleanly: boolean;
}

/** A reserved IP's forwarder to the droplet it is assigned to. */
interface ReservedRoute {
    dropletId: number;
    forwarder: ChildProcess;
}

export class VmBackend implements LocalCloudBackend {
    private readonly droplets = new Map<number, LocalDroplet>();
    private readonly volumeFiles = new Map<string, { name: string; file: string }>();
    /** Volume id -> the droplet whose qemu has its disk file open (from its boot until it is deleted). */
    private readonly volumeHolders = new Map<string, number>();
    private readonly deleted: DeletedDroplet[] = [];
    private readonly freeAddresses: string[];
    private readonly freeReservedAddresses: string[];
    private readonly reservedRoutes = new Map<string, ReservedRoute>();
    private imageDir?: string;

    constructor(private readonly options: VmBackendOptions) {
        this.freeAddresses = [...options.addresses];
        this.freeReservedAddresses = [...(options.reservedAddresses ?? [])];
        fs.mkdirSync(options.workDir, { recursive: true });
    }

    private log(line: string): void {
        (this.options.log ?? ((l: string) => process.stderr.write(`[vm-backend] ${l}\n`)))(line);
    }

    async createVolume(v: VolumeSpec): Promise<void> {
        if (v.filesystemType !== undefined && v.filesystemType !== "ext4") {
            throw new Error(`the local cloud formats volumes as ext4 only, not ${v.filesystemType}`);
        }
        const file = path.join(this.options.workDir, `volume-${v.id}.raw`);
        await createVolumeDisk({
            path: file,
            sizeGb: v.sizeGb,
            filesystemType: v.filesystemType === "ext4" ? "ext4" : undefined,
            label: v.filesystemLabel,
        });
        this.volumeFiles.set(v.id, { name: v.name, file });
        this.log(`volume ${v.name} (${v.id}): ${v.sizeGb} GB disk file ${file}`);
    }

    deleteVolume(id: string): Promise<void> {
        const volume = this.volumeFiles.get(id);
        if (volume !== undefined) {
            fs.rmSync(volume.file, { force: true });
            this.volumeFiles.delete(id);
        }
        return Promise.resolve();
    }

    /** The disk file of a volume that still exists, for tests that look inside. */
    volumeFile(id: string): string | undefined {
        return this.volumeFiles.get(id)?.file;
    }

    /** Builds (or finds cached) the test image, so the first droplet's boot does not wait for it. */
    async prepare(): Promise<void> {
        this.imageDir ??= await ensureImage();
    }

    async bootDroplet(d: DropletSpec): Promise<{ ipv4: string }> {
        const sshActivation = IMAGES[d.image];
        if (sshActivation === undefined) {
            throw new Error(`the local cloud boots only the images ${Object.keys(IMAGES).join(", ")}, not ${d.image}`);
        }
        const ipv4 = this.freeAddresses.shift();
        if (ipv4 === undefined) {
            throw new Error(`no loopback address left for droplet ${d.name}: give the backend more addresses`);
        }
        await this.prepare();
        const volumes = d.volumes.map((v) => {
            const file = this.volumeFiles.get(v.id);
            if (file === undefined) {
                throw new Error(`droplet ${d.name} names volume ${v.id}, which has no disk file`);
            }
            return { name: v.name, path: file.file };
        });
        const workDir = path.join(this.options.workDir, `droplet-${d.id}`);
        fs.mkdirSync(workDir, { recursive: true });
        const boot = () =>
            bootLocalDroplet({
                name: d.name,
                userData: d.userData,
                authorizedKeys: d.authorizedKeys,
                ipv4,
                forwardPorts: [22, ...this.options.forwardPorts],
                volumes,
                workDir,
                imageDir: this.imageDir,
                memoryMb: Math.min(d.memoryMb, 2048),
                // Two vCPUs whatever the size: emulated, one is several times slower than a droplet's,
                // and a guest with two can use both of this machine's cores while the other idles.
                cpus: 2,
                niceness: this.options.niceness,
                sshActivation,
            });
        let droplet = await boot();
        // An emulated guest kernel may panic at boot; a cloud's droplet would not: boot it again.
        for (let attempt = 1; attempt <= 2 && (await waitForKernel(droplet)) === "panic"; attempt++) {
            this.log(
                `droplet ${d.name} (${d.id}): the guest kernel panicked at boot (console ${droplet.consoleLogPath}); booting it again`,
            );
            await droplet.stop();
            droplet = await boot();
        }
        this.droplets.set(d.id, droplet);
        for (const v of d.volumes) this.volumeHolders.set(v.id, d.id);
        this.log(`droplet ${d.name} (${d.id}) booting at ${ipv4}, console ${droplet.consoleLogPath}`);
        return { ipv4 };
    }

    /** Deletes a droplet's VM: kills qemu if it still runs (after a `shutdown` it does not). */
    async stopDroplet(id: number): Promise<void> {
        const droplet = this.droplets.get(id);
        if (droplet === undefined) {
            return;
        }
        const shutDownCleanly = droplet.shutDownCleanly();
        await droplet.stop();
        this.droplets.delete(id);
        for (const [volumeId, holder] of [...this.volumeHolders]) {
            if (holder === id) this.volumeHolders.delete(volumeId);
        }
        this.deleted.push({ id, name: droplet.name, shutDownCleanly });
        // Like DigitalOcean, an address may be handed to a later droplet.
        this.freeAddresses.push(droplet.ipv4);
        this.log(
            `droplet ${droplet.name} (${id}) deleted, ${shutDownCleanly ? "after a clean shutdown" : "while running or powered off hard"}`,
        );
    }

    /**
     * The `shutdown` (graceful: the ACPI power button, then qemu exits by itself once the guest has
     * powered off) and `power_off` (not graceful: qemu is ended at once) droplet actions.
     */
    async powerOffDroplet(id: number, how: { graceful: boolean }): Promise<void> {
        const droplet = this.droplets.get(id);
        if (droplet === undefined) {
            throw new Error(`no local VM for droplet ${id}`);
        }
        const started = Date.now();
        if (how.graceful) {
            // Generous: the guest may share two cores with another droplet.
            await droplet.shutdown(this.options.shutdownTimeoutMs ?? 300_000);
        } else {
            await droplet.powerOff();
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        this.log(`droplet ${droplet.name} (${id}) ${how.graceful ? "shut down cleanly" : "powered off hard"} in ${seconds} s`);
    }

    /**
     * Grows a volume's disk file. If a droplet's qemu has it open, through that qemu (QMP
     * block_resize), so that the guest kernel sees the new size at once, as a droplet sees a
     * DigitalOcean volume resize; a volume no VM holds just grows its file.
     */
    async resizeVolume(v: { id: string; sizeGb: number }): Promise<void> {
        const volume = this.volumeFiles.get(v.id);
        if (volume === undefined) {
            throw new Error(`volume ${v.id} has no disk file`);
        }
        const sizeBytes = Math.round(v.sizeGb * 1024 ** 3);
        const holder = this.droplets.get(this.volumeHolders.get(v.id) ?? -1);
        const started = Date.now();
        if (holder !== undefined) {
            await holder.growVolume(volume.name, sizeBytes);
        } else {
            await growVolumeDisk(volume.file, sizeBytes);
        }
        const through = holder?.isRunning() === true ? `the running qemu of ${holder.name}` : "its file only";
        this.log(`volume ${volume.name} (${v.id}) grown to ${v.sizeGb} GB through ${through} in ${Date.now() - started} ms`);
    }

    /** The droplets deleted so far, in order, each with whether it was shut down cleanly first. */
    deletedDroplets(): DeletedDroplet[] {
        return this.deleted.map((d) => ({ ...d }));
    }

    async publishDnsRecord(fqdn: string, type: string, data: string | undefined): Promise<void> {
        if (this.options.dns === undefined || type !== "A") {
            throw new Error(`the local cloud serves no DNS for ${type} ${fqdn}: give the backend a dns server`);
        }
        if (data === undefined) {
            await this.options.dns.clearA(fqdn);
        } else {
            await this.options.dns.setA(fqdn, data);
        }
        this.log(`DNS: ${fqdn} A ${data ?? "(none)"}`);
    }

    reserveIp(): string {
        const ip = this.freeReservedAddresses.shift();
        if (ip === undefined) {
            throw new Error("no loopback address left for a reserved IP: give the backend more reservedAddresses");
        }
        return ip;
    }

    async routeReservedIp(ip: string, dropletId: number | undefined): Promise<void> {
        await this.closeRoute(ip);
        if (dropletId === undefined) {
            this.log(`reserved IP ${ip} unassigned`);
            return;
        }
        const droplet = this.droplets.get(dropletId);
        if (droplet === undefined) {
            throw new Error(`reserved IP ${ip}: no running droplet ${dropletId}`);
        }
        const forwarder = await startForwarder(ip, droplet.ipv4, [22, ...this.options.forwardPorts]);
        this.reservedRoutes.set(ip, { dropletId, forwarder });
        this.log(`reserved IP ${ip} now forwards to droplet ${droplet.name} (${dropletId}) at ${droplet.ipv4}`);
    }

    private async closeRoute(ip: string): Promise<void> {
        const route = this.reservedRoutes.get(ip);
        if (route === undefined) {
            return;
        }
        this.reservedRoutes.delete(ip);
        if (route.forwarder.exitCode === null) {
            const exited = new Promise<void>((resolve) => route.forwarder.once("exit", () => resolve()));
            route.forwarder.kill();
            await exited;
        }
    }

    /** Stops forwarding every reserved IP (the end of a test run). */
    async closeReservedRoutes(): Promise<void> {
        await Promise.all([...this.reservedRoutes.keys()].map((ip) => this.closeRoute(ip)));
    }

    /** The running droplet at a public address (its own or a reserved IP), for what only its console can do (a reboot). */
    dropletAt(ipv4: string): LocalDroplet | undefined {
        const routed = this.reservedRoutes.get(ipv4);
        const droplet =
            routed === undefined ? [...this.droplets.values()].find((d) => d.ipv4 === ipv4) : this.droplets.get(routed.dropletId);
        return droplet?.isRunning() === true ? droplet : undefined;
    }

    runningDroplets(): LocalDroplet[] {
        return [...this.droplets.values()].filter((d) => d.isRunning());
    }
}

/** Starts port-forwarder.ts for these ports and resolves once it listens. */
function startForwarder(fromHost: string, toHost: string, ports: number[]): Promise<ChildProcess> {
    const forwarder = spawn(
        process.execPath,
        ["--import", "tsx", path.join(__dirname, "port-forwarder.ts"), fromHost, toHost, ...ports.map(String)],
        { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    forwarder.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
        forwarder.stdout?.once("data", () => resolve(forwarder));
        forwarder.once("exit", (code) => reject(new Error(`the forwarder for ${fromHost} exited (${code}): ${stderr}`)));
    });
}
