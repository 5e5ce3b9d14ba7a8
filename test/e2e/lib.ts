/**
 * Helpers for the end-to-end tests: a private local control plane (tools/cluster, own state dir and
 * ports), a temporary backend and project workspace, pulumi and kubectl runners, and the checks the
 * specs share (workloads Ready, Services with endpoints, cluster listings, orphans).
 *
 * Every pulumi process gets a marker in its environment; the plugins it starts inherit it, so
 * whatever a killed or finished CLI leaves behind is found by that marker and ended by PID.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pulumiEnv } from "../engine/engine";

export const ROOT = path.resolve(__dirname, "..", "..");
const CLUSTER_SH = path.join(ROOT, "tools", "cluster", "cluster.sh");

/** The passphrase of every e2e stack; the backend is a temporary directory removed afterwards. */
export const PASSPHRASE = "licode-e2e-throwaway";

/** Ports of the e2e cluster: the defaults + 200, so a demo cluster (or bench, + 100) can run beside it. */
const CLUSTER_PORTS: Record<string, string> = {
    LICODE_CLUSTER_ETCD_PORT: "23579",
    LICODE_CLUSTER_ETCD_PEER_PORT: "23580",
    LICODE_CLUSTER_API_PORT: "26643",
    LICODE_CLUSTER_KCM_PORT: "20457",
    LICODE_CLUSTER_SCHEDULER_PORT: "20459",
    LICODE_CLUSTER_KWOK_PORT: "20480",
};

/** Everything one suite run owns. */
export interface Suite {
    /** Temporary root: backend, cluster state, workspace, logs. */
    readonly dir: string;
    /** The project copy pulumi runs in (Pulumi.<stack>.yaml files are written here only). */
    readonly workspace: string;
    /** Where each command's full output is kept, for failure messages and debugging. */
    readonly logDir: string;
    /** Environment of the cluster scripts (state dir, ports, node counts). */
    readonly clusterEnv: NodeJS.ProcessEnv;
    /** Environment of pulumi (tools/pulumi-env.sh + backend, passphrase, KUBECONFIG). */
    readonly pulumiEnv: NodeJS.ProcessEnv;
    /** Marker put into the environment of every process the suite starts. */
    readonly marker: string;
}

/** What a command did. */
export interface RunResult {
    readonly status: number | null;
    readonly signal: NodeJS.Signals | null;
    /** stdout only (for --json and `stack export`). */
    readonly stdout: string;
    /** stdout and stderr interleaved as they arrived. */
    readonly output: string;
    /** Wall time in seconds. */
    readonly seconds: number;
    /** The file holding `output`. */
    readonly log: string;
}

let commandCounter = 0;

/** Creates the suite's temporary directories and environments. Nothing is started yet. */
export function createSuite(): Suite {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "licode-e2e-"));
    const logDir = path.join(dir, "logs");
    const workspace = path.join(dir, "workspace");
    const state = path.join(dir, "state");
    const clusterDir = path.join(dir, "cluster");
    for (const d of [logDir, workspace, state]) {
        fs.mkdirSync(d, { recursive: true });
    }
    const marker = `licode-e2e-${crypto.randomBytes(6).toString("hex")}`;
    const clusterEnv: NodeJS.ProcessEnv = {
        ...process.env,
        ...CLUSTER_PORTS,
        LICODE_CLUSTER_DIR: clusterDir,
        // One spare signalling node, so ErizoController's surge rollout (maxSurge 1, required
        // anti-affinity) really runs as in production.
        LICODE_CLUSTER_SIGNALLING_NODES: "2",
        LICODE_CLUSTER_MEDIA_NODES: "2",
        LICODE_CLUSTER_GENERAL_NODES: "1",
        // Simulated (kwok) nodes: these cases need no containers, and run unprivileged and fast.
        LICODE_CLUSTER_REAL_NODES: "0",
    };
    // No marker here: the control plane's processes outlive each command and cluster.sh stops them.
    delete clusterEnv.LICODE_E2E_MARKER;
    const env = pulumiEnv({
        PULUMI_BACKEND_URL: `file://${state}`,
    });
    env.PULUMI_CONFIG_PASSPHRASE = PASSPHRASE;
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    env.KUBECONFIG = path.join(clusterDir, "kubeconfig");
    delete env.KUBECONTEXT;
    env.LICODE_E2E_MARKER = marker;
    env.NO_COLOR = "1";

    // The project, as tools/pulumi-env.sh's licode_workspace copies it; stack files are ours.
    for (const f of ["Pulumi.yaml", "index.ts", "components", "tsconfig.json", "package.json"]) {
        fs.cpSync(path.join(ROOT, f), path.join(workspace, f), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(workspace, "node_modules"));
    return { dir, workspace, logDir, clusterEnv, pulumiEnv: env, marker };
}

/** Runs a command to completion. `onOutput` sees each chunk with the child, e.g. to kill it. */
export function run(
    suite: Suite,
    command: string,
    args: readonly string[],
    options: {
        cwd?: string;
        env: NodeJS.ProcessEnv;
        onOutput?: (all: string, child: ChildProcess) => void;
        input?: string;
        /** Interrupts (SIGINT, then SIGKILL 15 s later) a command still running after this. */
        timeoutSeconds?: number;
    },
): Promise<RunResult> {
    const n = ++commandCounter;
    const words = (command === "bash" ? args.slice(1) : args).filter((a) => !a.startsWith("-"));
    const label = [
        command === "bash" ? path.basename(args[0] ?? "bash", ".sh") : command,
        ...words.slice(0, 2),
    ]
        .join("-")
        .replace(/[^A-Za-z0-9_.-]/g, "_")
        .slice(0, 60);
    const log = path.join(suite.logDir, `${String(n).padStart(3, "0")}-${label}.log`);
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, {
            cwd: options.cwd ?? ROOT,
            env: options.env,
            stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        });
        if (options.input !== undefined && child.stdin) {
            child.stdin.end(options.input);
        }
        let output = "";
        let stdout = "";
        const collect = (isStdout: boolean) => (chunk: Buffer) => {
            const text = chunk.toString("utf8");
            output += text;
            if (isStdout) {
                stdout += text;
            }
            if (process.env.LICODE_E2E_VERBOSE) {
                process.stderr.write(chunk);
            }
            options.onOutput?.(output, child);
        };
        child.stdout?.on("data", collect(true));
        child.stderr?.on("data", collect(false));
        let timedOut = false;
        const timer =
            options.timeoutSeconds === undefined
                ? undefined
                : setTimeout(() => {
                      timedOut = true;
                      child.kill("SIGINT");
                      setTimeout(() => child.kill("SIGKILL"), 15000).unref();
                  }, options.timeoutSeconds * 1000);
        child.on("error", reject);
        child.on("close", (status, signal) => {
            if (timer !== undefined) {
                clearTimeout(timer);
            }
            if (timedOut) {
                output += `\n[e2e] interrupted after the ${options.timeoutSeconds} s time limit\n`;
            }
            const seconds = (Date.now() - started) / 1000;
            fs.writeFileSync(
                log,
                `$ ${command} ${args.join(" ")}\n# exit ${status} signal ${signal} after ${seconds.toFixed(1)} s\n${output}`,
            );
            resolve({ status, signal, stdout, output, seconds, log });
        });
    });
}

/** Formats a command's result for an assertion message. */
export function explain(what: string, result: RunResult): string {
    return `${what} exited ${result.status}${result.signal ? ` (${result.signal})` : ""} after ${result.seconds.toFixed(1)} s (log: ${result.log}); output:\n${result.output.slice(-5000)}`;
}

/** PIDs of live processes whose environment carries the marker (never this process). */
export function markedProcesses(marker: string): number[] {
    const pids: number[] = [];
    const needle = Buffer.from(`LICODE_E2E_MARKER=${marker}\0`);
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
            continue;
        }
        try {
            if (fs.readFileSync(`/proc/${entry}/environ`).includes(needle)) {
                pids.push(Number(entry));
            }
        } catch {
            // gone, or not ours to read
        }
    }
    return pids;
}

/** Ends, by PID, every process the suite started that is still running (e.g. a killed CLI's plugins). */
export async function killLeftovers(
    suite: Suite,
    signal: NodeJS.Signals = "SIGKILL",
): Promise<number[]> {
    const pids = markedProcesses(suite.marker);
    for (const pid of pids) {
        try {
            process.kill(pid, signal);
        } catch {
            // already gone
        }
    }
    // A SIGKILLed process is gone only once the kernel has torn it down: wait for that, not a time.
    for (const deadline = Date.now() + 10_000; pids.some(running) && Date.now() < deadline;) {
        await sleep(50);
    }
    return pids;
}

/** Whether the process still runs: it exists and is not a zombie (state Z in /proc/PID/stat). */
function running(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // The command name (field 2) may hold spaces and parentheses: the state follows the last ")".
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return false;
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// Cluster and kubectl
// ---------------------------------------------------------------------------------------------

export async function clusterUp(suite: Suite): Promise<RunResult> {
    return run(suite, "bash", [CLUSTER_SH, "up"], { env: suite.clusterEnv });
}

export async function clusterDown(suite: Suite): Promise<RunResult> {
    return run(suite, "bash", [CLUSTER_SH, "down"], { env: suite.clusterEnv });
}

/** kubectl (the cluster's own build) against the suite's cluster. */
export function kubectl(suite: Suite, args: readonly string[], input?: string): Promise<RunResult> {
    return run(suite, "bash", [CLUSTER_SH, "kubectl", ...args], {
        env: suite.clusterEnv,
        input,
    });
}

/** `kubectl get … -o json`, parsed; throws with kubectl's message on failure. */
export async function getJson<T = KList>(suite: Suite, args: readonly string[]): Promise<T> {
    const result = await kubectl(suite, ["get", ...args, "-o", "json"]);
    if (result.status !== 0) {
        throw new Error(explain(`kubectl get ${args.join(" ")}`, result));
    }
    return JSON.parse(result.stdout) as T;
}

/** The subset of a Kubernetes object the checks read. */
export interface KObject {
    kind: string;
    metadata: {
        name: string;
        namespace?: string;
        uid: string;
        resourceVersion: string;
        generation?: number;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        ownerReferences?: { kind: string; name: string; uid: string }[];
        deletionTimestamp?: string;
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    spec?: any;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    status?: any;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    [key: string]: any;
}
export interface KList {
    items: KObject[];
}

/** Does the object exist? */
export async function exists(
    suite: Suite,
    kind: string,
    name: string,
    namespace?: string,
): Promise<boolean> {
    const args = ["get", kind, name, "--ignore-not-found", "-o", "name"];
    if (namespace !== undefined) {
        args.push("-n", namespace);
    }
    const result = await kubectl(suite, args);
    if (result.status !== 0) {
        throw new Error(explain(`kubectl get ${kind} ${name}`, result));
    }
    return result.stdout.trim() !== "";
}

// ---------------------------------------------------------------------------------------------
// Pulumi
// ---------------------------------------------------------------------------------------------

export interface PulumiOptions {
    onOutput?: (all: string, child: ChildProcess) => void;
    /** Defaults to 480 s: below the awaiters' 10 min, so a stuck rollout fails the test, not the suite. */
    timeoutSeconds?: number;
}

/** Runs pulumi in the workspace; afterwards ends anything it left running. */
export async function pulumi(
    suite: Suite,
    args: readonly string[],
    options: PulumiOptions = {},
): Promise<RunResult> {
    const result = await run(suite, "pulumi", args, {
        cwd: suite.workspace,
        env: suite.pulumiEnv,
        onOutput: options.onOutput,
        timeoutSeconds: options.timeoutSeconds ?? 480,
    });
    await killLeftovers(suite);
    return result;
}

/** The policy pack flags for a stack: the pack and its per-environment levels. */
export function policyArgs(policyConfig: string): string[] {
    return [
        "--policy-pack",
        path.join(ROOT, "policy"),
        "--policy-pack-config",
        path.join(ROOT, "policy", "config", `${policyConfig}.json`),
    ];
}

/** Creates a stack in the suite's backend (writes its encryption salt into the workspace copy). */
export async function initStack(suite: Suite, stack: string): Promise<void> {
    const file = stackFile(suite, stack);
    if (!fs.existsSync(file)) {
        fs.writeFileSync(file, "config: {}\n");
    }
    const result = await pulumi(suite, [
        "stack",
        "init",
        stack,
        "--no-select",
        "--non-interactive",
    ]);
    if (result.status !== 0) {
        throw new Error(explain(`pulumi stack init ${stack}`, result));
    }
}

function stackFile(suite: Suite, stack: string): string {
    return path.join(suite.workspace, `Pulumi.${stack}.yaml`);
}

/** A stack's `licode:` config as values (parsed from `pulumi config --json`). */
export type StackConfig = Record<string, unknown>;

/** Reads a stack file's config through pulumi itself (no YAML parser needed). */
export async function readConfig(suite: Suite, stack: string): Promise<StackConfig> {
    const result = await pulumi(suite, ["config", "--json", "--stack", stack]);
    if (result.status !== 0) {
        throw new Error(explain(`pulumi config --json -s ${stack}`, result));
    }
    const raw = JSON.parse(result.stdout) as Record<
        string,
        { value?: string; objectValue?: unknown; secret: boolean }
    >;
    const config: StackConfig = {};
    for (const [key, entry] of Object.entries(raw)) {
        config[key] = entry.objectValue ?? entry.value;
    }
    return config;
}

/**
 * Writes the stack file (JSON is YAML) with `config`, keeping the encryption salt pulumi wrote at
 * `stack init`.
 */
export function writeConfig(suite: Suite, stack: string, config: StackConfig): void {
    const file = stackFile(suite, stack);
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    const salt = /^encryptionsalt:\s*(\S+)\s*$/m.exec(current)?.[1];
    const doc: Record<string, unknown> = { config };
    if (salt !== undefined) {
        doc.encryptionsalt = salt.replace(/^"|"$/g, "");
    }
    fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}

/** The stack's checkpoint (`pulumi stack export [--show-secrets]`), parsed. */
export async function exportStack(
    suite: Suite,
    stack: string,
    showSecrets = true,
): Promise<Deployment> {
    return (await exportCheckpoint(suite, stack, showSecrets)).deployment;
}

/** The whole `pulumi stack export` document (version + deployment). */
export async function exportCheckpoint(
    suite: Suite,
    stack: string,
    showSecrets: boolean,
): Promise<{ version: number; deployment: Deployment }> {
    const args = ["stack", "export", "--stack", stack];
    if (showSecrets) {
        args.push("--show-secrets");
    }
    const result = await pulumi(suite, args);
    if (result.status !== 0) {
        throw new Error(explain(`pulumi stack export -s ${stack}`, result));
    }
    return JSON.parse(result.stdout) as { version: number; deployment: Deployment };
}

export interface StateResource {
    urn: string;
    type: string;
    id?: string;
    custom: boolean;
    protect?: boolean;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    inputs?: any;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    outputs?: any;
}
export interface Deployment {
    resources?: StateResource[];
    pending_operations?: { type: string; resource: StateResource }[];
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/** Why each workload in the namespace is not Ready (empty when all are), and their names. */
export async function workloadProblems(
    suite: Suite,
    namespace: string,
): Promise<{ problems: string[]; workloads: string[] }> {
    const list = await getJson(suite, [
        "deployments.apps,statefulsets.apps,daemonsets.apps,jobs.batch,pods",
        "-n",
        namespace,
    ]);
    const problems: string[] = [];
    const workloads: string[] = [];
    for (const o of list.items) {
        const s = o.status ?? {};
        const id = `${o.kind}/${o.metadata.name}`;
        const stale = (s.observedGeneration ?? 0) < (o.metadata.generation ?? 0);
        switch (o.kind) {
            case "Deployment": {
                workloads.push(id);
                const want = o.spec.replicas ?? 1;
                if (
                    stale ||
                    (s.readyReplicas ?? 0) !== want ||
                    (s.updatedReplicas ?? 0) !== want ||
                    (s.replicas ?? 0) !== want
                ) {
                    problems.push(
                        `${id}: ready ${s.readyReplicas ?? 0}, updated ${s.updatedReplicas ?? 0}, total ${s.replicas ?? 0}, want ${want}${stale ? ", status stale" : ""}`,
                    );
                }
                break;
            }
            case "StatefulSet": {
                workloads.push(id);
                const want = o.spec.replicas ?? 1;
                if (
                    stale ||
                    (s.readyReplicas ?? 0) !== want ||
                    s.currentRevision !== s.updateRevision
                ) {
                    problems.push(
                        `${id}: ready ${s.readyReplicas ?? 0}/${want}, revision ${s.currentRevision} -> ${s.updateRevision}`,
                    );
                }
                break;
            }
            case "DaemonSet": {
                workloads.push(id);
                const want = s.desiredNumberScheduled ?? 0;
                if (
                    stale ||
                    want === 0 ||
                    s.numberReady !== want ||
                    s.updatedNumberScheduled !== want
                ) {
                    problems.push(
                        `${id}: ready ${s.numberReady}/${want}, updated ${s.updatedNumberScheduled}`,
                    );
                }
                break;
            }
            case "Job": {
                workloads.push(id);
                const complete = (s.conditions ?? []).some(
                    (c: { type: string; status: string }) =>
                        c.type === "Complete" && c.status === "True",
                );
                if (!complete) {
                    problems.push(`${id}: not complete (succeeded ${s.succeeded ?? 0})`);
                }
                break;
            }
            case "Pod": {
                const ready = (s.conditions ?? []).some(
                    (c: { type: string; status: string }) =>
                        c.type === "Ready" && c.status === "True",
                );
                if (o.metadata.deletionTimestamp !== undefined) {
                    problems.push(`${id}: terminating`);
                } else if (!(s.phase === "Succeeded" || (s.phase === "Running" && ready))) {
                    problems.push(`${id}: ${s.phase}${ready ? "" : ", not Ready"}`);
                }
                break;
            }
            default:
                break;
        }
    }
    return { problems, workloads: workloads.sort() };
}

/** Waits (up to `seconds`) until every workload in the namespace is Ready; returns the last check. */
export async function waitReady(
    suite: Suite,
    namespace: string,
    seconds = 60,
): Promise<{ problems: string[]; workloads: string[] }> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const check = await workloadProblems(suite, namespace);
        if (check.problems.length === 0 || Date.now() > deadline) {
            return check;
        }
        await sleep(1000);
    }
}

/** Services (with a selector) in the namespace that have no ready endpoint, with their names. */
export async function servicesWithoutEndpoints(
    suite: Suite,
    namespace: string,
): Promise<{ missing: string[]; services: string[] }> {
    const services = await getJson(suite, ["services", "-n", namespace]);
    const slices = await getJson(suite, ["endpointslices.discovery.k8s.io", "-n", namespace]);
    const missing: string[] = [];
    const names: string[] = [];
    for (const svc of services.items) {
        if (svc.spec.selector === undefined) {
            continue;
        }
        names.push(svc.metadata.name);
        const ready = slices.items
            .filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === svc.metadata.name)
            .flatMap((s) => (s.endpoints ?? []) as { conditions?: { ready?: boolean } }[])
            .filter((e) => e.conditions?.ready !== false);
        if (ready.length === 0) {
            missing.push(svc.metadata.name);
        }
    }
    return { missing, services: names.sort() };
}

/** Kinds the program creates in its namespace, as kubectl resource names (custom kinds: below). */
const NAMESPACED_KINDS = [
    "secrets",
    "configmaps",
    "services",
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "jobs.batch",
    "networkpolicies.networking.k8s.io",
    "ingresses.networking.k8s.io",
    "poddisruptionbudgets.policy",
    "persistentvolumeclaims",
    "serviceaccounts",
];

/** The kinds NAMESPACED_KINDS lists, and those orphansAndLost lists cluster-wide. */
const LISTED_KINDS = new Set([
    "Secret",
    "ConfigMap",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "NetworkPolicy",
    "Ingress",
    "PodDisruptionBudget",
    "PersistentVolumeClaim",
    "ServiceAccount",
    "PersistentVolume",
    "Namespace",
]);

/**
 * The kubectl resource name (`<kind>.<group>`) of a custom kind in a `kubernetes:<group>/<version>:<Kind>`
 * type token, e.g. certificate.cert-manager.io; undefined for the kinds NAMESPACED_KINDS lists.
 */
function customResourceName(type: string): string | undefined {
    const match = /^kubernetes:([^/:]+)\/[^:]+:(\w+)$/.exec(type);
    if (match === null || LISTED_KINDS.has(match[2]) || !match[1].includes(".")) {
        return undefined;
    }
    return `${match[2].toLowerCase()}.${match[1]}`;
}

/** Objects Kubernetes itself puts in every namespace. */
function builtIn(o: KObject): boolean {
    return (
        (o.kind === "ConfigMap" && o.metadata.name === "kube-root-ca.crt") ||
        (o.kind === "ServiceAccount" && o.metadata.name === "default")
    );
}

/**
 * Every object in the namespaces (and the cluster's Namespaces, PersistentVolumes, Nodes), as
 * "Kind ns/name uid rv" lines: a listing to compare before and after a command that must not
 * touch the cluster. Events and Leases are left out (the control plane writes them on its own).
 */
export async function clusterListing(
    suite: Suite,
    namespaces: readonly string[],
): Promise<string[]> {
    const lines: string[] = [];
    const add = (list: KList) => {
        for (const o of list.items) {
            lines.push(
                `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name} ${o.metadata.uid} ${o.metadata.resourceVersion}`,
            );
        }
    };
    add(await getJson(suite, ["namespaces,persistentvolumes,storageclasses.storage.k8s.io"]));
    add(
        await getJson(suite, [
            "services,secrets,configmaps,ingresses.networking.k8s.io",
            "-n",
            "default",
        ]),
    );
    for (const ns of namespaces) {
        add(
            await getJson(suite, [
                [...NAMESPACED_KINDS, "pods", "replicasets.apps", "controllerrevisions.apps"].join(
                    ",",
                ),
                "-n",
                ns,
            ]),
        );
    }
    return lines.sort();
}

/** The kind of a `kubernetes:<group>/<version>:<Kind>` type token. */
function kindOf(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

/**
 * Compares the stack's Kubernetes resources with what is in the cluster: objects in the namespace
 * (and PersistentVolumes labelled with the stack's instance) that the state does not know are
 * orphans; objects the state has but the cluster lacks are lost. Custom kinds the state holds in
 * the namespace (e.g. a cert-manager Certificate) are listed as well.
 */
export async function orphansAndLost(
    suite: Suite,
    stack: string,
    namespace: string,
): Promise<{ orphans: string[]; lost: string[]; managed: string[] }> {
    const deployment = await exportStack(suite, stack);
    const inState = new Set<string>();
    const kinds = new Set(NAMESPACED_KINDS);
    for (const r of deployment.resources ?? []) {
        if (!r.type.startsWith("kubernetes:") || r.type.startsWith("pulumi:providers:")) {
            continue;
        }
        const md = r.outputs?.metadata ?? r.inputs?.metadata ?? {};
        inState.add(`${kindOf(r.type)} ${md.namespace ?? ""}/${md.name}`);
        const custom = customResourceName(r.type);
        if (custom !== undefined && md.namespace === namespace) {
            kinds.add(custom);
        }
    }
    const inCluster = new Set<string>();
    const list = await getJson(suite, [[...kinds].join(","), "-n", namespace]);
    for (const o of list.items) {
        if (!builtIn(o)) {
            inCluster.add(`${o.kind} ${namespace}/${o.metadata.name}`);
        }
    }
    const cluster = await getJson(suite, [
        "persistentvolumes,namespaces",
        "-l",
        `app.kubernetes.io/instance=licode-${stack}`,
    ]);
    for (const o of cluster.items) {
        inCluster.add(`${o.kind} /${o.metadata.name}`);
    }
    return {
        orphans: [...inCluster].filter((k) => !inState.has(k)).sort(),
        lost: [...inState].filter((k) => !inCluster.has(k)).sort(),
        managed: [...inState].sort(),
    };
}

/** Pods of the namespace by `app.kubernetes.io/name` label: name → uid. */
export async function podsByTier(
    suite: Suite,
    namespace: string,
): Promise<Record<string, Record<string, string>>> {
    const pods = await getJson(suite, ["pods", "-n", namespace]);
    const tiers: Record<string, Record<string, string>> = {};
    for (const p of pods.items) {
        const tier = p.metadata.labels?.["app.kubernetes.io/name"] ?? "?";
        (tiers[tier] ??= {})[p.metadata.name] = p.metadata.uid;
    }
    return tiers;
}

/**
 * Recovers a stack after its CLI was killed, with Pulumi's tools for a self-managed (DIY) backend:
 *
 * 1. `pulumi cancel` removes the lock the killed update left (DIY backends lock stacks too);
 * 2. pending operations are resolved by editing the checkpoint (`pulumi stack export`, edit,
 *    `pulumi stack import`), as Pulumi documents for interrupted updates: a pending create whose
 *    object exists in the cluster is adopted (moved into the resources with its ID, `namespace/name`),
 *    the others are dropped. `pulumi refresh --import-pending-creates URN ID` would be the one-step
 *    form, but CLI 3.248 drops the resulting "importing" operations without adding the resource,
 *    which orphans autonamed objects (e.g. the bootstrap Job);
 * 3. `pulumi refresh` reads every object's live state (and clears pending updates and deletes).
 *
 * Returns what it found and did.
 */
export async function recoverInterruptedUpdate(
    suite: Suite,
    stack: string,
): Promise<{ pending: string[]; adopted: string[]; dropped: string[]; log: RunResult[] }> {
    const log: RunResult[] = [];
    const cancel = await pulumi(suite, ["cancel", "--yes", "--stack", stack]);
    log.push(cancel);
    if (cancel.status !== 0) {
        throw new Error(explain("pulumi cancel", cancel));
    }
    const checkpoint = await exportCheckpoint(suite, stack, false);
    const deployment = checkpoint.deployment;
    const ops = deployment.pending_operations ?? [];
    const pending = ops.map((op) => `${op.type} ${op.resource.urn}`);
    const adopted: string[] = [];
    const dropped: string[] = [];
    for (const op of ops) {
        const md = op.resource.inputs?.metadata ?? {};
        if (
            op.type === "creating" &&
            op.resource.type.startsWith("kubernetes:") &&
            typeof md.name === "string"
        ) {
            const kind = kindOf(op.resource.type);
            const ns = typeof md.namespace === "string" ? md.namespace : undefined;
            if (await exists(suite, kind, md.name, ns)) {
                const id = ns === undefined ? md.name : `${ns}/${md.name}`;
                // Appended last: its parent and dependencies are in the state already, and nothing
                // depends on a resource whose create had not finished.
                (deployment.resources ??= []).push({
                    ...op.resource,
                    id,
                    outputs: op.resource.outputs ?? op.resource.inputs,
                });
                adopted.push(`${op.resource.urn} as ${id}`);
                continue;
            }
        }
        if (op.type === "creating") {
            dropped.push(op.resource.urn);
        }
    }
    if (ops.length > 0) {
        deployment.pending_operations = [];
        const file = path.join(suite.dir, `checkpoint-${stack}-${Date.now()}.json`);
        fs.writeFileSync(file, JSON.stringify(checkpoint));
        const imported = await pulumi(suite, ["stack", "import", "--file", file, "--stack", stack]);
        log.push(imported);
        if (imported.status !== 0) {
            throw new Error(explain("pulumi stack import (recovery)", imported));
        }
    }
    const refresh = await pulumi(suite, [
        "refresh",
        "--yes",
        "--skip-preview",
        "--non-interactive",
        "--stack",
        stack,
    ]);
    log.push(refresh);
    if (refresh.status !== 0) {
        throw new Error(explain("pulumi refresh (recovery)", refresh));
    }
    return { pending, adopted, dropped, log };
}

// ---------------------------------------------------------------------------------------------
// cert-manager: its own Certificate CRD, and a stand-in for its controller
// ---------------------------------------------------------------------------------------------

/** The cert-manager release whose Certificate CRD the cases apply (its Go module ships the CRDs). */
export const CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager@v1.21.2";

/** The directory of a Go module, downloaded through the Go module proxy (or its cache). */
export function goModuleDir(module: string): string {
    const download = spawnSync("go", ["mod", "download", "-json", module], {
        encoding: "utf8",
        env: { ...process.env, GOFLAGS: "-mod=mod" },
    });
    if (download.status !== 0) {
        throw new Error(`go mod download ${module} failed: ${download.stderr}`);
    }
    return (JSON.parse(download.stdout) as { Dir: string }).Dir;
}

/**
 * Applies cert-manager's own CRD for certificates.cert-manager.io (its module's
 * deploy/crds/cert-manager.io_certificates.yaml, generated by controller-gen; deploy/crds/README.md
 * offers that directory for development and testing, not to install cert-manager) and waits until
 * the API server serves it, so the program's Certificate is checked against cert-manager's schema.
 */
export async function installCertificateCrd(suite: Suite): Promise<void> {
    const crd = path.join(
        goModuleDir(CERT_MANAGER_MODULE),
        "deploy",
        "crds",
        "cert-manager.io_certificates.yaml",
    );
    for (const args of [
        ["apply", "--server-side", "-f", crd],
        [
            "wait",
            "--for=condition=Established",
            "crd/certificates.cert-manager.io",
            "--timeout=60s",
        ],
    ]) {
        const result = await kubectl(suite, args);
        if (result.status !== 0) {
            throw new Error(explain(`kubectl ${args[0]} the Certificate CRD`, result));
        }
    }
}

/** The stand-in issuer: what it did, and how to stop it. */
export interface IssuerStandIn {
    /** "namespace/name" of every Certificate it marked Ready, in order. */
    readonly issued: string[];
    /** What went wrong while it ran (a failed kubectl, the watch ending early). */
    readonly errors: string[];
    /** Writes a new certificate and key into a Certificate's Secret, as a renewal does. */
    renew(namespace: string, secretName: string, dnsNames: readonly string[]): Promise<void>;
    /** Ends the watch and waits for the reconcile in progress. */
    stop(): Promise<void>;
}

/**
 * A stand-in for cert-manager's controller, which the suite's cluster does not run: it watches the
 * Certificates of `namespace` and, for each one not Ready at its generation, writes a self-signed
 * certificate for its dnsNames (openssl) into its Secret when the Secret is missing, then sets the
 * Ready condition, as cert-manager does once a certificate is issued. What it leaves untested: the
 * issuers (ACME, CA), cert-manager's checks of the request, renewal timing, and its Secret's extra
 * keys (ca.crt) and annotations.
 */
export function startIssuerStandIn(suite: Suite, namespace: string): IssuerStandIn {
    const issued: string[] = [];
    const errors: string[] = [];
    const dir = fs.mkdtempSync(path.join(suite.dir, "issuer-stand-in-"));
    const kube = async (what: string, args: readonly string[], input?: string) => {
        const result = await kubectl(suite, args, input);
        if (result.status !== 0) {
            throw new Error(explain(what, result));
        }
        return result;
    };
    const writeSecret = async (
        ns: string,
        secretName: string,
        dnsNames: readonly string[],
    ): Promise<void> => {
        const crt = path.join(dir, `${secretName}.crt`);
        const key = path.join(dir, `${secretName}.key`);
        const openssl = spawnSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "90",
                "-subj",
                `/CN=${dnsNames[0] ?? secretName}`,
                "-addext",
                `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(",")}`,
                "-keyout",
                key,
                "-out",
                crt,
            ],
            { encoding: "utf8" },
        );
        if (openssl.status !== 0) {
            throw new Error(`openssl req failed: ${openssl.stderr}`);
        }
        const secret = {
            apiVersion: "v1",
            kind: "Secret",
            type: "kubernetes.io/tls",
            metadata: { name: secretName, namespace: ns },
            data: {
                "tls.crt": fs.readFileSync(crt).toString("base64"),
                "tls.key": fs.readFileSync(key).toString("base64"),
            },
        };
        await kube(
            `apply Secret ${ns}/${secretName}`,
            ["apply", "-f", "-"],
            JSON.stringify(secret),
        );
    };
    const reconcile = async (name: string): Promise<void> => {
        const got = await kubectl(suite, [
            "get",
            "certificates.cert-manager.io",
            name,
            "-n",
            namespace,
            "--ignore-not-found",
            "-o",
            "json",
        ]);
        if (got.status !== 0) {
            throw new Error(explain(`get Certificate ${name}`, got));
        }
        if (got.stdout.trim() === "") {
            return;
        }
        const certificate = JSON.parse(got.stdout) as KObject;
        const generation = certificate.metadata.generation ?? 1;
        const ready = ((certificate.status?.conditions ?? []) as Record<string, unknown>[]).some(
            (c) => c.type === "Ready" && c.status === "True" && c.observedGeneration === generation,
        );
        if (ready || certificate.metadata.deletionTimestamp !== undefined) {
            return;
        }
        const { secretName, dnsNames } = certificate.spec as {
            secretName: string;
            dnsNames?: string[];
        };
        if (!(await exists(suite, "secret", secretName, namespace))) {
            await writeSecret(namespace, secretName, dnsNames ?? []);
        }
        const status = {
            status: {
                conditions: [
                    {
                        type: "Ready",
                        status: "True",
                        reason: "Ready",
                        message: "issued by the e2e suite's stand-in for cert-manager",
                        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
                        observedGeneration: generation,
                    },
                ],
            },
        };
        await kube(`set Ready on Certificate ${name}`, [
            "patch",
            "certificates.cert-manager.io",
            name,
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            JSON.stringify(status),
        ]);
        issued.push(`${namespace}/${name}`);
    };

    // One reconcile at a time, in the order the watch reported the names.
    let queue: Promise<void> = Promise.resolve();
    let stopping = false;
    const watch = spawn(
        "bash",
        [
            CLUSTER_SH,
            "kubectl",
            "get",
            "certificates.cert-manager.io",
            "-n",
            namespace,
            "--watch",
            "-o",
            "name",
        ],
        { env: suite.clusterEnv, stdio: ["ignore", "pipe", "pipe"] },
    );
    let pending = "";
    let stderr = "";
    watch.stdout.on("data", (chunk: Buffer) => {
        pending += chunk.toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines.filter((l) => l.trim() !== "")) {
            const name = line.trim().replace(/^.*\//, "");
            queue = queue.then(() =>
                reconcile(name).catch((error: unknown) => {
                    errors.push(String(error));
                }),
            );
        }
    });
    watch.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
    });
    const ended = new Promise<void>((resolve) => {
        watch.on("close", (code, signal) => {
            if (!stopping) {
                errors.push(`the Certificate watch ended (${code ?? signal}): ${stderr}`);
            }
            resolve();
        });
    });
    return {
        issued,
        errors,
        renew: (ns, secretName, dnsNames) => writeSecret(ns, secretName, dnsNames),
        stop: async () => {
            stopping = true;
            watch.kill("SIGTERM");
            await ended;
            await queue;
        },
    };
}
