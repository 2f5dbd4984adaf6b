// Names that carry the stack, so many users' stacks share one DigitalOcean account safely.
import { createHash } from "node:crypto";

/**
 * The longest base name. The droplet (and SSH key and firewall) take it as it is, the volume adds
 * `-notebooks`: 58 characters, within the 64 DigitalOcean allows a volume name (a droplet name,
 * a hostname, may be longer).
 */
const maxBaseLength = 48;
/** Hex digits of the stack's hash in a name that had to be shortened. */
const hashLength = 8;

/** The stack name in the characters droplet and volume names allow: lowercase letters, digits and hyphens. */
function cleanedStack(stack: string): string {
    return (
        stack
            .toLowerCase()
            .replace(/[^a-z0-9-]+/g, "-")
            .replace(/^-+|-+$/g, "") || "stack"
    );
}

/**
 * `jupyterlab-<stack>`, cut to 48 characters: the rule stacks were named by before names got a
 * hash. A long stack name could end up ending in `-` (a name DigitalOcean refuses for a droplet),
 * and two long stack names with the same beginning got the same names. Only for finding what a
 * stack named then already has (a volume keeps the name it was created with).
 */
export function legacyResourceBaseName(stack: string): string {
    return `jupyterlab-${cleanedStack(stack)}`.slice(0, maxBaseLength);
}

/**
 * The droplet's, SSH key's and firewall's name, and the start of the volume's: `jupyterlab-<stack>`,
 * in lowercase letters, digits and hyphens (other characters become `-`). A name that fits stays
 * exactly that, as it always was: an existing stack is never renamed. A longer one is cut and
 * ends in a hash of the whole stack name, so two stacks that begin alike still get names of their
 * own; it always ends in a letter or digit. Stack names that differ only in case or in the
 * characters that become `-` (Alice and alice, a.b and a_b) still share names: giving them a
 * hash would rename existing stacks (see dataVolumeName).
 */
export function resourceBaseName(stack: string): string {
    const full = `jupyterlab-${cleanedStack(stack)}`;
    if (full.length <= maxBaseLength) {
        return full;
    }
    const hash = createHash("sha256").update(stack).digest("hex").slice(0, hashLength);
    return `${full.slice(0, maxBaseLength - hashLength - 1).replace(/-+$/, "")}-${hash}`;
}

/**
 * The notebooks volume's name: `<base>-notebooks`. DigitalOcean cannot rename a volume (a new
 * name replaces it, empty), so a volume keeps the name it was created with.
 */
export function dataVolumeName(baseName: string): string {
    return `${baseName}-notebooks`;
}

/** Tags allow letters, digits, colons, hyphens and underscores. */
export function stackTags(stack: string): string[] {
    return ["jupyterlab-droplet", `jupyterlab-droplet:${stack.replace(/[^A-Za-z0-9:_-]+/g, "-")}`];
}
