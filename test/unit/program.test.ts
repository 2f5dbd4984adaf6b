// The whole program under Pulumi's mocks: its resource graph, the properties that matter,
// where secrets go, and that bad config stops it before anything is registered.
import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mockValues, programError, ProgramRun, Recorded, runProgram } from "../support/program-under-mocks";

const password = "the users own password";

function one(run: ProgramRun, type: string, nameSuffix?: string): Recorded {
    const found = run.resources.filter((r) => r.type === type && (nameSuffix === undefined || r.name.endsWith(nameSuffix)));
    assert.equal(found.length, 1, `expected one ${type} ${nameSuffix ?? ""}, found ${found.map((r) => r.name).join(", ") || "none"}`);
    return found[0];
}

describe("the default stack", async () => {
    const run = await runProgram({ password });
    const droplet = one(run, "digitalocean:index/droplet:Droplet");

    test("creates exactly the expected resources", () => {
        const custom = run.resources.filter((r) => !r.type.startsWith("jupyterlab-droplet:") && r.type !== "pulumi:pulumi:Stack");
        assert.deepEqual(custom.map((r) => `${r.type} ${r.name}`).sort(), [
            "command:remote:Command setup-certificate",
            "command:remote:Command setup-cloud-init",
            "command:remote:Command setup-configure",
            "command:remote:Command setup-data-volume",
            "command:remote:Command setup-host-key",
            "command:remote:Command setup-host-keys",
            "command:remote:Command setup-jupyterlab",
            "command:remote:Command setup-kernel",
            "command:remote:Command setup-login-guard",
            "command:remote:Command setup-scripts",
            "digitalocean:index/droplet:Droplet server-droplet",
            "digitalocean:index/firewall:Firewall firewall-firewall",
            "digitalocean:index/sshKey:SshKey ssh-do",
            "digitalocean:index/volume:Volume data-volume",
            "random:index/randomBytes:RandomBytes password-salt",
            "tls:index/privateKey:PrivateKey ssh-private",
            "tls:index/privateKey:PrivateKey tls-key",
            "tls:index/selfSignedCert:SelfSignedCert tls-cert",
        ]);
    });

    test("the droplet: defaults, stack name, tags, key, volume, user-data", () => {
        assert.equal(droplet.inputs.name, "jupyterlab-alice");
        assert.equal(droplet.inputs.region, "nyc3");
        assert.equal(droplet.inputs.size, "s-1vcpu-2gb");
        assert.equal(droplet.inputs.image, "debian-13-x64");
        assert.deepEqual(droplet.inputs.tags, ["jupyterlab-droplet", "jupyterlab-droplet:alice"]);
        assert.deepEqual(droplet.inputs.sshKeys, ["aa:bb:cc"]);
        assert.deepEqual(droplet.inputs.volumeIds, ["data-volume-id"]);
        assert.match(String(droplet.inputs.userData), /^#cloud-config\n/);
        assert.match(String(droplet.inputs.userData), /scsi-0DO_Volume_jupyterlab-alice-notebooks/);
        // Shut down before it is deleted, so what the kernel had not flushed reaches the volume.
        assert.equal(droplet.inputs.gracefulShutdown, true);
    });

    test("the data volume: size, region, filesystem, name with the stack", () => {
        const volume = one(run, "digitalocean:index/volume:Volume");
        assert.equal(volume.inputs.name, "jupyterlab-alice-notebooks");
        assert.equal(volume.inputs.size, 10);
        assert.equal(volume.inputs.region, "nyc3");
        assert.equal(volume.inputs.initialFilesystemType, "ext4");
    });

    test("the firewall lets in only SSH, the Jupyter port and ICMP, to this droplet only", () => {
        const firewall = one(run, "digitalocean:index/firewall:Firewall");
        assert.equal(firewall.inputs.name, "jupyterlab-alice");
        assert.deepEqual(firewall.inputs.dropletIds, [4242]);
        assert.equal(firewall.inputs.tags, undefined, "tags on a firewall would select every stack's droplets");
        const inbound = firewall.inputs.inboundRules as { protocol: string; portRange?: string; sourceAddresses: string[] }[];
        assert.deepEqual(
            inbound.map((r) => `${r.protocol}:${r.portRange ?? ""}:${r.sourceAddresses.join(",")}`),
            ["tcp:22:0.0.0.0/0,::/0", "tcp:9000:0.0.0.0/0,::/0", "icmp::0.0.0.0/0,::/0"],
        );
        const outbound = firewall.inputs.outboundRules as { protocol: string }[];
        assert.deepEqual(
            outbound.map((r) => r.protocol),
            ["tcp", "udp", "icmp"],
        );
    });

    test("the certificate names the droplet's IP, for a year, for server auth", () => {
        const cert = one(run, "tls:index/selfSignedCert:SelfSignedCert");
        assert.deepEqual(cert.inputs.ipAddresses, [mockValues.ipv4, "127.0.0.1"]);
        assert.equal(cert.inputs.validityPeriodHours, 365 * 24);
        assert.deepEqual(cert.inputs.allowedUses, ["key_encipherment", "digital_signature", "server_auth"]);
        assert.equal(cert.inputs.privateKeyPem, mockValues.tlsKeyPem);
        assert.ok(cert.secretInputs.includes("privateKeyPem"));
    });

    test("the remote setup runs on the droplet, re-runs for a new droplet, in order", () => {
        for (const suffix of [
            "-cloud-init",
            "-host-key",
            "-login-guard",
            "-jupyterlab",
            "-kernel",
            "-configure",
            "-certificate",
            "-data-volume",
        ]) {
            const step = one(run, "command:remote:Command", suffix);
            const connection = step.inputs.connection as Record<string, unknown>;
            assert.equal(connection.host, mockValues.ipv4);
            assert.equal(connection.user, "root");
            assert.equal(connection.privateKey, mockValues.sshPrivateKey);
            assert.ok((step.inputs.triggers as unknown[]).includes(mockValues.dropletId), `${suffix} triggers on the droplet id`);
        }
    });

    test("the host key: only the steps before it is read trust what answers; every other step checks it", () => {
        for (const step of run.resources.filter((r) => r.type === "command:remote:Command")) {
            const connection = step.inputs.connection as Record<string, unknown>;
            // The kept host keys come back from the droplet's own volume: no secret travels.
            if (["setup-cloud-init", "setup-host-keys", "setup-host-key"].includes(step.name)) {
                assert.equal(connection.hostKey, undefined, `${step.name} is the first contact`);
                assert.ok(Number(connection.dialErrorLimit) >= 60, "a booting droplet needs minutes of retries");
                assert.equal(step.inputs.stdin, undefined, `${step.name} sends the droplet nothing`);
            } else {
                assert.equal(connection.hostKey, mockValues.hostKey.trim(), `${step.name} checks the host key read first`);
            }
        }
        const configure = one(run, "command:remote:Command", "-configure");
        assert.match(String(configure.inputs.create), / configure-jupyter-[0-9a-f]{12}\.sh 9000$/);
        assert.deepEqual(configure.inputs.triggers, [mockValues.dropletId, "4.6.6"]);
        assert.match(
            String(one(run, "command:remote:Command", "-jupyterlab").inputs.create),
            / install-jupyterlab-[0-9a-f]{12}\.sh 4\.6\.6 \/dev\/disk\/by-id\/scsi-0DO_Volume_jupyterlab-alice-notebooks$/,
            "with a volume, the install step keeps its environment there",
        );
        assert.match(
            String(one(run, "command:remote:Command", "-kernel").inputs.create),
            / install-kernel-packages-[0-9a-f]{12}\.sh \/dev\/disk\/by-id\/scsi-0DO_Volume_jupyterlab-alice-notebooks$/,
        );
        assert.match(
            String(one(run, "command:remote:Command", "-host-keys").inputs.create),
            / keep-host-keys \/dev\/disk\/by-id\/scsi-0DO_Volume_jupyterlab-alice-notebooks$/,
        );
    });

    test("the config payload carries the hash, the certificate and the key, on stdin only", () => {
        const configure = one(run, "command:remote:Command", "-configure");
        const lines = String(configure.inputs.stdin)
            .trim()
            .split("\n")
            .map((l) => l.split(" "));
        const files = Object.fromEntries(lines.map(([name, b64]) => [name, Buffer.from(b64, "base64").toString()]));
        assert.deepEqual(Object.keys(files), ["jupyter_server_config.json", "tls.crt", "tls.key", "unit.conf"]);
        assert.match(files["unit.conf"], /^Environment=JUPYTER_CONFIG_DIR=\/etc\/jupyterlab-droplet$/m, "the config dir is root's");
        assert.match(files["unit.conf"], /^Environment=PYTHONNOUSERSITE=1$/m);
        assert.match(files["unit.conf"], /^RequiresMountsFor=\/home\/jupyter\/notebooks$/m, "it runs only with its volume");
        assert.doesNotMatch(files["unit.conf"], /Capabilit/);
        assert.equal(files["tls.key"], mockValues.tlsKeyPem);
        const jupyterConfig = JSON.parse(files["jupyter_server_config.json"]);
        assert.match(jupyterConfig.PasswordIdentityProvider.hashed_password, /^argon2:\$argon2id\$v=19\$m=10240,t=10,p=8\$/);
        assert.ok(!String(configure.inputs.create).includes("argon2"), "the hash is not on the command line");
        assert.deepEqual(configure.secretInputs, ["connection", "stdin"], "stdin and the key-bearing connection are secrets in state");
    });

    test("no secret is in the user-data or any command line", () => {
        const hash = JSON.parse(
            Buffer.from(
                String(one(run, "command:remote:Command", "-configure").inputs.stdin)
                    .split("\n")[0]
                    .split(" ")[1],
                "base64",
            ).toString(),
        ).PasswordIdentityProvider.hashed_password as string;
        const userData = String(droplet.inputs.userData);
        const commandLines = run.resources
            .filter((r) => r.type === "command:remote:Command")
            .map((r) => String(r.inputs.create))
            .join("\n");
        for (const [what, secret] of [
            ["password", password],
            ["hash", hash],
            ["hash body", hash.split("$").pop() ?? "x"],
            ["TLS key", "MOCK-TLS-KEY"],
            ["SSH private key", "MOCK-SSH-KEY"],
        ]) {
            assert.ok(!userData.includes(secret), `the ${what} is in the user-data`);
            assert.ok(!commandLines.includes(secret), `the ${what} is on a command line`);
        }
    });

    test("outputs: url, address, commands; secrets are secret outputs", () => {
        assert.equal(run.outputs.url, `https://${mockValues.ipv4}:9000/lab`);
        assert.equal(run.outputs.ipAddress, mockValues.ipv4);
        assert.equal(run.outputs.sshCommand, `ssh -i ~/.ssh/jupyterlab-alice jupyter@${mockValues.ipv4}`);
        assert.equal(run.outputs.password, password);
        assert.equal(run.outputs.sshPrivateKey, mockValues.sshPrivateKey);
        // The droplet's price from the API plus the 10 GB volume's $1.00/month ($1/672 an hour).
        assert.equal(run.outputs.monthlyPriceUsd, 13);
        assert.equal(run.outputs.hourlyPriceUsd, 0.01935);
        assert.equal(run.outputs.state, "running");
        assert.match(String(run.outputs.costNote), /^running: \$0\.01935\/hour, up to \$13\.00\/month \(droplet and 10 GB volume\)/);
        assert.match(String(run.outputs.certificateSha256), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
        assert.equal(run.outputs.sshHostKey, mockValues.hostKey.trim());
        assert.equal(run.outputs.setupReport, "done");
        assert.match(String(run.outputs.sshHostKeyFingerprint), /^SHA256:[A-Za-z0-9+/]{43}$/);
        assert.equal(run.outputs.knownHostsLine, `jupyterlab-alice ${mockValues.hostKey.trim()}`);
        assert.match(String(run.outputs.sshConfig), /^Host jupyterlab-alice\n {2}HostName 203\.0\.113\.10\n {2}User jupyter\n/);
        assert.deepEqual(run.secretOutputs.sort(), ["password", "sshPrivateKey"]);
    });
});

test("the login guard: fail2ban's files from the config on stdin; new limits change that step only", async () => {
    const run = await runProgram({ password, maxLoginFailures: "3", banMinutes: "15", jupyterPort: "8443" });
    const guard = one(run, "command:remote:Command", "-login-guard");
    assert.match(String(guard.inputs.create), / configure-login-guard-[0-9a-f]{12}\.sh$/);
    const files = Object.fromEntries(
        String(guard.inputs.stdin)
            .trim()
            .split("\n")
            .map((line) => line.split(" "))
            .map(([name, b64]) => [name, Buffer.from(b64, "base64").toString()]),
    );
    assert.deepEqual(Object.keys(files).sort(), ["fail2ban.local", "filter.conf", "jail.local", "journald.conf"]);
    assert.match(files["journald.conf"], /^\[Journal\]\nLineMax=1M$/m, "no log line is cut in two");
    assert.match(files["jail.local"], /\nport = 8443\n[\s\S]*\nmaxretry = 3\n[\s\S]*\nbantime = 15m\n/);
    const base = await runProgram({ password });
    const limitsOnly = await runProgram({ password, maxLoginFailures: "3", banMinutes: "15" });
    const limitChanges = limitsOnly.resources
        .filter((r) => {
            const before = base.resources.find((b) => b.name === r.name);
            return JSON.stringify(before?.inputs) !== JSON.stringify(r.inputs);
        })
        .map((r) => r.name);
    assert.deepEqual(limitChanges, ["setup-login-guard"], "new limits re-push the guard's files and change nothing else");
});

test("paused: no droplet, firewall, certificate or setup; the volume, key, password and its salt stay", async () => {
    const running = await runProgram({ password });
    const paused = await runProgram({ password, paused: "true" });
    const custom = (run: ProgramRun) =>
        run.resources.filter((r) => !r.type.startsWith("jupyterlab-droplet:") && r.type !== "pulumi:pulumi:Stack");
    assert.deepEqual(
        custom(paused)
            .map((r) => `${r.type} ${r.name}`)
            .sort(),
        [
            "digitalocean:index/sshKey:SshKey ssh-do",
            "digitalocean:index/volume:Volume data-volume",
            "random:index/randomBytes:RandomBytes password-salt",
            "tls:index/privateKey:PrivateKey ssh-private",
        ],
    );
    for (const kept of custom(paused)) {
        const before = custom(running).find((r) => r.name === kept.name);
        assert.deepEqual(kept.inputs, before?.inputs, `${kept.name} is the same resource with the same inputs while paused`);
    }
    assert.equal(paused.outputs.state, "paused");
    assert.equal(paused.outputs.monthlyPriceUsd, 1, "the 10 GB volume alone");
    assert.equal(paused.outputs.hourlyPriceUsd, 0.00149);
    assert.match(String(paused.outputs.costNote), /^paused: no droplet; the 10 GB volume costs \$0\.00149\/hour, up to \$1\.00\/month/);
    assert.equal(paused.outputs.password, password);
    for (const gone of ["url", "ipAddress", "sshConfig", "knownHostsLine", "certificatePem"]) {
        assert.ok(!(gone in paused.outputs), `no ${gone} output while paused`);
    }
});

test("reservedIp: the url, certificate, SSH entry and setup use the reserved address, assigned to the droplet", async () => {
    const run = await runProgram({ password, reservedIp: "true" });
    const reserved = one(run, "digitalocean:index/reservedIp:ReservedIp");
    assert.equal(reserved.inputs.region, "nyc3");
    const assignment = one(run, "digitalocean:index/reservedIpAssignment:ReservedIpAssignment");
    assert.equal(assignment.inputs.ipAddress, mockValues.reservedIp);
    assert.equal(assignment.inputs.dropletId, Number(mockValues.dropletId));
    assert.deepEqual(one(run, "tls:index/selfSignedCert:SelfSignedCert").inputs.ipAddresses, [mockValues.reservedIp, "127.0.0.1"]);
    for (const step of run.resources.filter((r) => r.type === "command:remote:Command")) {
        assert.equal(
            (step.inputs.connection as Record<string, unknown>).host,
            mockValues.reservedIp,
            `${step.name} connects to the reserved address`,
        );
    }
    assert.equal(run.outputs.url, `https://${mockValues.reservedIp}:9000/lab`);
    assert.equal(run.outputs.ipAddress, mockValues.reservedIp);
    assert.match(String(run.outputs.sshConfig), new RegExp(`HostName ${mockValues.reservedIp.replaceAll(".", "\\.")}\n`));
    assert.equal(run.outputs.monthlyPriceUsd, 13, "an assigned reserved IP costs nothing");
});

test("reservedIp while paused: the address and its certificate stay, unassigned, and the outputs count its price", async () => {
    const running = await runProgram({ password, reservedIp: "true" });
    const paused = await runProgram({ password, reservedIp: "true", paused: "true" });
    const names = (run: ProgramRun) =>
        run.resources
            .filter((r) => !r.type.startsWith("jupyterlab-droplet:") && r.type !== "pulumi:pulumi:Stack")
            .map((r) => r.name)
            .sort();
    assert.deepEqual(names(paused), ["address-ip", "data-volume", "password-salt", "ssh-do", "ssh-private", "tls-cert", "tls-key"]);
    for (const kept of ["address-ip", "tls-cert", "tls-key"]) {
        assert.deepEqual(
            paused.resources.find((r) => r.name === kept)?.inputs,
            running.resources.find((r) => r.name === kept)?.inputs,
            `${kept} has the same inputs paused and running: nothing is replaced`,
        );
    }
    assert.equal(paused.outputs.monthlyPriceUsd, 6, "$1 for the volume, $5 for the unassigned reserved IP");
    assert.equal(paused.outputs.hourlyPriceUsd, 0.00893);
    assert.match(
        String(paused.outputs.costNote),
        /^paused: no droplet; the 10 GB volume and the unassigned reserved IP cost \$0\.00893\/hour, up to \$6\.00\/month/,
    );
});

test("two runs with the same config register identical inputs", async () => {
    const first = await runProgram({ password });
    const second = await runProgram({ password });
    assert.deepEqual(second.resources, first.resources);
});

test("a new password changes the configure step's payload and nothing else", async () => {
    const first = await runProgram({ password });
    const second = await runProgram({ password: "another long password" });
    const changed = second.resources.filter((r, i) => JSON.stringify(r) !== JSON.stringify(first.resources[i])).map((r) => r.name);
    assert.deepEqual(changed, ["setup-configure"]);
});

test("autoPauseMinutes, read by the sweep alone, changes no resource: not the droplet, not its setup", async () => {
    const base = await runProgram({ password });
    const sweeping = await runProgram({ password, autoPauseMinutes: "60" });
    assert.deepEqual(sweeping.resources, base.resources);
    assert.deepEqual(sweeping.outputs, base.outputs);
});

test("a new port or JupyterLab version leaves the droplet's inputs unchanged", async () => {
    const base = await runProgram({ password });
    const changed = await runProgram({ password, jupyterPort: "8443", jupyterlabVersion: "4.5.0", pythonPackages: '["pandas"]' });
    const droplet = (run: ProgramRun) => JSON.stringify(one(run, "digitalocean:index/droplet:Droplet").inputs);
    assert.equal(droplet(changed), droplet(base));
    assert.equal(changed.outputs.url, `https://${mockValues.ipv4}:8443/lab`);
    assert.match(String(one(changed, "command:remote:Command", "-kernel").inputs.stdin), /^pandas\n$/);
});

test("without a password one is generated and exported as a secret", async () => {
    const run = await runProgram({});
    one(run, "random:index/randomPassword:RandomPassword");
    assert.equal(run.outputs.password, mockValues.generatedPassword);
    assert.ok(run.secretOutputs.includes("password"));
});

test("with the user's own public key, no private key is generated and the agent logs in", async () => {
    const publicKey = mockValues.sshPublicKey.trim() + " me@laptop";
    const run = await runProgram({ password, sshPublicKey: publicKey });
    assert.deepEqual(
        run.resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey").map((r) => r.name),
        ["tls-key"],
    );
    assert.equal(one(run, "digitalocean:index/sshKey:SshKey").inputs.publicKey, publicKey);
    assert.ok(!("sshPrivateKey" in run.outputs), "no sshPrivateKey output at all, not even an undefined one");
    assert.equal((one(run, "command:remote:Command", "-configure").inputs.connection as Record<string, unknown>).privateKey, undefined);
    assert.equal(run.outputs.sshCommand, `ssh jupyter@${mockValues.ipv4}`);
});

test("dataVolumeGb 0 makes no volume and no mount; allowedCidrs narrows the firewall", async () => {
    const run = await runProgram({ password, dataVolumeGb: "0", allowedCidrs: '["198.51.100.4/32"]' });
    assert.equal(run.resources.filter((r) => r.type === "digitalocean:index/volume:Volume").length, 0);
    const droplet = one(run, "digitalocean:index/droplet:Droplet");
    assert.deepEqual(droplet.inputs.volumeIds, []);
    assert.ok(!String(droplet.inputs.userData).includes("mounts:"));
    const inbound = one(run, "digitalocean:index/firewall:Firewall").inputs.inboundRules as {
        portRange?: string;
        sourceAddresses: string[];
    }[];
    assert.deepEqual(
        inbound.filter((r) => r.portRange).map((r) => r.sourceAddresses),
        [["198.51.100.4/32"], ["198.51.100.4/32"]],
    );
});

test("names and tags carry the stack, so two users never collide", async () => {
    const bob = await runProgram({ password }, { stack: "Bob.Research" });
    assert.equal(one(bob, "digitalocean:index/droplet:Droplet").inputs.name, "jupyterlab-bob-research");
    assert.equal(one(bob, "digitalocean:index/volume:Volume").inputs.name, "jupyterlab-bob-research-notebooks");
    assert.equal(one(bob, "digitalocean:index/sshKey:SshKey").inputs.name, "jupyterlab-bob-research");
    assert.deepEqual(one(bob, "digitalocean:index/droplet:Droplet").inputs.tags, ["jupyterlab-droplet", "jupyterlab-droplet:Bob-Research"]);
});

describe("bad config stops the program before any resource is registered", () => {
    const cases: [Record<string, string>, RegExp, string[]?][] = [
        [{ size: "s-1vcpu-1gb" }, /jupyterlab-droplet:size = "s-1vcpu-1gb": has 1024 MB of RAM/],
        [{ allowedCidrs: '["1.2.3.4/40"]' }, /allowedCidrs = "1\.2\.3\.4\/40"/],
        [{ jupyterPort: "22" }, /jupyterPort = 22: 22 is the SSH port/],
        [{ jupyterPort: "99999" }, /jupyterPort = 99999: must be 443 or a port from 1024 to 65535/],
        [{ domain: "https://nb.example.com" }, /domain = "https:\/\/nb\.example\.com": must be a fully qualified host name/],
        [{ domain: "nb.example.com", acmeEmail: "me" }, /acmeEmail = "me": must be an email address/],
        [
            { domain: "nb.example.com", acmeServer: "http://acme.example.net/dir" },
            /acmeServer = "http:\/\/acme\.example\.net\/dir": must be the https URL/,
        ],
        [{ password: "short" }, /password = \(a value of 5 characters\): must be at least 12/],
        [{ password: "long enough but plain" }, /stored in plain text/, []],
        [{ sshPublicKey: "ssh-ed25519 AAAA" }, /sshPublicKey = "ssh-ed25519 AAAA"/],
        [{ dataVolumeGb: "ten" }, /dataVolumeGb = "ten": must be a whole number/],
        [{ region: "mars1" }, /region = "mars1": must be one of/],
        [{ maxLoginFailures: "-1" }, /maxLoginFailures = -1: must be 0 \(no ban\)/],
        [{ banMinutes: "0" }, /banMinutes = 0: must be a number of minutes from 1/],
        [{ paused: "yes" }, /paused = "yes": must be true or false/],
        [{ reservedIp: "maybe" }, /reservedIp = "maybe": must be true or false/],
        [{ paused: "true", dataVolumeGb: "0" }, /paused = true: needs a data volume/],
        [{ autoPauseMinutes: "10081" }, /autoPauseMinutes = 10081: must be 0 \(never pause\) or a number of minutes from 1 to 10080/],
        [{ autoPauseMinutes: "30", dataVolumeGb: "0" }, /autoPauseMinutes = 30: needs a data volume/],
        [{ requirementsFile: "no-such-requirements.txt" }, /requirementsFile = "no-such-requirements.txt": .* does not exist/],
        // One entry must never become two lines of requirements.txt, the second read by pip as an option.
        [{ pythonPackages: JSON.stringify(["numpy>=\n--pre"]) }, /pythonPackages = .*: must not contain control characters .*U\+000A/],
        [{ region: "fra1\t" }, /region = "fra1\\t": must not contain control characters .*U\+0009/],
        [{ acmeEmail: "me@example.com\u001b[2J" }, /acmeEmail = .*: must not contain control characters .*U\+001B/],
        [{ password: "long enough\u0007password" }, /password = \(a value of 20 characters\): must not contain control characters/],
    ];
    for (const [config, pattern, secretKeys] of cases) {
        test(`${JSON.stringify(config)}`, async () => {
            const { error, registered } = await programError(config, { secretKeys });
            assert.match(error.message, pattern);
            assert.equal(registered, 0, "nothing may be registered before config is valid");
        });
    }
});

describe("a domain: its A record, port 80 for the challenge, a certificate step, and the url by name", async () => {
    const zones = ["example.org", "example.com", "lab.example.com"];
    const config = { password, domain: "nb.example.com", acmeEmail: "me@example.com", jupyterPort: "443" };
    const plain = await runProgram({ password, jupyterPort: "443" });
    const run = await runProgram(config, { zones });
    const apex = await runProgram({ ...config, domain: "lab.example.com" }, { zones });

    test("an A record in the zone that holds the name, for the droplet's address, with a short TTL", () => {
        const record = one(run, "digitalocean:index/dnsRecord:DnsRecord");
        assert.deepEqual(record.inputs, { domain: "example.com", type: "A", name: "nb", value: mockValues.ipv4, ttl: 60 });
        assert.deepEqual(one(apex, "digitalocean:index/dnsRecord:DnsRecord").inputs.name, "@", "a zone's own name, in the longest zone");
        assert.equal(one(apex, "digitalocean:index/dnsRecord:DnsRecord").inputs.domain, "lab.example.com");
    });

    test("the firewall opens port 80 to anywhere, besides the Jupyter port to allowedCidrs", () => {
        const inbound = one(run, "digitalocean:index/firewall:Firewall").inputs.inboundRules as {
            protocol: string;
            portRange?: string;
            sourceAddresses: string[];
        }[];
        assert.deepEqual(
            inbound.map((r) => `${r.protocol}:${r.portRange ?? ""}`),
            ["tcp:22", "tcp:443", "tcp:80", "icmp:"],
        );
        assert.deepEqual(inbound[2].sourceAddresses, ["0.0.0.0/0", "::/0"]);
        const without = one(plain, "digitalocean:index/firewall:Firewall").inputs.inboundRules as { portRange?: string }[];
        assert.ok(!without.some((r) => r.portRange === "80"), "no port 80 without a domain");
    });

    test("the certificate step runs last, for the domain, with certbot's renewal hook on stdin", () => {
        const step = one(run, "command:remote:Command", "-certificate");
        assert.match(
            String(step.inputs.create),
            / obtain-certificate-[0-9a-f]{12}\.sh nb\.example\.com https:\/\/acme-v02\.api\.letsencrypt\.org\/directory me@example\.com 443 \/dev\/disk\/by-id\/scsi-0DO_Volume_jupyterlab-alice-notebooks$/,
        );
        const [name, body] = String(step.inputs.stdin).trim().split(" ");
        assert.equal(name, "renewal-hook.sh");
        const hook = Buffer.from(body, "base64").toString();
        assert.match(hook, /^export JLD_DOMAIN=nb\.example\.com$/m);
        assert.match(hook, /^export JLD_PORT=443$/m);
        assert.match(
            String(one(plain, "command:remote:Command", "-certificate").inputs.create),
            / obtain-certificate-[0-9a-f]{12}\.sh '' '' '' 443$/,
            "without a domain the step only serves the self-signed certificate",
        );
        assert.equal(one(plain, "command:remote:Command", "-certificate").inputs.stdin, undefined);
    });

    test("port 443: the configure step is told the port, and the unit gets no capability for it", () => {
        const configure = one(run, "command:remote:Command", "-configure");
        assert.match(String(configure.inputs.create), / configure-jupyter-[0-9a-f]{12}\.sh 443$/);
        const files = Object.fromEntries(
            String(configure.inputs.stdin)
                .trim()
                .split("\n")
                .map((l) => l.split(" "))
                .map(([n, b64]) => [n, Buffer.from(b64, "base64").toString()]),
        );
        assert.doesNotMatch(files["unit.conf"], /Capabilit/);
    });

    test("the url and the SSH entry use the name; the outputs describe the ACME certificate, not the self-signed one", () => {
        assert.equal(run.outputs.url, "https://nb.example.com/lab");
        assert.equal(plain.outputs.url, `https://${mockValues.ipv4}/lab`, "port 443 is left out of the url");
        assert.match(String(run.outputs.sshConfig), /^ {2}HostName nb\.example\.com$/m);
        assert.equal(run.outputs.ipAddress, mockValues.ipv4);
        assert.equal(run.outputs.certificate, "done");
        assert.ok(!("certificatePem" in run.outputs) && !("certificateSha256" in run.outputs));
    });

    test("a domain or ACME server of its own changes no droplet, volume or user-data", async () => {
        const droplet = (r: ProgramRun) => JSON.stringify(one(r, "digitalocean:index/droplet:Droplet").inputs);
        const changed = await runProgram({ ...config, domain: "other.example.org", acmeServer: "https://acme.example.net/dir" }, { zones });
        assert.equal(droplet(run), droplet(plain));
        assert.equal(droplet(changed), droplet(plain));
        const differing = changed.resources
            .filter((r) => JSON.stringify(r) !== JSON.stringify(run.resources.find((x) => x.name === r.name)))
            .map((r) => r.name);
        assert.deepEqual(differing.sort(), ["domain-record", "setup-certificate"]);
    });
});

test("with a reserved IP the name points at the reserved address", async () => {
    const run = await runProgram({ password, domain: "nb.example.com", reservedIp: "true" }, { zones: ["example.com"] });
    assert.equal(one(run, "digitalocean:index/dnsRecord:DnsRecord").inputs.value, mockValues.reservedIp);
});

test("a domain in no zone of the account stops the program, naming it, before any resource", async () => {
    const { error, registered } = await programError({ password, domain: "nb.example.net" }, { zones: ["example.com"] });
    assert.match(
        error.message,
        /jupyterlab-droplet:domain = "nb\.example\.net": must be in a DNS zone of this DigitalOcean account, and the account's zones are example\.com/,
    );
    assert.equal(registered, 0);
    const none = await programError({ password, domain: "nb.example.net" }, { zones: [] });
    assert.match(none.error.message, /the account has no DNS zones/);
});

describe("a change that would lose the notebooks volume is refused before any resource is registered", () => {
    const existing = { id: "vol-1234", name: "jupyterlab-alice-notebooks", region: "nyc3", sizeGb: 10 };
    const volumes = [existing, { id: "vol-5678", name: "jupyterlab-bob-notebooks", region: "fra1", sizeGb: 5 }];

    const refused: [Record<string, string>, RegExp][] = [
        [
            { dataVolumeGb: "0" },
            /jupyterlab-droplet:dataVolumeGb = 0: would delete the data volume jupyterlab-alice-notebooks \(id vol-1234, 10 GB in nyc3\) and every notebook on it\. To do it on purpose, copy your notebooks off first .*`pulumi config set allowVolumeDeletion vol-1234`/,
        ],
        [
            { region: "fra1" },
            /jupyterlab-droplet:region = "fra1": would replace the data volume jupyterlab-alice-notebooks .* with an empty volume in fra1 .*allowVolumeDeletion vol-1234/,
        ],
        [{ dataVolumeGb: "0", allowVolumeDeletion: "vol-9999" }, /would delete the data volume/],
        [
            { dataVolumeGb: "5" },
            /dataVolumeGb = 5: is smaller than the data volume .*: DigitalOcean volumes can only grow\. Set 10 or more/,
        ],
        [{ dataVolumeGb: "5", allowVolumeDeletion: "vol-1234" }, /can only grow/],
    ];
    for (const [change, pattern] of refused) {
        test(`refused: ${JSON.stringify(change)}`, async () => {
            const { error, registered } = await programError({ password, ...change }, { volumes });
            assert.match(error.message, pattern);
            assert.equal(registered, 0, "nothing is registered, so nothing changes");
        });
    }

    test("naming the volume in allowVolumeDeletion lets it go, on purpose", async () => {
        const dropped = await runProgram({ password, dataVolumeGb: "0", allowVolumeDeletion: "vol-1234" }, { volumes });
        assert.equal(dropped.resources.filter((r) => r.type === "digitalocean:index/volume:Volume").length, 0);
        const moved = await runProgram({ password, region: "fra1", allowVolumeDeletion: "vol-1234" }, { volumes });
        assert.equal(one(moved, "digitalocean:index/volume:Volume").inputs.region, "fra1");
    });

    test("a long stack's volume, named before long names got a hash, keeps its name: the user-data still mounts it", async () => {
        const stack = `research-${"x".repeat(40)}`;
        const legacyVolume = `jupyterlab-${stack}`.slice(0, 48) + "-notebooks";
        const run = await runProgram(
            { password },
            { stack, volumes: [{ id: "vol-4242", name: legacyVolume, region: "nyc3", sizeGb: 10 }] },
        );
        assert.equal(one(run, "digitalocean:index/volume:Volume").inputs.name, legacyVolume);
        const userData = String(one(run, "digitalocean:index/droplet:Droplet").inputs.userData);
        assert.ok(userData.includes(`scsi-0DO_Volume_${legacyVolume}`), "the mount names the volume as it is");
        assert.match(
            String(one(run, "command:remote:Command", "-data-volume").inputs.create),
            new RegExp(`scsi-0DO_Volume_${legacyVolume} 10$`),
        );
        const fresh = await runProgram({ password }, { stack, volumes: [] });
        assert.match(String(one(fresh, "digitalocean:index/volume:Volume").inputs.name), /^jupyterlab-research-x+-[0-9a-f]{8}-notebooks$/);
    });

    test("a new stack, or one without a volume yet, has nothing to lose", async () => {
        const fresh = await runProgram({ password, region: "fra1" }, { volumes: [] });
        assert.equal(one(fresh, "digitalocean:index/volume:Volume").inputs.region, "fra1");
        await runProgram({ password, dataVolumeGb: "0" }, { volumes: [] });
    });

    test("volumes of its name in two regions: which is the stack's cannot be told, and the program says so", async () => {
        const { error, registered } = await programError(
            { password },
            { volumes: [existing, { ...existing, id: "vol-2", region: "fra1" }] },
        );
        assert.match(
            error.message,
            /dataVolumeGb = \(any\): cannot be checked: the account has volumes named jupyterlab-alice-notebooks in several regions/,
        );
        assert.equal(registered, 0);
    });

    test("a grow is no loss: the volume grows, and the setup grows its filesystem", async () => {
        const grown = await runProgram({ password, dataVolumeGb: "25" }, { volumes });
        assert.equal(one(grown, "digitalocean:index/volume:Volume").inputs.size, 25);
        assert.match(
            String(one(grown, "command:remote:Command", "-data-volume").inputs.create),
            / grow-data-volume-[0-9a-f]{12}\.sh \/dev\/disk\/by-id\/scsi-0DO_Volume_jupyterlab-alice-notebooks 25$/,
        );
    });
});

describe("pre-flight: what would fail halfway through `up` stops the program before any resource", () => {
    test("no DigitalOcean token: says where to get one and which variable to set", async () => {
        const saved = process.env.DIGITALOCEAN_TOKEN;
        delete process.env.DIGITALOCEAN_TOKEN;
        try {
            const { error, registered } = await programError({ password });
            assert.match(
                error.message,
                /^No DigitalOcean API token: DIGITALOCEAN_TOKEN is not set\. Create a token .* at https:\/\/cloud\.digitalocean\.com\/account\/api\/tokens, then `export DIGITALOCEAN_TOKEN=dop_v1_\.\.\.`/,
            );
            assert.equal(registered, 0);
        } finally {
            process.env.DIGITALOCEAN_TOKEN = saved;
        }
    });

    test("a token DigitalOcean refuses: the same help, after the one read that found out", async () => {
        const { error, registered } = await programError({ password }, { tokenRefused: true });
        assert.match(
            error.message,
            /^DigitalOcean refused the API token \(401 Unable to authenticate you\): it is wrong, expired or revoked\. Create a token/,
        );
        assert.equal(registered, 0);
    });

    test("a mistyped key is refused, naming the key it was probably meant to be", async () => {
        const { error, registered } = await programError({ password, regoin: "fra1" });
        assert.match(
            error.message,
            /Invalid config jupyterlab-droplet:regoin = "fra1": is not a setting of this program, so it would change nothing; did you mean region\?/,
        );
        assert.equal(registered, 0);
    });
});
