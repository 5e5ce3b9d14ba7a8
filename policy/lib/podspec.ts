// Where the pod template lives in each pod-bearing Kubernetes resource, by Pulumi type token.
//
// The pack does not depend on @pulumi/kubernetes: resources are matched by their type string
// ("kubernetes:apps/v1:Deployment"), so it also sees objects rendered from YAML or Helm, and the
// `*Patch` kinds (server-side-apply patches), which may or may not carry a pod template.

import { UNKNOWN, Unknown, isObject, isUnknown } from "./unknown";

/** How a workload's pods run, which decides whether they need probes. */
export type RunMode = "long-running" | "run-once" | "by-restart-policy";

/** One pod-bearing kind. */
export interface WorkloadKind {
    /** The Kubernetes kind, e.g. "Deployment" (without "Patch"). */
    readonly kind: string;
    /** Path from the resource to the pod template ({ metadata, spec }); empty for Pod. */
    readonly templatePath: readonly string[];
    readonly runMode: RunMode;
    /** True when the kind has `spec.replicas`. */
    readonly replicated: boolean;
}

const POD: WorkloadKind = {
    kind: "Pod",
    templatePath: [],
    runMode: "by-restart-policy",
    replicated: false,
};
const template = ["spec", "template"];
const controller = (kind: string, replicated: boolean): WorkloadKind => ({
    kind,
    templatePath: template,
    runMode: "long-running",
    replicated,
});
const JOB: WorkloadKind = {
    kind: "Job",
    templatePath: template,
    runMode: "run-once",
    replicated: false,
};
const CRON_JOB: WorkloadKind = {
    kind: "CronJob",
    templatePath: ["spec", "jobTemplate", "spec", "template"],
    runMode: "run-once",
    replicated: false,
};

const byGroupVersion: Record<string, WorkloadKind[]> = {
    "core/v1": [POD, controller("ReplicationController", true)],
    "apps/v1": [
        controller("Deployment", true),
        controller("StatefulSet", true),
        controller("DaemonSet", false),
        controller("ReplicaSet", true),
    ],
    "apps/v1beta1": [controller("Deployment", true), controller("StatefulSet", true)],
    "apps/v1beta2": [
        controller("Deployment", true),
        controller("StatefulSet", true),
        controller("DaemonSet", false),
        controller("ReplicaSet", true),
    ],
    "extensions/v1beta1": [
        controller("Deployment", true),
        controller("DaemonSet", false),
        controller("ReplicaSet", true),
    ],
    "batch/v1": [JOB, CRON_JOB],
    "batch/v1beta1": [CRON_JOB],
    "batch/v2alpha1": [CRON_JOB],
};

/** A pod-bearing kind as registered under one type token. */
export type WorkloadType = WorkloadKind & { readonly patch: boolean };

/** Pulumi type token → kind, for every pod-bearing kind and its Patch variant. */
export const WORKLOAD_TYPES: ReadonlyMap<string, WorkloadType> = new Map(
    Object.entries(byGroupVersion).flatMap(([gv, kinds]) =>
        kinds.flatMap((k): Array<[string, WorkloadType]> => [
            [`kubernetes:${gv}:${k.kind}`, { ...k, patch: false }],
            [`kubernetes:${gv}:${k.kind}Patch`, { ...k, patch: true }],
        ]),
    ),
);

/** A pod template found in a resource, with the paths used in messages. */
export interface PodTemplate {
    readonly type: string;
    readonly kind: string;
    readonly patch: boolean;
    readonly workload: WorkloadType;
    /** The resource's own metadata. */
    readonly metadata: Record<string, unknown>;
    /** The pod template's metadata (the resource's metadata for a Pod). */
    readonly templateMetadata: Record<string, unknown>;
    /** The pod spec. */
    readonly spec: Record<string, unknown>;
    /** "spec.template.spec" and the like, for messages. */
    readonly specPath: string;
    /** "spec.template.metadata" and the like, for messages. */
    readonly metadataPath: string;
}

/** The result of looking for a pod template. */
export type PodLookup =
    | { status: "not-a-workload" }
    | { status: "no-template" }
    | { status: "unknown" }
    | { status: "found"; pod: PodTemplate };

/** Finds the pod template of a resource by its type. */
export function podTemplateOf(type: string, props: Record<string, unknown>): PodLookup {
    const workload = WORKLOAD_TYPES.get(type);
    if (!workload) {
        return { status: "not-a-workload" };
    }
    let node: unknown = props;
    for (const key of workload.templatePath) {
        if (isUnknown(node)) {
            return { status: "unknown" };
        }
        if (!isObject(node)) {
            return { status: "no-template" };
        }
        node = node[key];
    }
    if (isUnknown(node)) {
        return { status: "unknown" };
    }
    if (!isObject(node)) {
        return { status: "no-template" };
    }
    const spec = node.spec;
    if (isUnknown(spec)) {
        return { status: "unknown" };
    }
    if (!isObject(spec)) {
        return { status: "no-template" };
    }
    const base = workload.templatePath.join(".");
    const prefix = base === "" ? "" : `${base}.`;
    return {
        status: "found",
        pod: {
            type,
            kind: workload.kind + (workload.patch ? "Patch" : ""),
            patch: workload.patch,
            workload,
            metadata: objectOrEmpty(props.metadata),
            templateMetadata: objectOrEmpty(node.metadata),
            spec,
            specPath: `${prefix}spec`,
            metadataPath: `${prefix}metadata`,
        },
    };
}

/**
 * Whether the pod runs until stopped (and so needs probes). Pods decide by restartPolicy:
 * Always or unset is long-running; Never and OnFailure run once. "unknown" during preview.
 */
export function isLongRunning(pod: PodTemplate): boolean | Unknown {
    switch (pod.workload.runMode) {
        case "long-running":
            return true;
        case "run-once":
            return false;
        default: {
            const policy = pod.spec.restartPolicy;
            if (isUnknown(policy)) {
                return UNKNOWN;
            }
            return policy === undefined || policy === null || policy === "Always";
        }
    }
}

/** A string label of the pod template (or, failing that, of the resource). */
export function podLabel(pod: PodTemplate, key: string): string | Unknown | undefined {
    for (const meta of [pod.templateMetadata, pod.metadata]) {
        const labels = meta.labels;
        if (isUnknown(labels)) {
            return UNKNOWN;
        }
        if (isObject(labels) && Object.hasOwn(labels, key)) {
            const value = labels[key];
            if (isUnknown(value)) {
                return UNKNOWN;
            }
            return typeof value === "string" ? value : undefined;
        }
    }
    return undefined;
}

/** The tier label used to key per-tier settings. */
export const TIER_LABEL = "app.kubernetes.io/name";

/** The pod's tier (`app.kubernetes.io/name`), UNKNOWN during preview, or undefined. */
export function tierOf(pod: PodTemplate): string | Unknown | undefined {
    return podLabel(pod, TIER_LABEL);
}

/** The resource names an exemption may use: the Pulumi name and metadata.name. */
export function resourceNames(pulumiName: string, metadata: Record<string, unknown>): string[] {
    const names = [pulumiName];
    const physical = metadata.name;
    if (typeof physical === "string" && !isUnknown(physical) && physical !== pulumiName) {
        names.push(physical);
    }
    return names;
}

/** `Deployment "licode-nuve"`: the kind and the most specific known name. */
export function describeResource(
    kind: string,
    pulumiName: string,
    metadata: Record<string, unknown>,
): string {
    const physical = metadata.name;
    const name = typeof physical === "string" && !isUnknown(physical) ? physical : pulumiName;
    return `${kind} "${name}"`;
}

/** The kind from a Pulumi type token: "kubernetes:apps/v1:Deployment" → "Deployment". */
export function kindOf(type: string): string {
    const parts = type.split(":");
    return parts[parts.length - 1];
}

// An unknown metadata object reads as unknown fields, so label and name lookups report "unknown".
function objectOrEmpty(value: unknown): Record<string, unknown> {
    if (isUnknown(value)) {
        return { name: value, namespace: value, labels: value, annotations: value };
    }
    return isObject(value) ? value : {};
}
