/** Pieces every tier's config uses: names, quantities, resources, images, replicas, selectors. */
import { z } from "zod";
import { isQuantity, parseQuantity } from "../quantity";

/**
 * The shortest grace period a drain can work in: it ends only after no client has been connected
 * for longer than a dropped client may take to reconnect (30-40 s), and keeps 15 s to stop.
 */
export const MIN_GRACE_PERIOD_SECONDS = 60;

/** A tier's termination grace period in seconds, long enough for its drain. */
export const gracePeriod = (tier: string) =>
    z
        .number()
        .int()
        .min(
            MIN_GRACE_PERIOD_SECONDS,
            `a ${tier} drain waits until no call has been in progress for up to 40 s after the last one ends, and needs 15 s to stop; set at least ${MIN_GRACE_PERIOD_SECONDS}`,
        )
        .max(86400);

/** The resources every tier sets requests and limits for. */
export const RESOURCE_NAMES = ["cpu", "memory", "ephemeralStorage"] as const;

/** Kubernetes forbids media ranges that collide with the ports kube-proxy opens on every node. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** A Kubernetes object name that must be a DNS-1123 label. */
export const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS name, as Kubernetes checks it (DNS-1123 subdomain). */
export const DNS_1123_SUBDOMAIN =
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A dotted-quad IPv4 address. */
export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** An IPv4 range in CIDR notation. */
export const CIDR =
    /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;
/** An image digest. */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** An image tag, as the OCI distribution spec allows it. */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A label key: an optional DNS prefix and a name. */
export const LABEL_KEY =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A label value (may be empty). */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** A name that must be a DNS-1123 label; `what` names it in the message. */
export const dns1123Label = (what: string) =>
    z
        .string()
        .max(63, `${what} must be at most 63 characters (a DNS-1123 label)`)
        .regex(
            DNS_1123_LABEL,
            `${what} must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
        );

/** A Kubernetes quantity, as a string or a number; `what` names it in the message. */
export const quantity = (what: string) =>
    z
        .union([z.string(), z.number()])
        .refine(isQuantity, {
            message: `${what} is not a Kubernetes quantity; write it like "250m", "0.5", "512Mi" or "2Gi"`,
        })
        .transform((value) => String(value));

/** A non-empty node selector. */
export const nodeSelector = z
    .record(
        z.string().regex(LABEL_KEY, "node selector keys must be valid label keys"),
        z.string().regex(LABEL_VALUE, "node selector values must be valid label values"),
    )
    .refine((value) => Object.keys(value).length > 0, {
        message: "a node selector needs at least one label, or every node would match",
    });

/** A UDP port range for media: unprivileged, ordered, clear of the NodePort range. */
export const portRange = z
    .strictObject({
        min: z.number().int(),
        max: z.number().int(),
    })
    .superRefine((range, ctx) => {
        for (const end of ["min", "max"] as const) {
            if (range[end] < 1024 || range[end] > 65535) {
                ctx.addIssue({
                    code: "custom",
                    path: [end],
                    message: `the UDP port range must lie within 1024-65535 (ports below 1024 are privileged); set ${end} inside it`,
                });
            }
        }
        if (range.min > range.max) {
            ctx.addIssue({
                code: "custom",
                path: [],
                message: `the range is reversed (min ${range.min} > max ${range.max}); swap min and max`,
            });
        }
        if (range.min <= NODE_PORT_RANGE.max && range.max >= NODE_PORT_RANGE.min) {
            ctx.addIssue({
                code: "custom",
                path: [],
                message: `the range overlaps the Kubernetes NodePort range ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max} that kube-proxy holds on every node; move it, e.g. to 40000-40999`,
            });
        }
    });

/** Requests or limits: any of cpu, memory and ephemeral storage. */
export const resourcePair = z.strictObject({
    cpu: quantity("cpu").optional(),
    memory: quantity("memory").optional(),
    ephemeralStorage: quantity("ephemeralStorage").optional(),
});

/** A tier's requests and limits as the stack gives them; each limit at least its request. */
export const resources = z
    .strictObject({
        requests: resourcePair.optional(),
        limits: resourcePair.optional(),
    })
    .superRefine((value, ctx) => {
        for (const resource of RESOURCE_NAMES) {
            const request = value.requests?.[resource];
            const limit = value.limits?.[resource];
            if (request === undefined || limit === undefined) {
                continue;
            }
            const requested = parseQuantity(request);
            const limited = parseQuantity(limit);
            if (requested !== undefined && limited !== undefined && limited < requested) {
                ctx.addIssue({
                    code: "custom",
                    path: ["limits", resource],
                    message: `the limit is below the request (${request}); the API server rejects such pods, so raise the limit to at least the request`,
                });
            }
        }
    });

/** The parts of an image a stack may override. */
export const imageOverride = z.strictObject({
    repository: z.string().min(1, "the image repository must not be empty").optional(),
    tag: z
        .string()
        .regex(TAG, "an image tag is up to 128 letters, digits, '_', '.' or '-'")
        .optional(),
    digest: z
        .string()
        .regex(DIGEST, 'an image digest looks like "sha256:" followed by 64 hex characters')
        .optional(),
    pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional(),
    pullSecret: dns1123Label("the pull secret name").optional(),
});

/** A replica count. */
export const replicas = z
    .number()
    .int("replicas must be a whole number")
    .min(0, "replicas cannot be negative; use 0 to scale the tier down");

/** The keys every tier accepts: replicas, resources and image. */
export const tier = z.strictObject({
    replicas: replicas.optional(),
    resources: resources.optional(),
    image: imageOverride.optional(),
});

/** `auto` asks the cluster whether it serves the API; true and false decide without asking. */
export const apiSwitch = z.union([z.literal("auto"), z.boolean()], {
    error: 'set "auto" (create it when the cluster serves the CRD), true or false',
});

/** A map of labels; `what` names it in the message. */
export const labels = (what: string) =>
    z.record(
        z.string().regex(LABEL_KEY, `${what} keys must be valid label keys`),
        z.string().regex(LABEL_VALUE, `${what} values must be valid label values`),
    );

/** One container image, fully resolved. */
export interface ImageRef {
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
    readonly pullPolicy: "Always" | "IfNotPresent" | "Never";
    readonly pullSecret?: string;
}

/** CPU, memory and ephemeral-storage quantities, every field set. */
export interface ResourceQuantities {
    readonly cpu: string;
    readonly memory: string;
    readonly ephemeralStorage: string;
}

/** Requests and limits, every field set. */
export interface Resources {
    readonly requests: ResourceQuantities;
    readonly limits: ResourceQuantities;
}

/** Settings common to every tier after defaults are applied. */
export interface TierConfig {
    readonly replicas: number;
    readonly resources: Resources;
    readonly image: ImageRef;
}
