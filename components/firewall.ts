import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { anywhere } from "../config/cidr";

export interface FirewallArgs {
    readonly firewallName: string;
    readonly dropletId: pulumi.Input<string>;
    readonly allowedCidrs: string[];
    readonly jupyterPort: number;
    /** Opens port 80 to anywhere for the ACME server's HTTP-01 challenge (a domain's certificate). */
    readonly acmeHttpChallenge: boolean;
}

/** Lets in SSH and JupyterLab from allowedCidrs, ICMP, and with a domain HTTP; lets everything out. */
export class Firewall extends pulumi.ComponentResource {
    constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jupyterlab-droplet:index:Firewall", name, {}, opts);
        new digitalocean.Firewall(
            `${name}-firewall`,
            {
                name: args.firewallName,
                dropletIds: [pulumi.output(args.dropletId).apply(Number)],
                inboundRules: [
                    { protocol: "tcp", portRange: "22", sourceAddresses: args.allowedCidrs },
                    { protocol: "tcp", portRange: String(args.jupyterPort), sourceAddresses: args.allowedCidrs },
                    // From anywhere: Let's Encrypt validates from addresses it does not publish. Only
                    // certbot listens there, and only while it gets or renews the certificate.
                    ...(args.acmeHttpChallenge ? [{ protocol: "tcp", portRange: "80", sourceAddresses: [...anywhere] }] : []),
                    // ICMP from anywhere keeps path MTU discovery and ping working.
                    { protocol: "icmp", sourceAddresses: [...anywhere] },
                ],
                outboundRules: [
                    { protocol: "tcp", portRange: "1-65535", destinationAddresses: [...anywhere] },
                    { protocol: "udp", portRange: "1-65535", destinationAddresses: [...anywhere] },
                    { protocol: "icmp", destinationAddresses: [...anywhere] },
                ],
                // No `tags` here: on a firewall they select droplets, and every stack's droplet
                // carries the shared tag. The firewall applies to this droplet only.
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
