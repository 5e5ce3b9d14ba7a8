/** MongoDB: Nuve's store and the only stateful tier. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, StackConfig, Resources } from "./config";
import { MONGO } from "./images";
import { TierName, fullname, labels, selectorLabels } from "./meta";
import {
    POD_DEFAULTS,
    imageName,
    imageVersion,
    nonRootPodSecurity,
    pullSecrets,
    resourceRequirements,
    securityContext,
} from "./pod";
import { mongoProbes } from "./probes";
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
    secretEnv,
    serviceHost,
} from "./tier";

const TOKEN = "licode:index:MongoDb";
const USERNAME = "root";
const DATA_CLAIM = fullname("mongodb", "data");
/** mongod's scratch paths: its unix socket and temporary files, and the config-server directory it never uses here. */
const SCRATCH_SIZE_LIMIT = "64Mi";

/**
 * An init container that hands a hostPath data directory to MongoDB's user. The kubelet creates
 * a hostPath directory root-owned and does not apply fsGroup to it, and the image fixes ownership
 * only when it starts as root (images.ts), so mongod as UID 999 could not write it. It runs as
 * root with CAP_CHOWN alone, and chowns only the directory itself: everything inside was created
 * by mongod as its owner, and a recursive walk into mongod's 0700 directories would need
 * CAP_DAC_READ_SEARCH as well.
 */
export function dataOwnerContainer(
    image: ImageRef,
    resources: Resources,
): k8s.types.input.core.v1.Container {
    return {
        name: "data-owner",
        image: imageName(image),
        imagePullPolicy: image.pullPolicy,
        command: dataOwnerCommand(),
        resources: resourceRequirements(resources),
        securityContext: {
            runAsUser: 0,
            runAsGroup: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"], add: ["CHOWN"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
        volumeMounts: [{ name: "data", mountPath: MONGO.dataDir }],
    };
}

/** `chown 999:999 /data/db`. */
export function dataOwnerCommand(): string[] {
    return ["chown", `${MONGO.uid}:${MONGO.uid}`, MONGO.dataDir];
}

/**
 * The egress rule a client needs to reach an external MongoDB: its port (27017 unless the URL
 * names another; `mongodb+srv` looks its hosts up, on 27017 by convention) on any address, since
 * the database lives outside the cluster.
 */
export function externalMongoEgress(
    url: string,
): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
    const port = /^mongodb:\/\/(?:[^@/]*@)?[^/:,]+:(\d+)/.exec(url)?.[1];
    return { ports: [{ protocol: "TCP", port: port === undefined ? MONGO.port : Number(port) }] };
}

/** Storage choices that deploy a MongoDB (the external kind deploys none). */
export type MongoStorage = Exclude<StackConfig["storage"], { kind: "external" }>;

/** Arguments of the MongoDb component. */
export interface MongoDbArgs extends TierArgs {
    /** Database image. Required (defaults live in config/defaults.ts). */
    readonly image: ImageRef;
    /** Requests and limits of the database container. Required. */
    readonly resources: Resources;
    /** Where the data lives: NFS, hostPath or a StorageClass. Required. */
    readonly storage: MongoStorage;
    /** 1, or 0 to stop the database while keeping its data. Defaults to 1. */
    readonly replicas?: number;
    /** Whether to restrict traffic with a NetworkPolicy. Defaults to true. */
    readonly networkPolicy?: boolean;
    /** The tiers whose pods may connect. Defaults to Nuve and the superservice bootstrap. */
    readonly clients?: readonly TierName[];
    /** The operator's Secret with the root user and password. Defaults to generated ones. */
    readonly existingSecret?: ExistingSecret<"username" | "password">;
}

/**
 * WiredTiger's cache, in GB: MongoDB's own rule (half of memory beyond 1 GB, at least 0.25 GB),
 * applied to the container's limit because mongod would otherwise size it from the node's RAM.
 */
export function wiredTigerCacheGb(memoryLimit: string): number {
    const bytes = parseQuantity(memoryLimit) ?? 0;
    const gb = bytes / 2 ** 30;
    return Math.max(0.25, Math.floor((gb - 1) * 0.5 * 100) / 100);
}

/** Name of the static PersistentVolume for a namespace: PVs are cluster-wide, so it carries the namespace. */
export function volumeName(namespace: string): string {
    return `${fullname("mongodb", "data")}-${namespace}`.slice(0, 253);
}

/** MongoDB as a single-member StatefulSet with generated root credentials and a managed data claim. */
export class MongoDb extends pulumi.ComponentResource {
    /** Nuve's connection URL with credentials and database. */
    public readonly connectionUrl: pulumi.Output<string>;
    /** The database's in-cluster host name. */
    public readonly host: pulumi.Output<string>;
    /** The database port. */
    public readonly port: number = MONGO.port;
    /** The claim that holds the data. */
    public readonly dataClaim: k8s.core.v1.PersistentVolumeClaim;
    /** The egress rule a client's NetworkPolicy needs to reach the database. */
    public readonly clientEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule;
    /** The StatefulSet's name. */
    public readonly statefulSetName: pulumi.Output<string>;

    constructor(name: string, args: MongoDbArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const podLabels = labels("mongodb", args.instance, imageVersion(args.image));
        const selector = selectorLabels("mongodb", args.instance);
        const stsName = fullname("mongodb");
        const storage = args.storage;
        // Data survives `pulumi destroy` when the stack asks for it; the CLI names the protected objects.
        const dataOptions: pulumi.CustomResourceOptions = {
            parent: this,
            protect: storage.dataProtection === "protect",
            retainOnDelete: storage.dataProtection === "retainOnDelete",
        };

        const credentials: Credentials =
            args.existingSecret === undefined
                ? generatedCredentials(name, USERNAME, args.namespace, podLabels, this, {
                      protect: storage.dataProtection === "protect",
                  })
                : existingCredentials(
                      `${name}-existing-credentials`,
                      args.namespace,
                      args.existingSecret,
                      this,
                  );

        let staticVolume: k8s.core.v1.PersistentVolume | undefined;
        if (storage.kind === "nfs" || storage.kind === "hostPath") {
            const source =
                storage.kind === "nfs"
                    ? { nfs: { server: storage.server, path: storage.path } }
                    : {
                          hostPath: { path: storage.path, type: "DirectoryOrCreate" },
                          // The directory exists on one node only: the scheduler must bring
                          // MongoDB back there, or it would start on an empty directory elsewhere.
                          nodeAffinity: {
                              required: {
                                  nodeSelectorTerms: [
                                      {
                                          matchExpressions: [
                                              {
                                                  key: "kubernetes.io/hostname",
                                                  operator: "In",
                                                  values: [storage.node],
                                              },
                                          ],
                                      },
                                  ],
                              },
                          },
                      };
            staticVolume = new k8s.core.v1.PersistentVolume(
                `${name}-data`,
                {
                    metadata: {
                        name: pulumi.output(args.namespace).apply(volumeName),
                        labels: podLabels,
                    },
                    spec: {
                        capacity: { storage: storage.size },
                        accessModes: ["ReadWriteOnce"],
                        persistentVolumeReclaimPolicy:
                            storage.kind === "nfs" ? storage.reclaimPolicy : "Retain",
                        // An empty class keeps a cluster's default StorageClass away from this claim.
                        storageClassName: "",
                        // Reserved for our claim, so no other claim can take the data.
                        claimRef: { namespace: args.namespace, name: DATA_CLAIM },
                        ...(storage.kind === "nfs"
                            ? { mountOptions: ["hard", "nfsvers=4.1"] }
                            : {}),
                        ...source,
                    },
                },
                dataOptions,
            );
        }
        this.dataClaim = new k8s.core.v1.PersistentVolumeClaim(
            `${name}-data`,
            {
                metadata: { name: DATA_CLAIM, namespace: args.namespace, labels: podLabels },
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: storage.size } },
                    ...(staticVolume === undefined
                        ? {
                              storageClassName:
                                  storage.kind === "storageClass" ? storage.className : undefined,
                          }
                        : { storageClassName: "", volumeName: staticVolume.metadata.name }),
                },
            },
            dataOptions,
        );

        const service = new k8s.core.v1.Service(
            name,
            {
                metadata: { name: stsName, namespace: args.namespace, labels: podLabels },
                spec: {
                    clusterIP: "None",
                    selector,
                    ports: [{ name: "mongodb", port: MONGO.port, targetPort: "mongodb" }],
                },
            },
            { parent: this },
        );

        const statefulSet = new k8s.apps.v1.StatefulSet(
            name,
            {
                metadata: { name: stsName, namespace: args.namespace, labels: podLabels },
                spec: {
                    // One member, so its data claim is managed here rather than by a claim template.
                    replicas: args.replicas ?? 1,
                    serviceName: service.metadata.name,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: {
                            labels: podLabels,
                            annotations: checksumAnnotation("credentials", credentials.checksum),
                        },
                        spec: {
                            ...POD_DEFAULTS,
                            imagePullSecrets: pullSecrets(args.image),
                            securityContext: nonRootPodSecurity(MONGO.uid),
                            terminationGracePeriodSeconds: 60,
                            initContainers:
                                storage.kind === "hostPath"
                                    ? // The database's own resources keep the pod's QoS class: a
                                      // smaller init container would make a Guaranteed pod Burstable.
                                      [dataOwnerContainer(args.image, args.resources)]
                                    : [],
                            containers: [
                                {
                                    name: "mongodb",
                                    image: imageName(args.image),
                                    imagePullPolicy: args.image.pullPolicy,
                                    args: [
                                        "--wiredTigerCacheSizeGB",
                                        String(wiredTigerCacheGb(args.resources.limits.memory)),
                                    ],
                                    env: [
                                        secretEnv(
                                            MONGO.env.rootUser,
                                            credentials.secretName,
                                            credentials.usernameKey,
                                        ),
                                        secretEnv(
                                            MONGO.env.rootPassword,
                                            credentials.secretName,
                                            credentials.passwordKey,
                                        ),
                                        // The image sets HOME to the data directory, where mongosh
                                        // (run by hand with kubectl exec) would write its history.
                                        { name: "HOME", value: "/tmp" },
                                    ],
                                    ports: [{ name: "mongodb", containerPort: MONGO.port }],
                                    resources: resourceRequirements(args.resources),
                                    ...mongoProbes(),
                                    securityContext: securityContext({
                                        runAsUser: MONGO.uid,
                                        readOnlyRootFilesystem: true,
                                    }),
                                    volumeMounts: [
                                        { name: "data", mountPath: MONGO.dataDir },
                                        { name: "configdb", mountPath: MONGO.configDbDir },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                {
                                    name: "data",
                                    persistentVolumeClaim: {
                                        claimName: this.dataClaim.metadata.name,
                                    },
                                },
                                { name: "configdb", emptyDir: { sizeLimit: SCRATCH_SIZE_LIMIT } },
                                { name: "tmp", emptyDir: { sizeLimit: SCRATCH_SIZE_LIMIT } },
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );

        if (args.networkPolicy ?? true) {
            const clients = args.clients ?? ["nuve", "superservice-bootstrap"];
            // mongod answers its clients and connects nowhere (a single member has no peers).
            isolate(
                name,
                args.namespace,
                podLabels,
                selector,
                {
                    ingress: [
                        {
                            from: clients.map((client) => ({
                                podSelector: {
                                    matchLabels: selectorLabels(client, args.instance),
                                },
                            })),
                            ports: [{ protocol: "TCP", port: MONGO.port }],
                        },
                    ],
                    egress: [],
                },
                this,
            );
        }

        this.clientEgress = egressToPods(selector, MONGO.port);
        this.host = serviceHost(service.metadata.name, args.namespace);
        this.connectionUrl = pulumi.secret(
            pulumi.interpolate`mongodb://${credentials.username.apply(encodeURIComponent)}:${credentials.password.apply(encodeURIComponent)}@${this.host}:${MONGO.port}/nuvedb?authSource=admin`,
        );
        this.statefulSetName = statefulSet.metadata.name;
        this.registerOutputs({
            connectionUrl: this.connectionUrl,
            host: this.host,
            statefulSetName: this.statefulSetName,
        });
    }
}
