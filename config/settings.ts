// The stack's settings, one entry a key: its type in Pulumi.yaml, its default, the line that
// documents it and the parser that checks it. Pulumi.yaml's `config:` and `template:` sections
// say the same (test/unit/settings-pulumi-yaml.test.ts holds them to this table), and readConfig
// reads every key through it.
import { anywhere, parseCidrs } from "./cidr";
import { parseAcmeEmail, parseAcmeServer, parseDomain } from "./domain";
import {
    httpsPort,
    minimumMemoryGb,
    oldestJupyterlabMajor,
    parseImage,
    parsePort,
    parseJupyterlabVersion,
    parseRegion,
    parseSize,
    regions,
    unprivilegedPorts,
} from "./droplet-choices";
import { minimumPasswordLength, parsePassword } from "./password";
import { unassignedReservedIpUsdPerMonth, volumeUsdPerGbMonth } from "./pricing";
import { ConfigProblem } from "./problems";
import { parsePythonPackages, readRequirementsFile, Requirements } from "./requirements";
import { parseSshPublicKey } from "./ssh-key";
import { ReadContext, trueOrFalse, wholeNumber } from "./values";

/** Pulumi.yaml's config types; arrays are lists of strings. */
export type PulumiType = "string" | "integer" | "boolean" | "array";

export interface Setting<T> {
    /** The config key, when it is not the entry's name (the name is DropletConfig's field). */
    key?: string;
    /** The type Pulumi.yaml declares; none: the engine is not to check it (see allowedCidrs). */
    type?: PulumiType;
    /** The value when the key is unset or empty; none: unset means none (or generated). */
    default?: T;
    /** Pulumi.yaml's description of the key. */
    doc: string;
    /** What `pulumi new` asks for it (Pulumi.yaml's `template:`), when it asks. */
    prompt?: string;
    /** Set with --secret and never shown: not declared in Pulumi.yaml (a declared key without a default is required). */
    secret?: true;
    /** Reads a set value; throws a ConfigError saying what is allowed. (A method: any entry is a Setting<unknown>.) */
    parse(raw: string, context: ReadContext<T>): T;
}

type Defaulted<T> = Setting<T> & { default: T };

/** Types the entry by its value, and tells the type system whether it has a default. */
function setting<T>(entry: Defaulted<T>): Defaulted<T>;
function setting<T>(entry: Setting<T>): Setting<T>;
function setting<T>(entry: Setting<T>): Setting<T> {
    return entry;
}

const maximumVolumeGb = 16 * 1024;
/** A week: anything longer is as good as never, which 0 says plainly. */
const maximumIdleKernelMinutes = 7 * 24 * 60;
/** Beyond this many tries a limit stops nobody who guesses; the owner's typos stay far below it. */
const maximumLoginFailures = 100;
/** A year: longer bans would only outlive the addresses they were meant for. */
const maximumBanMinutes = 365 * 24 * 60;
/** A week: a server unused for longer has been forgotten, and 0 says "never" plainly. */
const maximumAutoPauseMinutes = 7 * 24 * 60;

/** "a, b or c". */
function orList(items: readonly string[]): string {
    return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

const volumePrice = `about $${volumeUsdPerGbMonth.toFixed(2)} per GB-month`;
const sizeChoice = `at least ${minimumMemoryGb} GB of RAM (s-1vcpu-2gb is about $12/month)`;

export const settings = {
    region: setting<string>({
        type: "string",
        default: "nyc3",
        doc:
            `DigitalOcean region slug for the droplet and its data volume: ${orList(regions)}. ` +
            "Changing it later would replace the data volume with an empty one: refused unless allowVolumeDeletion names it.",
        prompt: `DigitalOcean region (${orList(regions)})`,
        parse: parseRegion,
    }),
    size: setting<string>({
        type: "string",
        default: "s-1vcpu-2gb",
        doc: `Droplet size slug with ${sizeChoice}. Changing it resizes the droplet in place.`,
        prompt: `Droplet size with ${sizeChoice}`,
        parse: parseSize,
    }),
    image: setting<string>({
        type: "string",
        default: "debian-13-x64",
        doc:
            "Debian or Ubuntu x86-64 image slug: the default is the one the tests boot; ubuntu-24-04-x64 and debian-12-x64 work too. " +
            "Changing it replaces the droplet; notebooks on the data volume are kept.",
        parse: parseImage,
    }),
    password: setting<string>({
        secret: true,
        doc:
            `the JupyterLab password, at least ${minimumPasswordLength} characters, set with \`pulumi config set --secret password\`. ` +
            "Unset: a 24-character one is generated and exported as the secret output `password`.",
        prompt:
            `JupyterLab password, ${minimumPasswordLength} characters or more; ` +
            "leave empty for a generated one (`pulumi stack output --show-secrets password`)",
        parse: parsePassword,
    }),
    sshPublicKey: setting<string>({
        type: "string",
        doc:
            "Your own OpenSSH public key line (ssh-ed25519, ssh-rsa of 2048+ bits or ecdsa-sha2-nistp*). When set, no private key " +
            "is generated and the remote setup logs in through your SSH agent (SSH_AUTH_SOCK). Empty: a generated ED25519 key, " +
            "exported as the secret output sshPrivateKey.",
        parse: parseSshPublicKey,
    }),
    allowedCidrs: setting<string[]>({
        // No declared type: the engine would then refuse the JSON text a `pulumi new` prompt stores
        // (prompt answers are always strings); the program parses either form and checks each entry.
        default: [...anywhere],
        doc:
            "The IPv4/IPv6 CIDR blocks allowed to reach SSH and JupyterLab. " +
            "The default is anywhere: narrow it to your own address, e.g. 203.0.113.7/32.",
        prompt: 'Who may reach SSH and JupyterLab, as a JSON list of CIDR blocks, e.g. ["203.0.113.7/32"]',
        parse: parseCidrs,
    }),
    jupyterPort: setting<number>({
        type: "integer",
        default: 9000,
        doc:
            `The HTTPS port JupyterLab listens on: ${httpsPort} (with a domain, a url with no port) ` +
            `or ${unprivilegedPorts.first}-${unprivilegedPorts.last}.`,
        parse: parsePort,
    }),
    dataVolumeGb: setting<number>({
        type: "integer",
        default: 10,
        doc:
            `Size in GB of the DigitalOcean volume that holds the notebooks (${volumePrice}); 0 keeps them on the droplet's own ` +
            "disk, where they are lost whenever the droplet is replaced. It can only grow; going to 0 would delete the volume " +
            "and is refused unless allowVolumeDeletion names it.",
        prompt: `GB of data volume for the notebooks (${volumePrice}); 0 keeps them on the droplet's disk`,
        parse: wholeNumber(0, maximumVolumeGb, `must be 0 (no volume) or a size from 1 to ${maximumVolumeGb} GB`),
    }),
    retainData: setting<boolean>({
        type: "boolean",
        default: false,
        doc: "When true, `pulumi destroy` keeps the data volume (and its cost) so it can be reused; see the README.",
        parse: trueOrFalse,
    }),
    idleKernelMinutes: setting<number>({
        type: "integer",
        default: 60,
        doc:
            "Minutes after which a kernel that is idle and has no browser tab connected, or a terminal with no activity, " +
            "is shut down to free memory; 0 never does. Notebooks are never touched.",
        parse: wholeNumber(
            0,
            maximumIdleKernelMinutes,
            `must be 0 (never cull) or a number of minutes from 1 to ${maximumIdleKernelMinutes}`,
        ),
    }),
    maxLoginFailures: setting<number>({
        type: "integer",
        default: 5,
        doc:
            "Refused JupyterLab passwords from one address within 10 minutes after which fail2ban bans that address from the " +
            "Jupyter port (not SSH) for banMinutes; 0 turns the ban off. The stock sshd jail is on either way.",
        parse: wholeNumber(0, maximumLoginFailures, `must be 0 (no ban) or a number of failed logins from 1 to ${maximumLoginFailures}`),
    }),
    banMinutes: setting<number>({
        type: "integer",
        default: 60,
        doc:
            "How long a ban from the Jupyter port lasts, in minutes (1 or more). " +
            "Lift one early over SSH: fail2ban-client set jupyterlab unbanip <address>.",
        parse: wholeNumber(
            1,
            maximumBanMinutes,
            `must be a number of minutes from 1 to ${maximumBanMinutes} (maxLoginFailures 0 turns bans off)`,
        ),
    }),
    paused: setting<boolean>({
        type: "boolean",
        default: false,
        doc:
            "true deletes the droplet, its firewall, certificate and setup and keeps the data volume, the SSH key and the " +
            "password: you pay for the volume alone. false brings a new droplet back with the same notebooks and password " +
            "(at a new address).",
        parse: trueOrFalse,
    }),
    autoPauseMinutes: setting<number>({
        type: "integer",
        default: 0,
        doc:
            "Minutes without use (no cell running, no request from a browser tab, no terminal activity, as JupyterLab records " +
            "them) after which `npm run server -- sweep` or `npm run team -- sweep` pauses the server, as paused: true does; " +
            "0 never does. Only the sweep reads it: changing it changes nothing on the droplet.",
        parse: wholeNumber(
            0,
            maximumAutoPauseMinutes,
            `must be 0 (never pause) or a number of minutes from 1 to ${maximumAutoPauseMinutes}`,
        ),
    }),
    reservedIp: setting<boolean>({
        type: "boolean",
        default: false,
        doc:
            "true gives the server a DigitalOcean reserved IP, so its url, certificate and SSH entry stay the same through " +
            `pause, resume and replacement. Free while assigned; charged (about $${unassignedReservedIpUsdPerMonth}/month) ` +
            "while the stack is paused.",
        parse: trueOrFalse,
    }),
    domain: setting<string>({
        type: "string",
        doc:
            "The server's own name (e.g. nb.example.com) in a DNS zone of your DigitalOcean account: an A record points it at " +
            "the server, which serves a trusted certificate for it from acmeServer (Let's Encrypt), renewed automatically; " +
            "port 80 opens to anywhere for the ACME challenge. Empty: the self-signed certificate for the address.",
        parse: parseDomain,
    }),
    acmeEmail: setting<string>({
        type: "string",
        doc: "Where the ACME server sends expiry and account notices (with domain). Empty: none.",
        parse: parseAcmeEmail,
    }),
    acmeServer: setting<string>({
        type: "string",
        default: "https://acme-v02.api.letsencrypt.org/directory",
        doc:
            "The ACME directory (https) the domain's certificate comes from: Let's Encrypt's by default; " +
            "https://acme-staging-v02.api.letsencrypt.org/directory while trying things out.",
        parse: parseAcmeServer,
    }),
    jupyterlabVersion: setting<string>({
        type: "string",
        default: "4.6.6",
        doc:
            `The JupyterLab version installed from PyPI, ${oldestJupyterlabMajor}.0.0 or later. ` +
            "Changing it re-installs JupyterLab in place, without replacing the droplet.",
        parse: parseJupyterlabVersion,
    }),
    pythonPackages: setting<string[]>({
        type: "array",
        default: [],
        doc: "pip requirement specifiers installed into the notebook kernel's own environment (not JupyterLab's), e.g. pandas==2.2.3.",
        parse: parsePythonPackages,
    }),
    /** The requirements file's path and text: read here, so a missing file is a config problem. */
    requirements: setting<Requirements>({
        key: "requirementsFile",
        type: "string",
        doc:
            "Path, relative to the project directory, of a requirements.txt installed into the notebook kernel's environment " +
            "after pythonPackages. Empty: none.",
        parse: readRequirementsFile,
    }),
    allowVolumeDeletion: setting<string>({
        type: "string",
        doc:
            "The id of the data volume a change may delete or replace (dataVolumeGb 0, a new region), given on purpose after " +
            "copying the notebooks off. Empty: such a change is refused before anything changes, with the id to give.",
        parse: (raw) => raw,
    }),
};

type Settings = typeof settings;
type ValueOf<S> = S extends Defaulted<infer T> ? T : S extends Setting<infer T> ? T | undefined : never;
type DefaultedName = { [K in keyof Settings]: Settings[K] extends { default: unknown } ? K : never }[keyof Settings];

/** The stack's config as the program uses it: every setting's value, its default where unset. */
export type DropletConfig = { [K in keyof Settings]: ValueOf<Settings[K]> };

/** Every setting with its config key, in the table's order. */
export const settingList: readonly { name: keyof DropletConfig; key: string; setting: Setting<unknown> }[] = Object.entries(settings).map(
    ([name, entry]: [string, Setting<unknown>]) => ({ name: name as keyof DropletConfig, key: entry.key ?? name, setting: entry }),
);

/** Every key the program reads. */
export const configKeys: readonly string[] = settingList.map(({ key }) => key);

/** The defaults, by DropletConfig's field. */
export const defaults = Object.fromEntries(
    settingList.filter(({ setting }) => setting.default !== undefined).map(({ name, setting }) => [name, setting.default]),
) as { readonly [K in DefaultedName]: ValueOf<Settings[K]> };

/** Rules that hold between keys, checked once every key has its value. */
export const crossKeyRules: readonly ((config: DropletConfig) => ConfigProblem | undefined)[] = [
    // Pausing deletes the droplet and its disk: without a volume the notebooks would go with it.
    (config) =>
        config.paused && config.dataVolumeGb === 0
            ? {
                  key: "paused",
                  value: "true",
                  allowed: "needs a data volume: with dataVolumeGb 0 the notebooks live on the droplet's disk, which pausing deletes",
              }
            : undefined,
    // The sweep pauses the server, and for the same reason could not.
    (config) =>
        config.autoPauseMinutes > 0 && config.dataVolumeGb === 0
            ? {
                  key: "autoPauseMinutes",
                  value: String(config.autoPauseMinutes),
                  allowed:
                      "needs a data volume: with dataVolumeGb 0 the notebooks live on the droplet's disk, which pausing deletes (0 turns auto-pause off)",
              }
            : undefined,
];
