// Services, the ports pods declare, and finding objects of the stack by name: shared by the stack
// policies that follow traffic (service-routing, network-policy-coverage).

import { containersOf } from "./containers";
import type { StackItem } from "./policy";
import { PodTemplate } from "./podspec";
import { Tri, mapSelectorMatches, namespaceOf, sameNamespace } from "./selectors";
import { UNKNOWN, Unknown, isObject, isUnknown } from "./unknown";

export const SERVICE_TYPE = "kubernetes:core/v1:Service";

/** A containerPort declared by an app container or a native sidecar. */
export interface DeclaredPort {
    readonly container: string | undefined;
    readonly name: string | undefined;
    readonly port: number;
    readonly protocol: string;
}

/**
 * The ports a pod serves, as the endpoints controller looks them up (FindPort): those of its app
 * containers and native sidecars. `complete` is false when a list or entry is unknown.
 */
export function declaredPorts(pod: PodTemplate): { ports: DeclaredPort[]; complete: boolean } {
    const list = containersOf(pod);
    let complete = list.complete;
    const ports: DeclaredPort[] = [];
    for (const c of list.containers) {
        if (c.cls !== "container" && c.cls !== "sidecar" && !c.classUnknown) {
            continue;
        }
        const raw = c.value.ports;
        if (isUnknown(raw)) {
            complete = false;
            continue;
        }
        if (!Array.isArray(raw)) {
            continue;
        }
        for (const p of raw) {
            if (!isObject(p)) {
                complete = complete && !isUnknown(p);
                continue;
            }
            const { name, containerPort, protocol } = p;
            if ([name, containerPort, protocol].some(isUnknown)) {
                complete = false;
                continue;
            }
            if (typeof containerPort !== "number") {
                continue;
            }
            ports.push({
                container: c.name,
                name: typeof name === "string" && name !== "" ? name : undefined,
                port: containerPort,
                protocol: typeof protocol === "string" && protocol !== "" ? protocol : "TCP",
            });
        }
    }
    return { ports, complete };
}

/** The declared port a target (a number or a port name) and protocol name, if any. */
export function findDeclared(
    ports: readonly DeclaredPort[],
    target: number | string,
    protocol: string,
): DeclaredPort | undefined {
    return ports.find(
        (p) =>
            p.protocol === protocol &&
            (typeof target === "number" ? p.port === target : p.name === target),
    );
}

/** One entry of a Service's spec.ports. */
export interface ServicePort {
    readonly index: number;
    readonly name: string | undefined;
    readonly port: number | undefined;
    readonly protocol: string;
    /** targetPort, defaulting to port; a number or a name. */
    readonly target: number | string;
    /** "port \"http\" (3000/TCP)", for messages. */
    readonly label: string;
}

/** The Service's ports; `complete` is false when the list or an entry is unknown. */
export function servicePorts(spec: Record<string, unknown>): {
    ports: ServicePort[];
    complete: boolean;
} {
    const raw = spec.ports;
    if (isUnknown(raw)) {
        return { ports: [], complete: false };
    }
    if (!Array.isArray(raw)) {
        return { ports: [], complete: true };
    }
    let complete = true;
    const ports: ServicePort[] = [];
    raw.forEach((p: unknown, index: number) => {
        if (!isObject(p)) {
            complete = complete && !isUnknown(p);
            return;
        }
        const { name, port, protocol, targetPort } = p;
        if ([name, port, protocol, targetPort].some(isUnknown)) {
            complete = false;
            return;
        }
        const number = typeof port === "number" ? port : undefined;
        const target =
            typeof targetPort === "number" || (typeof targetPort === "string" && targetPort !== "")
                ? targetPort
                : number;
        if (target === undefined) {
            return;
        }
        const proto = typeof protocol === "string" && protocol !== "" ? protocol : "TCP";
        const named = typeof name === "string" && name !== "" ? name : undefined;
        ports.push({
            index,
            name: named,
            port: number,
            protocol: proto,
            target,
            label: `ports[${index}]${named === undefined ? "" : ` "${named}"`} (${String(number)}/${proto})`,
        });
    });
    return { ports, complete };
}

/** The Service's selector when it has a non-empty one; UNKNOWN during preview. */
export function serviceSelector(item: StackItem): Record<string, unknown> | undefined | Unknown {
    const spec = item.props.spec;
    if (isUnknown(spec)) {
        return UNKNOWN;
    }
    if (!isObject(spec)) {
        return undefined;
    }
    if (isUnknown(spec.type) || isUnknown(spec.selector)) {
        return UNKNOWN;
    }
    if (spec.type === "ExternalName" || !isObject(spec.selector)) {
        return undefined;
    }
    return Object.keys(spec.selector).length > 0 ? spec.selector : undefined;
}

/** Whether a Service selects the pods of a workload of the stack (same namespace, selector). */
export function serviceSelects(service: StackItem, workload: StackItem): Tri {
    const pod = workload.pod;
    if (pod === undefined) {
        return false;
    }
    const selector = serviceSelector(service);
    if (selector === UNKNOWN) {
        return "unknown";
    }
    if (selector === undefined) {
        return false;
    }
    const same = sameNamespace(
        namespaceOf(service.metadata, service.resource.provider),
        namespaceOf(pod.metadata, workload.resource.provider),
    );
    if (same === false) {
        return false;
    }
    const match = mapSelectorMatches(selector, pod.templateMetadata.labels);
    if (match === false) {
        return false;
    }
    return same === true && match === true ? true : "unknown";
}

/**
 * The object of the stack among `items` with this metadata.name (or Pulumi name) in namespace
 * `ns`; UNKNOWN when a name or namespace unknown during preview leaves it open.
 */
export function findNamed(
    items: readonly StackItem[],
    name: string,
    ns: string | Unknown,
): StackItem | undefined | Unknown {
    let open = false;
    for (const item of items) {
        const raw = item.metadata.name;
        if (isUnknown(raw)) {
            open = true;
            continue;
        }
        const physical = typeof raw === "string" ? raw : item.resource.name;
        if (physical !== name) {
            continue;
        }
        const same = sameNamespace(ns, namespaceOf(item.metadata, item.resource.provider));
        if (same === true) {
            return item;
        }
        if (same === "unknown") {
            open = true;
        }
    }
    return open ? UNKNOWN : undefined;
}
