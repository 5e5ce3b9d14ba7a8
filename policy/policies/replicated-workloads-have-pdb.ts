// replicated-workloads-have-pdb (stack policy): every replicated Deployment, StatefulSet or
// ReplicaSet (replicas ≥ minReplicas, 2 by default; or scaled by an HPA whose maxReplicas reaches
// it) is selected by exactly one PodDisruptionBudget of the stack in the same namespace, and that
// PDB leaves room for at least one voluntary disruption.
//
// Selection uses full label-selector semantics (matchLabels AND matchExpressions with In, NotIn,
// Exists, DoesNotExist; an empty selector selects every pod of the namespace in policy/v1 and none
// in policy/v1beta1), not Polaris's "any one label in common". Two PDBs over one pod make the
// eviction API refuse every eviction of it. A PDB with maxUnavailable 0 / "0%", or minAvailable
// at or above the replica count (percentages rounded up, as the disruption controller does), blocks
// node drains.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { show, violation } from "../lib/messages";
import { StackItem, stackContext } from "../lib/policy";
import { Tri, labelSelectorMatches, namespaceOf, sameNamespace } from "../lib/selectors";
import { isObject, isUnknown } from "../lib/unknown";

export const NAME = "replicated-workloads-have-pdb";

interface Config {
    minReplicas: number;
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        minReplicas: {
            type: "integer",
            minimum: 2,
            default: 2,
            description: "Workloads with at least this many replicas need a PodDisruptionBudget.",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const REPLICATED_KINDS = new Set(["Deployment", "StatefulSet", "ReplicaSet"]);
const PDB_TYPES = new Map([
    ["kubernetes:policy/v1:PodDisruptionBudget", true],
    ["kubernetes:policy/v1beta1:PodDisruptionBudget", false],
]);
const HPA_TYPE = /^kubernetes:autoscaling\/v[^:]+:HorizontalPodAutoscaler$/;

/** Replicated workloads are selected by one PDB that allows disruptions. */
export const replicatedWorkloadsHavePdb: StackValidationPolicy = {
    name: NAME,
    description:
        "Each replicated Deployment, StatefulSet or ReplicaSet is selected by exactly one " +
        "PodDisruptionBudget in its namespace, and that PDB allows at least one disruption.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema,
    remediationSteps:
        "Add a PodDisruptionBudget (maxUnavailable: 1) whose selector matches the pod " +
        "template labels, in the same namespace.",
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const minReplicas = typeof ctx.config.minReplicas === "number" ? ctx.config.minReplicas : 2;
        const pdbs = ctx.items.filter((i) => PDB_TYPES.has(i.type));
        const hpas = ctx.items.filter((i) => HPA_TYPE.test(i.type));
        for (const item of ctx.items) {
            const pod = item.pod;
            if (pod === undefined || pod.patch || !REPLICATED_KINDS.has(pod.workload.kind)) {
                continue;
            }
            const scale = replicaCount(item, hpas);
            if (scale === undefined || scale.max < minReplicas) {
                continue;
            }
            if (ctx.exempt(item)) {
                continue;
            }
            const ns = namespaceOf(pod.metadata, item.resource.provider);
            const labels = pod.templateMetadata.labels;
            const selecting: StackItem[] = [];
            let open = false;
            for (const pdb of pdbs) {
                const spec = pdb.props.spec;
                const sameNs = sameNamespace(ns, namespaceOf(pdb.metadata, pdb.resource.provider));
                const match: Tri =
                    sameNs === false
                        ? false
                        : isUnknown(spec)
                          ? "unknown"
                          : labelSelectorMatches(
                                isObject(spec) ? spec.selector : undefined,
                                labels,
                                PDB_TYPES.get(pdb.type),
                            );
                if (match === "unknown" || (match === true && sameNs === "unknown")) {
                    open = true;
                } else if (match === true) {
                    selecting.push(pdb);
                }
            }
            const nsText = typeof ns === "string" ? `namespace "${ns}"` : "its namespace";
            const replicasText = scale.hpa
                ? `scales to ${scale.max} replicas (HorizontalPodAutoscaler)`
                : `has ${scale.max} replicas`;
            if (selecting.length === 0) {
                if (!open) {
                    ctx.report(
                        item,
                        violation(
                            `${item.subject} (${pod.metadataPath}.labels)`,
                            [
                                `${replicasText} but no PodDisruptionBudget in ${nsText} selects its pods`,
                            ],
                            "without a PDB a node drain or cluster upgrade may evict every " +
                                "replica at once, and the tier goes down although it runs " +
                                "several copies.",
                            "add a policy/v1 PodDisruptionBudget in the same namespace with " +
                                "maxUnavailable: 1 and a selector equal to the workload's " +
                                "selector labels.",
                        ),
                    );
                }
                continue;
            }
            if (selecting.length > 1) {
                ctx.report(
                    item,
                    violation(
                        `${item.subject} (${pod.metadataPath}.labels)`,
                        [
                            `its pods are selected by ${selecting.length} PodDisruptionBudgets ` +
                                `(${selecting.map((p) => p.subject).join(", ")})`,
                        ],
                        "the eviction API refuses to evict a pod covered by more than one PDB, " +
                            "so node drains hang on these pods.",
                        "keep one PodDisruptionBudget per workload; narrow the other selectors.",
                    ),
                );
                continue;
            }
            const block = blocksAllDisruptions(selecting[0], scale.min);
            if (block !== undefined) {
                ctx.report(
                    item,
                    violation(
                        `${item.subject}`,
                        [`its PodDisruptionBudget ${selecting[0].subject} ${block}`],
                        "a PDB that allows zero disruptions blocks every node drain and " +
                            "cluster upgrade until someone deletes it by hand.",
                        "use maxUnavailable: 1 (or a minAvailable below the replica count).",
                    ),
                );
            }
        }
    },
};

/** Replicas now (min) and at most (max); undefined when unknown during preview. */
function replicaCount(
    item: StackItem,
    hpas: StackItem[],
): { min: number; max: number; hpa: boolean } | undefined {
    const spec = item.props.spec;
    if (!isObject(spec) || isUnknown(spec.replicas)) {
        return undefined;
    }
    const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
    const ns = namespaceOf(item.metadata, item.resource.provider);
    const name = item.metadata.name;
    for (const hpa of hpas) {
        const hspec = hpa.props.spec;
        if (!isObject(hspec) || !isObject(hspec.scaleTargetRef)) {
            continue;
        }
        const ref = hspec.scaleTargetRef;
        const sameNs = sameNamespace(ns, namespaceOf(hpa.metadata, hpa.resource.provider));
        if (ref.kind !== item.pod?.workload.kind || ref.name !== name || sameNs !== true) {
            continue;
        }
        if (isUnknown(hspec.minReplicas) || isUnknown(hspec.maxReplicas)) {
            return undefined;
        }
        const min = typeof hspec.minReplicas === "number" ? hspec.minReplicas : 1;
        const max = typeof hspec.maxReplicas === "number" ? hspec.maxReplicas : min;
        return { min, max, hpa: true };
    }
    return { min: replicas, max: replicas, hpa: false };
}

// Why the PDB allows no voluntary disruption of a workload with `replicas` pods, or undefined.
function blocksAllDisruptions(pdb: StackItem, replicas: number): string | undefined {
    const spec = pdb.props.spec;
    if (!isObject(spec)) {
        return undefined;
    }
    const { maxUnavailable, minAvailable } = spec;
    if (isUnknown(maxUnavailable) || isUnknown(minAvailable)) {
        return undefined;
    }
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
        const allowed = scaled(maxUnavailable, replicas);
        return allowed === 0 ? `sets maxUnavailable ${show(maxUnavailable)}` : undefined;
    }
    // Neither set: the API defaults minAvailable to 1.
    const min = minAvailable === undefined || minAvailable === null ? 1 : minAvailable;
    const required = scaled(min, replicas);
    return required !== undefined && required >= replicas
        ? `sets minAvailable ${show(min)} with ${replicas} replicas`
        : undefined;
}

// An int-or-percent against a replica count; percentages round up (intstr, roundUp = true).
function scaled(value: unknown, replicas: number): number | undefined {
    if (typeof value === "number") {
        return value;
    }
    if (typeof value === "string") {
        const m = /^(\d+)%$/.exec(value);
        if (m) {
            return Math.ceil((Number(m[1]) * replicas) / 100);
        }
        if (/^\d+$/.test(value)) {
            return Number(value);
        }
    }
    return undefined;
}
