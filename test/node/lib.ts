/**
 * Helpers for the real-node tests: a private cluster with real nodes (tools/cluster/cluster.sh with
 * tools/node; own state dir, ports, node addresses, pod range and device prefix, so a demo cluster can
 * run beside it), kubectl against it, waiting for states, and snapshots of what the host holds, to
 * prove that `cluster.sh down` leaves nothing behind.
 */
import { SpawnSyncReturns, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const CLUSTER_SH = path.join(ROOT, "tools", "cluster", "cluster.sh");

/** Ports of the node-test cluster: the defaults + 250 (e2e uses + 200, bench + 100 and + 300). */
const CLUSTER_PORTS: Record<string, string> = {
    LICODE_CLUSTER_ETCD_PORT: "23629",
    LICODE_CLUSTER_ETCD_PEER_PORT: "23630",
    LICODE_CLUSTER_API_PORT: "26693",
    LICODE_CLUSTER_KCM_PORT: "20507",
    LICODE_CLUSTER_SCHEDULER_PORT: "20509",
    LICODE_CLUSTER_KWOK_PORT: "20530",
};

/** The node addresses of this suite's cluster: <prefix>(10+i), the host at <prefix>1. */
export const NODE_IP_PREFIX = "10.202.0.";

/** What one run of the suite owns. */
export interface NodeSuite {
    /** Temporary root: cluster state and logs. */
    readonly dir: string;
    readonly logDir: string;
    /** Environment of cluster.sh for this suite's cluster. */
    readonly env: NodeJS.ProcessEnv;
    /** The cluster's device/netns/cgroup prefix. */
    readonly prefix: string;
    readonly kubeconfig: string;
}

export function createNodeSuite(): NodeSuite {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "licode-node-"));
    const logDir = path.join(dir, "logs");
    fs.mkdirSync(logDir, { recursive: true });
    const prefix = `lkt${process.pid.toString(36).slice(-5)}`;
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...CLUSTER_PORTS,
        LICODE_CLUSTER_DIR: path.join(dir, "cluster"),
        LICODE_CLUSTER_NAME: prefix,
        LICODE_CLUSTER_REAL_NODES: "1",
        LICODE_CLUSTER_NODE_IP_PREFIX: NODE_IP_PREFIX,
        LICODE_CLUSTER_POD_CIDR: "10.246.0.0/16",
        // Two signalling nodes and one media node: enough for cross-node Services, NodePorts on every
        // node and two host-network pods on the same port, at three fifths of the demo's memory.
        LICODE_CLUSTER_SIGNALLING_NODES: "2",
        LICODE_CLUSTER_MEDIA_NODES: "1",
        LICODE_CLUSTER_GENERAL_NODES: "0",
    };
    return {
        dir,
        logDir,
        env,
        prefix,
        kubeconfig: path.join(dir, "cluster", "kubeconfig"),
    };
}

let commandCounter = 0;

/** What a command did; its full output is kept in `log`. */
export interface Ran {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly log: string;
}

/** Runs a command to completion (bounded), keeping its output in the suite's log directory. */
export function run(
    suite: NodeSuite,
    command: string,
    args: readonly string[],
    options: { input?: string; timeoutSeconds?: number; env?: NodeJS.ProcessEnv } = {},
): Ran {
    const n = ++commandCounter;
    const label = [path.basename(command), ...args.slice(0, 3)]
        .join("-")
        .replace(/[^A-Za-z0-9_.-]/g, "_")
        .slice(0, 60);
    const log = path.join(suite.logDir, `${String(n).padStart(3, "0")}-${label}.log`);
    const result: SpawnSyncReturns<string> = spawnSync(command, args, {
        cwd: ROOT,
        env: options.env ?? suite.env,
        input: options.input,
        encoding: "utf8",
        timeout: (options.timeoutSeconds ?? 120) * 1000,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024,
    });
    const stdout = result.stdout ?? "";
    const stderr = result.stderr ?? "";
    fs.writeFileSync(
        log,
        `$ ${command} ${args.join(" ")}\n--- status ${result.status} ${result.error ?? ""}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
    );
    return { status: result.status, stdout, stderr, log };
}

/** Explains a failed command for an assertion message. */
export function explain(what: string, ran: Ran): string {
    const tail = (s: string) => s.split("\n").slice(-30).join("\n");
    return `${what}: exit ${ran.status} (full output in ${ran.log})\n${tail(ran.stderr)}\n${tail(ran.stdout)}`;
}

export function cluster(suite: NodeSuite, args: readonly string[], timeoutSeconds = 1800): Ran {
    return run(suite, "bash", [CLUSTER_SH, ...args], { timeoutSeconds });
}

/** kubectl (the cluster's own build) against the suite's cluster. */
export function kubectl(
    suite: NodeSuite,
    args: readonly string[],
    options: { input?: string; timeoutSeconds?: number } = {},
): Ran {
    return run(suite, "bash", [CLUSTER_SH, "kubectl", ...args], options);
}

/** kubectl that must succeed; returns stdout. */
export function kubectlOk(suite: NodeSuite, args: readonly string[], input?: string): string {
    const ran = kubectl(suite, args, { input });
    if (ran.status !== 0) {
        throw new Error(explain(`kubectl ${args.join(" ")}`, ran));
    }
    return ran.stdout;
}

/** A Kubernetes object as JSON (only the fields the tests read are typed). */
export interface KObject {
    metadata: { name: string; namespace?: string; uid?: string };
    spec?: Record<string, unknown>;
    status?: Record<string, unknown>;
}

export function getJson<T = KObject>(suite: NodeSuite, args: readonly string[]): T {
    return JSON.parse(kubectlOk(suite, [...args, "-o", "json"])) as T;
}

/**
 * Polls `check` until it returns a value (not undefined) or the time is up; `describe` says what was
 * waited for and, on timeout, the last state seen. Polls every `intervalMs`; this waits for a state.
 */
export async function waitFor<T>(
    what: string,
    timeoutSeconds: number,
    check: () => T | undefined,
    lastState: () => string = () => "",
    intervalMs = 500,
): Promise<T> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        const value = check();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(
                `timed out after ${timeoutSeconds}s waiting for ${what}\n${lastState()}`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

/** Waits until a pod's Ready condition is True; returns the pod. */
export async function waitPodReady(
    suite: NodeSuite,
    namespace: string,
    name: string,
    timeoutSeconds = 180,
): Promise<KObject> {
    let last = "";
    return waitFor(
        `pod ${namespace}/${name} Ready`,
        timeoutSeconds,
        () => {
            const ran = kubectl(suite, ["-n", namespace, "get", "pod", name, "-o", "json"]);
            if (ran.status !== 0) {
                last = ran.stderr;
                return undefined;
            }
            const pod = JSON.parse(ran.stdout) as KObject;
            last = JSON.stringify(pod.status, null, 1);
            const conditions = (pod.status?.conditions ?? []) as { type: string; status: string }[];
            return conditions.some((c) => c.type === "Ready" && c.status === "True")
                ? pod
                : undefined;
        },
        () => `${last}\n${kubectl(suite, ["-n", namespace, "describe", "pod", name]).stdout}`,
    );
}

// ------------------------------------------------------------------------------------------------
// Host snapshots: what the cluster could leave behind.
// ------------------------------------------------------------------------------------------------

/** Everything on the host that `cluster.sh up` creates, listed so that two snapshots can be compared. */
export interface HostSnapshot {
    /** "pid cmdline | cgroup paths" of every process. */
    readonly processes: Map<string, string>;
    /** Mount points with their source and type (/proc/self/mountinfo). */
    readonly mounts: string[];
    readonly links: string[];
    readonly netns: string[];
    readonly iptables: string[];
    readonly nftables: string[];
    /** Top-level directories of every cgroup hierarchy. */
    readonly cgroups: string[];
    /** Entries of /run, /var/log/containers, /opt, /etc/cni, /var/lib and the dynamic volumes' root. */
    readonly files: string[];
    readonly routes: string[];
}

function lines(command: string, args: readonly string[]): string[] {
    const result = spawnSync(command, args, { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
    }
    return result.stdout.split("\n").filter((l) => l.trim() !== "");
}

function readOr(file: string, fallback: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return fallback;
    }
}

export function hostSnapshot(): HostSnapshot {
    const processes = new Map<string, string>();
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        const cmdline = readOr(`/proc/${pid}/cmdline`, "").replace(/\0/g, " ").trim();
        const cgroup = readOr(`/proc/${pid}/cgroup`, "")
            .split("\n")
            .map((l) => l.split(":").slice(2).join(":"))
            .filter((c) => c !== "" && c !== "/")
            .join(",");
        if (cmdline !== "") {
            processes.set(pid, `${cmdline} | ${cgroup}`);
        }
    }
    const mounts = readOr("/proc/self/mountinfo", "")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => {
            const f = l.split(" ");
            const dash = f.indexOf("-");
            return `${f[4]} ${f[dash + 1]} ${f[dash + 2]}`;
        });
    const cgroups: string[] = [];
    for (const m of readOr("/proc/self/mounts", "").split("\n")) {
        const [, mountPoint, type] = m.split(" ");
        if (type === "cgroup" || type === "cgroup2") {
            for (const d of fs.readdirSync(mountPoint, { withFileTypes: true })) {
                if (d.isDirectory()) {
                    cgroups.push(path.join(mountPoint, d.name));
                }
            }
        }
    }
    const files: string[] = [];
    // /tmp/kwok-local-path-provisioner: the dynamic volumes' directories (tools/cluster/stages/volume.yaml).
    const dirs = [
        "/run",
        "/var/log/containers",
        "/opt",
        "/etc/cni",
        "/var/lib",
        "/tmp/kwok-local-path-provisioner",
    ];
    for (const d of dirs) {
        if (fs.existsSync(d)) {
            files.push(d, ...fs.readdirSync(d).map((e) => path.join(d, e)));
        }
    }
    return {
        processes,
        mounts,
        links: lines("ip", ["-o", "link", "show"]).map((l) => l.split(":")[1].trim()),
        netns: lines("ip", ["netns", "list"]).map((l) => l.split(" ")[0]),
        // Chain policy lines carry packet counters, which change with any traffic.
        iptables: lines("iptables-save", [])
            .filter((l) => !l.startsWith("#"))
            .map((l) => l.replace(/\[\d+:\d+\]/, "")),
        nftables: lines("nft", ["list", "ruleset"]).map((l) =>
            l.replace(/counter packets \d+ bytes \d+/, "counter"),
        ),
        cgroups,
        files,
        routes: lines("ip", ["-4", "route", "show"]),
    };
}

/**
 * What `after` holds that `before` did not, restricted to what a cluster instance could have made:
 * entries naming its prefix, its state dir, or the runtime's fixed names (containerd, CNI, kube
 * chains, pod cgroups). Other entries may come and go with other work on this shared machine; they
 * are returned separately, for the message only.
 */
export function leftovers(
    before: HostSnapshot,
    after: HostSnapshot,
    markers: readonly string[],
): { ours: string[]; unrelated: string[] } {
    const patterns = [
        ...markers,
        "containerd",
        "kubelet",
        "kube-proxy",
        "kubepods",
        "netpol",
        "coredns",
        "pause",
        "cni",
        "KUBE-",
        "kube-network-policies",
        "/var/log/containers",
    ];
    const mentionsUs = (s: string) => patterns.some((p) => s.includes(p));
    const ours: string[] = [];
    const unrelated: string[] = [];
    const diff = (kind: string, a: readonly string[], b: readonly string[]) => {
        const seen = new Set(a);
        for (const item of b.filter((x) => !seen.has(x))) {
            (mentionsUs(item) ? ours : unrelated).push(`${kind}: ${item}`);
        }
    };
    const beforeProcs = new Set(before.processes.values());
    for (const [pid, proc] of after.processes) {
        if (!before.processes.has(pid) || !beforeProcs.has(proc)) {
            (mentionsUs(proc) ? ours : unrelated).push(`process ${pid}: ${proc}`);
        }
    }
    diff("mount", before.mounts, after.mounts);
    diff("link", before.links, after.links);
    diff("netns", before.netns, after.netns);
    diff("iptables", before.iptables, after.iptables);
    diff("nftables", before.nftables, after.nftables);
    diff("cgroup", before.cgroups, after.cgroups);
    diff("file", before.files, after.files);
    diff("route", before.routes, after.routes);
    return { ours, unrelated };
}
