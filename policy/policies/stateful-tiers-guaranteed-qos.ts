// stateful-tiers-guaranteed-qos: the stateful tiers (MongoDB, RabbitMQ) run in the Guaranteed QoS
// class, computed as the kubelet does (lib/qos.ts: init containers count, a limit without a
// request implies request = limit, zero counts as unset). Applies to long-running workloads of
// those tiers; a Job that carries the tier label (a bootstrap, a backup) is not held to it.

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { violation } from "../lib/messages";
import { validatePod } from "../lib/policy";
import { TIER_LABEL, isLongRunning, tierOf } from "../lib/podspec";
import { podQos } from "../lib/qos";
import { UNKNOWN } from "../lib/unknown";

export const NAME = "stateful-tiers-guaranteed-qos";

interface Config {
    tiers: string[];
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        tiers: {
            type: "array",
            items: { type: "string" },
            default: ["mongodb", "rabbitmq"],
            description: `Tiers (pod label ${TIER_LABEL}) that must be in the Guaranteed QoS class.`,
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

/** Stateful tiers are Guaranteed QoS. */
export const statefulTiersGuaranteedQos: ResourceValidationPolicy = {
    name: NAME,
    description:
        "Long-running pods of the stateful tiers (mongodb, rabbitmq by default) are in the " +
        "Guaranteed QoS class: cpu and memory limits on every container, requests equal to limits.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps:
        "Set requests equal to limits for cpu and memory on every container and init container.",
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            const { pod, config } = ctx;
            const tier = tierOf(pod);
            if (tier === UNKNOWN || tier === undefined) {
                return;
            }
            if (!stringList(config.tiers).includes(tier) || isLongRunning(pod) !== true) {
                return;
            }
            const result = podQos(pod);
            if (result.qos === "indeterminate" || result.qos === "Guaranteed") {
                return;
            }
            ctx.report(
                violation(
                    `${ctx.subject} (tier "${tier}", ${pod.specPath})`,
                    [`its pods would be in the ${result.qos} QoS class`, ...result.reasons],
                    "under node memory pressure the kubelet evicts BestEffort, then Burstable " +
                        "pods before Guaranteed ones, and the OOM killer prefers them too; " +
                        "killing the database or the message bus takes every Licode tier down " +
                        "and risks data on restart.",
                    "give every container (init containers and sidecars included) cpu and " +
                        "memory limits and make each request equal to its limit (in this " +
                        "program: the tier's `resources` stack config).",
                ),
            );
        }),
};
