// Builds the command lines that run the shell steps in scripts/remote/ on the server. The
// scripts are sent inline (nothing to copy first) and receive the server layout as
// environment variables; secrets never appear here, they travel on stdin.
import * as fs from "fs";
import * as path from "path";
import { layoutEnvironment } from "./server-layout";

export const remoteScriptDir = path.join(__dirname, "..", "scripts", "remote");

export type RemoteScript =
    | "wait-for-cloud-init"
    | "install-jupyterlab"
    | "configure-jupyter"
    | "install-kernel-packages"
    | "read-host-key";

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

export function readRemoteScript(script: RemoteScript): string {
    return fs.readFileSync(path.join(remoteScriptDir, `${script}.sh`), "utf8");
}

/** `env JLD_...=... bash -c '<script>' <script> args...`: runs the same under any login shell. */
export function remoteCommand(script: RemoteScript, args: (string | number)[] = []): string {
    const environment = Object.entries(layoutEnvironment()).map(([name, value]) => `${name}=${shellQuote(value)}`);
    return ["env", ...environment, "bash", "-c", shellQuote(readRemoteScript(script)), script, ...args.map((a) => shellQuote(String(a)))]
        .join(" ");
}
