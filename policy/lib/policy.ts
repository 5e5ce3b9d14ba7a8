// Scaffolding shared by the policies: finding the pod template, reading config with defaults,
// applying exemptions, and walking the pods of a stack.

import type {
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import { readConfig } from "./config";
import { ContainerRef, containersOf } from "./containers";
import { Exemptions } from "./exemptions";
import { PodTemplate, describeResource, podTemplateOf, resourceNames } from "./podspec";
import { isUnknown, unwrap } from "./unknown";

/** Everything a pod-level check needs. */
export interface PodContext<C> {
    readonly pod: PodTemplate;
    readonly config: C;
    /** `Deployment "licode-nuve"`. */
    readonly subject: string;
    readonly report: (message: string) => void;
    /** True when a valid exemption covers this container (skip it). */
    readonly containerExempt: (c: ContainerRef) => boolean;
}

/**
 * Runs `check` on the pod template of a resource. Resources that carry no pod template are
 * marked not applicable; a template that is unknown during preview, or an exempt resource, is
 * skipped. Invalid exemptions naming the resource are reported.
 */
export function validatePod<C extends { exemptions?: unknown }>(
    policyName: string,
    schema: PolicyConfigSchema,
    args: ResourceValidationArgs,
    reportViolation: ReportViolation,
    check: (ctx: PodContext<C>) => void,
): void {
    const props = unwrap(args.props);
    const lookup = podTemplateOf(args.type, props);
    if (lookup.status === "not-a-workload") {
        args.notApplicable(`${args.type} carries no pod template`);
    }
    if (lookup.status !== "found") {
        return;
    }
    const pod = lookup.pod;
    const config = readConfig<C>(args, schema);
    const exemptions = new Exemptions(config.exemptions);
    const names = resourceNames(args.name, pod.metadata);
    const report = (message: string): void => reportViolation(message);
    for (const problem of exemptions.problems(names, policyName, imagesOf(pod))) {
        report(problem);
    }
    if (exemptions.covers(names)) {
        return;
    }
    check({
        pod,
        config,
        subject: describeResource(pod.kind, args.name, pod.metadata),
        report,
        containerExempt: (c) => {
            // A container whose name is unknown during preview might be the exempt one.
            if (c.name === undefined && isUnknown(c.value.name)) {
                return exemptions.namesAnyContainer(names, c.value.image);
            }
            return c.name !== undefined && exemptions.covers(names, c.name, c.value.image);
        },
    });
}

/** A stack resource with its props unwrapped and its pod template, if any. */
export interface StackItem {
    readonly resource: PolicyResource;
    readonly type: string;
    readonly props: Record<string, unknown>;
    readonly metadata: Record<string, unknown>;
    readonly pod: PodTemplate | undefined;
    /** True when the pod template is unknown during preview. */
    readonly podUnknown: boolean;
    readonly names: string[];
    readonly subject: string;
}

/** Unwraps every resource of the stack once. */
export function stackItems(args: StackValidationArgs): StackItem[] {
    return args.resources.map((resource) => {
        const props = unwrap(resource.props);
        const lookup = podTemplateOf(resource.type, props);
        const pod = lookup.status === "found" ? lookup.pod : undefined;
        const rawMeta = props.metadata;
        const metadata =
            pod?.metadata ??
            (isUnknown(rawMeta)
                ? { name: rawMeta, namespace: rawMeta, labels: rawMeta, annotations: rawMeta }
                : typeof rawMeta === "object" && rawMeta !== null && !Array.isArray(rawMeta)
                  ? (rawMeta as Record<string, unknown>)
                  : {});
        const kind = pod?.kind ?? resource.type.split(":").pop() ?? resource.type;
        return {
            resource,
            type: resource.type,
            props,
            metadata,
            pod,
            podUnknown: lookup.status === "unknown",
            names: resourceNames(resource.name, metadata),
            subject: describeResource(kind, resource.name, metadata),
        };
    });
}

/** Config, exemptions and a reporter for a stack policy. */
export interface StackContext<C> {
    readonly config: C;
    readonly items: StackItem[];
    /** Reports exemption problems for the item; returns true when the item is exempt. */
    readonly exempt: (item: StackItem) => boolean;
    readonly report: (item: StackItem, message: string) => void;
}

/** Prepares a stack policy run. */
export function stackContext<C extends { exemptions?: unknown }>(
    policyName: string,
    schema: PolicyConfigSchema,
    args: StackValidationArgs,
    reportViolation: ReportViolation,
): StackContext<C> {
    const config = readConfig<C>(args, schema);
    const exemptions = new Exemptions(config.exemptions);
    const report = (item: StackItem, message: string): void =>
        reportViolation(message, item.resource.urn);
    return {
        config,
        items: stackItems(args),
        report,
        exempt: (item) => {
            const images = item.pod === undefined ? [] : imagesOf(item.pod);
            for (const problem of exemptions.problems(item.names, policyName, images)) {
                report(item, problem);
            }
            return exemptions.covers(item.names);
        },
    };
}

// The image fields of a pod's containers, for exemptions limited to an image.
function imagesOf(pod: PodTemplate): unknown[] {
    return containersOf(pod).containers.map((c) => c.value.image);
}
