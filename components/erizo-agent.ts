/** ErizoAgent + ErizoJS: the media tier; ErizoJS workers take UDP ports from a range. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig, MediaPool, RecordingVolume } from "./stack-config";
import { preStop, stopScript } from "./hooks";
import { LICODE } from "./images";
import { RECORDINGS_DIR } from "./licode-config-file";
import {
    LICODE_POD,
    LicodeTierArgs,
    configAnnotations,
    licodeContainer,
    publicIpEnv,
} from "./licode-tier";
import { fullname, labels, selectorLabels } from "./meta";
import { imageVersion, pullSecrets } from "./pod";
import { erizoAgentProbes } from "./probes";

const TOKEN = "licode:index:ErizoAgent";
/** Selects one pool's pods: two DaemonSets with the same selector would adopt each other's pods. */
const POOL_LABEL = "licode.io/media-pool";

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
                    },
                    spec: {
                        selector: { matchLabels: selector },
                        updateStrategy: {
                            type: "RollingUpdate",
                            // No surge: a second agent on the node would fight the first for its ports.
                            rollingUpdate: {
                                maxUnavailable: args.maxUnavailable ?? 1,
                                maxSurge: 0,
                            },
                        },
                        template: {
                            metadata: {
                                labels: podLabels,
                                annotations: configAnnotations(args.config),
                            },
                            spec: {
                                hostNetwork: true,
                                // Host-network pods resolve cluster Services (rabbitmq) only with this policy.
                                dnsPolicy: "ClusterFirstWithHostNet",
                                nodeSelector: { ...pool.nodeSelector },
                                ...LICODE_POD,
                                terminationGracePeriodSeconds: args.gracePeriodSeconds ?? 1800,
                                imagePullSecrets: pullSecrets(args.image),
                                containers: [
                                    licodeContainer("erizo-agent", "erizoAgent", args, {
                                        env,
                                        ...erizoAgentProbes(),
                                        // bash is PID 1 and drops SIGTERM: the hook signals the agent itself.
                                        lifecycle: preStop(stopScript(LICODE.processes.erizoAgent)),
                                        volumeMounts: [
                                            { name: "recordings", mountPath: RECORDINGS_DIR },
                                        ],
                                    }),
                                ],
                                volumes: [
                                    args.config.volume,
                                    recordingsVolume(
                                        args.recordings ?? { kind: "emptyDir", sizeLimit: "1Gi" },
                                    ),
                                ],
                            },
                        },
                    },
                },
                { parent: this },
            );
            return daemonSet.metadata.name;
        });
        this.registerOutputs({ daemonSetNames: this.daemonSetNames });
    }
}
