// config-consumers-roll-on-change (stack policy): a pod template that reads a ConfigMap or Secret
// of this stack (volume, projected volume, envFrom, env valueFrom) must roll when that object's
// data changes. It does when either
//   - the pod template carries a checksum annotation (any key starting with "checksum/"), so a data
//     change changes the template; or
//   - the object is autonamed (no metadata.name in the program; the provider marks it with the
//     annotation pulumi.com/autonamed), so Pulumi replaces it under a new name on change and the
//     reference in the template changes. This does not hold when the object's provider sets
//     enableConfigMapMutable / enableSecretMutable: then the object is updated in place.
// Objects not in the stack (created elsewhere) are outside what Pulumi can roll and are skipped.
// Kinds: Deployment, StatefulSet and DaemonSet roll on a template change, and a Job is replaced
// (its template is immutable), so it runs again. A CronJob's next run reads the current data
// anyway; ReplicaSets and ReplicationControllers never roll; a bare Pod's annotations change in
// place without a restart. Configurable. A stack policy: it needs the workload and the object.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { containersOf } from "../lib/containers";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { violation } from "../lib/messages";
import { StackItem, stackContext } from "../lib/policy";
import { namespaceOf, sameNamespace } from "../lib/selectors";
import { Unknown, isObject, isUnknown, unwrap } from "../lib/unknown";

export const NAME = "config-consumers-roll-on-change";

interface Config {
    checksumPrefix: string;
    kinds: string[];
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        checksumPrefix: {
            type: "string",
            default: "checksum/",
            description: "Pod-template annotation keys with this prefix count as config checksums.",
        },
        kinds: {
            type: "array",
            items: { type: "string" },
            default: ["Deployment", "StatefulSet", "DaemonSet", "Job"],
            description: "Workload kinds checked (those a template change rolls or re-runs).",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap";
const SECRET_TYPE = "kubernetes:core/v1:Secret";
const AUTONAMED = "pulumi.com/autonamed";

type RefKind = "ConfigMap" | "Secret";

/** One reference from a pod template to a ConfigMap or Secret. */
export interface ConfigRef {
    readonly kind: RefKind;
    readonly name: string;
    /** Where, for messages: "volume config", "envFrom of container nuve". */
    readonly via: string;
}

/** Pod templates that read a named ConfigMap or Secret roll when its data changes. */
export const configConsumersRollOnChange: StackValidationPolicy = {
    name: NAME,
    description:
        "Pod templates that read a ConfigMap or Secret of the stack roll when its data changes: " +
        "a checksum/ annotation on the template, or an autonamed object.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema,
    remediationSteps:
        "Add a checksum/<name> annotation (sha256 of the data) to the pod template, or leave " +
        "the object's metadata.name unset so Pulumi autonames and replaces it.",
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const prefix =
            typeof ctx.config.checksumPrefix === "string" ? ctx.config.checksumPrefix : "checksum/";
        const kinds = stringList(ctx.config.kinds);
        const objects = ctx.items.filter(
            (i) => i.type === CONFIG_MAP_TYPE || i.type === SECRET_TYPE,
        );
        for (const item of ctx.items) {
            const pod = item.pod;
            if (pod === undefined || pod.patch || !kinds.includes(pod.workload.kind)) {
                continue;
            }
            const annotations = pod.templateMetadata.annotations;
            if (isUnknown(annotations)) {
                continue;
            }
            if (
                isObject(annotations) &&
                Object.keys(annotations).some((k) => k.startsWith(prefix))
            ) {
                continue;
            }
            const refs = configRefs(
                pod.spec,
                containersOf(pod).containers.map((c) => c.value),
            );
            if (refs.length === 0 || ctx.exempt(item)) {
                continue;
            }
            const ns = namespaceOf(pod.metadata, item.resource.provider);
            const problems: string[] = [];
            for (const ref of refs) {
                const target = findObject(objects, ref, ns);
                if (target === undefined) {
                    continue;
                }
                if (isAutonamed(target) && !isMutable(target, ref.kind)) {
                    continue;
                }
                const why = isAutonamed(target)
                    ? `is autonamed but its provider sets enable${ref.kind}Mutable, so it is updated in place`
                    : "has a fixed metadata.name, so it is updated in place";
                problems.push(`reads ${ref.kind} "${ref.name}" (${ref.via}), which ${why}`);
            }
            if (problems.length > 0) {
                ctx.report(
                    item,
                    violation(
                        `${item.subject} (${pod.metadataPath}.annotations has no ${prefix}* key)`,
                        problems,
                        "when the data changes, the pod template does not, so running pods " +
                            "keep the old configuration until someone restarts them by hand " +
                            "(the seed's `kubectl rollout restart` after every config edit).",
                        `add a pod-template annotation such as ${prefix}config: <sha256 of the ` +
                            "rendered data> (secret data may be hashed too: the hash reveals " +
                            "nothing), or leave the object's metadata.name unset so Pulumi " +
                            "autonames it and replaces it, with a new name, on every change.",
                    ),
                );
            }
        }
    },
};

/** The ConfigMaps and Secrets a pod spec reads, by name (unknown names are skipped). */
export function configRefs(
    spec: Record<string, unknown>,
    containers: Record<string, unknown>[],
): ConfigRef[] {
    const refs: ConfigRef[] = [];
    const add = (kind: RefKind, name: unknown, via: string): void => {
        if (typeof name === "string" && name !== "" && !isUnknown(name)) {
            refs.push({ kind, name, via });
        }
    };
    for (const volume of list(spec.volumes)) {
        const vname = `volume "${String(volume.name)}"`;
        if (isObject(volume.configMap)) {
            add("ConfigMap", volume.configMap.name, vname);
        }
        if (isObject(volume.secret)) {
            add("Secret", volume.secret.secretName, vname);
        }
        if (isObject(volume.projected)) {
            for (const source of list(volume.projected.sources)) {
                if (isObject(source.configMap)) {
                    add("ConfigMap", source.configMap.name, `projected ${vname}`);
                }
                if (isObject(source.secret)) {
                    add("Secret", source.secret.name, `projected ${vname}`);
                }
            }
        }
    }
    for (const c of containers) {
        const cname = `container "${String(c.name)}"`;
        for (const from of list(c.envFrom)) {
            if (isObject(from.configMapRef)) {
                add("ConfigMap", from.configMapRef.name, `envFrom of ${cname}`);
            }
            if (isObject(from.secretRef)) {
                add("Secret", from.secretRef.name, `envFrom of ${cname}`);
            }
        }
        for (const env of list(c.env)) {
            const valueFrom = env.valueFrom;
            if (!isObject(valueFrom)) {
                continue;
            }
            const via = `env ${String(env.name)} of ${cname}`;
            if (isObject(valueFrom.configMapKeyRef)) {
                add("ConfigMap", valueFrom.configMapKeyRef.name, via);
            }
            if (isObject(valueFrom.secretKeyRef)) {
                add("Secret", valueFrom.secretKeyRef.name, via);
            }
        }
    }
    return refs;
}

function list(value: unknown): Record<string, unknown>[] {
    return Array.isArray(value) ? value.filter(isObject) : [];
}

// The stack's object the reference resolves to. Undefined when it is not in the stack, or when a
// name or namespace unknown during preview leaves it open (then we cannot say, and skip).
function findObject(
    objects: StackItem[],
    ref: ConfigRef,
    ns: string | Unknown,
): StackItem | undefined {
    const type = ref.kind === "ConfigMap" ? CONFIG_MAP_TYPE : SECRET_TYPE;
    const found: StackItem[] = [];
    for (const o of objects) {
        if (o.type !== type) {
            continue;
        }
        const name = o.metadata.name;
        if (isUnknown(name)) {
            return undefined;
        }
        const physical = typeof name === "string" ? name : o.resource.name;
        if (physical !== ref.name) {
            continue;
        }
        const same = sameNamespace(ns, namespaceOf(o.metadata, o.resource.provider));
        if (same === "unknown") {
            return undefined;
        }
        if (same) {
            found.push(o);
        }
    }
    return found[0];
}

// Autonamed: no name in the program's inputs, or the provider's annotation. Unknown counts as
// autonamed, so that an unknown value never produces a violation.
function isAutonamed(o: StackItem): boolean {
    const name = o.metadata.name;
    if (name === undefined || name === null || name === "") {
        return true;
    }
    const annotations = o.metadata.annotations;
    if (isUnknown(annotations)) {
        return true;
    }
    const flag = isObject(annotations) ? annotations[AUTONAMED] : undefined;
    return flag === "true" || isUnknown(flag);
}

// The provider updates the object in place (enableConfigMapMutable / enableSecretMutable).
function isMutable(o: StackItem, kind: RefKind): boolean {
    const provider = o.resource.provider;
    if (provider === undefined) {
        return false;
    }
    const flag = unwrap(provider.props)[`enable${kind}Mutable`];
    return flag === true || flag === "true";
}
