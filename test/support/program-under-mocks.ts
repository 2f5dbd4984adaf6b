// Runs index.ts under Pulumi's mocks: records every resource registration with its inputs, and
// answers with strict, deterministic outputs. A resource type it does not know fails loudly.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeSelfSignedPair } from "./certificate";

export interface Recorded {
    type: string;
    name: string;
    /** The inputs with secrets unwrapped. */
    inputs: Record<string, unknown>;
    /** The top-level inputs that arrived as secrets. */
    secretInputs: string[];
}

// How the SDK marks a secret value on the wire (its "special signature" for secrets).
const secretSignature = "4dabf18193072939515e22adb298388d";
const secretMarker = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[secretSignature] === secretMarker;
}

function unwrapSecrets(value: unknown): unknown {
    if (isSecretValue(value)) {
        return unwrapSecrets(value.value);
    }
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

function record(args: pulumi.runtime.MockResourceArgs): Recorded {
    const raw = args.inputs as Record<string, unknown>;
    return {
        type: args.type,
        name: args.name,
        inputs: unwrapSecrets(raw) as Record<string, unknown>,
        secretInputs: Object.keys(raw)
            .filter((k) => isSecretValue(raw[k]))
            .sort(),
    };
}

/** Waits until no registration has arrived for a while: some wait on the argon2 hash. */
async function quiescent(resources: Recorded[]): Promise<void> {
    let count = -1;
    while (count !== resources.length) {
        count = resources.length;
        await new Promise((resolve) => setTimeout(resolve, 300));
    }
}

export interface ProgramRun {
    resources: Recorded[];
    outputs: Record<string, unknown>;
    secretOutputs: string[];
    /** Values the mocks handed out that must stay secret, to search for. */
    secrets: { tlsKey: string; sshPrivateKey: string };
}

const projectDir = path.resolve(__dirname, "..", "..");
let certPem: string | undefined;

/** A real certificate, so the program's fingerprint code runs on real DER bytes. */
function mockCertificate(): string {
    if (certPem === undefined) {
        const certDir = fs.mkdtempSync(path.join(os.tmpdir(), "jld-mocks-"));
        makeSelfSignedPair({ keyFile: path.join(certDir, "k"), certFile: path.join(certDir, "c"), commonName: "mock" });
        certPem = fs.readFileSync(path.join(certDir, "c"), "utf8");
        fs.rmSync(certDir, { recursive: true, force: true });
    }
    return certPem;
}

// Fake key text: the PEM armour is assembled so no key scanner mistakes this file for a real key.
const armour = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

export const mockValues = {
    ipv4: "203.0.113.10",
    dropletId: "4242",
    tlsKeyPem: armour(["PRIVATE", "KEY"].join(" "), "MOCK-TLS-KEY"),
    sshPrivateKey: armour(["OPENSSH", "PRIVATE", "KEY"].join(" "), "MOCK-SSH-KEY"),
    sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlI1TUmTU6lRoDgg8mOhyYZk2oZHMWOx4kb3pP0GnS7\n",
    generatedPassword: "generated-password-abcdefgh",
    reservedIp: "203.0.113.99",
    saltBase64: Buffer.from("0123456789abcdef").toString("base64"),
};

function outputsFor(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
    const inputs = unwrapSecrets(args.inputs) as Record<string, unknown>;
    if (args.type.startsWith("jupyterlab-droplet:index:")) {
        return {}; // the program's own components
    }
    switch (args.type) {
        case "tls:index/privateKey:PrivateKey":
            return inputs.algorithm === "ED25519"
                ? {
                      ...inputs,
                      privateKeyOpenssh: mockValues.sshPrivateKey,
                      publicKeyOpenssh: mockValues.sshPublicKey,
                      privateKeyPem: "unused",
                  }
                : { ...inputs, privateKeyPem: mockValues.tlsKeyPem };
        case "tls:index/selfSignedCert:SelfSignedCert":
            return { ...inputs, certPem: mockCertificate(), validityEndTime: "2027-11-26T00:00:00Z" };
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: mockValues.generatedPassword };
        case "random:index/randomBytes:RandomBytes":
            return { ...inputs, base64: mockValues.saltBase64 };
        case "digitalocean:index/sshKey:SshKey":
            return { ...inputs, fingerprint: "aa:bb:cc" };
        case "digitalocean:index/volume:Volume":
            return { ...inputs, urn: "do:volume:v" };
        case "digitalocean:index/droplet:Droplet":
            return { ...inputs, ipv4Address: mockValues.ipv4, priceMonthly: 12, priceHourly: 0.01786, status: "active" };
        case "digitalocean:index/reservedIp:ReservedIp":
            return { ...inputs, ipAddress: mockValues.reservedIp, urn: `do:reservedip:${mockValues.reservedIp}` };
        case "digitalocean:index/reservedIpAssignment:ReservedIpAssignment":
            return { ...inputs };
        case "digitalocean:index/firewall:Firewall":
            return { ...inputs, status: "succeeded" };
        case "digitalocean:index/dnsRecord:DnsRecord":
            return { ...inputs, fqdn: inputs.name === "@" ? inputs.domain : `${String(inputs.name)}.${String(inputs.domain)}` };
        case "command:remote:Command":
            return { ...inputs, stdout: args.name.endsWith("-host-key") ? mockValues.hostKey : "done\n", stderr: "" };
        default:
            throw new Error(`the mocks do not know resource type ${args.type} (${args.name})`);
    }
}

function clearProgramModules(): void {
    for (const file of Object.keys(require.cache)) {
        if (
            file.startsWith(projectDir) &&
            !file.includes(`${path.sep}node_modules${path.sep}`) &&
            !file.includes(`${path.sep}test${path.sep}`)
        ) {
            delete require.cache[file];
        }
    }
}

/** The account's DNS zones and volumes, as getDomains and getVolume answer; any other call fails loudly. */
function answerCall(args: pulumi.runtime.MockCallArgs, options: ProgramOptions): Record<string, unknown> {
    if (options.tokenRefused) {
        const details = 'GET https://api.digitalocean.com/v2/volumes?name=x: 401 (request "0") Unable to authenticate you';
        throw Object.assign(new Error(details), { details });
    }
    if (args.token === "digitalocean:index/getDomains:getDomains") {
        return {
            id: "domains",
            domains: (options.zones ?? []).map((name) => ({ name, ttl: 1800, urn: `do:domain:${name}`, zoneFile: "" })),
        };
    }
    if (args.token === "digitalocean:index/getVolume:getVolume") {
        const volumes = (options.volumes ?? []).filter((v) => v.name === args.inputs.name);
        if (volumes.length !== 1) {
            // The provider's own words (terraform-provider-digitalocean, datasource_volume.go), as a
            // gRPC error's details: what the SDK turns into the invoke's error message.
            const details =
                volumes.length === 0
                    ? `no volumes found with name ${String(args.inputs.name)}`
                    : `too many volumes found with name ${String(args.inputs.name)} (found ${volumes.length}, expected 1)`;
            throw Object.assign(new Error(details), { details });
        }
        const [v] = volumes;
        return { id: v.id, name: v.name, region: v.region, size: v.sizeGb, dropletIds: [], tags: [], urn: `do:volume:${v.id}` };
    }
    throw new Error(`the program made an unexpected call to ${args.token}`);
}

/** The program's stack outputs: index.ts exports an async function that returns them. */
async function programOutputs(program: unknown): Promise<Record<string, unknown>> {
    return (typeof program === "function" ? await (program as () => Promise<unknown>)() : program) as Record<string, unknown>;
}

async function settle(value: unknown): Promise<{ value: unknown; secret: boolean }> {
    if (pulumi.Output.isInstance(value)) {
        const resolved = await new Promise<unknown>((resolve) =>
            value.apply((v) => {
                resolve(v);
                return v;
            }),
        );
        return { value: resolved, secret: await pulumi.isSecret(value) };
    }
    return { value, secret: false };
}

export interface ProgramOptions {
    secretKeys?: string[];
    stack?: string;
    /** The DNS zones of the mocked account (getDomains). */
    zones?: string[];
    /** The volumes the mocked account has (getVolume). */
    volumes?: { id: string; name: string; region: string; sizeGb: number }[];
    /** The token DigitalOcean refuses: every call answers 401, in the provider's words. */
    tokenRefused?: boolean;
}

// The mocks and the config are global to the SDK: one program runs at a time, even when
// several describe blocks start theirs together.
let previousRun: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(run: () => Promise<T>): Promise<T> {
    const result = previousRun.then(run, run);
    previousRun = result.catch(() => undefined);
    return result;
}

// The program checks that a DigitalOcean token is there before anything else; the mocks never use it.
process.env.DIGITALOCEAN_TOKEN ??= "mock-token";

export function runProgram(config: Record<string, string>, options: ProgramOptions = {}): Promise<ProgramRun> {
    return oneAtATime(() => runProgramNow(config, options));
}

export function programError(config: Record<string, string>, options: ProgramOptions = {}): Promise<{ error: Error; registered: number }> {
    return oneAtATime(() => programErrorNow(config, options));
}

async function runProgramNow(config: Record<string, string>, options: ProgramOptions): Promise<ProgramRun> {
    const resources: Recorded[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const state = outputsFor(args);
                resources.push(record(args));
                const id = args.type === "digitalocean:index/droplet:Droplet" ? mockValues.dropletId : `${args.name}-id`;
                return { id, state };
            },
            call(args) {
                return answerCall(args, options);
            },
        },
        "jupyterlab-droplet",
        options.stack ?? "alice",
        false,
        "organization",
    );
    const fullConfig = Object.fromEntries(Object.entries(config).map(([k, v]) => [`jupyterlab-droplet:${k}`, v]));
    pulumi.runtime.setAllConfig(
        fullConfig,
        (options.secretKeys ?? ["password"]).map((k) => `jupyterlab-droplet:${k}`),
    );
    clearProgramModules();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load afresh for each config
    const program = await programOutputs(require(path.join(projectDir, "index.ts")));
    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [name, value] of Object.entries(program)) {
        const settled = await settle(value);
        outputs[name] = settled.value;
        if (settled.secret) {
            secretOutputs.push(name);
        }
    }
    await quiescent(resources);
    resources.sort((a, b) => a.name.localeCompare(b.name));
    return { resources, outputs, secretOutputs, secrets: { tlsKey: mockValues.tlsKeyPem, sshPrivateKey: mockValues.sshPrivateKey } };
}

/** Tries the program with a config that must fail; returns the error and what got registered. */
async function programErrorNow(config: Record<string, string>, options: ProgramOptions): Promise<{ error: Error; registered: number }> {
    const resources: Recorded[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                resources.push(record(args));
                return { id: "x", state: outputsFor(args) };
            },
            call(args) {
                return answerCall(args, options);
            },
        },
        "jupyterlab-droplet",
        options.stack ?? "alice",
        false,
        "organization",
    );
    pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries(config).map(([k, v]) => [`jupyterlab-droplet:${k}`, v])),
        (options.secretKeys ?? ["password"]).map((k) => `jupyterlab-droplet:${k}`),
    );
    clearProgramModules();
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- as in runProgram
        await programOutputs(require(path.join(projectDir, "index.ts")));
    } catch (e) {
        await quiescent(resources);
        return { error: e as Error, registered: resources.length };
    }
    throw new Error(`the program accepted the config ${JSON.stringify(config)}`);
}
