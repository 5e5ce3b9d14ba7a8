/** What Nuve, ErizoController and ErizoAgent share: the Licode image and its config file. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, LicodeConfig, Resources } from "./config";
import { LicodeConfigMount } from "./licode-settings";
import { imageName, resourceRequirements, securityContext } from "./pod";
import { TierArgs } from "./tier";

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
 * The Licode container: the image's entrypoint with a tier flag. The image installs Node.js under
 * /root and its entrypoint writes licode_config.js at start, so it runs as root with a writable
 * root filesystem; everything else is locked down.
 */
export function licodeContainer(
    name: string,
    flag: string,
    args: LicodeTierArgs,
    extra: Partial<k8s.types.input.core.v1.Container>,
): k8s.types.input.core.v1.Container {
    return {
        name,
        image: imageName(args.image),
        imagePullPolicy: args.image.pullPolicy,
        args: [flag],
        resources: resourceRequirements(args.resources),
        securityContext: securityContext({ readOnlyRootFilesystem: false }),
        volumeMounts: args.config.volumeMounts,
        ...extra,
    };
}

/**
 * PUBLIC_IP for the entrypoint, which appends it to the config: the node's address when asked,
 * the static address, or empty so the config's interface name decides.
 */
export function publicIpEnv(
    publicAddress: LicodeConfig["publicAddress"],
): k8s.types.input.core.v1.EnvVar {
    switch (publicAddress.from) {
        case "nodeIP":
            return { name: "PUBLIC_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } };
        case "static":
            return { name: "PUBLIC_IP", value: publicAddress.ip };
        case "interface":
            return { name: "PUBLIC_IP", value: "" };
        default:
            throw new Error(
                `unknown publicAddress ${JSON.stringify(publicAddress satisfies never)}`,
            );
    }
}

/** Pod-level security settings of the Licode tiers. */
export const LICODE_POD_SECURITY: k8s.types.input.core.v1.PodSecurityContext = {
    seccompProfile: { type: "RuntimeDefault" },
};

/** The checksum annotation of a Licode pod: its config file's sum. */
export function configAnnotations(mount: LicodeConfigMount): Record<string, pulumi.Input<string>> {
    return { "checksum/licode-config": mount.checksum };
}
