// The state passphrase: the decision `npm run team` makes before it touches a stack (from the
// environment, the backend's URL and the stacks' secrets providers), and the CLI's own
// missing-passphrase error turned into the same advice in a person's row, never "code: -2".
import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
    isPassphraseNotSetError,
    isPulumiCloud,
    passphraseGiven,
    passphraseInEnvironment,
    passphraseNotSetMessage,
    passphraseProblem,
    usesPassphrase,
} from "../../scripts/team/passphrase";
import { firstErrorLine, renderTable } from "../../scripts/team/report";

const expected =
    "the passphrase is not set: the stacks' secrets (passwords, keys) are encrypted with a passphrase of your choosing; " +
    "export PULUMI_CONFIG_PASSPHRASE=... (or PULUMI_CONFIG_PASSPHRASE_FILE=/path/to/file) and run this again";

/** The backend URLs `pulumi whoami --json` gives: `pulumi login --local`, file://, a bucket, Pulumi Cloud, a self-hosted service. */
const local = "file://~";
const fileState = "file:///home/admin/pulumi-state";
const bucket = "s3://team-state?region=eu-central-1";
const cloud = "https://api.pulumi.com";
const selfHosted = "https://pulumi.internal.example:8443";

/**
 * A failed `pulumi stack init`, as the Automation API throws it (the text of a CommandError,
 * taken from a run of the real CLI 3.248.0 with a file:// backend and neither variable set).
 */
const thrownByStackInit =
    "code: -2\n stdout: \n stderr: Command failed with exit code 1: pulumi stack init carol --non-interactive\n" +
    "error: could not create secrets manager for new stack: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n" +
    " err?: Error: Command failed with exit code 1: pulumi stack init carol --non-interactive\n" +
    "error: could not create secrets manager for new stack: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n";

/** A failed `pulumi stack output` on a stack made with a passphrase (what `status` reads), from the same CLI. */
const thrownByStackOutput =
    "code: -2\n stdout: \n stderr: Command failed with exit code 1: pulumi stack output --json --stack alice --non-interactive\n" +
    'error: constructing secrets manager of type "passphrase": constructing secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n' +
    " err?: Error: Command failed with exit code 1: pulumi stack output --json --stack alice --non-interactive\n" +
    'error: constructing secrets manager of type "passphrase": constructing secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n';

describe("the passphrase, decided before any stack is touched", () => {
    test("the message is the advice, word for word", () => {
        assert.equal(passphraseNotSetMessage, expected);
    });

    test("a DIY backend (--local, file://, a bucket), neither variable, a stack with the default provider: refused", () => {
        for (const backendUrl of [local, fileState, bucket]) {
            assert.equal(passphraseProblem({ env: {}, backendUrl, secretsProviders: [undefined] }), expected, backendUrl);
            assert.equal(passphraseProblem({ env: {}, backendUrl, secretsProviders: ["default"] }), expected, backendUrl);
            assert.equal(passphraseProblem({ env: {}, backendUrl, secretsProviders: ["passphrase"] }), expected, backendUrl);
        }
    });

    test("either variable set: nothing to refuse; an empty PULUMI_CONFIG_PASSPHRASE is a passphrase (the CLI takes it), an empty file variable is not", () => {
        for (const env of [
            { PULUMI_CONFIG_PASSPHRASE: "correct horse" },
            { PULUMI_CONFIG_PASSPHRASE: "" },
            { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/pulumi" },
        ]) {
            assert.equal(passphraseProblem({ env, backendUrl: local, secretsProviders: [undefined] }), undefined, JSON.stringify(env));
        }
        assert.equal(
            passphraseProblem({ env: { PULUMI_CONFIG_PASSPHRASE_FILE: "" }, backendUrl: local, secretsProviders: [undefined] }),
            expected,
        );
        assert.deepEqual(
            passphraseInEnvironment({ PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: "/x" }),
            { kind: "variable" },
            "the variable wins, as in the CLI",
        );
        assert.deepEqual(passphraseInEnvironment({ PULUMI_CONFIG_PASSPHRASE_FILE: "/x" }), { kind: "file", file: "/x" });
        assert.equal(passphraseInEnvironment({ PULUMI_CONFIG_PASSPHRASE_FILE: "" }), undefined);
        assert.equal(passphraseGiven({ PULUMI_CONFIG_PASSPHRASE_FILE: "/x" }, undefined), true);
        assert.equal(passphraseGiven({ PULUMI_CONFIG_PASSPHRASE_FILE: "/x" }, "ENOENT"), false);
    });

    test("a passphrase file that cannot be read is named, with why", () => {
        const problem = passphraseProblem({
            env: { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/pulumi" },
            fileProblem: "ENOENT",
            backendUrl: local,
            secretsProviders: [undefined],
        });
        assert.equal(
            problem,
            "the passphrase file cannot be read: PULUMI_CONFIG_PASSPHRASE_FILE=/run/secrets/pulumi (ENOENT); the stacks' secrets (passwords, keys) " +
                "are encrypted with a passphrase of your choosing; point PULUMI_CONFIG_PASSPHRASE_FILE at the file that holds it " +
                "(or export PULUMI_CONFIG_PASSPHRASE=...) and run this again",
        );
    });

    test("Pulumi Cloud keeps the secrets itself: no passphrase, unless a stack's file names the passphrase provider", () => {
        assert.ok(isPulumiCloud(cloud) && isPulumiCloud(selfHosted) && isPulumiCloud("http://localhost:8080"));
        assert.ok(
            !isPulumiCloud(local) &&
                !isPulumiCloud(fileState) &&
                !isPulumiCloud(bucket) &&
                !isPulumiCloud("gs://team-state") &&
                !isPulumiCloud("azblob://state"),
        );
        for (const backendUrl of [cloud, selfHosted]) {
            assert.equal(passphraseProblem({ env: {}, backendUrl, secretsProviders: [undefined, undefined] }), undefined, backendUrl);
            assert.equal(passphraseProblem({ env: {}, backendUrl, secretsProviders: [undefined, "passphrase"] }), expected, backendUrl);
        }
    });

    test("stacks kept with a KMS or Vault key need no passphrase; one stack with the default among them does", () => {
        const kms = "awskms://alias/team?region=eu-central-1";
        assert.ok(!usesPassphrase(fileState, kms) && !usesPassphrase(fileState, "hashivault://team"));
        assert.equal(passphraseProblem({ env: {}, backendUrl: fileState, secretsProviders: [kms, kms] }), undefined);
        assert.equal(passphraseProblem({ env: {}, backendUrl: fileState, secretsProviders: [kms, undefined] }), expected);
    });

    test("no stack to touch, or a backend that could not be told: nothing decided here (the CLI's own error is mapped later)", () => {
        assert.equal(passphraseProblem({ env: {}, backendUrl: local, secretsProviders: [] }), undefined);
        assert.equal(passphraseProblem({ env: {}, backendUrl: undefined, secretsProviders: [undefined] }), undefined);
    });
});

describe("the CLI's missing-passphrase error in a person's row", () => {
    test("recognised in every wrapping the CLI gives it", () => {
        assert.ok(isPassphraseNotSetError(thrownByStackInit));
        assert.ok(isPassphraseNotSetError(thrownByStackOutput));
        assert.ok(
            isPassphraseNotSetError(
                "getting stack configuration: get stack secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables",
            ),
        );
        assert.ok(!isPassphraseNotSetError("failed to decrypt: incorrect passphrase"));
    });

    test("a thrown CommandError (up, down: through attempt; status: a rejected read) says the advice, never `code: -2`", () => {
        assert.equal(firstErrorLine([], thrownByStackInit), expected);
        assert.equal(firstErrorLine([], thrownByStackOutput), expected);
        assert.equal(firstErrorLine(["update failed"], thrownByStackOutput), expected);
    });

    test("the same from the engine's diagnostics, before any other line", () => {
        const diagnostic =
            "error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n";
        assert.equal(firstErrorLine(["update failed", diagnostic], "code: 255\n stdout: \n stderr: \n err?: \n"), expected);
    });

    test("the Automation API's framing is never the row's text, for any cause", () => {
        const noErrorLine =
            "code: -2\n stdout: \n stderr: Command failed with ENOENT: pulumi stack output --json\nspawn pulumi ENOENT\n err?: \n";
        assert.equal(firstErrorLine([], noErrorLine), "Command failed with ENOENT: pulumi stack output --json");
        assert.equal(firstErrorLine([], "code: -2\n stdout: \n stderr: \n err?: \n"), "failed (no message)");
    });

    test("the table's row", () => {
        const table = renderTable([{ stack: "alice", state: "failed", error: firstErrorLine([], thrownByStackOutput) }]);
        assert.equal(table.split("\n")[1], `alice   -    failed: ${expected}  -`);
        assert.doesNotMatch(table, /code: -2/);
    });
});
