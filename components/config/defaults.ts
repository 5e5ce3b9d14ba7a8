/** The defaults every tier starts from when the stack sets no image, resources or replicas. */
import { ImageRef, Resources } from "./common";

/**
 * Images used when the stack names none. Tags are pinned; prod pins digests as well, because
 * tags are rebuilt (see the README for why these versions).
 */
export const DEFAULT_IMAGES = {
    licode: { repository: "lynckia/licode", tag: "v10", pullPolicy: "IfNotPresent" },
    mongodb: { repository: "mongo", tag: "7.0.41", pullPolicy: "IfNotPresent" },
    rabbitmq: { repository: "rabbitmq", tag: "4.3.6-management", pullPolicy: "IfNotPresent" },
    // The coturn project's own image (docker/coturn/debian/Dockerfile at tag docker/4.17.0-r0);
    // images.ts COTURN holds what the program relies on in it.
    coturn: { repository: "coturn/coturn", tag: "4.17.0-r0", pullPolicy: "IfNotPresent" },
} as const satisfies Record<string, ImageRef>;

/**
 * Requests and limits when the stack sets none. The seed ran every tier at 64Mi/250m requests and
 * 128Mi/500m limits; these start from there and give more where the seed's figures starve a tier.
 * Ephemeral storage covers a container's writable layer and logs, and for the kubelet's pod-level
 * check also the pod's emptyDirs, so a limit must exceed the sizeLimits of the pod's emptyDirs.
 */
export const DEFAULT_RESOURCES: Readonly<
    Record<keyof typeof DEFAULT_REPLICAS | "bootstrap" | "rov" | "turn", Resources>
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
    // coturn: one process relaying UDP; CPU follows the relayed bitrate, memory a few KiB per
    // allocation. It writes only its pid file and an empty database, on emptyDirs.
    turn: {
        requests: { cpu: "250m", memory: "64Mi", ephemeralStorage: "16Mi" },
        limits: { cpu: "2", memory: "256Mi", ephemeralStorage: "64Mi" },
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
