/** Arguments every tier component takes. */
import * as pulumi from "@pulumi/pulumi";

/** Where a tier lives and how its objects are labelled. */
export interface TierArgs {
    /** Namespace for the tier's objects. Required. */
    readonly namespace: pulumi.Input<string>;
    /** Value of `app.kubernetes.io/instance`, e.g. `licode-prod`. Required. */
    readonly instance: string;
}

/** A Service's in-cluster DNS name, resolvable from host-network pods with ClusterFirstWithHostNet. */
export function serviceHost(
    name: pulumi.Input<string>,
    namespace: pulumi.Input<string>,
): pulumi.Output<string> {
    return pulumi.interpolate`${name}.${namespace}.svc`;
}

/** The pod-template annotation that rolls pods when the data it summarises changes. */
export function checksumAnnotation(
    key: string,
    sum: pulumi.Input<string>,
): Record<string, pulumi.Input<string>> {
    return { [`checksum/${key}`]: sum };
}

/**
 * Makes a checksum of secret data safe to show: a sha256 reveals nothing of its input, and a
 * secret-tainted annotation would hide from diffs the very reason a rollout happens.
 */
export function publicChecksum(sum: pulumi.Output<string>): pulumi.Output<string> {
    return pulumi.unsecret(sum);
}
