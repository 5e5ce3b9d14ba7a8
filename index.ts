// Licode on Kubernetes: loads the stack config, then wires the tiers together.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ErizoAgent } from "./components/erizo-agent";
import { ErizoController } from "./components/erizo-controller";
import { LicodeConfigSecret } from "./components/licode-config-secret";
import { MongoDb, externalMongoEgress } from "./components/mongodb";
import { Nuve } from "./components/nuve";
import { RabbitMq } from "./components/rabbitmq";
import { Superservice } from "./components/superservice";
import { loadStackConfig } from "./components/load-stack-config";
import { ROOMS_PER_CONTROLLER } from "./components/licode-config-file";
import { selectorLabels } from "./components/meta";
import { discoverApiGroup, lookupObject } from "./components/monitoring/api-discovery";
import { Monitoring, scrapeAnnotations } from "./components/monitoring/monitoring";
import { DRAIN_METRICS_ENDPOINT } from "./components/monitoring/drain-metrics";
import { OPERATOR_GROUP, planMonitoring } from "./components/monitoring/plan";
import { PROMETHEUS_PORT_NAME } from "./components/rabbitmq";
import { LICODE, RABBITMQ } from "./components/images";
import { serviceHost } from "./components/tier";
import { ROV_METRICS, Rov } from "./components/rov";
import {
    CERT_MANAGER_GROUP,
    TURN_METRICS_PORT_NAME,
    Turn,
    planTurnTls,
    turnArgsOf,
} from "./components/turn";
import { turnIceServer } from "./components/turnserver-conf";
import { MediaCheck, stunServerOf } from "./components/media-check";
import { COTURN } from "./components/images";
import { TURN_METRICS_PORT } from "./components/config";

const config = loadStackConfig();
const instance = `licode-${pulumi.getStack()}`;
const partOf = { "app.kubernetes.io/part-of": "licode", "app.kubernetes.io/instance": instance };

// TURN's certificate, decided before anything is registered: an update that cannot serve TLS
// (its Secret missing, with nothing to make it) stops here and deploys nothing.
const turnTls = config.turn.enabled
    ? planTurnTls(config.turn.tls, {
          namespace: config.namespace,
          createNamespace: config.createNamespace,
          renderMode: config.renderYamlToDirectory !== undefined,
          dryRun: pulumi.runtime.isDryRun(),
          discover: () => discoverApiGroup(CERT_MANAGER_GROUP.group, CERT_MANAGER_GROUP.version),
          findSecret: (namespace, name) =>
              lookupObject(
                  `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
              ),
      })
    : undefined;
turnTls?.warnings.forEach((warning) => pulumi.log.warn(warning));

// The cluster comes from KUBECONFIG; render mode writes YAML for review or GitOps instead.
const provider = new k8s.Provider("kubernetes", {
    renderYamlToDirectory: config.renderYamlToDirectory,
});

// ErizoController and ErizoAgent need the host network, which only the privileged level admits.
// Auditing at baseline records any pod that goes further; a warn label would print a warning for
// every expected host-network pod on each deployment. A namespace the operator made (to hold their
// own Secrets before the first up) is used as it is: they label it.
const namespace = config.createNamespace
    ? new k8s.core.v1.Namespace(
          "namespace",
          {
              metadata: {
                  name: config.namespace,
                  labels: {
                      ...partOf,
                      "pod-security.kubernetes.io/enforce": "privileged",
                      "pod-security.kubernetes.io/audit": "baseline",
                  },
              },
          },
          { provider },
      )
    : k8s.core.v1.Namespace.get("namespace", config.namespace, { provider });
const tierArgs = { namespace: namespace.metadata.name, instance };
const tierOptions = { provider };

// Prometheus Operator objects where the cluster has them (or the stack says so); otherwise the
// Services carry the prometheus.io annotations a plain Prometheus scrapes by.
const monitoringPlan = config.metrics.enabled
    ? planMonitoring(
          config.metrics,
          () => discoverApiGroup(OPERATOR_GROUP.group, OPERATOR_GROUP.version),
          config.renderYamlToDirectory !== undefined,
      )
    : undefined;
monitoringPlan?.warnings.forEach((warning) => pulumi.log.warn(warning));
const annotate = monitoringPlan !== undefined && !monitoringPlan.serviceMonitors;
const scrapers = [
    {
        podSelector: { matchLabels: config.metrics.scraper.podLabels },
        // An empty namespace selector matches every namespace.
        namespaceSelector: { matchLabels: config.metrics.scraper.namespaceLabels ?? {} },
    },
];

const rabbitmq = new RabbitMq(
    "rabbitmq",
    {
        ...tierArgs,
        image: config.rabbitmq.image,
        resources: config.rabbitmq.resources,
        replicas: config.rabbitmq.replicas,
        management: config.rabbitmq.management,
        networkPolicy: config.networkPolicy.enabled,
        nodeCidrs: config.networkPolicy.nodeCidrs,
        existingSecret: config.rabbitmq.existingSecret,
        metrics: config.metrics.enabled
            ? {
                  scrapers,
                  serviceAnnotations: annotate
                      ? scrapeAnnotations(RABBITMQ.prometheusPort, "/metrics")
                      : undefined,
              }
            : undefined,
    },
    tierOptions,
);

// An external MongoDB replaces the tier; Nuve and the bootstrap Job then use the given URL.
let mongodb: MongoDb | undefined;
let mongoUrl: pulumi.Output<string>;
let mongoEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule;
if (config.storage.kind === "external") {
    mongoUrl = pulumi.secret(config.storage.url);
    mongoEgress = externalMongoEgress(config.storage.url);
} else {
    mongodb = new MongoDb(
        "mongodb",
        {
            ...tierArgs,
            image: config.mongodb.image,
            resources: config.mongodb.resources,
            replicas: config.mongodb.replicas,
            storage: config.storage,
            networkPolicy: config.networkPolicy.enabled,
            existingSecret: config.mongodb.existingSecret,
        },
        tierOptions,
    );
    mongoUrl = mongodb.connectionUrl;
    mongoEgress = mongodb.clientEgress;
}

const superservice = new Superservice(
    "superservice",
    {
        ...tierArgs,
        mongoUrl,
        image: config.bootstrap.image,
        resources: config.bootstrap.resources,
        keyGeneration: config.superservice.keyGeneration,
        protectId:
            config.storage.kind !== "external" && config.storage.dataProtection === "protect",
        networkPolicy: config.networkPolicy.enabled,
        egress: [mongoEgress],
        existingSecret: config.superservice.existingSecret,
    },
    tierOptions,
);

// TURN for clients that cannot reach a media node directly; its credentials go into every
// client's iceServers through the config below.
let turn: Turn | undefined;
if (config.turn.enabled) {
    turn = new Turn(
        "turn",
        turnArgsOf(config.turn, tierArgs, turnTls?.tls, {
            networkPolicy: config.networkPolicy.enabled,
            metrics:
                monitoringPlan !== undefined && config.turn.metrics
                    ? {
                          scrapers,
                          serviceAnnotations: annotate
                              ? scrapeAnnotations(TURN_METRICS_PORT, COTURN.prometheus.path)
                              : undefined,
                      }
                    : undefined,
        }),
        tierOptions,
    );
}
const turnForLicode =
    turn === undefined
        ? undefined
        : pulumi.all([turn.username, turn.password]).apply(([username, password]) => ({
              iceServer: turnIceServer(
                  config.turn.host ?? "",
                  username,
                  password,
                  config.turn.tls !== undefined,
              ),
              erizo:
                  config.turn.erizoRelay === undefined
                      ? undefined
                      : { address: config.turn.erizoRelay.address, username, password },
          }));

const licodeConfigSecret = new LicodeConfigSecret(
    "licode-config",
    {
        namespace: namespace.metadata.name,
        labels: partOf,
        settings: config,
        rabbitUrl: rabbitmq.amqpUrl,
        mongoUrl,
        superserviceId: superservice.id,
        superserviceKey: superservice.key,
        turn: turnForLicode,
    },
    tierOptions,
);
const configMount = licodeConfigSecret.mount();

const nuve = new Nuve(
    "nuve",
    {
        ...tierArgs,
        image: config.nuve.image,
        resources: config.nuve.resources,
        replicas: config.nuve.replicas,
        config: configMount,
        ingress: config.ingress,
        initResources: config.bootstrap.resources,
        networkPolicy: config.networkPolicy.enabled,
        egress: [rabbitmq.clientEgress, mongoEgress],
        dependencies: [
            { host: rabbitmq.host, port: rabbitmq.port },
            ...(mongodb === undefined ? [] : [{ host: mongodb.host, port: mongodb.port }]),
        ],
    },
    tierOptions,
);

const erizoController = new ErizoController(
    "erizo-controller",
    {
        ...tierArgs,
        image: config.erizoController.image,
        resources: config.erizoController.resources,
        replicas: config.erizoController.replicas,
        config: configMount,
        nodeSelector: config.erizoController.nodeSelector,
        publicAddress: config.publicAddress,
        port: config.erizoController.port,
        gracePeriodSeconds: config.erizoController.gracePeriodSeconds,
        maxSurge: config.erizoController.maxSurge,
        maxUnavailable: config.erizoController.maxUnavailable,
        tlsSecretName: config.erizoController.tls?.secretName,
        // The drain releases a stopping controller's idle rooms through Nuve's REST API.
        nuveUrl: pulumi.interpolate`http://${serviceHost(nuve.serviceName, namespace.metadata.name)}:${LICODE.nuve.port}/`,
    },
    tierOptions,
);

const erizoAgent = new ErizoAgent(
    "erizo-agent",
    {
        ...tierArgs,
        image: config.erizoAgent.image,
        resources: config.erizoAgent.resources,
        config: configMount,
        pools: config.media.pools,
        publicAddress: config.publicAddress,
        gracePeriodSeconds: config.media.gracePeriodSeconds,
        maxUnavailable: config.media.maxUnavailable,
        updateStrategy: config.media.updateStrategy,
        rolloutNodes: config.media.rolloutNodes,
        recordings: config.erizoAgent.recordings,
    },
    tierOptions,
);

// Every media node checked for the address it announces and the UDP it must receive.
const stun = stunServerOf(config);
if (config.mediaCheck.enabled && stun !== undefined) {
    new MediaCheck(
        "media-check",
        {
            ...tierArgs,
            image: config.erizoAgent.image,
            resources: config.bootstrap.resources,
            pools: config.media.pools,
            publicAddress: config.publicAddress,
            target: {
                stun,
                turn:
                    turn === undefined
                        ? undefined
                        : { host: stun.host, port: stun.port, secret: turn.credentialsSecret },
            },
            samplePorts: config.mediaCheck.samplePorts,
            timeoutSeconds: config.mediaCheck.timeoutSeconds,
        },
        { ...tierOptions, dependsOn: [erizoAgent, ...(turn === undefined ? [] : [turn])] },
    );
}

if (monitoringPlan !== undefined) {
    const rov = new Rov(
        "rov",
        {
            ...tierArgs,
            image: config.metrics.image,
            resources: config.metrics.resources,
            initResources: config.bootstrap.resources,
            rabbitUrl: rabbitmq.amqpUrl,
            rabbit: { host: rabbitmq.host, port: rabbitmq.port },
            statsPeriodSeconds: config.metrics.statsPeriod,
            logLevel: config.logLevel,
            networkPolicy: config.networkPolicy.enabled,
            scrapers,
            egress: [rabbitmq.clientEgress],
            serviceAnnotations: annotate
                ? scrapeAnnotations(ROV_METRICS.port, ROV_METRICS.path)
                : undefined,
        },
        tierOptions,
    );
    new Monitoring(
        "monitoring",
        {
            namespace: namespace.metadata.name,
            labels: { ...partOf, ...config.metrics.labels },
            serviceMonitors: monitoringPlan.serviceMonitors,
            scrapeInterval: config.metrics.scrapeInterval,
            targets: {
                rov: {
                    selector: rov.serviceLabels,
                    port: ROV_METRICS.portName,
                    path: ROV_METRICS.path,
                },
                rabbitmq: {
                    selector: selectorLabels("rabbitmq", instance),
                    port: PROMETHEUS_PORT_NAME,
                    path: "/metrics",
                    // The drains keep their figures at the broker (drain-metrics.ts).
                    extraEndpoints: [DRAIN_METRICS_ENDPOINT],
                },
                ...(turn !== undefined && config.turn.metrics
                    ? {
                          turn: {
                              selector: turn.metricsServiceLabels,
                              port: TURN_METRICS_PORT_NAME,
                              path: COTURN.prometheus.path,
                          },
                      }
                    : {}),
            },
            alerts: monitoringPlan.prometheusRule
                ? pulumi.output({
                      namespace: config.namespace,
                      nuveDeployment: nuve.deploymentName,
                      erizoControllerDeployment: erizoController.deploymentName,
                      mediaDaemonSets: erizoAgent.daemonSetNames,
                      mongodbStatefulSet: mongodb?.statefulSetName,
                      rovService: rov.serviceName,
                      statsPeriodSeconds: config.metrics.statsPeriod,
                      failedConnectionsPerPeriod: config.metrics.alerts.failedConnectionsPerPeriod,
                      roomLimit: ROOMS_PER_CONTROLLER.limit,
                      roomsPerControllerRatio: config.metrics.alerts.roomsPerControllerRatio,
                      turn:
                          turn === undefined
                              ? undefined
                              : {
                                    workload: turn.workloadName,
                                    kind:
                                        config.turn.placement.mode === "hostNetwork"
                                            ? "daemonset"
                                            : "deployment",
                                    metrics: config.turn.metrics,
                                    totalQuota: config.turn.totalQuota,
                                },
                  })
                : undefined,
            dashboard: config.metrics.dashboard
                ? {
                      uid: instance,
                      namespace: config.namespace,
                      roomLimit: ROOMS_PER_CONTROLLER.limit,
                      erizoControllers: config.erizoController.replicas,
                      turn: turn !== undefined && config.turn.metrics,
                  }
                : undefined,
        },
        tierOptions,
    );
}

export const namespaceName = namespace.metadata.name;
/** How clients reach Nuve: its public URL in ingress mode, or the port open on every node. */
export const nuveEndpoint =
    config.ingress.mode === "ingress"
        ? { mode: "ingress", url: nuve.url }
        : { mode: "nodePort", nodePort: nuve.nodePort };
export const nuveServiceUrl = pulumi.interpolate`http://${nuve.serviceName}.${namespace.metadata.name}.svc:3000/`;
export const superserviceId = superservice.id;
export const superserviceKey = superservice.key;
export const mediaPools = config.media.pools.map((pool) => ({
    name: pool.name,
    nodeSelector: pool.nodeSelector,
    udpPortRange: `${pool.portRange.min}-${pool.portRange.max}`,
}));
/** What clients are told about TURN (the credentials are in licode_config.js, not here). */
export const turnUrls = config.turn.enabled
    ? turnIceServer(config.turn.host ?? "", "", "", config.turn.tls !== undefined).urls
    : [];
