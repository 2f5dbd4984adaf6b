import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { ConfigProblem, ConfigSource, defaults, DropletConfig, formatProblems, readConfig } from "../../config/config";

function source(values: Record<string, string>, secrets: string[] = ["password"]): ConfigSource {
    return { get: (key) => values[key], isSecret: (key) => secrets.includes(key) };
}

const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "jld-config-"));
after(() => fs.rmSync(projectDir, { recursive: true, force: true }));
fs.writeFileSync(path.join(projectDir, "requirements.txt"), "pandas==2.2.3\n");
const ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

/** The config from a source readConfig accepts. */
function read(from: ConfigSource): DropletConfig {
    const reading = readConfig(from, projectDir);
    assert.ok(reading.ok, reading.ok ? "" : formatProblems(reading.problems));
    return reading.config;
}

/** The problems with a source readConfig refuses. */
function problems(from: ConfigSource): ConfigProblem[] {
    const reading = readConfig(from, projectDir);
    assert.ok(!reading.ok, "the config was accepted");
    return reading.problems;
}

/** What a person reads about a source readConfig refuses. */
function message(from: ConfigSource): string {
    return formatProblems(problems(from));
}

function rejects(values: Record<string, string>, pattern: RegExp, secrets?: string[]): void {
    assert.match(message(source(values, secrets)), pattern);
}

test("an empty config gives the documented defaults", () => {
    const config = read(source({}));
    assert.deepEqual(config, {
        region: "nyc3",
        size: "s-1vcpu-2gb",
        image: "debian-13-x64",
        password: undefined,
        sshPublicKey: undefined,
        allowedCidrs: ["0.0.0.0/0", "::/0"],
        jupyterPort: 9000,
        dataVolumeGb: 10,
        retainData: false,
        idleKernelMinutes: 60,
        maxLoginFailures: 5,
        banMinutes: 60,
        paused: false,
        autoPauseMinutes: 0,
        reservedIp: false,
        domain: undefined,
        acmeEmail: undefined,
        acmeServer: "https://acme-v02.api.letsencrypt.org/directory",
        jupyterlabVersion: defaults.jupyterlabVersion,
        pythonPackages: [],
        requirements: undefined,
        allowVolumeDeletion: undefined,
    });
});

test("every key is read when set to a good value", () => {
    const config = read(
        source({
            region: "fra1",
            size: "s-2vcpu-4gb",
            image: "debian-12-x64",
            password: "a long enough password",
            sshPublicKey: ed25519,
            allowedCidrs: '["203.0.113.7/32","2001:db8::/48"]',
            jupyterPort: "8443",
            dataVolumeGb: "0",
            retainData: "true",
            jupyterlabVersion: "4.5.0",
            pythonPackages: '["pandas==2.2.3","numpy>=2"]',
            requirementsFile: "requirements.txt",
            idleKernelMinutes: "15",
            maxLoginFailures: "3",
            banMinutes: "1440",
        }),
    );
    assert.equal(config.idleKernelMinutes, 15);
    assert.equal(config.maxLoginFailures, 3);
    assert.equal(config.banMinutes, 1440);
    assert.equal(config.region, "fra1");
    assert.equal(config.size, "s-2vcpu-4gb");
    assert.equal(config.image, "debian-12-x64");
    assert.equal(config.password, "a long enough password");
    assert.equal(config.sshPublicKey, ed25519);
    assert.deepEqual(config.allowedCidrs, ["203.0.113.7/32", "2001:db8::/48"]);
    assert.equal(config.jupyterPort, 8443);
    assert.equal(config.dataVolumeGb, 0);
    assert.equal(config.retainData, true);
    assert.equal(config.jupyterlabVersion, "4.5.0");
    assert.deepEqual(config.pythonPackages, ["pandas==2.2.3", "numpy>=2"]);
    assert.deepEqual(config.requirements, { path: "requirements.txt", text: "pandas==2.2.3\n" });
});

test("sizes under 2 GB of RAM are refused, naming the key, the value and what is allowed", () => {
    rejects({ size: "s-1vcpu-1gb" }, /jupyterlab-droplet:size = "s-1vcpu-1gb": has 1024 MB of RAM; .*at least 2 GB/);
    rejects({ size: "s-1vcpu-512mb-10gb" }, /size = "s-1vcpu-512mb-10gb": has 512 MB/);
    rejects({ size: "s-1vcpu-1gb-amd" }, /size = "s-1vcpu-1gb-amd": has 1024 MB/);
    rejects({ size: "big one" }, /size = "big one": must be a DigitalOcean size slug/);
    assert.equal(read(source({ size: "c-2" })).size, "c-2");
});

test("bad regions and images are refused with the allowed values", () => {
    rejects({ region: "nyc9" }, /region = "nyc9": must be one of nyc1, .*fra1/);
    rejects({ image: "centos-9-x64" }, /image = "centos-9-x64": must be an Ubuntu or Debian/);
    rejects({ image: "ubuntu-24-04-arm64" }, /image = "ubuntu-24-04-arm64"/);
});

test("a malformed CIDR is refused, naming the entry", () => {
    rejects({ allowedCidrs: '["10.0.0.0/33"]' }, /allowedCidrs = "10.0.0.0\/33": each entry must be an IPv4 or IPv6 CIDR/);
    rejects({ allowedCidrs: '["300.1.1.1/32"]' }, /allowedCidrs = "300.1.1.1\/32"/);
    rejects({ allowedCidrs: '["203.0.113.7"]' }, /allowedCidrs = "203.0.113.7"/);
    rejects({ allowedCidrs: '["2001:db8:::/48"]' }, /allowedCidrs = "2001:db8:::\/48"/);
    rejects({ allowedCidrs: "203.0.113.7/32" }, /allowedCidrs = "203.0.113.7\/32": must be a list/);
    rejects({ allowedCidrs: "[]" }, /allowedCidrs = \[\]: must hold at least one CIDR block/);
    // Host bits set: one's own address with the wrong suffix, or a whole provider's range.
    rejects(
        { allowedCidrs: '["203.0.113.7/24"]' },
        /allowedCidrs = "203\.0\.113\.7\/24": has host bits set: as a block it means 203\.0\.113\.0\/24, .*write 203\.0\.113\.7\/32/,
    );
    rejects(
        { allowedCidrs: '["2001:db8:1234:5678::1/32"]' },
        /allowedCidrs = "2001:db8:1234:5678::1\/32": has host bits set: as a block it means 2001:db8::\/32, .*write 2001:db8:1234:5678::1\/128/,
    );
    // An empty address: what `$(curl ...)/32` gives when curl printed nothing.
    rejects({ allowedCidrs: '["/32"]' }, /allowedCidrs = "\/32": each entry must be an IPv4 or IPv6 CIDR/);
});

test("ports out of range, privileged (but 443) or equal to 22 are refused", () => {
    rejects({ jupyterPort: "22" }, /jupyterPort = 22: 22 is the SSH port; choose 443 or a port from 1024 to 65535/);
    rejects({ jupyterPort: "0" }, /jupyterPort = 0: must be 443 or a port from 1024 to 65535/);
    rejects({ jupyterPort: "80" }, /jupyterPort = 80: must be 443 or a port from 1024 to 65535/);
    rejects({ jupyterPort: "1023" }, /jupyterPort = 1023: must be 443 or a port from 1024 to 65535/);
    assert.equal(read(source({ jupyterPort: "443" })).jupyterPort, 443);
    rejects({ jupyterPort: "70000" }, /jupyterPort = 70000/);
    rejects({ jupyterPort: "nine" }, /jupyterPort = "nine": must be a whole number/);
});

test("a short or plain-text password is refused without showing it", () => {
    const short = message(source({ password: "short pw" }));
    assert.match(short, /jupyterlab-droplet:password = \(a value of 8 characters\): must be at least 12 characters/);
    assert.ok(!short.includes("short pw"), "the password must not appear in the error");
    const plain = message(source({ password: "a long enough password" }, []));
    assert.match(plain, /password .*stored in plain text; set it with `pulumi config set --secret password`/);
    assert.ok(!plain.includes("a long enough password"));
    const tabbed = message(source({ password: "a long\tenough password" }));
    assert.match(tabbed, /password = \(a value of 22 characters\): must not contain control characters .* U\+0009/);
    assert.ok(!tabbed.includes("enough"));
});

test("an unusable public key is refused", () => {
    // A pasted private key (armour assembled so no key scanner mistakes this file for one).
    rejects(
        { sshPublicKey: `-----BEGIN ${["OPENSSH", "PRIVATE", "KEY"].join(" ")}-----\nabc` },
        /sshPublicKey = \(a private key\): .*never the private key/,
    );
    rejects({ sshPublicKey: "ssh-ed25519 not-base64!" }, /sshPublicKey = "ssh-ed25519 not-base64!": must be one OpenSSH public key line/);
    rejects(
        { sshPublicKey: "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" },
        /does not match its type ssh-rsa/,
    );
    rejects({ sshPublicKey: "ssh-dss AAAAB3NzaC1kc3M=" }, /sshPublicKey = "ssh-dss/);
});

test("other keys: volume size, booleans, versions, packages and the requirements file", () => {
    rejects({ dataVolumeGb: "-1" }, /dataVolumeGb = -1: must be 0 \(no volume\) or a size from 1 to 16384 GB/);
    rejects({ dataVolumeGb: "2.5" }, /dataVolumeGb = "2.5": must be a whole number/);
    rejects({ retainData: "yes" }, /retainData = "yes": must be true or false/);
    rejects({ idleKernelMinutes: "-1" }, /idleKernelMinutes = -1: must be 0 \(never cull\) or a number of minutes from 1 to 10080/);
    rejects({ idleKernelMinutes: "1.5" }, /idleKernelMinutes = "1.5": must be a whole number/);
    rejects({ idleKernelMinutes: "an hour" }, /idleKernelMinutes = "an hour": must be a whole number/);
    assert.equal(read(source({ idleKernelMinutes: "0" })).idleKernelMinutes, 0);
    rejects({ maxLoginFailures: "-1" }, /maxLoginFailures = -1: must be 0 \(no ban\) or a number of failed logins from 1 to 100/);
    rejects({ maxLoginFailures: "2.5" }, /maxLoginFailures = "2.5": must be a whole number/);
    rejects({ maxLoginFailures: "five" }, /maxLoginFailures = "five": must be a whole number/);
    assert.equal(read(source({ maxLoginFailures: "0" })).maxLoginFailures, 0);
    rejects({ banMinutes: "0" }, /banMinutes = 0: must be a number of minutes from 1 to 525600/);
    rejects({ banMinutes: "-5" }, /banMinutes = -5: must be a number of minutes from 1/);
    assert.equal(read(source({ paused: "true" })).paused, true);
    rejects(
        { paused: "true", dataVolumeGb: "0" },
        /paused = true: needs a data volume: with dataVolumeGb 0 the notebooks live on the droplet's disk/,
    );
    rejects({ paused: "yes" }, /paused = "yes": must be true or false/);
    // autoPauseMinutes: read by the sweep alone, checked here as every key is.
    for (const [raw, minutes] of [
        ["0", 0],
        ["1", 1],
        ["10080", 10080],
    ] as const) {
        assert.equal(read(source({ autoPauseMinutes: raw })).autoPauseMinutes, minutes);
    }
    rejects({ autoPauseMinutes: "10081" }, /autoPauseMinutes = 10081: must be 0 \(never pause\) or a number of minutes from 1 to 10080/);
    rejects({ autoPauseMinutes: "-1" }, /autoPauseMinutes = -1: must be 0 \(never pause\)/);
    rejects({ autoPauseMinutes: "1h" }, /autoPauseMinutes = "1h": must be a whole number: must be 0 \(never pause\)/);
    rejects(
        { autoPauseMinutes: "60", dataVolumeGb: "0" },
        /autoPauseMinutes = 60: needs a data volume: with dataVolumeGb 0 the notebooks live on the droplet's disk, which pausing deletes/,
    );
    assert.equal(read(source({ autoPauseMinutes: "0", dataVolumeGb: "0" })).autoPauseMinutes, 0);
    rejects({ paused: "1" }, /paused = "1": must be true or false/);
    rejects({ reservedIp: "yes" }, /reservedIp = "yes": must be true or false/);
    assert.equal(read(source({ reservedIp: "true" })).reservedIp, true);
    rejects({ jupyterlabVersion: "3.6.8" }, /jupyterlabVersion = 3.6.8: must be 4.0.0 or later/);
    rejects({ jupyterlabVersion: "latest" }, /jupyterlabVersion = "latest": must be an exact release version/);
    rejects({ pythonPackages: '["pandas", "rm -rf /"]' }, /pythonPackages = "rm -rf \/": each entry must be a pip requirement specifier/);
    rejects({ pythonPackages: '["--index-url=http://x"]' }, /pythonPackages = "--index-url=http:\/\/x"/);
    rejects({ requirementsFile: "missing.txt" }, /requirementsFile = "missing.txt": .*missing.txt does not exist/);
});

test("all problems are reported at once, as data: each key, its value as shown and what is allowed", () => {
    const found = problems(source({ region: "nowhere", jupyterPort: "22", size: "s-1vcpu-1gb" }));
    assert.deepEqual(
        found.map((problem) => problem.key),
        ["region", "size", "jupyterPort"],
    );
    assert.deepEqual(found[2], {
        key: "jupyterPort",
        value: "22",
        allowed: "22 is the SSH port; choose 443 or a port from 1024 to 65535",
    });
    assert.equal(message(source({ region: "nowhere", jupyterPort: "22", size: "s-1vcpu-1gb" })).split("\n").length, 3);
});

test("a domain, an ACME email and server are read, the domain in lowercase", () => {
    const config = read(source({ domain: "NB.Example.com.", acmeEmail: "me@example.com", acmeServer: "https://acme.example.net/dir" }));
    assert.equal(config.domain, "nb.example.com");
    assert.equal(config.acmeEmail, "me@example.com");
    assert.equal(config.acmeServer, "https://acme.example.net/dir");
    assert.equal(read(source({ domain: "example.com" })).domain, "example.com", "a zone's own name is a domain too");
});

test("a domain that is not a host name, an email that is not an address, a server that is not https are refused by key", () => {
    for (const domain of [
        "https://nb.example.com",
        "nb.example.com:443",
        "nb",
        "-nb.example.com",
        "nb_1.example.com",
        "203.0.113.7",
        "nb..example.com",
        `${"a".repeat(64)}.example.com`,
        "nb.example.com/lab",
        "*.example.com",
    ]) {
        rejects(
            { domain },
            new RegExp(
                `jupyterlab-droplet:domain = ${JSON.stringify(domain).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: must be a fully qualified host name`,
            ),
        );
    }
    for (const acmeEmail of ["me", "me@", "@example.com", "me@localhost", "me@example.com, you@example.com", "a@b@example.com"]) {
        rejects({ acmeEmail }, /jupyterlab-droplet:acmeEmail = .*: must be an email address/);
    }
    for (const acmeServer of ["http://acme.example.net/dir", "acme.example.net", "ftp://x/dir", "https://user:pw@acme.example.net/dir"]) {
        rejects({ acmeServer }, /jupyterlab-droplet:acmeServer = .*: must be the https URL of an ACME directory/);
    }
});

test("a block written without host bits is kept as written, in any case and form", () => {
    const config = read(
        source({ allowedCidrs: '["10.0.0.0/8","2001:DB8::/32","2001:db8:0:0::/64","0.0.0.0/0","::/0","198.51.100.4/32"]' }),
    );
    assert.deepEqual(config.allowedCidrs, ["10.0.0.0/8", "2001:DB8::/32", "2001:db8:0:0::/64", "0.0.0.0/0", "::/0", "198.51.100.4/32"]);
});

test("a key the program does not read is refused, naming the nearest one: a typo never leaves the default in force", () => {
    const withKeys = (values: Record<string, string>, secrets: string[] = ["password"]): ConfigSource => ({
        ...source(values, secrets),
        keys: () => Object.keys(values),
    });
    assert.match(
        message(withKeys({ regoin: "fra1" })),
        /Invalid config jupyterlab-droplet:regoin = "fra1": is not a setting of this program, so it would change nothing; did you mean region\? \(`pulumi config rm regoin`; the settings are region, size, /,
    );
    assert.match(message(withKeys({ datavolumegb: "20" })), /did you mean dataVolumeGb\?/);
    const secret = message(withKeys({ pasword: "a secret value" }, ["pasword"]));
    assert.match(secret, /jupyterlab-droplet:pasword = \(a secret value\): .*did you mean password\?/);
    assert.ok(!secret.includes('a secret value"'));
    const colour = message(withKeys({ colour: "blue" }));
    assert.match(colour, /colour = "blue": is not a setting/);
    assert.doesNotMatch(colour, /did you mean/);
    assert.equal(read(withKeys({ region: "fra1", password: "long enough password" })).region, "fra1");
});
