/**
 * Lifecycle hooks, built from the image facts in images.ts. The Licode image's PID 1 is bash,
 * which drops the kubelet's SIGTERM, so a container only stops early when its hook ends node
 * itself. test/unit/hooks.spec.ts runs each hook against real processes and sockets.
 */
import * as k8s from "@pulumi/kubernetes";
import {
    ESTABLISHED_ON,
    PIDS_OF,
    STOP_AND_WAIT,
    UDP_BOUND_IN,
    cmdlinePattern,
    script,
} from "./bash";

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

/** Where the drain helpers (components/drain/*.js) are mounted in the Licode containers. */
export const DRAIN_DIR = "/opt/licode-k8s/drain";

/** Seconds a drain keeps for itself at the end of the grace period: restore routing, stop node. */
export const DRAIN_RESERVE_SECONDS = 15;

/** What a drain waits for, and for how long. */
export interface Drain {
    /** The node process's script name in its command line (images.ts). */
    readonly process: string;
    /** The helper that keeps new work away while the drain runs: a file in DRAIN_DIR and its command. */
    readonly helper: { readonly file: string; readonly command: string };
    /** Seconds without any sign of work before the drain ends. */
    readonly quietSeconds: number;
    /** Most seconds the drain waits for work to end: the grace period less DRAIN_RESERVE_SECONDS. */
    readonly drainSeconds: number;
}

/**
 * The shared shape of both drains: start `helper` with the node the tier runs (the image's own,
 * read from /proc), wait while `busy` prints a number above 0, until it has printed 0 for
 * quietSeconds or drainSeconds have passed, stop the helper, run `finish`, then stop node.
 * Progress goes to the container's log (PID 1's stdout), where `kubectl logs` shows it.
 */
function drainScript(
    drain: Drain,
    what: string,
    busy: string,
    functions: readonly string[],
    finish: readonly string[],
): string {
    const pattern = cmdlinePattern(drain.process);
    return script(
        'exec >>"${LICODE_HOOK_LOG:-/proc/1/fd/1}" 2>&1',
        PIDS_OF,
        STOP_AND_WAIT,
        ...functions,
        'say() { echo "[drain] $*"; }',
        `pid=$(pids_of '${pattern}' | head -n 1)`,
        'if [ -z "$pid" ]; then exit 0; fi',
        'node=$(readlink "/proc/$pid/exe")',
        `helpers=\${LICODE_DRAIN_DIR:-${DRAIN_DIR}}`,
        `"$node" "$helpers/${drain.helper.file}" ${drain.helper.command} &`,
        "helper=$!",
        `deadline=$((SECONDS + ${drain.drainSeconds}))`,
        "quiet_since=$SECONDS",
        "last=",
        `say "stopping: no new ${what}; waiting up to ${drain.drainSeconds} s for the work in progress"`,
        'while [ "$SECONDS" -lt "$deadline" ]; do',
        `  count=$(${busy})`,
        '  if [ "$count" -gt 0 ]; then quiet_since=$SECONDS; fi',
        `  if [ "$count" != "$last" ]; then say "${what}: $count in progress"; last=$count; fi`,
        `  if [ $((SECONDS - quiet_since)) -ge ${drain.quietSeconds} ]; then break; fi`,
        "  sleep 1",
        "done",
        'if [ "$count" -gt 0 ]; then',
        `  say "the grace period ends with $count ${what} in progress: stopping anyway"`,
        "else",
        `  say "nothing in progress for ${drain.quietSeconds} s: stopping"`,
        "fi",
        'kill "$helper" 2>/dev/null',
        'wait "$helper" 2>/dev/null',
        ...finish,
        `stop_and_wait '${pattern}'`,
    );
}

/**
 * ErizoController's drain. The helper holds the controller at state "full" in Nuve's registry, so
 * Nuve gives new rooms to other controllers while rooms already here stay (drain/controller-
 * registry.js). Each client holds one WebSocket to the controller's port (erizoClient/src/
 * Socket.js 66-80), so established connections there count its clients; a client whose socket
 * drops keeps its seat for 30 s to reconnect (erizoController/models/Channel.js 32, 50-65), hence
 * a quiet window longer than that. The controller has no SIGTERM handler: node ends at once.
 */
export function controllerDrainScript(drain: Drain, port: number): string {
    return drainScript(drain, "clients", `established_on ${port}`, [ESTABLISHED_ON], []);
}

/**
 * ErizoAgent's drain. The helper routes new sessions to other agents (drain/media-routing.js).
 * ErizoJS gives each WebRTC connection UDP ports in the pool's range (erizoJS/models/
 * WebRtcConnection.js 401-418), so sockets bound there count live media; once none has been bound
 * for the quiet window, routing is restored and the agent is stopped, which SIGKILLs its idle
 * workers (erizoAgent.js 208-219).
 */
export function agentDrainScript(drain: Drain, portRange: { min: number; max: number }): string {
    return drainScript(
        drain,
        "media sessions",
        `udp_bound_in ${portRange.min} ${portRange.max}`,
        [UDP_BOUND_IN],
        [
            `if ! "$node" "$helpers/${drain.helper.file}" release; then`,
            '  say "routing not restored: new sessions may still avoid a stopped agent; run media-routing.js release by hand"',
            "fi",
        ],
    );
}
