// What the droplet is: DigitalOcean's region, size and image slugs, the port JupyterLab answers
// on, and the JupyterLab version it runs.
import { ConfigError } from "./problems";
import { Parse, wholeNumber } from "./values";

export const regions = ["nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "tor1", "lon1", "ams3", "fra1", "sgp1", "blr1", "syd1", "atl1"] as const;

/** JupyterLab, a kernel and the setup's installs need this much RAM. */
export const minimumMemoryGb = 2;

export const parseRegion: Parse<string> = (raw, { key }) => {
    if (!(regions as readonly string[]).includes(raw)) {
        throw new ConfigError(key, JSON.stringify(raw), `must be one of ${regions.join(", ")}`);
    }
    return raw;
};

/** The RAM of a size slug in MB when the slug states it (s-1vcpu-2gb, s-1vcpu-512mb-10gb), else undefined. */
export function memoryMbOfSize(slug: string): number | undefined {
    const match = /^[a-z0-9]+-\d+vcpu-(\d+)(mb|gb)\b/.exec(slug);
    if (!match) {
        return undefined;
    }
    return Number(match[1]) * (match[2] === "gb" ? 1024 : 1);
}

export const parseSize: Parse<string> = (raw, { key }) => {
    if (!/^[a-z0-9]+(-[a-z0-9]+)+$/.test(raw)) {
        throw new ConfigError(key, JSON.stringify(raw), "must be a DigitalOcean size slug such as s-1vcpu-2gb or s-2vcpu-4gb");
    }
    const memoryMb = memoryMbOfSize(raw);
    if (memoryMb !== undefined && memoryMb < minimumMemoryGb * 1024) {
        throw new ConfigError(
            key,
            JSON.stringify(raw),
            `has ${memoryMb} MB of RAM; JupyterLab needs a size with at least ${minimumMemoryGb} GB, such as s-1vcpu-2gb or s-2vcpu-4gb`,
        );
    }
    return raw;
};

export const parseImage: Parse<string> = (raw, { key }) => {
    // The user-data and the setup scripts use apt and systemd: only Ubuntu and Debian images fit.
    if (!/^(ubuntu-\d{2}-\d{2}|debian-\d{2})-x64$/.test(raw)) {
        throw new ConfigError(
            key,
            JSON.stringify(raw),
            "must be an Ubuntu or Debian x86-64 image slug such as debian-13-x64 or ubuntu-24-04-x64",
        );
    }
    return raw;
};

/** The one port below 1024 JupyterLab may take: HTTPS's own, so a url with a domain needs no port. */
export const httpsPort = 443;
/** The unprivileged ports, the others JupyterLab may take. */
export const unprivilegedPorts = { first: 1024, last: 65535 };

const sshPort = 22;

export const parsePort: Parse<number> = (raw, context) => {
    const ports = `${httpsPort} or a port from ${unprivilegedPorts.first} to ${unprivilegedPorts.last}`;
    if (raw.trim() === String(sshPort)) {
        throw new ConfigError(context.key, raw, `${sshPort} is the SSH port; choose ${ports}`);
    }
    if (raw.trim() === String(httpsPort)) {
        return httpsPort;
    }
    // Other ports below 1024 belong to other services (80 answers the certificate's HTTP-01 challenge).
    return wholeNumber(unprivilegedPorts.first, unprivilegedPorts.last, `must be ${ports}`)(raw, context);
};

/** The server config uses jupyter_server 2.x names, which JupyterLab 4 and later run on. */
export const oldestJupyterlabMajor = 4;

export const parseJupyterlabVersion: Parse<string> = (raw, context) => {
    const match = /^(\d+)\.(\d+)\.(\d+)((a|b|rc)\d+)?$/.exec(raw);
    if (!match) {
        throw new ConfigError(context.key, JSON.stringify(raw), `must be an exact release version such as ${context.default}`);
    }
    if (Number(match[1]) < oldestJupyterlabMajor) {
        throw new ConfigError(
            context.key,
            raw,
            `must be ${oldestJupyterlabMajor}.0.0 or later (JupyterLab ${oldestJupyterlabMajor - 1} runs the old server)`,
        );
    }
    return raw;
};
