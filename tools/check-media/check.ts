/**
 * `npm run check:media -- <stack> [options]`: checks every media node of a deployed stack. For
 * each node of each media pool it starts one pod on the node's network (the Licode image's node
 * running tools/check-media/probe.js), waits for it, and prints PASS or FAIL per node with the
 * reason: the address Licode announces against the one a STUN server sees, and UDP sent from the
 * stack's TURN server to that address on ports of the node's range. Pods and the ConfigMap are
 * removed afterwards, pass or fail.
 *
 * Options:
 *   --namespace NS   the stack's namespace (default: licode:namespace of Pulumi.<stack>.yaml)
 *   --timeout S      seconds to wait for each node's pod (default 180)
 *   --json           print the reports as JSON instead of text
 * Environment: KUBECONFIG (as kubectl reads it); KUBECTL, the kubectl to run (default: on PATH).
 * Exit status: 0 every node passed; 1 a node failed or none matched; 2 usage or cluster error.
 */
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, parseStackConfig } from "../../components/config";
import {
    MediaCheckTarget,
    PROBE_FILE,
    mediaCheckSpec,
    stunServerOf,
} from "../../components/media-check";
import { fullname } from "../../components/meta";
import {
    NodeReport,
    checkPod,
    formatReports,
    nodesOf,
    passed,
    reportOf,
    selectorArg,
    stackFileConfig,
    turnSecretOf,
} from "./report";

const ROOT = path.resolve(__dirname, "..", "..");

class UsageError extends Error {}

function kubectl(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
    const result = spawnSync(process.env.KUBECTL ?? "kubectl", args, {
        input,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error !== undefined) {
        throw new UsageError(
            `cannot run kubectl: ${result.error.message} (set KUBECTL to its path)`,
        );
    }
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function kubectlJson(args: string[]): unknown {
    const run = kubectl([...args, "-o", "json"]);
    if (run.code !== 0) {
        throw new UsageError(`kubectl ${args.join(" ")}: ${run.stderr.trim()}`);
    }
    return JSON.parse(run.stdout);
}

/** Waits until the pod has ended (Succeeded or Failed), `timeoutSeconds` at most; returns its phase. */
async function podEnded(namespace: string, pod: string, timeoutSeconds: number): Promise<string> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        const run = kubectl(["-n", namespace, "get", "pod", pod, "-o", "jsonpath={.status.phase}"]);
        const phase = run.stdout.trim();
        if (phase === "Succeeded" || phase === "Failed") {
            return phase;
        }
        if (Date.now() > deadline) {
            return phase === "" ? "unknown" : phase;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
}

function parseArgs(argv: string[]): {
    stack: string;
    namespace?: string;
    timeout: number;
    json: boolean;
} {
    let stack: string | undefined;
    let namespace: string | undefined;
    let timeout = 180;
    let json = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--namespace") {
            namespace = argv[++i];
        } else if (arg === "--timeout") {
            timeout = Number(argv[++i]);
            if (!Number.isInteger(timeout) || timeout < 1) {
                throw new UsageError("--timeout takes whole seconds, e.g. --timeout 300");
            }
        } else if (arg === "--json") {
            json = true;
        } else if (arg.startsWith("-")) {
            throw new UsageError(
                `unknown option ${arg} (see the header of tools/check-media/check.ts)`,
            );
        } else if (stack === undefined) {
            stack = arg;
        } else {
            throw new UsageError("one stack only");
        }
    }
    if (stack === undefined) {
        throw new UsageError(
            "usage: npm run check:media -- <stack> [--namespace NS] [--timeout S] [--json]",
        );
    }
    return { stack, namespace, timeout, json };
}

async function main(): Promise<number> {
    const options = parseArgs(process.argv.slice(2));
    const file = path.join(ROOT, `Pulumi.${options.stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new UsageError(`no stack file ${file}`);
    }
    const config = parseStackConfig(stackFileConfig(fs.readFileSync(file, "utf8")));
    const namespace = options.namespace ?? config.namespace;
    const stun = stunServerOf(config);
    if (stun === undefined) {
        throw new UsageError(
            "the stack names no STUN server: enable turn, or list a stun: URL in iceServers",
        );
    }
    let target: MediaCheckTarget = { stun };
    if (config.turn.enabled) {
        const kind = config.turn.placement.mode === "hostNetwork" ? "daemonset" : "deployment";
        const secret = turnSecretOf(kubectlJson(["-n", namespace, "get", kind, fullname("turn")]));
        if (secret === undefined) {
            throw new UsageError(`${kind} ${fullname("turn")} names no TURN credentials Secret`);
        }
        target = { stun, turn: { host: stun.host, port: stun.port, secret } };
    }

    const run = randomBytes(3).toString("hex");
    const configMap = `licode-media-check-${run}`;
    const created = kubectl([
        "-n",
        namespace,
        "create",
        "configmap",
        configMap,
        `--from-file=probe.js=${PROBE_FILE}`,
    ]);
    if (created.code !== 0) {
        throw new UsageError(`creating ConfigMap ${configMap}: ${created.stderr.trim()}`);
    }
    const pods: { pod: string; node: ReturnType<typeof nodesOf>[number] }[] = [];
    try {
        for (const pool of config.media.pools) {
            const nodes = nodesOf(
                kubectlJson(["get", "nodes", "-l", selectorArg(pool.nodeSelector)]),
                pool.name,
            );
            const spec = mediaCheckSpec(config.publicAddress, pool, target, {
                samplePorts: config.mediaCheck.samplePorts,
                timeoutSeconds: config.mediaCheck.timeoutSeconds,
            });
            for (const node of nodes) {
                const pod = `licode-media-check-${run}-${pods.length}`;
                const manifest = checkPod({
                    name: pod,
                    namespace,
                    node,
                    image: config.erizoAgent.image,
                    resources: config.bootstrap.resources,
                    spec,
                    target,
                    configMap,
                });
                const applied = kubectl(["apply", "-f", "-"], JSON.stringify(manifest));
                if (applied.code !== 0) {
                    throw new UsageError(`creating pod ${pod}: ${applied.stderr.trim()}`);
                }
                pods.push({ pod, node });
            }
        }
        const reports: NodeReport[] = [];
        for (const { pod, node } of pods) {
            const phase = await podEnded(namespace, pod, options.timeout);
            const log = kubectl(["-n", namespace, "logs", pod]).stdout;
            const problem =
                phase === "Succeeded" || phase === "Failed"
                    ? undefined
                    : `the check pod did not finish within ${options.timeout} s (phase ${phase}): kubectl -n ${namespace} describe pod ${pod}`;
            reports.push(reportOf(node, log, problem));
        }
        process.stdout.write(
            options.json ? `${JSON.stringify(reports, null, 2)}\n` : `${formatReports(reports)}\n`,
        );
        return passed(reports) ? 0 : 1;
    } finally {
        for (const { pod } of pods) {
            kubectl(["-n", namespace, "delete", "pod", pod, "--wait=false", "--ignore-not-found"]);
        }
        kubectl(["-n", namespace, "delete", "configmap", configMap, "--ignore-not-found"]);
    }
}

main().then(
    (code) => process.exit(code),
    (error: Error) => {
        const known = error instanceof UsageError || error instanceof ConfigError;
        process.stderr.write(`check:media: ${known ? error.message : error.stack}\n`);
        process.exit(2);
    },
);
