// The README cannot drift from the project: every shell block in it names, in a comment on the
// line before its fence (`<!-- run by: FILE -->`), what runs it, and that file must run it:
// either it reads the blocks tagged with its own name out of README.md and runs them (the
// Quick start test), or it holds every command of the block word for word (CI's script). What a
// test cannot run here and so replaces is listed below, each with what it runs instead. And every
// path, link, `npm run` script, config key and `npm run server`/`npm run team` command line in
// the README and docs/ must be one the project has.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { parseServerCommandLine } from "../../scripts/server/command-line";
import { parseCommandLine as parseTeamCommandLine } from "../../scripts/team/command-line";
import { fencedBlocks, isShellBlock } from "../support/markdown-blocks";

const repoDir = path.resolve(__dirname, "..", "..");
const readme = fs.readFileSync(path.join(repoDir, "README.md"), "utf8");
const docs = fs
    .readdirSync(path.join(repoDir, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
const documents: [string, string][] = [["README.md", readme], ...docs.map((f): [string, string] => [f, read(f)])];

function read(file: string): string {
    return fs.readFileSync(path.join(repoDir, file), "utf8");
}

/**
 * What test/engine/quick-start.ts cannot run here, and so replaces in the text of the
 * README's blocks before it runs them (its substitutions() says the same, with the replacement).
 */
const substituted = [
    { text: "https://github.com/<owner>/jupyterlab-droplet", instead: "a clone of this repository (git clone of a local path)" },
    {
        text: "curl -fsSL https://get.pulumi.com | sh -s -- --version 3.248.0",
        instead:
            "the engine's own build of the same CLI version copied to ~/.pulumi/bin, and the provider plugins `pulumi up` would download installed with `pulumi plugin install --file`",
    },
    { text: "https://ifconfig.me", instead: "a local HTTP server that answers with the caller's address" },
];

/** A block's commands: its lines without comments, split at `&&`. */
function commands(block: string): string[] {
    return block
        .split("\n")
        .map((line) => line.replace(/(^|\s+)#.*$/, "").trim())
        .filter((line) => line !== "")
        .flatMap((line) => line.split(" && ").map((c) => c.trim()));
}

/** How GitHub makes a heading's anchor. */
function anchor(heading: string): string {
    return heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/ /g, "-");
}

function anchorsOf(markdown: string): string[] {
    return fencedBlocksRemoved(markdown)
        .split("\n")
        .flatMap((line) => /^#{1,6} (.+)$/.exec(line)?.[1] ?? [])
        .map(anchor);
}

function fencedBlocksRemoved(markdown: string): string {
    return markdown.replace(/^( *)```[^\n]*\n[\s\S]*?^\1```\s*$/gm, "");
}

/** Whether a path of the repository exists; `*` in its last part matches as in a shell. */
function pathExists(relative: string): boolean {
    if (!relative.includes("*")) {
        return fs.existsSync(path.join(repoDir, relative));
    }
    const dir = path.dirname(relative);
    const pattern = new RegExp(`^${path.basename(relative).replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);
    return fs.existsSync(path.join(repoDir, dir)) && fs.readdirSync(path.join(repoDir, dir)).some((f) => pattern.test(f));
}

const readmeBlocks = fencedBlocks(readme);

describe("README.md: every shell block is run by a test", () => {
    test("every fenced block says its language; every shell block names what runs it, on the line before its fence", () => {
        for (const block of readmeBlocks) {
            assert.notEqual(block.language, "", `README.md:${block.line}: a fenced block with no language`);
            if (isShellBlock(block)) {
                assert.ok(
                    block.runBy !== undefined,
                    `README.md:${block.line} (${block.section}): a shell block with no <!-- run by: FILE --> comment before it:\n${block.text}`,
                );
            }
        }
        assert.ok(readmeBlocks.filter(isShellBlock).length >= 10, "the README's shell blocks were found");
    });

    test("every `run by` comment is on a shell block, and names a file that exists and runs that block", () => {
        const tags = [...readme.matchAll(/^\s*<!-- run by: (\S+) -->\s*$/gm)].map((m) => m[1]);
        const tagged = readmeBlocks.filter((b) => isShellBlock(b) && b.runBy !== undefined);
        assert.deepEqual(
            tagged.map((b) => b.runBy),
            tags,
            "each comment is on the line just before a shell block's fence",
        );
        for (const block of tagged) {
            const file = block.runBy!;
            assert.ok(fs.existsSync(path.join(repoDir, file)), `README.md:${block.line}: ${file} does not exist`);
            const source = read(file);
            if (source.includes("fencedBlocks(readme)") && source.includes(`"${file}"`)) {
                continue; // it reads the blocks tagged with its own name out of README.md, and runs them
            }
            for (const command of commands(block.text)) {
                assert.ok(source.includes(command), `README.md:${block.line}: ${file} does not run \`${command}\``);
            }
        }
    });

    test("the Quick start test runs the Quick start, Everyday use and Destroying blocks", () => {
        const quickStart = "test/engine/quick-start.ts";
        const sections = new Set(readmeBlocks.filter((b) => b.runBy === quickStart).map((b) => b.section));
        for (const section of ["Quick start", "Everyday use", "Destroying"]) {
            assert.ok(sections.has(section), `no block of "${section}" is run by ${quickStart}`);
        }
        assert.ok(
            readmeBlocks.filter((b) => b.section === "Quick start" && isShellBlock(b)).every((b) => b.runBy === quickStart),
            `every Quick start block is run by ${quickStart}`,
        );
        assert.match(
            read("package.json"),
            /"test:engine": "[^"]*test\/engine\/full-flow\.test\.ts/,
            "npm run test:engine runs full-flow.test.ts",
        );
        const fullFlow = read("test/engine/full-flow.test.ts");
        assert.match(fullFlow, /from "\.\/quick-start"/, "full-flow.test.ts imports the quick start");
        assert.match(fullFlow, /await quickStart\.finished/, "and a test of its waits for it to finish");
    });

    test("what cannot run here is replaced only as listed, and the Quick start test replaces exactly that", () => {
        const quickStartTest = read("test/engine/quick-start.ts");
        const quickStartBlocks = readmeBlocks.filter((b) => b.runBy === "test/engine/quick-start.ts").map((b) => b.text);
        for (const { text } of substituted) {
            assert.ok(
                quickStartBlocks.some((b) => b.includes(text)),
                `the README's Quick start test blocks no longer hold ${text}: drop it from this list and the test`,
            );
            assert.ok(quickStartTest.includes(`text: ${JSON.stringify(text)}`), `quick-start.ts does not replace ${text}`);
        }
        // Nothing else in a block that needs the internet or another machine's package manager.
        for (const block of readmeBlocks.filter(isShellBlock)) {
            for (const command of commands(block.text)) {
                const rest = substituted.reduce((c, { text }) => c.replaceAll(text, ""), command);
                assert.doesNotMatch(
                    rest,
                    /https?:\/\/|\bbrew\b/,
                    `README.md:${block.line}: \`${command}\` cannot run here and is not listed`,
                );
            }
        }
    });

    test("the Pulumi CLI the Quick start installs is the version package-lock.json pins for @pulumi/pulumi", () => {
        const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { version?: string }> };
        const pinned = lock.packages["node_modules/@pulumi/pulumi"]?.version;
        assert.match(readme, new RegExp(`get\\.pulumi\\.com \\| sh -s -- --version ${pinned}\\n`));
        assert.match(readme, new RegExp(`pulumi version +# v${pinned}\\n`));
    });
});

describe("README.md and docs/: what they name exists", () => {
    test("every path of the repository they name exists", () => {
        for (const [file, text] of documents) {
            for (const m of text.matchAll(/(?<![\w./:~-])((?:\.ci|config|components|droplet|scripts|test|docs)\/[\w.*/-]*)/g)) {
                const named = m[1].replace(/\.+$/, "");
                assert.ok(pathExists(named), `${file}: ${named} does not exist`);
            }
        }
    });

    test("every TypeScript or shell file they name by its name alone is one of the repository's", () => {
        const names = new Set<string>();
        const walk = (dir: string) => {
            for (const entry of fs.readdirSync(path.join(repoDir, dir), { withFileTypes: true })) {
                if (entry.isDirectory() && !["node_modules", ".git", "test-results"].includes(entry.name)) {
                    walk(path.join(dir, entry.name));
                } else if (entry.isFile()) {
                    names.add(entry.name);
                }
            }
        };
        walk(".");
        for (const [file, text] of documents) {
            for (const m of text.matchAll(/`([\w.-]+\.(?:ts|sh))`/g)) {
                assert.ok(names.has(m[1]), `${file}: no file of the repository is named ${m[1]}`);
            }
        }
    });

    test("every relative link leads to a file, and every #anchor to a heading there", () => {
        for (const [file, text] of documents) {
            for (const m of fencedBlocksRemoved(text).matchAll(/\]\(([^)\s]+)\)/g)) {
                const target = m[1];
                if (/^(https?|mailto):/.test(target)) {
                    continue;
                }
                const [relative, hash] = target.split("#");
                const resolved = relative === "" ? file : path.normalize(path.join(path.dirname(file), relative));
                assert.ok(fs.existsSync(path.join(repoDir, resolved)), `${file}: the link ${target} leads nowhere`);
                if (hash !== undefined) {
                    assert.ok(anchorsOf(read(resolved)).includes(hash), `${file}: the link ${target}: ${resolved} has no heading #${hash}`);
                }
            }
        }
    });

    test("every `npm run` script they name is in package.json", () => {
        const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
        for (const [file, text] of documents) {
            for (const m of text.matchAll(/npm run ([\w:-]+)/g)) {
                assert.ok(scripts.includes(m[1]), `${file}: npm run ${m[1]} is not a script of package.json`);
            }
        }
    });

    test("every `npm run server` and `npm run team` command line they give is one the tools accept", () => {
        let checked = 0;
        for (const [file, text] of documents) {
            for (const m of text.matchAll(/npm run (server|team) -- ([^`#\n)]*)/g)) {
                if (m[2].includes("<")) {
                    continue; // a placeholder for the verb itself
                }
                // Optional parts are given; a placeholder (N, STACK, DIR) stands for a value.
                const argv = m[2]
                    .replace(/[[\]]/g, "")
                    .trim()
                    .split(/\s+/)
                    .map((arg) => (/^[A-Z]+$/.test(arg) ? "1" : arg));
                const parse = m[1] === "server" ? parseServerCommandLine : parseTeamCommandLine;
                assert.doesNotThrow(() => parse(argv), `${file}: npm run ${m[1]} -- ${m[2].trim()}`);
                checked++;
            }
        }
        assert.ok(checked >= 10, `${checked} command lines checked`);
    });

    test("every config key they set, get or remove is one the program reads; the README's table lists exactly those", () => {
        const pulumiYaml = parseYaml(read("Pulumi.yaml")) as { config: Record<string, unknown> };
        // `password` is not declared in Pulumi.yaml: it has no default and must be a secret.
        const keys = [...Object.keys(pulumiYaml.config), "password"];
        for (const [file, text] of documents) {
            for (const m of text.matchAll(/pulumi config (?:set|get|rm)((?: +--?[\w=-]+)*) +'?([\w:.-]+)/g)) {
                const key = m[2].startsWith("jupyterlab-droplet:") ? m[2].slice("jupyterlab-droplet:".length) : m[2];
                if (/^[A-Z]+$/.test(key) || key.includes(":")) {
                    continue; // a placeholder, or another namespace's key (digitalocean:token)
                }
                assert.ok(keys.includes(key), `${file}: ${m[0]}: ${key} is not a setting of the program`);
            }
            for (const m of text.matchAll(/-c '?jupyterlab-droplet:(\w+)=/g)) {
                assert.ok(keys.includes(m[1]), `${file}: ${m[0]}: ${m[1]} is not a setting of the program`);
            }
        }
        const configuration = readme.slice(readme.indexOf("\n## Configuration\n"), readme.indexOf("\n### What a change does\n"));
        const tableKeys = [...configuration.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
        assert.deepEqual([...tableKeys].sort(), [...keys].sort(), "the README's Configuration table lists every setting, and only those");
    });
});
