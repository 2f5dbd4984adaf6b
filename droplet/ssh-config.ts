// The SSH client config entry for a terminal and VS Code Remote-SSH. A per-stack host alias and
// known_hosts file mean a replaced droplet, or a new one on a recycled IP, never meets a stale
// host key ("REMOTE HOST IDENTIFICATION HAS CHANGED").
import { createHash } from "crypto";

export interface SshConfigEntryArgs {
    alias: string;
    hostName: string;
    user: string;
    /** The private key file; undefined when the user's own key (agent or ~/.ssh) is used. */
    identityFile?: string;
}

export function knownHostsFile(alias: string): string {
    return `~/.ssh/known_hosts.d/${alias}`;
}

/** The line for the per-stack known_hosts file: keyed by the alias, which HostKeyAlias looks up. */
export function knownHostsLine(alias: string, hostKey: string): string {
    return `${alias} ${hostKey.trim()}`;
}

export function sshConfigEntry(args: SshConfigEntryArgs): string {
    const lines = [
        `Host ${args.alias}`,
        `  HostName ${args.hostName}`,
        `  User ${args.user}`,
        ...(args.identityFile === undefined ? [] : [`  IdentityFile ${args.identityFile}`, "  IdentitiesOnly yes"]),
        `  HostKeyAlias ${args.alias}`,
        `  UserKnownHostsFile ${knownHostsFile(args.alias)}`,
        "  StrictHostKeyChecking yes",
    ];
    return lines.join("\n") + "\n";
}

/** `SHA256:...` as `ssh-keygen -lf` prints it, from a public key line "type base64 [comment]". */
export function sshKeyFingerprint(publicKeyLine: string): string {
    const blob = publicKeyLine.trim().split(/\s+/)[1];
    if (blob === undefined) {
        throw new Error(`not an OpenSSH public key line: ${JSON.stringify(publicKeyLine)}`);
    }
    const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "");
    return `SHA256:${digest}`;
}
