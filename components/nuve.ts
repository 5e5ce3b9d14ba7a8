/** Nuve: Licode's REST API and cloud handler; stateless, its state lives in MongoDB. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig, Resources } from "./config";
import { QuiesceAndStop, preStop, quiesceAndStopScript, quiesceSeconds } from "./hooks";
import { LICODE } from "./images";
import { LICODE_POD, LicodeTierArgs, configAnnotations, licodeContainer } from "./licode-tier";
import { fullname, labels, selectorLabels } from "./meta";
import { imageVersion, pullSecrets, waitForContainer } from "./pod";
import { nuveProbes } from "./probes";
import { isolate, onePodAtATime } from "./tier";

const TOKEN = "licode:index:Nuve";
const PORT = LICODE.nuve.port;

/**
 * How a stopping Nuve lets go: its pod leaves the Service endpoints when it starts terminating;
 * routing catches up within seconds, and requests in flight take a moment more. Node's own
 * keep-alive closes idle connections after 5 s, so the drain rarely takes its full 15 s.
 */
export const NUVE_STOP: QuiesceAndStop = {
    process: LICODE.processes.nuve,
    port: PORT,
    settleSeconds: 5,
    drainSeconds: 15,
};

/** A host and port that must accept connections before Nuve starts. */
export interface Dependency {
    readonly host: pulumi.Input<string>;
    readonly port: number;
}

/** Arguments of the Nuve component. */
export interface NuveArgs extends LicodeTierArgs {
    /** How clients reach Nuve: a NodePort Service or an Ingress. Defaults to a NodePort. */
    readonly ingress?: StackConfig["ingress"];
    /** Replicas; each one ages ErizoController keepalives, so more than 1 shortens their timeout. Defaults to 1. */
    readonly replicas?: number;
    /** Services Nuve needs up before it starts (MongoDB, RabbitMQ). Defaults to none. */
    readonly dependencies?: readonly Dependency[];
    /** Requests and limits of the wait-for-dependencies init container. Required. */
    readonly initResources: Resources;
    /** Whether to isolate its pods with a NetworkPolicy: the API port in, its dependencies out. Defaults to true. */
    readonly networkPolicy?: boolean;
    /** Where Nuve may connect (MongoDB, RabbitMQ), besides DNS. Defaults to nowhere. */
    readonly egress?: k8s.types.input.networking.v1.NetworkPolicyEgressRule[];
}

/** Nuve as a Deployment behind a NodePort Service or an Ingress. */
export class Nuve extends pulumi.ComponentResource {
    /** The Service's name. */
    public readonly serviceName: pulumi.Output<string>;
    /** The Deployment's name. */
    public readonly deploymentName: pulumi.Output<string>;
    /** The NodePort clients use in nodePort mode (undefined in ingress mode). */
    public readonly nodePort?: pulumi.Output<number>;
    /** The public URL in ingress mode (undefined in nodePort mode). */
    public readonly url?: pulumi.Output<string>;

    constructor(name: string, args: NuveArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const ingress = args.ingress ?? { mode: "nodePort" };
        const replicas = args.replicas ?? 1;
        const podLabels = labels("nuve", args.instance, imageVersion(args.image));
        const selector = selectorLabels("nuve", args.instance);
        const objectName = fullname("nuve");

        const waitTargets = pulumi.all(
            (args.dependencies ?? []).map((d) =>
                pulumi.output(d.host).apply((host) => ({ host, port: d.port })),
            ),
        );
        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: { name: objectName, namespace: args.namespace, labels: podLabels },
                spec: {
                    replicas,
                    selector: { matchLabels: selector },
                    // Surge first: an API replica is cheap and callers never see fewer than asked for.
                    strategy: {
                        type: "RollingUpdate",
                        rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
                    },
                    template: {
                        metadata: {
                            labels: podLabels,
                            annotations: configAnnotations(args.config),
                        },
                        spec: {
                            ...LICODE_POD,
                            // The hook ends node itself; the rest is slack before the SIGKILL.
                            terminationGracePeriodSeconds: quiesceSeconds(NUVE_STOP) + 10,
                            imagePullSecrets: pullSecrets(args.image),
                            // Nuve exits when RabbitMQ is unreachable and crashes without MongoDB.
                            initContainers: waitTargets.apply((targets) =>
                                targets.length === 0
                                    ? []
                                    : [
                                          waitForContainer(
                                              "wait-for-dependencies",
                                              args.image,
                                              targets,
                                              args.initResources,
                                          ),
                                      ],
                            ),
                            containers: [
                                licodeContainer("nuve", "nuve", args, {
                                    ports: [{ name: "http", containerPort: PORT }],
                                    ...nuveProbes(),
                                    // bash is PID 1 and drops SIGTERM, and Nuve has no handler
                                    // of its own: stop it once its requests are done.
                                    lifecycle: preStop(quiesceAndStopScript(NUVE_STOP)),
                                }),
                            ],
                            volumes: [args.config.volume],
                        },
                    },
                },
            },
            { parent: this },
        );

        const service = new k8s.core.v1.Service(
            name,
            {
                metadata: { name: objectName, namespace: args.namespace, labels: podLabels },
                spec: {
                    type: ingress.mode === "nodePort" ? "NodePort" : "ClusterIP",
                    selector,
                    ports: [
                        {
                            name: "http",
                            port: PORT,
                            targetPort: "http",
                            nodePort: ingress.mode === "nodePort" ? ingress.nodePort : undefined,
                        },
                    ],
                },
            },
            { parent: this },
        );
        this.serviceName = service.metadata.name;
        this.deploymentName = deployment.metadata.name;

        if (ingress.mode === "ingress") {
            new k8s.networking.v1.Ingress(
                name,
                {
                    metadata: {
                        name: objectName,
                        namespace: args.namespace,
                        labels: podLabels,
                        annotations: ingress.annotations,
                    },
                    spec: {
                        ingressClassName: ingress.className,
                        tls:
                            ingress.tlsSecret === undefined
                                ? undefined
                                : [{ hosts: [ingress.host], secretName: ingress.tlsSecret }],
                        rules: [
                            {
                                host: ingress.host,
                                http: {
                                    paths: [
                                        {
                                            path: "/",
                                            pathType: "Prefix",
                                            backend: {
                                                service: {
                                                    name: service.metadata.name,
                                                    port: { name: "http" },
                                                },
                                            },
                                        },
                                    ],
                                },
                            },
                        ],
                    },
                },
                { parent: this },
            );
            const scheme = ingress.tlsSecret === undefined ? "http" : "https";
            this.url = pulumi.output(`${scheme}://${ingress.host}/`);
        } else {
            this.nodePort = service.spec.ports.apply((ports) => ports[0].nodePort);
        }

        if (replicas > 1) {
            onePodAtATime(name, args.namespace, podLabels, selector, this);
        }
        if (args.networkPolicy ?? true) {
            // App servers, the ingress controller and NodePort traffic come from anywhere.
            isolate(
                name,
                args.namespace,
                podLabels,
                selector,
                {
                    ingress: [{ ports: [{ protocol: "TCP", port: PORT }] }],
                    egress: args.egress ?? [],
                },
                this,
            );
        }
        this.registerOutputs({
            serviceName: this.serviceName,
            deploymentName: this.deploymentName,
            nodePort: this.nodePort,
            url: this.url,
        });
    }
}
