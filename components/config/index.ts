/**
 * The typed stack configuration: one schema gives the types, the defaults, the validation and the
 * error messages. Stack files set keys under `licode:`; `parseStackConfig` turns them into a
 * `StackConfig` or throws a `ConfigError` that lists every problem at once. Each tier's part of the
 * schema lives in its own file here; this index is what the rest of the program imports.
 */
export { MIN_GRACE_PERIOD_SECONDS, NODE_PORT_RANGE, RESOURCE_NAMES } from "./common";
export type { ImageRef, ResourceQuantities, Resources, TierConfig } from "./common";
export { DEFAULT_IMAGES, DEFAULT_REPLICAS, DEFAULT_RESOURCES } from "./defaults";
export { NODE_NAME_PLACEHOLDER } from "./erizo-controller";
export { ConfigError } from "./errors";
export type { ConfigProblem } from "./errors";
export type { MediaCheckConfig, MediaPool, RecordingVolume } from "./media";
export type { MetricsConfig } from "./metrics";
export { CONFIG_KEYS, parseStackConfig } from "./parse";
export { configSchema } from "./schema";
export type { RawConfig, StackConfig } from "./schema";
export type { ExistingSecretConfig } from "./secrets";
export {
    MAX_LOAD_BALANCER_RELAY_PORTS,
    PRIVATE_PEER_RANGES,
    TURN_METRICS_PORT,
    TURN_PORT,
    TURN_TLS_PORT,
} from "./turn";
export type { TurnConfig } from "./turn";
