/** Nuve's superservice: generated once, written to MongoDB idempotently by a Job. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, Resources } from "./config";
import * as random from "@pulumi/random";
import { MONGO } from "./images";
import { checksum, labels, selectorLabels } from "./meta";
import {
    POD_DEFAULTS,
    imageName,
    imageVersion,
    nonRootPodSecurity,
    pullSecrets,
    resourceRequirements,
    securityContext,
} from "./pod";
import {
    ExistingSecret,
    TierArgs,
    checksumAnnotation,
    existingSecretValues,
    generatedPassword,
    isolate,
    publicChecksum,
    secretEnv,
} from "./tier";

const TOKEN = "licode:index:Superservice";

/**
 * The bootstrap script: wait for MongoDB, then upsert the superservice by its ID. An upsert keyed
 * by `_id` never duplicates the document, so the Job can run any number of times.
 */
export const BOOTSTRAP_SCRIPT = [
    "for attempt in $(seq 1 60); do",
    '  mongosh "$MONGO_URL" --quiet --eval "db.adminCommand(\'ping\').ok" >/dev/null 2>&1 && break',
    '  echo "waiting for MongoDB ($attempt/60)"; sleep 5',
    "done",
    'mongosh "$MONGO_URL" --quiet --eval \'',
    'const services = db.getSiblingDB("nuvedb").services;',
    "const result = services.updateOne(",
    "  { _id: ObjectId(process.env.SUPERSERVICE_ID) },",
    '  { $set: { name: "superService", key: process.env.SUPERSERVICE_KEY }, $setOnInsert: { rooms: [] } },',
    "  { upsert: true });",
    'print(result.upsertedCount === 1 ? "superservice created" : "superservice up to date");',
    "'",
].join("\n");

/** Arguments of the Superservice component. */
export interface SuperserviceArgs extends TierArgs {
    /** MongoDB URL with credentials (a secret). Required. */
    readonly mongoUrl: pulumi.Input<string>;
    /** Image that carries mongosh. Required. */
    readonly image: ImageRef;
    /** Requests and limits of the bootstrap container. Required. */
    readonly resources: Resources;
    /** Bump to rotate the key; the ID stays. Defaults to 1. */
    readonly keyGeneration?: number;
    /** Protect the ID, which kept (protected) MongoDB data refers to; the key may rotate. Defaults to false. */
    readonly protectId?: boolean;
    /** Whether to isolate the Job's pods with a NetworkPolicy: nothing in, MongoDB out. Defaults to true. */
    readonly networkPolicy?: boolean;
    /** Where the Job may connect (MongoDB), besides DNS. Defaults to nowhere. */
    readonly egress?: k8s.types.input.networking.v1.NetworkPolicyEgressRule[];
    /** The operator's Secret with the ID and key. Defaults to generated ones. */
    readonly existingSecret?: ExistingSecret<"id" | "key">;
}

/** A MongoDB ObjectId: 12 bytes, 24 hex characters. */
const OBJECT_ID = /^[0-9a-f]{24}$/;

/** The ID from an operator's Secret, which must be a MongoDB ObjectId; throws naming the key otherwise. */
export function superserviceId(id: string, existing: ExistingSecret<"id" | "key">): string {
    if (!OBJECT_ID.test(id)) {
        throw new Error(
            `${existing.configKey}: key "${existing.keys.id}" of Secret "${existing.name}" must hold a MongoDB ObjectId, 24 lower-case hex characters`,
        );
    }
    return id;
}

/** Generates the superservice ID and key and makes MongoDB hold exactly that superservice. */
export class Superservice extends pulumi.ComponentResource {
    /** The superservice ID: 24 hex characters, a MongoDB ObjectId. */
    public readonly id: pulumi.Output<string>;
    /** The superservice key (secret). */
    public readonly key: pulumi.Output<string>;

    constructor(name: string, args: SuperserviceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const podLabels = labels("superservice-bootstrap", args.instance, imageVersion(args.image));

        let id: pulumi.Output<string>;
        let key: pulumi.Output<string>;
        if (args.existingSecret === undefined) {
            // A MongoDB ObjectId is 12 bytes: 24 hex characters. It identifies, so it is no secret.
            id = new random.RandomId(
                `${name}-id`,
                { byteLength: 12 },
                { parent: this, protect: args.protectId ?? false },
            ).hex;
            key = generatedPassword(`${name}-key`, this, {
                keepers: { generation: String(args.keyGeneration ?? 1) },
            });
        } else {
            const existing = args.existingSecret;
            const values = existingSecretValues(`${name}-existing`, args.namespace, existing, this);
            id = pulumi.unsecret(values.apply((v) => superserviceId(v.id, existing)));
            key = values.apply((v) => v.key);
        }
        const secret = new k8s.core.v1.Secret(
            name,
            {
                metadata: { namespace: args.namespace, labels: podLabels },
                type: "Opaque",
                stringData: { id, key, mongoUrl: args.mongoUrl },
            },
            { parent: this },
        );
        const sum = publicChecksum(
            pulumi
                .all([id, key, args.mongoUrl])
                .apply(([i, k, url]) => checksum({ id: i, key: k, url })),
        );

        // Jobs cannot change their pod template, so a new checksum replaces the Job and runs it again.
        new k8s.batch.v1.Job(
            name,
            {
                metadata: { namespace: args.namespace, labels: podLabels },
                spec: {
                    backoffLimit: 6,
                    template: {
                        metadata: {
                            labels: {
                                ...podLabels,
                                ...selectorLabels("superservice-bootstrap", args.instance),
                            },
                            annotations: checksumAnnotation("superservice", sum),
                        },
                        spec: {
                            ...POD_DEFAULTS,
                            restartPolicy: "Never",
                            imagePullSecrets: pullSecrets(args.image),
                            securityContext: nonRootPodSecurity(MONGO.uid),
                            containers: [
                                {
                                    name: "bootstrap",
                                    image: imageName(args.image),
                                    imagePullPolicy: args.image.pullPolicy,
                                    command: ["/bin/bash", "-c", BOOTSTRAP_SCRIPT],
                                    env: [
                                        secretEnv("MONGO_URL", secret.metadata.name, "mongoUrl"),
                                        secretEnv("SUPERSERVICE_ID", secret.metadata.name, "id"),
                                        secretEnv("SUPERSERVICE_KEY", secret.metadata.name, "key"),
                                        // mongosh writes $HOME/.mongodb; the image's HOME is the data
                                        // directory (images.ts), and the root filesystem is read-only.
                                        { name: "HOME", value: "/tmp" },
                                    ],
                                    resources: resourceRequirements(args.resources),
                                    securityContext: securityContext({
                                        runAsUser: MONGO.uid,
                                        readOnlyRootFilesystem: true,
                                    }),
                                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                },
                            ],
                            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
                        },
                    },
                },
            },
            { parent: this },
        );

        if (args.networkPolicy ?? true) {
            // The Job only connects out, to MongoDB: nothing may connect to it.
            isolate(
                name,
                args.namespace,
                podLabels,
                selectorLabels("superservice-bootstrap", args.instance),
                { ingress: [], egress: args.egress ?? [] },
                this,
            );
        }

        this.id = id;
        this.key = pulumi.secret(key);
        this.registerOutputs({ id: this.id, key: this.key });
    }
}
