// Reads and validates the stack's config once, before any resource is registered.
// Pure: it sees config only through a ConfigSource, so tests need no Pulumi at all.
import * as fs from "fs";
import * as path from "path";

/** Where raw config values come from: the stack's config in index.ts, a plain map in tests. */
export interface ConfigSource {
    /** The raw string value of `key` (structured values arrive as JSON text), or undefined. */
    get(key: string): string | undefined;
    /** Whether `key` was set as a secret (`pulumi config set --secret`). */
    isSecret(key: string): boolean;
    /** Every key set in the namespace, when the source can tell: an unknown one is a mistyped one. */
    keys?(): string[];
}

export interface DropletConfig {
    region: string;
    size: string;
    image: string;
    /** The plain password, kept in memory only; index.ts wraps it in pulumi.secret. */
    password?: string;
    sshPublicKey?: string;
    allowedCidrs: string[];
    jupyterPort: number;
    dataVolumeGb: number;
    retainData: boolean;
    /** Minutes an idle, unconnected kernel (or an inactive terminal) lives on; 0 = forever. */
    idleKernelMinutes: number;
    /** Failed JupyterLab logins from one address within 10 minutes that ban it; 0 = no ban. */
    maxLoginFailures: number;
    /** How long a ban from the JupyterLab port lasts. */
    banMinutes: number;
    /** When true the droplet and what only it needs are deleted; the volume, key and password stay. */
    paused: boolean;
    /** A reserved IP that keeps the address (url, certificate, SSH entry) through pause and replacement. */
    reservedIp: boolean;
    /** The server's own name in a DigitalOcean-managed zone, with a certificate from acmeServer; lowercase. */
    domain?: string;
    /** Where the ACME server sends expiry and account notices. */
    acmeEmail?: string;
    /** The ACME directory URL the certificate comes from. */
    acmeServer: string;
    jupyterlabVersion: string;
    pythonPackages: string[];
    /** The requirements file's contents (read here so a missing file is a config error). */
    requirements?: { path: string; text: string };
    /** The id of the data volume a change may delete or replace: the user's "yes, on purpose". */
    allowVolumeDeletion?: string;
}

export const namespace = "jupyterlab-droplet";

export const defaults = {
    region: "nyc3",
    size: "s-1vcpu-2gb",
    image: "debian-13-x64",
    allowedCidrs: ["0.0.0.0/0", "::/0"],
    jupyterPort: 9000,
    dataVolumeGb: 10,
    retainData: false,
    idleKernelMinutes: 60,
    maxLoginFailures: 5,
    banMinutes: 60,
    paused: false,
    reservedIp: false,
    acmeServer: "https://acme-v02.api.letsencrypt.org/directory",
    jupyterlabVersion: "4.6.6",
} as const;

export const regions = ["nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "tor1", "lon1", "ams3", "fra1", "sgp1", "blr1", "syd1", "atl1"] as const;

/** Every key the program reads. */
export const configKeys = [
    "region",
    "size",
    "image",
    "password",
    "sshPublicKey",
    "allowedCidrs",
    "jupyterPort",
    "dataVolumeGb",
    "retainData",
    "idleKernelMinutes",
    "maxLoginFailures",
    "banMinutes",
    "paused",
    "reservedIp",
    "domain",
    "acmeEmail",
    "acmeServer",
    "jupyterlabVersion",
    "pythonPackages",
    "requirementsFile",
    "allowVolumeDeletion",
] as const;

export const minimumPasswordLength = 12;
export const minimumMemoryMb = 2048;
const maximumVolumeGb = 16 * 1024;
/** A week: anything longer is as good as never, which 0 says plainly. */
const maximumIdleKernelMinutes = 7 * 24 * 60;
/** Beyond this many tries a limit stops nobody who guesses; the owner's typos stay far below it. */
const maximumLoginFailures = 100;
/** A year: longer bans would only outlive the addresses they were meant for. */
const maximumBanMinutes = 365 * 24 * 60;

export class ConfigError extends Error {
    constructor(key: string, value: string, allowed: string) {
        super(`Invalid config ${namespace}:${key} = ${value}: ${allowed}`);
        this.name = "ConfigError";
    }
}

/** Validates every key, collecting all problems so the user fixes them in one round. */
export function readConfig(source: ConfigSource, projectDir: string): DropletConfig {
    const errors: string[] = [];
    function check<T>(read: () => T, fallback: T): T {
        try {
            return read();
        } catch (e) {
            if (e instanceof ConfigError) {
                errors.push(e.message);
                return fallback;
            }
            throw e;
        }
    }
    const raw = (key: string) => {
        const value = source.get(key);
        if (value === undefined || value === "") {
            return undefined;
        }
        // A private key pasted where the public one goes has line breaks too: its own check says what it is.
        const control = /PRIVATE KEY/.test(value) ? undefined : controlCharacterIn(value);
        if (control !== undefined) {
            // Never echo the password.
            const shown = key === "password" ? `(a value of ${value.length} characters)` : JSON.stringify(value);
            throw new ConfigError(key, shown, `must not contain control characters (line breaks, tabs, escapes), and it holds ${control}`);
        }
        return value;
    };

    const config: DropletConfig = {
        region: check(() => parseRegion(raw("region") ?? defaults.region), defaults.region),
        size: check(() => parseSize(raw("size") ?? defaults.size), defaults.size),
        image: check(() => parseImage(raw("image") ?? defaults.image), defaults.image),
        password: check(() => parsePassword(raw("password"), source.isSecret("password")), undefined),
        sshPublicKey: check(() => parseSshPublicKey(raw("sshPublicKey")), undefined),
        allowedCidrs: check(() => parseCidrs(raw("allowedCidrs")), [...defaults.allowedCidrs]),
        jupyterPort: check(() => parsePort(raw("jupyterPort")), defaults.jupyterPort),
        dataVolumeGb: check(() => parseVolumeSize(raw("dataVolumeGb")), defaults.dataVolumeGb),
        retainData: check(() => parseBoolean("retainData", raw("retainData"), defaults.retainData), false),
        idleKernelMinutes: check(() => parseIdleKernelMinutes(raw("idleKernelMinutes")), defaults.idleKernelMinutes),
        maxLoginFailures: check(() => parseMaxLoginFailures(raw("maxLoginFailures")), defaults.maxLoginFailures),
        banMinutes: check(() => parseBanMinutes(raw("banMinutes")), defaults.banMinutes),
        paused: check(() => parseBoolean("paused", raw("paused"), defaults.paused), defaults.paused),
        reservedIp: check(() => parseBoolean("reservedIp", raw("reservedIp"), defaults.reservedIp), defaults.reservedIp),
        domain: check(() => parseDomain(raw("domain")), undefined),
        acmeEmail: check(() => parseAcmeEmail(raw("acmeEmail")), undefined),
        acmeServer: check(() => parseAcmeServer(raw("acmeServer")), defaults.acmeServer),
        jupyterlabVersion: check(() => parseJupyterlabVersion(raw("jupyterlabVersion")), defaults.jupyterlabVersion),
        pythonPackages: check(() => parsePythonPackages(raw("pythonPackages")), []),
        requirements: check(() => readRequirementsFile(raw("requirementsFile"), projectDir), undefined),
        allowVolumeDeletion: check(() => raw("allowVolumeDeletion"), undefined),
    };
    for (const key of source.keys?.() ?? []) {
        if (!(configKeys as readonly string[]).includes(key)) {
            errors.push(unknownKeyError(key, source.isSecret(key) ? "(a secret value)" : JSON.stringify(source.get(key) ?? "")).message);
        }
    }
    if (config.paused && config.dataVolumeGb === 0) {
        // Pausing deletes the droplet and its disk: without a volume the notebooks would go with it.
        errors.push(
            new ConfigError(
                "paused",
                "true",
                "needs a data volume: with dataVolumeGb 0 the notebooks live on the droplet's disk, which pausing deletes",
            ).message,
        );
    }
    if (errors.length > 0) {
        throw new Error(errors.join("\n"));
    }
    return config;
}

/** A key the program does not read: most likely a typo, which would otherwise leave the default in force. */
export function unknownKeyError(key: string, shownValue: string): ConfigError {
    const nearest = nearestKey(key);
    return new ConfigError(
        key,
        shownValue,
        `is not a setting of this program, so it would change nothing` +
            `${nearest === undefined ? "" : `; did you mean ${nearest}?`} (\`pulumi config rm ${key}\`; the settings are ${configKeys.join(", ")})`,
    );
}

/** The known key closest to `key` in edit distance (case aside), if close enough to be a typo of it. */
export function nearestKey(key: string): string | undefined {
    const scored = configKeys
        .map((known) => ({ known, distance: editDistance(key.toLowerCase(), known.toLowerCase()) }))
        .sort((a, b) => a.distance - b.distance);
    const best = scored[0];
    return best.distance <= Math.max(2, Math.floor(best.known.length / 3)) ? best.known : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counting as one edit. */
function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.length][b.length];
}

/**
 * The first control character in a raw value or in any string a JSON value holds, as "U+000A",
 * or undefined. No setting has a use for one, and in a list entry a line break would turn one
 * requirement into two lines of requirements.txt, the second read by pip as an option.
 */
export function controlCharacterIn(value: string): string | undefined {
    const texts = [value];
    try {
        const walk = (v: unknown): void => {
            if (typeof v === "string") {
                texts.push(v);
            } else if (typeof v === "object" && v !== null) {
                Object.values(v).forEach(walk);
            }
        };
        walk(JSON.parse(value));
    } catch {
        // Not JSON: the raw text is all there is.
    }
    for (const text of texts) {
        const found = /[\u0000-\u001f\u007f-\u009f]/.exec(text);
        if (found !== null) {
            return `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
        }
    }
    return undefined;
}

export function parseRegion(value: string): string {
    if (!(regions as readonly string[]).includes(value)) {
        throw new ConfigError("region", JSON.stringify(value), `must be one of ${regions.join(", ")}`);
    }
    return value;
}

/** The RAM of a size slug in MB when the slug states it (s-1vcpu-2gb, s-1vcpu-512mb-10gb), else undefined. */
export function memoryMbOfSize(slug: string): number | undefined {
    const match = /^[a-z0-9]+-\d+vcpu-(\d+)(mb|gb)\b/.exec(slug);
    if (!match) {
        return undefined;
    }
    return Number(match[1]) * (match[2] === "gb" ? 1024 : 1);
}

export function parseSize(value: string): string {
    if (!/^[a-z0-9]+(-[a-z0-9]+)+$/.test(value)) {
        throw new ConfigError("size", JSON.stringify(value), "must be a DigitalOcean size slug such as s-1vcpu-2gb or s-2vcpu-4gb");
    }
    const memoryMb = memoryMbOfSize(value);
    if (memoryMb !== undefined && memoryMb < minimumMemoryMb) {
        throw new ConfigError(
            "size",
            JSON.stringify(value),
            `has ${memoryMb} MB of RAM; JupyterLab needs a size with at least 2 GB, such as s-1vcpu-2gb or s-2vcpu-4gb`,
        );
    }
    return value;
}

export function parseImage(value: string): string {
    // The user-data and the setup scripts use apt and systemd: only Ubuntu and Debian images fit.
    if (!/^(ubuntu-\d{2}-\d{2}|debian-\d{2})-x64$/.test(value)) {
        throw new ConfigError(
            "image",
            JSON.stringify(value),
            "must be an Ubuntu or Debian x86-64 image slug such as debian-13-x64 or ubuntu-24-04-x64",
        );
    }
    return value;
}

export function parsePassword(value: string | undefined, isSecret: boolean): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    // Never echo the value itself: describe it instead.
    const described = `(a value of ${[...value].length} characters)`;
    if (!isSecret) {
        throw new ConfigError("password", described, "is stored in plain text; set it with `pulumi config set --secret password`");
    }
    if ([...value].length < minimumPasswordLength) {
        throw new ConfigError("password", described, `must be at least ${minimumPasswordLength} characters long`);
    }
    if (/[\r\n]/.test(value)) {
        throw new ConfigError("password", described, "must be a single line");
    }
    return value;
}

const sshKeyTypes = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

export function parseSshPublicKey(value: string | undefined): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    const key = value.trim();
    const shown = JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key);
    const allowed = `must be one OpenSSH public key line ("${sshKeyTypes.slice(0, 3).join('", "')} ... AAAA... comment"), as in ~/.ssh/id_ed25519.pub`;
    if (/PRIVATE KEY/.test(key)) {
        throw new ConfigError("sshPublicKey", "(a private key)", `${allowed}; never the private key`);
    }
    const [type, body] = key.split(/\s+/);
    if (key.includes("\n") || !sshKeyTypes.includes(type) || body === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
        throw new ConfigError("sshPublicKey", shown, allowed);
    }
    const blob = Buffer.from(body, "base64");
    const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (nameLength < 0 || blob.subarray(4, 4 + nameLength).toString("latin1") !== type) {
        throw new ConfigError("sshPublicKey", shown, `${allowed}; its key data does not match its type ${type}`);
    }
    if (type === "ssh-rsa" && rsaModulusBits(blob) < 2048) {
        throw new ConfigError("sshPublicKey", shown, "is an RSA key shorter than 2048 bits; use ssh-ed25519 or RSA of 2048+ bits");
    }
    return key;
}

function rsaModulusBits(blob: Buffer): number {
    // ssh-rsa wire format: string "ssh-rsa", mpint e, mpint n.
    let offset = 0;
    const next = () => {
        const length = blob.readUInt32BE(offset);
        const field = blob.subarray(offset + 4, offset + 4 + length);
        offset += 4 + length;
        return field;
    };
    try {
        next();
        next();
        const modulus = next();
        const significant = modulus[0] === 0 ? modulus.subarray(1) : modulus;
        return significant.length * 8;
    } catch {
        return 0;
    }
}

function parseJsonList(key: string, value: string, example: string): unknown[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch {
        throw new ConfigError(key, JSON.stringify(value), `must be a list, set with \`pulumi config set --path '${key}[0]' ${example}\``);
    }
    if (!Array.isArray(parsed)) {
        throw new ConfigError(key, value, `must be a list, set with \`pulumi config set --path '${key}[0]' ${example}\``);
    }
    return parsed;
}

export function parseCidrs(value: string | undefined): string[] {
    if (value === undefined) {
        return [...defaults.allowedCidrs];
    }
    const list = parseJsonList("allowedCidrs", value, "203.0.113.7/32");
    if (list.length === 0) {
        throw new ConfigError("allowedCidrs", value, "must hold at least one CIDR block, or be unset for anywhere");
    }
    return list.map((item) => {
        if (typeof item !== "string" || !isCidr(item)) {
            throw new ConfigError(
                "allowedCidrs",
                JSON.stringify(item),
                "each entry must be an IPv4 or IPv6 CIDR block such as 203.0.113.7/32 or 2001:db8::/48",
            );
        }
        const { network, hostBitsSet } = cidrNetwork(item);
        if (hostBitsSet) {
            // 203.0.113.7/24 is most often one's own address with the wrong suffix, not a wish to
            // let in 255 neighbours: say what it would mean, and what was probably meant.
            const [address] = item.split("/");
            throw new ConfigError(
                "allowedCidrs",
                JSON.stringify(item),
                `has host bits set: as a block it means ${network}, every address from there; ` +
                    `for your own address alone write ${address}/${address.includes(":") ? 128 : 32}`,
            );
        }
        return item;
    });
}

/** The block a CIDR names (its host bits cleared; IPv6 in RFC 5952 text), and whether it had any set. */
export function cidrNetwork(cidr: string): { network: string; hostBitsSet: boolean } {
    const [address, prefix] = cidr.split("/");
    const bits = Number(prefix);
    const v6 = address.includes(":");
    const width = v6 ? 128 : 32;
    const value = v6 ? ipv6Value(address) : address.split(".").reduce((n, octet) => (n << 8n) + BigInt(octet), 0n);
    const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
    const network = value & mask;
    const text = v6 ? ipv6Text(network) : [24n, 16n, 8n, 0n].map((shift) => String((network >> shift) & 255n)).join(".");
    return { network: `${text}/${bits}`, hostBitsSet: network !== value };
}

function ipv6Value(address: string): bigint {
    const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
    const headGroups = head === "" ? [] : head.split(":");
    const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
    const groups =
        tail === undefined
            ? headGroups
            : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
    return groups.reduce((n, group) => (n << 16n) + BigInt(parseInt(group, 16)), 0n);
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as "::". */
function ipv6Text(value: bigint): string {
    const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
    let best = { start: -1, length: 0 };
    for (let i = 0; i < 8; i++) {
        let j = i;
        while (j < 8 && groups[j] === 0) {
            j++;
        }
        if (j - i > best.length && j - i >= 2) {
            best = { start: i, length: j - i };
        }
    }
    const text = groups.map((g) => g.toString(16));
    if (best.start < 0) {
        return text.join(":");
    }
    return `${text.slice(0, best.start).join(":")}::${text.slice(best.start + best.length).join(":")}`;
}

export function isCidr(value: string): boolean {
    const [address, prefix, ...rest] = value.split("/");
    if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) {
        return false;
    }
    const bits = Number(prefix);
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
        return bits <= 32 && address.split(".").every((octet) => Number(octet) <= 255 && String(Number(octet)) === octet);
    }
    return bits <= 128 && isIpv6(address);
}

function isIpv6(address: string): boolean {
    if (!/^[0-9a-fA-F:]+$/.test(address) || address.includes(":::") || address.split("::").length > 2) {
        return false;
    }
    const groups = address.split(":").filter((group) => group !== "");
    if (groups.some((group) => group.length > 4)) {
        return false;
    }
    return address.includes("::") ? groups.length < 8 : groups.length === 8;
}

function parseInteger(key: string, value: string | undefined, fallback: number, min: number, max: number, allowed: string): number {
    if (value === undefined) {
        return fallback;
    }
    if (!/^-?\d+$/.test(value.trim())) {
        throw new ConfigError(key, JSON.stringify(value), `must be a whole number: ${allowed}`);
    }
    const number = Number(value);
    if (number < min || number > max) {
        throw new ConfigError(key, value, allowed);
    }
    return number;
}

/** The one port below 1024 JupyterLab may take: HTTPS's own, so a url with a domain needs no port. */
export const httpsPort = 443;

export function parsePort(value: string | undefined): number {
    const allowed = `must be ${httpsPort} or a port from 1024 to 65535`;
    if (value !== undefined && value.trim() === "22") {
        throw new ConfigError("jupyterPort", value, `22 is the SSH port; choose ${httpsPort} or a port from 1024 to 65535`);
    }
    if (value !== undefined && value.trim() === String(httpsPort)) {
        return httpsPort;
    }
    // Other ports below 1024 belong to other services (80 answers the certificate's HTTP-01 challenge).
    return parseInteger("jupyterPort", value, defaults.jupyterPort, 1024, 65535, allowed);
}

const maximumDomainLength = 253;

export function parseDomain(value: string | undefined): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    const name = value.trim().toLowerCase().replace(/\.$/, "");
    const labels = name.split(".");
    const isLabel = (label: string) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label);
    // A name in a zone: at least two labels, and a top-level label that is not a number (not an IP address).
    if (name.length > maximumDomainLength || labels.length < 2 || !labels.every(isLabel) || /^\d+$/.test(labels[labels.length - 1])) {
        throw new ConfigError(
            "domain",
            JSON.stringify(value),
            "must be a fully qualified host name in a DigitalOcean-managed zone, such as nb.example.com (letters, digits and hyphens; no scheme, port or path)",
        );
    }
    return name;
}

export function parseAcmeEmail(value: string | undefined): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    const email = value.trim();
    const [local, host, ...rest] = email.split("@");
    if (rest.length > 0 || !local || !host || /[\s,;<>"]/.test(email) || !/^[^.]+(\.[^.]+)+$/.test(host)) {
        throw new ConfigError(
            "acmeEmail",
            JSON.stringify(value),
            "must be an email address such as you@example.com (or unset: no notices)",
        );
    }
    return email;
}

export function parseAcmeServer(value: string | undefined): string {
    if (value === undefined) {
        return defaults.acmeServer;
    }
    const allowed = `must be the https URL of an ACME directory, such as ${defaults.acmeServer} (the default)`;
    let url: URL;
    try {
        url = new URL(value.trim());
    } catch {
        throw new ConfigError("acmeServer", JSON.stringify(value), allowed);
    }
    if (url.protocol !== "https:" || url.username !== "" || url.password !== "" || /\s/.test(value.trim())) {
        throw new ConfigError("acmeServer", JSON.stringify(value), allowed);
    }
    return value.trim();
}

export function parseVolumeSize(value: string | undefined): number {
    return parseInteger(
        "dataVolumeGb",
        value,
        defaults.dataVolumeGb,
        0,
        maximumVolumeGb,
        `must be 0 (no volume) or a size from 1 to ${maximumVolumeGb} GB`,
    );
}

export function parseIdleKernelMinutes(value: string | undefined): number {
    return parseInteger(
        "idleKernelMinutes",
        value,
        defaults.idleKernelMinutes,
        0,
        maximumIdleKernelMinutes,
        `must be 0 (never cull) or a number of minutes from 1 to ${maximumIdleKernelMinutes}`,
    );
}

export function parseMaxLoginFailures(value: string | undefined): number {
    return parseInteger(
        "maxLoginFailures",
        value,
        defaults.maxLoginFailures,
        0,
        maximumLoginFailures,
        `must be 0 (no ban) or a number of failed logins from 1 to ${maximumLoginFailures}`,
    );
}

export function parseBanMinutes(value: string | undefined): number {
    return parseInteger(
        "banMinutes",
        value,
        defaults.banMinutes,
        1,
        maximumBanMinutes,
        `must be a number of minutes from 1 to ${maximumBanMinutes} (maxLoginFailures 0 turns bans off)`,
    );
}

export function parseBoolean(key: string, value: string | undefined, fallback: boolean): boolean {
    if (value === undefined) {
        return fallback;
    }
    if (value === "true" || value === "false") {
        return value === "true";
    }
    throw new ConfigError(key, JSON.stringify(value), "must be true or false");
}

export function parseJupyterlabVersion(value: string | undefined): string {
    if (value === undefined) {
        return defaults.jupyterlabVersion;
    }
    const match = /^(\d+)\.(\d+)\.(\d+)((a|b|rc)\d+)?$/.exec(value);
    if (!match) {
        throw new ConfigError("jupyterlabVersion", JSON.stringify(value), "must be an exact release version such as 4.6.6");
    }
    // The server config uses jupyter_server 2.x names, which JupyterLab 4 and later run on.
    if (Number(match[1]) < 4) {
        throw new ConfigError("jupyterlabVersion", value, "must be 4.0.0 or later (JupyterLab 3 runs the old server)");
    }
    return value;
}

// A pip requirement specifier by name (PEP 508 without URLs, options or environment markers).
const requirementPattern =
    /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*\])?(\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+(\s*,\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?$/;

export function isRequirementSpecifier(value: string): boolean {
    return requirementPattern.test(value.trim());
}

export function parsePythonPackages(value: string | undefined): string[] {
    if (value === undefined) {
        return [];
    }
    const list = parseJsonList("pythonPackages", value, "pandas==2.2.3");
    return list.map((item) => {
        if (typeof item !== "string" || !isRequirementSpecifier(item)) {
            throw new ConfigError(
                "pythonPackages",
                JSON.stringify(item),
                "each entry must be a pip requirement specifier such as pandas, numpy>=2 or scikit-learn==1.5.2 (no URLs or options)",
            );
        }
        return item.trim();
    });
}

export function readRequirementsFile(value: string | undefined, projectDir: string): { path: string; text: string } | undefined {
    if (value === undefined) {
        return undefined;
    }
    const resolved = path.resolve(projectDir, value);
    let text: string;
    try {
        text = fs.readFileSync(resolved, "utf8");
    } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read (${(e as Error).message})`;
        throw new ConfigError(
            "requirementsFile",
            JSON.stringify(value),
            `${resolved} ${reason}; it must be a requirements.txt path relative to the project directory`,
        );
    }
    if (Buffer.byteLength(text) > 256 * 1024) {
        throw new ConfigError("requirementsFile", JSON.stringify(value), "must be smaller than 256 KiB");
    }
    return { path: value, text };
}
