/**
 * Fault injection for the DigitalOcean stand-in: which authenticated requests are answered 429 or
 * 503 instead of being handled (see FaultOptions), and how many have been.
 */

import type { Reply } from "./routing";
import type { FaultCounts, FaultOptions } from "./types";

export class FaultInjector {
    /** The options in force (undefined: off), numbering and bookkeeping. */
    private faultOptions: Required<FaultOptions> | undefined;
    private faultSeq = 0;
    private lastFaulted = false;
    /** "method path?query\nbody" of faulted requests whose repeat (a retry) has not come yet. */
    private readonly awaitingRetry = new Set<string>();
    private readonly faultCounts = { tooManyRequests: 0, unavailable: 0 };

    constructor(
        private readonly log: (line: string) => void,
        faults: FaultOptions | undefined,
    ) {
        this.setFaults(faults);
    }

    setFaults(faults: FaultOptions | undefined): void {
        const every = (name: keyof FaultOptions): number => {
            const v = faults?.[name];
            if (v === undefined) return 0;
            if (!Number.isSafeInteger(v) || v < 2) {
                throw new RangeError(`faults.${name} must be an integer of at least 2, got ${String(v)}`);
            }
            return v;
        };
        const tooManyRequestsEvery = every("tooManyRequestsEvery");
        const unavailableEvery = every("unavailableEvery");
        const retryAfterSeconds = faults?.retryAfterSeconds ?? 1;
        if (!Number.isSafeInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
            throw new RangeError(`faults.retryAfterSeconds must be a whole number of seconds, got ${String(retryAfterSeconds)}`);
        }
        this.faultOptions =
            tooManyRequestsEvery === 0 && unavailableEvery === 0
                ? undefined
                : { tooManyRequestsEvery, unavailableEvery, retryAfterSeconds };
        this.faultSeq = 0;
        this.lastFaulted = false;
        this.awaitingRetry.clear();
    }

    /** The fault to answer this authenticated request with, if any (see FaultOptions). */
    fault(method: string, url: URL, bodyText: string, requestId: string): Reply | undefined {
        const options = this.faultOptions;
        if (options === undefined) return undefined;
        const n = ++this.faultSeq;
        const key = `${method} ${url.pathname}${url.search}\n${bodyText}`;
        const afterFault = this.lastFaulted;
        this.lastFaulted = false;
        if (this.awaitingRetry.delete(key) || afterFault) return undefined;
        const { tooManyRequestsEvery: tooMany, unavailableEvery: unavailable, retryAfterSeconds } = options;
        let reply: Reply;
        if (tooMany > 0 && n % tooMany === 0) {
            this.faultCounts.tooManyRequests++;
            reply = {
                status: 429,
                fault: "too_many_requests",
                body: { id: "too_many_requests", message: "API Rate limit exceeded.", request_id: requestId },
                headers: {
                    "Retry-After": String(retryAfterSeconds),
                    "RateLimit-Limit": "5000",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": String(Math.floor(Date.now() / 1000) + retryAfterSeconds),
                },
            };
        } else if (unavailable > 0 && n % unavailable === 0) {
            this.faultCounts.unavailable++;
            reply = {
                status: 503,
                fault: "service_unavailable",
                body: {
                    id: "service_unavailable",
                    message: "The service is temporarily unavailable. Please try again later.",
                    request_id: requestId,
                },
            };
        } else {
            return undefined;
        }
        this.lastFaulted = true;
        this.awaitingRetry.add(key);
        this.log(`fault injected: ${reply.status} for ${method} ${url.pathname}${url.search} (request ${n} since faults were set)`);
        return reply;
    }

    counts(): FaultCounts {
        return { ...this.faultCounts };
    }
}
