// Reading a container's `resources.requests|limits.cpu|memory` as a quantity.

import { ParsedQuantity, Quantity, isNegative, isZero, parseQuantity } from "./quantity";
import { isObject, isUnknown } from "./unknown";

export type ResourceName = "cpu" | "memory";
export type ResourceKind = "requests" | "limits";

/** The state of one resource field. */
export type ResourceField =
    | { state: "unknown" }
    /** Absent, null or the empty string. */
    | { state: "missing" }
    | { state: "zero"; raw: unknown }
    | { state: "invalid"; raw: unknown; reason: string }
    | { state: "ok"; raw: unknown; value: Quantity };

/** Reads `resources[kind][name]` from a container (or a pod-level `resources`). */
export function readResource(
    owner: Record<string, unknown>,
    kind: ResourceKind,
    name: ResourceName,
): ResourceField {
    const resources = owner.resources;
    if (isUnknown(resources)) {
        return { state: "unknown" };
    }
    if (!isObject(resources)) {
        return { state: "missing" };
    }
    const group = resources[kind];
    if (isUnknown(group)) {
        return { state: "unknown" };
    }
    if (!isObject(group)) {
        return { state: "missing" };
    }
    const raw = group[name];
    if (isUnknown(raw)) {
        return { state: "unknown" };
    }
    if (raw === undefined || raw === null || raw === "") {
        return { state: "missing" };
    }
    const parsed: ParsedQuantity = parseQuantity(raw);
    if (!parsed.ok) {
        return { state: "invalid", raw, reason: parsed.reason };
    }
    if (isNegative(parsed.value)) {
        return { state: "invalid", raw, reason: "is negative" };
    }
    if (isZero(parsed.value)) {
        return { state: "zero", raw };
    }
    return { state: "ok", raw, value: parsed.value };
}
