// probes-liveness-not-stricter-than-readiness.
//
// The rule: when liveness and readiness run the same check (same handler: exec argv, httpGet
// scheme/host/port/path/headers, tcpSocket host/port, grpc port/service; named ports resolved
// against the container's ports), liveness must give up strictly later than readiness:
//     liveness.failureThreshold × liveness.periodSeconds  >  readiness.failureThreshold × readiness.periodSeconds
// and its timeoutSeconds must not be shorter. Otherwise a transient failure (overload, a slow
// dependency) restarts the container at the moment it should only have left the Service
// endpoints. Identical probes fail the rule (kube-score's pod-probes-identical), but the same
// endpoint with a higher liveness failureThreshold or period passes, as the Kubernetes docs do and
// kube-score#339 asks. Different handlers pass: a cheap "process alive" liveness check next to a
// deeper readiness check is the recommended shape. Missing probes are required-probes' business.

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, describeContainer } from "../lib/containers";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { violation } from "../lib/messages";
import { validatePod } from "../lib/policy";
import { handlerKey, probeState, timing } from "../lib/probes";

export const NAME = "probes-liveness-not-stricter-than-readiness";

interface Config {
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

/** Liveness that runs readiness's check must tolerate failures for longer. */
export const probesLivenessNotStricterThanReadiness: ResourceValidationPolicy = {
    name: NAME,
    description:
        "When liveness and readiness use the same check, liveness tolerates failure strictly " +
        "longer (failureThreshold × periodSeconds) and has no shorter timeout.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema,
    remediationSteps:
        "Raise livenessProbe.failureThreshold (or periodSeconds) above readiness's, or give " +
        "liveness a cheaper check of its own.",
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            for (const c of containersOf(ctx.pod).containers) {
                if (c.cls === "ephemeral" || c.cls === "init" || ctx.containerExempt(c)) {
                    continue;
                }
                const readiness = probeState(c.value, "readinessProbe");
                const liveness = probeState(c.value, "livenessProbe");
                if (readiness.state !== "ok" || liveness.state !== "ok") {
                    continue;
                }
                if (readiness.handler !== liveness.handler) {
                    continue;
                }
                const rKey = handlerKey(readiness.probe, readiness.handler, c.value);
                const lKey = handlerKey(liveness.probe, liveness.handler, c.value);
                if (rKey === undefined || lKey === undefined || rKey !== lKey) {
                    continue;
                }
                const r = timings(readiness.probe);
                const l = timings(liveness.probe);
                if (r === undefined || l === undefined) {
                    continue;
                }
                const [rf, rp, rt] = r;
                const [lf, lp, lt] = l;
                const rWindow = rf * rp;
                const lWindow = lf * lp;
                const problems: string[] = [];
                if (lWindow <= rWindow) {
                    problems.push(
                        `livenessProbe runs the same ${liveness.handler} check as readinessProbe ` +
                            `and gives up after ${lf} × ${lp}s = ${lWindow}s, no later than ` +
                            `readiness (${rf} × ${rp}s = ${rWindow}s)`,
                    );
                }
                if (lt < rt) {
                    problems.push(
                        `livenessProbe runs the same ${liveness.handler} check as readinessProbe ` +
                            `with a shorter timeoutSeconds (${lt}s < ${rt}s)`,
                    );
                }
                if (problems.length > 0) {
                    ctx.report(
                        violation(
                            `${ctx.subject} ${describeContainer(c)}`,
                            problems,
                            "when the check fails under load or during a dependency blip, the " +
                                "kubelet restarts the container at the moment it should only " +
                                "have been taken out of the Service endpoints, turning a " +
                                "slowdown into a restart loop (and dropping live calls).",
                            "give livenessProbe a larger failureThreshold or periodSeconds than " +
                                "readinessProbe (e.g. failureThreshold 6 against 3) and a " +
                                "timeoutSeconds at least as long, or point liveness at a cheaper " +
                                "check that only proves the process is alive.",
                        ),
                    );
                }
            }
        }),
};

/** [failureThreshold, periodSeconds, timeoutSeconds] with defaults; undefined if unknown. */
function timings(probe: Record<string, unknown>): [number, number, number] | undefined {
    const f = timing(probe, "failureThreshold");
    const p = timing(probe, "periodSeconds");
    const t = timing(probe, "timeoutSeconds");
    return f === undefined || p === undefined || t === undefined ? undefined : [f, p, t];
}
