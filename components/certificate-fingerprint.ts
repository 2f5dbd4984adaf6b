import { X509Certificate } from "crypto";

/** The SHA-256 fingerprint as browsers show it: colon-separated uppercase hex of the DER bytes. */
export function certificateSha256(certPem: string): string {
    return new X509Certificate(certPem).fingerprint256;
}
