/**
 * Typed reading of JSON request bodies for the DigitalOcean stand-in. Every failure is an
 * ApiError (422 unless told otherwise) whose message names the offending field by its path,
 * e.g. `inbound_rules[0].sources.addresses[1]`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** An error answered to the client as DigitalOcean does: `{"id": ..., "message": ...}`. */
export class ApiError extends Error {
    constructor(
        readonly status: number,
        readonly id: string,
        message: string,
    ) {
        super(message);
        this.name = "ApiError";
    }

    static unprocessable(message: string): ApiError {
        return new ApiError(422, "unprocessable_entity", message);
    }

    static notFound(message = "The resource you were accessing could not be found."): ApiError {
        return new ApiError(404, "not_found", message);
    }

    static conflict(message: string): ApiError {
        return new ApiError(409, "conflict", message);
    }
}

export function isJsonObject(value: Json | undefined): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the fields of one JSON object; `path` is its place in the request body. */
export class Fields {
    private constructor(
        private readonly data: JsonObject,
        private readonly path: string,
    ) {}

    /** The request body itself, which must be a JSON object. */
    static root(body: Json | undefined): Fields {
        if (!isJsonObject(body)) {
            throw ApiError.unprocessable("request body: must be a JSON object");
        }
        return new Fields(body, "");
    }

    static of(value: Json | undefined, path: string): Fields {
        if (!isJsonObject(value)) {
            throw ApiError.unprocessable(`${path}: must be an object`);
        }
        return new Fields(value, path);
    }

    /** Where this object sits in the request body ("" for the body itself). */
    get where(): string {
        return this.path === "" ? "request body" : this.path;
    }

    name(field: string): string {
        return this.path === "" ? field : `${this.path}.${field}`;
    }

    /** Present and not null. */
    has(field: string): boolean {
        const v = this.data[field];
        return v !== undefined && v !== null;
    }

    raw(field: string): Json | undefined {
        return this.data[field];
    }

    fail(field: string, problem: string): never {
        throw ApiError.unprocessable(`${this.name(field)}: ${problem}`);
    }

    /** A required, non-empty string. */
    str(field: string): string {
        const v = this.data[field];
        if (v === undefined || v === null) this.fail(field, "is required");
        if (typeof v !== "string") this.fail(field, `must be a string, got ${describe(v)}`);
        if (v.trim() === "") this.fail(field, "must not be empty");
        return v;
    }

    /** An optional string: absent or null gives undefined; "" is kept. */
    optStr(field: string): string | undefined {
        const v = this.data[field];
        if (v === undefined || v === null) return undefined;
        if (typeof v !== "string") this.fail(field, `must be a string, got ${describe(v)}`);
        return v;
    }

    optBool(field: string): boolean | undefined {
        const v = this.data[field];
        if (v === undefined || v === null) return undefined;
        if (typeof v !== "boolean") this.fail(field, `must be a boolean, got ${describe(v)}`);
        return v;
    }

    int(field: string): number {
        const v = this.data[field];
        if (v === undefined || v === null) this.fail(field, "is required");
        return this.checkInt(field, v);
    }

    optInt(field: string): number | undefined {
        const v = this.data[field];
        if (v === undefined || v === null) return undefined;
        return this.checkInt(field, v);
    }

    optArray(field: string): Json[] | undefined {
        const v = this.data[field];
        if (v === undefined || v === null) return undefined;
        if (!Array.isArray(v)) this.fail(field, `must be an array, got ${describe(v)}`);
        return v;
    }

    optStrArray(field: string): string[] | undefined {
        const items = this.optArray(field);
        if (items === undefined) return undefined;
        return items.map((item, i) => {
            if (typeof item !== "string") this.fail(`${field}[${i}]`, `must be a string, got ${describe(item)}`);
            return item;
        });
    }

    optIntArray(field: string): number[] | undefined {
        const items = this.optArray(field);
        if (items === undefined) return undefined;
        return items.map((item, i) => this.checkInt(`${field}[${i}]`, item));
    }

    /** A nested object, required. */
    obj(field: string): Fields {
        const v = this.data[field];
        if (v === undefined || v === null) this.fail(field, "is required");
        return Fields.of(v, this.name(field));
    }

    private checkInt(field: string, v: Json): number {
        if (typeof v !== "number" || !Number.isSafeInteger(v)) {
            this.fail(field, `must be an integer, got ${describe(v)}`);
        }
        return v;
    }
}

export function describe(v: Json): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "an array";
    if (typeof v === "object") return "an object";
    return `${typeof v} ${JSON.stringify(v)}`;
}
