// SSH to a stack's server as root, as `logs` and the sweep reach it: with the stack's generated key
// (the secret output sshPrivateKey) or, for a stack with the user's own sshPublicKey, the user's
// agent; trusting only the host key the setup read (the knownHostsLine output); never asking.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StackOutputs } from "./command-line";

export interface RootSsh {
    /** ssh's options: the pinned host key, the identity, no prompt. */
    options: string[];
    /** `root@<address>`. */
    destination: string;
    /** A directory only this user can enter (0700), removed afterwards: for the caller's own files too. */
    dir: string;
}

/**
 * Runs `use` with what ssh needs. The private key and the known_hosts file are written, 0600, to
 * a directory of mkdtemp's (0700), which is removed once `use` is done, whatever it did.
 */
export async function withRootSsh<T>(out: StackOutputs, use: (ssh: RootSsh) => Promise<T> | T): Promise<T> {
    if (typeof out.knownHostsLine !== "string" || typeof out.ipAddress !== "string") {
        throw new Error("the stack has no knownHostsLine or ipAddress output: run `pulumi up`");
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyterlab-ssh-"));
    try {
        const knownHosts = path.join(dir, "known_hosts");
        fs.writeFileSync(knownHosts, `${out.knownHostsLine}\n`, { mode: 0o600 });
        // The known_hosts line names the host by the stack's alias, which stays through a new address.
        const alias = out.knownHostsLine.split(" ")[0];
        const identity: string[] = [];
        if (typeof out.sshPrivateKey === "string") {
            fs.writeFileSync(path.join(dir, "key"), `${out.sshPrivateKey.trim()}\n`, { mode: 0o600 });
            identity.push("-i", path.join(dir, "key"), "-o", "IdentitiesOnly=yes");
        }
        const options = [
            "-o",
            `UserKnownHostsFile=${knownHosts}`,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            `HostKeyAlias=${alias}`,
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=20",
            ...identity,
        ];
        return await use({ options, destination: `root@${out.ipAddress}`, dir });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
