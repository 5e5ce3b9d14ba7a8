// Label selectors and namespaces, with three-valued answers: a selector or label that is unknown
// during preview gives "unknown", and callers then skip the check instead of reporting.

import { UNKNOWN, Unknown, isObject, isUnknown, unwrap } from "./unknown";

/** true, false, or "unknown" during preview. */
export type Tri = boolean | "unknown";

/**
 * Whether a metav1.LabelSelector (`matchLabels` AND `matchExpressions`) selects `labels`.
 * An empty selector selects everything when `emptyMatchesAll` (apps/v1, policy/v1) and nothing
 * otherwise (policy/v1beta1). A null or absent selector selects nothing.
 */
export function labelSelectorMatches(
    selector: unknown,
    labels: unknown,
    emptyMatchesAll = true,
): Tri {
    if (isUnknown(selector)) {
        return "unknown";
    }
    if (!isObject(selector)) {
        return false;
    }
    const matchLabels = selector.matchLabels;
    const matchExpressions = selector.matchExpressions;
    if (isUnknown(matchLabels) || isUnknown(matchExpressions)) {
        return "unknown";
    }
    const hasLabels = isObject(matchLabels) && Object.keys(matchLabels).length > 0;
    const hasExpressions = Array.isArray(matchExpressions) && matchExpressions.length > 0;
    if (!hasLabels && !hasExpressions) {
        return emptyMatchesAll;
    }
    if (isUnknown(labels)) {
        return "unknown";
    }
    const podLabels = isObject(labels) ? labels : {};
    let result: Tri = true;
    const combine = (r: Tri): void => {
        if (r === false) {
            result = false;
        } else if (r === "unknown" && result === true) {
            result = "unknown";
        }
    };
    if (hasLabels) {
        combine(mapSelectorMatches(matchLabels, podLabels));
    }
    if (hasExpressions) {
        for (const expr of matchExpressions as unknown[]) {
            combine(expressionMatches(expr, podLabels));
        }
    }
    return result;
}

/** Whether a plain map selector (Service `spec.selector`, `matchLabels`) selects `labels`. */
export function mapSelectorMatches(selector: unknown, labels: unknown): Tri {
    if (isUnknown(selector) || isUnknown(labels)) {
        return "unknown";
    }
    if (!isObject(selector)) {
        return false;
    }
    const podLabels = isObject(labels) ? labels : {};
    let result: Tri = true;
    for (const [key, want] of Object.entries(selector)) {
        const have = podLabels[key];
        if (isUnknown(want) || isUnknown(have)) {
            result = result === true ? "unknown" : result;
        } else if (have !== want) {
            return false;
        }
    }
    return result;
}

function expressionMatches(expr: unknown, labels: Record<string, unknown>): Tri {
    if (!isObject(expr) || isUnknown(expr.key) || isUnknown(expr.operator)) {
        return isUnknown(expr) || isObject(expr) ? "unknown" : false;
    }
    const key = expr.key;
    if (typeof key !== "string") {
        return false;
    }
    const have = labels[key];
    if (isUnknown(have)) {
        return "unknown";
    }
    const present = have !== undefined;
    const values = expr.values;
    if (isUnknown(values) || (Array.isArray(values) && values.some(isUnknown))) {
        return "unknown";
    }
    const list = Array.isArray(values) ? values : [];
    switch (expr.operator) {
        case "In":
            return present && list.includes(have);
        case "NotIn":
            return !present || !list.includes(have);
        case "Exists":
            return present;
        case "DoesNotExist":
            return !present;
        default:
            // The API rejects other operators; an invalid selector selects nothing.
            return false;
    }
}

/**
 * The namespace a namespaced object lands in: `metadata.namespace`, else the provider's
 * `namespace` setting, else "default". "unknown" during preview.
 */
export function namespaceOf(
    metadata: Record<string, unknown>,
    provider?: { props: Record<string, unknown> },
): string | Unknown {
    const ns = metadata.namespace;
    if (isUnknown(ns)) {
        return UNKNOWN;
    }
    if (typeof ns === "string" && ns !== "") {
        return ns;
    }
    const providerNs = provider === undefined ? undefined : unwrap(provider.props).namespace;
    if (isUnknown(providerNs)) {
        return UNKNOWN;
    }
    return typeof providerNs === "string" && providerNs !== "" ? providerNs : "default";
}

/** Whether two namespaces are the same. */
export function sameNamespace(a: string | Unknown, b: string | Unknown): Tri {
    if (a === UNKNOWN || b === UNKNOWN) {
        return "unknown";
    }
    return a === b;
}
