/**
 * The reachability check of the media nodes: on every media node, is the address Licode announces
 * the one a STUN server sees, and does UDP sent to it on the node's range arrive? The probe is
 * tools/check-media/probe.js, run by the Licode image's own node on the node's network. Two ways
 * to run it share the builders here: `npm run check:media -- <stack>` (tools/check-media/check.ts)
 * starts one pod per node and reports, and with `mediaCheck.enabled` the stack keeps one checker
 * per media node (a DaemonSet per pool) that runs the probe whenever the media settings change or a
 * node joins, so `pulumi up` fails while a node is unreachable.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { ImageRef, MediaPool, Resources, StackConfig, TURN_PORT } from "./config";
import { LICODE } from "./images";
import { checksum, fullname, labels, selectorLabels } from "./meta";
import {
    NOBODY,
    POD_DEFAULTS,
    imageName,
    imageVersion,
    pullSecrets,
    resourceRequirements,
    securityContext,
} from "./pod";
import { Probes } from "./probes";
import { TierArgs, secretEnv } from "./tier";

const TOKEN = "licode:index:MediaCheck";

/** The probe's source, shipped in a ConfigMap. */
export const PROBE_FILE = path.join(__dirname, "..", "tools", "check-media", "probe.js");
/** Where pods mount it. */
export const PROBE_DIR = "/licode-media-check";
/** The checker's own scratch directory (its verdict file). */
const STATE_DIR = "/tmp/licode-media-check";

/** Where the probe sends from and what it asks. */
export interface MediaCheckTarget {
    /** A STUN server outside the nodes' NAT. */
    readonly stun: { readonly host: string; readonly port: number };
    /** The stack's TURN server and the Secret with its user, to send UDP from. */
    readonly turn?: {
        readonly host: string;
        readonly port: number;
        readonly secret: {
            readonly name: pulumi.Input<string>;
            readonly usernameKey: string;
            readonly passwordKey: string;
        };
    };
}

/**
 * The STUN server the check asks: the stack's TURN server when it runs one, else the first
 * `stun:` URL of `iceServers`; undefined when there is neither.
 */
export function stunServerOf(
    config: Pick<StackConfig, "turn" | "iceServers">,
): { host: string; port: number } | undefined {
    if (config.turn.enabled && config.turn.host !== undefined) {
        return { host: config.turn.host, port: TURN_PORT };
    }
    for (const server of config.iceServers) {
        for (const url of typeof server.urls === "string" ? [server.urls] : server.urls) {
            const match = /^stun:([^:?]+|\[[^\]]+\])(?::(\d+))?/.exec(url);
            if (match !== null) {
                return { host: match[1], port: match[2] === undefined ? 3478 : Number(match[2]) };
            }
        }
    }
    return undefined;
}

/** The check for one pool's nodes, as $MEDIA_CHECK (the node's name and address come per pod). */
export function mediaCheckSpec(
    publicAddress: StackConfig["publicAddress"],
    pool: MediaPool,
    target: MediaCheckTarget,
    options: {
        readonly samplePorts: number;
        readonly timeoutSeconds: number;
        readonly node?: string;
    },
): Record<string, unknown> {
    return {
        ...(options.node === undefined ? {} : { node: options.node }),
        pool: pool.name,
        publicAddress,
        portRange: pool.portRange,
        stun: target.stun,
        ...(target.turn === undefined
            ? {}
            : { turn: { host: target.turn.host, port: target.turn.port } }),
        samplePorts: options.samplePorts,
        timeoutMs: options.timeoutSeconds * 1000,
    };
}

/**
 * The probe's container: the Licode image's node on probe.js, as nobody on a read-only root
 * filesystem; the node's InternalIP and the TURN user come from the environment.
 */
export function mediaCheckContainer(
    image: ImageRef,
    spec: Record<string, unknown>,
    target: MediaCheckTarget,
    resources: Resources,
    command: string[],
): k8s.types.input.core.v1.Container {
    return {
        name: "media-check",
        image: imageName(image),
        imagePullPolicy: image.pullPolicy,
        command,
        env: [
            { name: "MEDIA_CHECK", value: JSON.stringify(spec) },
            {
                name: "MEDIA_CHECK_NODE_IP",
                valueFrom: { fieldRef: { fieldPath: "status.hostIP" } },
            },
            ...(spec.node === undefined
                ? [
                      {
                          name: "MEDIA_CHECK_NODE",
                          valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
                      },
                  ]
                : []),
            ...(target.turn === undefined
                ? []
                : [
                      secretEnv(
                          "MEDIA_CHECK_TURN_USERNAME",
                          target.turn.secret.name,
                          target.turn.secret.usernameKey,
                      ),
                      secretEnv(
                          "MEDIA_CHECK_TURN_PASSWORD",
                          target.turn.secret.name,
                          target.turn.secret.passwordKey,
                      ),
                  ]),
        ],
        resources: resourceRequirements(resources),
        securityContext: securityContext({ runAsUser: NOBODY, readOnlyRootFilesystem: true }),
        volumeMounts: [{ name: "probe", mountPath: PROBE_DIR, readOnly: true }],
    };
}

/** The command that runs the probe once with the image's node (images.ts LICODE.nodeBinary). */
export function probeCommand(): string[] {
    return [LICODE.nodeBinary, `${PROBE_DIR}/probe.js`];
}

/**
 * The checker's command: run the probe, print its report (the pod's log), and stay up once it
 * passed; on a failure exit, so the pod restarts and checks again, and the DaemonSet never turns
 * Ready while a node fails.
 */
export function checkerCommand(): string[] {
    return [
        "/bin/bash",
        "-c",
        `if ${probeCommand().join(" ")}; then touch ${STATE_DIR}/passed; exec sleep infinity; fi; exit 1`,
    ];
}

/** Ready once the probe passed on this node. */
export function checkerProbes(): Probes {
    const passed = { exec: { command: ["/bin/bash", "-c", `test -f ${STATE_DIR}/passed`] } };
    return {
        startupProbe: { ...passed, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 24 },
        readinessProbe: { ...passed, periodSeconds: 30, timeoutSeconds: 2, failureThreshold: 1 },
        livenessProbe: { ...passed, periodSeconds: 60, timeoutSeconds: 2, failureThreshold: 3 },
    };
}

/** Arguments of the MediaCheck component. */
export interface MediaCheckArgs extends TierArgs {
    /** The Licode image, whose node runs the probe. Required. */
    readonly image: ImageRef;
    /** Requests and limits of each checker. Required. */
    readonly resources: Resources;
    /** The media pools whose nodes are checked. Required. */
    readonly pools: readonly MediaPool[];
    /** Where Licode finds the address it announces. Required. */
    readonly publicAddress: StackConfig["publicAddress"];
    /** STUN and TURN servers the probe uses. Required. */
    readonly target: MediaCheckTarget;
    /** Ports of each range to try. Defaults to 5. */
    readonly samplePorts?: number;
    /** Seconds to wait for each answer. Defaults to 3. */
    readonly timeoutSeconds?: number;
}

/**
 * One checker per media node, a DaemonSet per pool on the pool's nodes and network: `up` waits for
 * them to be Ready, which they are only once the probe passed on their node.
 */
export class MediaCheck extends pulumi.ComponentResource {
    constructor(name: string, args: MediaCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const version = imageVersion(args.image);
        const data = { "probe.js": fs.readFileSync(PROBE_FILE, "utf8") };
        const probe = new k8s.core.v1.ConfigMap(
            `${name}-probe`,
            {
                metadata: {
                    namespace: args.namespace,
                    labels: labels("media-check", args.instance, version),
                },
                data,
            },
            { parent: this },
        );
        for (const pool of args.pools) {
            const spec = mediaCheckSpec(args.publicAddress, pool, args.target, {
                samplePorts: args.samplePorts ?? 5,
                timeoutSeconds: args.timeoutSeconds ?? 3,
            });
            const podLabels = {
                ...labels("media-check", args.instance, version),
                "licode.io/media-pool": pool.name,
            };
            const selector = {
                ...selectorLabels("media-check", args.instance),
                "licode.io/media-pool": pool.name,
            };
            new k8s.apps.v1.DaemonSet(
                `${name}-${pool.name}`,
                {
                    metadata: {
                        name: fullname("media-check", pool.name),
                        namespace: args.namespace,
                        labels: podLabels,
                    },
                    spec: {
                        selector: { matchLabels: selector },
                        updateStrategy: {
                            type: "RollingUpdate",
                            rollingUpdate: { maxUnavailable: "100%" },
                        },
                        template: {
                            metadata: {
                                labels: podLabels,
                                // A changed check or probe re-runs it on every node.
                                annotations: { "checksum/media-check": checksum({ spec, data }) },
                            },
                            spec: {
                                ...POD_DEFAULTS,
                                hostNetwork: true,
                                dnsPolicy: "ClusterFirstWithHostNet",
                                nodeSelector: { ...pool.nodeSelector },
                                securityContext: { seccompProfile: { type: "RuntimeDefault" } },
                                imagePullSecrets: pullSecrets(args.image),
                                terminationGracePeriodSeconds: 5,
                                containers: [
                                    {
                                        ...mediaCheckContainer(
                                            args.image,
                                            spec,
                                            args.target,
                                            args.resources,
                                            checkerCommand(),
                                        ),
                                        ...checkerProbes(),
                                        volumeMounts: [
                                            { name: "probe", mountPath: PROBE_DIR, readOnly: true },
                                            { name: "state", mountPath: STATE_DIR },
                                        ],
                                    },
                                ],
                                volumes: [
                                    { name: "probe", configMap: { name: probe.metadata.name } },
                                    { name: "state", emptyDir: { sizeLimit: "1Mi" } },
                                ],
                            },
                        },
                    },
                },
                // A failing node keeps the rollout from finishing: report in minutes, not Pulumi's 10.
                { parent: this, customTimeouts: { create: "5m", update: "5m" } },
            );
        }
        this.registerOutputs({});
    }
}
