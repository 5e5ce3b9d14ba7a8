// required-probes: long-running app containers have a readiness and a liveness probe (and a
// startup probe when configured), each with a usable handler.
//
// Long-running: Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, and Pods
// whose restartPolicy is Always or unset. Jobs, CronJobs and run-once Pods are exempt from the
// requirement (Polaris/kube-score behaviour; kyverno/kyverno#1140). Whatever the kind:
//   - a probe object without a handler (exec, httpGet, tcpSocket, grpc) counts as missing, and one
//     the API would reject (two handlers, no port, empty command) is reported;
//   - a plain init container carrying a probe is reported (the API rejects it; Polaris#1120 and
//     kyverno/policies#1528 get this wrong); native sidecars may carry probes;
//   - ephemeral containers are ignored.

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { ContainerRef, describeContainer, containersOf } from "../lib/containers";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { capitalize, violation } from "../lib/messages";
import { validatePod } from "../lib/policy";
import { TIER_LABEL, isLongRunning, tierOf } from "../lib/podspec";
import { HANDLERS, PROBE_FIELDS, ProbeField, probeState } from "../lib/probes";
import { UNKNOWN } from "../lib/unknown";

export const NAME = "required-probes";

interface Config {
    requireStartupProbe: boolean;
    startupProbeTiers: string[];
    allowedHandlers: string[];
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        requireStartupProbe: {
            type: "boolean",
            default: false,
            description: "Also require a startupProbe on every long-running app container.",
        },
        startupProbeTiers: {
            type: "array",
            items: { type: "string" },
            default: [],
            description: `Tiers (pod label ${TIER_LABEL}) that need a startupProbe even when requireStartupProbe is false.`,
        },
        allowedHandlers: {
            type: "array",
            items: { type: "string", enum: [...HANDLERS] },
            default: [...HANDLERS],
            description: "Probe handlers that count (exec, httpGet, tcpSocket, grpc).",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const WHY_REQUIRED =
    "without readiness a Service sends traffic to a pod that cannot serve it (Nuve before " +
    "MongoDB answers, an ErizoController before RabbitMQ is up), and without liveness a hung " +
    "process stays in place forever; a startup probe keeps liveness from killing a slow start.";
const WHY_INIT =
    "the API server rejects probes on init containers unless restartPolicy is Always " +
    "(a native sidecar), so the deployment fails when it is applied.";
const WHY_INVALID = "the API server rejects a probe without exactly one complete handler.";

/** Long-running app containers have readiness and liveness probes with a handler. */
export const requiredProbes: ResourceValidationPolicy = {
    name: NAME,
    description:
        "Long-running app containers have readiness and liveness probes (startup probes by " +
        "config) with a real handler; plain init containers carry no probes; Jobs are exempt.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps:
        "Add readinessProbe and livenessProbe (exec, httpGet, tcpSocket or grpc) to every " +
        "long-running container; remove probes from plain init containers.",
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            const { pod, config } = ctx;
            const longRunning = isLongRunning(pod);
            const tier = tierOf(pod);
            const startupTiers = stringList(config.startupProbeTiers);
            const allowed = new Set(stringList(config.allowedHandlers));
            let needStartup: boolean | undefined = config.requireStartupProbe === true;
            if (!needStartup && startupTiers.length > 0) {
                needStartup =
                    tier === UNKNOWN
                        ? undefined
                        : tier !== undefined && startupTiers.includes(tier);
            }
            for (const c of containersOf(pod).containers) {
                if (c.cls === "ephemeral" || ctx.containerExempt(c)) {
                    continue;
                }
                const problems: string[] = [];
                const whys = new Set<string>();
                if (c.cls === "init") {
                    if (!c.classUnknown) {
                        checkInit(c, problems, whys);
                    }
                } else {
                    const required: ProbeField[] = [];
                    if (c.cls === "container" && longRunning === true) {
                        required.push("readinessProbe", "livenessProbe");
                        if (needStartup === true) {
                            required.push("startupProbe");
                        }
                    }
                    checkProbes(c, required, allowed, problems, whys);
                }
                if (problems.length > 0) {
                    const fix = [
                        whys.has(WHY_REQUIRED)
                            ? "Add the missing probes with a handler that proves the process " +
                              "serves (httpGet on a health path, tcpSocket on the serving port, " +
                              "or exec of a cheap client command); never a placeholder command."
                            : "",
                        whys.has(WHY_INVALID)
                            ? "Give each probe exactly one handler with its port or command."
                            : "",
                        whys.has(WHY_INIT)
                            ? "Remove the probes from the init container, or make it a native " +
                              "sidecar (restartPolicy: Always) if it must keep running."
                            : "",
                    ]
                        .filter((s) => s !== "")
                        .join(" ");
                    ctx.report(
                        violation(
                            `${ctx.subject} ${describeContainer(c)}`,
                            problems,
                            [...whys].map(capitalize).join(" "),
                            fix,
                        ),
                    );
                }
            }
        }),
};

function checkInit(c: ContainerRef, problems: string[], whys: Set<string>): void {
    for (const field of PROBE_FIELDS) {
        const value = c.value[field];
        if (value !== undefined && value !== null) {
            problems.push(`${field} is set on a plain init container`);
            whys.add(WHY_INIT);
        }
    }
}

function checkProbes(
    c: ContainerRef,
    required: ProbeField[],
    allowed: Set<string>,
    problems: string[],
    whys: Set<string>,
): void {
    for (const field of PROBE_FIELDS) {
        const state = probeState(c.value, field);
        const isRequired = required.includes(field);
        switch (state.state) {
            case "absent":
                if (isRequired) {
                    problems.push(`${field} is not set`);
                    whys.add(WHY_REQUIRED);
                }
                break;
            case "no-handler":
                problems.push(
                    `${field} has no handler (exec, httpGet, tcpSocket or grpc), so it counts ` +
                        "as missing",
                );
                if (isRequired) {
                    whys.add(WHY_REQUIRED);
                }
                whys.add(WHY_INVALID);
                break;
            case "invalid":
                problems.push(`${field} ${state.problem}`);
                whys.add(WHY_INVALID);
                break;
            case "ok":
                if (!allowed.has(state.handler)) {
                    problems.push(
                        `${field} uses ${state.handler}, which this pack's allowedHandlers ` +
                            `(${[...allowed].join(", ")}) does not accept`,
                    );
                    whys.add(WHY_REQUIRED);
                }
                break;
            default:
                break;
        }
    }
}
