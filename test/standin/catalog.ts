/**
 * The fixed catalogue the DigitalOcean stand-in serves: droplet sizes, regions and images.
 *
 * Numbers are DigitalOcean's published figures for these slugs (memory in MiB, disk in GB,
 * transfer in TB, prices in USD). Only slugs listed here are accepted, so a typo in the
 * program's configuration fails the way it would against the real API.
 */

export interface SizeInfo {
    readonly slug: string;
    readonly memory: number;
    readonly vcpus: number;
    readonly disk: number;
    readonly transfer: number;
    readonly priceMonthly: number;
    readonly priceHourly: number;
    /** Regions that offer this size. */
    readonly regions: readonly string[];
    readonly description: string;
}

export interface RegionInfo {
    readonly slug: string;
    readonly name: string;
}

export interface ImageInfo {
    readonly id: number;
    readonly slug: string;
    readonly name: string;
    readonly distribution: string;
    readonly minDiskSize: number;
    readonly sizeGigabytes: number;
    readonly createdAt: string;
}

export const REGIONS: readonly RegionInfo[] = [
    { slug: "nyc1", name: "New York 1" },
    { slug: "nyc3", name: "New York 3" },
    { slug: "ams3", name: "Amsterdam 3" },
    { slug: "fra1", name: "Frankfurt 1" },
    { slug: "lon1", name: "London 1" },
    { slug: "sfo3", name: "San Francisco 3" },
    { slug: "sgp1", name: "Singapore 1" },
    { slug: "tor1", name: "Toronto 1" },
    { slug: "blr1", name: "Bangalore 1" },
    { slug: "syd1", name: "Sydney 1" },
];

const ALL_REGIONS = REGIONS.map((r) => r.slug);

export const SIZES: readonly SizeInfo[] = [
    {
        slug: "s-1vcpu-512mb-10gb",
        memory: 512,
        vcpus: 1,
        disk: 10,
        transfer: 0.5,
        priceMonthly: 4,
        priceHourly: 0.00595,
        // The smallest plan is not offered everywhere.
        regions: ["nyc1", "ams3", "fra1", "sfo3", "sgp1", "syd1"],
        description: "Basic",
    },
    {
        slug: "s-1vcpu-1gb",
        memory: 1024,
        vcpus: 1,
        disk: 25,
        transfer: 1,
        priceMonthly: 6,
        priceHourly: 0.00893,
        regions: ALL_REGIONS,
        description: "Basic",
    },
    {
        slug: "s-1vcpu-2gb",
        memory: 2048,
        vcpus: 1,
        disk: 50,
        transfer: 2,
        priceMonthly: 12,
        priceHourly: 0.01786,
        regions: ALL_REGIONS,
        description: "Basic",
    },
    {
        slug: "s-2vcpu-2gb",
        memory: 2048,
        vcpus: 2,
        disk: 60,
        transfer: 3,
        priceMonthly: 18,
        priceHourly: 0.02679,
        regions: ALL_REGIONS,
        description: "Basic",
    },
    {
        slug: "s-2vcpu-4gb",
        memory: 4096,
        vcpus: 2,
        disk: 80,
        transfer: 4,
        priceMonthly: 24,
        priceHourly: 0.03571,
        regions: ALL_REGIONS,
        description: "Basic",
    },
    {
        slug: "s-4vcpu-8gb",
        memory: 8192,
        vcpus: 4,
        disk: 160,
        transfer: 5,
        priceMonthly: 48,
        priceHourly: 0.07143,
        // Deliberately not offered in syd1 (DigitalOcean does offer it there): a test scenario needs
        // a size our program accepts (at least 2 GB of RAM) that some region does not offer, so that
        // a droplet create answers DigitalOcean's "Size is not available in this region." 422.
        regions: ALL_REGIONS.filter((r) => r !== "syd1"),
        description: "Basic",
    },
];

export const IMAGES: readonly ImageInfo[] = [
    {
        id: 171_000_001,
        slug: "ubuntu-24-04-x64",
        name: "24.04 (LTS) x64",
        distribution: "Ubuntu",
        minDiskSize: 7,
        sizeGigabytes: 2.7,
        createdAt: "2025-10-01T00:00:00Z",
    },
    {
        id: 171_000_002,
        slug: "ubuntu-22-04-x64",
        name: "22.04 (LTS) x64",
        distribution: "Ubuntu",
        minDiskSize: 7,
        sizeGigabytes: 2.4,
        createdAt: "2025-10-01T00:00:00Z",
    },
    {
        id: 171_000_003,
        slug: "debian-12-x64",
        name: "12 x64",
        distribution: "Debian",
        minDiskSize: 7,
        sizeGigabytes: 1.1,
        createdAt: "2025-10-01T00:00:00Z",
    },
    {
        // The program's default image.
        id: 171_000_004,
        slug: "debian-13-x64",
        name: "13 x64",
        distribution: "Debian",
        minDiskSize: 7,
        sizeGigabytes: 1.2,
        createdAt: "2025-10-01T00:00:00Z",
    },
];

export function findSize(slug: string): SizeInfo | undefined {
    return SIZES.find((s) => s.slug === slug);
}

export function findRegion(slug: string): RegionInfo | undefined {
    return REGIONS.find((r) => r.slug === slug);
}

/** Images are named by slug or by numeric id, as in a droplet create request. */
export function findImage(ref: string | number): ImageInfo | undefined {
    return IMAGES.find((i) => (typeof ref === "number" ? i.id === ref : i.slug === ref));
}
