/**
 * ROV: Licode's Prometheus exporter. It asks Nuve, every ErizoController and every ErizoJS over
 * RabbitMQ for their state each period and serves the totals as gauges on /metrics (images.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { forwardSignalsScript } from "./bash";
import { LICODE } from "./images";
import { log4jsPath, renderLog4js, renderRovConfig } from "./licode-config-file";
import { checksum, fullname, labels, selectorLabels } from "./meta";
import {
    POD_DEFAULTS,
    imageName,
    imageVersion,
    pullSecrets,
    resourceRequirements,
    securityContext,
    waitForContainer,
} from "./pod";
import { ProbeTiming } from "./probes";
import { ImageRef, Resources, StackConfig } from "./config";
import { TierArgs, isolate, publicChecksum } from "./tier";

const TOKEN = "licode:index:Rov";
const CONFIG_KEY = "licode_config.js";
const LOG4JS_KEY = "log4js_configuration.json";

type IngressPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type EgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;

/** Arguments of the Rov component. */
export interface RovArgs extends TierArgs {
    /** The Licode image, which carries ROV's code. Required. */
    readonly image: ImageRef;
    /** Requests and limits of ROV's container. Required. */
    readonly resources: Resources;
    /** Requests and limits of the wait-for-RabbitMQ init container. Required. */
    readonly initResources: Resources;
    /** AMQP URL with credentials. Required. */
    readonly rabbitUrl: pulumi.Input<string>;
    /** RabbitMQ's host and port, which must accept connections before ROV starts. Required. */
    readonly rabbit: { readonly host: pulumi.Input<string>; readonly port: number };
    /** Seconds between ROV's rounds of questions. Defaults to 20 (licode_default.js 205). */
    readonly statsPeriodSeconds?: number;
    /** Log level of ROV's loggers. Defaults to INFO. */
    readonly logLevel?: StackConfig["logLevel"];
    /** Whether to isolate its pods with a NetworkPolicy. Defaults to true. */
    readonly networkPolicy?: boolean;
    /** Who may scrape /metrics, when isolated. Defaults to nobody. */
    readonly scrapers?: IngressPeer[];
    /** Where ROV may connect besides DNS: RabbitMQ. Defaults to nowhere. */
    readonly egress?: EgressRule[];
    /** Annotations for the Service, e.g. prometheus.io/* when no ServiceMonitor scrapes it. Defaults to none. */
    readonly serviceAnnotations?: Record<string, string>;
}

/** The metrics port, its name on the Service and the pods, and the path. */
export const ROV_METRICS = {
    port: LICODE.rov.defaults.serverPort,
    portName: "metrics",
    path: LICODE.rov.metricsPath,
    prefix: LICODE.rov.defaults.statsPrefix,
} as const;

/**
 * Probes on /metrics. ROV listens only once it reached RabbitMQ, so the startup window covers a
 * broker that starts after it; afterwards an answer there means its event loop runs.
 */
export function rovProbes(): {
    startupProbe: k8s.types.input.core.v1.Probe;
    readinessProbe: k8s.types.input.core.v1.Probe;
    livenessProbe: k8s.types.input.core.v1.Probe;
} {
    const httpGet = { path: ROV_METRICS.path, port: ROV_METRICS.portName };
    const startup: ProbeTiming = { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 };
    const readiness: ProbeTiming = { periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 3 };
    const liveness: ProbeTiming = { periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 };
    return {
        startupProbe: { httpGet, ...startup },
        readinessProbe: { httpGet, ...readiness },
        livenessProbe: { httpGet, ...liveness },
    };
}

/** The command of ROV's container: node on its script, with signals passed on (images.ts). */
export function rovCommand(): string[] {
    return ["/bin/bash", "-c", forwardSignalsScript([LICODE.nodeBinary, LICODE.rov.script])];
}

/**
 * ROV as a one-replica Deployment that never runs twice: its gauges are totals over the whole
 * Licode deployment, and each round resets the ErizoJS counters it reads (erizoJSController.js
 * 566-620), so a second ROV would split the per-round counts between the two. A rollout therefore
 * stops the old pod before starting the new one, and loses a round or two of metrics.
 */
export class Rov extends pulumi.ComponentResource {
    /** The Service's name. */
    public readonly serviceName: pulumi.Output<string>;
    /** The labels that select ROV's Service (for a ServiceMonitor). */
    public readonly serviceLabels: Record<string, string>;

    constructor(name: string, args: RovArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const podLabels = labels("rov", args.instance, imageVersion(args.image));
        const selector = selectorLabels("rov", args.instance);
        const objectName = fullname("rov");
        const installDir = LICODE.installDir;

        const files = pulumi.output(args.rabbitUrl).apply((rabbitUrl) => ({
            [CONFIG_KEY]: renderRovConfig({
                rabbitUrl,
                installDir,
                statsPeriodMs: (args.statsPeriodSeconds ?? 20) * 1000,
                serverPort: ROV_METRICS.port,
                statsPrefix: ROV_METRICS.prefix,
            }),
            [LOG4JS_KEY]: renderLog4js(args.logLevel ?? "INFO"),
        }));
        // Autonamed: changed content gets a new Secret, and the pod rolls with it.
        const config = new k8s.core.v1.Secret(
            `${name}-config`,
            {
                metadata: { namespace: args.namespace, labels: podLabels },
                type: "Opaque",
                stringData: pulumi.secret(files),
            },
            { parent: this },
        );

        const rabbit = pulumi
            .output(args.rabbit.host)
            .apply((host) => ({ host, port: args.rabbit.port }));
        new k8s.apps.v1.Deployment(
            name,
            {
                metadata: { name: objectName, namespace: args.namespace, labels: podLabels },
                spec: {
                    replicas: 1,
                    selector: { matchLabels: selector },
                    strategy: { type: "Recreate" },
                    template: {
                        metadata: {
                            labels: podLabels,
                            annotations: {
                                "checksum/rov-config": publicChecksum(files.apply(checksum)),
                            },
                        },
                        spec: {
                            ...POD_DEFAULTS,
                            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
                            imagePullSecrets: pullSecrets(args.image),
                            terminationGracePeriodSeconds: 10,
                            // ROV exits at any AMQP connection error (common/amqper.js
                            // 101-105): it waits for the broker rather than crash-looping.
                            initContainers: rabbit.apply((target) => [
                                waitForContainer(
                                    "wait-for-rabbitmq",
                                    args.image,
                                    [target],
                                    args.initResources,
                                ),
                            ]),
                            containers: [
                                {
                                    name: "rov",
                                    image: imageName(args.image),
                                    imagePullPolicy: args.image.pullPolicy,
                                    command: rovCommand(),
                                    workingDir: LICODE.rov.workingDir,
                                    ports: [
                                        {
                                            name: ROV_METRICS.portName,
                                            containerPort: ROV_METRICS.port,
                                        },
                                    ],
                                    resources: resourceRequirements(args.resources),
                                    ...rovProbes(),
                                    // The image has no user but root and its files were
                                    // installed by root (images.ts); ROV itself writes nothing,
                                    // not even the config copy the entrypoint makes, which
                                    // it does not run.
                                    securityContext: securityContext({
                                        readOnlyRootFilesystem: true,
                                    }),
                                    volumeMounts: [
                                        {
                                            name: "config",
                                            mountPath: LICODE.configFile,
                                            subPath: CONFIG_KEY,
                                            readOnly: true,
                                        },
                                        {
                                            name: "config",
                                            mountPath: log4jsPath(installDir),
                                            subPath: LOG4JS_KEY,
                                            readOnly: true,
                                        },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "config", secret: { secretName: config.metadata.name } },
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );

        const service = new k8s.core.v1.Service(
            name,
            {
                metadata: {
                    name: objectName,
                    namespace: args.namespace,
                    labels: podLabels,
                    annotations: args.serviceAnnotations,
                },
                spec: {
                    type: "ClusterIP",
                    selector,
                    ports: [
                        {
                            name: ROV_METRICS.portName,
                            port: ROV_METRICS.port,
                            targetPort: ROV_METRICS.portName,
                        },
                    ],
                },
            },
            { parent: this },
        );
        this.serviceName = service.metadata.name;
        this.serviceLabels = selector;

        if (args.networkPolicy ?? true) {
            isolate(
                name,
                args.namespace,
                podLabels,
                selector,
                {
                    // A rule with no peers would admit every source: no scrapers, no rule.
                    ingress:
                        (args.scrapers ?? []).length === 0
                            ? []
                            : [
                                  {
                                      from: args.scrapers,
                                      ports: [{ protocol: "TCP", port: ROV_METRICS.port }],
                                  },
                              ],
                    egress: args.egress ?? [],
                },
                this,
            );
        }
        this.registerOutputs({ serviceName: this.serviceName });
    }
}
