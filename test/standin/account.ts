/**
 * Account and catalogue: GET /v2/account and the regions, sizes and images the stand-in offers,
 * with their JSON shapes (which droplets, volumes, reserved IPs and actions reuse).
 */

import { findImage, findRegion, IMAGES, REGIONS, SIZES, type ImageInfo, type SizeInfo } from "./catalog";
import { ApiError, type JsonObject } from "./json-fields";
import { list, route, type Ctx, type Reply, type Route } from "./routing";

/** How many droplets the account may have (deleted ones not counted). */
export const DROPLET_LIMIT = 10;

export function accountRoutes(): Route[] {
    return [
        route("GET", "/v2/account", () => getAccount()),
        route("GET", "/v2/regions", (c) =>
            list(
                c,
                "regions",
                REGIONS.map((x) => regionJson(x.slug)),
            ),
        ),
        route("GET", "/v2/sizes", (c) => list(c, "sizes", SIZES.map(sizeJson))),
        route("GET", "/v2/images", (c) => list(c, "images", IMAGES.map(imageJson))),
        route("GET", "/v2/images/:str", (c) => getImage(c)),
    ];
}

function getAccount(): Reply {
    return {
        status: 200,
        body: {
            account: {
                droplet_limit: DROPLET_LIMIT,
                floating_ip_limit: 3,
                reserved_ip_limit: 3,
                volume_limit: 100,
                email: "standin@example.invalid",
                name: "Local stand-in",
                uuid: "b6fc48a1-0000-4000-8000-000000000001",
                email_verified: true,
                status: "active",
                status_message: "",
            },
        },
    };
}

function getImage(c: Ctx): Reply {
    const ref = c.params[0] ?? "";
    const image = findImage(/^\d+$/.test(ref) ? Number(ref) : ref);
    if (image === undefined) throw ApiError.notFound();
    return { status: 200, body: { image: imageJson(image) } };
}

export function regionJson(slug: string): JsonObject {
    const region = findRegion(slug);
    return {
        slug,
        name: region?.name ?? slug,
        sizes: SIZES.filter((s) => s.regions.includes(slug)).map((s) => s.slug),
        available: true,
        features: ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"],
    };
}

export function sizeJson(s: SizeInfo): JsonObject {
    return {
        slug: s.slug,
        memory: s.memory,
        vcpus: s.vcpus,
        disk: s.disk,
        transfer: s.transfer,
        price_monthly: s.priceMonthly,
        price_hourly: s.priceHourly,
        regions: [...s.regions],
        available: true,
        description: s.description,
        disk_info: [{ type: "local", size: { amount: s.disk, unit: "gib" } }],
    };
}

export function imageJson(i: ImageInfo): JsonObject {
    return {
        id: i.id,
        name: i.name,
        distribution: i.distribution,
        slug: i.slug,
        public: true,
        regions: REGIONS.map((r) => r.slug),
        created_at: i.createdAt,
        min_disk_size: i.minDiskSize,
        type: "base",
        size_gigabytes: i.sizeGigabytes,
        description: `${i.distribution} ${i.name}`,
        tags: [],
        status: "available",
    };
}
