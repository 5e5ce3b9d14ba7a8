// network-policy-coverage (stack policy): every pod of the stack on the pod network is isolated
// for ingress, and what its Services expose is let in.
//   - Each pod template not on the host network (NetworkPolicies do not apply to host-network
//     pods) is selected by at least one NetworkPolicy of the stack in its namespace whose
//     policyTypes include Ingress (absent policyTypes mean Ingress). Selection is full
//     metav1.LabelSelector semantics; an empty podSelector selects every pod of the namespace.
//   - Each port a Service of the stack exposes (targetPort, defaulting to port; names resolved
//     against the selected pods' containerPorts and protocol) is admitted, for every selected pod
//     that NetworkPolicies isolate, by an ingress rule of one of the NetworkPolicies selecting it:
//     a rule without ports admits every port; a rule port matches by protocol (TCP by default)
//     and number (with endPort, a range), by name, or, without a port, every port of its protocol.
//     Sources (`from`) are not judged: any rule that admits the port counts.
// A targetPort that resolves to no declared port is service-routing's to report. `*Patch`
// templates carry partial labels and are left out.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { violation } from "../lib/messages";
import { StackItem, stackContext } from "../lib/policy";
import { Tri, labelSelectorMatches, namespaceOf, sameNamespace } from "../lib/selectors";
import {
    SERVICE_TYPE,
    declaredPorts,
    findDeclared,
    serviceSelects,
    servicePorts,
} from "../lib/services";
import { isObject, isUnknown } from "../lib/unknown";

export const NAME = "network-policy-coverage";

interface Config {
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const NETWORK_POLICY_TYPE =
    /^kubernetes:(networking\.k8s\.io|extensions)\/v1(beta1)?:NetworkPolicy$/;

const WHY_POD =
    "a pod no NetworkPolicy selects accepts connections from every pod in the cluster, so one " +
    "compromised pod anywhere reaches MongoDB, RabbitMQ or Nuve directly.";
const FIX_POD =
    "add a NetworkPolicy in the pod's namespace with policyTypes [Ingress] and a podSelector " +
    "matching the pod template's labels, admitting only the ports and sources the tier serves " +
    "(no ingress rules at all for a pod that serves nothing).";
const WHY_PORT =
    "once a NetworkPolicy selects a pod, only what its ingress rules admit gets through, so a " +
    "Service port no rule admits is a port that times out for every client.";
const FIX_PORT =
    "add the port (number or containerPort name, with its protocol) to an ingress rule of a " +
    "NetworkPolicy selecting the pods, or drop the port from the Service.";

/** Pods on the pod network are isolated, and their Services' ports are admitted. */
export const networkPolicyCoverage: StackValidationPolicy = {
    name: NAME,
    description:
        "Every pod of the stack not on the host network is selected by an Ingress " +
        "NetworkPolicy in its namespace, and every port its Services expose is admitted by " +
        "one of those policies.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps: FIX_POD,
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const policies = ctx.items.filter((i) => NETWORK_POLICY_TYPE.test(i.type));
        // Pods on the pod network, with the Ingress policies that select them (undefined: open).
        const isolated = new Map<StackItem, StackItem[] | undefined>();
        for (const item of ctx.items) {
            const pod = item.pod;
            if (pod === undefined || pod.patch) {
                continue;
            }
            const hostNetwork = pod.spec.hostNetwork;
            if (hostNetwork === true || isUnknown(hostNetwork)) {
                continue;
            }
            const selecting = selectingPolicies(item, policies);
            isolated.set(item, selecting);
            if (selecting === undefined || selecting.length > 0 || ctx.exempt(item)) {
                continue;
            }
            const ns = namespaceOf(pod.metadata, item.resource.provider);
            ctx.report(
                item,
                violation(
                    `${item.subject} (${pod.metadataPath}.labels)`,
                    [
                        "its pods are on the pod network but no NetworkPolicy with policyTypes " +
                            `Ingress in namespace ${typeof ns === "string" ? `"${ns}"` : "<unknown>"} selects them`,
                    ],
                    WHY_POD,
                    FIX_POD,
                ),
            );
        }
        for (const service of ctx.items.filter((i) => i.type === SERVICE_TYPE)) {
            const spec = service.props.spec;
            if (!isObject(spec)) {
                continue;
            }
            const problems: string[] = [];
            for (const [workload, selecting] of isolated) {
                if (selecting === undefined || selecting.length === 0) {
                    continue;
                }
                if (serviceSelects(service, workload) !== true) {
                    continue;
                }
                problems.push(...unadmitted(spec, workload, selecting));
            }
            if (problems.length > 0 && !ctx.exempt(service)) {
                ctx.report(
                    service,
                    violation(`${service.subject} (spec.ports)`, problems, WHY_PORT, FIX_PORT),
                );
            }
        }
    },
};

// The NetworkPolicies with Ingress in their policyTypes that select the workload's pods;
// undefined when an unknown value leaves it open and none is sure to.
function selectingPolicies(item: StackItem, policies: StackItem[]): StackItem[] | undefined {
    const pod = item.pod;
    if (pod === undefined) {
        return [];
    }
    const ns = namespaceOf(pod.metadata, item.resource.provider);
    const found: StackItem[] = [];
    let open = false;
    for (const np of policies) {
        const spec = np.props.spec;
        const same = sameNamespace(ns, namespaceOf(np.metadata, np.resource.provider));
        if (same === false) {
            continue;
        }
        if (isUnknown(spec)) {
            open = true;
            continue;
        }
        if (!isObject(spec)) {
            continue;
        }
        const ingress = isolatesIngress(spec.policyTypes);
        // podSelector is a required, non-pointer field: absent means {}, every pod.
        const selector =
            spec.podSelector === undefined || spec.podSelector === null ? {} : spec.podSelector;
        const selects = labelSelectorMatches(selector, pod.templateMetadata.labels, true);
        if (ingress === false || selects === false) {
            continue;
        }
        if (ingress === true && selects === true && same === true) {
            found.push(np);
        } else {
            open = true;
        }
    }
    return found.length === 0 && open ? undefined : found;
}

function isolatesIngress(policyTypes: unknown): Tri {
    if (isUnknown(policyTypes)) {
        return "unknown";
    }
    if (!Array.isArray(policyTypes) || policyTypes.length === 0) {
        return true;
    }
    if (policyTypes.includes("Ingress")) {
        return true;
    }
    return policyTypes.some(isUnknown) ? "unknown" : false;
}

// The Service's ports that no policy selecting the workload's pods admits.
function unadmitted(
    spec: Record<string, unknown>,
    workload: StackItem,
    selecting: StackItem[],
): string[] {
    const pod = workload.pod;
    if (pod === undefined) {
        return [];
    }
    const declared = declaredPorts(pod);
    const out: string[] = [];
    for (const port of servicePorts(spec).ports) {
        const target = findDeclared(declared.ports, port.target, port.protocol);
        if (typeof port.target === "string" && target === undefined) {
            continue;
        }
        const number = target?.port ?? (port.target as number);
        const name = target?.name;
        let admitted: Tri = false;
        for (const np of selecting) {
            const r = policyAdmits(np, port.protocol, number, name);
            if (r === true) {
                admitted = true;
                break;
            }
            if (r === "unknown") {
                admitted = "unknown";
            }
        }
        if (admitted === false) {
            const via =
                typeof port.target === "string"
                    ? `targetPort "${port.target}" = ${number}`
                    : `targetPort ${number}`;
            out.push(
                `${port.label} → ${via} on ${workload.subject} is admitted by no ingress rule ` +
                    `of the NetworkPolicies selecting those pods (${selecting.map((p) => p.subject).join(", ")})`,
            );
        }
    }
    return out;
}

/** Whether one of the NetworkPolicy's ingress rules admits a port of the selected pods. */
export function policyAdmits(
    np: StackItem,
    protocol: string,
    port: number,
    name: string | undefined,
): Tri {
    const spec = np.props.spec;
    if (!isObject(spec)) {
        return false;
    }
    const rules = spec.ingress;
    if (isUnknown(rules)) {
        return "unknown";
    }
    if (!Array.isArray(rules)) {
        return false;
    }
    let result: Tri = false;
    for (const rule of rules) {
        const r = ruleAdmits(rule, protocol, port, name);
        if (r === true) {
            return true;
        }
        if (r === "unknown") {
            result = "unknown";
        }
    }
    return result;
}

function ruleAdmits(rule: unknown, protocol: string, port: number, name: string | undefined): Tri {
    if (isUnknown(rule)) {
        return "unknown";
    }
    if (!isObject(rule)) {
        return false;
    }
    const ports = rule.ports;
    if (isUnknown(ports)) {
        return "unknown";
    }
    if (!Array.isArray(ports) || ports.length === 0) {
        return true;
    }
    let result: Tri = false;
    for (const p of ports) {
        if (!isObject(p)) {
            result = isUnknown(p) ? "unknown" : result;
            continue;
        }
        const { protocol: proto, port: value, endPort } = p;
        if (isUnknown(proto) || isUnknown(value) || isUnknown(endPort)) {
            result = "unknown";
            continue;
        }
        const ruleProtocol = typeof proto === "string" && proto !== "" ? proto : "TCP";
        if (ruleProtocol !== protocol) {
            continue;
        }
        if (value === undefined || value === null) {
            return true;
        }
        if (typeof value === "number") {
            const end = typeof endPort === "number" ? endPort : value;
            if (port >= value && port <= end) {
                return true;
            }
        } else if (typeof value === "string" && name !== undefined && value === name) {
            return true;
        }
    }
    return result;
}
