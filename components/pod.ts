/** Small builders for containers, probes and security contexts; they return plain k8s inputs. */
import * as k8s from "@pulumi/kubernetes";
import { ImageRef, Resources } from "./config";

type Container = k8s.types.input.core.v1.Container;
type Probe = k8s.types.input.core.v1.Probe;
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
    return {
        requests: { cpu: resources.requests.cpu, memory: resources.requests.memory },
        limits: { cpu: resources.limits.cpu, memory: resources.limits.memory },
    };
}

/** Probe timings: how often, how patient, and how many failures before acting. */
export interface ProbeTiming {
    readonly periodSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
    readonly initialDelaySeconds?: number;
}

/** Readiness reacts within ~30 s; liveness waits twice as long so a slow moment marks a pod unready first. */
export const READINESS: ProbeTiming = { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
export const LIVENESS: ProbeTiming = { periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 };
/** Startup: up to 5 minutes before liveness takes over, for first boots that initialise data. */
export const STARTUP: ProbeTiming = { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 };

/** An HTTP GET probe. */
export function httpProbe(path: string, port: number, timing: ProbeTiming): Probe {
    return { httpGet: { path, port }, ...timing };
}

/** A TCP connect probe. */
export function tcpProbe(port: number, timing: ProbeTiming): Probe {
    return { tcpSocket: { port }, ...timing };
}

/** An exec probe running a command in the container. */
export function execProbe(command: readonly string[], timing: ProbeTiming): Probe {
    return { exec: { command: [...command] }, ...timing };
}

/**
 * A bash test that a process whose command line matches `pattern` is alive, read from /proc so
 * the image needs no procps. The first character is bracketed so the test never matches itself.
 */
export function processAliveCommand(pattern: string): string[] {
    const guarded = `[${pattern[0]}]${pattern.slice(1).replace(/\./g, "\\.")}`;
    return ["/bin/bash", "-c", `grep -qas -- '${guarded}' /proc/[0-9]*/cmdline`];
}

/**
 * A preStop command for images whose PID 1 is bash, which never forwards SIGTERM: it signals the
 * node process itself, then waits for it to finish draining. The kubelet's grace period bounds it.
 */
export function signalAndWaitCommand(pattern: string): string[] {
    const guarded = `[${pattern[0]}]${pattern.slice(1).replace(/\./g, "\\.")}`;
    const script = [
        `pids=$(grep -las -- '${guarded}' /proc/[0-9]*/cmdline | cut -d/ -f3)`,
        `[ -n "$pids" ] || exit 0`,
        `kill -TERM $pids`,
        `while kill -0 $pids 2>/dev/null; do sleep 2; done`,
    ].join("; ");
    return ["/bin/bash", "-c", script];
}

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
