// Pulumi.yaml says what config/settings.ts says: every key, type, default and description of its
// `config:`, the secret key its header comment describes, and the prompts and defaults of its
// `template:`. A change to the table (or to the file alone) fails here until the two agree.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import { defaults, DropletConfig, formatProblems, namespace, readConfig } from "../../config/config";
import { configDeclarations, templatePrompts, undeclaredSettings } from "../../config/pulumi-yaml";
import { settingList } from "../../config/settings";

const projectDir = path.join(__dirname, "..", "..");

interface Project {
    name: string;
    config: Record<string, unknown>;
    template: { config: Record<string, { description: string; default?: string; secret?: boolean }> };
}

const text = fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8");
const project = parseYaml(text) as Project;

test("Pulumi.yaml's project name is the config namespace", () => {
    assert.equal(project.name, namespace);
});

test("Pulumi.yaml's config: declares every setting of config/settings.ts, in its order, with its type, default and description", () => {
    const expected = configDeclarations();
    assert.deepEqual(Object.keys(project.config), Object.keys(expected), "the keys, in the table's order");
    for (const [key, declaration] of Object.entries(expected)) {
        assert.deepEqual(project.config[key], declaration, `Pulumi.yaml's config: ${key} is not what config/settings.ts says`);
    }
});

test("Pulumi.yaml's header comment describes the secret settings as config/settings.ts does", () => {
    // The comment's text as one line: its words as they read, whatever the wrapping.
    const comments = text
        .split("\n")
        .filter((line) => line.startsWith("#"))
        .map((line) => line.replace(/^#\s*/, ""))
        .join(" ");
    for (const described of undeclaredSettings()) {
        assert.ok(comments.includes(described), `Pulumi.yaml's header comment should say: ${described}`);
    }
});

test("Pulumi.yaml's template: asks for the settings config/settings.ts gives a prompt, with its words", () => {
    const expected = templatePrompts();
    assert.deepEqual(Object.keys(project.template.config), Object.keys(expected), "the keys, in the table's order");
    for (const [key, prompt] of Object.entries(expected)) {
        // Its default is checked by reading it, below: the JSON text of a list may be written in more than one way.
        const { description, secret } = project.template.config[key];
        assert.deepEqual(
            { description, ...(secret === undefined ? {} : { secret }) },
            prompt,
            `Pulumi.yaml's template: ${key} is not what config/settings.ts says`,
        );
    }
});

test("the template's defaults, the answers of who takes every default, read as the table's defaults", () => {
    const answers = Object.fromEntries(
        Object.entries(project.template.config)
            .filter(([, prompt]) => prompt.default !== undefined)
            .map(([key, prompt]) => [key.slice(namespace.length + 1), prompt.default]),
    );
    const reading = readConfig({ get: (key) => answers[key], isSecret: () => true }, projectDir);
    assert.ok(reading.ok, reading.ok ? "" : formatProblems(reading.problems));
    const defaulted: Record<string, unknown> = defaults;
    for (const { name, key } of settingList.filter(({ key }) => key in answers)) {
        assert.deepEqual(reading.config[name], defaulted[name], `the template's default for ${key}`);
    }
    assert.ok(Object.keys(answers).length > 0);
});

test("Pulumi.dev.yaml, the example stack config, is one the program accepts", () => {
    const stack = parseYaml(fs.readFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const values = Object.fromEntries(
        Object.entries(stack.config).map(([key, value]) => [
            key.slice(namespace.length + 1),
            typeof value === "string" ? value : JSON.stringify(value),
        ]),
    );
    const reading = readConfig(
        {
            get: (key) => values[key],
            isSecret: () => false,
            keys: () => Object.keys(stack.config).map((key) => key.slice(namespace.length + 1)),
        },
        projectDir,
    );
    assert.ok(reading.ok, reading.ok ? "" : formatProblems(reading.problems));
    const config: DropletConfig = reading.config;
    assert.equal(config.region, values.region);
});
