// Reading policy config: schema defaults first, then whatever `args.getConfig()` returns.
//
// The CLI fills schema defaults before it configures the pack, but the SDK's getConfig returns {}
// for a policy with no config entry, and unit tests call policies directly. Merging the defaults
// here makes every policy behave the same with no config at all.

import type { PolicyConfigSchema } from "@pulumi/policy";

/** The defaults declared in a config schema, by property. */
export function schemaDefaults(schema: PolicyConfigSchema): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(schema.properties)) {
        if (typeof prop === "object" && prop.default !== undefined) {
            out[key] = structuredClone(prop.default);
        }
    }
    return out;
}

/** The policy's config with schema defaults filled in. */
export function readConfig<T extends object>(
    args: { getConfig<C extends object>(): C },
    schema: PolicyConfigSchema,
): T {
    const given = args.getConfig<Record<string, unknown>>() ?? {};
    const merged: Record<string, unknown> = { ...schemaDefaults(schema) };
    for (const [key, value] of Object.entries(given)) {
        if (value !== undefined && value !== null) {
            merged[key] = value;
        }
    }
    return merged as T;
}

/** A string array from config, ignoring anything else. */
export function stringList(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** A string-valued map from config, ignoring anything else. */
export function stringMap(value: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) {
            if (typeof v === "string") {
                out[k] = v;
            }
        }
    }
    return out;
}
