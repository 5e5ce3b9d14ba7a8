/** Arguments every tier component takes. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedSecret } from "./generated-secret";
import { checksum } from "./meta";

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

/** A generated password, the Secret that carries it, and the checksum pods roll on. */
export interface GeneratedCredentials {
    readonly secret: k8s.core.v1.Secret;
    readonly username: string;
    readonly password: pulumi.Output<string>;
    /** Public sha256 of the credentials, for the pods' checksum annotation. */
    readonly checksum: pulumi.Output<string>;
}

/**
 * Generates a password once (kept in state across updates) and puts it with the username into an
 * autonamed Secret, so pods take it through secretKeyRef and never as a literal.
 */
export function generatedCredentials(
    name: string,
    username: string,
    namespace: pulumi.Input<string>,
    labels: Record<string, string>,
    parent: pulumi.Resource,
    options: { readonly protect?: boolean } = {},
): GeneratedCredentials {
    // Protected data needs its password kept too: the database only takes a password when it
    // first initialises, so a regenerated one could not open the kept data.
    const password = new GeneratedSecret(
        `${name}-password`,
        { format: "alphanumeric", length: 32 },
        { parent, protect: options.protect ?? false },
    );
    const secret = new k8s.core.v1.Secret(
        `${name}-credentials`,
        {
            metadata: { namespace, labels },
            type: "Opaque",
            stringData: { username, password: password.value },
        },
        { parent },
    );
    return {
        secret,
        username,
        password: password.value,
        checksum: publicChecksum(password.value.apply((value) => checksum({ username, value }))),
    };
}

/** An env var read from one key of a Secret. */
export function secretEnv(
    envName: string,
    secret: k8s.core.v1.Secret,
    key: string,
): k8s.types.input.core.v1.EnvVar {
    return { name: envName, valueFrom: { secretKeyRef: { name: secret.metadata.name, key } } };
}

/** A PodDisruptionBudget letting one pod of a replicated tier go at a time. */
export function onePodAtATime(
    name: string,
    namespace: pulumi.Input<string>,
    labels: Record<string, string>,
    selector: Record<string, string>,
    parent: pulumi.Resource,
): k8s.policy.v1.PodDisruptionBudget {
    return new k8s.policy.v1.PodDisruptionBudget(
        name,
        {
            metadata: { namespace, labels },
            spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        },
        { parent },
    );
}

/**
 * A NetworkPolicy selecting a tier's pods that admits TCP on `ports` from anywhere, or nothing at
 * all when `ports` is empty: pods on the pod network are then isolated, and only what they serve
 * is open.
 */
export function ingressOnly(
    name: string,
    namespace: pulumi.Input<string>,
    labels: Record<string, string>,
    selector: Record<string, string>,
    ports: readonly number[],
    parent: pulumi.Resource,
): k8s.networking.v1.NetworkPolicy {
    return new k8s.networking.v1.NetworkPolicy(
        name,
        {
            metadata: { namespace, labels },
            spec: {
                podSelector: { matchLabels: selector },
                policyTypes: ["Ingress"],
                ingress:
                    ports.length === 0
                        ? []
                        : [{ ports: ports.map((port) => ({ protocol: "TCP", port })) }],
            },
        },
        { parent },
    );
}
