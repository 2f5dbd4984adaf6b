/**
 * Routes of the DigitalOcean stand-in: what a handler receives and answers, how a route's path is
 * written (`:num` and `:str` parameters), and how lists are paged as DigitalOcean pages them.
 */

import { ApiError, type Json, type JsonObject } from "./json-fields";
import type { FaultKind } from "./types";

export interface Ctx {
    method: string;
    url: URL;
    params: string[];
    body: Json | undefined;
    base: string;
}

export interface Reply {
    status: number;
    body?: JsonObject;
    /** Extra response headers. */
    headers?: Record<string, string>;
    fault?: FaultKind;
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

export interface Route {
    method: string;
    pattern: RegExp;
    handler: Handler;
}

/** A route; `:num` in the path stands for a number, `:str` for any one path segment. */
export function route(method: string, path: string, handler: Handler): Route {
    return { method, pattern: new RegExp(`^${path.replace(/:num/g, "(\\d+)").replace(/:str/g, "([^/]+)")}$`), handler };
}

/** One page of `items` under `key`, with DigitalOcean's `links.pages` and `meta.total`. */
export function list(c: Ctx, key: string, items: Json[]): Reply {
    const page = queryInt(c.url, "page", 1);
    const perPage = queryInt(c.url, "per_page", 20);
    if (page < 1) throw ApiError.unprocessable("page: must be at least 1");
    if (perPage < 1 || perPage > 200) throw ApiError.unprocessable("per_page: must be between 1 and 200");
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const pageUrl = (n: number): string => {
        const u = new URL(c.url.pathname + c.url.search, c.base);
        u.searchParams.set("page", String(n));
        u.searchParams.set("per_page", String(perPage));
        return u.toString();
    };
    const pages: JsonObject = {};
    if (page > 1) {
        pages.first = pageUrl(1);
        pages.prev = pageUrl(page - 1);
    }
    if (page < last) {
        pages.next = pageUrl(page + 1);
        pages.last = pageUrl(last);
    }
    return { status: 200, body: { [key]: slice, links: { pages }, meta: { total: items.length } } };
}

function queryInt(url: URL, name: string, fallback: number): number {
    const raw = url.searchParams.get(name);
    if (raw === null) return fallback;
    if (!/^\d+$/.test(raw)) throw ApiError.unprocessable(`${name}: must be a positive integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
}
