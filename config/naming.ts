// Names that carry the stack, so many users' stacks share one DigitalOcean account safely.

/** Droplet and volume names allow lowercase letters, digits and hyphens: `jupyterlab-<stack>`. */
export function resourceBaseName(stack: string): string {
    const cleaned = stack
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "");
    return `jupyterlab-${cleaned || "stack"}`.slice(0, 48);
}

/** Tags allow letters, digits, colons, hyphens and underscores. */
export function stackTags(stack: string): string[] {
    return ["jupyterlab-droplet", `jupyterlab-droplet:${stack.replace(/[^A-Za-z0-9:_-]+/g, "-")}`];
}
