// Prints the Jupyter-format argon2 hash of a password, made by the same code the program uses.
//   npm run hash-password -- 'my password'     (lands in shell history)
//   npm run hash-password                      (asks, without echo; or reads a pipe)
import { randomBytes } from "crypto";
import { hashJupyterPassword, jupyterArgon2 } from "../droplet/password-hash";
import { passwordRuleProblem } from "../config/password";

function readHidden(prompt: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const stdin = process.stdin;
        process.stderr.write(prompt);
        stdin.setRawMode(true);
        stdin.resume();
        let typed = "";
        const onData = (chunk: Buffer) => {
            for (const char of chunk.toString("utf8")) {
                if (char === "\r" || char === "\n") {
                    stdin.setRawMode(false);
                    stdin.pause();
                    stdin.off("data", onData);
                    process.stderr.write("\n");
                    resolve(typed);
                    return;
                }
                if (char === "\u0003") {
                    stdin.setRawMode(false);
                    reject(new Error("cancelled"));
                    return;
                }
                typed = char === "\u007f" ? [...typed].slice(0, -1).join("") : typed + char;
            }
        };
        stdin.on("data", onData);
    });
}

async function readPiped(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) {
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks)
        .toString("utf8")
        .replace(/\r?\n$/, "");
}

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    if (args.length > 1 || args[0] === "--help" || args[0] === "-h") {
        process.stderr.write(
            "usage: npm run hash-password [-- PASSWORD]   (without PASSWORD it is read from stdin, unechoed on a terminal)\n",
        );
        process.exit(2);
    }
    let password: string;
    if (args.length === 1) {
        password = args[0];
    } else if (process.stdin.isTTY) {
        password = await readHidden("Password: ");
        if ((await readHidden("Again: ")) !== password) {
            throw new Error("the two passwords differ");
        }
    } else {
        password = await readPiped();
    }
    const problem = passwordRuleProblem(password);
    if (problem !== undefined) {
        throw new Error(`the password ${problem}`);
    }
    process.stdout.write((await hashJupyterPassword(password, randomBytes(jupyterArgon2.saltLength))) + "\n");
}

main().catch((e: Error) => {
    process.stderr.write(`hash-password: ${e.message}\n`);
    process.exit(1);
});
