// The server's own name: an A record in the account's DigitalOcean DNS zone that holds it.
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config/config";

export interface ZonePlace {
    /** The zone (a DigitalOcean "domain"), e.g. example.com. */
    zone: string;
    /** The record's name within it: "nb" for nb.example.com, "@" for the zone's own name. */
    recordName: string;
}

/** Where `domain` goes among `zones`: the longest zone it equals or ends in, or undefined. */
export function zoneOf(domain: string, zones: readonly string[]): ZonePlace | undefined {
    const holding = zones
        .map((zone) => zone.toLowerCase().replace(/\.$/, ""))
        .filter((zone) => domain === zone || domain.endsWith(`.${zone}`))
        .sort((a, b) => b.length - a.length);
    if (holding.length === 0) {
        return undefined;
    }
    const zone = holding[0];
    return { zone, recordName: domain === zone ? "@" : domain.slice(0, -(zone.length + 1)) };
}

/** The zone for `domain` among the account's; a domain outside all of them is a config error. */
export async function findZone(domain: string): Promise<ZonePlace> {
    const { domains } = await digitalocean.getDomains({});
    const zones = domains.map((d) => d.name);
    const place = zoneOf(domain, zones);
    if (place === undefined) {
        const known = zones.length === 0 ? "the account has no DNS zones" : `the account's zones are ${zones.join(", ")}`;
        throw new ConfigError(
            "domain",
            JSON.stringify(domain),
            `must be in a DNS zone of this DigitalOcean account, and ${known}; add the zone (Networking > Domains) ` +
                "and point the domain's name servers at ns1.digitalocean.com, ns2 and ns3",
        );
    }
    return place;
}

export interface DomainNameArgs {
    readonly place: ZonePlace;
    /** The address the name answers with: the reserved IP, or the droplet's own. */
    readonly address: pulumi.Input<string>;
}

/** Seconds resolvers may keep the answer: short, so a new droplet's address takes over quickly. */
export const recordTtlSeconds = 60;

export class DomainName extends pulumi.ComponentResource {
    constructor(name: string, args: DomainNameArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jupyterlab-droplet:index:DomainName", name, {}, opts);
        new digitalocean.DnsRecord(
            `${name}-record`,
            {
                domain: args.place.zone,
                type: "A",
                name: args.place.recordName,
                value: args.address,
                ttl: recordTtlSeconds,
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
