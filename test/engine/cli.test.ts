// The program as the real Pulumi CLI runs it, before any provider is involved: Pulumi.yaml's
// config schema and defaults, the example stack config, and bad config stopping `pulumi up`
// before anything exists. `up` of a valid config, on droplets that are VMs: full-flow.test.ts.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { namespace } from "../../config/config";
import { configDeclarations } from "../../config/pulumi-yaml";
import { requireCommand } from "../support/jupyter-venv";
import { buildEngine, buildEngineEnvironment, copyProject, PulumiCli } from "./pulumi-cli";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-cli-"));
let cli: PulumiCli;

before(async () => {
    requireCommand("go", "install Go (Debian: apt-get install golang-go; or from go.dev)");
    const engine = buildEngine(["pulumi", "pulumi-language-nodejs"]);
    console.log(`[engine] build-engine.sh pulumi pulumi-language-nodejs: ${engine.seconds.toFixed(1)} s`);
    const home = path.join(work, "home");
    fs.mkdirSync(home, { recursive: true });
    // No DigitalOcean API is reachable, and none is needed: nothing here gets past config.
    cli = new PulumiCli(copyProject(work), PulumiCli.environment(engine.binDir, home, "http://127.0.0.1:9"));
    fs.mkdirSync(path.join(work, "state"));
    await cli.ok(["login", `file://${path.join(work, "state")}`]);
});

after(() => {
    fs.rmSync(work, { recursive: true, force: true });
});

function resourceTypes(exported: string): string[] {
    const state = JSON.parse(exported) as { deployment: { resources?: { type: string }[] } };
    return (state.deployment.resources ?? []).map((r) => r.type);
}

describe("the real Pulumi CLI on the project", { concurrency: false }, () => {
    test("Pulumi.yaml and Pulumi.dev.yaml are accepted; unset keys take the documented defaults", async () => {
        await cli.ok(["stack", "init", "dev"]);
        const config = JSON.parse((await cli.ok(["config", "--json", "--stack=dev"])).stdout) as Record<
            string,
            { value?: string; objectValue?: unknown }
        >;
        const value = (key: string) => config[`${namespace}:${key}`]?.value;
        const objectValue = (key: string) => config[`${namespace}:${key}`]?.objectValue;
        // What each key should be: the example stack's value, else Pulumi.yaml's default as config/settings.ts makes it.
        const example = (
            parseYaml(fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> }
        ).config;
        const declared = configDeclarations();
        const expected = (key: string) => example[`${namespace}:${key}`] ?? declared[key].default;
        assert.equal(value("region"), "fra1", "from Pulumi.dev.yaml");
        for (const key of [
            "size",
            "image",
            "jupyterPort",
            "dataVolumeGb",
            "retainData",
            "idleKernelMinutes",
            "maxLoginFailures",
            "banMinutes",
            "paused",
            "jupyterlabVersion",
            "domain",
            "acmeServer",
        ]) {
            assert.equal(value(key), String(expected(key)), key);
        }
        assert.equal(value("domain"), "", "no domain: the self-signed certificate");
        assert.deepEqual(objectValue("allowedCidrs"), expected("allowedCidrs"));
        assert.equal(config[`${namespace}:password`], undefined, "no password in the example config");
    });

    test("bad values stop `pulumi up` before anything is created, naming each key, value and what is allowed", async () => {
        await cli.ok(["stack", "init", "bad"]);
        await cli.ok(["config", "set", "--stack=bad", "jupyterPort", "22"]);
        await cli.ok(["config", "set", "--stack=bad", "--path", "allowedCidrs[0]", "1.2.3.4/40"]);
        await cli.ok(["config", "set", "--stack=bad", "--secret", "password"], { stdin: "tooShort1" });
        await cli.ok(["config", "set", "--stack=bad", "maxLoginFailures", "--", "-2"]);
        await cli.ok(["config", "set", "--stack=bad", "banMinutes", "0"]);
        await cli.ok(["config", "set", "--stack=bad", "domain", "https://nb.example.com/lab"]);
        await cli.ok(["config", "set", "--stack=bad", "acmeEmail", "me-at-example.com"]);
        await cli.ok(["config", "set", "--stack=bad", "acmeServer", "http://acme.example.net/directory"]);
        const up = await cli.run(["up", "--yes", "--skip-preview", "--stack=bad"]);
        assert.notEqual(up.code, 0);
        const output = up.stdout + up.stderr;
        assert.match(
            output,
            /Invalid config jupyterlab-droplet:jupyterPort = 22: 22 is the SSH port; choose 443 or a port from 1024 to 65535/,
        );
        assert.match(
            output,
            /Invalid config jupyterlab-droplet:allowedCidrs = "1\.2\.3\.4\/40": each entry must be an IPv4 or IPv6 CIDR block/,
        );
        assert.match(
            output,
            /Invalid config jupyterlab-droplet:password = \(a value of 9 characters\): must be at least 12 characters long/,
        );
        assert.match(
            output,
            /Invalid config jupyterlab-droplet:maxLoginFailures = -2: must be 0 \(no ban\) or a number of failed logins from 1 to 100/,
        );
        assert.match(output, /Invalid config jupyterlab-droplet:banMinutes = 0: must be a number of minutes from 1 to 525600/);
        assert.match(
            output,
            /Invalid config jupyterlab-droplet:domain = "https:\/\/nb\.example\.com\/lab": must be a fully qualified host name/,
        );
        assert.match(output, /Invalid config jupyterlab-droplet:acmeEmail = "me-at-example\.com": must be an email address/);
        assert.match(
            output,
            /Invalid config jupyterlab-droplet:acmeServer = "http:\/\/acme\.example\.net\/directory": must be the https URL of an ACME directory/,
        );
        assert.ok(!output.includes("tooShort1"), "the password never appears");
        assert.ok(!/at readConfig|index\.ts:\d+/.test(output), "a config error is a message, not a stack trace");
        const exported = (await cli.ok(["stack", "export", "--stack=bad"])).stdout;
        assert.deepEqual(
            resourceTypes(exported).filter((t) => !t.startsWith("pulumi:")),
            [],
            "no resource was created",
        );
    });

    test("a plain-text password is refused, without showing it", async () => {
        await cli.ok(["stack", "init", "plain"]);
        await cli.ok(["config", "set", "--stack=plain", "password", "plain text password 1"]);
        const preview = await cli.run(["preview", "--stack=plain"]);
        assert.notEqual(preview.code, 0);
        const output = preview.stdout + preview.stderr;
        assert.match(
            output,
            /jupyterlab-droplet:password = \(a value of 21 characters\): is stored in plain text; set it with `pulumi config set --secret password`/,
        );
        assert.ok(!output.includes("plain text password 1"));
    });

    test("a value of the wrong type is refused by the engine from Pulumi.yaml's schema", async () => {
        await cli.ok(["stack", "init", "typed"]);
        await cli.ok(["config", "set", "--stack=typed", "jupyterPort", "nine thousand"]);
        const preview = await cli.run(["preview", "--stack=typed"]);
        assert.notEqual(preview.code, 0);
        assert.match(preview.stdout + preview.stderr, /configuration key 'jupyterPort' must be of type 'integer'/);
        await cli.ok(["config", "set", "--stack=typed", "jupyterPort", "9000"]);
        await cli.ok(["config", "set", "--stack=typed", "paused", "yes"]);
        const paused = await cli.run(["preview", "--stack=typed"]);
        assert.notEqual(paused.code, 0);
        assert.match(paused.stdout + paused.stderr, /configuration key 'paused' must be of type 'boolean'/);
    });
});

describe("build-engine.sh refuses sources it cannot trust or find", () => {
    const upstream = process.env.JUPYTERLAB_DROPLET_UPSTREAM_SRC ?? path.resolve(__dirname, "..", "..", "..", "shared", "upstream-src");
    let runs = 0;

    /**
     * build-engine.sh on `sources`, as the tests run it (buildEngineEnvironment: a Pulumi home of
     * its own), or with `isolated` false, as `environment` alone has it.
     */
    function buildWith(
        sources: string,
        binary: string,
        { environment = process.env, isolated = true }: { environment?: NodeJS.ProcessEnv; isolated?: boolean } = {},
    ): { status: number | null; stderr: string } {
        runs += 1;
        const result = spawnSync("bash", [path.join(__dirname, "build-engine.sh"), binary], {
            encoding: "utf8",
            env: {
                ...(isolated ? buildEngineEnvironment(path.join(work, `pulumi-home-${runs}`), environment) : environment),
                JUPYTERLAB_DROPLET_UPSTREAM_SRC: sources,
                // An empty cache: nothing built before may stand in for the build being tested.
                JUPYTERLAB_DROPLET_CACHE: path.join(work, `empty-cache-${runs}`),
            },
        });
        return { status: result.status, stderr: result.stderr };
    }

    /** A directory of sources holding SHA256SUMS and none of the tarballs it lists. */
    function sourcesWithoutTarballs(name: string): string {
        const sources = path.join(work, name);
        fs.mkdirSync(sources);
        fs.copyFileSync(path.join(upstream, "SHA256SUMS"), path.join(sources, "SHA256SUMS"));
        return sources;
    }

    test("a missing tarball fails, naming the file", () => {
        const sources = sourcesWithoutTarballs("sources-missing");
        const result = buildWith(sources, "pulumi-resource-tls");
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, new RegExp(`missing tarball ${sources}/pulumi-tls-[0-9a-f]+\\.tar\\.gz`));
    });

    test("a tarball that does not match SHA256SUMS fails before anything is built, naming it", () => {
        const sources = path.join(work, "sources-tampered");
        fs.mkdirSync(sources);
        fs.copyFileSync(path.join(upstream, "SHA256SUMS"), path.join(sources, "SHA256SUMS"));
        const name = fs.readdirSync(upstream).find((f) => /^pulumi-random-[0-9a-f]+\.tar\.gz$/.test(f))!;
        const tarball = fs.readFileSync(path.join(upstream, name));
        tarball[tarball.length - 1] ^= 0xff;
        fs.writeFileSync(path.join(sources, name), tarball);
        const result = buildWith(sources, "pulumi-resource-random");
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, new RegExp(`checksum mismatch for ${sources}/${name.replaceAll(".", "\\.")}`));
        assert.doesNotMatch(result.stderr, /go build/, "nothing was built from it");
    });

    test("a released plugin in the user's Pulumi home does not stand in for the refused source", () => {
        // A home as a user's is after `pulumi plugin install resource tls <the pinned version>`:
        // a decoy plugin where build-engine.sh looks for released ones.
        const lock = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package-lock.json"), "utf8"));
        const version = String(lock.packages["node_modules/@pulumi/tls"].version);
        const home = path.join(work, "user-home");
        const plugin = path.join(home, ".pulumi", "plugins", `resource-tls-v${version}`, "pulumi-resource-tls");
        fs.mkdirSync(path.dirname(plugin), { recursive: true });
        fs.writeFileSync(plugin, "#!/bin/sh\necho decoy\n", { mode: 0o755 });
        const sources = sourcesWithoutTarballs("sources-missing-decoy");
        const missing = new RegExp(`missing tarball ${sources}/pulumi-tls-[0-9a-f]+\\.tar\\.gz`);

        // The decoy works: run with the user's home as it is, build-engine.sh takes it and refuses nothing.
        for (const environment of [
            { ...process.env, HOME: home, PULUMI_HOME: undefined },
            { ...process.env, PULUMI_HOME: path.join(home, ".pulumi") },
        ]) {
            const fooled = buildWith(sources, "pulumi-resource-tls", { environment, isolated: false });
            assert.equal(fooled.status, 0, fooled.stderr);
            assert.ok(fooled.stderr.includes(`the released plugin ${plugin}`), fooled.stderr);
            assert.doesNotMatch(fooled.stderr, missing);

            // As the tests run it, the same home changes nothing: the missing tarball is refused.
            const refused = buildWith(sources, "pulumi-resource-tls", { environment });
            assert.notEqual(refused.status, 0);
            assert.match(refused.stderr, missing);
            assert.doesNotMatch(refused.stderr, /released plugin/);
        }
    });
});
