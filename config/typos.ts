// A key the program does not read is most likely a typo, which would otherwise leave the default
// in force: it is refused, naming the nearest key.
import { ConfigProblem } from "./problems";
import { configKeys } from "./settings";

export function unknownKeyProblem(key: string, shownValue: string): ConfigProblem {
    const nearest = nearestKey(key);
    return {
        key,
        value: shownValue,
        allowed:
            `is not a setting of this program, so it would change nothing` +
            `${nearest === undefined ? "" : `; did you mean ${nearest}?`} (\`pulumi config rm ${key}\`; the settings are ${configKeys.join(", ")})`,
    };
}

/** The known key closest to `key` in edit distance (case aside), if close enough to be a typo of it. */
export function nearestKey(key: string): string | undefined {
    const scored = configKeys
        .map((known) => ({ known, distance: editDistance(key.toLowerCase(), known.toLowerCase()) }))
        .sort((a, b) => a.distance - b.distance);
    const best = scored[0];
    return best.distance <= Math.max(2, Math.floor(best.known.length / 3)) ? best.known : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counting as one edit. */
function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.length][b.length];
}
