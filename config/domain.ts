// The server's own name and its certificate's ACME account: a host name in a zone, an email
// address for notices, and the https URL of an ACME directory.
import { ConfigError } from "./problems";
import { Parse } from "./values";

const maximumDomainLength = 253;

/** The name in lowercase, without a trailing dot. */
export const parseDomain: Parse<string> = (raw, { key }) => {
    const name = raw.trim().toLowerCase().replace(/\.$/, "");
    const labels = name.split(".");
    const isLabel = (label: string) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label);
    // A name in a zone: at least two labels, and a top-level label that is not a number (not an IP address).
    if (name.length > maximumDomainLength || labels.length < 2 || !labels.every(isLabel) || /^\d+$/.test(labels[labels.length - 1])) {
        throw new ConfigError(
            key,
            JSON.stringify(raw),
            "must be a fully qualified host name in a DigitalOcean-managed zone, such as nb.example.com (letters, digits and hyphens; no scheme, port or path)",
        );
    }
    return name;
};

export const parseAcmeEmail: Parse<string> = (raw, { key }) => {
    const email = raw.trim();
    const [local, host, ...rest] = email.split("@");
    if (rest.length > 0 || !local || !host || /[\s,;<>"]/.test(email) || !/^[^.]+(\.[^.]+)+$/.test(host)) {
        throw new ConfigError(key, JSON.stringify(raw), "must be an email address such as you@example.com (or unset: no notices)");
    }
    return email;
};

export const parseAcmeServer: Parse<string> = (raw, context) => {
    const allowed = `must be the https URL of an ACME directory, such as ${context.default} (the default)`;
    let url: URL;
    try {
        url = new URL(raw.trim());
    } catch {
        throw new ConfigError(context.key, JSON.stringify(raw), allowed);
    }
    if (url.protocol !== "https:" || url.username !== "" || url.password !== "" || /\s/.test(raw.trim())) {
        throw new ConfigError(context.key, JSON.stringify(raw), allowed);
    }
    return raw.trim();
};
