// What would otherwise fail only halfway through `pulumi up`, after resources exist: checked first,
// in preview too, each with a message that says what to do.

export const tokenHelp =
    "Create a token with read and write scope at https://cloud.digitalocean.com/account/api/tokens, then " +
    "`export DIGITALOCEAN_TOKEN=dop_v1_...` (or `pulumi config set --secret digitalocean:token dop_v1_...`) and run this again.";

/**
 * The problem with the DigitalOcean token, or undefined: the provider reads DIGITALOCEAN_TOKEN,
 * DIGITALOCEAN_ACCESS_TOKEN or the `digitalocean:token` config, and without one it would fail only
 * once it creates something.
 */
export function missingTokenProblem(env: NodeJS.ProcessEnv, configuredToken: string | undefined): string | undefined {
    return env.DIGITALOCEAN_TOKEN || env.DIGITALOCEAN_ACCESS_TOKEN || configuredToken
        ? undefined
        : `No DigitalOcean API token: DIGITALOCEAN_TOKEN is not set. ${tokenHelp}`;
}

/** An API read's error as the user should see it: a refused token says so and how to fix it. */
export function apiErrorMessage(message: string): string {
    if (message.includes("Unable to authenticate you")) {
        return `DigitalOcean refused the API token (401 Unable to authenticate you): it is wrong, expired or revoked. ${tokenHelp}`;
    }
    return message;
}
