// A self-signed ECDSA P-256 certificate and key made by the real openssl, as the manual recipe
// made them: for the tests that serve HTTPS, check fingerprints or choose a served pair.
import { execFileSync } from "node:child_process";

export interface SelfSignedPair {
    keyFile: string;
    certFile: string;
    /** The certificate's common name. */
    commonName: string;
    /** An IP address the certificate names (subjectAltName), if any. */
    ipAddress?: string;
    days?: number;
}

export function makeSelfSignedPair(pair: SelfSignedPair): void {
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-nodes",
            "-days",
            String(pair.days ?? 1),
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            pair.keyFile,
            "-out",
            pair.certFile,
            "-subj",
            `/CN=${pair.commonName}`,
            ...(pair.ipAddress === undefined ? [] : ["-addext", `subjectAltName=IP:${pair.ipAddress}`]),
        ],
        { stdio: "ignore" },
    );
}
