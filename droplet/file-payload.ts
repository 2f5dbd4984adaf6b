// How the setup steps receive files on stdin: never on a command line, where any process
// on the droplet could read them.

/**
 * One line per file, `<name> <base64 of the content>`: a format bash reads with `read` and
 * `base64 -d`, with no quoting to get wrong. Each step accepts only the names it knows.
 */
export function renderFilePayload(files: Readonly<Record<string, string>>): string {
    return Object.entries(files)
        .map(([name, content]) => `${name} ${Buffer.from(content, "utf8").toString("base64")}\n`)
        .join("");
}
