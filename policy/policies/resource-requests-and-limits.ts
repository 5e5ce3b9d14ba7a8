// resource-requests-and-limits: every container that runs (app containers, init containers and
// native sidecars) declares cpu and memory requests and limits. Ephemeral containers are never
// checked: the API forbids resources on them (kyverno/policies#1335).

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { stringMap } from "../lib/config";
import { describeContainer, containersOf } from "../lib/containers";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { capitalize, show, violation } from "../lib/messages";
import { validatePod } from "../lib/policy";
import { TIER_LABEL, tierOf } from "../lib/podspec";
import { compareQuantities } from "../lib/quantity";
import { ResourceField, ResourceName, readResource } from "../lib/resources";
import { UNKNOWN } from "../lib/unknown";

export const NAME = "resource-requests-and-limits";

/** What to do about CPU limits. */
export type CpuLimitMode = "required" | "optional" | "forbidden";
const CPU_LIMIT_MODES: CpuLimitMode[] = ["required", "optional", "forbidden"];

interface Config {
    cpuLimit: CpuLimitMode;
    cpuLimitByTier: Record<string, string>;
    limitsImplyRequests: boolean;
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        cpuLimit: {
            type: "string",
            enum: CPU_LIMIT_MODES,
            default: "required",
            description:
                "Whether containers must (required), may (optional) or must not (forbidden) set " +
                "a CPU limit. Memory limits are always required.",
        },
        cpuLimitByTier: {
            type: "object",
            additionalProperties: { type: "string", enum: CPU_LIMIT_MODES },
            default: {},
            description:
                `Per-tier override of cpuLimit, keyed by the pod label ${TIER_LABEL}, ` +
                'e.g. { "erizo-agent": "forbidden" }.',
        },
        limitsImplyRequests: {
            type: "boolean",
            default: false,
            description:
                "Accept a missing request when the limit is set (the API server then copies " +
                "the limit into the request). Off by default: requests are stated explicitly.",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

type Problem = "unset" | "invalid" | "below" | "forbidden";

const WHY: Record<Problem, string> = {
    unset:
        "without requests the scheduler places the pod blind and the kubelet evicts it first " +
        "under pressure; without limits one container can take a whole node (a memory leak in " +
        "ErizoJS or MongoDB starves every other tier on it).",
    invalid: "the API server rejects a value that is not a Kubernetes quantity, mid-deployment.",
    below: "the API server rejects a limit below its request, mid-deployment.",
    forbidden:
        "CPU limits on this tier cause CFS throttling (latency spikes in media and signalling) " +
        "even when the node has idle CPU.",
};

const FIX: Record<Problem, string> = {
    unset:
        "set resources.requests and resources.limits for cpu and memory (in this program: the " +
        'tier\'s `resources` stack config), e.g. requests { cpu: "250m", memory: "256Mi" }, ' +
        'limits { cpu: "500m", memory: "256Mi" }; zero counts as unset.',
    invalid: "write quantities as Kubernetes does: 500m, 0.5, 2, 256Mi, 1Gi, 1e3.",
    below: "raise the limit to at least the request, or lower the request.",
    forbidden: `remove resources.limits.cpu (or change cpuLimitByTier for this ${TIER_LABEL}).`,
};

/** Every running container declares cpu and memory requests and limits. */
export const resourceRequestsAndLimits: ResourceValidationPolicy = {
    name: NAME,
    description:
        "App containers, init containers and native sidecars declare cpu and memory requests " +
        "and limits (CPU limit configurable per tier); quantities parse, are non-zero, and " +
        "limits are not below requests.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps:
        "Set resources.requests and resources.limits (cpu, memory) on every container, " +
        "including init containers and sidecars.",
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            const { pod, config } = ctx;
            const tier = tierOf(pod);
            const byTier = stringMap(config.cpuLimitByTier);
            let cpuMode: CpuLimitMode | undefined = config.cpuLimit;
            if (tier === UNKNOWN) {
                // The tier decides the mode only when overrides exist; unknown tier → skip it.
                cpuMode = Object.keys(byTier).length > 0 ? undefined : config.cpuLimit;
            } else if (tier !== undefined && byTier[tier] !== undefined) {
                cpuMode = byTier[tier] as CpuLimitMode;
            }
            for (const c of containersOf(pod).containers) {
                if (c.cls === "ephemeral" || ctx.containerExempt(c)) {
                    continue;
                }
                const problems: string[] = [];
                const kinds = new Set<Problem>();
                for (const name of ["cpu", "memory"] as ResourceName[]) {
                    const request = readResource(c.value, "requests", name);
                    const limit = readResource(c.value, "limits", name);
                    const limitMode = name === "memory" ? "required" : cpuMode;
                    checkRequest(name, request, limit, config.limitsImplyRequests, problems, kinds);
                    checkLimit(name, limit, limitMode, tier, problems, kinds);
                    if (
                        request.state === "ok" &&
                        limit.state === "ok" &&
                        compareQuantities(limit.value, request.value) < 0
                    ) {
                        problems.push(
                            `resources.limits.${name} ${show(limit.raw)} is below ` +
                                `resources.requests.${name} ${show(request.raw)}`,
                        );
                        kinds.add("below");
                    }
                }
                if (problems.length > 0) {
                    const order: Problem[] = ["unset", "invalid", "below", "forbidden"];
                    const present = order.filter((k) => kinds.has(k));
                    ctx.report(
                        violation(
                            `${ctx.subject} ${describeContainer(c)}`,
                            problems,
                            present.map((k) => capitalize(WHY[k])).join(" "),
                            present.map((k) => capitalize(FIX[k])).join(" "),
                        ),
                    );
                }
            }
        }),
};

function checkRequest(
    name: ResourceName,
    request: ResourceField,
    limit: ResourceField,
    limitsImplyRequests: boolean,
    problems: string[],
    kinds: Set<Problem>,
): void {
    const field = `resources.requests.${name}`;
    switch (request.state) {
        case "missing":
            if (limitsImplyRequests && limit.state !== "missing") {
                return;
            }
            problems.push(`${field} is not set`);
            kinds.add("unset");
            return;
        case "zero":
            problems.push(`${field} is ${show(request.raw)}, and zero counts as unset`);
            kinds.add("unset");
            return;
        case "invalid":
            problems.push(`${field} ${show(request.raw)} ${request.reason}`);
            kinds.add("invalid");
            return;
        default:
            return;
    }
}

function checkLimit(
    name: ResourceName,
    limit: ResourceField,
    mode: CpuLimitMode | undefined,
    tier: string | typeof UNKNOWN | undefined,
    problems: string[],
    kinds: Set<Problem>,
): void {
    const field = `resources.limits.${name}`;
    if (limit.state === "invalid") {
        problems.push(`${field} ${show(limit.raw)} ${limit.reason}`);
        kinds.add("invalid");
        return;
    }
    if (mode === "required") {
        if (limit.state === "missing") {
            problems.push(`${field} is not set`);
            kinds.add("unset");
        } else if (limit.state === "zero") {
            problems.push(`${field} is ${show(limit.raw)}, and zero counts as unset`);
            kinds.add("unset");
        }
    } else if (mode === "forbidden" && limit.state === "ok") {
        const scope = typeof tier === "string" ? `tier "${tier}"` : "this pack";
        problems.push(`${field} is set, but CPU limits are forbidden for ${scope}`);
        kinds.add("forbidden");
    }
}
