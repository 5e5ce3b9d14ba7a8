/** Turns the stack's raw `licode:` keys into a StackConfig with every default applied. */
import { z } from "zod";
import { parseQuantity } from "../quantity";
import { ImageRef, RESOURCE_NAMES, Resources, imageOverride, resources } from "./common";
import { DEFAULT_IMAGES, DEFAULT_REPLICAS, DEFAULT_RESOURCES } from "./defaults";
import { ConfigError, ConfigProblem, problemsOf } from "./errors";
import { RawConfig, StackConfig, configSchema } from "./schema";
import { userSecretConfig } from "./secrets";
import { deniedPeerRanges, turnProblems } from "./turn";

/** Operators' Secrets are read from the cluster: what that needs, and what it excludes. */
function existingSecretProblems(config: StackConfig, raw: RawConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const named = [
        ["licode:mongodb.existingSecret", config.mongodb.existingSecret],
        ["licode:rabbitmq.existingSecret", config.rabbitmq.existingSecret],
        ["licode:superservice.existingSecret", config.superservice.existingSecret],
        [
            "licode:turn.existingSecret",
            config.turn.enabled ? config.turn.existingSecret : undefined,
        ],
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
        turn: {
            enabled: parsed.turn.enabled,
            host: parsed.turn.host,
            username: parsed.turn.username,
            existingSecret: userSecretConfig(
                parsed.turn.existingSecret,
                "licode:turn.existingSecret",
            ),
            placement: parsed.turn.placement,
            relayPortRange: parsed.turn.relayPortRange,
            tls: parsed.turn.tls,
            deniedPeers: deniedPeerRanges(parsed.turn.deniedPeers, parsed.networkPolicy.nodeCidrs),
            allowedPeers: parsed.turn.allowedPeers,
            userQuota: parsed.turn.userQuota,
            totalQuota: parsed.turn.totalQuota,
            maxBps: parsed.turn.maxBps,
            bpsCapacity: parsed.turn.bpsCapacity,
            // Behind a LoadBalancer, its address is where ErizoJS finds TURN too.
            erizoRelay: parsed.turn.erizoRelay.enabled
                ? {
                      address:
                          parsed.turn.erizoRelay.address ??
                          (parsed.turn.placement.mode === "loadBalancer"
                              ? parsed.turn.placement.loadBalancerIP
                              : ""),
                  }
                : undefined,
            metrics: parsed.turn.metrics,
            gracePeriodSeconds: parsed.turn.gracePeriodSeconds,
            resources: resolveResources(DEFAULT_RESOURCES.turn, parsed.turn.resources),
            image: resolveImage(DEFAULT_IMAGES.coturn, parsed.turn.image),
        },
        mediaCheck: parsed.mediaCheck,
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
        ...imageProblems(config.turn.image, "licode:turn.image"),
    ];
    for (const [tierName, tierResources] of [
        ["nuve", config.nuve.resources],
        ["erizoController", config.erizoController.resources],
        ["erizoAgent", config.erizoAgent.resources],
        ["mongodb", config.mongodb.resources],
        ["rabbitmq", config.rabbitmq.resources],
        ["bootstrap", config.bootstrap.resources],
        ["metrics", config.metrics.resources],
        ["turn", config.turn.resources],
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
    problems.push(
        ...turnProblems({
            turn: config.turn,
            createNamespace: config.createNamespace,
            namespace: config.namespace,
            mediaRanges:
                parsed.media.pools === undefined
                    ? [{ key: "media.portRange", range: parsed.media.portRange }]
                    : parsed.media.pools.map((pool, index) => ({
                          key: `media.pools[${index}].portRange`,
                          range: pool.portRange,
                      })),
            publicAddress: config.publicAddress,
        }),
    );
    if (
        config.mediaCheck.enabled &&
        !config.turn.enabled &&
        !config.iceServers.some((server) =>
            (typeof server.urls === "string" ? [server.urls] : server.urls).some((url) =>
                url.startsWith("stun:"),
            ),
        )
    ) {
        problems.push({
            key: "licode:mediaCheck.enabled",
            value: true,
            message:
                "the check asks a STUN server what address each node has: enable turn, or list a stun: URL in iceServers",
        });
    }
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
