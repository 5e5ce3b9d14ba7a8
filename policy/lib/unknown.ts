// Values that cannot be known during `pulumi preview` (Outputs of resources not created yet).
//
// The policy SDK deserializes resource properties and wraps them in a Proxy
// (`unknownCheckingProxy`, @pulumi/policy proxy.ts) that throws `UnknownValueError` when code reads
// a property whose value is one of the sentinel strings below. Uncaught, the server turns that into
// a single generic advisory ("can't run policy ... during preview") and the whole policy is skipped
// for the resource (server.ts). We want finer behaviour: an unknown value skips only the check that
// needs it. So every policy unwraps the proxy once, then tests values with `isUnknown`.

/** Sentinels from @pulumi/policy proxy.ts (boolean, number, string, array, asset, archive, object). */
export const UNKNOWN_SENTINELS: readonly string[] = [
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
];

const sentinels = new Set<unknown>(UNKNOWN_SENTINELS);

/** The proxy hands back its target when asked for this key (proxy.ts `getSpecialProxyTarget`). */
const PROXY_TARGET_KEY = "__getSpecialProxyTarget";

/** Marks a derived value (a tier, a namespace) that is unknown during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

/** True when `value` is unknown during preview (a sentinel, or the derived UNKNOWN marker). */
export function isUnknown(value: unknown): boolean {
    return sentinels.has(value) || value === UNKNOWN;
}

/** True when `value` or anything inside it is unknown during preview. */
export function containsUnknown(value: unknown): boolean {
    if (isUnknown(value)) {
        return true;
    }
    if (Array.isArray(value)) {
        return value.some(containsUnknown);
    }
    if (isObject(value)) {
        return Object.values(value).some(containsUnknown);
    }
    return false;
}

/**
 * Returns the plain object behind the SDK's unknown-checking proxy (or `props` itself when it is
 * not proxied, as in tests). The proxy wraps lazily, so the target holds plain data all the way
 * down, with unknowns left as sentinel strings.
 */
export function unwrap(props: unknown): Record<string, unknown> {
    if (!isObject(props)) {
        return {};
    }
    let target: unknown;
    try {
        target = (props as Record<string, unknown>)[PROXY_TARGET_KEY];
    } catch {
        target = undefined;
    }
    return isObject(target) ? target : (props as Record<string, unknown>);
}

/** A non-null, non-array object. */
export function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The value at `keys` inside `value`: UNKNOWN when it, or an object on the way, is unknown during
 * preview; undefined when it is missing (or the way goes through a non-object).
 */
export function readPath(value: unknown, ...keys: string[]): unknown {
    let node: unknown = value;
    for (const key of keys) {
        if (isUnknown(node)) {
            return UNKNOWN;
        }
        if (!isObject(node)) {
            return undefined;
        }
        node = node[key];
    }
    return isUnknown(node) ? UNKNOWN : node;
}
