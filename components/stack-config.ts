/**
 * The typed stack configuration: one schema gives the types, the defaults, the validation and the
 * error messages. Stack files set keys under `licode:`; `parseStackConfig` turns them into a
 * `StackConfig` or throws a `ConfigError` that lists every problem at once.
 */
import { isIP } from "net";
import { z } from "zod";
import { isQuantity, parseQuantity } from "./quantity";

/** In `erizoController.hostname`, stands for the name of the node each controller runs on. */
export const NODE_NAME_PLACEHOLDER = "{nodeName}";

/**
 * The shortest grace period a drain can work in: it ends only after no client has been connected
 * for longer than a dropped client may take to reconnect (30-40 s), and keeps 15 s to stop.
 */
export const MIN_GRACE_PERIOD_SECONDS = 60;

const gracePeriod = (tier: string) =>
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

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const CIDR =
    /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const LABEL_KEY =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

const dns1123Label = (what: string) =>
    z
        .string()
        .max(63, `${what} must be at most 63 characters (a DNS-1123 label)`)
        .regex(
            DNS_1123_LABEL,
            `${what} must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
        );

const quantity = (what: string) =>
    z
        .union([z.string(), z.number()])
        .refine(isQuantity, {
            message: `${what} is not a Kubernetes quantity; write it like "250m", "0.5", "512Mi" or "2Gi"`,
        })
        .transform((value) => String(value));

const nodeSelector = z
    .record(
        z.string().regex(LABEL_KEY, "node selector keys must be valid label keys"),
        z.string().regex(LABEL_VALUE, "node selector values must be valid label values"),
    )
    .refine((value) => Object.keys(value).length > 0, {
        message: "a node selector needs at least one label, or every node would match",
    });

const portRange = z
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

const resourcePair = z.strictObject({
    cpu: quantity("cpu").optional(),
    memory: quantity("memory").optional(),
    ephemeralStorage: quantity("ephemeralStorage").optional(),
});

const resources = z
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

const imageOverride = z.strictObject({
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

const replicas = z
    .number()
    .int("replicas must be a whole number")
    .min(0, "replicas cannot be negative; use 0 to scale the tier down");

const tier = z.strictObject({
    replicas: replicas.optional(),
    resources: resources.optional(),
    image: imageOverride.optional(),
});

const ingress = z.discriminatedUnion(
    "mode",
    [
        z.strictObject({
            mode: z.literal("nodePort"),
            nodePort: z
                .number()
                .int()
                .min(
                    NODE_PORT_RANGE.min,
                    `nodePort must lie within ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
                )
                .max(
                    NODE_PORT_RANGE.max,
                    `nodePort must lie within ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
                )
                .optional(),
        }),
        z.strictObject({
            mode: z.literal("ingress"),
            className: dns1123Label("the ingress class name"),
            host: z
                .string()
                .max(253)
                .regex(
                    DNS_1123_SUBDOMAIN,
                    "the ingress host must be a DNS name such as nuve.example.com",
                ),
            tlsSecret: dns1123Label("the TLS secret name").optional(),
            annotations: z.record(z.string(), z.string()).optional(),
        }),
    ],
    { error: 'ingress.mode must be "nodePort" or "ingress"' },
);

/** A host the kubelet can mount NFS from: an IPv4 or IPv6 address, or a DNS name. */
function isHost(value: string): boolean {
    if (isIP(value) !== 0) {
        return true;
    }
    // Digits and dots that are no IPv4 address are a mistyped address, not a DNS name.
    return !/^[\d.]+$/.test(value) && value.length <= 253 && DNS_1123_SUBDOMAIN.test(value);
}

const absolutePath = (what: string) =>
    z
        .string()
        .refine((path) => path.startsWith("/"), {
            message: `${what} must be an absolute path starting with "/"`,
        })
        .refine((path) => !path.split("/").includes(".."), {
            message: `${what} must not contain ".." segments`,
        });

const dataProtection = z.enum(["none", "protect", "retainOnDelete"]);

const storage = z.discriminatedUnion(
    "kind",
    [
        z.strictObject({
            kind: z.literal("nfs"),
            server: z
                .string()
                .min(1, "the NFS server is required: set storage.server to its address or DNS name")
                .refine(isHost, {
                    message:
                        "the NFS server must be an IPv4 address (192.168.94.40), an IPv6 address (fd00::40) or a DNS name (nfs.example.com)",
                }),
            path: absolutePath("the NFS export path").default("/nfs_mongodb/mongodb"),
            size: quantity("the volume size").default("10Gi"),
            reclaimPolicy: z.enum(["Retain", "Delete"]).default("Retain"),
            dataProtection: dataProtection.default("none"),
        }),
        z.strictObject({
            kind: z.literal("hostPath"),
            path: absolutePath("the host path"),
            node: z
                .string()
                .max(253)
                .regex(
                    DNS_1123_SUBDOMAIN,
                    "set storage.node to the name of the node that holds the directory (kubectl get nodes), so MongoDB always returns to its data",
                ),
            size: quantity("the volume size").default("10Gi"),
            dataProtection: dataProtection.default("none"),
        }),
        z.strictObject({
            kind: z.literal("storageClass"),
            className: z.string().optional(),
            size: quantity("the volume size").default("10Gi"),
            dataProtection: dataProtection.default("none"),
        }),
        z.strictObject({
            kind: z.literal("external"),
            url: z
                .string()
                .regex(
                    /^mongodb(\+srv)?:\/\/.+/,
                    'the external MongoDB URL must start with "mongodb://" or "mongodb+srv://"',
                ),
        }),
    ],
    { error: 'storage.kind must be one of "nfs", "hostPath", "storageClass" or "external"' },
);

const publicAddress = z.discriminatedUnion(
    "from",
    [
        z.strictObject({
            from: z.literal("interface"),
            interface: z
                .string()
                .regex(
                    /^[A-Za-z0-9_.:-]{1,15}$/,
                    "a network interface name is 1-15 characters, e.g. eth0",
                ),
        }),
        z.strictObject({ from: z.literal("nodeIP") }),
        z.strictObject({
            from: z.literal("static"),
            ip: z.string().regex(IPV4, "the static public address must be an IPv4 address"),
        }),
    ],
    { error: 'publicAddress.from must be "interface", "nodeIP" or "static"' },
);

const mediaPool = z.strictObject({
    name: dns1123Label("the media pool name").max(40, "a media pool name is at most 40 characters"),
    nodeSelector,
    portRange,
});

const media = z
    .strictObject({
        portRange: portRange.default({ min: 40000, max: 40999 }),
        nodeSelector: nodeSelector.default({ "licode.io/media": "true" }),
        pools: z.array(mediaPool).min(1, "pools, when set, needs at least one pool").optional(),
        gracePeriodSeconds: gracePeriod("media").default(1800),
        maxUnavailable: z
            .number()
            .int()
            .min(1, "maxUnavailable must be at least 1 or a media rollout never progresses")
            .default(1),
        updateStrategy: z.enum(["RollingUpdate", "OnDelete"]).default("RollingUpdate"),
        rolloutNodes: z
            .number()
            .int()
            .min(1, "rolloutNodes is the most media nodes in one pool; at least 1")
            .default(4),
    })
    .superRefine((value, ctx) => {
        const pools = value.pools ?? [];
        const seen = new Map<string, number>();
        pools.forEach((pool, index) => {
            const first = seen.get(pool.name);
            if (first !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["pools", index, "name"],
                    message: `pool name "${pool.name}" is already used by media.pools[${first}]; give each pool its own name`,
                });
            }
            seen.set(pool.name, index);
            for (let other = 0; other < index; other++) {
                const a = pools[other].portRange;
                const b = pool.portRange;
                if (b.min <= a.max && b.max >= a.min) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["pools", index, "portRange"],
                        message: `overlaps media.pools[${other}] (${a.min}-${a.max}); pools on shared nodes would fight for ports, so give each pool its own range`,
                    });
                }
            }
        });
    });

const erizoController = tier
    .extend({
        nodeSelector: nodeSelector.default({ "licode.io/signalling": "true" }),
        gracePeriodSeconds: gracePeriod("signalling").default(1800),
        maxSurge: z.number().int().min(0).default(1),
        maxUnavailable: z.number().int().min(0).default(0),
        port: z.number().int().min(1024).max(65535).default(8080),
        hostname: z
            .string()
            .refine(
                (name) => DNS_1123_SUBDOMAIN.test(name.replace(NODE_NAME_PLACEHOLDER, "node")),
                {
                    message: `the hostname must be a DNS name, optionally with ${NODE_NAME_PLACEHOLDER} for each controller's node, e.g. ${NODE_NAME_PLACEHOLDER}.signalling.example.com`,
                },
            )
            .optional(),
        ssl: z.boolean().optional(),
        tls: z
            .strictObject({
                secretName: dns1123Label("the signalling TLS secret name"),
            })
            .optional(),
    })
    .superRefine((value, ctx) => {
        if (value.tls !== undefined && value.hostname === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["hostname"],
                message: `TLS needs the name on the certificate: set hostname, e.g. ${NODE_NAME_PLACEHOLDER}.signalling.example.com with a certificate for *.signalling.example.com; browsers refuse a certificate that does not name the host they connect to`,
            });
        }
        if (value.tls !== undefined && value.ssl === false) {
            ctx.addIssue({
                code: "custom",
                path: ["ssl"],
                message:
                    "the controller serves TLS (tls is set) but would tell clients to connect without it; remove ssl or set it true",
            });
        }
        if (
            value.hostname !== undefined &&
            !value.hostname.includes(NODE_NAME_PLACEHOLDER) &&
            (value.replicas ?? DEFAULT_REPLICAS.erizoController) > 1
        ) {
            ctx.addIssue({
                code: "custom",
                path: ["hostname"],
                message: `every controller would give clients the same hostname, but each room lives on one controller; put ${NODE_NAME_PLACEHOLDER} in it (one DNS name per signalling node), or run one controller`,
            });
        }
        if (value.maxSurge === 0 && value.maxUnavailable === 0) {
            ctx.addIssue({
                code: "custom",
                path: ["maxSurge"],
                message:
                    "maxSurge and maxUnavailable cannot both be 0, or a rollout can never start; keep maxSurge 1 (needs a spare signalling node) or set maxUnavailable 1",
            });
        }
    });

const recordingVolume = z.discriminatedUnion(
    "kind",
    [
        z.strictObject({
            kind: z.literal("emptyDir"),
            sizeLimit: quantity("the recordings' sizeLimit").default("1Gi"),
        }),
        z.strictObject({
            kind: z.literal("claim"),
            claimName: dns1123Label("the recordings claim name"),
        }),
    ],
    { error: 'erizoAgent.recordings.kind must be "emptyDir" or "claim"' },
);

const erizoAgent = tier
    .extend({
        maxProcesses: z.number().int().min(1).default(1),
        prerunProcesses: z
            .number()
            .int()
            .min(
                1,
                "prerunProcesses must be at least 1: with 0 the agent starts no ErizoJS ahead of a call, so the first call on a node waits for a worker and the readiness probe has no worker to judge the pool by",
            )
            .default(1),
        recordings: recordingVolume.default({ kind: "emptyDir", sizeLimit: "1Gi" }),
    })
    .superRefine((value, ctx) => {
        if (value.prerunProcesses > value.maxProcesses) {
            ctx.addIssue({
                code: "custom",
                path: ["prerunProcesses"],
                message: `the agent never runs more than maxProcesses (${value.maxProcesses}) workers; set prerunProcesses at most ${value.maxProcesses}, or raise maxProcesses`,
            });
        }
    });

/**
 * The Secrets the stack itself makes are autonamed `<name>-<7 hex>`; naming one of them (or the
 * name they start from) as an operator's Secret would tie the stack to an object it replaces.
 */
const GENERATED_SECRET =
    /^(licode-config|superservice|mongodb-credentials|rabbitmq-credentials|rabbitmq-drain-credentials|rabbitmq-definitions)(-[0-9a-f]{7,8})?$/;

const secretKey = (what: string) =>
    z
        .string()
        .regex(
            /^[-._a-zA-Z0-9]+$/,
            `${what} must be a Secret key: letters, digits, '-', '_' or '.'`,
        );

/** `{ name, <field>Key... }`: an operator's Secret in the stack's namespace, and its keys. */
const existingSecret = <F extends string>(fields: Record<F, string>) =>
    z.strictObject({
        name: z
            .string()
            .max(253)
            .regex(DNS_1123_SUBDOMAIN, "a Secret name is a DNS-1123 subdomain, e.g. mongodb-root")
            .refine((name) => !GENERATED_SECRET.test(name), {
                message:
                    "this is the name of a Secret the stack generates (and replaces); give your own Secret another name",
            }),
        ...(Object.fromEntries(
            Object.entries(fields).map(([field, key]) => [
                `${field}Key`,
                secretKey(`${field}Key`).default(key as string),
            ]),
        ) as Record<`${F}Key`, z.ZodDefault<z.ZodString>>),
    });

const userSecret = existingSecret({ username: "username", password: "password" });

const mongodb = tier.extend({
    existingSecret: userSecret.optional(),
    replicas: replicas
        .max(
            1,
            "MongoDB runs as a single member here (Nuve's store); set 1 (or 0 to stop it), or use storage.kind: external for a replica set",
        )
        .optional(),
});

const networkPolicy = z
    .strictObject({
        enabled: z.boolean().default(true),
        nodeCidrs: z.array(z.string().regex(CIDR, "node CIDRs look like 10.0.0.0/16")).default([]),
    })
    .superRefine((value, ctx) => {
        if (value.enabled && value.nodeCidrs.length === 0) {
            ctx.addIssue({
                code: "custom",
                path: ["nodeCidrs"],
                message:
                    'list the node address ranges, e.g. ["10.0.0.0/16"]: ErizoController and ErizoAgent use the host network, so RabbitMQ sees them at node addresses; or set networkPolicy.enabled: false',
            });
        }
    });

const rabbitmq = tier.extend({
    replicas: replicas
        .max(
            1,
            "RabbitMQ runs as a single broker here (Licode's queues are transient); set 1 (or 0 to stop it)",
        )
        .optional(),
    management: z.boolean().default(false),
    existingSecret: userSecret.optional(),
});

/** `auto` asks the cluster whether it serves the API; true and false decide without asking. */
const apiSwitch = z.union([z.literal("auto"), z.boolean()], {
    error: 'set "auto" (create it when the cluster serves the CRD), true or false',
});

const labels = (what: string) =>
    z.record(
        z.string().regex(LABEL_KEY, `${what} keys must be valid label keys`),
        z.string().regex(LABEL_VALUE, `${what} values must be valid label values`),
    );

const PROMETHEUS_DURATION = /^([0-9]+(ms|s|m|h))+$/;

const metrics = z
    .strictObject({
        enabled: z.boolean().default(false),
        statsPeriod: z
            .number()
            .int()
            .min(
                5,
                "statsPeriod is in seconds; ROV queries every tier each period, so keep it at 5 or more",
            )
            .max(
                3600,
                "statsPeriod is in seconds (licode_config.js's config.rov.statsPeriod is in milliseconds: 20000 there is 20 here); set at most 3600",
            )
            .default(20),
        serviceMonitor: apiSwitch.default("auto"),
        prometheusRule: apiSwitch.default("auto"),
        dashboard: z.boolean().default(true),
        labels: labels("metrics.labels").default({}),
        scrapeInterval: z
            .string()
            .regex(PROMETHEUS_DURATION, 'a Prometheus duration, e.g. "30s" or "1m"')
            .default("30s"),
        scraper: z
            .strictObject({
                podLabels: labels("metrics.scraper.podLabels")
                    .refine((value) => Object.keys(value).length > 0, {
                        message:
                            'name the scraper\'s pod labels, e.g. {"app.kubernetes.io/name": "prometheus"}; an empty selector would admit every pod',
                    })
                    .default({ "app.kubernetes.io/name": "prometheus" }),
                namespaceLabels: labels("metrics.scraper.namespaceLabels").optional(),
            })
            .default({ podLabels: { "app.kubernetes.io/name": "prometheus" } }),
        alerts: z
            .strictObject({
                failedConnectionsPerPeriod: z.number().min(0).default(5),
                roomsPerControllerRatio: z
                    .number()
                    .gt(0, "a fraction of limit_n_rooms, e.g. 0.8")
                    .max(1, "a fraction of limit_n_rooms, at most 1")
                    .default(0.8),
            })
            .default({ failedConnectionsPerPeriod: 5, roomsPerControllerRatio: 0.8 }),
        resources: resources.optional(),
        image: imageOverride.optional(),
    })
    .superRefine((value, ctx) => {
        if (!value.enabled && (value.serviceMonitor === true || value.prometheusRule === true)) {
            ctx.addIssue({
                code: "custom",
                path: ["enabled"],
                message:
                    "serviceMonitor or prometheusRule is true, but metrics are off: set enabled: true, or leave those keys at auto",
            });
        }
    });

const iceServer = z.strictObject({
    urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    username: z.string().optional(),
    credential: z.string().optional(),
});

/** The schema of every `licode:` key. */
export const configSchema = z.strictObject({
    namespace: dns1123Label("the namespace").default("licode"),
    logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
    image: imageOverride.default({}),
    ingress: ingress.default({ mode: "nodePort" }),
    storage: storage.default({ kind: "storageClass", size: "10Gi", dataProtection: "none" }),
    publicAddress: publicAddress.default({ from: "interface", interface: "eth0" }),
    media: media.default({
        portRange: { min: 40000, max: 40999 },
        nodeSelector: { "licode.io/media": "true" },
        gracePeriodSeconds: 1800,
        maxUnavailable: 1,
        updateStrategy: "RollingUpdate",
        rolloutNodes: 4,
    }),
    iceServers: z.array(iceServer).default([{ urls: "stun:stun.l.google.com:19302" }]),
    nuve: tier.default({}),
    erizoController: erizoController.default({
        nodeSelector: { "licode.io/signalling": "true" },
        gracePeriodSeconds: 1800,
        maxSurge: 1,
        maxUnavailable: 0,
        port: 8080,
    }),
    erizoAgent: erizoAgent.default({
        maxProcesses: 1,
        prerunProcesses: 1,
        recordings: { kind: "emptyDir", sizeLimit: "1Gi" },
    }),
    mongodb: mongodb.default({}),
    rabbitmq: rabbitmq.default({ management: false }),
    bootstrap: z.strictObject({ resources: resources.optional() }).default({}),
    superservice: z
        .strictObject({
            keyGeneration: z.number().int().min(1).default(1),
            existingSecret: existingSecret({ id: "id", key: "key" }).optional(),
        })
        .default({ keyGeneration: 1 }),
    createNamespace: z.boolean().default(true),
    networkPolicy: networkPolicy.prefault({}),
    metrics: metrics.prefault({}),
    renderYamlToDirectory: z
        .string()
        .min(1, "give a directory, or leave the key out to deploy to the cluster")
        .optional(),
});

/** The raw, unparsed form of the config, as read from the stack. */
export type RawConfig = Record<string, unknown>;
type Parsed = z.output<typeof configSchema>;

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

/** Where ErizoJS writes recordings: a size-limited emptyDir on the node, or a claim. */
export type RecordingVolume = z.output<typeof recordingVolume>;

/** A media pool: one ErizoAgent DaemonSet on its own nodes and UDP range. */
export interface MediaPool {
    readonly name: string;
    readonly nodeSelector: Readonly<Record<string, string>>;
    readonly portRange: { readonly min: number; readonly max: number };
}

/** Settings common to every tier after defaults are applied. */
export interface TierConfig {
    readonly replicas: number;
    readonly resources: Resources;
    readonly image: ImageRef;
}

/** The validated configuration with every default applied. */
/** An operator's Secret and the keys that hold each value. */
export interface ExistingSecretConfig<F extends string> {
    readonly name: string;
    readonly keys: Readonly<Record<F, string>>;
    /** The config key that names it, for messages. */
    readonly configKey: string;
}

export interface StackConfig {
    readonly namespace: string;
    /** Whether the stack creates the namespace; false to use one the operator made. */
    readonly createNamespace: boolean;
    readonly logLevel: "DEBUG" | "INFO" | "WARN" | "ERROR";
    readonly ingress: Parsed["ingress"];
    readonly storage: Parsed["storage"];
    readonly publicAddress: Parsed["publicAddress"];
    readonly iceServers: Parsed["iceServers"];
    readonly media: {
        readonly pools: readonly MediaPool[];
        readonly gracePeriodSeconds: number;
        readonly maxUnavailable: number;
        readonly updateStrategy: "RollingUpdate" | "OnDelete";
        readonly rolloutNodes: number;
    };
    readonly nuve: TierConfig;
    readonly erizoController: TierConfig & {
        readonly nodeSelector: Readonly<Record<string, string>>;
        readonly gracePeriodSeconds: number;
        readonly maxSurge: number;
        readonly maxUnavailable: number;
        readonly port: number;
        /** What clients are told to connect to; may contain NODE_NAME_PLACEHOLDER. */
        readonly hostname?: string;
        /** Whether clients connect with TLS (wss://). */
        readonly ssl: boolean;
        /** The certificate the controller serves itself, when it terminates TLS. */
        readonly tls?: { readonly secretName: string };
    };
    readonly erizoAgent: TierConfig & {
        readonly maxProcesses: number;
        readonly prerunProcesses: number;
        readonly recordings: RecordingVolume;
    };
    readonly mongodb: TierConfig & {
        readonly existingSecret?: ExistingSecretConfig<"username" | "password">;
    };
    readonly rabbitmq: TierConfig & {
        readonly management: boolean;
        readonly existingSecret?: ExistingSecretConfig<"username" | "password">;
    };
    readonly bootstrap: { readonly resources: Resources; readonly image: ImageRef };
    readonly superservice: {
        readonly keyGeneration: number;
        readonly existingSecret?: ExistingSecretConfig<"id" | "key">;
    };
    readonly networkPolicy: { readonly enabled: boolean; readonly nodeCidrs: readonly string[] };
    readonly metrics: MetricsConfig;
    /** When set, manifests are written to this directory as YAML instead of applied. */
    readonly renderYamlToDirectory?: string;
}

/** Licode's exporter (ROV) and how Prometheus and Grafana find it. */
export interface MetricsConfig {
    readonly enabled: boolean;
    /** Seconds between ROV's rounds of questions to the tiers. */
    readonly statsPeriod: number;
    readonly serviceMonitor: "auto" | boolean;
    readonly prometheusRule: "auto" | boolean;
    readonly dashboard: boolean;
    /** Extra labels for the ServiceMonitors, the PrometheusRule and the dashboard ConfigMap. */
    readonly labels: Readonly<Record<string, string>>;
    readonly scrapeInterval: string;
    /** The pods (and their namespaces) that may scrape, for the NetworkPolicies. */
    readonly scraper: {
        readonly podLabels: Readonly<Record<string, string>>;
        readonly namespaceLabels?: Readonly<Record<string, string>>;
    };
    readonly alerts: {
        readonly failedConnectionsPerPeriod: number;
        readonly roomsPerControllerRatio: number;
    };
    readonly resources: Resources;
    readonly image: ImageRef;
}

/**
 * Images used when the stack names none. Tags are pinned; prod pins digests as well, because
 * tags are rebuilt (see the README for why these versions).
 */
export const DEFAULT_IMAGES = {
    licode: { repository: "lynckia/licode", tag: "v10", pullPolicy: "IfNotPresent" },
    mongodb: { repository: "mongo", tag: "7.0.41", pullPolicy: "IfNotPresent" },
    rabbitmq: { repository: "rabbitmq", tag: "4.3.6-management", pullPolicy: "IfNotPresent" },
} as const satisfies Record<string, ImageRef>;

/**
 * Requests and limits when the stack sets none. The seed ran every tier at 64Mi/250m requests and
 * 128Mi/500m limits; these start from there and give more where the seed's figures starve a tier.
 * Ephemeral storage covers a container's writable layer and logs, and for the kubelet's pod-level
 * check also the pod's emptyDirs, so a limit must exceed the sizeLimits of the pod's emptyDirs.
 */
export const DEFAULT_RESOURCES: Readonly<
    Record<keyof typeof DEFAULT_REPLICAS | "bootstrap" | "rov", Resources>
> = {
    // Nuve: Node.js 12 with Express and the MongoDB driver; the entrypoint writes its config copy.
    nuve: {
        requests: { cpu: "250m", memory: "128Mi", ephemeralStorage: "64Mi" },
        limits: { cpu: "500m", memory: "256Mi", ephemeralStorage: "1Gi" },
    },
    // ErizoController: about 200 bytes per room plus socket.io buffers per connected client.
    erizoController: {
        requests: { cpu: "250m", memory: "128Mi", ephemeralStorage: "64Mi" },
        limits: { cpu: "1", memory: "512Mi", ephemeralStorage: "1Gi" },
    },
    // ErizoAgent + ErizoJS: media forwarding is CPU-bound; the seed's 500m limit throttles calls.
    // Storage: the recordings emptyDir (1Gi by default), worker logs, and core files.
    erizoAgent: {
        requests: { cpu: "1", memory: "512Mi", ephemeralStorage: "256Mi" },
        limits: { cpu: "4", memory: "2Gi", ephemeralStorage: "4Gi" },
    },
    // MongoDB: WiredTiger's cache is sized from the memory limit (see mongodb.ts); its data is
    // on a volume, its writable paths small emptyDirs.
    mongodb: {
        requests: { cpu: "250m", memory: "512Mi", ephemeralStorage: "64Mi" },
        limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "512Mi" },
    },
    // RabbitMQ: the Erlang VM needs about 200Mi before any queue exists; its data directory is
    // an emptyDir (see rabbitmq.ts for its sizeLimit).
    rabbitmq: {
        requests: { cpu: "250m", memory: "256Mi", ephemeralStorage: "256Mi" },
        limits: { cpu: "1", memory: "512Mi", ephemeralStorage: "2Gi" },
    },
    // ROV: one Node.js 12 process with Express and prom-client; it holds only its gauges, and
    // writes nothing to disk.
    rov: {
        requests: { cpu: "50m", memory: "96Mi", ephemeralStorage: "16Mi" },
        limits: { cpu: "250m", memory: "256Mi", ephemeralStorage: "64Mi" },
    },
    // Bootstrap Job and init containers: mongosh is a Node.js program too.
    bootstrap: {
        requests: { cpu: "100m", memory: "128Mi", ephemeralStorage: "16Mi" },
        limits: { cpu: "500m", memory: "256Mi", ephemeralStorage: "128Mi" },
    },
};

/** Replica counts when the stack sets none. Nuve stays at 1: each replica ages EC keepalives. */
export const DEFAULT_REPLICAS = {
    nuve: 1,
    erizoController: 1,
    erizoAgent: 1,
    mongodb: 1,
    rabbitmq: 1,
} as const;

/** One problem found in the stack's config. */
export interface ConfigProblem {
    /** The full key, e.g. `licode:ingress.host`. */
    readonly key: string;
    /** The offending value as the stack gave it (undefined when missing). */
    readonly value: unknown;
    /** What is wrong and how to fix it. */
    readonly message: string;
}

/** Thrown when the config has problems; lists all of them. */
export class ConfigError extends Error {
    constructor(public readonly problems: readonly ConfigProblem[]) {
        super(
            `The stack's licode config has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was deployed:\n` +
                problems
                    .map((p) => `  - ${p.key}: ${p.message} (got ${describe(p.value)})`)
                    .join("\n"),
        );
        this.name = "ConfigError";
    }
}

function describe(value: unknown): string {
    if (value === undefined) {
        return "nothing";
    }
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    let current: unknown = raw;
    for (const segment of path) {
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<PropertyKey, unknown>)[segment];
    }
    return current;
}

function keyOf(path: readonly PropertyKey[]): string {
    let key = "licode:";
    path.forEach((segment, index) => {
        if (typeof segment === "number") {
            key += `[${segment}]`;
        } else {
            key += `${index === 0 ? "" : "."}${String(segment)}`;
        }
    });
    return key;
}

function problemsOf(issue: z.core.$ZodIssue, raw: RawConfig): ConfigProblem[] {
    const value = valueAt(raw, issue.path);
    let message = issue.message;
    switch (issue.code) {
        case "invalid_type":
            message =
                value === undefined
                    ? `required: set it (expected ${issue.expected})`
                    : `expected ${issue.expected}; set a value of that type`;
            break;
        case "unrecognized_keys":
            return issue.keys.map((unknownKey) => ({
                key: keyOf([...issue.path, unknownKey]),
                value: valueAt(raw, [...issue.path, unknownKey]),
                message:
                    "unknown key: check its spelling against the README's config table, or remove it",
            }));
        case "invalid_value":
            message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
            break;
        default:
            break;
    }
    return [{ key: keyOf(issue.path), value, message }];
}

function userSecretConfig(
    parsed: z.output<typeof userSecret> | undefined,
    configKey: string,
): ExistingSecretConfig<"username" | "password"> | undefined {
    return parsed === undefined
        ? undefined
        : {
              name: parsed.name,
              keys: { username: parsed.usernameKey, password: parsed.passwordKey },
              configKey,
          };
}

/** Operators' Secrets are read from the cluster: what that needs, and what it excludes. */
function existingSecretProblems(config: StackConfig, raw: RawConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const named = [
        ["licode:mongodb.existingSecret", config.mongodb.existingSecret],
        ["licode:rabbitmq.existingSecret", config.rabbitmq.existingSecret],
        ["licode:superservice.existingSecret", config.superservice.existingSecret],
    ] as const;
    const used = named.filter(([, secret]) => secret !== undefined);
    if (used.length === 0) {
        return problems;
    }
    if (config.createNamespace) {
        problems.push({
            key: "licode:createNamespace",
            value: raw.createNamespace,
            message: `your Secrets (${used.map(([key]) => key).join(", ")}) must exist before the first up, so their namespace must too: create "${config.namespace}" with its Secrets, then set createNamespace: false`,
        });
    }
    if (config.renderYamlToDirectory !== undefined) {
        problems.push({
            key: "licode:renderYamlToDirectory",
            value: config.renderYamlToDirectory,
            message:
                "your Secrets are read from the cluster, which render mode does not reach; render without existingSecret",
        });
    }
    if (config.mongodb.existingSecret !== undefined && config.storage.kind === "external") {
        problems.push({
            key: "licode:mongodb.existingSecret",
            value: config.mongodb.existingSecret.name,
            message:
                "an external MongoDB takes its credentials from storage.url; remove mongodb.existingSecret",
        });
    }
    if (
        config.superservice.existingSecret !== undefined &&
        config.superservice.keyGeneration !== 1
    ) {
        problems.push({
            key: "licode:superservice.keyGeneration",
            value: config.superservice.keyGeneration,
            message:
                "keyGeneration rotates a generated key; with superservice.existingSecret, rotate the key in your Secret and run pulumi up",
        });
    }
    return problems;
}

function resolveImage(
    base: ImageRef,
    override: z.output<typeof imageOverride> | undefined,
): ImageRef {
    const merged = { ...base, ...override };
    // A digest alone pins the image; a tag inherited from the defaults would only confuse readers.
    if (override?.digest !== undefined && override.tag === undefined) {
        delete (merged as { tag?: string }).tag;
    }
    return merged;
}

function resolveResources(
    base: Resources,
    override: z.output<typeof resources> | undefined,
): Resources {
    return {
        requests: { ...base.requests, ...override?.requests },
        limits: { ...base.limits, ...override?.limits },
    };
}

function imageProblems(image: ImageRef, key: string): ConfigProblem[] {
    if (image.tag === undefined && image.digest === undefined) {
        return [
            {
                key,
                value: image,
                message: "no tag or digest: set a pinned tag (e.g. v10) or a digest (sha256:...)",
            },
        ];
    }
    return [];
}

/**
 * Validates the raw `licode:` keys and applies defaults. Throws a ConfigError listing every
 * problem; returns only a fully valid config, so nothing downstream checks again.
 */
export function parseStackConfig(raw: RawConfig): StackConfig {
    const result = configSchema.safeParse(raw);
    if (!result.success) {
        throw new ConfigError(result.error.issues.flatMap((issue) => problemsOf(issue, raw)));
    }
    const parsed = result.data;

    const licodeImage = resolveImage(DEFAULT_IMAGES.licode, parsed.image);
    const tierImage = (override: z.output<typeof imageOverride> | undefined) =>
        resolveImage(licodeImage, override);
    const mongodbImage = resolveImage(DEFAULT_IMAGES.mongodb, parsed.mongodb.image);

    const config: StackConfig = {
        namespace: parsed.namespace,
        logLevel: parsed.logLevel,
        ingress: parsed.ingress,
        storage: parsed.storage,
        publicAddress: parsed.publicAddress,
        iceServers: parsed.iceServers,
        media: {
            pools: parsed.media.pools ?? [
                {
                    name: "default",
                    nodeSelector: parsed.media.nodeSelector,
                    portRange: parsed.media.portRange,
                },
            ],
            gracePeriodSeconds: parsed.media.gracePeriodSeconds,
            maxUnavailable: parsed.media.maxUnavailable,
            updateStrategy: parsed.media.updateStrategy,
            rolloutNodes: parsed.media.rolloutNodes,
        },
        nuve: {
            replicas: parsed.nuve.replicas ?? DEFAULT_REPLICAS.nuve,
            resources: resolveResources(DEFAULT_RESOURCES.nuve, parsed.nuve.resources),
            image: tierImage(parsed.nuve.image),
        },
        erizoController: {
            ...parsed.erizoController,
            // A controller that serves TLS tells clients to use it; otherwise ssl says whether
            // something in front of it terminates TLS.
            ssl: parsed.erizoController.ssl ?? parsed.erizoController.tls !== undefined,
            replicas: parsed.erizoController.replicas ?? DEFAULT_REPLICAS.erizoController,
            resources: resolveResources(
                DEFAULT_RESOURCES.erizoController,
                parsed.erizoController.resources,
            ),
            image: tierImage(parsed.erizoController.image),
        },
        erizoAgent: {
            ...parsed.erizoAgent,
            replicas: parsed.erizoAgent.replicas ?? DEFAULT_REPLICAS.erizoAgent,
            resources: resolveResources(DEFAULT_RESOURCES.erizoAgent, parsed.erizoAgent.resources),
            image: tierImage(parsed.erizoAgent.image),
        },
        mongodb: {
            replicas: parsed.mongodb.replicas ?? DEFAULT_REPLICAS.mongodb,
            resources: resolveResources(DEFAULT_RESOURCES.mongodb, parsed.mongodb.resources),
            image: mongodbImage,
            existingSecret: userSecretConfig(
                parsed.mongodb.existingSecret,
                "licode:mongodb.existingSecret",
            ),
        },
        rabbitmq: {
            management: parsed.rabbitmq.management,
            existingSecret: userSecretConfig(
                parsed.rabbitmq.existingSecret,
                "licode:rabbitmq.existingSecret",
            ),
            replicas: parsed.rabbitmq.replicas ?? DEFAULT_REPLICAS.rabbitmq,
            resources: resolveResources(DEFAULT_RESOURCES.rabbitmq, parsed.rabbitmq.resources),
            image: resolveImage(DEFAULT_IMAGES.rabbitmq, parsed.rabbitmq.image),
        },
        bootstrap: {
            resources: resolveResources(DEFAULT_RESOURCES.bootstrap, parsed.bootstrap.resources),
            // The bootstrap Job speaks to MongoDB with mongosh, which the MongoDB image carries.
            image: mongodbImage,
        },
        superservice: {
            keyGeneration: parsed.superservice.keyGeneration,
            existingSecret:
                parsed.superservice.existingSecret === undefined
                    ? undefined
                    : {
                          name: parsed.superservice.existingSecret.name,
                          keys: {
                              id: parsed.superservice.existingSecret.idKey,
                              key: parsed.superservice.existingSecret.keyKey,
                          },
                          configKey: "licode:superservice.existingSecret",
                      },
        },
        createNamespace: parsed.createNamespace,
        networkPolicy: parsed.networkPolicy,
        metrics: {
            enabled: parsed.metrics.enabled,
            statsPeriod: parsed.metrics.statsPeriod,
            serviceMonitor: parsed.metrics.serviceMonitor,
            prometheusRule: parsed.metrics.prometheusRule,
            dashboard: parsed.metrics.dashboard,
            labels: parsed.metrics.labels,
            scrapeInterval: parsed.metrics.scrapeInterval,
            scraper: parsed.metrics.scraper,
            alerts: parsed.metrics.alerts,
            resources: resolveResources(DEFAULT_RESOURCES.rov, parsed.metrics.resources),
            image: tierImage(parsed.metrics.image),
        },
        renderYamlToDirectory: parsed.renderYamlToDirectory,
    };

    // Checks that need the merged result: a default completed by an override must still be whole.
    const problems: ConfigProblem[] = [
        ...imageProblems(config.nuve.image, "licode:nuve.image"),
        ...imageProblems(config.erizoController.image, "licode:erizoController.image"),
        ...imageProblems(config.erizoAgent.image, "licode:erizoAgent.image"),
        ...imageProblems(config.mongodb.image, "licode:mongodb.image"),
        ...imageProblems(config.rabbitmq.image, "licode:rabbitmq.image"),
        ...imageProblems(config.metrics.image, "licode:metrics.image"),
    ];
    for (const [tierName, tierResources] of [
        ["nuve", config.nuve.resources],
        ["erizoController", config.erizoController.resources],
        ["erizoAgent", config.erizoAgent.resources],
        ["mongodb", config.mongodb.resources],
        ["rabbitmq", config.rabbitmq.resources],
        ["bootstrap", config.bootstrap.resources],
        ["metrics", config.metrics.resources],
    ] as const) {
        for (const resource of RESOURCE_NAMES) {
            const request = parseQuantity(tierResources.requests[resource]);
            const limit = parseQuantity(tierResources.limits[resource]);
            // The schema already compared pairs the stack set; this catches one side set by the
            // stack and the other filled in from the defaults.
            if (request !== undefined && limit !== undefined && limit < request) {
                problems.push({
                    key: `licode:${tierName}.resources.limits.${resource}`,
                    value: tierResources.limits[resource],
                    message: `with the default filled in, the ${resource} limit is below the request ${tierResources.requests[resource]}; set both requests.${resource} and limits.${resource}`,
                });
            }
        }
    }
    problems.push(...existingSecretProblems(config, raw));
    const recordings = config.erizoAgent.recordings;
    if (recordings.kind === "emptyDir") {
        const sizeLimit = parseQuantity(recordings.sizeLimit) ?? 0;
        const limit = parseQuantity(config.erizoAgent.resources.limits.ephemeralStorage) ?? 0;
        // The kubelet evicts a pod whose emptyDirs and writable layers outgrow the sum of its
        // containers' ephemeral-storage limits, so the recordings must fit inside the agent's.
        if (sizeLimit >= limit) {
            problems.push({
                key: "licode:erizoAgent.resources.limits.ephemeralStorage",
                value: config.erizoAgent.resources.limits.ephemeralStorage,
                message: `must exceed the recordings' sizeLimit (${recordings.sizeLimit}), which counts against it, or the kubelet evicts the agent (ending its calls) before the recordings fill up; raise it or lower erizoAgent.recordings.sizeLimit`,
            });
        }
    }
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return config;
}

/** Names of the keys `parseStackConfig` accepts, for spotting typos in top-level keys. */
export const CONFIG_KEYS: readonly string[] = Object.keys(configSchema.shape);
