/**
 * Lifecycle hooks, built from the image facts in images.ts. The Licode image's PID 1 is bash,
 * which drops the kubelet's SIGTERM, so a container only stops early when its hook ends node
 * itself. test/processes/hooks.spec.ts and drain.spec.ts run each hook against real processes and
 * sockets.
 */
import * as k8s from "@pulumi/kubernetes";
import {
    ESTABLISHED_ON,
    STOP_AFTER_EXIT,
    STOP_AND_WAIT,
    UDP_BOUND_IN,
    cmdlinePattern,
    script,
} from "./bash";
import { DRAIN_FINISH_SECONDS } from "./drain/timing";

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
 * to `drainSeconds`, then returns with exit code 0 and leaves node's SIGTERM to a background
 * shell that sends it once the hook has gone. The Licode image's PID 1 is a bash that exits with
 * node (extras/docker/initDockerLicode.sh 114, 194; images.ts), and the container's processes with it, so a hook that
 * stopped node itself would be killed before it returned: a failed preStop hook on the kubelet. A
 * server without a SIGTERM handler (Nuve) ends at once, so it must be idle by then. The background
 * shell writes nowhere: a descriptor of the hook's output kept open would hold the exec open.
 */
export function quiesceAndStopScript(stop: QuiesceAndStop): string {
    return script(
        ESTABLISHED_ON,
        STOP_AFTER_EXIT,
        `sleep ${stop.settleSeconds}`,
        `deadline=$((SECONDS + ${stop.drainSeconds}))`,
        `while [ "$SECONDS" -lt "$deadline" ] && [ "$(established_on ${stop.port})" -gt 0 ]; do sleep 1; done`,
        // exec, not a redirection of the call: bash keeps the hook's own descriptors in the
        // forked shell when a redirection only lasts for one command.
        "exec >/dev/null 2>&1",
        `stop_after_exit $$ '${cmdlinePattern(stop.process)}'`,
        "exit 0",
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

export { DRAIN_RESERVE_SECONDS } from "./drain/timing";

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
 * The shared shape of both drains. It starts `helper` with the node the tier runs (the image's own,
 * read from /proc), hands it the tier's PID, a directory and the deadline, then waits while `busy`
 * prints a number above 0, until it has printed 0 for quietSeconds or drainSeconds have passed;
 * each count goes to the helper (file `busy`), which reports it. It then says which condition ended
 * the drain, tells the helper (file `end`, SIGUSR2) and waits up to DRAIN_FINISH_SECONDS for its
 * last step (file `done`), and returns with exit code 0, leaving node to be stopped by a background
 * shell once the hook has returned: the image's PID 1 is a bash that exits with node, and with it
 * the container and every process in it, so a hook that stopped node itself would be killed before
 * it returned (a failed hook on the kubelet). The helper keeps working until node is gone.
 * Progress goes to the container's log (PID 1's stdout), where `kubectl logs` shows it.
 */
function drainScript(
    drain: Drain,
    what: string,
    busy: string,
    functions: readonly string[],
): string {
    const pattern = cmdlinePattern(drain.process);
    const quiet = drain.quietSeconds;
    return script(
        'exec </dev/null >>"${LICODE_HOOK_LOG:-/proc/1/fd/1}" 2>&1',
        STOP_AFTER_EXIT,
        ...functions,
        'say() { echo "[drain] $*"; }',
        `pid=$(pids_of '${pattern}' | head -n 1)`,
        // The process's name stays out of the script's words: its command line would match the pattern.
        'if [ -z "$pid" ]; then say "the tier\'s node is not running: nothing to drain"; exit 0; fi',
        'node=$(readlink "/proc/$pid/exe")',
        `helpers=\${LICODE_DRAIN_DIR:-${DRAIN_DIR}}`,
        'run=$(mktemp -d "${TMPDIR:-/tmp}/licode-drain.XXXXXX")',
        `deadline=$((SECONDS + ${drain.drainSeconds}))`,
        `LICODE_DRAIN_PID=$pid LICODE_DRAIN_RUN=$run LICODE_DRAIN_DEADLINE=$(($(date +%s) + ${drain.drainSeconds})) "$node" "$helpers/${drain.helper.file}" ${drain.helper.command} &`,
        "helper=$!",
        "quiet_since=$SECONDS",
        "last=",
        "count=0",
        "ended=deadline",
        `say "stopping: no new ${what}; waiting up to ${drain.drainSeconds} s for the work in progress"`,
        'while [ "$SECONDS" -lt "$deadline" ]; do',
        '  if [ -n "$helper" ] && ! kill -0 "$helper" 2>/dev/null; then',
        '    wait "$helper"',
        `    say "the helper ended early (exit code $?): new ${what} are no longer kept away"`,
        "    helper=",
        "  fi",
        `  count=$(${busy})`,
        '  echo "$count" >"$run/busy.new" && mv -f "$run/busy.new" "$run/busy"',
        '  if [ "$count" -gt 0 ]; then quiet_since=$SECONDS; fi',
        `  if [ "$count" != "$last" ]; then say "${what}: $count in progress"; last=$count; fi`,
        `  if [ $((SECONDS - quiet_since)) -ge ${quiet} ]; then ended=quiet; break; fi`,
        "  sleep 1",
        "done",
        'if [ "$ended" = quiet ]; then',
        `  say "drain ended: no ${what} in progress for ${quiet} s"`,
        'elif [ "$count" -gt 0 ]; then',
        `  say "drain ended: the deadline passed with $count ${what} in progress; stopping cuts them"`,
        "else",
        `  say "drain ended: the deadline passed $((SECONDS - quiet_since)) s after the last of the ${what} ended, short of the ${quiet} s quiet window"`,
        "fi",
        'echo "$ended $count" >"$run/end"',
        'if [ -n "$helper" ] && kill -USR2 "$helper" 2>/dev/null; then',
        "  waited=0",
        `  while [ ! -e "$run/done" ] && kill -0 "$helper" 2>/dev/null && [ "$waited" -lt ${DRAIN_FINISH_SECONDS * 10} ]; do`,
        "    sleep 0.1",
        "    waited=$((waited + 1))",
        "  done",
        `  if [ ! -e "$run/done" ]; then say "the helper's last step did not finish within ${DRAIN_FINISH_SECONDS} s"; fi`,
        "fi",
        `stop_after_exit $$ '${pattern}'`,
        'say "node stops once this hook has returned"',
        "exit 0",
    );
}

/**
 * ErizoController's drain. The helper holds the controller at state "full" in Nuve's registry and
 * releases the rooms pinned here that have no client (drain/controller-registry.js), so Nuve gives
 * new rooms and new joins to other controllers while rooms with clients stay. Each client holds
 * one WebSocket to the controller's port (erizoClient/src/Socket.js 66-80), so established
 * connections there count its clients; a client whose socket drops keeps its seat for 30 s to
 * reconnect (erizoController/models/Channel.js 32, 50-65), hence a quiet window longer than that.
 */
export function controllerDrainScript(drain: Drain, port: number): string {
    return drainScript(drain, "clients", `established_on ${port}`, [ESTABLISHED_ON]);
}

/**
 * ErizoAgent's drain. The helper hands new sessions to other agents (drain/media-routing.js).
 * ErizoJS gives each WebRTC connection UDP ports in the pool's range (erizoJS/models/
 * WebRtcConnection.js 401-418), so sockets bound there count live media; once none has been bound
 * for the quiet window the agent is stopped, which SIGKILLs its idle workers (erizoAgent.js 208-219).
 */
export function agentDrainScript(drain: Drain, portRange: { min: number; max: number }): string {
    return drainScript(drain, "media sessions", `udp_bound_in ${portRange.min} ${portRange.max}`, [
        UDP_BOUND_IN,
    ]);
}
