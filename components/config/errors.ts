/** How config problems are reported: one ConfigError listing every key that is wrong. */
import { z } from "zod";
import { RawConfig } from "./schema";

/** One problem found in the stack's config. */
export interface ConfigProblem {
    /** The full key, e.g. `licode:ingress.host`. */
    readonly key: string;
    /** The offending value as the stack gave it (undefined when missing). */
    readonly value: unknown;
    /** What is wrong and how to fix it. */
    readonly message: string;
}

/** Thrown when the config has problems; lists all of them. */
export class ConfigError extends Error {
    constructor(public readonly problems: readonly ConfigProblem[]) {
        super(
            `The stack's licode config has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was deployed:\n` +
                problems
                    .map((p) => `  - ${p.key}: ${p.message} (got ${describe(p.value)})`)
                    .join("\n"),
        );
        this.name = "ConfigError";
    }
}

function describe(value: unknown): string {
    if (value === undefined) {
        return "nothing";
    }
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    let current: unknown = raw;
    for (const segment of path) {
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<PropertyKey, unknown>)[segment];
    }
    return current;
}

function keyOf(path: readonly PropertyKey[]): string {
    let key = "licode:";
    path.forEach((segment, index) => {
        if (typeof segment === "number") {
            key += `[${segment}]`;
        } else {
            key += `${index === 0 ? "" : "."}${String(segment)}`;
        }
    });
    return key;
}

/** Turns one schema issue into the problems an operator reads, naming the key and value. */
export function problemsOf(issue: z.core.$ZodIssue, raw: RawConfig): ConfigProblem[] {
    const value = valueAt(raw, issue.path);
    let message = issue.message;
    switch (issue.code) {
        case "invalid_type":
            message =
                value === undefined
                    ? `required: set it (expected ${issue.expected})`
                    : `expected ${issue.expected}; set a value of that type`;
            break;
        case "unrecognized_keys":
            return issue.keys.map((unknownKey) => ({
                key: keyOf([...issue.path, unknownKey]),
                value: valueAt(raw, [...issue.path, unknownKey]),
                message:
                    "unknown key: check its spelling against the README's config table, or remove it",
            }));
        case "invalid_value":
            message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
            break;
        default:
            break;
    }
    return [{ key: keyOf(issue.path), value, message }];
}
