/** RabbitMQ: the RPC bus between every Licode tier. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, Resources } from "./config";
import { RABBITMQ } from "./images";
import { checksum, fullname, labels, selectorLabels } from "./meta";
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
import { createHash } from "crypto";
import { parseQuantity } from "./quantity";
import {
    Credentials,
    ExistingSecret,
    TierArgs,
    checksumAnnotation,
    egressToPods,
    existingCredentials,
    generatedCredentials,
    isolate,
    serviceHost,
} from "./tier";

const TOKEN = "licode:index:RabbitMq";
const USERNAME = "licode";
/**
 * A user that may change bindings of agents' queues and nothing else (see DRAIN_PERMISSIONS). The
 * media drain no longer uses it (it speaks AMQP with the agent's own credentials,
 * drain/media-routing.js); it stays in the definitions because any change to them restarts the
 * broker, and every Licode tier exits when its broker connection drops (amqper.js 101-105).
 */
const DRAIN_USERNAME = "licode-drain";
/** Our settings, read after the image's 10-defaults.conf. */
export const CONFIG_FILE = "90-licode.conf";
/** The users and permissions, imported when the node boots blank (every pod start: its data is an emptyDir). */
const DEFINITIONS_FILE = "licode-definitions.json";
export const DEFINITIONS_PATH = `/etc/rabbitmq/${DEFINITIONS_FILE}`;
/** The share of the memory limit at which the broker blocks publishers. */
const MEMORY_WATERMARK = 0.4;
/** emptyDir sizes: the message store may page to disk; the log directory only gets crash dumps. */
const DATA_SIZE_LIMIT = "1Gi";
const LOG_SIZE_LIMIT = "256Mi";
const TMP_SIZE_LIMIT = "64Mi";

/** Liveness runs a CLI that joins the Erlang distribution: once a minute, and patient. */
const CLI_LIVENESS: ProbeTiming = { periodSeconds: 60, timeoutSeconds: 20, failureThreshold: 3 };

/**
 * The broker's own config file (no secrets in it). The memory the watermark is computed from is
 * the container's limit, because the node may not detect its cgroup limit and would then be
 * OOM-killed before its memory alarm blocks publishers. Users come from a definitions file
 * (definitions.md 233-238; configure.md 2526-2556: the `RABBITMQ_DEFAULT_*` variables are for
 * development and CI only).
 * Transient non-exclusive queues are permitted because Licode declares nothing else (images.ts).
 */
export function renderBrokerConfig(options: {
    readonly memoryLimit: string;
    readonly definitionsPath: string;
}): string {
    const bytes = Math.floor(parseQuantity(options.memoryLimit) ?? 0);
    if (bytes <= 0) {
        throw new Error(`the broker's memory limit "${options.memoryLimit}" is not a quantity`);
    }
    return [
        "# Rendered by the licode program (components/rabbitmq.ts).",
        "definitions.import_backend = local_filesystem",
        `definitions.local.path = ${options.definitionsPath}`,
        `${RABBITMQ.memoryOverrideKey} = ${bytes}`,
        `vm_memory_high_watermark.relative = ${MEMORY_WATERMARK}`,
        `${RABBITMQ.permitTransientQueuesKey} = true`,
        "",
    ].join("\n");
}

/** A broker user, its password, tags, and permissions on the vhost "/". */
export interface BrokerUser {
    readonly name: string;
    readonly password: string;
    readonly tags: readonly string[];
    readonly configure: string;
    readonly write: string;
    readonly read: string;
}

/**
 * RabbitMQ's salted SHA-256 password hash (passwords.md 192-199): base64(salt + sha256(salt +
 * password)). The 4-byte salt is derived from the user and password, so an unchanged password
 * renders the same file and rolls nothing.
 */
export function rabbitPasswordHash(user: string, password: string): string {
    const salt = createHash("sha256")
        .update(`licode-k8s:${user}:${password}`)
        .digest()
        .subarray(0, 4);
    const hash = createHash("sha256")
        .update(Buffer.concat([salt, Buffer.from(password, "utf8")]))
        .digest();
    return Buffer.concat([salt, hash]).toString("base64");
}

/**
 * The definitions a blank node imports at boot: the vhost "/", the users and their permissions. A
 * node that imports definitions creates no default vhost or user of its own (definitions.md 259-261).
 */
export function renderDefinitions(users: readonly BrokerUser[]): string {
    return `${JSON.stringify(
        {
            vhosts: [{ name: "/" }],
            users: users.map((u) => ({
                name: u.name,
                password_hash: rabbitPasswordHash(u.name, u.password),
                hashing_algorithm: "rabbit_password_hashing_sha256",
                tags: [...u.tags],
            })),
            permissions: users.map((u) => ({
                user: u.name,
                vhost: "/",
                configure: u.configure,
                write: u.write,
                read: u.read,
            })),
        },
        null,
        2,
    )}\n`;
}

/**
 * The drain user's rights: binding and unbinding needs write on the queue and read on the
 * exchange, and no configure (access-control.md 596-597). So it may bind agents' queues to
 * rpcExchange and change nothing else: it cannot declare or delete anything, and no exchange is
 * named like a queue it may write, nor a queue like the exchange it may read, so it can publish
 * and consume nothing. The monitoring tag lets it use the HTTP API and see, not change, other
 * users' connections and consumers (management/index.md 213-257).
 */
export const DRAIN_PERMISSIONS = {
    tags: ["monitoring"],
    configure: "^$",
    write: "^ErizoAgent(_.+)?$",
    read: "^rpcExchange$",
} as const;

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
    /** Broker image. Required (defaults live in config/defaults.ts). */
    readonly image: ImageRef;
    /** Requests and limits of the broker container. Required. */
    readonly resources: Resources;
    /** Broker replicas: 1, or 0 to stop it. Defaults to 1. */
    readonly replicas?: number;
    /** Let Licode's user log into the management UI and API (administrator tag). Defaults to false. */
    readonly management?: boolean;
    /** Whether to restrict traffic with a NetworkPolicy. Defaults to true. */
    readonly networkPolicy?: boolean;
    /** Node address ranges of host-network tiers, admitted to AMQP and the management API. Defaults to none. */
    readonly nodeCidrs?: readonly string[];
    /** The operator's Secret with Licode's user and password. Defaults to generated ones. */
    readonly existingSecret?: ExistingSecret<"username" | "password">;
    /** Serve the Prometheus plugin's port on the Service, to these scrapers. Defaults to not. */
    readonly metrics?: BrokerMetrics;
}

/** How the broker's Prometheus endpoint is exposed. */
export interface BrokerMetrics {
    /** Who may scrape it when a NetworkPolicy isolates the broker. */
    readonly scrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Annotations for the Service, e.g. prometheus.io/* when no ServiceMonitor scrapes it. */
    readonly serviceAnnotations?: Record<string, string>;
}

/** The Prometheus plugin's port name on the pods and the Service; the plugin serves /metrics. */
export const PROMETHEUS_PORT_NAME = "prometheus";

/** RabbitMQ as a StatefulSet with generated users imported at boot (guest is never created). */
export class RabbitMq extends pulumi.ComponentResource {
    /** The AMQP URL with credentials, for licode_config.js. */
    public readonly amqpUrl: pulumi.Output<string>;
    /** The broker's in-cluster host name. */
    public readonly host: pulumi.Output<string>;
    /** The broker's AMQP port. */
    public readonly port: number = RABBITMQ.amqpPort;
    /** The egress rule a client's NetworkPolicy needs to reach AMQP. */
    public readonly clientEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule;

    constructor(name: string, args: RabbitMqArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const replicas = args.replicas ?? 1;
        const management = args.management ?? false;
        const podLabels = labels("rabbitmq", args.instance, imageVersion(args.image));
        const selector = selectorLabels("rabbitmq", args.instance);
        const serviceName = fullname("rabbitmq");
        const headlessName = fullname("rabbitmq", "headless");

        const credentials: Credentials =
            args.existingSecret === undefined
                ? generatedCredentials(name, USERNAME, args.namespace, podLabels, this)
                : existingCredentials(
                      `${name}-existing-credentials`,
                      args.namespace,
                      args.existingSecret,
                      this,
                  );
        const drainCredentials = generatedCredentials(
            `${name}-drain`,
            DRAIN_USERNAME,
            args.namespace,
            podLabels,
            this,
        );
        const brokerConfigText = renderBrokerConfig({
            memoryLimit: args.resources.limits.memory,
            definitionsPath: DEFINITIONS_PATH,
        });
        const brokerConfig = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            {
                metadata: { namespace: args.namespace, labels: podLabels },
                data: { [CONFIG_FILE]: brokerConfigText },
            },
            { parent: this },
        );
        const definitions = pulumi
            .all([credentials.username, credentials.password, drainCredentials.password])
            .apply(([username, password, drainPassword]) =>
                renderDefinitions([
                    {
                        name: username,
                        password,
                        tags: management ? ["administrator"] : [],
                        configure: ".*",
                        write: ".*",
                        read: ".*",
                    },
                    { name: DRAIN_USERNAME, password: drainPassword, ...DRAIN_PERMISSIONS },
                ]),
            );
        const definitionsSecret = new k8s.core.v1.Secret(
            `${name}-definitions`,
            {
                metadata: { namespace: args.namespace, labels: podLabels },
                type: "Opaque",
                stringData: { [DEFINITIONS_FILE]: definitions },
            },
            { parent: this },
        );

        // The management API is always served: operators and the tests read the broker through it.
        const ports = [
            { name: "amqp", port: RABBITMQ.amqpPort, targetPort: "amqp" },
            { name: "management", port: RABBITMQ.managementPort, targetPort: "management" },
        ];
        // The plugin listens whether or not anyone scrapes it (images.ts); declaring the port
        // changes the pod template, so turning metrics on restarts the broker once.
        const prometheusPort = { name: PROMETHEUS_PORT_NAME, port: RABBITMQ.prometheusPort };
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
                metadata: {
                    name: serviceName,
                    namespace: args.namespace,
                    labels: podLabels,
                    annotations: args.metrics?.serviceAnnotations,
                },
                spec: {
                    type: "ClusterIP",
                    selector,
                    ports:
                        args.metrics === undefined
                            ? ports
                            : [...ports, { ...prometheusPort, targetPort: PROMETHEUS_PORT_NAME }],
                },
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
                            annotations: {
                                ...checksumAnnotation("credentials", credentials.checksum),
                                ...checksumAnnotation(
                                    "drain-credentials",
                                    drainCredentials.checksum,
                                ),
                                ...checksumAnnotation("config", checksum(brokerConfigText)),
                            },
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
                                        ...(args.metrics === undefined
                                            ? []
                                            : [
                                                  {
                                                      name: PROMETHEUS_PORT_NAME,
                                                      containerPort: RABBITMQ.prometheusPort,
                                                  },
                                              ]),
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
                                        {
                                            name: "definitions",
                                            mountPath: DEFINITIONS_PATH,
                                            subPath: DEFINITIONS_FILE,
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
                                    configMap: { name: brokerConfig.metadata.name },
                                },
                                {
                                    name: "definitions",
                                    secret: {
                                        secretName: definitionsSecret.metadata.name,
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
            // The broker answers Licode's tiers and the drain, and connects nowhere (one node).
            isolate(
                name,
                args.namespace,
                podLabels,
                selector,
                {
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
                                ...(args.nodeCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
                            ],
                            ports: ports.map((port) => ({ protocol: "TCP", port: port.port })),
                        },
                        // A rule with no peers would admit every source: no scrapers, no rule.
                        ...(args.metrics === undefined || args.metrics.scrapers.length === 0
                            ? []
                            : [
                                  {
                                      from: args.metrics.scrapers,
                                      ports: [{ protocol: "TCP", port: prometheusPort.port }],
                                  },
                              ]),
                    ],
                    egress: [],
                },
                this,
            );
        }

        this.clientEgress = egressToPods(selector, RABBITMQ.amqpPort);
        this.host = serviceHost(service.metadata.name, args.namespace);
        this.amqpUrl = pulumi.secret(
            pulumi.interpolate`amqp://${credentials.username.apply(encodeURIComponent)}:${credentials.password.apply(encodeURIComponent)}@${this.host}:${RABBITMQ.amqpPort}`,
        );
        this.registerOutputs({ amqpUrl: this.amqpUrl, host: this.host });
    }
}
