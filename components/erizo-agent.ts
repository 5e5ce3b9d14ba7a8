/** ErizoAgent + ErizoJS: the media tier; ErizoJS workers take UDP ports from a range. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig, MediaPool, RecordingVolume } from "./config";
import { DRAIN_RESERVE_SECONDS, Drain, agentDrainScript, preStop } from "./hooks";
import { AGENT_QUIET_SECONDS } from "./drain/timing";
import { LICODE } from "./images";
import { RECORDINGS_DIR } from "./licode-config-file";
import {
    LICODE_POD,
    LicodeTierArgs,
    configAnnotations,
    drainHelpers,
    licodeContainer,
    publicIpEnv,
} from "./licode-tier";
import { fullname, labels, selectorLabels } from "./meta";
import { imageVersion, pullSecrets } from "./pod";
import { erizoAgentProbes } from "./probes";

const TOKEN = "licode:index:ErizoAgent";
/** Selects one pool's pods: two DaemonSets with the same selector would adopt each other's pods. */
const POOL_LABEL = "licode.io/media-pool";

/** The drain helpers an agent's hook runs (components/drain/). */
export const AGENT_DRAIN_HELPERS = ["media-routing.js", "licode-amqp.js"] as const;

/**
 * The agent's drain: new sessions go to other agents (drain/media-routing.js), then wait while
 * media flows, and end once no UDP socket has been bound in the pool's range for longer than a
 * dropped client may take to reconnect (its ErizoJS sessions end only after that).
 */
export function agentDrain(gracePeriodSeconds: number): Drain {
    return {
        process: LICODE.processes.erizoAgent,
        helper: { file: "media-routing.js", command: "drain" },
        quietSeconds: AGENT_QUIET_SECONDS,
        drainSeconds: gracePeriodSeconds - DRAIN_RESERVE_SECONDS,
    };
}

/**
 * How long `pulumi up` may wait for a media rollout: `rolloutNodes` nodes, `maxUnavailable` at a
 * time, each draining for up to its grace period, plus five minutes an agent to start.
 */
export function agentRolloutTimeout(
    rolloutNodes: number,
    maxUnavailable: number,
    gracePeriodSeconds: number,
): string {
    const waves = Math.ceil(rolloutNodes / maxUnavailable);
    return `${Math.ceil((waves * (gracePeriodSeconds + 300)) / 60)}m`;
}

/** Arguments of the ErizoAgent component. */
export interface ErizoAgentArgs extends LicodeTierArgs {
    /** Media pools, each a DaemonSet on its own nodes and UDP range. Required. */
    readonly pools: readonly MediaPool[];
    /** Where ErizoJS finds the address it announces in ICE candidates. Defaults to the `eth0` interface. */
    readonly publicAddress?: StackConfig["publicAddress"];
    /** Seconds a stopping agent may keep its calls. Defaults to 1800. */
    readonly gracePeriodSeconds?: number;
    /** Media nodes that may restart at once during a rollout. Defaults to 1. */
    readonly maxUnavailable?: number;
    /** Where ErizoJS writes recordings. Defaults to a 1Gi emptyDir. */
    readonly recordings?: RecordingVolume;
    /** RollingUpdate, or OnDelete for operators who roll media nodes by hand. Defaults to RollingUpdate. */
    readonly updateStrategy?: "RollingUpdate" | "OnDelete";
    /** The most nodes in one pool, to size how long `pulumi up` waits for a rollout. Defaults to 4. */
    readonly rolloutNodes?: number;
}

/** The recordings volume: a size-limited emptyDir on the node, or a claim the operator provides. */
export function recordingsVolume(recordings: RecordingVolume): k8s.types.input.core.v1.Volume {
    return recordings.kind === "emptyDir"
        ? { name: "recordings", emptyDir: { sizeLimit: recordings.sizeLimit } }
        : { name: "recordings", persistentVolumeClaim: { claimName: recordings.claimName } };
}

/**
 * One ErizoAgent per media node, on the host network: Kubernetes cannot declare UDP port ranges,
 * so the workers bind the node's ports directly and the range must be open in the node firewall.
 */
export class ErizoAgent extends pulumi.ComponentResource {
    /** The DaemonSets' names, one per pool. */
    public readonly daemonSetNames: pulumi.Output<string>[];

    constructor(name: string, args: ErizoAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const publicAddress = args.publicAddress ?? { from: "interface", interface: "eth0" };
        const grace = args.gracePeriodSeconds ?? 1800;
        const maxUnavailable = args.maxUnavailable ?? 1;
        const onDelete = args.updateStrategy === "OnDelete";
        const helpers = drainHelpers(
            `${name}-drain`,
            AGENT_DRAIN_HELPERS,
            args.namespace,
            labels("erizo-agent", args.instance, imageVersion(args.image)),
            this,
        );
        this.daemonSetNames = args.pools.map((pool) => {
            const podLabels = {
                ...labels("erizo-agent", args.instance, imageVersion(args.image)),
                [POOL_LABEL]: pool.name,
            };
            const selector = {
                ...selectorLabels("erizo-agent", args.instance),
                [POOL_LABEL]: pool.name,
            };
            const env: k8s.types.input.core.v1.EnvVar[] = [
                // The entrypoint writes these into the pod's own copy of the config.
                { name: LICODE.env.minPort, value: String(pool.portRange.min) },
                { name: LICODE.env.maxPort, value: String(pool.portRange.max) },
            ];
            if (publicAddress.from === "interface") {
                env.push({ name: LICODE.env.networkInterface, value: publicAddress.interface });
            } else {
                env.push(publicIpEnv(publicAddress));
            }
            const daemonSet = new k8s.apps.v1.DaemonSet(
                `${name}-${pool.name}`,
                {
                    metadata: {
                        name: fullname("erizo-agent", pool.name),
                        namespace: args.namespace,
                        labels: podLabels,
                        // With OnDelete the pods change only when an operator deletes them, so
                        // Pulumi would wait for a rollout that never comes.
                        annotations: onDelete ? { "pulumi.com/skipAwait": "true" } : undefined,
                    },
                    spec: {
                        selector: { matchLabels: selector },
                        updateStrategy: onDelete
                            ? { type: "OnDelete" }
                            : {
                                  type: "RollingUpdate",
                                  // No surge: a second agent on the node would fight the first for
                                  // its ports.
                                  rollingUpdate: { maxUnavailable, maxSurge: 0 },
                              },
                        template: {
                            metadata: {
                                labels: podLabels,
                                annotations: {
                                    ...configAnnotations(args.config),
                                    "checksum/drain": helpers.checksum,
                                },
                            },
                            spec: {
                                hostNetwork: true,
                                // Host-network pods resolve cluster Services (rabbitmq) only with this policy.
                                dnsPolicy: "ClusterFirstWithHostNet",
                                nodeSelector: { ...pool.nodeSelector },
                                ...LICODE_POD,
                                terminationGracePeriodSeconds: grace,
                                imagePullSecrets: pullSecrets(args.image),
                                containers: [
                                    licodeContainer("erizo-agent", "erizoAgent", args, {
                                        env,
                                        ...erizoAgentProbes(),
                                        // bash is PID 1 and drops SIGTERM: the hook drains, then
                                        // has the agent stopped once it has returned.
                                        lifecycle: preStop(
                                            agentDrainScript(agentDrain(grace), pool.portRange),
                                        ),
                                        volumeMounts: [
                                            helpers.volumeMount,
                                            { name: "recordings", mountPath: RECORDINGS_DIR },
                                        ],
                                    }),
                                ],
                                volumes: [
                                    args.config.volume,
                                    helpers.volume,
                                    recordingsVolume(
                                        args.recordings ?? { kind: "emptyDir", sizeLimit: "1Gi" },
                                    ),
                                ],
                            },
                        },
                    },
                },
                // A rollout waits for draining agents; Pulumi's default 10 minutes would call a
                // healthy rollout failed.
                {
                    parent: this,
                    customTimeouts: {
                        update: agentRolloutTimeout(args.rolloutNodes ?? 4, maxUnavailable, grace),
                    },
                },
            );
            return daemonSet.metadata.name;
        });
        this.registerOutputs({ daemonSetNames: this.daemonSetNames });
    }
}
