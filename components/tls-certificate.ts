import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { X509Certificate } from "crypto";

export interface TlsCertificateArgs {
    /** The droplet's public IPv4 address, named in the certificate so browsers can match it. */
    readonly ipAddress: pulumi.Input<string>;
    readonly commonName: string;
}

/** A year; renewed by the `up` in its last 30 days. */
const validityDays = 365;
const renewalDays = 30;

/** The SHA-256 fingerprint as browsers show it: colon-separated uppercase hex of the DER bytes. */
export function certificateSha256(certPem: string): string {
    return new X509Certificate(certPem).fingerprint256;
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
        const cert = new tls.SelfSignedCert(
            `${name}-cert`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: args.commonName, organization: "jupyterlab-droplet" },
                // 127.0.0.1 lets the setup step check the server on the droplet itself, verified.
                ipAddresses: [args.ipAddress, "127.0.0.1"],
                dnsNames: ["localhost"],
                validityPeriodHours: validityDays * 24,
                earlyRenewalHours: renewalDays * 24,
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
