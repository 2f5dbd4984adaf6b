import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { hashJupyterPassword } from "../../droplet/password-hash";
import { ensureJupyterVenv } from "../support/jupyter-venv";

const salt = Buffer.from("a fixed test salt");

/** Asks the real jupyter_server whether `hash` accepts `password`. */
function passwdCheck(hash: string, password: string): boolean {
    const python = path.join(ensureJupyterVenv(), "bin", "python");
    const out = execFileSync(
        python,
        [
            "-c",
            "import sys; from jupyter_server.auth.security import passwd_check; " +
                "h, p = sys.stdin.read().split('\\n', 1); print(passwd_check(h, p))",
        ],
        { input: `${hash}\n${password}` },
    );
    return out.toString().trim() === "True";
}

test("the hash has exactly jupyter_server passwd()'s form", async () => {
    const hash = await hashJupyterPassword("correct horse battery", salt);
    assert.match(hash, /^argon2:\$argon2id\$v=19\$m=10240,t=10,p=8\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]{43}$/);
    const [saltPart, hashPart] = hash.split("$").slice(-2);
    assert.ok(!saltPart.endsWith("=") && !hashPart.endsWith("="), "base64 must be unpadded");
    assert.equal(Buffer.from(saltPart, "base64").toString(), salt.toString());
});

test("the same password and salt give the same hash; another password or salt another", async () => {
    const first = await hashJupyterPassword("correct horse battery", salt);
    assert.equal(await hashJupyterPassword("correct horse battery", salt), first);
    assert.notEqual(await hashJupyterPassword("correct horse battery!", salt), first);
    assert.notEqual(await hashJupyterPassword("correct horse battery", Buffer.from("another test salt")), first);
});

test("jupyter_server's own passwd_check accepts the right password and refuses a wrong one", async () => {
    const password = "Grüße, naïve café ☕ 1234";
    const hash = await hashJupyterPassword(password, salt);
    assert.equal(passwdCheck(hash, password), true);
    assert.equal(passwdCheck(hash, "Grüße, naïve café ☕ 1235"), false);
    assert.equal(passwdCheck(hash, ""), false);
});

test("a hash made by jupyter_server's passwd() has the same shape as ours", () => {
    const python = path.join(ensureJupyterVenv(), "bin", "python");
    const theirs = execFileSync(python, ["-c", "from jupyter_server.auth.security import passwd; print(passwd('x' * 12))"])
        .toString()
        .trim();
    const shape = (h: string) => h.replace(/\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/, "$SALT$HASH");
    assert.equal(shape(theirs), "argon2:$argon2id$v=19$m=10240,t=10,p=8$SALT$HASH");
});

test("a salt too short is refused", async () => {
    await assert.rejects(hashJupyterPassword("correct horse battery", Buffer.alloc(4)), /at least 8 bytes/);
});

test("npm run hash-password prints a hash passwd_check accepts, from an argument or a pipe", () => {
    const script = path.join(__dirname, "..", "..", "scripts", "hash-password.ts");
    const tsx = path.join(__dirname, "..", "..", "node_modules", ".bin", "tsx");
    const fromArgument = execFileSync(tsx, [script, "an argument password"]).toString().trim();
    assert.equal(passwdCheck(fromArgument, "an argument password"), true);
    const fromPipe = execFileSync(tsx, [script], { input: "a piped password\n" }).toString().trim();
    assert.equal(passwdCheck(fromPipe, "a piped password"), true);
    assert.equal(passwdCheck(fromPipe, "a piped password\n"), false, "the trailing newline is not part of it");
    assert.notEqual(execFileSync(tsx, [script, "an argument password"]).toString().trim(), fromArgument, "a fresh salt each time");
    assert.throws(() => execFileSync(tsx, [script, "short"], { stdio: "pipe" }), /at least 12 characters/);
});
