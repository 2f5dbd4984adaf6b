// A local stand-in for Let's Encrypt, for the "own domain" tests: Pebble (the ACME test server
// Let's Encrypt publishes) and pebble-challtestsrv (a DNS server the test programs) run as child
// processes on the host, built by build-acme.sh. A droplet (a qemu guest on user networking)
// reaches Pebble's API at 10.0.2.2:14000, which qemu maps to the host's 127.0.0.1:14000. Pebble
// validates HTTP-01 challenges on port 80 of the address the DNS server gives for the name, as
// Let's Encrypt does, so a test points the name at the droplet's address with setA().
//
// Pebble's API is HTTPS with a certificate from a throwaway CA made here at each start
// (apiCaPem), standing in for the public CA behind Let's Encrypt's API: the droplet must trust
// it to talk to Pebble. The certificates Pebble issues chain to another root, made by Pebble at
// each start (rootPem()): a browser must trust that one to accept the droplet's certificate.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as dgram from "dgram";
import { promises as dnsPromises } from "dns";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as path from "path";

/** Pebble's API port, fixed: the droplet's config names it (directoryUrlForGuest). */
const PEBBLE_API_PORT = 14000;
/** Pebble's management API (its roots and intermediates), on the host only. */
const PEBBLE_MANAGEMENT_PORT = 15000;
/** Where the guest sees the host's loopback under qemu's user networking. */
const HOST_ADDRESS_FOR_GUEST = "10.0.2.2";
const STARTUP_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export interface AcmeServerOptions {
    /** Directory for Pebble's config, the API certificate and both servers' logs. */
    workDir: string;
    /** Directory holding pebble and pebble-challtestsrv (the last line of build-acme.sh). */
    binDir: string;
}

export interface AcmeServer {
    /** The ACME directory as the host reaches it: https://127.0.0.1:14000/dir. */
    readonly directoryUrl: string;
    /** The ACME directory as a qemu guest reaches it: https://10.0.2.2:14000/dir (the `acmeServer` config). */
    readonly directoryUrlForGuest: string;
    /** The CA (PEM) that signed Pebble's API certificate: the droplet must trust it to reach Pebble. */
    readonly apiCaPem: string;
    /** apiCaPem as a file, e.g. for REQUESTS_CA_BUNDLE or curl --cacert. */
    readonly apiCaFile: string;
    /** The DNS server Pebble resolves names with, "127.0.0.1:PORT" (UDP and TCP). */
    readonly dnsServer: string;
    /** Pebble's logs: the validation attempts it made and why they failed. */
    readonly pebbleLogFile: string;
    readonly challtestsrvLogFile: string;
    /** The root (PEM) the certificates Pebble issues chain to; a new one at every start. */
    rootPem(): Promise<string>;
    /** The intermediate (PEM) that signs the certificates Pebble issues. */
    intermediatePem(): Promise<string>;
    /** Makes `name` resolve to `address` (only), for Pebble's validation and resolveA(). */
    setA(name: string, address: string): Promise<void>;
    /** Makes `name` resolve to nothing again. */
    clearA(name: string): Promise<void>;
    /** The IPv4 addresses the DNS server answers for `name`; [] when it has none. */
    resolveA(name: string): Promise<string[]>;
    /** Stops both servers and waits until they have exited. */
    close(): Promise<void>;
}

/**
 * Builds Pebble and pebble-challtestsrv (or finds them cached) with build-acme.sh; returns the
 * directory holding them.
 */
export function buildAcmeBinaries(): string {
    const result = spawnSync("bash", [path.join(__dirname, "build-acme.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (result.status !== 0) {
        throw new Error(`test/engine/build-acme.sh failed (exit ${result.status}); see its log above`);
    }
    const binDir = result.stdout.trim().split("\n").pop();
    if (!binDir) {
        throw new Error("test/engine/build-acme.sh printed no directory");
    }
    return binDir;
}

/** Starts Pebble and its DNS server; resolves once both answer. */
export async function startAcmeServer(options: AcmeServerOptions): Promise<AcmeServer> {
    const workDir = path.resolve(options.workDir);
    fs.mkdirSync(workDir, { recursive: true });
    const pebbleBinary = requireBinary(options.binDir, "pebble");
    const challtestsrvBinary = requireBinary(options.binDir, "pebble-challtestsrv");
    await requireFreeTcpPort(PEBBLE_API_PORT, "Pebble's API");
    await requireFreeTcpPort(PEBBLE_MANAGEMENT_PORT, "Pebble's management API");
    const dnsPort = await freeTcpAndUdpPort();
    const dnsManagementPort = await freeTcpPort();

    const api = makeApiCertificate(workDir);
    const configFile = path.join(workDir, "pebble-config.json");
    fs.writeFileSync(
        configFile,
        JSON.stringify(
            {
                pebble: {
                    // Loopback is enough for the guest: qemu's user networking connects the guest's
                    // 10.0.2.2 to the host's 127.0.0.1, and nothing off this machine should reach Pebble.
                    listenAddress: `127.0.0.1:${PEBBLE_API_PORT}`,
                    managementListenAddress: `127.0.0.1:${PEBBLE_MANAGEMENT_PORT}`,
                    certificate: api.certFile,
                    privateKey: api.keyFile,
                    // HTTP-01 goes to port 80 of the address the DNS gives, as with Let's Encrypt.
                    httpPort: 80,
                    // TLS-ALPN-01 is not used; Pebble only dials this port, and nothing listens there.
                    tlsPort: await freeTcpPort(),
                    ocspResponderURL: "",
                    externalAccountBindingRequired: false,
                },
            },
            null,
            2,
        ),
    );

    const challtestsrvLogFile = path.join(workDir, "challtestsrv.log");
    const pebbleLogFile = path.join(workDir, "pebble.log");
    const children: RunningChild[] = [];
    try {
        children.push(
            startChild(
                "pebble-challtestsrv",
                challtestsrvBinary,
                [
                    // Only the DNS server and its management API: the challenge responders it would
                    // otherwise start (on :5001, :5002, :5003 and a DoH server on :8443) are Pebble's
                    // own test fixtures, not ours; an empty address disables each.
                    "-http01",
                    "",
                    "-https01",
                    "",
                    "-tlsalpn01",
                    "",
                    "-doh",
                    "",
                    "-dnsserver",
                    `127.0.0.1:${dnsPort}`,
                    // Its default binds every interface (:8055).
                    "-management",
                    `127.0.0.1:${dnsManagementPort}`,
                    // By default it answers 127.0.0.1 / ::1 for every name it was not told about. Empty:
                    // an unknown name has no address, so a test that forgot setA() fails validation
                    // instead of passing by accident. (Pebble dials the first AAAA answer before any A.)
                    "-defaultIPv4",
                    "",
                    "-defaultIPv6",
                    "",
                ],
                {},
                challtestsrvLogFile,
            ),
        );
        children.push(
            startChild(
                "pebble",
                pebbleBinary,
                ["-config", configFile, "-dnsserver", `127.0.0.1:${dnsPort}`],
                {
                    // Pebble waits a random 0-5 s before each validation, to shake out clients that
                    // poll too eagerly; the tests have no such client, only time to lose.
                    PEBBLE_VA_NOSLEEP: "1",
                    // Pebble rejects 5% of valid nonces by default, to exercise clients' badNonce retry;
                    // certbot retries once, so a second rejection in a row would fail a test at random.
                    PEBBLE_WFE_NONCEREJECT: "0",
                    // Pebble reuses a valid authorization for half of new orders by default; every order
                    // should prove HTTP-01 anew, so a renewal test checks the droplet's port 80 again.
                    PEBBLE_AUTHZREUSE: "0",
                },
                pebbleLogFile,
            ),
        );

        const managementUrl = `http://127.0.0.1:${dnsManagementPort}`;
        const resolver = new dnsPromises.Resolver({ timeout: 1000, tries: 2 });
        resolver.setServers([`127.0.0.1:${dnsPort}`]);
        const managementGet = (what: string) => httpsGet(`https://127.0.0.1:${PEBBLE_MANAGEMENT_PORT}${what}`, api.caPem);
        const postToDns = async (endpoint: string, body: object): Promise<void> => {
            const response = await fetch(`${managementUrl}${endpoint}`, { method: "POST", body: JSON.stringify(body) });
            if (!response.ok) {
                throw new AnsweredWithError(
                    `pebble-challtestsrv ${endpoint} ${JSON.stringify(body)}: HTTP ${response.status} ${await response.text()}`,
                );
            }
        };
        const resolveA = async (name: string): Promise<string[]> => {
            try {
                return await resolver.resolve4(name);
            } catch (e) {
                // It answers NOERROR with no records (ENODATA) for a name it has no address for.
                const code = (e as NodeJS.ErrnoException).code;
                if (code === dnsPromises.NODATA || code === dnsPromises.NOTFOUND) {
                    return [];
                }
                throw e;
            }
        };

        await waitUntilReady(children, [
            ["Pebble's ACME directory", () => httpsGet(`https://127.0.0.1:${PEBBLE_API_PORT}/dir`, api.caPem)],
            ["Pebble's management API", () => managementGet("/roots/0")],
            ["pebble-challtestsrv's management API", () => postToDns("/clear-a", { host: "ready.acme-server.invalid" })],
            ["pebble-challtestsrv's DNS server", () => resolveA("ready.acme-server.invalid")],
        ]);

        return {
            directoryUrl: `https://127.0.0.1:${PEBBLE_API_PORT}/dir`,
            directoryUrlForGuest: `https://${HOST_ADDRESS_FOR_GUEST}:${PEBBLE_API_PORT}/dir`,
            apiCaPem: api.caPem,
            apiCaFile: api.caFile,
            dnsServer: `127.0.0.1:${dnsPort}`,
            pebbleLogFile,
            challtestsrvLogFile,
            rootPem: () => managementGet("/roots/0"),
            intermediatePem: () => managementGet("/intermediates/0"),
            // /add-a appends to the name's addresses: clear first, so the name has this one only.
            // The host may be given with or without the final dot; the server adds it.
            setA: async (name, address) => {
                await postToDns("/clear-a", { host: name });
                await postToDns("/add-a", { host: name, addresses: [address] });
            },
            clearA: (name) => postToDns("/clear-a", { host: name }),
            resolveA,
            close: () => stopChildren(children),
        };
    } catch (e) {
        await stopChildren(children);
        throw e;
    }
}

/**
 * Makes `dir` a home directory whose NSS database (dir/.pki/nssdb, where Chromium on Linux looks)
 * trusts `caPem` (one certificate) as a CA for websites, and nothing else besides the browser's
 * built-in roots. Run Chromium with HOME=dir to have it trust that CA. Needs certutil.
 */
export function makeTrustingBrowserHome(dir: string, caPem: string): void {
    const nssDb = path.join(dir, ".pki", "nssdb");
    fs.rmSync(nssDb, { recursive: true, force: true });
    fs.mkdirSync(nssDb, { recursive: true, mode: 0o700 });
    const caFile = path.join(dir, ".pki", "trusted-ca.pem");
    fs.writeFileSync(caFile, caPem);
    certutil(["-N", "-d", `sql:${nssDb}`, "--empty-password"]);
    // "C,," = a trusted CA for TLS server certificates; no trust for e-mail or code signing.
    certutil(["-A", "-d", `sql:${nssDb}`, "-n", "local test CA", "-t", "C,,", "-i", caFile]);
}

function certutil(args: string[]): void {
    const result = spawnSync("certutil", args, { encoding: "utf8" });
    const startError: NodeJS.ErrnoException | undefined = result.error;
    if (startError?.code === "ENOENT") {
        throw new Error("certutil is not installed: apt-get install libnss3-tools");
    }
    if (result.status !== 0) {
        throw new Error(`certutil ${args.join(" ")} failed (exit ${result.status}): ${result.stderr}${result.stdout}`);
    }
}

function requireBinary(binDir: string, name: string): string {
    const file = path.join(binDir, name);
    try {
        fs.accessSync(file, fs.constants.X_OK);
    } catch {
        throw new Error(`no executable ${file}: run test/engine/build-acme.sh and pass the directory it prints as binDir`);
    }
    return file;
}

interface ApiCertificate {
    caPem: string;
    caFile: string;
    certFile: string;
    keyFile: string;
}

/**
 * A throwaway CA ("local ACME API CA") and a certificate for Pebble's API signed by it, valid for
 * the names the host and a qemu guest use. Pebble's repository ships such a pair, but its key is
 * public; a fresh one per start keeps anything else from passing as Pebble.
 */
function makeApiCertificate(workDir: string): ApiCertificate {
    const dir = path.join(workDir, "api-tls");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const caFile = path.join(dir, "api-ca.pem");
    const caKeyFile = path.join(dir, "api-ca.key");
    const certFile = path.join(dir, "api.pem");
    const keyFile = path.join(dir, "api.key");
    const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"];
    openssl([
        "req",
        "-x509",
        ...ecKey,
        "-keyout",
        caKeyFile,
        "-out",
        caFile,
        "-days",
        "30",
        "-subj",
        "/CN=local ACME API CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl([
        "req",
        "-x509",
        ...ecKey,
        "-keyout",
        keyFile,
        "-out",
        certFile,
        "-days",
        "30",
        "-CA",
        caFile,
        "-CAkey",
        caKeyFile,
        "-subj",
        "/CN=local ACME API",
        "-addext",
        `subjectAltName=IP:${HOST_ADDRESS_FOR_GUEST},IP:127.0.0.1,DNS:localhost`,
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-addext",
        "extendedKeyUsage=serverAuth",
    ]);
    return { caPem: fs.readFileSync(caFile, "utf8"), caFile, certFile, keyFile };
}

function openssl(args: string[]): void {
    const result = spawnSync("openssl", args, { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`openssl ${args.join(" ")} failed (exit ${result.status}): ${result.error?.message ?? result.stderr}`);
    }
}

/** A server that is up but answered a request with an error status. */
class AnsweredWithError extends Error {}

interface RunningChild {
    name: string;
    process: ChildProcess;
    logFile: string;
    /** Resolves when the process has exited, with how. */
    exited: Promise<string>;
    exitedHow?: string;
}

function startChild(name: string, binary: string, args: string[], env: Record<string, string>, logFile: string): RunningChild {
    const log = fs.openSync(logFile, "w");
    let child: ChildProcess;
    try {
        child = spawn(binary, args, { stdio: ["ignore", log, log], env: { ...process.env, ...env } });
    } finally {
        fs.closeSync(log);
    }
    const running: RunningChild = {
        name,
        process: child,
        logFile,
        exited: new Promise((resolve) => {
            child.once("error", (e) => {
                running.exitedHow = `failed to start: ${e.message}`;
                resolve(running.exitedHow);
            });
            child.once("exit", (code, signal) => {
                running.exitedHow = signal ? `killed by ${signal}` : `exited with ${code}`;
                resolve(running.exitedHow);
            });
        }),
    };
    return running;
}

/** Polls each check until it passes; fails at once, with the log, when a child exits. */
async function waitUntilReady(children: RunningChild[], checks: [string, () => Promise<unknown>][]): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (const [what, check] of checks) {
        for (;;) {
            const dead = children.find((c) => c.exitedHow !== undefined);
            if (dead) {
                throw new Error(`${dead.name} ${dead.exitedHow} while starting; ${dead.logFile} ends:\n${tail(dead.logFile)}`);
            }
            try {
                await check();
                break;
            } catch (e) {
                // A server that answers, but with an error, is up: waiting will not help.
                if (e instanceof AnsweredWithError || Date.now() > deadline) {
                    const logs = children.map((c) => `${c.logFile} ends:\n${tail(c.logFile)}`).join("\n");
                    const failure =
                        e instanceof AnsweredWithError
                            ? `answered with an error: ${e.message}`
                            : `did not answer within ${STARTUP_TIMEOUT_MS / 1000} s (last error: ${(e as Error).message})`;
                    throw new Error(`${what} ${failure}\n${logs}`);
                }
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }
}

async function stopChildren(children: RunningChild[]): Promise<void> {
    await Promise.all(
        children.map(async (child) => {
            if (child.exitedHow !== undefined) {
                return;
            }
            child.process.kill("SIGTERM");
            const killer = setTimeout(() => child.process.kill("SIGKILL"), STOP_TIMEOUT_MS);
            await child.exited;
            clearTimeout(killer);
        }),
    );
}

function tail(file: string, lines = 20): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

function httpsGet(url: string, caPem: string): Promise<string> {
    return new Promise((resolve, reject) => {
        // Pebble refuses every request without a User-Agent (HTTP 400), as RFC 8555 6.1 asks.
        const headers = { "User-Agent": "jupyterlab-droplet-tests" };
        const request = https.get(url, { ca: caPem, timeout: 5000, headers }, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (body += chunk));
            response.on("end", () => {
                if (response.statusCode === 200) {
                    resolve(body);
                } else {
                    reject(new AnsweredWithError(`GET ${url}: HTTP ${response.statusCode} ${body}`));
                }
            });
            response.on("error", reject);
        });
        request.on("timeout", () => request.destroy(new Error(`GET ${url}: no answer in 5 s`)));
        request.on("error", reject);
    });
}

/** Fails naming the port and what wanted it when something listens there already. */
function requireFreeTcpPort(port: number, forWhat: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once("error", (e: NodeJS.ErrnoException) =>
            reject(
                new Error(
                    e.code === "EADDRINUSE"
                        ? `port ${port} (for ${forWhat}) is taken on 127.0.0.1: a Pebble left from an earlier run? ` +
                              `See \`ss -ltnp 'sport = :${port}'\``
                        : `cannot listen on 127.0.0.1:${port} for ${forWhat}: ${e.message}`,
                ),
            ),
        );
        probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
    });
}

function freeTcpPort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once("error", reject);
        probe.listen(0, "127.0.0.1", () => {
            const port = (probe.address() as net.AddressInfo).port;
            probe.close(() => resolve(port));
        });
    });
}

/** A port free for both TCP and UDP on 127.0.0.1: a DNS server listens on both. */
async function freeTcpAndUdpPort(): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
        const port = await freeTcpPort();
        const udpFree = await new Promise<boolean>((resolve) => {
            const socket = dgram.createSocket("udp4");
            socket.once("error", () => resolve(false));
            socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
        });
        if (udpFree) {
            return port;
        }
    }
    throw new Error("found no port free for both TCP and UDP on 127.0.0.1");
}
