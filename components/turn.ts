/**
 * TURN (coturn): relays media for clients that cannot reach a media node directly, over UDP or TCP
 * on 3478 and TLS on 443. Licode v10 hands every client the same long-term credentials
 * (erizoController.js 17-18, 360), so the server itself limits what a relay may reach.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parseCidr } from "./cidr";
import {
    ImageRef,
    Resources,
    TURN_METRICS_PORT,
    TURN_PORT,
    TURN_TLS_PORT,
    TurnConfig,
} from "./config";
import type { ApiDiscovery, ObjectLookup } from "./monitoring/api-discovery";
import { COTURN } from "./images";
import { checksum, fullname, labels, selectorLabels } from "./meta";
import {
    POD_DEFAULTS,
    imageName,
    imageVersion,
    pullSecrets,
    resourceRequirements,
    securityContext,
} from "./pod";
import { ProbeTiming, Probes } from "./probes";
import {
    Credentials,
    ExistingSecret,
    TierArgs,
    existingCredentials,
    generatedCredentials,
    onePodAtATime,
    publicChecksum,
    secretEnv,
} from "./tier";
import {
    TURN_ENV,
    TURN_FILES,
    TURN_PATHS,
    renderTurnPrepareScript,
    renderTurnserverConf,
} from "./turnserver-conf";

const TOKEN = "licode:index:Turn";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type IngressPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** Where TURN runs: on labelled nodes' own network, or behind a LoadBalancer at a fixed address. */
export type TurnPlacement =
    | { readonly mode: "hostNetwork"; readonly nodeSelector: Readonly<Record<string, string>> }
    | {
          readonly mode: "loadBalancer";
          readonly loadBalancerIP: string;
          readonly annotations?: Readonly<Record<string, string>>;
          readonly loadBalancerClass?: string;
      };

/** The certificate TURN over TLS serves. */
export interface TurnTlsArgs {
    /** The kubernetes.io/tls Secret (tls.crt, tls.key) in the namespace. Required. */
    readonly secretName: string;
    /** Have cert-manager issue it for the host with this issuer. Defaults to the operator's Secret. */
    readonly issuer?: { readonly name: string; readonly kind: "ClusterIssuer" | "Issuer" };
    /**
     * Read the Secret (after the Certificate, when there is one) to roll the pods when it is renewed.
     * Defaults to false: planTurnTls sets it only where the Secret exists or this run's Certificate makes it.
     */
    readonly rollOnRenewal?: boolean;
}

/** Arguments of the Turn component. */
export interface TurnArgs extends TierArgs {
    /** The coturn image. Required. */
    readonly image: ImageRef;
    /** Requests and limits of coturn's container (and its start script's). Required. */
    readonly resources: Resources;
    /** The name clients connect to, also coturn's realm. Required. */
    readonly host: string;
    /** Where TURN runs. Required. */
    readonly placement: TurnPlacement;
    /** Peer ranges (CIDR) coturn refuses. Required; an empty list lets TURN reach anything. */
    readonly deniedPeers: readonly string[];
    /** Peer ranges allowed inside denied ones. Defaults to none. */
    readonly allowedPeers?: readonly string[];
    /** The UDP ports relays take. Defaults to 49152-49999. */
    readonly relayPortRange?: { readonly min: number; readonly max: number };
    /** The TLS listener's certificate; undefined for no TLS listener. Defaults to none. */
    readonly tls?: TurnTlsArgs;
    /** The long-term user. Defaults to "licode", with a generated password. */
    readonly username?: string;
    /** An operator's Secret with the user and password, instead of a generated one. Defaults to none. */
    readonly existingSecret?: ExistingSecret<"username" | "password">;
    /** Concurrent allocations per user and in total. Defaults to 800 and 800. */
    readonly quotas?: { readonly perUser: number; readonly total: number };
    /** Bytes per second per session and for all together. Defaults to 250000 and 125000000. */
    readonly bandwidth?: { readonly perSession: number; readonly total: number };
    /** Serve Prometheus metrics, and who may scrape them. Defaults to no endpoint. */
    readonly metrics?: {
        readonly scrapers: IngressPeer[];
        readonly serviceAnnotations?: Record<string, string>;
    };
    /** Isolate the pods with a NetworkPolicy (LoadBalancer placement; host-network pods bypass them). Defaults to true. */
    readonly networkPolicy?: boolean;
    /** Seconds a stopping coturn may take. Defaults to 30. */
    readonly gracePeriodSeconds?: number;
}

/** The metrics port's name on the pods and the Service. */
export const TURN_METRICS_PORT_NAME = "metrics";

/**
 * The probe command: one STUN Binding request to the listener clients use (the answer comes from
 * the threads that relay), with coturn's own client (images.ts COTURN.stunClient), which waits
 * forever for an answer, hence `timeout`. One short-lived process a check.
 */
export function turnProbeCommand(): string[] {
    const waitSeconds = 2;
    return [
        "/bin/sh",
        "-c",
        `if timeout ${waitSeconds} ${COTURN.stunClient} -p ${TURN_PORT} "$${TURN_ENV.address}" >/dev/null; then exit 0; fi; ` +
            `echo "no STUN Binding answer from $${TURN_ENV.address}:${TURN_PORT} within ${waitSeconds} s" >&2; exit 1`,
    ];
}

/** coturn's probes, all running turnProbeCommand; liveness gives up three times later than readiness. */
export function turnProbes(): Probes {
    const probe = (timing: ProbeTiming) => ({ exec: { command: turnProbeCommand() }, ...timing });
    return {
        startupProbe: probe({ periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 24 }),
        readinessProbe: probe({ periodSeconds: 10, timeoutSeconds: 4, failureThreshold: 3 }),
        livenessProbe: probe({ periodSeconds: 30, timeoutSeconds: 4, failureThreshold: 3 }),
    };
}

/** The private copy of the config coturn starts from, and the command that starts it. */
export function turnCommand(): string[] {
    return [COTURN.binary, "-c", `${TURN_PATHS.runDir}/${TURN_FILES.conf}`];
}

/**
 * The rendered turnserver.conf and start script for these arguments. `paths` moves the files
 * elsewhere, for running coturn outside a container (test/turn/); the pod uses TURN_PATHS.
 */
export function turnFiles(
    args: TurnArgs,
    prometheus: boolean,
    paths: { readonly [K in keyof typeof TURN_PATHS]: string } = TURN_PATHS,
): Record<string, string> {
    const hostNetwork = args.placement.mode === "hostNetwork";
    return {
        [TURN_FILES.conf]: renderTurnserverConf({
            realm: args.host,
            relayPortRange: args.relayPortRange ?? { min: 49152, max: 49999 },
            tls:
                args.tls === undefined
                    ? undefined
                    : {
                          certFile: `${paths.certDir}/tls.crt`,
                          keyFile: `${paths.certDir}/tls.key`,
                      },
            deniedPeers: args.deniedPeers,
            allowedPeers: args.allowedPeers ?? [],
            userQuota: args.quotas?.perUser ?? 800,
            totalQuota: args.quotas?.total ?? 800,
            maxBps: args.bandwidth?.perSession ?? 250000,
            bpsCapacity: args.bandwidth?.total ?? 125000000,
            prometheus,
            // On the host network only root binds 443 (images.ts COTURN); it drops to nobody after.
            dropPrivilegesTo: hostNetwork
                ? { user: COTURN.user.name, group: COTURN.user.group }
                : undefined,
            runDir: paths.runDir,
            dataDir: paths.dataDir,
        }),
        [TURN_FILES.prepare]: renderTurnPrepareScript(paths.templateDir, paths.runDir),
    };
}

/**
 * TURN as one coturn per labelled node (a DaemonSet on the host network: relays bind the node's
 * ports, and one pod per node is what a fixed port needs), or as one coturn behind a LoadBalancer
 * (a Deployment of one: a relayed address is the LoadBalancer's, so every peer packet must reach
 * the pod that holds the allocation).
 */
export class Turn extends pulumi.ComponentResource {
    /** The credentials clients get. */
    public readonly username: pulumi.Output<string>;
    public readonly password: pulumi.Output<string>;
    /** The Secret with the credentials, and its keys (for the media check's pods). */
    public readonly credentialsSecret: {
        readonly name: pulumi.Output<string>;
        readonly usernameKey: string;
        readonly passwordKey: string;
    };
    /** The workload's name (DaemonSet or Deployment). */
    public readonly workloadName: pulumi.Output<string>;
    /** The labels that select the metrics Service, when metrics are on. */
    public readonly metricsServiceLabels: Record<string, string>;

    constructor(name: string, args: TurnArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const podLabels = labels("turn", args.instance, imageVersion(args.image));
        const selector = selectorLabels("turn", args.instance);
        const credentials = this.credentials(name, args, podLabels);
        const files = turnFiles(args, args.metrics !== undefined);
        const configMap = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            { metadata: { namespace: args.namespace, labels: podLabels }, data: files },
            { parent: this },
        );
        const certificate =
            args.tls?.issuer === undefined ? undefined : this.certificate(name, args, podLabels);
        const annotations: Record<string, pulumi.Input<string>> = {
            "checksum/turn-config": checksum(files),
            "checksum/turn-credentials": credentials.checksum,
        };
        if (args.tls?.rollOnRenewal === true) {
            annotations["checksum/turn-tls"] = this.tlsChecksum(name, args, certificate);
        }
        const template = {
            metadata: { labels: podLabels, annotations },
            spec: turnPodSpec(args, configMap.metadata.name, credentials),
        };
        this.workloadName = this.workload(name, args, podLabels, selector, template);
        if (args.placement.mode === "loadBalancer") {
            this.loadBalancer(name, args, args.placement, podLabels, selector);
        }
        this.metricsServiceLabels = { ...selector, "licode.io/turn-metrics": "true" };
        if (args.metrics !== undefined) {
            this.metricsService(name, args, podLabels, selector);
        }
        onePodAtATime(`${name}-pdb`, args.namespace, podLabels, selector, this);
        if ((args.networkPolicy ?? true) && args.placement.mode === "loadBalancer") {
            this.networkPolicy(name, args, podLabels, selector);
        }
        this.credentialsSecret = {
            name: credentials.secretName,
            usernameKey: credentials.usernameKey,
            passwordKey: credentials.passwordKey,
        };
        this.username = credentials.username;
        this.password = credentials.password;
        this.registerOutputs({ workloadName: this.workloadName, username: this.username });
    }

    /** The Secret with the long-term user: generated, or the operator's. */
    private credentials(
        name: string,
        args: TurnArgs,
        podLabels: Record<string, string>,
    ): Credentials {
        return args.existingSecret === undefined
            ? generatedCredentials(name, args.username ?? "licode", args.namespace, podLabels, this)
            : existingCredentials(
                  `${name}-existing-credentials`,
                  args.namespace,
                  args.existingSecret,
                  this,
              );
    }

    /**
     * A cert-manager Certificate for the host. `pulumi.com/waitFor` makes `up` wait until it is
     * issued (the provider's annotation since pulumi-kubernetes 4.18), so the pods find their Secret.
     */
    private certificate(
        name: string,
        args: TurnArgs,
        podLabels: Record<string, string>,
    ): k8s.apiextensions.CustomResource {
        const tls = args.tls as TurnTlsArgs & { issuer: NonNullable<TurnTlsArgs["issuer"]> };
        return new k8s.apiextensions.CustomResource(
            `${name}-certificate`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: {
                    namespace: args.namespace,
                    labels: podLabels,
                    annotations: { "pulumi.com/waitFor": "condition=Ready" },
                },
                spec: {
                    secretName: tls.secretName,
                    dnsNames: [args.host],
                    issuerRef: {
                        name: tls.issuer.name,
                        kind: tls.issuer.kind,
                        group: "cert-manager.io",
                    },
                    privateKey: { rotationPolicy: "Always" },
                },
            },
            { parent: this },
        );
    }

    /**
     * sha256 of the TLS Secret as the cluster holds it now: a renewed certificate changes the pod
     * template, so the next `up` rolls the pods one at a time. A Certificate being created has no
     * ID during preview, so the read waits for `up`.
     */
    private tlsChecksum(
        name: string,
        args: TurnArgs,
        certificate: k8s.apiextensions.CustomResource | undefined,
    ): pulumi.Output<string> {
        const secretName = (args.tls as TurnTlsArgs).secretName;
        const id =
            certificate === undefined
                ? pulumi.interpolate`${args.namespace}/${secretName}`
                : pulumi.interpolate`${args.namespace}/${certificate.id.apply(() => secretName)}`;
        const secret = k8s.core.v1.Secret.get(`${name}-tls`, id, {
            parent: this,
            dependsOn: certificate === undefined ? [] : [certificate],
        });
        return publicChecksum(secret.data.apply((data) => checksum(data ?? {})));
    }

    /** The DaemonSet (host network) or the Deployment of one (LoadBalancer). */
    private workload(
        name: string,
        args: TurnArgs,
        podLabels: Record<string, string>,
        selector: Record<string, string>,
        template: { metadata: object; spec: PodSpec },
    ): pulumi.Output<string> {
        const metadata = { name: fullname("turn"), namespace: args.namespace, labels: podLabels };
        if (args.placement.mode === "hostNetwork") {
            return new k8s.apps.v1.DaemonSet(
                name,
                {
                    metadata,
                    spec: {
                        selector: { matchLabels: selector },
                        // One node at a time, and no surge: a second coturn would fight for the ports.
                        updateStrategy: {
                            type: "RollingUpdate",
                            rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
                        },
                        template,
                    },
                },
                { parent: this },
            ).metadata.name;
        }
        return new k8s.apps.v1.Deployment(
            name,
            {
                metadata,
                spec: {
                    replicas: 1,
                    selector: { matchLabels: selector },
                    // Two pods behind one address would split each allocation's peer packets
                    // between them; a restart costs clients an ICE restart instead.
                    strategy: { type: "Recreate" },
                    template,
                },
            },
            { parent: this },
        ).metadata.name;
    }

    /** The LoadBalancer Service: the listeners and every relay port, at the reserved address. */
    private loadBalancer(
        name: string,
        args: TurnArgs,
        placement: Extract<TurnPlacement, { mode: "loadBalancer" }>,
        podLabels: Record<string, string>,
        selector: Record<string, string>,
    ): k8s.core.v1.Service {
        return new k8s.core.v1.Service(
            name,
            {
                metadata: {
                    name: fullname("turn"),
                    namespace: args.namespace,
                    labels: podLabels,
                    annotations: placement.annotations,
                },
                spec: {
                    type: "LoadBalancer",
                    loadBalancerIP: placement.loadBalancerIP,
                    loadBalancerClass: placement.loadBalancerClass,
                    // Clients' own addresses reach coturn (quotas and logs), and no second hop.
                    externalTrafficPolicy: "Local",
                    selector,
                    ports: turnListenerPorts(args).map((p) => ({
                        name: p.name,
                        protocol: p.protocol,
                        port: p.containerPort,
                        targetPort: p.name,
                    })),
                },
            },
            { parent: this },
        );
    }

    /** A headless Service for the metrics port, one target per pod. */
    private metricsService(
        name: string,
        args: TurnArgs,
        podLabels: Record<string, string>,
        selector: Record<string, string>,
    ): k8s.core.v1.Service {
        return new k8s.core.v1.Service(
            `${name}-metrics`,
            {
                metadata: {
                    name: fullname("turn", "metrics"),
                    namespace: args.namespace,
                    labels: { ...podLabels, "licode.io/turn-metrics": "true" },
                    annotations: args.metrics?.serviceAnnotations,
                },
                spec: {
                    clusterIP: "None",
                    selector,
                    ports: [
                        {
                            name: TURN_METRICS_PORT_NAME,
                            port: TURN_METRICS_PORT,
                            targetPort: TURN_METRICS_PORT_NAME,
                        },
                    ],
                },
            },
            { parent: this },
        );
    }

    /**
     * Behind a LoadBalancer: clients may reach the listeners and the relay ports, scrapers the
     * metrics; coturn may send to any address but the denied ranges (the allowed ones excepted),
     * the same rule its denied-peer-ip enforces, held a second time by the network.
     */
    private networkPolicy(
        name: string,
        args: TurnArgs,
        podLabels: Record<string, string>,
        selector: Record<string, string>,
    ): k8s.networking.v1.NetworkPolicy {
        const range = args.relayPortRange ?? { min: 49152, max: 49999 };
        const denied = args.deniedPeers.map(parseCidr).filter((r) => r !== undefined);
        // An ipBlock's exceptions must lie strictly inside it.
        const except = (family: 4 | 6, all: string) =>
            denied.filter((r) => r.family === family && r.cidr !== all).map((r) => r.cidr);
        const everywhereBut = [
            { ipBlock: { cidr: "0.0.0.0/0", except: except(4, "0.0.0.0/0") } },
            { ipBlock: { cidr: "::/0", except: except(6, "::/0") } },
        ];
        return new k8s.networking.v1.NetworkPolicy(
            name,
            {
                metadata: { namespace: args.namespace, labels: podLabels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [
                        {
                            ports: [
                                { protocol: "UDP", port: TURN_PORT },
                                { protocol: "TCP", port: TURN_PORT },
                                ...(args.tls === undefined
                                    ? []
                                    : [{ protocol: "TCP", port: TURN_TLS_PORT }]),
                                { protocol: "UDP", port: range.min, endPort: range.max },
                            ],
                        },
                        ...(args.metrics === undefined || args.metrics.scrapers.length === 0
                            ? []
                            : [
                                  {
                                      from: args.metrics.scrapers,
                                      ports: [{ protocol: "TCP", port: TURN_METRICS_PORT }],
                                  },
                              ]),
                    ],
                    egress: [
                        { to: everywhereBut, ports: [{ protocol: "UDP" }] },
                        ...((args.allowedPeers ?? []).length === 0
                            ? []
                            : [
                                  {
                                      to: (args.allowedPeers ?? []).map((cidr) => ({
                                          ipBlock: { cidr: parseCidr(cidr)?.cidr ?? cidr },
                                      })),
                                      ports: [{ protocol: "UDP" }],
                                  },
                              ]),
                    ],
                },
            },
            { parent: this },
        );
    }
}

/** The ports coturn listens on, by name; behind a LoadBalancer also every relay port. */
export function turnListenerPorts(
    args: Pick<TurnArgs, "tls" | "placement" | "relayPortRange">,
): { name: string; protocol: "UDP" | "TCP"; containerPort: number }[] {
    const ports: { name: string; protocol: "UDP" | "TCP"; containerPort: number }[] = [
        { name: "turn-udp", protocol: "UDP", containerPort: TURN_PORT },
        { name: "turn-tcp", protocol: "TCP", containerPort: TURN_PORT },
    ];
    if (args.tls !== undefined) {
        ports.push({ name: "turns", protocol: "TCP", containerPort: TURN_TLS_PORT });
    }
    if (args.placement.mode === "loadBalancer") {
        // A Service forwards only ports it lists, each to a port the pod declares.
        const range = args.relayPortRange ?? { min: 49152, max: 49999 };
        for (let port = range.min; port <= range.max; port++) {
            ports.push({ name: `relay-${port}`, protocol: "UDP", containerPort: port });
        }
    }
    return ports;
}

/**
 * The pod: a start script writes the private config (credentials, the address), then coturn runs
 * as PID 1 (SIGTERM ends it; images.ts COTURN.signals). On the host network it starts as root with
 * only the capabilities to bind 443 and drop to nobody; behind a LoadBalancer it runs as nobody
 * and the pod's own network namespace lets it bind 443.
 */
export function turnPodSpec(
    args: TurnArgs,
    configMapName: pulumi.Input<string>,
    credentials: Credentials,
): PodSpec {
    const hostNetwork = args.placement.mode === "hostNetwork";
    const user = hostNetwork ? 0 : COTURN.user.uid;
    const address: k8s.types.input.core.v1.EnvVar = {
        name: TURN_ENV.address,
        valueFrom: { fieldRef: { fieldPath: hostNetwork ? "status.hostIP" : "status.podIP" } },
    };
    const identity = {
        runAsUser: user,
        runAsGroup: user,
        runAsNonRoot: user !== 0,
    };
    const prepare: Container = {
        name: "prepare",
        image: imageName(args.image),
        imagePullPolicy: args.image.pullPolicy,
        command: ["/bin/sh", `${TURN_PATHS.templateDir}/${TURN_FILES.prepare}`],
        env: [
            address,
            ...(args.placement.mode === "loadBalancer"
                ? [{ name: TURN_ENV.externalIp, value: args.placement.loadBalancerIP }]
                : []),
            secretEnv(TURN_ENV.username, credentials.secretName, credentials.usernameKey),
            secretEnv(TURN_ENV.password, credentials.secretName, credentials.passwordKey),
        ],
        resources: resourceRequirements(args.resources),
        securityContext: { ...securityContext({ readOnlyRootFilesystem: true }), ...identity },
        volumeMounts: [
            { name: "template", mountPath: TURN_PATHS.templateDir, readOnly: true },
            { name: "run", mountPath: TURN_PATHS.runDir },
        ],
    };
    const coturn: Container = {
        name: "turn",
        image: imageName(args.image),
        imagePullPolicy: args.image.pullPolicy,
        command: turnCommand(),
        env: [address],
        ports: [
            ...turnListenerPorts(args),
            ...(args.metrics === undefined
                ? []
                : [
                      {
                          name: TURN_METRICS_PORT_NAME,
                          protocol: "TCP" as const,
                          containerPort: TURN_METRICS_PORT,
                      },
                  ]),
        ],
        resources: resourceRequirements(args.resources),
        ...turnProbes(),
        securityContext: {
            ...securityContext({ readOnlyRootFilesystem: true }),
            ...identity,
            capabilities: hostNetwork
                ? { drop: ["ALL"], add: ["NET_BIND_SERVICE", "SETUID", "SETGID"] }
                : { drop: ["ALL"] },
        },
        volumeMounts: [
            { name: "run", mountPath: TURN_PATHS.runDir },
            { name: "data", mountPath: TURN_PATHS.dataDir },
            ...(args.tls === undefined
                ? []
                : [{ name: "tls", mountPath: TURN_PATHS.certDir, readOnly: true }]),
        ],
    };
    return {
        ...POD_DEFAULTS,
        ...(hostNetwork
            ? {
                  hostNetwork: true,
                  dnsPolicy: "ClusterFirstWithHostNet",
                  nodeSelector: { ...args.placement.nodeSelector },
              }
            : {}),
        securityContext: {
            seccompProfile: { type: "RuntimeDefault" },
            // Its own network namespace: nobody may bind 443 there (a safe sysctl).
            ...(hostNetwork
                ? {}
                : { sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }] }),
        },
        imagePullSecrets: pullSecrets(args.image),
        terminationGracePeriodSeconds: args.gracePeriodSeconds ?? 30,
        initContainers: [prepare],
        containers: [coturn],
        volumes: [
            { name: "template", configMap: { name: configMapName } },
            // The copy holds the password: memory only, gone with the pod.
            { name: "run", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
            { name: "data", emptyDir: { sizeLimit: "16Mi" } },
            ...(args.tls === undefined
                ? []
                : [{ name: "tls", secret: { secretName: args.tls.secretName } }]),
        ],
    };
}

/** The Turn component's arguments from the stack's `turn` config, as index.ts passes them. */
export function turnArgsOf(
    config: TurnConfig,
    tier: TierArgs,
    tls: TurnTlsArgs | undefined,
    options: { readonly metrics?: TurnArgs["metrics"]; readonly networkPolicy: boolean },
): TurnArgs {
    if (config.host === undefined) {
        throw new Error("licode:turn.host: required when TURN is enabled");
    }
    return {
        ...tier,
        image: config.image,
        resources: config.resources,
        host: config.host,
        placement: config.placement,
        deniedPeers: config.deniedPeers,
        allowedPeers: config.allowedPeers,
        relayPortRange: config.relayPortRange,
        tls,
        username: config.username,
        existingSecret: config.existingSecret,
        quotas: { perUser: config.userQuota, total: config.totalQuota },
        bandwidth: { perSession: config.maxBps, total: config.bpsCapacity },
        metrics: options.metrics,
        networkPolicy: options.networkPolicy,
        gracePeriodSeconds: config.gracePeriodSeconds,
    };
}

/** cert-manager's API, asked for as the Prometheus Operator's is (monitoring/plan.ts). */
export const CERT_MANAGER_GROUP = { group: "cert-manager.io", version: "v1" } as const;

/** How the TLS listener gets its certificate in this run, and what to tell the operator. */
export interface TurnTlsPlan {
    readonly tls?: TurnTlsArgs;
    readonly warnings: readonly string[];
}

/** What {@link planTurnTls} needs to know of the run, and how it asks the cluster. */
export interface TurnTlsContext {
    /** The stack's namespace, where the Secret lives. */
    readonly namespace: string;
    /** Whether the stack creates the namespace (`licode:createNamespace`), for the advice. */
    readonly createNamespace: boolean;
    /** Render mode: the YAML goes to a cluster the program cannot ask. */
    readonly renderMode: boolean;
    /** A preview (`pulumi preview`, or the one `up` starts with) rather than the update itself. */
    readonly dryRun: boolean;
    /** Whether the cluster serves cert-manager.io/v1; asked at most once. */
    readonly discover: () => ApiDiscovery;
    /** Whether the Secret exists; asked at most once, and only of a cluster that answered. */
    readonly findSecret: (namespace: string, name: string) => ObjectLookup;
}

/**
 * Decides, once per run and before anything is registered, whether to declare a cert-manager
 * Certificate (`certManager.create`: true, false, or `auto`: when the cluster serves
 * cert-manager.io/v1 Certificates) and whether to read the Secret to roll the pods on renewal.
 *
 * The Secret is read only where it is there to read: the provider's read fails the whole run on a
 * missing object. Where it is missing:
 * - a Certificate this run declares makes it: `up` reads it once the Certificate is Ready (the
 *   provider waits for that), a preview leaves the checksum out;
 * - otherwise nothing will make it, and TURN's pods cannot start without it (on a cluster with
 *   TURN nodes `up` would wait out the DaemonSet's rollout instead): the update stops here, before
 *   anything is deployed, naming the Secret, the namespace and the fix. A preview only warns, so
 *   that a change whose pipeline creates the Secret between preview and `up` passes its preview.
 *
 * Render mode asks no cluster; neither does a run whose cluster did not answer discovery.
 */
export function planTurnTls(tls: TurnConfig["tls"], context: TurnTlsContext): TurnTlsPlan {
    if (tls === undefined) {
        return { warnings: [] };
    }
    const discovery: ApiDiscovery = context.renderMode
        ? { status: "unknown", reason: "render mode does not ask a cluster" }
        : context.discover();
    const warnings: string[] = [];
    const manager = tls.certManager;
    let create = false;
    if (manager !== undefined) {
        if (manager.create === "auto") {
            create = discovery.status === "served" && discovery.kinds.has("Certificate");
            if (discovery.status === "unknown") {
                warnings.push(
                    `licode:turn.tls.certManager.create is auto, but whether the cluster serves ${CERT_MANAGER_GROUP.group}/${CERT_MANAGER_GROUP.version} is unknown (${discovery.reason}); no Certificate is declared and TURN expects the Secret "${tls.secretName}". Set create to true or false to decide.`,
                );
            }
        } else {
            create = manager.create;
        }
    }
    const issuer = create && manager !== undefined ? manager.issuer : undefined;
    const plan = (rollOnRenewal: boolean): TurnTlsPlan => ({
        tls: { secretName: tls.secretName, issuer, rollOnRenewal },
        warnings,
    });
    if (discovery.status === "unknown") {
        warnings.push(
            `TURN's pods roll on a renewed certificate only when the program reads the Secret "${tls.secretName}" from the cluster, which this run cannot (${discovery.reason}); the pod template carries no certificate checksum this time.`,
        );
        return plan(false);
    }
    // Where the lookup cannot tell, the provider reads the Secret as it always did, and says why
    // if it cannot either.
    if (context.findSecret(context.namespace, tls.secretName).status !== "absent") {
        return plan(true);
    }
    if (issuer !== undefined) {
        return plan(!context.dryRun);
    }
    const missing = missingTurnSecret(tls, context, discovery);
    if (!context.dryRun) {
        throw new pulumi.RunError(`${missing}\nNothing was deployed.`);
    }
    warnings.push(
        `${missing} This preview goes on without it; \`pulumi up\` stops here unless the Secret exists by then.`,
    );
    return plan(false);
}

/** Why TURN's certificate Secret is missing with nothing to make it, and how to fix that. */
function missingTurnSecret(
    tls: NonNullable<TurnConfig["tls"]>,
    context: TurnTlsContext,
    discovery: Exclude<ApiDiscovery, { status: "unknown" }>,
): string {
    const { namespace } = context;
    const create = `kubectl -n ${namespace} create secret tls ${tls.secretName} --cert=<certificate chain for licode:turn.host> --key=<its private key>`;
    let why: string;
    let alternative = "";
    if (tls.certManager === undefined) {
        why = "the Secret is yours (licode:turn.tls has no certManager)";
    } else if (tls.certManager.create === false) {
        why =
            "licode:turn.tls.certManager.create is false, so the stack declares no Certificate to issue it";
        alternative =
            ", or set licode:turn.tls.certManager.create to auto with cert-manager installed";
    } else {
        why = `licode:turn.tls.certManager.create is auto and the cluster (${discovery.server}) serves no ${CERT_MANAGER_GROUP.group}/${CERT_MANAGER_GROUP.version} Certificate, so the stack declares none to issue it`;
        alternative =
            ", or install cert-manager: the next run declares the Certificate and waits for it";
    }
    const namespaceAdvice = context.createNamespace
        ? ` The stack creates namespace "${namespace}" itself (licode:createNamespace): to hold your Secret before the first up, create the namespace and the Secret first and set licode:createNamespace to false.`
        : "";
    return `licode:turn.tls.secretName: the Secret "${tls.secretName}" does not exist in namespace "${namespace}", and TURN's pods mount it to serve TLS on ${TURN_TLS_PORT}; ${why}. Create it (${create})${alternative}.${namespaceAdvice}`;
}
