// host-network-allow-list: only the tiers that must announce a node address and take UDP ranges
// (erizo-controller, erizo-agent) may use the host network, and then with
// dnsPolicy ClusterFirstWithHostNet, without which a host-network pod resolves names with the
// node's resolver and cannot reach Services (rabbitmq, nuve) by their cluster DNS names.

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { show, violation } from "../lib/messages";
import { validatePod } from "../lib/policy";
import { TIER_LABEL, tierOf } from "../lib/podspec";
import { UNKNOWN, isUnknown } from "../lib/unknown";

export const NAME = "host-network-allow-list";

interface Config {
    allowedTiers: string[];
    allowedDnsPolicies: string[];
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        allowedTiers: {
            type: "array",
            items: { type: "string" },
            default: ["erizo-controller", "erizo-agent", "turn", "media-check"],
            description: `Tiers (pod label ${TIER_LABEL}) allowed to set hostNetwork: true.`,
        },
        allowedDnsPolicies: {
            type: "array",
            items: { type: "string" },
            default: ["ClusterFirstWithHostNet"],
            description: "dnsPolicy values accepted on host-network pods.",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

/** hostNetwork only for allow-listed tiers, with a cluster-aware dnsPolicy. */
export const hostNetworkAllowList: ResourceValidationPolicy = {
    name: NAME,
    description:
        "hostNetwork: true only for allow-listed tiers (erizo-controller, erizo-agent, turn and " +
        "media-check by default), and then with dnsPolicy ClusterFirstWithHostNet.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps:
        "Drop hostNetwork, or add the tier to allowedTiers with a reason; set dnsPolicy: " +
        "ClusterFirstWithHostNet on host-network pods.",
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            const { pod, config } = ctx;
            const hostNetwork = pod.spec.hostNetwork;
            if (isUnknown(hostNetwork) || hostNetwork !== true) {
                return;
            }
            const tier = tierOf(pod);
            const allowed = stringList(config.allowedTiers);
            if (tier !== UNKNOWN && (tier === undefined || !allowed.includes(tier))) {
                const which = tier === undefined ? `has no ${TIER_LABEL} label` : `is "${tier}"`;
                ctx.report(
                    violation(
                        `${ctx.subject} (${pod.specPath}.hostNetwork)`,
                        [
                            `hostNetwork is true but its tier ${which}, not one of [${allowed.join(", ")}]`,
                        ],
                        "a host-network pod shares the node's network namespace: it can bind " +
                            "any node port, see all node traffic and reach node-local services, " +
                            "and it violates the Pod Security baseline; only the media, signalling " +
                            "and TURN tiers (and the media check, which tests the media nodes' " +
                            "network) need it, to announce the node address and take UDP port " +
                            "ranges.",
                        "remove hostNetwork and expose the pod through a Service, or, if this " +
                            "tier really needs the node network, add it to this policy's " +
                            "allowedTiers (or an exemption with a reason).",
                    ),
                );
            }
            const dnsPolicy = pod.spec.dnsPolicy;
            const dnsAllowed = stringList(config.allowedDnsPolicies);
            if (!isUnknown(dnsPolicy) && !dnsAllowed.includes(String(dnsPolicy))) {
                const current =
                    dnsPolicy === undefined || dnsPolicy === null
                        ? "is not set (so it is ClusterFirst, which falls back to Default on the host network)"
                        : `is ${show(dnsPolicy)}`;
                ctx.report(
                    violation(
                        `${ctx.subject} (${pod.specPath}.dnsPolicy)`,
                        [`hostNetwork is true and dnsPolicy ${current}`],
                        "a host-network pod uses the node's resolver unless dnsPolicy is " +
                            "ClusterFirstWithHostNet, so names like the RabbitMQ and Nuve " +
                            "Services do not resolve and the tier cannot join the platform.",
                        `set ${pod.specPath}.dnsPolicy: ClusterFirstWithHostNet.`,
                    ),
                );
            }
        }),
};
