// statefulset-service-headless (stack policy): each StatefulSet's spec.serviceName names a
// Service of the stack, in the same namespace, that is headless (clusterIP: None) and selects the
// StatefulSet's pods. That Service is what gives each replica its stable DNS name
// (licode-mongodb-0.licode-mongodb-headless...), which MongoDB and RabbitMQ peers and clients use
// (kube-score statefulset-has-servicename; no admission engine can check it, the Service may not
// exist yet at admission time).

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { show, violation } from "../lib/messages";
import { StackItem, stackContext } from "../lib/policy";
import { mapSelectorMatches, namespaceOf, sameNamespace } from "../lib/selectors";
import { isObject, isUnknown } from "../lib/unknown";

export const NAME = "statefulset-service-headless";

interface Config {
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const SERVICE_TYPE = "kubernetes:core/v1:Service";

const WHY =
    "a StatefulSet's pods get stable per-pod DNS names only through a headless Service named " +
    "by spec.serviceName that selects them; without it MongoDB and RabbitMQ members and their " +
    "clients cannot address a given replica, and a ClusterIP Service load-balances instead.";
const FIX =
    "create a Service in the same namespace with clusterIP: None, a selector equal to the " +
    "StatefulSet's selector labels, and set spec.serviceName to its metadata.name.";

/** StatefulSets name a headless Service of the stack that selects their pods. */
export const statefulsetServiceHeadless: StackValidationPolicy = {
    name: NAME,
    description:
        "Each StatefulSet's serviceName is a headless Service (clusterIP: None) of the stack, " +
        "in the same namespace, selecting the StatefulSet's pods.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps: FIX,
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const services = ctx.items.filter((i) => i.type === SERVICE_TYPE);
        for (const item of ctx.items) {
            const pod = item.pod;
            if (pod === undefined || pod.patch || pod.workload.kind !== "StatefulSet") {
                continue;
            }
            const spec = item.props.spec;
            if (!isObject(spec) || isUnknown(spec.serviceName)) {
                continue;
            }
            if (ctx.exempt(item)) {
                continue;
            }
            const serviceName = spec.serviceName;
            const subject = `${item.subject} (spec.serviceName)`;
            if (typeof serviceName !== "string" || serviceName === "") {
                ctx.report(item, violation(subject, ["serviceName is not set"], WHY, FIX));
                continue;
            }
            const ns = namespaceOf(pod.metadata, item.resource.provider);
            const found = findService(services, serviceName, ns);
            if (found === "unknown") {
                continue;
            }
            const nsText = typeof ns === "string" ? `namespace "${ns}"` : "its namespace";
            if (found === undefined) {
                ctx.report(
                    item,
                    violation(
                        subject,
                        [
                            `serviceName "${serviceName}" names no Service of this stack in ${nsText}`,
                        ],
                        WHY,
                        FIX,
                    ),
                );
                continue;
            }
            const svcSpec = found.props.spec;
            if (isUnknown(svcSpec)) {
                continue;
            }
            const problems: string[] = [];
            const clusterIP = isObject(svcSpec) ? svcSpec.clusterIP : undefined;
            if (!isUnknown(clusterIP) && clusterIP !== "None") {
                problems.push(
                    `Service "${serviceName}" is not headless (spec.clusterIP is ` +
                        `${clusterIP === undefined ? "unset" : show(clusterIP)}, not "None")`,
                );
            }
            const selects = mapSelectorMatches(
                isObject(svcSpec) ? svcSpec.selector : undefined,
                pod.templateMetadata.labels,
            );
            if (selects === false) {
                problems.push(`Service "${serviceName}" does not select the StatefulSet's pods`);
            }
            if (problems.length > 0) {
                ctx.report(item, violation(subject, problems, WHY, FIX));
            }
        }
    },
};

function findService(
    services: StackItem[],
    name: string,
    ns: ReturnType<typeof namespaceOf>,
): StackItem | undefined | "unknown" {
    let open = false;
    for (const s of services) {
        const sname = s.metadata.name;
        if (isUnknown(sname)) {
            open = true;
            continue;
        }
        const physical = typeof sname === "string" ? sname : s.resource.name;
        if (physical !== name) {
            continue;
        }
        const same = sameNamespace(ns, namespaceOf(s.metadata, s.resource.provider));
        if (same === true) {
            return s;
        }
        if (same === "unknown") {
            open = true;
        }
    }
    return open ? "unknown" : undefined;
}
