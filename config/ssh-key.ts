// An OpenSSH public key line, checked down to its key data: a pasted private key, a key of
// another type than it says, or an RSA key too short is refused before it reaches the droplet.
import { ConfigError } from "./problems";
import { Parse } from "./values";

const sshKeyTypes = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

export const parseSshPublicKey: Parse<string> = (raw, context) => {
    const key = raw.trim();
    const shown = JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key);
    const allowed = `must be one OpenSSH public key line ("${sshKeyTypes.slice(0, 3).join('", "')} ... AAAA... comment"), as in ~/.ssh/id_ed25519.pub`;
    if (/PRIVATE KEY/.test(key)) {
        throw new ConfigError(context.key, "(a private key)", `${allowed}; never the private key`);
    }
    const [type, body] = key.split(/\s+/);
    if (key.includes("\n") || !sshKeyTypes.includes(type) || body === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
        throw new ConfigError(context.key, shown, allowed);
    }
    const blob = Buffer.from(body, "base64");
    const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (nameLength < 0 || blob.subarray(4, 4 + nameLength).toString("latin1") !== type) {
        throw new ConfigError(context.key, shown, `${allowed}; its key data does not match its type ${type}`);
    }
    if (type === "ssh-rsa" && rsaModulusBits(blob) < 2048) {
        throw new ConfigError(context.key, shown, "is an RSA key shorter than 2048 bits; use ssh-ed25519 or RSA of 2048+ bits");
    }
    return key;
};

function rsaModulusBits(blob: Buffer): number {
    // ssh-rsa wire format: string "ssh-rsa", mpint e, mpint n.
    let offset = 0;
    const next = () => {
        const length = blob.readUInt32BE(offset);
        const field = blob.subarray(offset + 4, offset + 4 + length);
        offset += 4 + length;
        return field;
    };
    try {
        next();
        next();
        const modulus = next();
        const significant = modulus[0] === 0 ? modulus.subarray(1) : modulus;
        return significant.length * 8;
    } catch {
        return 0;
    }
}
