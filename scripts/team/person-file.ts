// Each person's sheet: what they need to reach their server (url, password, certificate
// fingerprint, SSH key), written to a file only its owner can read, never to the terminal.
import * as fs from "fs";
import * as path from "path";
import type { OutputMap } from "@pulumi/pulumi/automation";

function text(outputs: OutputMap, name: string): string | undefined {
    const value: unknown = outputs[name]?.value;
    return typeof value === "string" && value !== "" ? value : undefined;
}

/** The sheet's text, from the stack's outputs. */
export function renderPersonSheet(stack: string, outputs: OutputMap): string {
    const privateKey = text(outputs, "sshPrivateKey");
    const lines = [
        `# JupyterLab server of ${stack}. Private: this file holds the password${privateKey === undefined ? "" : " and an SSH key"}.`,
        `url: ${text(outputs, "url") ?? "(none: the server is not up)"}`,
        `password: ${text(outputs, "password") ?? "(none)"}`,
        `certificate SHA-256: ${text(outputs, "certificateSha256") ?? "(none)"}`,
        "  (self-signed: the browser warns once; accept only if its SHA-256 fingerprint is this one)",
        `ssh: ${text(outputs, "sshCommand") ?? "(none)"}`,
    ];
    if (privateKey === undefined) {
        lines.push("  (with the SSH key whose public half the roster gives as sshPublicKey)");
    } else {
        lines.push("  (save the key below under that name, mode 600: `chmod 600 ~/.ssh/<name>`)", "", privateKey.trimEnd());
    }
    return `${lines.join("\n")}\n`;
}

/** Creates the directory for the sheets, readable by its owner only (also when it existed). */
export function prepareSheetDirectory(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
}

/** Writes `<dir>/<stack>.txt` mode 0600; the file is never readable by others, not even briefly. */
export function writePersonSheet(dir: string, stack: string, outputs: OutputMap): string {
    const file = path.join(dir, `${stack}.txt`);
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, renderPersonSheet(stack, outputs), { mode: 0o600, flag: "wx" });
    fs.renameSync(temporary, file);
    return file;
}
