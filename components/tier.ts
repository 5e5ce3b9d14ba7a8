/** Arguments every tier component takes. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
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

/**
 * A password generated once and kept in the stack's state as a secret: 32 letters and digits, so
 * it needs no escaping in URLs or config files. It changes only when its keepers change.
 */
export function generatedPassword(
    name: string,
    parent: pulumi.Resource,
    options: { readonly protect?: boolean; readonly keepers?: Record<string, string> } = {},
): pulumi.Output<string> {
    return new random.RandomPassword(
        name,
        { length: 32, special: false, keepers: options.keepers },
        { parent, protect: options.protect ?? false },
    ).result;
}

/** A user's credentials, the Secret and keys pods read them from, and the checksum pods roll on. */
export interface Credentials {
    readonly username: pulumi.Output<string>;
    readonly password: pulumi.Output<string>;
    readonly secretName: pulumi.Output<string>;
    readonly usernameKey: string;
    readonly passwordKey: string;
    /** Public sha256 of the credentials, for the pods' checksum annotation. */
    readonly checksum: pulumi.Output<string>;
}

/** Credentials the stack generated, with the Secret it made for them. */
export interface GeneratedCredentials extends Credentials {
    readonly secret: k8s.core.v1.Secret;
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
    const password = generatedPassword(`${name}-password`, parent, {
        protect: options.protect ?? false,
    });
    const secret = new k8s.core.v1.Secret(
        `${name}-credentials`,
        {
            metadata: { namespace, labels },
            type: "Opaque",
            stringData: { username, password },
        },
        { parent },
    );
    return {
        secret,
        username: pulumi.output(username),
        password,
        secretName: secret.metadata.name,
        usernameKey: "username",
        passwordKey: "password",
        checksum: publicChecksum(password.apply((value) => checksum({ username, value }))),
    };
}

/** A Secret the operator keeps, and which of its keys hold what. */
export interface ExistingSecret<F extends string> {
    /** The Secret's name, in the stack's namespace. */
    readonly name: string;
    /** The key holding each value. */
    readonly keys: Readonly<Record<F, string>>;
    /** The config key that names it, e.g. `licode:mongodb.existingSecret`, for messages. */
    readonly configKey: string;
}

/**
 * Reads an operator's Secret from the cluster (also during preview) and returns the values of its
 * keys, as a Pulumi secret. A missing Secret fails with the provider's "not found"; a missing key
 * fails with its name and the config key to fix.
 */
export function existingSecretValues<F extends string>(
    resourceName: string,
    namespace: pulumi.Input<string>,
    existing: ExistingSecret<F>,
    parent: pulumi.Resource,
): pulumi.Output<Record<F, string>> {
    const secret = k8s.core.v1.Secret.get(
        resourceName,
        pulumi.interpolate`${namespace}/${existing.name}`,
        { parent },
    );
    return pulumi.secret(
        secret.data.apply((data) => decodeSecretKeys(data ?? {}, existing)),
    ) as pulumi.Output<Record<F, string>>;
}

/**
 * The values of `existing`'s keys in a Secret's `data` (base64). Throws, naming every missing key
 * and the config key to fix, when a key is absent.
 */
export function decodeSecretKeys<F extends string>(
    data: Readonly<Record<string, string>>,
    existing: ExistingSecret<F>,
): Record<F, string> {
    const values = {} as Record<F, string>;
    const missing: string[] = [];
    for (const [field, key] of Object.entries(existing.keys) as [F, string][]) {
        const encoded = data[key];
        if (encoded === undefined) {
            missing.push(`"${key}" (${field})`);
        } else {
            values[field] = Buffer.from(encoded, "base64").toString("utf8");
        }
    }
    if (missing.length > 0) {
        throw new Error(
            `${existing.configKey}: Secret "${existing.name}" has no key ${missing.join(", ")}; add the key to the Secret, or set ${existing.configKey}.<field>Key to the key that holds it`,
        );
    }
    return values;
}

/** Credentials from an operator's Secret: pods read them from it directly. */
export function existingCredentials(
    resourceName: string,
    namespace: pulumi.Input<string>,
    existing: ExistingSecret<"username" | "password">,
    parent: pulumi.Resource,
): Credentials {
    const values = existingSecretValues(resourceName, namespace, existing, parent);
    return {
        username: values.apply((v) => v.username),
        password: values.apply((v) => v.password),
        secretName: pulumi.output(existing.name),
        usernameKey: existing.keys.username,
        passwordKey: existing.keys.password,
        checksum: publicChecksum(values.apply((v) => checksum(v))),
    };
}

/** An env var read from one key of a Secret. */
export function secretEnv(
    envName: string,
    secretName: pulumi.Input<string>,
    key: string,
): k8s.types.input.core.v1.EnvVar {
    return { name: envName, valueFrom: { secretKeyRef: { name: secretName, key } } };
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

type IngressRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;
type EgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;

/** Every pod may look names up: DNS on port 53, wherever the cluster's resolver runs. */
const DNS_EGRESS: EgressRule = {
    ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
    ],
};

/** An egress rule: TCP to `port` of the pods `selector` selects in the namespace. */
export function egressToPods(selector: Record<string, string>, port: number): EgressRule {
    return { to: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port }] };
}

/**
 * A NetworkPolicy that isolates a tier's pods both ways: only `ingress` may connect to them, and
 * they may connect only to `egress` (and DNS). An empty `ingress` admits nothing.
 */
export function isolate(
    name: string,
    namespace: pulumi.Input<string>,
    labels: Record<string, string>,
    selector: Record<string, string>,
    traffic: { readonly ingress: IngressRule[]; readonly egress: EgressRule[] },
    parent: pulumi.Resource,
): k8s.networking.v1.NetworkPolicy {
    return new k8s.networking.v1.NetworkPolicy(
        name,
        {
            metadata: { namespace, labels },
            spec: {
                podSelector: { matchLabels: selector },
                policyTypes: ["Ingress", "Egress"],
                ingress: traffic.ingress,
                egress: [DNS_EGRESS, ...traffic.egress],
            },
        },
        { parent },
    );
}
