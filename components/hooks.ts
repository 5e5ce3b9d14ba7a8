/**
 * Lifecycle hooks, built from the image facts in images.ts. The Licode image's PID 1 is bash,
 * which drops the kubelet's SIGTERM, so a container only stops early when its hook ends node
 * itself. test/unit/hooks.spec.ts runs each hook against real processes and sockets.
 */
import * as k8s from "@pulumi/kubernetes";
import { ESTABLISHED_ON, STOP_AND_WAIT, cmdlinePattern, script } from "./bash";

type Lifecycle = k8s.types.input.core.v1.Lifecycle;

/** How an HTTP server is let go of: wait for routing to stop, let requests finish, then stop it. */
export interface QuiesceAndStop {
    /** The server's script name in its command line (images.ts). */
    readonly process: string;
    /** The port it serves. */
    readonly port: number;
    /** Seconds for Service endpoints and ingress controllers to stop sending new requests. */
    readonly settleSeconds: number;
    /** Most seconds to wait for open connections to close before stopping the server anyway. */
    readonly drainSeconds: number;
}

/**
 * Waits `settleSeconds` (the pod is already out of its Service's endpoints, but kube-proxy and
 * ingress controllers learn it a moment later), then while connections to the port remain, up
 * to `drainSeconds`, then sends node SIGTERM and waits for it to exit. A server without a
 * SIGTERM handler (Nuve) ends at once, so it must be idle by then.
 */
export function quiesceAndStopScript(stop: QuiesceAndStop): string {
    return script(
        ESTABLISHED_ON,
        STOP_AND_WAIT,
        `sleep ${stop.settleSeconds}`,
        `deadline=$((SECONDS + ${stop.drainSeconds}))`,
        `while [ "$SECONDS" -lt "$deadline" ] && [ "$(established_on ${stop.port})" -gt 0 ]; do sleep 1; done`,
        `stop_and_wait '${cmdlinePattern(stop.process)}'`,
    );
}

/** Sends the process SIGTERM and waits for it to exit, within the kubelet's grace period. */
export function stopScript(processName: string): string {
    return script(STOP_AND_WAIT, `stop_and_wait '${cmdlinePattern(processName)}'`);
}

/** A preStop hook running a bash script. */
export function preStop(body: string): Lifecycle {
    return { preStop: { exec: { command: ["/bin/bash", "-c", body] } } };
}

/** Seconds a quiesce-and-stop hook may take at most: the kubelet's grace period must exceed it. */
export function quiesceSeconds(stop: QuiesceAndStop): number {
    return stop.settleSeconds + stop.drainSeconds;
}
