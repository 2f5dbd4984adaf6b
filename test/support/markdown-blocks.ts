// The fenced code blocks of a markdown file, as the README's tests read them: the README is held to
// what the tests run through these blocks (test/unit/readme.test.ts, test/engine/quick-start.ts).

export interface MarkdownBlock {
    /** The file the `<!-- run by: FILE -->` comment on the line before the fence names. */
    runBy?: string;
    language: string;
    /** The block's text, the fence's indentation removed. */
    text: string;
    /** The fence's line, from 1. */
    line: number;
    /** The nearest heading above it. */
    section: string;
}

export function fencedBlocks(markdown: string): MarkdownBlock[] {
    const lines = markdown.split("\n");
    const blocks: MarkdownBlock[] = [];
    let section = "";
    for (let i = 0; i < lines.length; i++) {
        const heading = /^#{1,6} (.+)$/.exec(lines[i]);
        if (heading) {
            section = heading[1];
            continue;
        }
        const fence = /^( *)(```+)(\S*)\s*$/.exec(lines[i]);
        if (!fence) {
            continue;
        }
        const [, indent, ticks, language] = fence;
        const start = i;
        const body: string[] = [];
        for (i++; i < lines.length && lines[i].trimEnd() !== `${indent}${ticks}`; i++) {
            body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i]);
        }
        const tag = /^\s*<!-- run by: (\S+) -->\s*$/.exec(lines[start - 1] ?? "");
        blocks.push({ runBy: tag?.[1], language, text: body.join("\n"), line: start + 1, section });
    }
    return blocks;
}

export const isShellBlock = (block: MarkdownBlock): boolean => ["sh", "bash", "shell"].includes(block.language);
