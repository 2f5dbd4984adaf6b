// The password rule, for the stack's config and for `npm run hash-password` alike. A password is
// never shown back: messages describe it by its length.
import { ConfigError } from "./problems";
import { ReadContext } from "./values";

export const minimumPasswordLength = 12;

/** How a secret value is shown in a message: its length, never its text. */
export function describeSecret(value: string): string {
    return `(a value of ${[...value].length} characters)`;
}

/** What is wrong with a password as a password, as "must ...", or undefined when it will do. */
export function passwordRuleProblem(password: string): string | undefined {
    if ([...password].length < minimumPasswordLength) {
        return `must be at least ${minimumPasswordLength} characters long`;
    }
    if (/[\r\n]/.test(password)) {
        return "must be a single line";
    }
    return undefined;
}

/** The stack's password: the rule, and stored as a secret (the config file is often committed). */
export function parsePassword(raw: string, context: ReadContext<string>): string {
    if (!context.isSecret()) {
        throw new ConfigError(
            context.key,
            describeSecret(raw),
            "is stored in plain text; set it with `pulumi config set --secret password`",
        );
    }
    const problem = passwordRuleProblem(raw);
    if (problem !== undefined) {
        throw new ConfigError(context.key, describeSecret(raw), problem);
    }
    return raw;
}
