// The stand-in's backend for the engine tests: every droplet is a real local droplet (a qemu VM
// booted with the user-data the provider sent), every volume a disk file formatted the way
// DigitalOcean formats a new volume. A droplet's public IPv4 is the loopback address its SSH
// and Jupyter ports are forwarded on.
import * as fs from "fs";
import * as path from "path";
import type { DropletSpec, LocalCloudBackend, VolumeSpec } from "../standin/do-api";
import { bootLocalDroplet, createVolumeDisk, ensureImage, LocalDroplet } from "../vm/local-droplet";

export interface VmBackendOptions {
    workDir: string;
    /** Guest ports forwarded besides SSH, e.g. the Jupyter port. */
    forwardPorts: number[];
    /** Loopback addresses handed out in turn, e.g. ["127.0.1.1", "127.0.1.2", ...]. */
    addresses: string[];
    log?: (line: string) => void;
}

export class VmBackend implements LocalCloudBackend {
    private readonly droplets = new Map<number, LocalDroplet>();
    private readonly volumeFiles = new Map<string, { name: string; file: string }>();
    private readonly freeAddresses: string[];
    private imageDir?: string;

    constructor(private readonly options: VmBackendOptions) {
        this.freeAddresses = [...options.addresses];
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
        await createVolumeDisk({ path: file, sizeGb: v.sizeGb, filesystemType: v.filesystemType === "ext4" ? "ext4" : undefined, label: v.filesystemLabel });
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

    async bootDroplet(d: DropletSpec): Promise<{ ipv4: string }> {
        const ipv4 = this.freeAddresses.shift();
        if (ipv4 === undefined) {
            throw new Error(`no loopback address left for droplet ${d.name}: give the backend more addresses`);
        }
        this.imageDir ??= await ensureImage();
        const volumes = d.volumes.map((v) => {
            const file = this.volumeFiles.get(v.id);
            if (file === undefined) {
                throw new Error(`droplet ${d.name} names volume ${v.id}, which has no disk file`);
            }
            return { name: v.name, path: file.file };
        });
        const workDir = path.join(this.options.workDir, `droplet-${d.id}`);
        fs.mkdirSync(workDir, { recursive: true });
        const droplet = await bootLocalDroplet({
            name: d.name, userData: d.userData, authorizedKeys: d.authorizedKeys, ipv4,
            forwardPorts: [22, ...this.options.forwardPorts], volumes, workDir, imageDir: this.imageDir,
            memoryMb: Math.min(d.memoryMb, 2048), cpus: Math.min(d.vcpus, 2),
        });
        this.droplets.set(d.id, droplet);
        this.log(`droplet ${d.name} (${d.id}) booting at ${ipv4}, console ${droplet.consoleLogPath}`);
        return { ipv4 };
    }

    async stopDroplet(id: number): Promise<void> {
        const droplet = this.droplets.get(id);
        if (droplet === undefined) {
            return;
        }
        await droplet.stop();
        this.droplets.delete(id);
        // Like DigitalOcean, an address may be handed to a later droplet.
        this.freeAddresses.push(droplet.ipv4);
        this.log(`droplet ${droplet.name} (${id}) stopped`);
    }

    runningDroplets(): LocalDroplet[] {
        return [...this.droplets.values()].filter((d) => d.isRunning());
    }
}
