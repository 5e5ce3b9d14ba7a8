/** The schema of every `licode:` key, assembled from each tier's part, and the config it yields. */
import { z } from "zod";
import {
    ImageRef,
    Resources,
    TierConfig,
    dns1123Label,
    imageOverride,
    resources,
    tier,
} from "./common";
import { erizoController } from "./erizo-controller";
import {
    MediaCheckConfig,
    MediaPool,
    RecordingVolume,
    erizoAgent,
    iceServer,
    media,
    mediaCheck,
    publicAddress,
} from "./media";
import { MetricsConfig, metrics } from "./metrics";
import { mongodb, storage } from "./mongodb";
import { networkPolicy } from "./network-policy";
import { ingress } from "./nuve";
import { rabbitmq } from "./rabbitmq";
import { ExistingSecretConfig } from "./secrets";
import { superservice } from "./superservice";
import { TurnConfig, turn } from "./turn";

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
    superservice: superservice.default({ keyGeneration: 1 }),
    createNamespace: z.boolean().default(true),
    networkPolicy: networkPolicy.prefault({}),
    metrics: metrics.prefault({}),
    turn: turn.prefault({}),
    mediaCheck: mediaCheck.prefault({}),
    renderYamlToDirectory: z
        .string()
        .min(1, "give a directory, or leave the key out to deploy to the cluster")
        .optional(),
});

/** The raw, unparsed form of the config, as read from the stack. */
export type RawConfig = Record<string, unknown>;
/** The schema's output before the defaults that need other keys are applied. */
export type Parsed = z.output<typeof configSchema>;

/** The validated configuration with every default applied. */
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
    /** The TURN tier (coturn), when `turn.enabled`. */
    readonly turn: TurnConfig;
    /** The reachability check of the media nodes. */
    readonly mediaCheck: MediaCheckConfig;
    /** When set, manifests are written to this directory as YAML instead of applied. */
    readonly renderYamlToDirectory?: string;
}
