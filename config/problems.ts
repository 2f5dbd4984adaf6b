// A config problem as data (which key, the value as shown, what is allowed), and the one way it
// reads to a person: `Invalid config <namespace>:<key> = <value>: <allowed>`.

/** The stack's config namespace: Pulumi.yaml's project name, in every key's full name. */
export const namespace = "jupyterlab-droplet";

export interface ConfigProblem {
    key: string;
    /** The value as it may be shown: JSON text, a number, or a description for a secret. */
    value: string;
    /** What is wrong, and what would be allowed instead. */
    allowed: string;
}

export function formatProblem(problem: ConfigProblem): string {
    return `Invalid config ${namespace}:${problem.key} = ${problem.value}: ${problem.allowed}`;
}

/** Every problem, one a line: all a user has to fix, in one round. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
    return problems.map(formatProblem).join("\n");
}

/** A problem thrown: by the parsers (readConfig collects them) and by checks that need the API. */
export class ConfigError extends Error {
    readonly problem: ConfigProblem;

    constructor(key: string, value: string, allowed: string) {
        const problem = { key, value, allowed };
        super(formatProblem(problem));
        this.name = "ConfigError";
        this.problem = problem;
    }
}
