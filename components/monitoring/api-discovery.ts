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

/** Options of {@link discoverApiGroup}. */
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
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const child = spawnSync(process.execPath, [SCRIPT], {
        input: JSON.stringify({ group, version, timeoutMs }),
        env: options.env ?? process.env,
        encoding: "utf8",
        timeout: timeoutMs + STARTUP_ALLOWANCE_MS,
        killSignal: "SIGKILL",
        // The script's stderr says nothing the answer needs, and an exec plugin's may hold anything.
        stdio: ["pipe", "pipe", "pipe"],
    });
    if (child.error !== undefined) {
        const timedOut = (child.error as NodeJS.ErrnoException).code === "ETIMEDOUT";
        return unknown(
            timedOut
                ? `discovery did not finish within ${timeoutMs + STARTUP_ALLOWANCE_MS} ms and was killed`
                : `discovery could not run: ${child.error.message}`,
        );
    }
    if (child.signal !== null) {
        return unknown(`discovery was killed by ${child.signal}`);
    }
    return parseAnswer(child.stdout, child.status);
}

/** The script's answer, checked; anything malformed is "unknown". */
function parseAnswer(stdout: string, exitCode: number | null): ApiDiscovery {
    let answer: unknown;
    try {
        answer = JSON.parse(stdout);
    } catch {
        return unknown(`discovery exited with code ${exitCode} and no answer`);
    }
    const a = (answer ?? {}) as Record<string, unknown>;
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

function unknown(reason: string): ApiDiscovery {
    return { status: "unknown", reason };
}
