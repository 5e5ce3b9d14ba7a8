/** Whether the cluster serves an API group-version, asked of the API server at program run time. */
import { spawnSync } from "child_process";
import * as path from "path";

/** What the API server said about a group-version. */
export type ApiDiscovery =
    /** It answered with the group-version's resource list; `kinds` are their kinds. */
    | { readonly status: "served"; readonly kinds: ReadonlySet<string>; readonly server: string }
    /** It answered 404: the group-version is not served (its CRDs are not installed). */
    | { readonly status: "absent"; readonly server: string }
    /** It could not be asked, or its answer meant nothing; `reason` is one line, without secrets. */
    | { readonly status: "unknown"; readonly reason: string };

/** What the API server said about one object. */
export type ObjectLookup =
    /** It answered with the object (its metadata only). */
    | { readonly status: "found"; readonly server: string }
    /** It answered 404: no such object (or no such namespace). */
    | { readonly status: "absent"; readonly server: string }
    /** It could not be asked, or its answer meant nothing; `reason` is one line, without secrets. */
    | { readonly status: "unknown"; readonly reason: string };

/** Options of {@link discoverApiGroup} and {@link lookupObject}. */
export interface ApiDiscoveryOptions {
    /** The environment to find the kubeconfig in (KUBECONFIG, HOME, ...). Defaults to `process.env`. */
    readonly env?: NodeJS.ProcessEnv;
    /** How long the API server may take, including an exec credential plugin. Defaults to 5000. */
    readonly timeoutMs?: number;
}

/** The script that asks; plain CommonJS, so node runs it without the TypeScript toolchain. */
const SCRIPT = path.join(__dirname, "discovery", "api-resources.js");
/** Time for node to start and load the script, on top of the request's own timeout. */
const STARTUP_ALLOWANCE_MS = 2000;
const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Asks the cluster the Kubernetes provider would use (the kubeconfig of `KUBECONFIG` or
 * `~/.kube/config`, its current context, else the pod's service account) which kinds of
 * `group/version` it serves, with `GET /apis/<group>/<version>`.
 *
 * It blocks: the program decides at run time, synchronously, which objects to declare, and
 * node has no synchronous HTTP client, and the provider no discovery call. So a child node
 * process does the request (components/monitoring/discovery/api-resources.js) and this waits for
 * it with spawnSync, killing it when it overruns `timeoutMs`. It never throws: a failure of any
 * kind is an "unknown" answer saying why.
 */
export function discoverApiGroup(
    group: string,
    version: string,
    options: ApiDiscoveryOptions = {},
): ApiDiscovery {
    const answer = ask({ group, version }, options);
    return "reason" in answer ? unknown(answer.reason) : parseAnswer(answer);
}

/**
 * Asks the same cluster, the same way, whether one object exists: `GET apiPath` (e.g.
 * `/api/v1/namespaces/licode/secrets/turn-tls`) for its metadata only, so a Secret's data never
 * reaches this process. Blocks, like {@link discoverApiGroup}, and never throws.
 */
export function lookupObject(apiPath: string, options: ApiDiscoveryOptions = {}): ObjectLookup {
    const answer = ask({ path: apiPath }, options);
    if ("reason" in answer) {
        return unknown(answer.reason);
    }
    const a = answer.parsed;
    const server = typeof a.server === "string" ? a.server : undefined;
    if ((a.status === "found" || a.status === "absent") && server !== undefined) {
        return { status: a.status, server };
    }
    if (a.status === "unknown" && typeof a.reason === "string") {
        return unknown(a.reason);
    }
    return unknown("discovery printed an answer it should not have");
}

/** Runs the script with one request; its answer as JSON, or why there is none. */
function ask(
    request: Record<string, string>,
    options: ApiDiscoveryOptions,
): { readonly parsed: Record<string, unknown> } | { readonly reason: string } {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const child = spawnSync(process.execPath, [SCRIPT], {
        input: JSON.stringify({ ...request, timeoutMs }),
        env: options.env ?? process.env,
        encoding: "utf8",
        timeout: timeoutMs + STARTUP_ALLOWANCE_MS,
        killSignal: "SIGKILL",
        // The script's stderr says nothing the answer needs, and an exec plugin's may hold anything.
        stdio: ["pipe", "pipe", "pipe"],
    });
    if (child.error !== undefined) {
        const timedOut = (child.error as NodeJS.ErrnoException).code === "ETIMEDOUT";
        return {
            reason: timedOut
                ? `discovery did not finish within ${timeoutMs + STARTUP_ALLOWANCE_MS} ms and was killed`
                : `discovery could not run: ${child.error.message}`,
        };
    }
    if (child.signal !== null) {
        return { reason: `discovery was killed by ${child.signal}` };
    }
    try {
        return { parsed: (JSON.parse(child.stdout) ?? {}) as Record<string, unknown> };
    } catch {
        return { reason: `discovery exited with code ${child.status} and no answer` };
    }
}

/** The script's answer to a group-version, checked; anything malformed is "unknown". */
function parseAnswer(answer: { readonly parsed: Record<string, unknown> }): ApiDiscovery {
    const a = answer.parsed;
    const server = typeof a.server === "string" ? a.server : undefined;
    if (a.status === "served" && server !== undefined && Array.isArray(a.kinds)) {
        const kinds = a.kinds.filter((k): k is string => typeof k === "string");
        return { status: "served", kinds: new Set(kinds), server };
    }
    if (a.status === "absent" && server !== undefined) {
        return { status: "absent", server };
    }
    if (a.status === "unknown" && typeof a.reason === "string") {
        return unknown(a.reason);
    }
    return unknown("discovery printed an answer it should not have");
}

function unknown(reason: string): { readonly status: "unknown"; readonly reason: string } {
    return { status: "unknown", reason };
}
