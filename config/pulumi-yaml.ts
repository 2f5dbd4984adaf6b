// What Pulumi.yaml must say about the settings, made from the table: its `config:` declarations
// (type, description, default), the secret settings its header comment describes instead, and
// the prompts of its `template:`. test/unit/settings-pulumi-yaml.test.ts compares them with the file.
import { namespace } from "./problems";
import { PulumiType, settingList } from "./settings";

/** One key of Pulumi.yaml's `config:`. */
export interface ConfigDeclaration {
    type?: PulumiType;
    items?: { type: "string" };
    description: string;
    default: unknown;
}

/** One key of `template: config:`: what `pulumi new` asks. */
export interface TemplatePrompt {
    description: string;
    secret?: true;
}

/**
 * Pulumi.yaml's `config:`, in the table's order. A setting with no default declares "" (a string
 * the program reads as unset); a secret one is not declared, since a declared key without a
 * default would be required.
 */
export function configDeclarations(): Record<string, ConfigDeclaration> {
    return Object.fromEntries(
        settingList
            .filter(({ setting }) => !setting.secret)
            .map(({ key, setting }) => [
                key,
                {
                    ...(setting.type === undefined ? {} : { type: setting.type }),
                    ...(setting.type === "array" ? { items: { type: "string" as const } } : {}),
                    description: setting.doc,
                    default: setting.default ?? "",
                },
            ]),
    );
}

/** The settings Pulumi.yaml cannot declare, as its header comment describes them: `key: doc`. */
export function undeclaredSettings(): string[] {
    return settingList.filter(({ setting }) => setting.secret).map(({ key, setting }) => `${key}: ${setting.doc}`);
}

/** `template: config:`, keyed as there with the namespace, in the table's order; defaults are checked by reading them. */
export function templatePrompts(): Record<string, TemplatePrompt> {
    return Object.fromEntries(
        settingList
            .filter(({ setting }) => setting.prompt !== undefined)
            .map(({ key, setting }) => [
                `${namespace}:${key}`,
                { description: setting.prompt ?? "", ...(setting.secret ? { secret: true as const } : {}) },
            ]),
    );
}
