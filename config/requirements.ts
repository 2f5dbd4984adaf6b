// The notebook kernel's packages: pip requirement specifiers by name (a list in the config), and a
// requirements.txt read here, so a missing file is a config problem and not a failed setup step.
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "./problems";
import { jsonList, Parse } from "./values";

// A pip requirement specifier by name (PEP 508 without URLs, options or environment markers).
const requirementPattern =
    /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*\])?(\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+(\s*,\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?$/;

/** A requirements file larger than this is refused: it would go to the droplet with every setup. */
const maximumRequirementsBytes = 256 * 1024;

export function isRequirementSpecifier(value: string): boolean {
    return requirementPattern.test(value.trim());
}

export const parsePythonPackages: Parse<string[]> = (raw, { key }) =>
    jsonList(key, raw, "pandas==2.2.3").map((item) => {
        if (typeof item !== "string" || !isRequirementSpecifier(item)) {
            throw new ConfigError(
                key,
                JSON.stringify(item),
                "each entry must be a pip requirement specifier such as pandas, numpy>=2 or scikit-learn==1.5.2 (no URLs or options)",
            );
        }
        return item.trim();
    });

/** The file's path as given and its text. */
export interface Requirements {
    path: string;
    text: string;
}

export const readRequirementsFile: Parse<Requirements> = (raw, { key, projectDir }) => {
    const resolved = path.resolve(projectDir, raw);
    let text: string;
    try {
        text = fs.readFileSync(resolved, "utf8");
    } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read (${(e as Error).message})`;
        throw new ConfigError(
            key,
            JSON.stringify(raw),
            `${resolved} ${reason}; it must be a requirements.txt path relative to the project directory`,
        );
    }
    if (Buffer.byteLength(text) > maximumRequirementsBytes) {
        throw new ConfigError(key, JSON.stringify(raw), `must be smaller than ${maximumRequirementsBytes / 1024} KiB`);
    }
    return { path: raw, text };
};
