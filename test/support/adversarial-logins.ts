// Refused JupyterLab logins shaped the way an attacker may shape them, as raw HTTP/1.1 bytes
// (an ordinary HTTP client normalizes or refuses most of them), and a sender that tells the
// status each one got. The login guard must count every one against the sender's own address:
// test/unit/login-guard-attacks.test.ts proves it with the real server and the real fail2ban,
// and the engine suite sends them to a droplet to see the sender banned.
import * as net from "node:net";
import * as tls from "node:tls";

export interface RawRequest {
    /** What the request tries, for messages. */
    name: string;
    bytes: Buffer;
}

/** Where requests go: HTTPS at host:port. */
export interface TlsTarget {
    host: string;
    port: number;
    /** The PEM certificate (or its CA) to trust; undefined: no verification, as an attacker connects. */
    ca?: string;
    /** The name the certificate is for, when host is an address and the certificate names a domain. */
    servername?: string;
    /** How long a request may wait for its answer before it counts as unanswered (0); default 30 s. */
    timeoutMs?: number;
}

/** Another address, written where a careless filter would take it for the client's. */
export const spoofedAddress = "6.6.6.6";
const spoof = `(@${spoofedAddress}) 1.00ms`;
/** A made-up XSRF token: tornado only asks that the _xsrf cookie and the form field agree. */
const xsrf = "2|c0ffee00|0123456789abcdef0123456789abcdef|1700000000";

export interface LoginPostOptions {
    /** The request target exactly as sent, one character a byte (latin1); default /login. */
    target?: string;
    /** The Host header; default "localhost". */
    host?: string;
    /** The password in the form; default a wrong one. */
    password?: string;
    /** The whole url-encoded form instead: the password and the matching _xsrf field. */
    form?: string;
    /** Header lines added as they are ("Name: value"), one character a byte. */
    headers?: string[];
    /** Sends no _xsrf cookie. */
    noXsrfCookie?: boolean;
}

/** A login form POST, the only request on its connection. */
export function loginPost(options: LoginPostOptions = {}): Buffer {
    const form = Buffer.from(
        options.form ?? new URLSearchParams({ _xsrf: xsrf, password: options.password ?? "not the password" }).toString(),
    );
    const head = [
        `POST ${options.target ?? "/login"} HTTP/1.1`,
        `Host: ${options.host ?? "localhost"}`,
        "Content-Type: application/x-www-form-urlencoded",
        `Content-Length: ${form.length}`,
        ...(options.noXsrfCookie ? [] : [`Cookie: _xsrf=${xsrf}`]),
        "Connection: close",
        ...(options.headers ?? []),
    ];
    return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"), form]);
}

/** Bytes 0x80-0xFF: tornado takes them in a request target and reads them as latin1. */
export const highBytes = Array.from({ length: 0x80 }, (_, i) => 0x80 + i);

/**
 * Login attempts jupyter_server refuses (status 400 or more) that a filter written for the plain
 * `401 POST /login (@address)` line may miss or misread; each carries a wrong password. `host`
 * is the Host header and the authority of the absolute-form targets (e.g. "203.0.113.7:9000").
 */
export function adversarialLogins(host: string): RawRequest[] {
    const post = (name: string, options: LoginPostOptions = {}): RawRequest => ({ name, bytes: loginPost({ host, ...options }) });
    const wrongXsrf = new URLSearchParams({ _xsrf: "2|deadbeef|00|1", password: "x" }).toString();
    return [
        post("a wrong password"),
        post("a wrong password after ?next=, as a browser sends it", { target: "/login?next=%2Flab" }),
        post("an absolute-form target", { target: `https://${host}/login` }),
        post("an absolute-form target with a query, upper case", { target: `HTTPS://${host.toUpperCase()}/login?next=%2Flab` }),
        post("bytes 0x80-0xFF in next", { target: `/login?next=${Buffer.from(highBytes).toString("latin1")}` }),
        post("next=//evil.example", { target: "/login?next=//evil.example" }),
        post("next=%ZZ", { target: "/login?next=%ZZ%" }),
        post("the log's address text in next", { target: `/login?next=${encodeURIComponent(`) ${spoof}`)}(@${spoofedAddress})` }),
        post("the log's address text in a next that is not UTF-8", { target: `/login?next=%FF${encodeURIComponent(` ${spoof}`)}` }),
        post("a parameter the log scrubs", { target: "/login?token=abc&next=/lab" }),
        post("a long next", { target: `/login?next=/${"a".repeat(8000)}` }),
        post("no _xsrf at all", { form: "password=x", noXsrfCookie: true }),
        post("an _xsrf field without its cookie", { noXsrfCookie: true }),
        post("an _xsrf that does not match its cookie", { form: wrongXsrf }),
        post("a password that is not UTF-8", { form: `_xsrf=${encodeURIComponent(xsrf)}&password=%FF%FE` }),
        post("a foreign Origin", { headers: ["Origin: https://evil.example"] }),
        post("a Referer with a tab and the log's address text", { headers: [`Referer: x\t${spoof} referer=None`] }),
        post("a Referer that reads like a refused login from another address", {
            headers: [`Referer: x ServerApp] 401 POST /login ${spoof} referer=None`],
        }),
        post("the same Referer on a refusal other than 401", {
            noXsrfCookie: true,
            headers: [`Referer: x ServerApp] 401 POST /login ${spoof} referer=None`],
        }),
        post("X-Forwarded-For, X-Real-Ip and Forwarded naming another address", {
            headers: [`X-Forwarded-For: ${spoofedAddress}`, `X-Real-Ip: ${spoofedAddress}`, `Forwarded: for=${spoofedAddress}`],
        }),
    ];
}

/**
 * Sends each request on its own TLS connection, one after another, and gives the status code of
 * each answer, in order: 0 where none came (refused, reset or timed out, as once a ban drops the packets).
 */
export async function sendRawRequests(target: TlsTarget, requests: readonly RawRequest[]): Promise<number[]> {
    const statuses: number[] = [];
    for (const request of requests) {
        statuses.push(
            await new Promise<number>((resolve) => {
                const chunks: Buffer[] = [];
                const socket = tls.connect(
                    {
                        host: target.host,
                        port: target.port,
                        ca: target.ca,
                        rejectUnauthorized: target.ca !== undefined,
                        servername: target.servername ?? (net.isIP(target.host) ? undefined : target.host),
                    },
                    () => socket.write(request.bytes),
                );
                const done = () => {
                    socket.destroy();
                    resolve(Number(/^HTTP\/1\.[01] (\d{3}) /.exec(Buffer.concat(chunks).toString("latin1"))?.[1] ?? 0));
                };
                socket.setTimeout(target.timeoutMs ?? 30_000, done);
                socket.on("data", (chunk: Buffer) => chunks.push(chunk));
                socket.on("end", done);
                socket.on("error", done);
            }),
        );
    }
    return statuses;
}
