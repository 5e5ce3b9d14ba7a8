// Container taxonomy, which every anchor gets wrong somewhere (policy-anchors.md §4):
//   - app containers (`containers`): resources and probes;
//   - native sidecars (`initContainers` with `restartPolicy: Always`, Kubernetes ≥1.29): they run
//     for the pod's life, so they need resources and may carry probes;
//   - plain init containers: resources only; the API rejects probes on them;
//   - ephemeral containers (`kubectl debug`): the API forbids resources and probes, never checked.

import { PodTemplate } from "./podspec";
import { isObject, isUnknown } from "./unknown";

/** The class of a container within its pod. */
export type ContainerClass = "container" | "init" | "sidecar" | "ephemeral";

/** One container of a pod template. */
export interface ContainerRef {
    readonly cls: ContainerClass;
    /** The container's name; undefined when it is missing or unknown. */
    readonly name: string | undefined;
    /** For init containers: true when `restartPolicy` is unknown, so it may be a sidecar. */
    readonly classUnknown: boolean;
    /** "spec.template.spec.initContainers[1]", for messages. */
    readonly path: string;
    readonly value: Record<string, unknown>;
}

/** The containers of a pod template; `complete` is false when a list or an entry is unknown. */
export interface ContainerList {
    readonly containers: ContainerRef[];
    readonly complete: boolean;
}

const LISTS: ReadonlyArray<readonly [string, ContainerClass]> = [
    ["initContainers", "init"],
    ["containers", "container"],
    ["ephemeralContainers", "ephemeral"],
];

/** Lists the pod's containers, in the order the kubelet starts them (init first). */
export function containersOf(pod: PodTemplate): ContainerList {
    const containers: ContainerRef[] = [];
    let complete = true;
    for (const [field, baseClass] of LISTS) {
        const list = pod.spec[field];
        if (isUnknown(list)) {
            complete = false;
            continue;
        }
        if (!Array.isArray(list)) {
            continue;
        }
        list.forEach((value: unknown, index: number) => {
            if (!isObject(value)) {
                if (isUnknown(value)) {
                    complete = false;
                }
                return;
            }
            let cls = baseClass;
            let classUnknown = false;
            if (baseClass === "init") {
                if (isUnknown(value.restartPolicy)) {
                    classUnknown = true;
                } else if (value.restartPolicy === "Always") {
                    cls = "sidecar";
                }
            }
            const name =
                typeof value.name === "string" && !isUnknown(value.name) ? value.name : undefined;
            containers.push({
                cls,
                name,
                classUnknown,
                path: `${pod.specPath}.${field}[${index}]`,
                value,
            });
        });
    }
    return { containers, complete };
}

/** "container", "init container", "sidecar container", "ephemeral container". */
export function classLabel(cls: ContainerClass): string {
    switch (cls) {
        case "container":
            return "container";
        case "init":
            return "init container";
        case "sidecar":
            return "sidecar container";
        case "ephemeral":
            return "ephemeral container";
        default:
            return "container";
    }
}

/** `container "nuve" (spec.template.spec.containers[0])`. */
export function describeContainer(c: ContainerRef): string {
    const name = c.name === undefined ? "<unnamed>" : `"${c.name}"`;
    return `${classLabel(c.cls)} ${name} (${c.path})`;
}
