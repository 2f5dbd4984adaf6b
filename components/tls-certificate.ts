import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { certificateSha256 } from "./certificate-fingerprint";

export interface TlsCertificateArgs {
    /** The droplet's public IPv4 address, named in the certificate so browsers can match it. */
    readonly ipAddress: pulumi.Input<string>;
    readonly commonName: string;
    /** Defaults to 365 days. */
    readonly validityDays?: number;
}

/** A self-signed certificate for JupyterLab's HTTPS, valid for the droplet's IP and for loopback. */
export class TlsCertificate extends pulumi.ComponentResource {
    public readonly certPem: pulumi.Output<string>;
    public readonly privateKeyPem: pulumi.Output<string>;
    public readonly sha256Fingerprint: pulumi.Output<string>;
    public readonly validUntil: pulumi.Output<string>;

    constructor(name: string, args: TlsCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jupyterlab-droplet:index:TlsCertificate", name, {}, opts);
        const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const validityDays = args.validityDays ?? 365;
        const cert = new tls.SelfSignedCert(
            `${name}-cert`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: args.commonName, organization: "jupyterlab-droplet" },
                // 127.0.0.1 lets the setup step check the server on the droplet itself, verified.
                ipAddresses: [args.ipAddress, "127.0.0.1"],
                dnsNames: ["localhost"],
                validityPeriodHours: validityDays * 24,
                earlyRenewalHours: Math.min(30, Math.floor(validityDays / 2)) * 24,
                allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
            },
            { parent: this },
        );
        this.certPem = cert.certPem;
        this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        this.sha256Fingerprint = cert.certPem.apply(certificateSha256);
        this.validUntil = cert.validityEndTime;
        this.registerOutputs({ certPem: this.certPem, sha256Fingerprint: this.sha256Fingerprint });
    }
}
