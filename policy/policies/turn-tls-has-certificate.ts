// turn-tls-has-certificate (stack policy): a coturn configuration that keeps its TLS listener (it
// does not set no-tls) names a certificate and a key (cert, pkey), and every workload that runs it
// mounts a Secret where those files are. coturn starts without them and only logs that it cannot
// start TLS listeners (mainrelay.c at 4.6.1: "cannot start TLS and DTLS listeners because
// certificate file is not set properly"), so clients on port 443 find nothing to talk to.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { violation } from "../lib/messages";
import { stackContext } from "../lib/policy";
import { mountersOf, turnConfs } from "../lib/turn";
import { containsUnknown, isObject } from "../lib/unknown";

export const NAME = "turn-tls-has-certificate";

interface Config {
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: { exemptions: EXEMPTIONS_SCHEMA },
};

const WHY =
    "without a certificate coturn starts anyway, logs that it cannot start its TLS listener, and " +
    "clients behind firewalls that pass only TLS on 443 (turns: in their iceServers) fail to " +
    "connect, with nothing in the deployment showing it.";
const FIX =
    "set licode:turn.tls (a kubernetes.io/tls Secret, or certManager to have one issued), which " +
    "renders cert and pkey and mounts the Secret; or set no-tls and drop the turns: URL.";

/** The directory part of a path. */
function dirOf(file: string): string {
    const i = file.lastIndexOf("/");
    return i <= 0 ? "/" : file.slice(0, i);
}

/** A TLS listener comes with its certificate. */
export const turnTlsHasCertificate: StackValidationPolicy = {
    name: NAME,
    description:
        "A coturn configuration with a TLS listener (no no-tls) names cert and pkey, and the " +
        "workloads that run it mount a Secret at their directory.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps: FIX,
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        for (const found of turnConfs(ctx.items)) {
            if (found.conf.flag("no-tls") || ctx.exempt(found.item)) {
                continue;
            }
            const subject = `${found.item.subject} (${found.key})`;
            const files = ["cert", "pkey"].map((option) => [option, found.conf.value(option)]);
            const missing = files.filter(([, file]) => file === undefined || file === "");
            if (missing.length > 0) {
                ctx.report(
                    found.item,
                    violation(
                        subject,
                        [
                            `it keeps a TLS listener (no no-tls) but sets no ${missing.map(([o]) => o).join(" and no ")}`,
                        ],
                        WHY,
                        FIX,
                    ),
                );
                continue;
            }
            const dirs = [...new Set(files.map(([, file]) => dirOf(file as string)))];
            for (const { item, podSpec } of mountersOf(ctx.items, found)) {
                // A volume or mount unknown during preview may be the one: judge at up.
                if (containsUnknown(podSpec.volumes) || containsUnknown(podSpec.containers)) {
                    continue;
                }
                const secretVolumes = new Set(
                    (Array.isArray(podSpec.volumes) ? podSpec.volumes : [])
                        .filter((v) => isObject(v) && isObject(v.secret))
                        .map((v) => (v as Record<string, unknown>).name),
                );
                const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
                const mounted = (dir: string) =>
                    containers.some(
                        (c) =>
                            isObject(c) &&
                            Array.isArray(c.volumeMounts) &&
                            c.volumeMounts.some(
                                (m) =>
                                    isObject(m) &&
                                    secretVolumes.has(m.name) &&
                                    typeof m.mountPath === "string" &&
                                    (dir === m.mountPath || dir.startsWith(`${m.mountPath}/`)),
                            ),
                    );
                const unmounted = dirs.filter((dir) => !mounted(dir));
                if (unmounted.length > 0) {
                    ctx.report(
                        item,
                        violation(
                            `${item.subject}`,
                            [
                                `it runs the TLS listener of ${subject}, but no container mounts a Secret at ${unmounted.join(", ")}, where cert and pkey point`,
                            ],
                            WHY,
                            FIX,
                        ),
                    );
                }
            }
        }
    },
};
