/**
 * A local, stateful, strict stand-in for the parts of the DigitalOcean API that the
 * DigitalOcean Pulumi provider (bridged from terraform-provider-digitalocean, which speaks
 * through the godo client) uses for this project: SSH keys, droplets, block storage volumes,
 * firewalls, tags, actions, reserved IPs, and DNS domains with their A records.
 *
 * Point the provider at it with `DIGITALOCEAN_API_URL=<url>` and `DIGITALOCEAN_TOKEN=<token>`.
 *
 * Strict means: a wrong token answers 401, an unknown route 404 and a known route with the
 * wrong method 405 (both naming method and path in the answer's message and in the log), a
 * malformed body 422 naming the field, and DigitalOcean's own rules (unique key fingerprints,
 * unique volume names per region, one droplet per volume, same region, ...) answer the errors
 * DigitalOcean answers. A provider upgrade that makes a call the stand-in does not know thus
 * fails loudly instead of being answered something plausible.
 *
 * Fault injection (off by default; `faults` option, `setFaults()` at runtime) answers a
 * deterministic share of authenticated requests 429 or 503 before handling them, so that the
 * provider's retries (go-retryablehttp through godo) are exercised; a faulted request changes
 * nothing, and no two consecutive requests are faulted.
 *
 * Droplets and volumes are backed by a LocalCloudBackend: the engine tests boot a real local VM
 * per droplet (and serve the A records from a real DNS server); the stand-in's own tests use the
 * memory backend, which boots nothing.
 *
 * This module is the entry point: it starts the server and exports the public types. The rest
 * lives in one module per concern: types.ts (public types), records.ts (what is kept of each
 * resource), cloud.ts (the shared state and lookups), routing.ts (routes and paging), http.ts
 * (requests and replies), faults.ts (fault injection), account.ts (account and catalogue),
 * ssh-keys.ts, droplets.ts, droplet-actions.ts, actions.ts, volumes.ts, reserved-ips.ts, dns.ts,
 * firewalls.ts and tags.ts (one resource family each, registering its own routes), and
 * state-view.ts (state for tests).
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { accountRoutes } from "./account";
import { actionRoutes } from "./actions";
import { Cloud } from "./cloud";
import { dnsRoutes } from "./dns";
import { dropletActionRoutes } from "./droplet-actions";
import { dropletRoutes, stopAllDroplets } from "./droplets";
import { FaultInjector } from "./faults";
import { firewallRoutes } from "./firewalls";
import { HttpFront, isLoopback } from "./http";
import { reservedIpRoutes } from "./reserved-ips";
import type { Route } from "./routing";
import { sshKeyRoutes } from "./ssh-keys";
import { stateView } from "./state-view";
import { tagRoutes } from "./tags";
import type { Standin, StandinOptions } from "./types";
import { volumeRoutes } from "./volumes";

export { ApiError } from "./json-fields";
export type { Json, JsonObject } from "./json-fields";
export type {
    ActionView,
    DomainRecordView,
    DomainView,
    DropletSpec,
    DropletView,
    FaultCounts,
    FaultKind,
    FaultOptions,
    FirewallRuleView,
    FirewallView,
    LocalCloudBackend,
    RequestLogEntry,
    ReservedIpView,
    SshKeyView,
    Standin,
    StandinOptions,
    StandinState,
    VolumeSpec,
    VolumeView,
} from "./types";

/** Every route the stand-in answers; a call none of them matches fails (404 or 405). */
function allRoutes(cloud: Cloud): Route[] {
    return [
        ...accountRoutes(),
        ...sshKeyRoutes(cloud),
        ...dropletRoutes(cloud),
        ...dropletActionRoutes(cloud),
        ...actionRoutes(cloud),
        ...volumeRoutes(cloud),
        ...firewallRoutes(cloud),
        ...reservedIpRoutes(cloud),
        ...dnsRoutes(cloud),
        ...tagRoutes(cloud),
    ];
}

/** Starts the stand-in on a loopback address. */
export async function startDoStandin(options: StandinOptions): Promise<Standin> {
    const { backend, token = "standin-token", host = "127.0.0.1", port = 0 } = options;
    if (!isLoopback(host)) throw new Error(`the DigitalOcean stand-in only listens on loopback, not ${host}`);
    const log = options.log ?? ((line: string) => process.stderr.write(`[do-standin] ${line}\n`));
    const cloud = new Cloud(backend, options.deleteDelayMs ?? 3000, options.actionDelayMs ?? 500, log);
    const faults = new FaultInjector(log, options.faults);
    const front = new HttpFront(allRoutes(cloud), token, faults, log, options.logRequests ?? false);
    const server = createServer((req, res) => {
        void front.handle(req, res);
    });
    // Outlive the Go client's idle connections (90 s), so that it never sends a request on a
    // connection the server is closing (its retry of a POST could then create twice).
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
            server.off("error", reject);
            resolve();
        });
    });
    const address = server.address() as AddressInfo;
    const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return {
        url: `http://${urlHost}:${address.port}`,
        state: stateView(cloud, front, faults),
        setFaults: (f) => faults.setFaults(f),
        close: async () => {
            await new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            });
            await stopAllDroplets(cloud);
        },
    };
}
