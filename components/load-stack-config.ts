/** Reads the stack's `licode:` keys once and validates them; the only code that touches Config. */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, StackConfig, RawConfig, parseStackConfig } from "./config";

const PREFIX = "licode:";

/** Every `licode:` key of the stack, each value parsed from its JSON form when it has one. */
export function readRawConfig(): RawConfig {
    const raw: RawConfig = {};
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        if (!fullKey.startsWith(PREFIX)) {
            continue;
        }
        raw[fullKey.slice(PREFIX.length)] = parseValue(text);
    }
    return raw;
}

function parseValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        // Plain strings (namespace: licode-dev) are not JSON.
        return text;
    }
}

/**
 * Loads and validates the stack config. Invalid config stops the program before any resource is
 * registered, with every problem listed and no stack trace.
 */
export function loadStackConfig(): StackConfig {
    try {
        return parseStackConfig(readRawConfig());
    } catch (error) {
        if (error instanceof ConfigError) {
            throw new pulumi.RunError(error.message);
        }
        throw error;
    }
}
