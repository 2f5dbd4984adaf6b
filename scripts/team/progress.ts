// Running several stacks at once, and showing one live line per person while they run.

/**
 * Runs `work` on every item, at most `limit` at a time, in the items' order; one item's failure
 * does not stop the others (each result is settled).
 */
export async function runBounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
    const results = new Array<PromiseSettledResult<R>>(items.length);
    let next = 0;
    async function worker(): Promise<void> {
        while (next < items.length) {
            const index = next++;
            try {
                results[index] = { status: "fulfilled", value: await work(items[index]) };
            } catch (reason) {
                results[index] = { status: "rejected", reason };
            }
        }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return results;
}

/**
 * One line per person. On a terminal the lines are redrawn in place; anywhere else (a CI log, a
 * pipe) each change is printed once as "person: text", so the log reads in order.
 */
export class ProgressBoard {
    private readonly lines: Map<string, string>;
    private readonly width: number;
    private drawn = 0;

    constructor(
        people: string[],
        private readonly out: NodeJS.WriteStream = process.stdout,
    ) {
        this.lines = new Map(people.map((person) => [person, "waiting"]));
        this.width = Math.max(...people.map((p) => p.length));
        this.redraw();
    }

    update(person: string, text: string): void {
        if (this.lines.get(person) === text) {
            return;
        }
        this.lines.set(person, text);
        if (this.out.isTTY) {
            this.redraw();
        } else {
            this.out.write(`${this.label(person)}${text}\n`);
        }
    }

    private label(person: string): string {
        return `${person.padEnd(this.width)}  `;
    }

    private redraw(): void {
        if (!this.out.isTTY) {
            return;
        }
        const columns = this.out.columns ?? 100;
        // Up to the first of our lines, then each one cleared and rewritten.
        let text = this.drawn > 0 ? `\x1b[${this.drawn}F` : "";
        for (const [person, line] of this.lines) {
            text += `\x1b[2K${(this.label(person) + line).slice(0, columns - 1)}\n`;
        }
        this.out.write(text);
        this.drawn = this.lines.size;
    }
}
