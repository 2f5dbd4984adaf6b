// The state passphrase: a stack whose secrets provider is the passphrase one (the default on a
// DIY backend: `pulumi login --local`, file://, s3://, ...) cannot be created, configured, read
// with its secrets or destroyed without it, and the CLI the Automation API runs cannot prompt.
// Decided up front, before any stack is touched; and the CLI's own error, should it come anyway,
// is turned into the same advice. Pure functions: the caller reads the environment and the backend.

/** What the admin is told when the CLI would need a passphrase it has no way to get. */
export const passphraseNotSetMessage =
    "the passphrase is not set: the stacks' secrets (passwords, keys) are encrypted with a passphrase " +
    "of your choosing; export PULUMI_CONFIG_PASSPHRASE=... (or PULUMI_CONFIG_PASSPHRASE_FILE=/path/to/file) and run this again";

/** The passphrase is needed and not given: nothing was touched (exit code 2, as for a bad roster). */
export class PassphraseNotSet extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PassphraseNotSet";
    }
}

/**
 * The CLI's own words when it needs a passphrase and has neither variable (pulumi
 * pkg/secrets/passphrase, readPassphrase), whatever it wraps them in ("could not create secrets
 * manager for new stack: ", "getting stack configuration: get stack secrets manager: ", ...).
 */
const cliPassphraseError = /passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE/;

/** Whether an error text (a diagnostic, a thrown CommandError's message) is the CLI's missing-passphrase error. */
export function isPassphraseNotSetError(text: string): boolean {
    return cliPassphraseError.test(text);
}

/**
 * The passphrase this environment gives the CLI, looked up as its readPassphrase does:
 * PULUMI_CONFIG_PASSPHRASE if set at all (even empty: an empty passphrase is one), else
 * PULUMI_CONFIG_PASSPHRASE_FILE if not empty.
 */
export function passphraseInEnvironment(env: NodeJS.ProcessEnv): { kind: "variable" } | { kind: "file"; file: string } | undefined {
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
        return { kind: "variable" };
    }
    const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
    return file !== undefined && file !== "" ? { kind: "file", file } : undefined;
}

/** Whether the CLI has a passphrase to take: the variable, or a file it can read (`fileProblem` says why not). */
export function passphraseGiven(env: NodeJS.ProcessEnv, fileProblem: string | undefined): boolean {
    const given = passphraseInEnvironment(env);
    return given?.kind === "variable" || (given?.kind === "file" && fileProblem === undefined);
}

/** Pulumi Cloud (app.pulumi.com or a self-hosted service) is reached over http(s); every other backend URL is a DIY one. */
export function isPulumiCloud(backendUrl: string): boolean {
    return /^https?:\/\//i.test(backendUrl);
}

/**
 * Whether a stack's secrets are the passphrase provider's: named so in its stack file, or the
 * backend's default (no `secretsprovider:`, or "default") on a DIY backend. Pulumi Cloud's
 * default is its own service; a KMS or Vault URL needs no passphrase either.
 */
export function usesPassphrase(backendUrl: string, secretsProvider: string | undefined): boolean {
    if (secretsProvider === "passphrase") {
        return true;
    }
    return (secretsProvider === undefined || secretsProvider === "" || secretsProvider === "default") && !isPulumiCloud(backendUrl);
}

export interface PassphraseFacts {
    env: NodeJS.ProcessEnv;
    /** Why the passphrase file cannot be read (e.g. "ENOENT"), or undefined when it can. */
    fileProblem?: string;
    /** The backend the CLI is logged in to (`pulumi whoami`'s url); undefined when it could not be told. */
    backendUrl: string | undefined;
    /** The secrets provider of each stack the command will touch, from its stack file (undefined: none named, or no file). */
    secretsProviders: (string | undefined)[];
}

/**
 * What stops the command before it touches a stack, or undefined: a stack it will touch keeps
 * its secrets with a passphrase, and the environment gives the CLI none (or a file it cannot
 * read). With the backend unknown nothing is decided here: the CLI's own error is mapped later.
 */
export function passphraseProblem({ env, fileProblem, backendUrl, secretsProviders }: PassphraseFacts): string | undefined {
    if (passphraseGiven(env, fileProblem)) {
        return undefined;
    }
    const given = passphraseInEnvironment(env);
    if (backendUrl === undefined || !secretsProviders.some((provider) => usesPassphrase(backendUrl, provider))) {
        return undefined;
    }
    if (given?.kind === "file") {
        return (
            `the passphrase file cannot be read: PULUMI_CONFIG_PASSPHRASE_FILE=${given.file} (${fileProblem}); ` +
            "the stacks' secrets (passwords, keys) are encrypted with a passphrase of your choosing; point PULUMI_CONFIG_PASSPHRASE_FILE " +
            "at the file that holds it (or export PULUMI_CONFIG_PASSPHRASE=...) and run this again"
        );
    }
    return passphraseNotSetMessage;
}
