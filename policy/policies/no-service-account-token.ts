// no-service-account-token (stack policy): pods that do not call the Kubernetes API get no
// service-account token. The kubelet mounts one (/var/run/secrets/kubernetes.io/serviceaccount)
// unless the pod sets automountServiceAccountToken: false, or leaves it unset and its
// ServiceAccount (spec.serviceAccountName, "default" when unset) sets false. The pod's field wins
// over the ServiceAccount's, so `true` on the pod mounts a token whatever the ServiceAccount says;
// a ServiceAccount that is not in the stack (the namespace's "default") mounts one. A projected
// volume with a serviceAccountToken source mounts a token whatever automount says. Tiers that do
// call the API are allow-listed. A stack policy: it needs the pod and its ServiceAccount.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { show, violation } from "../lib/messages";
import { StackItem, stackContext } from "../lib/policy";
import { PodTemplate, TIER_LABEL, tierOf } from "../lib/podspec";
import { namespaceOf } from "../lib/selectors";
import { findNamed } from "../lib/services";
import { UNKNOWN, isObject, isUnknown, readPath } from "../lib/unknown";

export const NAME = "no-service-account-token";

interface Config {
    allowedTiers: string[];
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        allowedTiers: {
            type: "array",
            items: { type: "string" },
            default: [],
            description: `Tiers (pod label ${TIER_LABEL}) that call the Kubernetes API and so need a token.`,
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const SERVICE_ACCOUNT_TYPE = "kubernetes:core/v1:ServiceAccount";

const WHY =
    "whoever takes a process that holds a token can call the Kubernetes API as the pod's " +
    "ServiceAccount (list Secrets, reach the API server from inside the cluster); no Licode tier " +
    "calls the API, so the token is only attack surface.";
const FIX =
    "set automountServiceAccountToken: false in the pod template (in this program every pod " +
    "gets it from POD_DEFAULTS), or on a ServiceAccount of the stack that the pod names; remove " +
    "projected serviceAccountToken sources. A tier that does call the API goes in this policy's " +
    "allowedTiers.";

/** Pods that do not call the API mount no service-account token. */
export const noServiceAccountToken: StackValidationPolicy = {
    name: NAME,
    description:
        "Pods mount no service-account token (automountServiceAccountToken: false on the pod, " +
        "or on its ServiceAccount in the stack), except tiers allow-listed as API callers.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema,
    remediationSteps: FIX,
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const allowed = stringList(ctx.config.allowedTiers);
        const accounts = ctx.items.filter((i) => i.type === SERVICE_ACCOUNT_TYPE);
        for (const item of ctx.items) {
            const pod = item.pod;
            if (pod === undefined) {
                continue;
            }
            const tier = tierOf(pod);
            if (
                allowed.length > 0 &&
                (tier === UNKNOWN || (tier !== undefined && allowed.includes(tier)))
            ) {
                continue;
            }
            if (ctx.exempt(item)) {
                continue;
            }
            const problems = [...automountProblems(item, pod, accounts), ...projectedTokens(pod)];
            if (problems.length > 0) {
                ctx.report(
                    item,
                    violation(
                        `${item.subject} (${pod.specPath}.automountServiceAccountToken)`,
                        problems,
                        WHY,
                        FIX,
                    ),
                );
            }
        }
    },
};

function automountProblems(item: StackItem, pod: PodTemplate, accounts: StackItem[]): string[] {
    const automount = pod.spec.automountServiceAccountToken;
    if (isUnknown(automount) || automount === false) {
        return [];
    }
    if (automount !== undefined && automount !== null) {
        return [`automountServiceAccountToken is ${show(automount)}, so a token is mounted`];
    }
    // A patch that leaves the field out leaves it as it is.
    if (pod.patch) {
        return [];
    }
    const named = pod.spec.serviceAccountName ?? pod.spec.serviceAccount;
    if (isUnknown(named)) {
        return [];
    }
    const name = typeof named === "string" && named !== "" ? named : "default";
    const ns = namespaceOf(pod.metadata, item.resource.provider);
    const account = findNamed(accounts, name, ns);
    if (account === UNKNOWN) {
        return [];
    }
    if (account === undefined) {
        const where = typeof ns === "string" ? ` (namespace "${ns}")` : "";
        return [
            `automountServiceAccountToken is not set, and its ServiceAccount "${name}" is not ` +
                `in this stack${where}, so nothing stops the token being mounted`,
        ];
    }
    const flag = account.props.automountServiceAccountToken;
    if (isUnknown(flag) || flag === false) {
        return [];
    }
    return [
        `automountServiceAccountToken is not set, and its ServiceAccount "${name}" sets ` +
            `automountServiceAccountToken ${flag === undefined || flag === null ? "nowhere" : `to ${show(flag)}`}`,
    ];
}

function projectedTokens(pod: PodTemplate): string[] {
    const volumes = pod.spec.volumes;
    if (!Array.isArray(volumes)) {
        return [];
    }
    const out: string[] = [];
    volumes.forEach((v: unknown, i: number) => {
        const sources = readPath(v, "projected", "sources");
        if (!Array.isArray(sources)) {
            return;
        }
        if (
            sources.some(
                (s: unknown) =>
                    isObject(s) &&
                    s.serviceAccountToken !== undefined &&
                    s.serviceAccountToken !== null,
            )
        ) {
            const name = isObject(v) && typeof v.name === "string" ? ` "${v.name}"` : "";
            out.push(`volumes[${i}]${name} projects a service-account token`);
        }
    });
    return out;
}
