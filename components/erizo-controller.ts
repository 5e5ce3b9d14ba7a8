/** ErizoController: socket.io signalling; each room is pinned to one controller. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";
import { DRAIN_RESERVE_SECONDS, Drain, controllerDrainScript, preStop } from "./hooks";
import { CONTROLLER_QUIET_SECONDS } from "./drain/timing";
import { LICODE } from "./images";
import { NODE_NAME_ENV, SIGNALLING_CERT_DIR } from "./licode-config-file";
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
import { erizoControllerProbes } from "./probes";
import { onePodAtATime } from "./tier";

const TOKEN = "licode:index:ErizoController";

/** The drain helpers a controller's hook runs (components/drain/). */
export const CONTROLLER_DRAIN_HELPERS = ["controller-registry.js", "licode-amqp.js"] as const;

/** Where the controller's drain helper finds Nuve's REST API (not read by Licode). */
export const NUVE_URL_ENV = "LICODE_NUVE_URL";

/**
 * The controller's drain: no new rooms, and no new joins to its idle rooms
 * (drain/controller-registry.js), then wait while clients are connected, and end once none has
 * been for longer than a dropped client may take to reconnect.
 */
export function controllerDrain(gracePeriodSeconds: number): Drain {
    return {
        process: LICODE.processes.erizoController,
        helper: { file: "controller-registry.js", command: "hold-full" },
        quietSeconds: CONTROLLER_QUIET_SECONDS,
        drainSeconds: gracePeriodSeconds - DRAIN_RESERVE_SECONDS,
    };
}

/**
 * How long `pulumi up` may wait for a controller rollout: each controller may drain for its whole
 * grace period, and the next one starts only once a signalling node is free again, plus five
 * minutes a controller to start.
 */
export function controllerRolloutTimeout(replicas: number, gracePeriodSeconds: number): string {
    return `${Math.ceil((Math.max(1, replicas) * (gracePeriodSeconds + 300)) / 60)}m`;
}

/** Arguments of the ErizoController component. */
export interface ErizoControllerArgs extends LicodeTierArgs {
    /** Controllers to run, one per signalling node. Defaults to 1. */
    readonly replicas?: number;
    /** Labels of the signalling nodes. Defaults to `licode.io/signalling: "true"`. */
    readonly nodeSelector?: Readonly<Record<string, string>>;
    /** Where clients find the controller's address. Defaults to the `eth0` interface. */
    readonly publicAddress?: StackConfig["publicAddress"];
    /** The port clients connect to. Defaults to 8080. */
    readonly port?: number;
    /** Seconds a stopping controller may keep serving its rooms. Defaults to 1800. */
    readonly gracePeriodSeconds?: number;
    /** Extra controllers started during a rollout (needs spare signalling nodes). Defaults to 1. */
    readonly maxSurge?: number;
    /** Controllers that may be down during a rollout. Defaults to 0. */
    readonly maxUnavailable?: number;
    /** A kubernetes.io/tls Secret the controller serves wss:// with. Defaults to none (plain ws://). */
    readonly tlsSecretName?: string;
    /**
     * Nuve's REST API as the drain reaches it (in-cluster), to release the rooms pinned to a
     * draining controller. Defaults to none: a drain then only keeps new rooms away.
     */
    readonly nuveUrl?: pulumi.Input<string>;
}

/**
 * ErizoController on the host network, so browsers reach each controller at its node's address.
 *
 * A Deployment with required anti-affinity, not a DaemonSet: the replica count is the operator's
 * choice rather than the number of labelled nodes, and a surge rollout can start the new
 * controller on a spare signalling node before the old one drains. A DaemonSet could only replace
 * a controller in place, taking that node's signalling away for the whole drain. With maxSurge 1
 * and maxUnavailable 0 the number of controllers accepting rooms never drops during a rollout.
 */
export class ErizoController extends pulumi.ComponentResource {
    /** The Deployment's name. */
    public readonly deploymentName: pulumi.Output<string>;

    constructor(name: string, args: ErizoControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const replicas = args.replicas ?? 1;
        const port = args.port ?? 8080;
        const grace = args.gracePeriodSeconds ?? 1800;
        const podLabels = labels("erizo-controller", args.instance, imageVersion(args.image));
        const selector = selectorLabels("erizo-controller", args.instance);
        const helpers = drainHelpers(
            `${name}-drain`,
            CONTROLLER_DRAIN_HELPERS,
            args.namespace,
            podLabels,
            this,
        );

        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: {
                    name: fullname("erizo-controller"),
                    namespace: args.namespace,
                    labels: podLabels,
                },
                spec: {
                    replicas,
                    selector: { matchLabels: selector },
                    strategy: {
                        type: "RollingUpdate",
                        rollingUpdate: {
                            maxSurge: args.maxSurge ?? 1,
                            maxUnavailable: args.maxUnavailable ?? 0,
                        },
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
                            nodeSelector: {
                                ...(args.nodeSelector ?? { "licode.io/signalling": "true" }),
                            },
                            affinity: {
                                podAntiAffinity: {
                                    // Two controllers cannot share a node's port, and a room's clients
                                    // must reach their controller at a distinct address.
                                    requiredDuringSchedulingIgnoredDuringExecution: [
                                        {
                                            labelSelector: { matchLabels: selector },
                                            topologyKey: "kubernetes.io/hostname",
                                        },
                                    ],
                                },
                            },
                            ...LICODE_POD,
                            terminationGracePeriodSeconds: grace,
                            imagePullSecrets: pullSecrets(args.image),
                            containers: [
                                licodeContainer("erizo-controller", "erizoController", args, {
                                    ports: [{ name: "signalling", containerPort: port }],
                                    env: [
                                        publicIpEnv(
                                            args.publicAddress ?? {
                                                from: "interface",
                                                interface: "eth0",
                                            },
                                        ),
                                        // The config builds each controller's hostname from it.
                                        {
                                            name: NODE_NAME_ENV,
                                            valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
                                        },
                                        // For the drain's helper (drain/controller-registry.js).
                                        ...(args.nuveUrl === undefined
                                            ? []
                                            : [{ name: NUVE_URL_ENV, value: args.nuveUrl }]),
                                    ],
                                    ...erizoControllerProbes(port),
                                    // bash is PID 1 and drops SIGTERM: the hook drains, then
                                    // has node stopped once it has returned.
                                    lifecycle: preStop(
                                        controllerDrainScript(controllerDrain(grace), port),
                                    ),
                                    volumeMounts: [
                                        helpers.volumeMount,
                                        ...(args.tlsSecretName === undefined
                                            ? []
                                            : [
                                                  {
                                                      name: "signalling-tls",
                                                      mountPath: SIGNALLING_CERT_DIR,
                                                      readOnly: true,
                                                  },
                                              ]),
                                    ],
                                }),
                            ],
                            volumes: [
                                args.config.volume,
                                helpers.volume,
                                ...(args.tlsSecretName === undefined
                                    ? []
                                    : [
                                          {
                                              name: "signalling-tls",
                                              secret: {
                                                  secretName: args.tlsSecretName,
                                                  defaultMode: 0o400,
                                              },
                                          },
                                      ]),
                            ],
                        },
                    },
                },
            },
            // A rollout waits for draining controllers; Pulumi's default 10 minutes would call a
            // healthy rollout failed.
            { parent: this, customTimeouts: { update: controllerRolloutTimeout(replicas, grace) } },
        );
        this.deploymentName = deployment.metadata.name;

        if (replicas > 1) {
            onePodAtATime(name, args.namespace, podLabels, selector, this);
        }
        this.registerOutputs({ deploymentName: this.deploymentName });
    }
}
