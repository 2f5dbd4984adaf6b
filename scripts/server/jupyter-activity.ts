// Reads Jupyter's own record of activity on a stack's server, for the sweep: through an SSH
// forward to JupyterLab's port on the droplet's loopback (no firewall rule or ban is in the way,
// and only the pinned host key is trusted), logged in with the stack's password as JupyterLab's
// login page does, over TLS that trusts only the stack's certificate. Each API request carries
// no_track_activity=1, so jupyter_server does not count the sweep's own reading as activity
// (APIHandler.update_api_activity; /api/status never counts).
import { spawn } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import { IncomingHttpHeaders } from "http";
import * as https from "https";
import * as path from "path";
import * as tls from "tls";
import { StackOutputs } from "./command-line";
import { JupyterAnswers, UnexpectedAnswer } from "./idle";
import { RootSsh, withRootSsh } from "./ssh-access";

/** Which certificate the server must present. */
export type Trust =
    /** Exactly this one (the self-signed certificatePem output), byte for byte. */
    | { certificatePem: string }
    /** One for this name, from a certificate authority this machine trusts (with a `domain`). */
    | { domain: string };

export interface JupyterConnection {
    /** The Unix socket that leads to JupyterLab's port (ssh's forward; in the tests, a relay). */
    socketPath: string;
    /** The url's host (and port), sent as a browser sends it. */
    host: string;
    trust: Trust;
}

export interface ActivityReading {
    answers: JupyterAnswers;
    /** The server's own time when it answered (its Date header): idle time needs no clock of ours. */
    serverTime: Date;
}

interface Answer {
    status: number;
    headers: IncomingHttpHeaders;
    body: string;
}

/** How long a request may take before the reading is given up. */
const requestTimeoutMs = 30_000;

function tlsOptions(trust: Trust): https.RequestOptions {
    if ("domain" in trust) {
        return { servername: trust.domain, checkServerIdentity: (_host, cert) => tls.checkServerIdentity(trust.domain, cert) };
    }
    const pinned = new X509Certificate(trust.certificatePem).raw;
    return {
        ca: trust.certificatePem,
        // It names the server's public address, not the loopback the forward ends at: the peer is
        // checked by being the pinned certificate itself (the chain check above has already held).
        checkServerIdentity: (_host, cert) =>
            cert.raw.equals(pinned) ? undefined : new Error("the server's certificate is not the stack's certificatePem"),
    };
}

/** A login to one server: its cookies (the _xsrf one and the login's), kept between requests. */
class JupyterSession {
    private readonly cookies = new Map<string, string>();

    constructor(private readonly connection: JupyterConnection) {}

    request(method: string, requestPath: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
        const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
        return new Promise((resolve, reject) => {
            const request = https.request(
                {
                    socketPath: this.connection.socketPath,
                    method,
                    path: requestPath,
                    // A connection of its own each time: none outlives the forward.
                    agent: false,
                    timeout: requestTimeoutMs,
                    headers: {
                        Host: this.connection.host,
                        ...(cookie === "" ? {} : { Cookie: cookie }),
                        ...(body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) }),
                        ...headers,
                    },
                    ...tlsOptions(this.connection.trust),
                },
                (response) => {
                    const chunks: Buffer[] = [];
                    response.on("data", (chunk: Buffer) => chunks.push(chunk));
                    response.on("end", () => {
                        for (const setCookie of response.headers["set-cookie"] ?? []) {
                            const pair = setCookie.split(";")[0];
                            const eq = pair.indexOf("=");
                            this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
                        }
                        resolve({
                            status: response.statusCode ?? 0,
                            headers: response.headers,
                            body: Buffer.concat(chunks).toString("utf8"),
                        });
                    });
                },
            );
            request.on("timeout", () => request.destroy(new Error(`no answer in ${requestTimeoutMs / 1000} s`)));
            request.on("error", (e: NodeJS.ErrnoException) =>
                reject(new Error(`${method} ${requestPath}: ${e.message}${this.meaning(e)}`)),
            );
            request.end(body);
        });
    }

    /** What a failed request means here: a TLS error's code alone says little. */
    private meaning(e: NodeJS.ErrnoException): string {
        if (e.code === "ECONNRESET") {
            // ssh closes the forwarded connection when nothing listens on the server's port.
            return " (nothing answered on JupyterLab's port on the server: is it running? npm run server -- logs)";
        }
        if (!/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code ?? "")) {
            return "";
        }
        const trust = this.connection.trust;
        return "domain" in trust
            ? ` (not a certificate for ${trust.domain} from an authority this machine trusts)`
            : " (not the stack's certificate: the certificatePem output)";
    }

    /** As the login page does: GET /login for the _xsrf cookie, then POST the form with it. */
    async login(password: string): Promise<void> {
        const page = await this.request("GET", "/login");
        const xsrf = this.cookies.get("_xsrf");
        if (page.status !== 200 || xsrf === undefined) {
            throw new Error(`GET /login answered ${page.status}${xsrf === undefined ? " without an _xsrf cookie" : ""}`);
        }
        const form = new URLSearchParams({ _xsrf: xsrf, password }).toString();
        const login = await this.request("POST", "/login", form, { "Content-Type": "application/x-www-form-urlencoded" });
        if (login.status !== 302) {
            throw new Error(
                login.status === 401 ? "JupyterLab refused the stack's password (401)" : `POST /login answered ${login.status}`,
            );
        }
    }

    /** An API answer as JSON, asking the server not to count the request as activity. */
    async read(api: string): Promise<{ value: unknown; headers: IncomingHttpHeaders }> {
        const answer = await this.request("GET", `${api}?no_track_activity=1`);
        if (answer.status !== 200) {
            throw new UnexpectedAnswer(`GET ${api} answered ${answer.status}`);
        }
        try {
            return { value: JSON.parse(answer.body) as unknown, headers: answer.headers };
        } catch {
            throw new UnexpectedAnswer(`GET ${api} did not answer JSON`);
        }
    }
}

/** Logs in and reads /api/status, /api/kernels and /api/terminals, counting none of it as activity. */
export async function readJupyterActivity(connection: JupyterConnection, password: string): Promise<ActivityReading> {
    const session = new JupyterSession(connection);
    await session.login(password);
    const status = await session.read("/api/status");
    const kernels = await session.read("/api/kernels");
    const terminals = await session.read("/api/terminals");
    // The last answer's time is the latest: every activity it lists happened before it.
    const date = Date.parse(terminals.headers.date ?? "");
    return {
        answers: { status: status.value, kernels: kernels.value, terminals: terminals.value },
        serverTime: Number.isNaN(date) ? new Date() : new Date(date),
    };
}

/** How long ssh may take to log in and open the forward. */
const forwardTimeoutMs = 45_000;

/**
 * Runs `use` while ssh forwards a Unix socket in the private directory to the server's loopback
 * port: a socket only this user can reach, where a TCP port on this machine's loopback would be
 * open to every local user. ssh is stopped afterwards.
 */
async function withForward<T>(ssh: RootSsh, socketPath: string, port: number, use: () => Promise<T>): Promise<T> {
    const child = spawn(
        "ssh",
        [...ssh.options, "-N", "-o", "ExitOnForwardFailure=yes", "-L", `${socketPath}:127.0.0.1:${port}`, ssh.destination],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let said = "";
    child.stderr.on("data", (d: Buffer) => (said += d.toString()));
    const exited = new Promise<string>((resolve) => {
        child.on("error", (e) => resolve(`ssh could not run: ${e.message}`));
        child.on("exit", (code) => resolve(`ssh: ${said.trim().split("\n").pop() || `exited with ${code}`}`));
    });
    let gone: string | undefined;
    void exited.then((why) => (gone = why));
    try {
        const deadline = Date.now() + forwardTimeoutMs;
        // ssh makes the socket once it has logged in and listens on it at once.
        while (!fs.existsSync(socketPath)) {
            if (gone !== undefined) {
                throw new Error(gone);
            }
            if (Date.now() > deadline) {
                throw new Error(`ssh did not open the forward within ${forwardTimeoutMs / 1000} s`);
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return await use();
    } finally {
        if (gone === undefined) {
            child.kill("SIGTERM");
            await exited;
        }
    }
}

/** The stack's server's activity, read as the sweep reads it (see the top of this file). */
export async function readServerActivity(out: StackOutputs): Promise<ActivityReading> {
    if (typeof out.url !== "string" || typeof out.password !== "string") {
        throw new Error("the stack has no url or password output: run `pulumi up`");
    }
    const url = new URL(out.url);
    const port = url.port === "" ? 443 : Number(url.port);
    // Without a domain the outputs pin the self-signed certificate; with one, they describe the ACME certificate, trusted by its name.
    const trust: Trust = typeof out.certificatePem === "string" ? { certificatePem: out.certificatePem } : { domain: url.hostname };
    const password = out.password;
    return withRootSsh(out, (ssh) => {
        const socketPath = path.join(ssh.dir, "jupyterlab.sock");
        return withForward(ssh, socketPath, port, () => readJupyterActivity({ socketPath, host: url.host, trust }, password));
    });
}
