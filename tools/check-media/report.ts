/**
 * The pure parts of `npm run check:media`: reading a stack file, the pod that checks one node,
 * and the report an operator reads. check.ts does the talking to the cluster.
 */
import { parse as parseYaml } from "yaml";
import { ImageRef, RawConfig, Resources } from "../../components/config";
import { MediaCheckTarget, mediaCheckContainer, probeCommand } from "../../components/media-check";
import { POD_DEFAULTS, pullSecrets } from "../../components/pod";

/** The `licode:` keys of a Pulumi.<stack>.yaml, without the prefix. */
export function stackFileConfig(text: string): RawConfig {
    const doc = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
    const raw: RawConfig = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (key.startsWith("licode:")) {
            raw[key.slice("licode:".length)] = value;
        }
    }
    return raw;
}

/** A node of a pool, as the API lists it. */
export interface PoolNode {
    readonly name: string;
    readonly pool: string;
    readonly internalIp?: string;
}

/** The nodes of a `kubectl get nodes -o json` answer, with the InternalIP of each. */
export function nodesOf(list: unknown, pool: string): PoolNode[] {
    const items = ((list as { items?: unknown[] })?.items ?? []) as {
        metadata: { name: string };
        status?: { addresses?: { type: string; address: string }[] };
    }[];
    return items.map((item) => ({
        name: item.metadata.name,
        pool,
        internalIp: item.status?.addresses?.find((a) => a.type === "InternalIP")?.address,
    }));
}

/** A label selector in kubectl's `-l` form. */
export function selectorArg(selector: Readonly<Record<string, string>>): string {
    return Object.entries(selector)
        .map(([key, value]) => `${key}=${value}`)
        .join(",");
}

/**
 * The Secret and keys the TURN workload's start script reads its user from (its init container's
 * env), from `kubectl get <kind> licode-turn -o json`; undefined when it has none.
 */
export function turnSecretOf(
    workload: unknown,
): { name: string; usernameKey: string; passwordKey: string } | undefined {
    const spec = (workload as { spec?: { template?: { spec?: Record<string, unknown> } } })?.spec
        ?.template?.spec;
    const containers = (spec?.initContainers ?? []) as {
        env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    }[];
    const env = containers.flatMap((c) => c.env ?? []);
    const ref = (name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
    const username = ref("TURN_USERNAME");
    const password = ref("TURN_PASSWORD");
    if (username === undefined || password === undefined || username.name !== password.name) {
        return undefined;
    }
    return { name: username.name, usernameKey: username.key, passwordKey: password.key };
}

/** The pod that checks one node once: on the node's network, pinned to it, never restarted. */
export function checkPod(options: {
    readonly name: string;
    readonly namespace: string;
    readonly node: PoolNode;
    readonly image: ImageRef;
    readonly resources: Resources;
    readonly spec: Record<string, unknown>;
    readonly target: MediaCheckTarget;
    readonly configMap: string;
}): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name: options.name,
            namespace: options.namespace,
            labels: {
                "app.kubernetes.io/name": "media-check",
                "app.kubernetes.io/part-of": "licode",
                "licode.io/media-pool": options.node.pool,
            },
        },
        spec: {
            ...POD_DEFAULTS,
            nodeName: options.node.name,
            hostNetwork: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            restartPolicy: "Never",
            // Media nodes may be tainted for media only; the check belongs there.
            tolerations: [{ operator: "Exists" }],
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
            imagePullSecrets: pullSecrets(options.image),
            containers: [
                mediaCheckContainer(
                    options.image,
                    { ...options.spec, node: options.node.name },
                    options.target,
                    options.resources,
                    probeCommand(),
                ),
            ],
            volumes: [{ name: "probe", configMap: { name: options.configMap } }],
        },
    };
}

/** What the probe printed, or why there is nothing to read. */
export interface NodeReport {
    readonly node: string;
    readonly pool: string;
    readonly pass: boolean;
    readonly announced?: string;
    readonly checks: readonly { name: string; ok: boolean | null; detail: string }[];
    /** Why the probe gave no report (the pod did not run, the log was not JSON). */
    readonly error?: string;
}

/** The report in the probe's last log line; a missing or broken one fails the node, saying why. */
export function reportOf(node: PoolNode, log: string, podProblem?: string): NodeReport {
    const line = log.trim().split("\n").pop() ?? "";
    try {
        const parsed = JSON.parse(line) as Partial<NodeReport> & { error?: string };
        return {
            node: node.name,
            pool: node.pool,
            pass: parsed.pass === true,
            announced: parsed.announced,
            checks: parsed.checks ?? [],
            error: parsed.error,
        };
    } catch {
        return {
            node: node.name,
            pool: node.pool,
            pass: false,
            checks: [],
            error: podProblem ?? `the probe printed no report${line === "" ? "" : `: ${line}`}`,
        };
    }
}

/** The text an operator reads: one verdict line per node, then each check under it. */
export function formatReports(reports: readonly NodeReport[]): string {
    const lines: string[] = [];
    for (const report of reports) {
        lines.push(
            `${report.pass ? "PASS" : "FAIL"}  ${report.node}  (pool ${report.pool}${report.announced === undefined ? "" : `, announces ${report.announced}`})`,
        );
        if (report.error !== undefined) {
            lines.push(`      x ${report.error}`);
        }
        for (const check of report.checks) {
            const mark = check.ok === true ? "ok" : check.ok === false ? " x" : " -";
            lines.push(`     ${mark} ${check.name}: ${check.detail}`);
        }
    }
    const failed = reports.filter((r) => !r.pass).length;
    lines.push(
        reports.length === 0
            ? "no media node matched any pool's nodeSelector: nothing was checked"
            : failed === 0
              ? `all ${reports.length} media node${reports.length === 1 ? "" : "s"} passed`
              : `${failed} of ${reports.length} media node${reports.length === 1 ? "" : "s"} failed`,
    );
    return lines.join("\n");
}

/** Whether the run passed: at least one node checked, and none failed. */
export function passed(reports: readonly NodeReport[]): boolean {
    return reports.length > 0 && reports.every((r) => r.pass);
}
