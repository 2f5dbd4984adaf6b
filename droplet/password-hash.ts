// The Jupyter password hash, in exactly the form jupyter_server's passwd() produces:
//   argon2:$argon2id$v=19$m=10240,t=10,p=8$<salt>$<hash>   (unpadded base64)
// The argon2 npm package encodes its parameters in another order (m,p,t), which libargon2's
// decoder behind passwd_check() rejects; so the raw hash is computed and encoded here.
import * as argon2 from "argon2";

/** jupyter_server's argon2 parameters (jupyter_server/auth/security.py passwd()). */
export const jupyterArgon2 = { memoryCost: 10240, timeCost: 10, parallelism: 8, hashLength: 32, saltLength: 16 } as const;

function unpaddedBase64(bytes: Buffer): string {
    return bytes.toString("base64").replace(/=+$/, "");
}

/**
 * Hashes `password` with the given salt. The same password and salt always give the same hash,
 * which keeps a second `pulumi up` free of changes; the salt lives in a resource.
 */
export async function hashJupyterPassword(password: string, salt: Buffer): Promise<string> {
    if (salt.length < 8) {
        throw new Error(`the argon2 salt must be at least 8 bytes, got ${salt.length}`);
    }
    const raw = await argon2.hash(password, {
        type: argon2.argon2id,
        memoryCost: jupyterArgon2.memoryCost,
        timeCost: jupyterArgon2.timeCost,
        parallelism: jupyterArgon2.parallelism,
        hashLength: jupyterArgon2.hashLength,
        salt,
        raw: true,
    });
    const { memoryCost: m, timeCost: t, parallelism: p } = jupyterArgon2;
    return `argon2:$argon2id$v=19$m=${m},t=${t},p=${p}$${unpaddedBase64(salt)}$${unpaddedBase64(raw)}`;
}
