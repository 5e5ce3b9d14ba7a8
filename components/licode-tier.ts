/** What Nuve, ErizoController and ErizoAgent share: the Licode image and its config file. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, StackConfig, Resources } from "./config";
import { LicodeConfigMount } from "./licode-config-secret";
import * as fs from "fs";
import * as path from "path";
import { DRAIN_DIR } from "./hooks";
import { LICODE } from "./images";
import { checksum } from "./meta";
import { POD_DEFAULTS, imageName, resourceRequirements, securityContext } from "./pod";
import { TierArgs } from "./tier";

type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/** Arguments common to the three tiers that run the Licode image. */
export interface LicodeTierArgs extends TierArgs {
    /** The Licode image for this tier. Required. */
    readonly image: ImageRef;
    /** Requests and limits of the tier's container. Required. */
    readonly resources: Resources;
    /** The rendered licode_config.js and how to mount it. Required. */
    readonly config: LicodeConfigMount;
}

/**
 * The Licode container: the image's entrypoint with a tier flag. The image is root-owned and its
 * entrypoint writes the config and ~/.bashrc at start (images.ts), so it runs as root with a
 * writable root filesystem; everything else is locked down.
 */
export function licodeContainer(
    name: string,
    tier: keyof typeof LICODE.flags,
    args: LicodeTierArgs,
    extra: Omit<Partial<k8s.types.input.core.v1.Container>, "volumeMounts"> & {
        readonly volumeMounts?: readonly VolumeMount[];
    },
): k8s.types.input.core.v1.Container {
    const { volumeMounts, ...rest } = extra;
    return {
        name,
        image: imageName(args.image),
        imagePullPolicy: args.image.pullPolicy,
        args: [LICODE.flags[tier]],
        resources: resourceRequirements(args.resources),
        securityContext: securityContext({
            readOnlyRootFilesystem: !LICODE.writesRootFilesystem,
        }),
        volumeMounts: [...args.config.volumeMounts, ...(volumeMounts ?? [])],
        ...rest,
    };
}

/**
 * PUBLIC_IP for the entrypoint, which appends it to the config: the node's address when asked,
 * the static address, or empty so the config's interface name decides.
 */
export function publicIpEnv(
    publicAddress: StackConfig["publicAddress"],
): k8s.types.input.core.v1.EnvVar {
    switch (publicAddress.from) {
        case "nodeIP":
            return {
                name: LICODE.env.publicIp,
                valueFrom: { fieldRef: { fieldPath: "status.hostIP" } },
            };
        case "static":
            return { name: LICODE.env.publicIp, value: publicAddress.ip };
        case "interface":
            return { name: LICODE.env.publicIp, value: "" };
        default:
            throw new Error(
                `unknown publicAddress ${JSON.stringify(publicAddress satisfies never)}`,
            );
    }
}

/** Pod-level settings of the Licode tiers. */
export const LICODE_POD = {
    ...POD_DEFAULTS,
    securityContext: { seccompProfile: { type: "RuntimeDefault" } },
} as const;

/** The checksum annotation of a Licode pod: its config file's sum. */
export function configAnnotations(mount: LicodeConfigMount): Record<string, pulumi.Input<string>> {
    return { "checksum/licode-config": mount.checksum };
}

/** The drain helpers a Licode pod runs from its preStop hook, and how it mounts them. */
export interface DrainHelpers {
    readonly volume: k8s.types.input.core.v1.Volume;
    readonly volumeMount: VolumeMount;
    /** sha256 of the helpers, for the pod's checksum annotation. */
    readonly checksum: string;
}

/**
 * Puts drain helpers (components/drain/*.js) into an autonamed ConfigMap, so a changed helper
 * gets a new name and the pods that run it roll.
 */
export function drainHelpers(
    name: string,
    files: readonly string[],
    namespace: pulumi.Input<string>,
    labels: Record<string, string>,
    parent: pulumi.Resource,
): DrainHelpers {
    const data = Object.fromEntries(
        files.map((file) => [file, fs.readFileSync(path.join(__dirname, "drain", file), "utf8")]),
    );
    const configMap = new k8s.core.v1.ConfigMap(
        name,
        { metadata: { namespace, labels }, data },
        { parent },
    );
    return {
        volume: { name: "drain", configMap: { name: configMap.metadata.name } },
        volumeMount: { name: "drain", mountPath: DRAIN_DIR, readOnly: true },
        checksum: checksum(data),
    };
}
