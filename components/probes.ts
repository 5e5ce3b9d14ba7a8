/**
 * The probes of every tier, built from the image facts in images.ts. Each exec probe is a bash
 * script that needs only what the image ships; test/unit/probes.spec.ts runs every one of them
 * against real processes and sockets.
 *
 * What a probe costs runs inside the container's own limits, every period, on every pod:
 *   - tcpSocket: a connect from the kubelet, nothing in the container;
 *   - a bash script here: one bash process, a few milliseconds of CPU and about 4 MB;
 *   - `rabbitmq-diagnostics`: an Erlang VM that joins the node's distribution, about 0.3 CPU-s
 *     and 60 MB a run, so it runs only for liveness and only once a minute.
 */
import * as k8s from "@pulumi/kubernetes";
import { AGE_OF, PIDS_OF, cmdlinePattern, script } from "./bash";
import { LICODE, MONGO } from "./images";

type Probe = k8s.types.input.core.v1.Probe;

/** Probe timings: how often, how patient, and how many failures before acting. */
export interface ProbeTiming {
    readonly periodSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
}

/** A container's three probes. */
export interface Probes {
    readonly startupProbe: Probe;
    readonly readinessProbe: Probe;
    readonly livenessProbe: Probe;
}

/** Readiness reacts within ~30 s. */
export const READINESS: ProbeTiming = { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
/** Liveness gives up later than readiness, so a slow moment marks a pod unready before it restarts. */
export const LIVENESS: ProbeTiming = { periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 };
/** Startup: up to 5 minutes before liveness takes over, for first boots that initialise data. */
export const STARTUP: ProbeTiming = { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 };

/** A TCP connect probe. */
export function tcpProbe(port: number, timing: ProbeTiming): Probe {
    return { tcpSocket: { port }, ...timing };
}

/** An exec probe running a command of the image. */
export function execProbe(command: readonly string[], timing: ProbeTiming): Probe {
    return { exec: { command: [...command] }, ...timing };
}

/** An exec probe running a bash script in the container. */
export function bashProbe(body: string, timing: ProbeTiming): Probe {
    return { exec: { command: ["/bin/bash", "-c", body] }, ...timing };
}

/** Seconds a probe script waits for an answer: one less than the kubelet's timeout, so it reports why. */
function answerWait(timing: ProbeTiming): number {
    return Math.max(1, timing.timeoutSeconds - 1);
}

/**
 * Sends one HTTP/1.0 request over bash's /dev/tcp and passes on the expected status. Unlike a
 * tcpSocket probe, which the kernel completes even while node's event loop is stuck, this needs
 * the server to answer.
 */
export function httpStatusScript(
    port: number,
    request: { readonly method: string; readonly path: string; readonly status: number },
    waitSeconds: number,
): string {
    return script(
        `exec 3<>/dev/tcp/127.0.0.1/${port}`,
        `printf '${request.method} ${request.path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3`,
        `if ! IFS= read -r -t ${waitSeconds} status <&3; then`,
        `  echo "port ${port} accepted the connection but sent no HTTP answer within ${waitSeconds} s" >&2; exit 1`,
        "fi",
        "status=${status%$'\\r'}",
        `case "$status" in "HTTP/1."[01]" ${request.status}" | "HTTP/1."[01]" ${request.status} "*) exit 0 ;; esac`,
        `echo "${request.method} ${request.path} on port ${port} answered '$status', not ${request.status}" >&2`,
        "exit 1",
    );
}

/** Nuve: an HTTP answer from its OPTIONS route (see images.ts for why not /test or /). */
export function nuveProbes(): Probes {
    const { port, health } = LICODE.nuve;
    const startup: ProbeTiming = { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 24 };
    const readiness: ProbeTiming = { periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 };
    const probe = (timing: ProbeTiming) =>
        bashProbe(httpStatusScript(port, health, answerWait(timing)), timing);
    return {
        startupProbe: probe(startup),
        readinessProbe: probe(readiness),
        livenessProbe: probe(LIVENESS),
    };
}

/**
 * ErizoController: a TCP connect on its client port. An HTTP request is no option: socket.io
 * answers only its own path, where a request would open a session the drain then waits for.
 * The port is bound before registration with Nuve, and a controller that cannot register exits
 * (images.ts), so an open port that stays open means a registered controller.
 */
export function erizoControllerProbes(port: number): Probes {
    return {
        startupProbe: tcpProbe(port, STARTUP),
        readinessProbe: tcpProbe(port, READINESS),
        livenessProbe: tcpProbe(port, LIVENESS),
    };
}

/** How the ErizoJS pool check judges workers. */
export interface WorkerPoolCheck {
    /** The worker script name in the command line (images.ts: `erizoJS.js`). */
    readonly worker: string;
    /** A worker that has lived this long has started properly. */
    readonly settledSeconds: number;
    /**
     * How long the pool stays ready after it last had a settled worker: covers a worker the agent
     * replaced after its call ended, which needs settledSeconds to settle again.
     */
    readonly graceSeconds: number;
    /** The file whose mtime records the last settled worker. */
    readonly stateFile: string;
}

/**
 * Passes while an ErizoJS worker has stayed up for `settledSeconds`, or did so within the last
 * `graceSeconds`. The agent replaces an exiting worker at once (images.ts), so a crash-looping
 * pool always shows a worker process, but never one that settles: this check then fails.
 */
export function workerPoolScript(check: WorkerPoolCheck): string {
    return script(
        PIDS_OF,
        AGE_OF,
        `for pid in $(pids_of '${cmdlinePattern(check.worker)}'); do`,
        `  age=$(age_of "$pid") || continue`,
        `  if [ "$age" -ge ${Math.round(check.settledSeconds * 100)} ]; then touch '${check.stateFile}'; exit 0; fi`,
        "done",
        `if [ -f '${check.stateFile}' ] && [ $(( $(date +%s) - $(stat -c %Y '${check.stateFile}') )) -lt ${check.graceSeconds} ]; then exit 0; fi`,
        // Messages name processes by their guarded pattern: the literal name would match this script.
        // Before any worker has settled, the pool is still starting: only a pool that settled once
        // and has had none since is known to fail (the startup probe reads the first case).
        `if [ ! -f '${check.stateFile}' ]; then`,
        `  echo "no worker matching '${cmdlinePattern(check.worker)}' has stayed up for ${check.settledSeconds} s yet: the worker pool is starting, or failing if this lasts" >&2`,
        "else",
        `  echo "no worker matching '${cmdlinePattern(check.worker)}' has stayed up for ${check.settledSeconds} s in the last ${check.graceSeconds} s: the worker pool is failing" >&2`,
        "fi",
        "exit 1",
    );
}

/** Passes while a process with this script name runs (zombies have an empty command line). */
export function processRunningScript(processName: string): string {
    const pattern = cmdlinePattern(processName);
    return script(
        `if grep -qas -- '${pattern}' /proc/[0-9]*/cmdline; then exit 0; fi`,
        `echo "no process matches '${pattern}'" >&2`,
        "exit 1",
    );
}

/** The pool check of the ErizoAgent tier: workers settle within 10 s. */
export const ERIZO_POOL_CHECK: WorkerPoolCheck = {
    worker: LICODE.processes.erizoJS,
    settledSeconds: 10,
    graceSeconds: 45,
    stateFile: "/tmp/licode-erizojs-settled",
};

/**
 * ErizoAgent: ready while its ErizoJS pool holds a worker that stays up; alive while the agent
 * process runs. Liveness never looks at the workers, so a busy agent or a failing pool is never
 * restarted (a restart would end every call on the node); a failing pool only turns unready.
 */
export function erizoAgentProbes(): Probes {
    const pool = workerPoolScript(ERIZO_POOL_CHECK);
    return {
        startupProbe: bashProbe(pool, STARTUP),
        readinessProbe: bashProbe(pool, READINESS),
        livenessProbe: bashProbe(processRunningScript(LICODE.processes.erizoAgent), LIVENESS),
    };
}

/**
 * MongoDB's `ping` command as one OP_MSG (opCode 2013, a single kind-0 section holding
 * `{ ping: 1, $db: "admin" }`), the bytes mongosh would send for `db.adminCommand('ping')`.
 */
export function mongoPingMessage(): Buffer {
    const cstring = (text: string) => Buffer.from(`${text}\0`, "utf8");
    const int32 = (value: number) => {
        const bytes = Buffer.alloc(4);
        bytes.writeInt32LE(value);
        return bytes;
    };
    const elements = Buffer.concat([
        Buffer.from([0x10]), // int32
        cstring("ping"),
        int32(1),
        Buffer.from([0x02]), // string
        cstring("$db"),
        int32(Buffer.byteLength("admin") + 1),
        cstring("admin"),
    ]);
    const document = Buffer.concat([int32(4 + elements.length + 1), elements, Buffer.from([0])]);
    const body = Buffer.concat([int32(0) /* flagBits */, Buffer.from([0]) /* kind 0 */, document]);
    const header = Buffer.concat([
        int32(16 + body.length), // messageLength
        int32(1), // requestID
        int32(0), // responseTo
        int32(2013), // OP_MSG
    ]);
    return Buffer.concat([header, body]);
}

/**
 * Runs MongoDB's `ping` over bash's /dev/tcp and passes when the reply says `ok: 1`. Same
 * command as `mongosh --eval "db.adminCommand('ping')"`, which costs ~0.55 CPU-s and ~117 MB a
 * run, for the cost of a bash process. `ping` needs no authentication and answers even while
 * the server is write-locked: it proves mongod serves commands, not that its disk is healthy.
 */
export function mongoPingScript(port: number, waitSeconds: number): string {
    const request = [...mongoPingMessage()]
        .map((byte) => `\\x${byte.toString(16).padStart(2, "0")}`)
        .join("");
    // In the reply, `ok: 1` is element type 0x01 (double) "ok" 1.0, or 0x10 (int32) "ok" 1.
    const okDouble = "016f6b00000000000000f03f";
    const okInt32 = "106f6b0001000000";
    const read = (count: string) => `timeout ${waitSeconds} dd bs=1 count=${count} <&3 2>/dev/null`;
    return script(
        `exec 3<>/dev/tcp/127.0.0.1/${port}`,
        `printf '${request}' >&3`,
        `set -- $(${read("4")} | od -An -tu1)`,
        `if [ $# -ne 4 ]; then echo "mongod sent no reply to ping within ${waitSeconds} s" >&2; exit 1; fi`,
        "length=$(( $1 | $2 << 8 | $3 << 16 | $4 << 24 ))",
        'if [ "$length" -lt 21 ] || [ "$length" -gt 65536 ]; then echo "mongod sent a reply of $length bytes, not an OP_MSG" >&2; exit 1; fi',
        `reply=$(${read("$((length - 4))")} | od -An -tx1 -v | tr -d ' \\n')`,
        `case "$reply" in *${okDouble}*|*${okInt32}*) exit 0 ;; esac`,
        'echo "mongod answered ping without ok: 1" >&2',
        "exit 1",
    );
}

/**
 * MongoDB: the `ping` command on every probe. mongod opens its port only once storage recovery
 * is done, so a long startup window covers a first init or a journal replay on slow storage.
 */
export function mongoProbes(): Probes {
    const startup: ProbeTiming = { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 120 };
    const liveness: ProbeTiming = { periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 3 };
    const probe = (timing: ProbeTiming) =>
        bashProbe(mongoPingScript(MONGO.port, answerWait(timing)), timing);
    return {
        startupProbe: probe(startup),
        readinessProbe: probe(READINESS),
        livenessProbe: probe(liveness),
    };
}
