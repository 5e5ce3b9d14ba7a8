/** Small builders for containers, probes and security contexts; they return plain k8s inputs. */
import * as k8s from "@pulumi/kubernetes";
import { ImageRef, Resources } from "./config";

type Container = k8s.types.input.core.v1.Container;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/** The image reference a pod pulls: the digest wins over the tag when both are set. */
export function imageName(image: ImageRef): string {
    if (image.digest !== undefined) {
        return `${image.repository}@${image.digest}`;
    }
    return `${image.repository}:${image.tag}`;
}

/** The version an image carries, for the `app.kubernetes.io/version` label. */
export function imageVersion(image: ImageRef): string {
    return image.tag ?? image.digest ?? "unknown";
}

/** Pull secrets for a pod, or undefined when the image needs none. */
export function pullSecrets(
    image: ImageRef,
): k8s.types.input.core.v1.LocalObjectReference[] | undefined {
    return image.pullSecret === undefined ? undefined : [{ name: image.pullSecret }];
}

/** Resource requirements in the shape the API takes. */
export function resourceRequirements(
    resources: Resources,
): k8s.types.input.core.v1.ResourceRequirements {
    const quantities = (q: Resources["requests"]) => ({
        cpu: q.cpu,
        memory: q.memory,
        "ephemeral-storage": q.ephemeralStorage,
    });
    return { requests: quantities(resources.requests), limits: quantities(resources.limits) };
}

/**
 * Pod settings every tier shares: no tier calls the Kubernetes API, so no pod mounts a
 * service-account token that a compromised process could use.
 */
export const POD_DEFAULTS = { automountServiceAccountToken: false } as const;

/** Settings of a container's security context that differ per image. */
export interface SecurityOptions {
    /** The UID to run as; undefined when the image must start as root. */
    readonly runAsUser?: number;
    /** Whether the image can run with a read-only root filesystem. */
    readonly readOnlyRootFilesystem: boolean;
}

/** A restricted container security context: no escalation, no capabilities, RuntimeDefault seccomp. */
export function securityContext(options: SecurityOptions): SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
        readOnlyRootFilesystem: options.readOnlyRootFilesystem,
        ...(options.runAsUser === undefined
            ? {}
            : { runAsUser: options.runAsUser, runAsGroup: options.runAsUser, runAsNonRoot: true }),
    };
}

/** An init container that waits until every host:port accepts TCP connections. */
export function waitForContainer(
    name: string,
    image: ImageRef,
    targets: readonly { readonly host: string; readonly port: number }[],
    resources: Resources,
): Container {
    const checks = targets
        .map(
            ({ host, port }) =>
                `until (exec 3<>/dev/tcp/${host}/${port}) 2>/dev/null; do echo "waiting for ${host}:${port}"; sleep 2; done`,
        )
        .join("; ");
    return {
        name,
        image: imageName(image),
        imagePullPolicy: image.pullPolicy,
        command: ["/bin/bash", "-c", checks],
        resources: resourceRequirements(resources),
        // Only bash runs here, so it can drop root even though the image's own entrypoint cannot.
        securityContext: securityContext({ runAsUser: NOBODY, readOnlyRootFilesystem: true }),
    };
}

/** The conventional unprivileged UID. */
export const NOBODY = 65534;

/** Pod security for images that run as their own non-root user; fsGroup makes volumes writable. */
export function nonRootPodSecurity(uid: number): k8s.types.input.core.v1.PodSecurityContext {
    return {
        runAsUser: uid,
        runAsGroup: uid,
        fsGroup: uid,
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
    };
}
