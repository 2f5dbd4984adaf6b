// The setup's steps as the droplet receives them: the scripts copied once by install-steps.sh and
// run by path through run-step, whose failure shows the step's name, its last lines and what to do.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { renderFilePayload } from "../../droplet/file-payload";
import { serverLayout } from "../../droplet/server-layout";
import { SetupArgs, SetupRole, setupSteps } from "../../droplet/setup-steps";
import { readRemoteLibrary, readRemoteScript, standaloneScript } from "../../droplet/step-scripts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "jld-steps-"));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const settings: SetupArgs = {
    jupyterlabVersion: "4.6.6",
    jupyterPort: 9000,
    idleKernelMinutes: 60,
    maxLoginFailures: 5,
    banMinutes: 60,
    pythonPackages: ["pandas"],
    dataVolume: { name: "jupyterlab-alice-notebooks", sizeGb: 10 },
    acmeServer: "https://acme.example/directory",
};
const secrets = { hashedPassword: "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdA$aGFzaA", certPem: "CERT", keyPem: "KEY" };
const steps = setupSteps(settings, (render) => render(secrets));
const byRole = new Map(steps.map((step) => [step.role, step]));

/** Whether `role` waits, directly or not, for `earlier`. */
function runsAfter(role: SetupRole, earlier: SetupRole): boolean {
    return byRole.get(role)!.after.some((before) => before === earlier || runsAfter(before, earlier));
}

/** The scripts step's payload, as files by name. */
function copiedScripts(): Map<string, string> {
    const payload = String(byRole.get("scripts")!.stdin);
    return new Map(
        payload
            .trim()
            .split("\n")
            .map((line) => {
                const [name, content] = line.split(" ");
                return [name, Buffer.from(content, "base64").toString("utf8")];
            }),
    );
}

test("only the first steps run inline (cloud-init, the kept host keys, the host key); the scripts step copies the rest, which run by path, in a short command", () => {
    assert.deepEqual(
        steps.filter((step) => !step.command.startsWith(`${serverLayout.stepRunner} `)).map((step) => step.role),
        ["cloud-init", "host-keys", "host-key", "scripts"],
    );
    const copied = copiedScripts();
    for (const step of steps.filter((s) => s.command.startsWith(serverLayout.stepRunner))) {
        const [, role, script] = step.command.split(" ");
        assert.equal(role, step.role);
        assert.ok(copied.has(script), `${step.role} runs ${script}, which the scripts step copies`);
        assert.ok(step.command.length < 200, `a command short enough to read in an error: ${step.command}`);
        assert.ok(runsAfter(step.role, "scripts"), `${step.role} runs after the scripts are copied`);
        // The name carries the hash of what is installed: a changed script changes its step's command.
        const hash = createHash("sha256").update(copied.get(script)!).digest("hex").slice(0, 12);
        assert.ok(script.endsWith(`-${hash}.sh`), script);
    }
    assert.ok(copied.has("run-step"), "the runner at its fixed path");
    assert.equal(copied.get("run-step"), standaloneScript("run-step"));
    assert.deepEqual(byRole.get("scripts")!.after, ["host-key"], "copied only to the droplet whose host key was read");
});

test("the kernel step has uv of its own: it installs while JupyterLab's environment does", () => {
    assert.deepEqual(byRole.get("kernel")!.after, ["scripts"]);
    assert.deepEqual(byRole.get("jupyterlab")!.after, ["scripts"]);
    assert.ok(!readRemoteScript("install-kernel-packages").includes("JLD_SERVER_ENV"), "nothing of JupyterLab's environment is used");
    assert.deepEqual(byRole.get("configure")!.after, ["login-guard", "jupyterlab", "kernel"]);
});

test("every step's stdin is built here, the secrets only in the configure step's", () => {
    for (const step of steps) {
        const stdin = String(step.stdin ?? "");
        const decoded = stdin
            .split("\n")
            .map((line) => Buffer.from(line.split(" ")[1] ?? "", "base64").toString("utf8"))
            .join("\n");
        const holds = decoded.includes(secrets.keyPem) && decoded.includes("$argon2id$");
        assert.equal(holds, step.role === "configure", `${step.role}'s stdin`);
        assert.ok(!step.command.includes("argon2"), `no secret on ${step.role}'s command line`);
    }
    assert.equal(byRole.get("kernel")!.stdin, "pandas\n");
});

/** install-steps.sh and run-step as the scripts step installs them, into a directory of the test's own. */
function installInto(dir: string, files: Record<string, string>, names = Object.keys(files)) {
    const script = `set -eu; ${readRemoteLibrary("file-payload")}\n${readRemoteScript("install-steps").replace(/^#!.*\n/, "")}`;
    return spawnSync("bash", ["-c", script, "install-steps", ...names], {
        input: renderFilePayload(files),
        env: { ...process.env, JLD_STEPS_DIR: dir },
        encoding: "utf8",
    });
}

test("install-steps installs exactly the scripts named, root's and executable, and removes those no longer named", () => {
    const dir = path.join(work, "installed");
    const first = installInto(dir, { "a-1.sh": "#!/bin/sh\necho a\n", "b-1.sh": "#!/bin/sh\necho b\n" });
    assert.equal(first.status, 0, first.stderr);
    const second = installInto(dir, { "a-2.sh": "#!/bin/sh\necho a2\n", "b-1.sh": "#!/bin/sh\necho b\n" });
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["a-2.sh", "b-1.sh"]);
    assert.equal(fs.statSync(path.join(dir, "a-2.sh")).mode & 0o777, 0o755);
    const unnamed = installInto(dir, { "evil.sh": "x" }, ["a-2.sh"]);
    assert.notEqual(unnamed.status, 0);
    assert.match(unnamed.stderr, /unexpected file name in the setup payload: evil\.sh/);
});

/** A step script in a steps dir of the test's own, run through the real run-step. */
function runStep(script: string, stdin = "") {
    const dir = fs.mkdtempSync(path.join(work, "steps-"));
    const logDir = path.join(dir, "log");
    fs.writeFileSync(path.join(dir, "run-step"), readRemoteScript("run-step"), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "kernel-0123456789ab.sh"), script, { mode: 0o755 });
    const result = spawnSync(path.join(dir, "run-step"), ["kernel", "kernel-0123456789ab.sh", "an arg"], {
        input: stdin,
        env: { ...process.env, JLD_STEPS_DIR: dir, JLD_STEP_LOG_DIR: logDir },
        encoding: "utf8",
    });
    return { ...result, log: fs.readFileSync(path.join(logDir, "kernel.log"), "utf8") };
}

test("a failed step: its name, its exit code, its last 30 lines of this run and what to do; the whole output in its log", () => {
    const failing = [
        "#!/usr/bin/env bash",
        "# If it fails: fix the package the installer names, then `pulumi up`.",
        'echo "result on stdout"',
        'for i in $(seq 1 100); do echo "progress line $i" >&2; done',
        'echo "the installer said: no such package $(cat)" >&2',
        "exit 3",
    ].join("\n");
    runStep("#!/bin/sh\necho 'an earlier run' >&2\n"); // another dir: its log is its own
    const result = runStep(failing, "nope==1");
    assert.equal(result.status, 3);
    assert.equal(result.stdout, "result on stdout\n");
    const lines = result.stderr.trimEnd().split("\n");
    assert.match(
        lines[0],
        /^the kernel step failed \(exit 3\)\. Its last lines \(all of them: sudo cat .*\/kernel\.log, on the droplet\):$/,
    );
    assert.equal(lines.length, 1 + 30 + 1);
    assert.equal(lines[1], "  | progress line 72");
    assert.equal(lines[30], "  | the installer said: no such package nope==1");
    assert.equal(lines[31], "What to do: fix the package the installer names, then `pulumi up`.");
    assert.match(result.log, /kernel-0123456789ab\.sh an arg\nprogress line 1\n/, "the log has the whole run");
});

test("a step that succeeds prints its result only, and any warning", () => {
    const result = runStep('#!/bin/sh\necho "noise" >&2\necho "warning: SSH as jupyter may not work" >&2\necho done\n');
    assert.equal(result.status, 0);
    assert.equal(result.stdout, "done\n");
    assert.equal(result.stderr, "warning: SSH as jupyter may not work\n");
});

test("the runner's log directory is root's alone", () => {
    const result = runStep("#!/bin/sh\ntrue\n");
    assert.equal(result.status, 0, result.stderr);
    assert.equal(serverLayout.stepLogDir.startsWith("/var/log/"), true);
    const script = readRemoteScript("run-step");
    assert.match(script, /install -d -o root -g root -m 0700 "\$log_dir"/);
});

test("switch_environment points the link at the new environment and keeps only it, and what the pattern does not name", () => {
    const root = fs.mkdtempSync(path.join(work, "envs-"));
    for (const dir of ["env-old", "env-new", "installer"]) {
        fs.mkdirSync(path.join(root, dir));
    }
    fs.symlinkSync(path.join(root, "env-old"), path.join(root, "current"));
    const switched = spawnSync(
        "bash",
        [
            "-c",
            `set -eu; ${readRemoteLibrary("environment")}\nswitch_environment "$@"`,
            "-",
            `${root}/current`,
            `${root}/env-new`,
            root,
            "env-*",
        ],
        { encoding: "utf8" },
    );
    assert.equal(switched.status, 0, switched.stderr);
    assert.equal(fs.readlinkSync(path.join(root, "current")), path.join(root, "env-new"));
    assert.deepEqual(fs.readdirSync(root).sort(), ["current", "env-new", "installer"]);
});

test("without a data volume nothing is kept for the next droplet: no host-keys step, no volume on any command line", () => {
    const withoutVolume = setupSteps({ ...settings, dataVolume: undefined }, (render) => render(secrets));
    assert.deepEqual(
        withoutVolume.filter((step) => step.role === "host-keys"),
        [],
    );
    assert.deepEqual(withoutVolume.find((step) => step.role === "host-key")?.after, ["cloud-init"]);
    for (const step of withoutVolume) {
        assert.ok(!step.command.includes("/dev/disk/by-id/"), `${step.role}: ${step.command.slice(0, 200)}`);
    }
    assert.deepEqual(byRole.get("host-key")!.after, ["host-keys"], "with one, the host key is read after the kept keys are back");
});
