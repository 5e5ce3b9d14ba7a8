/** RabbitMQ: the RPC bus between every Licode tier. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, Resources } from "./config";
import { fullname, labels, selectorLabels } from "./meta";
import {
    LIVENESS,
    READINESS,
    STARTUP,
    execProbe,
    imageName,
    imageVersion,
    nonRootPodSecurity,
    pullSecrets,
    resourceRequirements,
    securityContext,
} from "./pod";
import { TierArgs, checksumAnnotation, generatedCredentials, secretEnv, serviceHost } from "./tier";

const TOKEN = "licode:index:RabbitMq";
/** The official image's rabbitmq user. */
const RABBITMQ_UID = 999;
const AMQP_PORT = 5672;
const MANAGEMENT_PORT = 15672;
const USERNAME = "licode";

/** Arguments of the RabbitMq component. */
export interface RabbitMqArgs extends TierArgs {
    /** Broker image. Required (defaults live in config.ts). */
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
    public readonly port: number = AMQP_PORT;

    constructor(name: string, args: RabbitMqArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const replicas = args.replicas ?? 1;
        const management = args.management ?? false;
        const podLabels = labels("rabbitmq", args.instance, imageVersion(args.image));
        const selector = selectorLabels("rabbitmq", args.instance);
        const serviceName = fullname("rabbitmq");
        const headlessName = fullname("rabbitmq", "headless");

        const credentials = generatedCredentials(name, USERNAME, args.namespace, podLabels, this);

        const ports = [{ name: "amqp", port: AMQP_PORT, targetPort: "amqp" }];
        if (management) {
            ports.push({ name: "management", port: MANAGEMENT_PORT, targetPort: "management" });
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
                            imagePullSecrets: pullSecrets(args.image),
                            securityContext: nonRootPodSecurity(RABBITMQ_UID),
                            terminationGracePeriodSeconds: 60,
                            containers: [
                                {
                                    name: "rabbitmq",
                                    image: imageName(args.image),
                                    imagePullPolicy: args.image.pullPolicy,
                                    env: [
                                        secretEnv(
                                            "RABBITMQ_DEFAULT_USER",
                                            credentials.secret,
                                            "username",
                                        ),
                                        secretEnv(
                                            "RABBITMQ_DEFAULT_PASS",
                                            credentials.secret,
                                            "password",
                                        ),
                                    ],
                                    ports: [
                                        { name: "amqp", containerPort: AMQP_PORT },
                                        { name: "management", containerPort: MANAGEMENT_PORT },
                                    ],
                                    resources: resourceRequirements(args.resources),
                                    // The broker boots the Erlang VM and its plugins: allow a slow start.
                                    startupProbe: execProbe(
                                        ["rabbitmq-diagnostics", "-q", "ping"],
                                        STARTUP,
                                    ),
                                    readinessProbe: execProbe(
                                        ["rabbitmq-diagnostics", "-q", "check_port_connectivity"],
                                        READINESS,
                                    ),
                                    livenessProbe: execProbe(
                                        ["rabbitmq-diagnostics", "-q", "ping"],
                                        LIVENESS,
                                    ),
                                    // The image's entrypoint writes its config under /etc/rabbitmq.
                                    securityContext: securityContext({
                                        runAsUser: RABBITMQ_UID,
                                        readOnlyRootFilesystem: false,
                                    }),
                                    volumeMounts: [
                                        { name: "data", mountPath: "/var/lib/rabbitmq" },
                                    ],
                                },
                            ],
                            // Licode declares its queues non-durable: a restarted broker starts empty
                            // and every tier re-declares what it needs, so no volume has to outlive the pod.
                            volumes: [{ name: "data", emptyDir: {} }],
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
                                ports: [{ protocol: "TCP", port: AMQP_PORT }],
                            },
                        ],
                    },
                },
                { parent: this },
            );
        }

        this.host = serviceHost(service.metadata.name, args.namespace);
        this.amqpUrl = pulumi.secret(
            pulumi.interpolate`amqp://${USERNAME}:${credentials.password}@${this.host}:${AMQP_PORT}`,
        );
        this.registerOutputs({ amqpUrl: this.amqpUrl, host: this.host });
    }
}
