/** RabbitMQ: the RPC bus between every Licode tier. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, Resources } from "./stack-config";
import { RABBITMQ } from "./images";
import { fullname, labels, selectorLabels } from "./meta";
import {
    POD_DEFAULTS,
    imageName,
    imageVersion,
    nonRootPodSecurity,
    pullSecrets,
    resourceRequirements,
    securityContext,
} from "./pod";
import { ProbeTiming, Probes, READINESS, STARTUP, execProbe, tcpProbe } from "./probes";
import { parseQuantity } from "./quantity";
import { TierArgs, checksumAnnotation, generatedCredentials, serviceHost } from "./tier";

const TOKEN = "licode:index:RabbitMq";
const USERNAME = "licode";
/** Our settings, read after the image's 10-defaults.conf. */
const CONFIG_FILE = "90-licode.conf";
/** The share of the memory limit at which the broker blocks publishers. */
const MEMORY_WATERMARK = 0.4;
/** emptyDir sizes: the message store may page to disk; the log directory only gets crash dumps. */
const DATA_SIZE_LIMIT = "1Gi";
const LOG_SIZE_LIMIT = "256Mi";
const TMP_SIZE_LIMIT = "64Mi";

/** Liveness runs a CLI that joins the Erlang distribution: once a minute, and patient. */
const CLI_LIVENESS: ProbeTiming = { periodSeconds: 60, timeoutSeconds: 20, failureThreshold: 3 };

/**
 * The broker's own config file. The memory the watermark is computed from is the container's
 * limit, because the node may not detect its cgroup limit and would then be OOM-killed before
 * its memory alarm blocks publishers. Transient non-exclusive queues are permitted because
 * Licode declares nothing else (images.ts).
 */
export function renderBrokerConfig(options: {
    readonly username: string;
    readonly password: string;
    readonly memoryLimit: string;
}): string {
    const bytes = Math.floor(parseQuantity(options.memoryLimit) ?? 0);
    if (bytes <= 0) {
        throw new Error(`the broker's memory limit "${options.memoryLimit}" is not a quantity`);
    }
    for (const [what, value] of [
        ["username", options.username],
        ["password", options.password],
    ]) {
        // Single quotes protect '#' (a comment otherwise); a quote or newline could not be written.
        if (/['\n\r]/.test(value)) {
            throw new Error(`the broker's ${what} must not contain quotes or line breaks`);
        }
    }
    return [
        "# Rendered by the licode program (components/rabbitmq.ts).",
        `default_user = '${options.username}'`,
        `default_pass = '${options.password}'`,
        `${RABBITMQ.memoryOverrideKey} = ${bytes}`,
        `vm_memory_high_watermark.relative = ${MEMORY_WATERMARK}`,
        `${RABBITMQ.permitTransientQueuesKey} = true`,
        "",
    ].join("\n");
}

/**
 * Readiness and startup: a TCP connect on AMQP, RabbitMQ's recommended readiness check, which
 * costs the broker nothing. Liveness: `rabbitmq-diagnostics ping`, the most basic check that
 * the Erlang runtime runs, once a minute, so a wedged VM is restarted after three minutes.
 */
export function rabbitmqProbes(): Probes {
    return {
        startupProbe: tcpProbe(RABBITMQ.amqpPort, STARTUP),
        readinessProbe: tcpProbe(RABBITMQ.amqpPort, READINESS),
        livenessProbe: execProbe(RABBITMQ.livenessCommand, CLI_LIVENESS),
    };
}

/** Arguments of the RabbitMq component. */
export interface RabbitMqArgs extends TierArgs {
    /** Broker image. Required (defaults live in stack-config.ts). */
    readonly image: ImageRef;
    /** Requests and limits of the broker container. Required. */
    readonly resources: Resources;
    /** Broker replicas: 1, or 0 to stop it. Defaults to 1. */
    readonly replicas?: number;
    /** Expose the management UI (15672) on the Service. Defaults to false. */
    readonly management?: boolean;
    /** Whether to restrict traffic with a NetworkPolicy. Defaults to true. */
    readonly networkPolicy?: boolean;
    /** Node address ranges of host-network tiers, admitted to AMQP. Defaults to none. */
    readonly nodeCidrs?: readonly string[];
}

/** RabbitMQ as a StatefulSet with a generated, non-guest user (guest only works from localhost). */
export class RabbitMq extends pulumi.ComponentResource {
    /** The AMQP URL with credentials, for licode_config.js. */
    public readonly amqpUrl: pulumi.Output<string>;
    /** The broker's in-cluster host name. */
    public readonly host: pulumi.Output<string>;
    /** The broker's AMQP port. */
    public readonly port: number = RABBITMQ.amqpPort;

    constructor(name: string, args: RabbitMqArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const replicas = args.replicas ?? 1;
        const management = args.management ?? false;
        const podLabels = labels("rabbitmq", args.instance, imageVersion(args.image));
        const selector = selectorLabels("rabbitmq", args.instance);
        const serviceName = fullname("rabbitmq");
        const headlessName = fullname("rabbitmq", "headless");

        // The broker's config file carries the password, so it lives in the credentials' Secret.
        const credentials = generatedCredentials(name, USERNAME, args.namespace, podLabels, this, {
            files: (password) => ({
                [CONFIG_FILE]: renderBrokerConfig({
                    username: USERNAME,
                    password,
                    memoryLimit: args.resources.limits.memory,
                }),
            }),
        });

        const ports: { name: string; port: number; targetPort: string }[] = [
            { name: "amqp", port: RABBITMQ.amqpPort, targetPort: "amqp" },
        ];
        if (management) {
            ports.push({
                name: "management",
                port: RABBITMQ.managementPort,
                targetPort: "management",
            });
        }
        new k8s.core.v1.Service(
            `${name}-headless`,
            {
                metadata: { name: headlessName, namespace: args.namespace, labels: podLabels },
                spec: { clusterIP: "None", selector, ports },
            },
            { parent: this },
        );
        const service = new k8s.core.v1.Service(
            name,
            {
                metadata: { name: serviceName, namespace: args.namespace, labels: podLabels },
                spec: { type: "ClusterIP", selector, ports },
            },
            { parent: this },
        );

        new k8s.apps.v1.StatefulSet(
            name,
            {
                metadata: { name: serviceName, namespace: args.namespace, labels: podLabels },
                spec: {
                    replicas,
                    serviceName: headlessName,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: {
                            labels: podLabels,
                            annotations: checksumAnnotation("credentials", credentials.checksum),
                        },
                        spec: {
                            ...POD_DEFAULTS,
                            imagePullSecrets: pullSecrets(args.image),
                            securityContext: nonRootPodSecurity(RABBITMQ.uid),
                            terminationGracePeriodSeconds: 60,
                            containers: [
                                {
                                    name: "rabbitmq",
                                    image: imageName(args.image),
                                    imagePullPolicy: args.image.pullPolicy,
                                    ports: [
                                        { name: "amqp", containerPort: RABBITMQ.amqpPort },
                                        {
                                            name: "management",
                                            containerPort: RABBITMQ.managementPort,
                                        },
                                    ],
                                    resources: resourceRequirements(args.resources),
                                    ...rabbitmqProbes(),
                                    // The broker writes only to its data and log directories
                                    // (images.ts), so everything else stays read-only.
                                    securityContext: securityContext({
                                        runAsUser: RABBITMQ.uid,
                                        readOnlyRootFilesystem: true,
                                    }),
                                    volumeMounts: [
                                        { name: "data", mountPath: RABBITMQ.dataDir },
                                        { name: "log", mountPath: RABBITMQ.logDir },
                                        { name: "tmp", mountPath: "/tmp" },
                                        {
                                            name: "config",
                                            mountPath: `${RABBITMQ.confDir}/${CONFIG_FILE}`,
                                            subPath: CONFIG_FILE,
                                            readOnly: true,
                                        },
                                    ],
                                },
                            ],
                            volumes: [
                                // Licode declares its queues non-durable: a restarted broker starts
                                // empty and every tier re-declares what it needs, so no volume has
                                // to outlive the pod.
                                { name: "data", emptyDir: { sizeLimit: DATA_SIZE_LIMIT } },
                                { name: "log", emptyDir: { sizeLimit: LOG_SIZE_LIMIT } },
                                { name: "tmp", emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
                                {
                                    name: "config",
                                    secret: {
                                        secretName: credentials.secret.metadata.name,
                                        items: [{ key: CONFIG_FILE, path: CONFIG_FILE }],
                                        // Readable by the broker's group (fsGroup) only.
                                        defaultMode: 0o440,
                                    },
                                },
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );

        if (args.networkPolicy ?? true) {
            new k8s.networking.v1.NetworkPolicy(
                name,
                {
                    metadata: { namespace: args.namespace, labels: podLabels },
                    spec: {
                        podSelector: { matchLabels: selector },
                        policyTypes: ["Ingress"],
                        ingress: [
                            {
                                from: [
                                    {
                                        podSelector: {
                                            matchLabels: {
                                                "app.kubernetes.io/part-of": "licode",
                                                "app.kubernetes.io/instance": args.instance,
                                            },
                                        },
                                    },
                                    ...(args.nodeCidrs ?? []).map((cidr) => ({
                                        ipBlock: { cidr },
                                    })),
                                ],
                                // The management API, when exposed, is for the same clients.
                                ports: ports.map((port) => ({ protocol: "TCP", port: port.port })),
                            },
                        ],
                    },
                },
                { parent: this },
            );
        }

        this.host = serviceHost(service.metadata.name, args.namespace);
        this.amqpUrl = pulumi.secret(
            pulumi.interpolate`amqp://${USERNAME}:${credentials.password}@${this.host}:${RABBITMQ.amqpPort}`,
        );
        this.registerOutputs({ amqpUrl: this.amqpUrl, host: this.host });
    }
}
