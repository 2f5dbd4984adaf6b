/**
 * A LocalCloudBackend that BOOTS NOTHING: it records every call and hands out loopback
 * addresses 127.0.0.10, 127.0.0.11, ... as if a droplet had come up there.
 *
 * It exists ONLY for the DigitalOcean stand-in's own fast tests (and for proving the stand-in
 * against the real provider). Nothing listens on the addresses it hands out; tests that need a
 * real droplet use the VM backend of the engine tests instead.
 */

import type { DropletSpec, LocalCloudBackend, VolumeSpec } from "./do-api";

export type MemoryBackendCall =
    | { op: "createVolume"; volume: VolumeSpec }
    | { op: "deleteVolume"; id: string }
    | { op: "bootDroplet"; droplet: DropletSpec }
    | { op: "stopDroplet"; id: number }
    | { op: "powerOffDroplet"; id: number; graceful: boolean }
    | { op: "powerOnDroplet"; id: number }
    | { op: "resizeDroplet"; id: number; size: string; resizeDisk: boolean }
    | { op: "resizeVolume"; id: string; sizeGb: number }
    | { op: "routeReservedIp"; ip: string; dropletId: number | undefined }
    | { op: "publishDnsRecord"; fqdn: string; type: string; data: string | undefined };

export interface MemoryBackendOptions {
    /** How long a "boot" takes. Defaults to 50 ms. */
    bootDelayMs?: number;
    /** How long a "stop" takes. Defaults to 20 ms. */
    stopDelayMs?: number;
}

export class MemoryBackend implements LocalCloudBackend {
    readonly calls: MemoryBackendCall[] = [];
    /** Droplet ids whose pretend VM is up. */
    readonly running = new Set<number>();
    /** Volume ids whose pretend disk exists. */
    readonly disks = new Set<string>();
    /** Volume id -> droplet whose pretend VM has the disk open. */
    private readonly diskUsers = new Map<string, number>();
    private nextHost = 10;
    private nextReservedHost = 1;
    /** Reserved IP -> the droplet its traffic goes to. */
    readonly reservedRoutes = new Map<string, number>();
    /** Name (fully qualified, no trailing dot) -> the address its published A record answers. */
    readonly dnsAddresses = new Map<string, string>();
    private readonly bootFailures: string[] = [];
    private readonly shutdownFailures: string[] = [];
    private readonly addresses = new Map<number, string>();
    private readonly bootDelayMs: number;
    private readonly stopDelayMs: number;

    constructor(options: MemoryBackendOptions = {}) {
        this.bootDelayMs = options.bootDelayMs ?? 50;
        this.stopDelayMs = options.stopDelayMs ?? 20;
    }

    private gate: Promise<void> = Promise.resolve();

    /** Holds every boot (after its disk checks) and power on/off until the returned function is called. */
    pause(): () => void {
        let release = (): void => undefined;
        this.gate = new Promise((resolve) => {
            release = resolve;
        });
        return release;
    }

    /** Makes the next bootDroplet call fail with this reason. */
    failNextBoot(reason: string): void {
        this.bootFailures.push(reason);
    }

    ops(): string[] {
        return this.calls.map((c) => c.op);
    }

    async createVolume(volume: VolumeSpec): Promise<void> {
        this.calls.push({ op: "createVolume", volume: { ...volume } });
        this.disks.add(volume.id);
        return Promise.resolve();
    }

    async deleteVolume(id: string): Promise<void> {
        this.calls.push({ op: "deleteVolume", id });
        const user = this.diskUsers.get(id);
        if (user !== undefined) throw new Error(`memory backend: the disk of volume ${id} is in use by droplet ${user}`);
        if (!this.disks.delete(id)) throw new Error(`memory backend: no disk for volume ${id}`);
        return Promise.resolve();
    }

    async bootDroplet(droplet: DropletSpec): Promise<{ ipv4: string }> {
        this.calls.push({ op: "bootDroplet", droplet: { ...droplet } });
        // A real VM opens its disks as it starts: check them before the pretend boot time.
        for (const v of droplet.volumes) {
            if (!this.disks.has(v.id)) throw new Error(`memory backend: no disk for volume ${v.id}`);
            const user = this.diskUsers.get(v.id);
            if (user !== undefined) throw new Error(`memory backend: the disk of volume ${v.id} is in use by droplet ${user}`);
        }
        await this.gate;
        const failure = this.bootFailures.shift();
        if (failure !== undefined) {
            await sleep(this.bootDelayMs);
            throw new Error(failure);
        }
        for (const v of droplet.volumes) this.diskUsers.set(v.id, droplet.id);
        await sleep(this.bootDelayMs);
        const ipv4 = this.address(droplet.id);
        this.running.add(droplet.id);
        return { ipv4 };
    }

    async stopDroplet(id: number): Promise<void> {
        this.calls.push({ op: "stopDroplet", id });
        await sleep(this.stopDelayMs);
        this.running.delete(id);
        for (const [volumeId, user] of [...this.diskUsers]) {
            if (user === id) this.diskUsers.delete(volumeId);
        }
    }

    /** Fails the next `shutdown` (graceful power-off) with this reason, as a guest that ignores its power button. */
    failNextShutdown(reason: string): void {
        this.shutdownFailures.push(reason);
    }

    async powerOffDroplet(id: number, how: { graceful: boolean }): Promise<void> {
        this.calls.push({ op: "powerOffDroplet", id, graceful: how.graceful });
        await this.gate;
        await sleep(this.stopDelayMs);
        const failure = how.graceful ? this.shutdownFailures.shift() : undefined;
        if (failure !== undefined) throw new Error(failure);
        this.running.delete(id);
    }

    async powerOnDroplet(id: number): Promise<{ ipv4: string }> {
        this.calls.push({ op: "powerOnDroplet", id });
        await this.gate;
        await sleep(this.bootDelayMs);
        this.running.add(id);
        return { ipv4: this.address(id) };
    }

    reserveIp(): string {
        return `127.0.9.${this.nextReservedHost++}`;
    }

    async routeReservedIp(ip: string, dropletId: number | undefined): Promise<void> {
        this.calls.push({ op: "routeReservedIp", ip, dropletId });
        if (dropletId === undefined) this.reservedRoutes.delete(ip);
        else this.reservedRoutes.set(ip, dropletId);
        return Promise.resolve();
    }

    async publishDnsRecord(fqdn: string, type: string, data: string | undefined): Promise<void> {
        this.calls.push({ op: "publishDnsRecord", fqdn, type, data });
        if (type !== "A") throw new Error(`memory backend: publishes A records only, not ${type}`);
        if (data === undefined) this.dnsAddresses.delete(fqdn);
        else this.dnsAddresses.set(fqdn, data);
        return Promise.resolve();
    }

    async resizeDroplet(d: { id: number; size: string; resizeDisk: boolean }): Promise<void> {
        this.calls.push({ op: "resizeDroplet", ...d });
        return Promise.resolve();
    }

    async resizeVolume(v: { id: string; sizeGb: number }): Promise<void> {
        this.calls.push({ op: "resizeVolume", ...v });
        return Promise.resolve();
    }

    private address(id: number): string {
        let ip = this.addresses.get(id);
        if (ip === undefined) {
            ip = `127.0.0.${this.nextHost++}`;
            this.addresses.set(id, ip);
        }
        return ip;
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
