/**
 * The HTTP side of the DigitalOcean stand-in: checks the bearer token, lets fault injection answer
 * first, finds the route (404 for an unknown one, 405 for a known one with the wrong method, both
 * logged), parses the JSON body, and answers the handler's reply or error as DigitalOcean does,
 * logging every request.
 */

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIPv4 } from "node:net";

import type { FaultInjector } from "./faults";
import { ApiError, type Json, type JsonObject } from "./json-fields";
import type { Reply, Route } from "./routing";
import type { FaultKind, RequestLogEntry } from "./types";
import { errorText } from "./util";

export class HttpFront {
    /** Every request answered so far, in order. */
    readonly requestLog: RequestLogEntry[] = [];
    /** "METHOD /path" of every call no route answers. */
    readonly unknownCallLog: string[] = [];

    constructor(
        private readonly routes: readonly Route[],
        private readonly token: string,
        private readonly faults: FaultInjector,
        private readonly log: (line: string) => void,
        private readonly logRequests: boolean,
    ) {}

    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const method = req.method ?? "GET";
        const rawUrl = req.url ?? "/";
        const host = req.headers.host ?? "127.0.0.1";
        const url = new URL(rawUrl, `http://${host}`);
        const requestId = randomUUID();
        let status = 500;
        let fault: FaultKind | undefined;
        try {
            const bodyText = await readBody(req);
            const reply = await this.dispatch(method, url, bodyText, req.headers.authorization, `http://${host}`, requestId);
            status = reply.status;
            fault = reply.fault;
            send(res, reply.status, reply.body, requestId, reply.headers);
        } catch (e) {
            if (e instanceof ApiError) {
                status = e.status;
                if (e.status === 405) {
                    res.setHeader("Allow", this.allowedMethods(url.pathname).join(", "));
                }
                send(res, e.status, { id: e.id, message: e.message, request_id: requestId }, requestId);
            } else {
                status = 500;
                this.log(`500 ${method} ${url.pathname}: ${errorText(e)}`);
                send(res, 500, { id: "server_error", message: `stand-in failure: ${errorText(e)}`, request_id: requestId }, requestId);
            }
        } finally {
            this.requestLog.push({ method, path: `${url.pathname}${url.search}`, status, ...(fault !== undefined ? { fault } : {}) });
            if (this.logRequests) this.log(`${method} ${url.pathname}${url.search} -> ${status}`);
        }
    }

    private async dispatch(
        method: string,
        url: URL,
        bodyText: string,
        authorization: string | undefined,
        base: string,
        requestId: string,
    ): Promise<Reply> {
        const path = url.pathname;
        if (authorization !== `Bearer ${this.token}`) {
            this.log(`401 ${method} ${path}: missing or wrong bearer token`);
            throw new ApiError(401, "Unauthorized", "Unable to authenticate you");
        }
        // Before anything is looked at, so that a faulted request changes nothing.
        const fault = this.faults.fault(method, url, bodyText, requestId);
        if (fault !== undefined) return fault;
        const matching = this.routes.filter((r) => r.pattern.test(path));
        if (matching.length === 0) {
            this.log(`404 unknown route: ${method} ${path}${url.search}`);
            this.unknownCallLog.push(`${method} ${path}`);
            throw ApiError.notFound(`no such route in the DigitalOcean stand-in: ${method} ${path}`);
        }
        const route = matching.find((r) => r.method === method);
        if (route === undefined) {
            this.log(`405 method not allowed: ${method} ${path}`);
            this.unknownCallLog.push(`${method} ${path}`);
            throw new ApiError(405, "method_not_allowed", `method ${method} is not allowed on ${path}`);
        }
        const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
        let body: Json | undefined;
        if (bodyText.trim() !== "") {
            try {
                body = JSON.parse(bodyText) as Json;
            } catch (e) {
                throw ApiError.unprocessable(`request body: not valid JSON (${errorText(e)})`);
            }
        }
        return route.handler({ method, url, params, body, base });
    }

    private allowedMethods(path: string): string[] {
        return this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method);
    }
}

async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
        chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    }
    return Buffer.concat(chunks).toString("utf8");
}

function send(
    res: ServerResponse,
    status: number,
    body: JsonObject | undefined,
    requestId: string,
    headers: Record<string, string> = {},
): void {
    res.setHeader("X-Request-Id", requestId);
    res.setHeader("RateLimit-Limit", "5000");
    res.setHeader("RateLimit-Remaining", "4999");
    res.setHeader("RateLimit-Reset", String(Math.floor(Date.now() / 1000) + 60));
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (body === undefined || status === 204) {
        res.writeHead(status);
        res.end();
        return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
}

export function isLoopback(host: string): boolean {
    return host === "localhost" || host === "::1" || (isIPv4(host) && host.startsWith("127."));
}
