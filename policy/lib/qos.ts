// Pod QoS class, computed as the kubelet does (pkg/apis/core/helper/qos GetPodQOS /
// ComputePodQOS), after the API server's defaulting:
//   - only cpu and memory count; a zero quantity counts as unset;
//   - a limit without a request defaults the request to the limit (so limits-only is Guaranteed);
//   - init containers (native sidecars included) count like app containers; ephemeral do not;
//   - Guaranteed needs cpu and memory limits on every container, and requests equal to limits;
//   - nothing set anywhere is BestEffort; anything else is Burstable;
//   - pod-level `spec.resources` (PodLevelResources), when it sets cpu or memory, decides alone.

import { classLabel, containersOf } from "./containers";
import { PodTemplate } from "./podspec";
import { Quantity, addQuantities, compareQuantities } from "./quantity";
import { ResourceField, ResourceName, readResource } from "./resources";

export type QosClass = "Guaranteed" | "Burstable" | "BestEffort";

/** The QoS class with the reasons it is not Guaranteed, or why it cannot be computed. */
export type QosResult =
    { qos: QosClass; reasons: string[] } | { qos: "indeterminate"; reason: string };

const NAMES: ResourceName[] = ["cpu", "memory"];

interface Owner {
    label: string;
    value: Record<string, unknown>;
}

/** Computes the QoS class of a pod template. */
export function podQos(pod: PodTemplate): QosResult {
    const owners: Owner[] = [];
    if (podLevelSet(pod.spec)) {
        owners.push({ label: `pod-level resources (${pod.specPath}.resources)`, value: pod.spec });
    } else {
        const list = containersOf(pod);
        if (!list.complete) {
            return { qos: "indeterminate", reason: "a container list is unknown during preview" };
        }
        for (const c of list.containers) {
            if (c.cls !== "ephemeral") {
                const name = c.name === undefined ? "<unnamed>" : `"${c.name}"`;
                owners.push({ label: `${classLabel(c.cls)} ${name}`, value: c.value });
            }
        }
    }

    const requests = new Map<ResourceName, Quantity>();
    const limits = new Map<ResourceName, Quantity>();
    const reasons: string[] = [];
    let guaranteed = true;
    for (const owner of owners) {
        const limitsFound: ResourceName[] = [];
        for (const name of NAMES) {
            const limit = readResource(owner.value, "limits", name);
            let request: ResourceField = readResource(owner.value, "requests", name);
            for (const f of [limit, request]) {
                if (f.state === "unknown") {
                    return { qos: "indeterminate", reason: `${owner.label}: ${name} is unknown` };
                }
                if (f.state === "invalid") {
                    return {
                        qos: "indeterminate",
                        reason: `${owner.label}: ${name} ${f.reason}`,
                    };
                }
            }
            // API defaulting: a limit with no request sets the request to the limit.
            if (request.state === "missing" && limit.state !== "missing") {
                request = limit;
            }
            if (request.state === "ok") {
                requests.set(name, add(requests.get(name), request.value));
            }
            if (limit.state === "ok") {
                limitsFound.push(name);
                limits.set(name, add(limits.get(name), limit.value));
                if (request.state === "ok" && compareQuantities(request.value, limit.value) !== 0) {
                    reasons.push(
                        `${owner.label}: requests.${name} ${String(request.raw)} differs from ` +
                            `limits.${name} ${String(limit.raw)}`,
                    );
                } else if (request.state === "zero") {
                    reasons.push(`${owner.label}: requests.${name} is 0`);
                }
            } else {
                reasons.push(`${owner.label}: no ${name} limit`);
            }
        }
        if (limitsFound.length < NAMES.length) {
            guaranteed = false;
        }
    }
    if (requests.size === 0 && limits.size === 0) {
        return { qos: "BestEffort", reasons };
    }
    if (guaranteed) {
        for (const [name, req] of requests) {
            const lim = limits.get(name);
            if (lim === undefined || compareQuantities(lim, req) !== 0) {
                guaranteed = false;
            }
        }
    }
    if (guaranteed && requests.size === limits.size) {
        return { qos: "Guaranteed", reasons: [] };
    }
    return { qos: "Burstable", reasons };
}

function add(a: Quantity | undefined, b: Quantity): Quantity {
    return a === undefined ? b : addQuantities(a, b);
}

// Pod-level resources count when they name cpu or memory at all (or are unknown).
function podLevelSet(spec: Record<string, unknown>): boolean {
    return NAMES.some((name) =>
        (["requests", "limits"] as const).some(
            (kind) => readResource(spec, kind, name).state !== "missing",
        ),
    );
}
