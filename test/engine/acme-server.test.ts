// The local ACME server the "own domain" tests stand Let's Encrypt in with (acme-server.ts),
// checked on its own in about a second once built: what a failing e2e test would otherwise
// leave in doubt. Issuing a certificate over HTTP-01 is full-flow.test.ts's part, on a droplet.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { requireCommand } from "../support/jupyter-venv";
import { AcmeServer, buildAcmeBinaries, makeTrustingBrowserHome, startAcmeServer } from "./acme-server";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-acme-"));
let binDir: string;
let acme: AcmeServer | undefined;

before(async () => {
    requireCommand("go", "install Go (Debian: apt-get install golang-go; or from go.dev)");
    binDir = buildAcmeBinaries();
    acme = await startAcmeServer({ workDir: path.join(work, "acme"), binDir });
});

after(async () => {
    await acme?.close();
    fs.rmSync(work, { recursive: true, force: true });
});

function started(): AcmeServer {
    assert.ok(acme, "the ACME server did not start (see before())");
    return acme;
}

/**
 * GET over HTTPS trusting only `ca`, or Node's bundled public roots without it; Pebble wants a
 * User-Agent on every request.
 */
function getTrusting(url: string, ca?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        https
            .get(url, { ca, headers: { "User-Agent": "jupyterlab-droplet-tests" } }, (response) => {
                let body = "";
                response.setEncoding("utf8");
                response.on("data", (chunk: string) => (body += chunk));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
            })
            .on("error", reject);
    });
}

describe("the local ACME server (Pebble and its DNS server)", { concurrency: false }, () => {
    test("the ACME directory answers over HTTPS signed by the API CA, and only that CA", async () => {
        const server = started();
        const { status, body } = await getTrusting(server.directoryUrl, server.apiCaPem);
        assert.equal(status, 200);
        const directory = JSON.parse(body) as Record<string, unknown>;
        assert.equal(directory.newOrder, "https://127.0.0.1:14000/order-plz");
        assert.equal(server.directoryUrlForGuest, "https://10.0.2.2:14000/dir");
        const api = new X509Certificate(fs.readFileSync(path.join(work, "acme", "api-tls", "api.pem")));
        assert.equal(api.subjectAltName, "IP Address:10.0.2.2, IP Address:127.0.0.1, DNS:localhost");
        assert.ok(api.checkIssued(new X509Certificate(server.apiCaPem)));
        await assert.rejects(
            getTrusting(server.directoryUrl),
            /unable to verify the first certificate/,
            "with only the public roots, Pebble's API is not trusted",
        );
    });

    test("DNS answers a name only what setA gave it, and nothing once cleared", async () => {
        const server = started();
        assert.deepEqual(await server.resolveA("nb.example.test"), [], "no default address for unknown names");
        await server.setA("nb.example.test", "127.0.1.1");
        assert.deepEqual(await server.resolveA("nb.example.test"), ["127.0.1.1"]);
        await server.setA("nb.example.test.", "127.0.2.1");
        assert.deepEqual(await server.resolveA("nb.example.test"), ["127.0.2.1"], "setA replaces; the final dot is optional");
        await server.clearA("nb.example.test");
        assert.deepEqual(await server.resolveA("nb.example.test"), []);
    });

    test("Pebble's issuing root and intermediate: a CA and the certificate it signed", async () => {
        const server = started();
        const root = new X509Certificate(await server.rootPem());
        const intermediate = new X509Certificate(await server.intermediatePem());
        assert.ok(root.ca && intermediate.ca);
        assert.match(root.subject, /Pebble Root CA/);
        assert.ok(intermediate.checkIssued(root) && intermediate.verify(root.publicKey));
    });

    test("a second server while one runs fails naming the port", async () => {
        await assert.rejects(startAcmeServer({ workDir: path.join(work, "second"), binDir }), /port 14000 .* is taken/);
    });

    test("a browser home whose NSS database trusts the given CA, and only it", async () => {
        requireCommand("certutil", "apt-get install libnss3-tools");
        const home = path.join(work, "browser-home");
        makeTrustingBrowserHome(home, await started().rootPem());
        const list = spawnSync("certutil", ["-L", "-d", `sql:${path.join(home, ".pki", "nssdb")}`], { encoding: "utf8" });
        assert.equal(list.status, 0, list.stderr);
        const entries = list.stdout
            .split("\n")
            .slice(4)
            .filter((line) => line.trim() !== "");
        assert.deepEqual(
            entries.map((line) => line.replace(/\s+/g, " ").trim()),
            ["local test CA C,,"],
        );
    });
});
