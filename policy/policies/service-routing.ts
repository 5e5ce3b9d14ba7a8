// service-routing (stack policy): traffic has somewhere to go.
//   - Every Ingress backend (networking.k8s.io/v1 `service: { name, port: { name | number } }`,
//     or the v1beta1 `serviceName`/`servicePort`; default backend and every path) names a Service
//     of the stack in the Ingress's namespace, and one of that Service's ports, by name or number.
//   - Every Service with a selector (not ExternalName) selects at least one pod template of the
//     stack in its namespace, and each of its ports' targetPort (defaulting to port) is a
//     containerPort the selected pods declare (by number or name, same protocol) on an app
//     container or native sidecar, as the endpoints controller resolves it. A numeric targetPort
//     that no container declares may still answer, but nothing in the manifests says so, and a
//     named one that no container declares gets no endpoints at all.
// Services without a selector (endpoints managed by hand) and resource backends are not judged;
// `*Patch` templates carry partial labels and ports and are left out.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { show, violation } from "../lib/messages";
import { StackItem, stackContext } from "../lib/policy";
import { namespaceOf } from "../lib/selectors";
import {
    SERVICE_TYPE,
    declaredPorts,
    findDeclared,
    findNamed,
    serviceSelector,
    serviceSelects,
    servicePorts,
} from "../lib/services";
import { UNKNOWN, isObject, isUnknown, readPath } from "../lib/unknown";

export const NAME = "service-routing";

interface Config {
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const INGRESS_TYPE = /^kubernetes:(networking\.k8s\.io|extensions)\/v1(beta1)?:Ingress$/;

const WHY_INGRESS =
    "the ingress controller answers 503 for a backend whose Service or port does not exist, so " +
    "Nuve's API is unreachable from outside although every pod is healthy.";
const FIX_INGRESS =
    "point the backend at a Service of the stack in the Ingress's namespace, and at one of its " +
    "ports by name (spec.ports[].name) or number (spec.ports[].port).";
const WHY_SERVICE =
    "a Service that selects no pod, or whose targetPort no selected container declares, has no " +
    "endpoints (or sends traffic to a port nothing listens on): clients of the tier time out.";
const FIX_SERVICE =
    "make the Service's selector match the pod template's labels, and each targetPort name or " +
    "number a containerPort (same protocol) of the selected containers.";

/** Ingress backends name a Service port of the stack; Services select pods that serve it. */
export const serviceRouting: StackValidationPolicy = {
    name: NAME,
    description:
        "Every Ingress backend names a Service of the stack in its namespace and one of its " +
        "ports; every Service with a selector selects a pod template of the stack, and its " +
        "targetPorts are containerPorts those pods declare.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps: `${FIX_INGRESS} ${FIX_SERVICE}`,
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const services = ctx.items.filter((i) => i.type === SERVICE_TYPE);
        const workloads = ctx.items.filter((i) => i.pod !== undefined && !i.pod.patch);
        for (const item of ctx.items.filter((i) => INGRESS_TYPE.test(i.type))) {
            const problems = ingressProblems(item, services);
            if (problems.length > 0 && !ctx.exempt(item)) {
                ctx.report(item, violation(item.subject, problems, WHY_INGRESS, FIX_INGRESS));
            }
        }
        for (const service of services) {
            const problems = serviceProblems(service, workloads);
            if (problems.length > 0 && !ctx.exempt(service)) {
                ctx.report(service, violation(service.subject, problems, WHY_SERVICE, FIX_SERVICE));
            }
        }
    },
};

/** One backend of an Ingress: where it is, the Service name and the port. */
interface Backend {
    readonly path: string;
    readonly service: unknown;
    /** A port name (string) or number; undefined when not given. */
    readonly port: unknown;
    /** The field holding the port, for messages. */
    readonly portField: string;
}

function backendsOf(spec: Record<string, unknown>): Backend[] {
    const out: Backend[] = [];
    const add = (backend: unknown, path: string): void => {
        if (!isObject(backend)) {
            return;
        }
        if (isObject(backend.service)) {
            const port = backend.service.port;
            const byName = readPath(port, "name");
            const value =
                byName !== undefined && byName !== null && byName !== ""
                    ? byName
                    : readPath(port, "number");
            out.push({
                path,
                service: backend.service.name,
                port: isUnknown(port) ? UNKNOWN : value,
                portField: `${path}.service.port.${value === byName ? "name" : "number"}`,
            });
        } else if (backend.serviceName !== undefined) {
            out.push({
                path,
                service: backend.serviceName,
                port: backend.servicePort,
                portField: `${path}.servicePort`,
            });
        } else if (isUnknown(backend.service)) {
            out.push({ path, service: UNKNOWN, port: UNKNOWN, portField: path });
        }
    };
    add(spec.defaultBackend, "spec.defaultBackend");
    add(spec.backend, "spec.backend");
    const rules = spec.rules;
    if (Array.isArray(rules)) {
        rules.forEach((rule: unknown, i: number) => {
            const paths = readPath(rule, "http", "paths");
            if (!Array.isArray(paths)) {
                return;
            }
            paths.forEach((p: unknown, j: number) => {
                add(
                    isObject(p) ? p.backend : undefined,
                    `spec.rules[${i}].http.paths[${j}].backend`,
                );
            });
        });
    }
    return out;
}

function ingressProblems(item: StackItem, services: StackItem[]): string[] {
    const spec = item.props.spec;
    if (!isObject(spec)) {
        return [];
    }
    const ns = namespaceOf(item.metadata, item.resource.provider);
    const nsText = typeof ns === "string" ? `namespace "${ns}"` : "its namespace";
    const problems: string[] = [];
    for (const b of backendsOf(spec)) {
        if (typeof b.service === "symbol" || isUnknown(b.service)) {
            continue;
        }
        if (typeof b.service !== "string" || b.service === "") {
            problems.push(`${b.path} names no Service`);
            continue;
        }
        const svc = findNamed(services, b.service, ns);
        if (svc === UNKNOWN) {
            continue;
        }
        if (svc === undefined) {
            problems.push(
                `${b.path} names Service "${b.service}", which is not a Service of this stack in ${nsText}`,
            );
            continue;
        }
        if (typeof b.port === "symbol" || isUnknown(b.port) || isUnknown(svc.props.spec)) {
            continue;
        }
        const svcSpec = isObject(svc.props.spec) ? svc.props.spec : {};
        const { ports, complete } = servicePorts(svcSpec);
        if (typeof b.port !== "string" && typeof b.port !== "number") {
            problems.push(`${b.path} names no port of Service "${b.service}"`);
            continue;
        }
        const found = ports.some((p) =>
            typeof b.port === "number" ? p.port === b.port : p.name === b.port,
        );
        if (!found && complete) {
            const have = ports.map((p) => `${p.name ?? "<unnamed>"} ${String(p.port)}`).join(", ");
            problems.push(
                `${b.portField} ${show(b.port)} is not a port of Service "${b.service}" ` +
                    `(its ports: ${have === "" ? "none" : have})`,
            );
        }
    }
    return problems;
}

function serviceProblems(service: StackItem, workloads: StackItem[]): string[] {
    const selector = serviceSelector(service);
    if (selector === undefined || typeof selector === "symbol") {
        return [];
    }
    const spec = service.props.spec;
    if (!isObject(spec)) {
        return [];
    }
    const selected: StackItem[] = [];
    let open = false;
    for (const w of workloads) {
        const s = serviceSelects(service, w);
        if (s === true) {
            selected.push(w);
        } else if (s === "unknown") {
            open = true;
        }
    }
    if (selected.length === 0) {
        if (open) {
            return [];
        }
        const ns = namespaceOf(service.metadata, service.resource.provider);
        return [
            `spec.selector ${show(selector)} selects no pod template of this stack in ` +
                `${typeof ns === "string" ? `namespace "${ns}"` : "its namespace"}`,
        ];
    }
    const problems: string[] = [];
    for (const port of servicePorts(spec).ports) {
        const missing: string[] = [];
        for (const w of selected) {
            if (w.pod === undefined) {
                continue;
            }
            const declared = declaredPorts(w.pod);
            if (!declared.complete || findDeclared(declared.ports, port.target, port.protocol)) {
                continue;
            }
            missing.push(w.subject);
        }
        if (missing.length > 0) {
            problems.push(
                `spec.${port.label} targetPort ${show(port.target)} is not a declared ` +
                    `containerPort (${port.protocol}) of ${missing.join(", ")}`,
            );
        }
    }
    return problems;
}
