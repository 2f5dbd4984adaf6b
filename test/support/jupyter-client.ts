// A small HTTPS client for a Jupyter server that trusts exactly one certificate (pinned): no
// test ever turns verification off.
import * as https from "https";
import type { LookupFunction } from "net";

export interface Response {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

export class JupyterClient {
    private readonly cookies = new Map<string, string>();

    /**
     * timeoutMs: how long a request may go without any byte from the server. address: where the
     * url's host name is (what a DNS server answered for it), when this machine's resolver does not know it.
     */
    constructor(
        private readonly baseUrl: string,
        private readonly caPem: string,
        private readonly timeoutMs = 30_000,
        private readonly address?: string,
    ) {}

    private lookup(): LookupFunction | undefined {
        const address = this.address;
        if (address === undefined) {
            return undefined;
        }
        return (_hostname, options, callback) => {
            if (options.all) {
                (callback as unknown as (e: null, all: { address: string; family: number }[]) => void)(null, [{ address, family: 4 }]);
            } else {
                callback(null, address, 4);
            }
        };
    }

    request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
        const url = new URL(path, this.baseUrl);
        const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
        return new Promise((resolve, reject) => {
            const req = https.request(
                url,
                {
                    method,
                    ca: this.caPem,
                    lookup: this.lookup(),
                    headers: {
                        ...(cookie ? { Cookie: cookie } : {}),
                        ...(body !== undefined ? { "Content-Length": Buffer.byteLength(body).toString() } : {}),
                        ...headers,
                    },
                    timeout: this.timeoutMs,
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        for (const setCookie of res.headers["set-cookie"] ?? []) {
                            const [pair] = setCookie.split(";");
                            const eq = pair.indexOf("=");
                            this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
                        }
                        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
                    });
                },
            );
            req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
            req.on("error", reject);
            req.end(body);
        });
    }

    cookieHeader(): string {
        return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    }

    cookieNames(): string[] {
        return [...this.cookies.keys()];
    }

    xsrf(): string {
        return this.cookies.get("_xsrf") ?? "";
    }

    /** The browser's login: GET /login for the _xsrf cookie, then POST the form (to /login?next=... when given). */
    async login(password: string, next?: string): Promise<Response> {
        const loginPath = next === undefined ? "/login" : `/login?${new URLSearchParams({ next }).toString()}`;
        const page = await this.request("GET", loginPath);
        if (page.status !== 200) {
            throw new Error(`GET ${loginPath} answered ${page.status}`);
        }
        const form = new URLSearchParams({ _xsrf: this.xsrf(), password }).toString();
        return this.request("POST", loginPath, form, { "Content-Type": "application/x-www-form-urlencoded" });
    }

    /** A JSON API call, with the XSRF header Jupyter requires for changes. */
    async api(method: string, path: string, body?: unknown): Promise<Response> {
        return this.request(method, path, body === undefined ? undefined : JSON.stringify(body), {
            "Content-Type": "application/json",
            "X-XSRFToken": this.xsrf(),
        });
    }

    /** Waits until GET /api answers, verified against the pinned certificate. */
    async waitUntilReady(timeoutMs: number): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        let lastError = "";
        while (Date.now() < deadline) {
            try {
                const res = await this.request("GET", "/api");
                if (res.status === 200) {
                    return (JSON.parse(res.body) as { version: string }).version;
                }
                lastError = `status ${res.status}`;
            } catch (e) {
                lastError = (e as Error).message;
            }
            await new Promise((r) => setTimeout(r, 1000));
        }
        throw new Error(`${this.baseUrl}/api did not answer within ${timeoutMs} ms: ${lastError}`);
    }
}
