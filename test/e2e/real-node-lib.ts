/**
 * Helpers for the real-node end-to-end suite (real-node.spec.ts): a private cluster of real nodes
 * beside any other (own state dir, ports, node addresses, pod range and device prefix), the `local`
 * stack's settings that depend on the node addresses, the images built here and pinned by digest,
 * commands run inside containers, what a container's securityContext must look like from inside it,
 * a pod timeline and log followers for rollouts, a Licode client held open across one, and the host
 * leftovers of a cluster told apart from those of other clusters running beside it.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StackConfig as ParsedConfig, parseStackConfig } from "../../components/config";
import { NuveClient } from "../../tools/smoke/nuve";
import {
    buildPublishOffer,
    newClientTransport,
    newPublishOffer,
    publishAnswerProblems,
} from "../../tools/smoke/sdp";
import { ControllerConnection } from "../../tools/smoke/signalling";
import { RoomToken, decodeToken } from "../../tools/smoke/token";
import { HostSnapshot, leftovers } from "../node/lib";
import {
    KObject,
    ROOT,
    RunResult,
    StackConfig,
    Suite,
    createSuite,
    explain,
    getJson,
    run,
} from "./lib";

const CLUSTER_SH = path.join(ROOT, "tools", "cluster", "cluster.sh");
const LOCAL_STACK_SH = path.join(ROOT, "tools", "images", "local-stack.sh");

/**
 * Ports of this suite's control plane: the defaults + 400 (the kwok e2e suite uses + 200,
 * test:node + 250, bench + 100 and + 300).
 */
const CLUSTER_PORTS: Record<string, string> = {
    LICODE_CLUSTER_ETCD_PORT: "23779",
    LICODE_CLUSTER_ETCD_PEER_PORT: "23780",
    LICODE_CLUSTER_API_PORT: "26843",
    LICODE_CLUSTER_KCM_PORT: "20657",
    LICODE_CLUSTER_SCHEDULER_PORT: "20659",
    LICODE_CLUSTER_KWOK_PORT: "20680",
};

/** Node addresses <prefix>(10+i), the host at <prefix>1 (the demo: 10.200.0., test:node: 10.202.0.). */
const NODE_IP_PREFIX = "10.201.0.";

/** Pod ranges, node i gets x.y.i.0/24 (the demo: 10.244.0.0/16, test:node: 10.246.0.0/16). */
const POD_CIDR = "10.247.0.0/16";

/** What one run of the real-node suite owns: an e2e Suite whose cluster has real nodes. */
export interface RealNodeSuite extends Suite {
    /** The cluster's device/netns/cgroup prefix (LICODE_CLUSTER_NAME). */
    readonly prefix: string;
}

/**
 * The e2e suite's directories and environments (createSuite: backend, workspace, logs, pulumi's
 * environment), with a cluster of real nodes of its own: the demo's shape (2 signalling nodes for
 * the controller's surge, 2 media nodes, 1 general node for TURN and MongoDB's data).
 */
export function createRealNodeSuite(): RealNodeSuite {
    const base = createSuite();
    const prefix = `lkr${process.pid.toString(36).slice(-5)}`;
    return {
        ...base,
        prefix,
        clusterEnv: {
            ...base.clusterEnv,
            ...CLUSTER_PORTS,
            LICODE_CLUSTER_REAL_NODES: "1",
            LICODE_CLUSTER_NAME: prefix,
            LICODE_CLUSTER_NODE_IP_PREFIX: NODE_IP_PREFIX,
            LICODE_CLUSTER_POD_CIDR: POD_CIDR,
            LICODE_CLUSTER_SIGNALLING_NODES: "2",
            LICODE_CLUSTER_MEDIA_NODES: "2",
            LICODE_CLUSTER_GENERAL_NODES: "1",
        },
    };
}

/** Fails (not skips) when the suite cannot run: real nodes and the image builds need root. */
export function requireRoot(): void {
    const uid = process.getuid?.();
    if (uid !== 0) {
        throw new Error(
            `test/e2e/real-node.spec.ts needs root, and this process runs as uid ${uid}: it starts ` +
                "containerd and kubelets in network namespaces and cgroups of their own, and builds " +
                "the local stack's images with mmdebstrap. Run `npm run test:e2e` as root.",
        );
    }
}

/** Polls an async check until it returns a value; on timeout the error says what and the last state. */
export async function waitUntil<T>(
    what: string,
    timeoutSeconds: number,
    check: () => Promise<T | undefined>,
    lastState: () => Promise<string> = async () => "",
    intervalMs = 1000,
): Promise<T> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        const value = await check();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(
                `timed out after ${timeoutSeconds} s waiting for ${what}\n${await lastState()}`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

// ---------------------------------------------------------------------------------------------
// Nodes and the stack config that depends on their addresses
// ---------------------------------------------------------------------------------------------

/** A node as the cluster reports it. */
export interface ClusterNode {
    readonly name: string;
    readonly address: string;
    readonly labels: Readonly<Record<string, string>>;
}

export async function clusterNodes(suite: Suite): Promise<ClusterNode[]> {
    const nodes = await getJson(suite, ["nodes"]);
    return nodes.items.map((n) => ({
        name: n.metadata.name,
        address: (n.status?.addresses as { type: string; address: string }[]).find(
            (a) => a.type === "InternalIP",
        )!.address,
        labels: n.metadata.labels ?? {},
    }));
}

function matches(node: ClusterNode, selector: Readonly<Record<string, string>>): boolean {
    return Object.entries(selector).every(([k, v]) => node.labels[k] === v);
}

/** The program's own view of a stack config (defaults applied, validated): keys without `licode:`. */
export function parseConfig(config: StackConfig): ParsedConfig {
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith("licode:")) {
            raw[key.slice("licode:".length)] = value;
        }
    }
    return parseStackConfig(raw);
}

/**
 * The `local` stack for this cluster: every setting of Pulumi.local.yaml that names the demo's node
 * addresses, derived again from this cluster's nodes and the stack's own selectors:
 * - networkPolicy.nodeCidrs: the /24s holding the nodes (host-network tiers and kubelet probes);
 * - turn.host: the one node TURN's placement selects;
 * - turn.allowedPeers: each node a media pool selects, as a /32;
 * - storage.path: a hostPath is the host's own directory whatever the node, so the demo's path would
 *   be shared with a demo running beside this suite: a directory of this suite's instead.
 */
export function configForNodes(
    base: StackConfig,
    nodes: readonly ClusterNode[],
    dataDir: string,
): { config: StackConfig; derived: Record<string, unknown> } {
    const parsed = parseConfig(base);
    const nodeCidrs = [
        ...new Set(nodes.map((n) => `${n.address.split(".").slice(0, 3).join(".")}.0/24`)),
    ].sort();
    const placement = parsed.turn.placement as {
        mode: string;
        nodeSelector?: Record<string, string>;
    };
    const turnNodes = nodes.filter((n) => matches(n, placement.nodeSelector ?? {}));
    if (placement.mode !== "hostNetwork" || turnNodes.length !== 1) {
        throw new Error(
            `the local stack's TURN must run host-network on exactly one node to derive turn.host; ` +
                `placement ${JSON.stringify(placement)} selects ${turnNodes.length === 0 ? "no node" : turnNodes.map((n) => n.name).join(", ")}`,
        );
    }
    const mediaNodes = nodes.filter((n) =>
        parsed.media.pools.some((pool) => matches(n, pool.nodeSelector)),
    );
    if (mediaNodes.length === 0) {
        throw new Error(
            `no node matches a media pool's nodeSelector (${JSON.stringify(parsed.media.pools.map((p) => p.nodeSelector))})`,
        );
    }
    const derived = {
        "networkPolicy.nodeCidrs": nodeCidrs,
        "turn.host": turnNodes[0].address,
        "turn.allowedPeers": mediaNodes.map((n) => `${n.address}/32`),
        "storage.path": dataDir,
    };
    const config: StackConfig = {
        ...base,
        "licode:networkPolicy": {
            ...(base["licode:networkPolicy"] as object),
            nodeCidrs: derived["networkPolicy.nodeCidrs"],
        },
        "licode:turn": {
            ...(base["licode:turn"] as object),
            host: derived["turn.host"],
            allowedPeers: derived["turn.allowedPeers"],
        },
        "licode:storage": { ...(base["licode:storage"] as object), path: dataDir },
    };
    return { config, derived };
}

// ---------------------------------------------------------------------------------------------
// Images: built by tools/images/local-stack.sh, imported into this cluster's nodes
// ---------------------------------------------------------------------------------------------

/** One image of the local stack, as built here. */
export interface LocalImage {
    /** The stack config key its digest goes to, e.g. `licode:rabbitmq.image.digest`. */
    readonly configKey: string;
    readonly digest: string;
    readonly ref: string;
    readonly archive: string;
    /** The image config's User (OCI image spec: user, uid, user:group, uid:gid, ...; "" is root). */
    readonly user: string;
}

/** The image config (OCI image-layout archive: index.json → manifest → config) of an archive. */
function archiveImageConfig(archive: string): { User?: string } {
    const read = (member: string): Record<string, unknown> => {
        const result = spawnSync("tar", ["-xOf", archive, member], {
            encoding: "utf8",
            maxBuffer: 16 * 1024 * 1024,
        });
        if (result.status !== 0) {
            throw new Error(`tar -xOf ${archive} ${member} failed: ${result.stderr}`);
        }
        return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    const blob = (digest: string) => `blobs/${digest.replace(":", "/")}`;
    const index = read("index.json") as { manifests: { digest: string }[] };
    const manifest = read(blob(index.manifests[0].digest)) as { config: { digest: string } };
    return (read(blob(manifest.config.digest)) as { config?: { User?: string } }).config ?? {};
}

/**
 * Builds (or reuses) the local stack's images and imports them into this cluster's real nodes
 * (local-stack.sh --import, which calls `cluster.sh import` with this cluster's environment), then
 * pairs each printed `licode:<key>.digest <digest>` line with its archive (--archives, the same
 * cached builds) to read the image's configured user.
 */
export async function buildAndImportImages(suite: Suite): Promise<LocalImage[]> {
    const imported = await run(suite, "bash", [LOCAL_STACK_SH, "--import"], {
        env: suite.clusterEnv,
        timeoutSeconds: 3600,
    });
    if (imported.status !== 0) {
        throw new Error(explain("tools/images/local-stack.sh --import", imported));
    }
    const archives = await run(suite, "bash", [LOCAL_STACK_SH, "--archives"], {
        env: suite.clusterEnv,
        timeoutSeconds: 600,
    });
    if (archives.status !== 0) {
        throw new Error(explain("tools/images/local-stack.sh --archives", archives));
    }
    const byDigest = new Map<string, { archive: string; ref: string }>();
    for (const line of archives.stdout.trim().split("\n")) {
        const [archive, ref, digest] = line.split("\t");
        byDigest.set(digest, { archive, ref });
    }
    return imported.stdout
        .trim()
        .split("\n")
        .map((line) => {
            const [configKey, digest] = line.trim().split(/\s+/);
            const built = byDigest.get(digest);
            if (!/^licode:.+\.digest$/.test(configKey) || built === undefined) {
                throw new Error(
                    `local-stack.sh printed ${JSON.stringify(line)}, not "licode:<key>.digest <digest>" of an archive it built:\n${archives.stdout}`,
                );
            }
            return {
                configKey,
                digest,
                ...built,
                user: archiveImageConfig(built.archive).User ?? "",
            };
        });
}

/** Sets each image's `licode:<key>.digest` path in the config (as `pulumi config set --path` would). */
export function withDigests(config: StackConfig, images: readonly LocalImage[]): StackConfig {
    const result: StackConfig = JSON.parse(JSON.stringify(config)) as StackConfig;
    for (const image of images) {
        const [top, ...rest] = image.configKey.split(".");
        let node = (result[top] ??= {}) as Record<string, unknown>;
        for (const key of rest.slice(0, -1)) {
            node = (node[key] ??= {}) as Record<string, unknown>;
        }
        node[rest[rest.length - 1]] = image.digest;
    }
    return result;
}

/** The digest of an image reference (`name@sha256:...`), or undefined. */
export function digestOf(image: string): string | undefined {
    return /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1];
}

// ---------------------------------------------------------------------------------------------
// kubectl: in containers, diagnostics
// ---------------------------------------------------------------------------------------------

/** kubectl with a time limit (lib.ts's kubectl has none; an exec or a follow may hang). */
export function kubectlFor(
    suite: Suite,
    args: readonly string[],
    timeoutSeconds: number,
): Promise<RunResult> {
    return run(suite, "bash", [CLUSTER_SH, "kubectl", ...args], {
        env: suite.clusterEnv,
        timeoutSeconds,
    });
}

/** Runs a bash script in a container (`kubectl exec`), bounded. */
export function execIn(
    suite: Suite,
    namespace: string,
    pod: string,
    container: string,
    script: string,
    timeoutSeconds = 30,
): Promise<RunResult> {
    return kubectlFor(
        suite,
        ["-n", namespace, "exec", pod, "-c", container, "--", "bash", "-c", script],
        timeoutSeconds,
    );
}

/**
 * What went wrong with some pods, as an operator would look: `kubectl describe`, each container's
 * last log lines (and the previous instance's, after a restart), and the namespace's recent events.
 */
export async function diagnose(
    suite: Suite,
    namespace: string,
    podNames?: readonly string[],
): Promise<string> {
    const parts: string[] = [];
    let pods: KObject[] = [];
    try {
        pods = (await getJson(suite, ["pods", "-n", namespace])).items;
    } catch (error) {
        parts.push(`(kubectl get pods failed: ${String(error)})`);
    }
    for (const pod of pods.filter((p) => podNames?.includes(p.metadata.name) ?? true)) {
        const name = pod.metadata.name;
        const described = await kubectlFor(suite, ["-n", namespace, "describe", "pod", name], 60);
        parts.push(`--- kubectl describe pod ${name}\n${tailLines(described.output, 60)}`);
        const statuses = [
            ...((pod.status?.initContainerStatuses ?? []) as ContainerStatus[]),
            ...((pod.status?.containerStatuses ?? []) as ContainerStatus[]),
        ];
        for (const status of statuses) {
            const logs = await kubectlFor(
                suite,
                ["-n", namespace, "logs", name, "-c", status.name, "--tail=25"],
                60,
            );
            parts.push(`--- logs ${name}/${status.name}\n${tailLines(logs.output, 25)}`);
            if (status.restartCount > 0) {
                const previous = await kubectlFor(
                    suite,
                    ["-n", namespace, "logs", name, "-c", status.name, "--previous", "--tail=25"],
                    60,
                );
                parts.push(
                    `--- logs ${name}/${status.name} --previous\n${tailLines(previous.output, 25)}`,
                );
            }
        }
    }
    const events = await kubectlFor(
        suite,
        ["-n", namespace, "get", "events", "--sort-by=.lastTimestamp"],
        60,
    );
    parts.push(`--- events in ${namespace}\n${tailLines(events.output, 40)}`);
    return parts.join("\n").slice(-24000);
}

function tailLines(text: string, n: number): string {
    return text.trimEnd().split("\n").slice(-n).join("\n");
}

/** The fields of a container status the suite reads. */
export interface ContainerStatus {
    name: string;
    restartCount: number;
    ready?: boolean;
    image: string;
    imageID: string;
    state: {
        running?: { startedAt: string };
        waiting?: { reason: string; message?: string };
        terminated?: { exitCode: number; reason?: string; finishedAt?: string };
    };
}

// ---------------------------------------------------------------------------------------------
// securityContext, from the pod spec and from inside the container
// ---------------------------------------------------------------------------------------------

/**
 * Capability numbers (Linux include/uapi/linux/capability.h), the bits of /proc/<pid>/status CapEff.
 */
const CAPABILITY_BITS: Readonly<Record<string, number>> = {
    CHOWN: 0,
    DAC_OVERRIDE: 1,
    DAC_READ_SEARCH: 2,
    FOWNER: 3,
    FSETID: 4,
    KILL: 5,
    SETGID: 6,
    SETUID: 7,
    SETPCAP: 8,
    LINUX_IMMUTABLE: 9,
    NET_BIND_SERVICE: 10,
    NET_BROADCAST: 11,
    NET_ADMIN: 12,
    NET_RAW: 13,
    IPC_LOCK: 14,
    IPC_OWNER: 15,
    SYS_MODULE: 16,
    SYS_RAWIO: 17,
    SYS_CHROOT: 18,
    SYS_PTRACE: 19,
    SYS_PACCT: 20,
    SYS_ADMIN: 21,
    SYS_BOOT: 22,
    SYS_NICE: 23,
    SYS_RESOURCE: 24,
    SYS_TIME: 25,
    SYS_TTY_CONFIG: 26,
    MKNOD: 27,
    LEASE: 28,
    AUDIT_WRITE: 29,
    AUDIT_CONTROL: 30,
    SETFCAP: 31,
    MAC_OVERRIDE: 32,
    MAC_ADMIN: 33,
    SYSLOG: 34,
    WAKE_ALARM: 35,
    BLOCK_SUSPEND: 36,
    AUDIT_READ: 37,
    PERFMON: 38,
    BPF: 39,
    CHECKPOINT_RESTORE: 40,
};

/**
 * The capabilities a container gets without `capabilities` in its securityContext: containerd
 * v2.3.7's default spec (pkg/oci/spec.go 124-141), which the CRI plugin starts from.
 */
const CONTAINERD_DEFAULT_CAPS = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/** A securityContext (pod or container level) as the API returns it. */
interface SecurityFields {
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
    supplementalGroups?: number[];
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
}

/** The parts of a pod spec and container the expectations are derived from. */
export interface PodSpecLike {
    securityContext?: SecurityFields;
}
export interface ContainerLike {
    name: string;
    image: string;
    securityContext?: SecurityFields;
}

/**
 * Printed from inside a container (bash, coreutils' id): who the process is, its capabilities,
 * no_new_privs and seccomp mode (proc(5): Seccomp 0 off, 1 strict, 2 filter), how / is mounted,
 * whether a file can be created in /, and the image's passwd and group files (to resolve users as
 * containerd does). The shell reads /proc/self/status itself, so the values are those of the
 * process `kubectl exec` started; a child would have gone through another execve.
 */
export const SECURITY_PROBE = [
    'echo "uid=$(id -u)"',
    'echo "gid=$(id -g)"',
    'echo "groups=$(id -G)"',
    "while IFS= read -r line; do",
    '  case "$line" in CapEff:* | NoNewPrivs:* | Seccomp:*) echo "$line" ;; esac',
    "done </proc/self/status",
    'while read -r _dev mnt _type opts _rest; do [ "$mnt" = / ] && echo "rootmount=${opts%%,*}"; done </proc/self/mounts',
    "probe=/.securitycontext-probe-$$",
    'if err=$( { : >"$probe"; } 2>&1 ); then rm -f "$probe"; echo "rootwrite=ok"; else echo "rootwrite=failed ${err##*: }"; fi',
    'if [ -r /etc/passwd ]; then while IFS= read -r line; do echo "passwd=$line"; done </etc/passwd; fi',
    'if [ -r /etc/group ]; then while IFS= read -r line; do echo "group=$line"; done </etc/group; fi',
].join("\n");

/** What the probe saw. */
export interface SeenSecurity {
    readonly uid: number;
    readonly gid: number;
    readonly groups: readonly number[];
    readonly capEff: bigint;
    readonly noNewPrivs: number;
    readonly seccomp: number;
    /** The first mount option of / (ro or rw). */
    readonly rootMount: string;
    /** "ok", or the error of the write. */
    readonly rootWrite: string;
    readonly passwd: readonly string[];
    readonly group: readonly string[];
}

export function parseSecurityProbe(output: string): SeenSecurity {
    const values = new Map<string, string>();
    const passwd: string[] = [];
    const group: string[] = [];
    for (const line of output.split("\n")) {
        const m = /^(\w+)[=:]\s*(.*)$/.exec(line);
        if (m === null) {
            continue;
        }
        if (m[1] === "passwd") {
            passwd.push(m[2]);
        } else if (m[1] === "group") {
            group.push(m[2]);
        } else {
            values.set(m[1], m[2].trim());
        }
    }
    const need = (key: string): string => {
        const value = values.get(key);
        if (value === undefined) {
            throw new Error(`the security probe printed no ${key}:\n${output}`);
        }
        return value;
    };
    return {
        uid: Number(need("uid")),
        gid: Number(need("gid")),
        groups: need("groups").split(/\s+/).map(Number),
        capEff: BigInt(`0x${need("CapEff")}`),
        noNewPrivs: Number(need("NoNewPrivs")),
        seccomp: Number(need("Seccomp")),
        rootMount: need("rootmount"),
        rootWrite: need("rootwrite"),
        passwd,
        group,
    };
}

/** What the pod spec says the container's process must be. */
export interface ExpectedSecurity {
    readonly uid: number;
    readonly gid: number;
    /** Groups the process must hold besides its own: fsGroup and supplementalGroups. */
    readonly extraGroups: readonly number[];
    readonly capabilities: readonly string[];
    readonly capEff: bigint;
    readonly noNewPrivs: number;
    readonly seccomp: number;
    readonly readOnlyRoot: boolean;
    /** Where each expectation came from, for the report. */
    readonly sources: readonly string[];
}

function capMask(names: readonly string[]): bigint {
    let mask = 0n;
    for (const name of names) {
        const bit = CAPABILITY_BITS[name];
        if (bit === undefined) {
            throw new Error(`unknown capability ${name} (include/uapi/linux/capability.h)`);
        }
        mask |= 1n << BigInt(bit);
    }
    return mask;
}

/** Capability names in a CapEff mask. */
export function capNames(mask: bigint): string[] {
    return Object.entries(CAPABILITY_BITS)
        .filter(([, bit]) => (mask & (1n << BigInt(bit))) !== 0n)
        .map(([name]) => name);
}

/**
 * Resolves an OCI user string (user, uid, user:group, uid:gid, uid:group, user:gid) against the
 * container's /etc/passwd and /etc/group as containerd does (pkg/oci/spec_opts.go WithUser 598-700;
 * WithUserID 758-790: a uid without a group takes its passwd entry's group, else 0).
 */
function resolveUser(
    user: string,
    passwd: readonly string[],
    groups: readonly string[],
): { uid: number; gid: number } {
    const users = passwd.map((l) => l.split(":"));
    const groupEntries = groups.map((l) => l.split(":"));
    const [userPart, groupPart] = user === "" ? ["0", undefined] : user.split(":");
    let uid: number;
    let gid: number | undefined;
    if (/^\d+$/.test(userPart)) {
        uid = Number(userPart);
        const entry = users.find((u) => Number(u[2]) === uid);
        gid = entry === undefined ? 0 : Number(entry[3]);
    } else {
        const entry = users.find((u) => u[0] === userPart);
        if (entry === undefined) {
            throw new Error(`user ${userPart} is not in the container's /etc/passwd`);
        }
        uid = Number(entry[2]);
        gid = Number(entry[3]);
    }
    if (groupPart !== undefined) {
        if (/^\d+$/.test(groupPart)) {
            gid = Number(groupPart);
        } else {
            const entry = groupEntries.find((g) => g[0] === groupPart);
            if (entry === undefined) {
                throw new Error(`group ${groupPart} is not in the container's /etc/group`);
            }
            gid = Number(entry[2]);
        }
    }
    return { uid, gid };
}

/**
 * The process a container's securityContext asks for, derived from the pod spec, the image's user
 * and the container's passwd/group files, following the kubelet and containerd of the real nodes:
 * - user: the container's runAsUser/runAsGroup over the pod's (kubernetes v1.36.3
 *   pkg/kubelet/kuberuntime/security_context.go 30-95), else the image's user (containerd v2.3.7
 *   internal/cri/server/container_create.go 627-641);
 * - groups: fsGroup and supplementalGroups join the process's groups (security_context.go 66-78);
 * - capabilities: containerd's defaults, with add/drop applied as the CRI plugin does (ALL first,
 *   then each name; internal/cri/opts/spec_opts.go 198-235), limited by the host's bounding set.
 *   Ambient capabilities are always cleared (container_create.go 874-880), so a non-root process
 *   keeps none across execve (capabilities(7), "Transformation of capabilities during execve()"),
 *   and a root process gets its bounding set, which is the container's set;
 * - no_new_privs: allowPrivilegeEscalation false (pkg/securitycontext/util.go 179-191);
 * - seccomp: the container's profile over the pod's; RuntimeDefault or Localhost filter (2),
 *   Unconfined or none off (0): the nodes' kubelets leave seccompDefault off (tools/node/lib.sh
 *   sets no seccompDefault; pkg/kubelet/kuberuntime/helpers.go 271-322);
 * - read-only root: readOnlyRootFilesystem (container_create.go 887-889).
 */
export function expectedSecurity(
    pod: PodSpecLike,
    container: ContainerLike,
    imageUser: string,
    seen: Pick<SeenSecurity, "passwd" | "group">,
    hostBoundingSet: bigint,
): ExpectedSecurity {
    const podSc = pod.securityContext ?? {};
    const sc = container.securityContext ?? {};
    if (sc.privileged === true) {
        throw new Error(
            `${container.name} is privileged: the suite derives expectations for unprivileged containers only`,
        );
    }
    const sources: string[] = [];
    const runAsUser = sc.runAsUser ?? podSc.runAsUser;
    const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
    const [imageUid, imageGroup] = imageUser === "" ? [undefined, undefined] : imageUser.split(":");
    const userPart = runAsUser === undefined ? imageUid : String(runAsUser);
    const groupPart =
        runAsGroup !== undefined
            ? String(runAsGroup)
            : runAsUser === undefined
              ? imageGroup
              : undefined;
    const user =
        userPart === undefined
            ? ""
            : `${userPart}${groupPart === undefined ? "" : `:${groupPart}`}`;
    sources.push(
        `user ${user === "" ? "root" : user} (${runAsUser === undefined ? `image user ${JSON.stringify(imageUser)}` : "runAsUser"}${runAsGroup === undefined ? "" : ", runAsGroup"})`,
    );
    const { uid, gid } = resolveUser(user, seen.passwd, seen.group);

    let caps = new Set(CONTAINERD_DEFAULT_CAPS);
    const add = (sc.capabilities?.add ?? []).map((c) => c.toUpperCase().replace(/^CAP_/, ""));
    const drop = (sc.capabilities?.drop ?? []).map((c) => c.toUpperCase().replace(/^CAP_/, ""));
    if (add.includes("ALL")) {
        caps = new Set(Object.keys(CAPABILITY_BITS));
    }
    if (drop.includes("ALL")) {
        caps = new Set();
    }
    add.filter((c) => c !== "ALL").forEach((c) => caps.add(c));
    drop.filter((c) => c !== "ALL").forEach((c) => caps.delete(c));
    const capabilities = [...caps].sort();
    sources.push(
        `capabilities ${sc.capabilities === undefined ? "containerd's defaults" : `drop ${JSON.stringify(drop)} add ${JSON.stringify(add)}`}`,
    );
    const capEff = uid === 0 ? capMask(capabilities) & hostBoundingSet : 0n;

    const seccompType = (sc.seccompProfile ?? podSc.seccompProfile)?.type;
    const seccomp = seccompType === "RuntimeDefault" || seccompType === "Localhost" ? 2 : 0;
    sources.push(`seccomp ${seccompType ?? "unset"}`);
    return {
        uid,
        gid,
        extraGroups: [
            ...(podSc.fsGroup === undefined ? [] : [podSc.fsGroup]),
            ...(podSc.supplementalGroups ?? []),
        ],
        capabilities,
        capEff,
        noNewPrivs: sc.allowPrivilegeEscalation === false ? 1 : 0,
        seccomp,
        readOnlyRoot: sc.readOnlyRootFilesystem === true,
        sources,
    };
}

/** Where what the container is differs from what its spec says; empty when they agree. */
export function securityMismatches(expected: ExpectedSecurity, seen: SeenSecurity): string[] {
    const problems: string[] = [];
    const hex = (n: bigint) => `0x${n.toString(16)}`;
    if (seen.uid !== expected.uid) {
        problems.push(`uid ${seen.uid}, spec says ${expected.uid}`);
    }
    if (seen.gid !== expected.gid) {
        problems.push(`gid ${seen.gid}, spec says ${expected.gid}`);
    }
    for (const g of expected.extraGroups) {
        if (!seen.groups.includes(g)) {
            problems.push(`groups ${seen.groups.join(",")} lack ${g} (fsGroup/supplementalGroups)`);
        }
    }
    if (seen.capEff !== expected.capEff) {
        problems.push(
            `CapEff ${hex(seen.capEff)} [${capNames(seen.capEff).join(",")}], spec says ${hex(expected.capEff)} [${capNames(expected.capEff).join(",")}]`,
        );
    }
    if (seen.noNewPrivs !== expected.noNewPrivs) {
        problems.push(`NoNewPrivs ${seen.noNewPrivs}, spec says ${expected.noNewPrivs}`);
    }
    if (seen.seccomp !== expected.seccomp) {
        problems.push(`Seccomp ${seen.seccomp}, spec says ${expected.seccomp}`);
    }
    const wantMount = expected.readOnlyRoot ? "ro" : "rw";
    if (seen.rootMount !== wantMount) {
        problems.push(`/ is mounted ${seen.rootMount}, spec says ${wantMount}`);
    }
    if (expected.readOnlyRoot && !/read-only file system/i.test(seen.rootWrite)) {
        problems.push(`a write to / gave "${seen.rootWrite}", not "Read-only file system"`);
    }
    // A writable root lets root create a file there; another user may lack the directory's permission.
    if (!expected.readOnlyRoot && expected.uid === 0 && seen.rootWrite !== "ok") {
        problems.push(`root could not write to the writable /: ${seen.rootWrite}`);
    }
    if (!expected.readOnlyRoot && /read-only file system/i.test(seen.rootWrite)) {
        problems.push(`a write to / gave "${seen.rootWrite}" although the spec leaves / writable`);
    }
    return problems;
}

/** The host's capability bounding set (CapBnd of this process): no container can exceed it. */
export function hostBoundingSet(): bigint {
    const line = fs
        .readFileSync("/proc/self/status", "utf8")
        .split("\n")
        .find((l) => l.startsWith("CapBnd:"));
    return BigInt(`0x${line!.split(/\s+/)[1]}`);
}

// ---------------------------------------------------------------------------------------------
// Reaching ports from inside pods (bash's /dev/tcp: every image of the stack has bash)
// ---------------------------------------------------------------------------------------------

/** Whether a TCP connection from the container to host:port opens within `seconds`. */
export async function tcpOpens(
    suite: Suite,
    namespace: string,
    pod: string,
    container: string,
    host: string,
    port: number,
    seconds = 3,
): Promise<{ open: boolean; detail: string }> {
    const result = await execIn(
        suite,
        namespace,
        pod,
        container,
        `timeout ${seconds} bash -c 'exec 3<>/dev/tcp/${host}/${port}'`,
        seconds + 30,
    );
    const detail =
        result.status === 0
            ? "connected"
            : result.status === 124
              ? `no answer within ${seconds} s (dropped)`
              : `exit ${result.status}: ${result.output.trim().split("\n").slice(-1)[0] ?? ""}`;
    return { open: result.status === 0, detail };
}

/** An HTTP/1.0 GET from inside a container: the status code and body, or why there was none. */
export async function httpGetFrom(
    suite: Suite,
    namespace: string,
    pod: string,
    container: string,
    host: string,
    port: number,
    urlPath: string,
    seconds = 5,
): Promise<{ status?: number; body: string; detail: string }> {
    const request = `GET ${urlPath} HTTP/1.0\\r\\nHost: ${host}\\r\\nConnection: close\\r\\n\\r\\n`;
    const script = `timeout ${seconds} bash -c 'exec 3<>/dev/tcp/${host}/${port} && printf "${request}" >&3 && cat <&3'`;
    const result = await execIn(suite, namespace, pod, container, script, seconds + 30);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(result.stdout)?.[1];
    const bodyAt = result.stdout.indexOf("\r\n\r\n");
    return {
        status: status === undefined ? undefined : Number(status),
        body: bodyAt === -1 ? "" : result.stdout.slice(bodyAt + 4),
        detail:
            status !== undefined
                ? `HTTP ${status}`
                : result.status === 124
                  ? `no answer within ${seconds} s (dropped)`
                  : `exit ${result.status}: ${result.output.trim().split("\n").slice(-1)[0] ?? ""}`,
    };
}

/** A gauge's value in Prometheus text (a line `<name> <value>` without labels), or undefined. */
export function gauge(text: string, name: string): number | undefined {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(" ")[1]);
}

// ---------------------------------------------------------------------------------------------
// Rollouts: a pod timeline and the logs of the pods that go
// ---------------------------------------------------------------------------------------------

/** One pod's life as seen by the timeline; times in ms since the timeline's start. */
export interface PodRecord {
    readonly uid: string;
    readonly name: string;
    readonly tier: string;
    node?: string;
    hostIP?: string;
    /** Present at the first poll. */
    readonly old: boolean;
    firstSeen: number;
    ready?: number;
    deleting?: number;
    gone?: number;
}

/** Polls the namespace's pods and records when each appears, becomes Ready, starts deleting and goes. */
export class PodTimeline {
    readonly records = new Map<string, PodRecord>();
    private polls = 0;

    constructor(
        private readonly suite: Suite,
        private readonly namespace: string,
        readonly startedAt: number,
    ) {}

    /** One observation; returns the pods seen. */
    async poll(): Promise<KObject[]> {
        const now = Date.now() - this.startedAt;
        const pods = (await getJson(this.suite, ["pods", "-n", this.namespace])).items;
        const seen = new Set<string>();
        for (const pod of pods) {
            const uid = pod.metadata.uid;
            seen.add(uid);
            let record = this.records.get(uid);
            if (record === undefined) {
                record = {
                    uid,
                    name: pod.metadata.name,
                    tier: pod.metadata.labels?.["app.kubernetes.io/name"] ?? "?",
                    old: this.polls === 0,
                    firstSeen: now,
                };
                this.records.set(uid, record);
            }
            record.node ??= pod.spec?.nodeName;
            record.hostIP ??= pod.status?.hostIP;
            const ready = (
                (pod.status?.conditions ?? []) as { type: string; status: string }[]
            ).some((c) => c.type === "Ready" && c.status === "True");
            if (ready && record.ready === undefined) {
                record.ready = now;
            }
            if (pod.metadata.deletionTimestamp !== undefined && record.deleting === undefined) {
                record.deleting = now;
            }
        }
        for (const record of this.records.values()) {
            if (!seen.has(record.uid) && record.gone === undefined) {
                record.gone = now;
            }
        }
        this.polls++;
        return pods;
    }

    /** Pods being deleted and not gone yet. */
    terminating(): PodRecord[] {
        return [...this.records.values()].filter(
            (r) => r.deleting !== undefined && r.gone === undefined,
        );
    }

    byTier(tier: string): PodRecord[] {
        return [...this.records.values()].filter((r) => r.tier === tier);
    }
}

/** A preStop hook the kubelet reports as failed, with what its log says about the hook's end. */
export interface FailedHook {
    readonly at: string;
    readonly pod: string;
    readonly container: string;
    /** e.g. "exited with 137" (SIGKILL: the container stopped while its hook still ran). */
    readonly ending: string;
    /** The hook command's last line, where the kubelet quotes it. */
    readonly lastLine: string;
}

/**
 * The kubelet's own account of failed preStop hooks on a node (its log, in the cluster's logs dir;
 * the FailedPreStopHook event only says "PreStopHook failed"): klog writes the error as a block
 * `"PreStop hook failed" err=<` … ` > pod="ns/name" … containerName="…"`.
 */
export function failedPreStopHooks(suite: Suite, node: string): FailedHook[] {
    const file = path.join(
        suite.clusterEnv.LICODE_CLUSTER_DIR as string,
        "logs",
        `${node}.kubelet.log`,
    );
    if (!fs.existsSync(file)) {
        return [];
    }
    const found: FailedHook[] = [];
    let block: string[] | undefined;
    let at = "";
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        if (line.includes('"PreStop hook failed"')) {
            block = [];
            at = line.split(" ").slice(0, 2).join(" ");
        } else if (block !== undefined && line.startsWith(" > ")) {
            const text = block.join("\n");
            const ending = /(exited with \d+|context deadline exceeded|[^:\n]*: .*)$/m.exec(text);
            const commandEnd = block.filter((l) => /exited with|'$/.test(l)).pop() ?? "";
            found.push({
                at,
                pod: /pod="([^"]+)"/.exec(line)?.[1] ?? "?",
                container: /containerName="([^"]+)"/.exec(line)?.[1] ?? "?",
                ending: /exited with \d+/.exec(text)?.[0] ?? ending?.[0]?.trim() ?? "?",
                lastLine: commandEnd.trim().slice(0, 160),
            });
            block = undefined;
        } else if (block !== undefined) {
            block.push(line);
        }
    }
    return found;
}

/** `kubectl logs -f --timestamps` of one container, kept until it ends (the container stops). */
export class LogFollower {
    private output = "";
    private readonly child: ChildProcess;
    readonly ended: Promise<void>;

    constructor(
        suite: Suite,
        namespace: string,
        readonly pod: string,
        readonly container: string,
    ) {
        this.child = spawn(
            "bash",
            [
                CLUSTER_SH,
                "kubectl",
                "-n",
                namespace,
                "logs",
                "-f",
                "--timestamps",
                pod,
                "-c",
                container,
            ],
            { cwd: ROOT, env: suite.clusterEnv, stdio: ["ignore", "pipe", "pipe"] },
        );
        this.child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
        this.child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
        this.ended = new Promise((resolve) => this.child.once("close", () => resolve()));
    }

    /** Lines as `{ at: Date, text }` (kubectl's RFC 3339 timestamp split off). */
    lines(): { at?: Date; text: string }[] {
        return this.output
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => {
                const m = /^(\d{4}-\d\d-\d\dT\S+Z) (.*)$/.exec(l);
                return m === null ? { text: l } : { at: new Date(m[1]), text: m[2] };
            });
    }

    stop(): void {
        if (this.child.exitCode === null && this.child.signalCode === null) {
            this.child.kill("SIGTERM");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A Licode client held open: joined to a room and publishing (the smoke client's protocol)
// ---------------------------------------------------------------------------------------------

/** Records what a connection is told from a point on, and when it is closed, with the reason. */
export class ConnectionWatch {
    readonly events: { at: number; what: string }[] = [];
    closed?: { at: number; reason: string };

    constructor(
        private readonly connection: ControllerConnection,
        private readonly startedAt: number,
        timeoutMs: number,
    ) {
        for (const type of [
            "onAddStream",
            "onRemoveStream",
            "connection_message_erizo",
            "stream_message_erizo",
            "connection_failed",
            "onBandwidthAlert",
        ]) {
            this.watch(type, timeoutMs);
        }
    }

    private watch(type: string, timeoutMs: number): void {
        this.connection
            .next(type, () => true, timeoutMs)
            .then(
                (event) => {
                    this.events.push({
                        at: Date.now() - this.startedAt,
                        what: `${type} ${JSON.stringify(event.body).slice(0, 240)}`,
                    });
                    this.watch(type, timeoutMs);
                },
                (error: Error) => {
                    // Every pending wait ends with the connection; the first says why and when.
                    if (this.closed === undefined && /disconnected/.test(error.message)) {
                        this.closed = {
                            at: Date.now() - this.startedAt,
                            reason: error.message.replace(/ before \w+$/, ""),
                        };
                    }
                },
            );
    }
}

/** A publisher joined to a room, its stream published and its connection ready. */
export interface HeldPublisher {
    readonly roomId: string;
    readonly token: RoomToken;
    readonly clientId: string;
    readonly streamId: number;
    readonly erizoId: string;
    readonly connection: ControllerConnection;
    readonly watch: ConnectionWatch;
}

function connectionMessage(connectionId: string, type: string) {
    return (body: unknown): boolean => {
        const m = body as { connectionId?: string; evt?: { type?: string } };
        return m.connectionId === connectionId && m.evt?.type === type;
    };
}

/**
 * Creates a room, joins it and publishes, as the smoke session's publisher does (session.ts: publish,
 * offer answered by ErizoJS, ready, onAddStream), then keeps the connection open under a watch.
 */
export async function holdPublisher(
    nuve: NuveClient,
    serviceKeyCheck: (token: RoomToken) => boolean,
    timeoutMs: number,
    startedAt: number,
    watchMs: number,
): Promise<HeldPublisher> {
    const room = await nuve.createRoom(`real-node-held-${Date.now()}`);
    const token = decodeToken(
        (await nuve.createTokenOnceRegistered(room._id, "held-publisher", "presenter", timeoutMs))
            .token,
    );
    if (!serviceKeyCheck(token)) {
        throw new Error(`the token for ${token.host} is not signed with the superservice key`);
    }
    const { connection, connected } = await ControllerConnection.connect(token, { timeoutMs });
    try {
        const offer = newPublishOffer(newClientTransport());
        const answer = await connection.request(
            "publish",
            {
                options: {
                    state: "erizo",
                    data: false,
                    audio: true,
                    video: true,
                    label: offer.label,
                    screen: false,
                    attributes: { heldAcrossRollout: true },
                    metadata: { heldAcrossRollout: true },
                    muteStream: { audio: false, video: false },
                    encryptTransport: true,
                },
                sdp: undefined,
            },
            timeoutMs,
        );
        const [streamId, erizoId, connectionId] = answer;
        if (
            typeof streamId !== "number" ||
            typeof erizoId !== "string" ||
            typeof connectionId !== "string"
        ) {
            throw new Error(`the controller answered the publish with ${JSON.stringify(answer)}`);
        }
        const offerSdp = buildPublishOffer(offer);
        await connection.request(
            "connectionMessage",
            {
                options: {
                    connectionId,
                    erizoId,
                    msg: { type: "offer", sdp: offerSdp },
                    browser: "chrome-stable",
                },
                sdp: undefined,
            },
            timeoutMs,
        );
        const reply = await connection.next(
            "connection_message_erizo",
            connectionMessage(connectionId, "answer"),
            timeoutMs,
        );
        const problems = publishAnswerProblems(
            offerSdp,
            (reply.body as { evt: { sdp?: string } }).evt.sdp ?? "",
        );
        if (problems.length > 0) {
            throw new Error(`ErizoJS's answer is not usable: ${problems.join("; ")}`);
        }
        await connection.next(
            "connection_message_erizo",
            connectionMessage(connectionId, "ready"),
            timeoutMs,
        );
        await connection.next(
            "onAddStream",
            (b) => (b as { id?: number }).id === streamId,
            timeoutMs,
        );
        return {
            roomId: room._id,
            token,
            clientId: connected.clientId,
            streamId,
            erizoId,
            connection,
            watch: new ConnectionWatch(connection, startedAt, watchMs),
        };
    } catch (error) {
        connection.close();
        throw error;
    }
}

/** What one join attempt found: the controller Nuve named, and whether it let the client in. */
export interface JoinAttempt {
    readonly at: number;
    readonly room: string;
    readonly host?: string;
    readonly joined: boolean;
    readonly detail: string;
    readonly streams?: readonly number[];
}

/** Asks Nuve for a token to `roomId`, joins with it and leaves at once. */
export async function joinOnce(
    nuve: NuveClient,
    roomId: string,
    timeoutMs: number,
    startedAt: number,
): Promise<JoinAttempt> {
    const at = Date.now() - startedAt;
    let token: RoomToken;
    let waited: string;
    try {
        const got = await nuve.createTokenOnceRegistered(
            roomId,
            "rollout-joiner",
            "presenter",
            10_000,
        );
        token = decodeToken(got.token);
        waited =
            got.refusals === 0
                ? ""
                : ` (token refused ${got.refusals} time(s) first: room not yet registered)`;
    } catch (error) {
        return { at, room: roomId, joined: false, detail: `no token: ${(error as Error).message}` };
    }
    try {
        const { connection, connected } = await ControllerConnection.connect(token, { timeoutMs });
        connection.disconnect();
        return {
            at,
            room: roomId,
            host: token.host,
            joined: true,
            detail: `client ${connected.clientId}${waited}`,
            streams: connected.streams.map((s) => s.id),
        };
    } catch (error) {
        return {
            at,
            room: roomId,
            host: token.host,
            joined: false,
            detail: (error as Error).message,
        };
    }
}

// ---------------------------------------------------------------------------------------------
// Host leftovers, told apart from other clusters on the same machine
// ---------------------------------------------------------------------------------------------

/** Where tools/node keeps its host-wide record: one file per running instance, holding its state dir. */
const NODE_INSTANCES_DIR = "/run/licode-nodes/instances";

/**
 * Host paths every real-node instance shares and the last one down removes (tools/node/lib.sh
 * NODE_HOST_DIR and NODE_HOST_PATHS): while another instance runs, they are its to keep.
 */
const SHARED_HOST_PATHS = [
    "/run/licode-nodes",
    "/var/log/containers",
    "/var/lib/cni",
    "/var/lib/cni/results",
];

/**
 * Strings that identify other clusters running on this machine: their device prefixes, runtime dirs
 * and state dirs (tools/node's host-wide record), the repository's default .cluster, and other
 * suites' temporary directories (kwok-only clusters are not in the record).
 */
export function otherClusterMarkers(mine: { prefix: string; dir: string }): string[] {
    const markers = new Set<string>([path.join(ROOT, ".cluster")]);
    for (const prefix of otherInstances(mine)) {
        markers.add(`${prefix}-`);
        markers.add(`/run/${prefix}/`);
        markers.add(prefix.toUpperCase());
        const dir = fs.readFileSync(path.join(NODE_INSTANCES_DIR, prefix), "utf8").trim();
        if (dir !== "") {
            markers.add(dir);
        }
    }
    for (const entry of fs.readdirSync(os.tmpdir())) {
        const dir = path.join(os.tmpdir(), entry);
        if (/^licode-/.test(entry) && !mine.dir.startsWith(dir)) {
            markers.add(dir);
        }
    }
    return [...markers];
}

/** Prefixes of the real-node instances running now, other than this suite's. */
function otherInstances(mine: { prefix: string }): string[] {
    return fs.existsSync(NODE_INSTANCES_DIR)
        ? fs.readdirSync(NODE_INSTANCES_DIR).filter((p) => p !== mine.prefix)
        : [];
}

/**
 * leftovers() of test/node/lib.ts for this suite's cluster, with what belongs to other clusters
 * running now moved to `unrelated`: entries naming them, log symlinks into their state, and the
 * shared host paths they still use.
 */
export function hostLeftovers(
    before: HostSnapshot,
    after: HostSnapshot,
    mine: { prefix: string; dir: string },
): { ours: string[]; unrelated: string[]; others: string[] } {
    const others = otherClusterMarkers(mine);
    const othersRun = otherInstances(mine).length > 0;
    const found = leftovers(before, after, [mine.prefix, mine.prefix.toUpperCase(), mine.dir]);
    const names = (text: string) => others.some((m) => text.includes(m));
    const foreign = (item: string) => {
        if (item.includes(mine.prefix) || item.includes(mine.dir)) {
            return false;
        }
        if (names(item)) {
            return true;
        }
        const file = /^file: (.*)$/.exec(item)?.[1];
        if (file === undefined) {
            return false;
        }
        if (othersRun && SHARED_HOST_PATHS.includes(file)) {
            return true;
        }
        try {
            return names(fs.readlinkSync(file));
        } catch {
            return false; // not a link, or gone
        }
    };
    return {
        ours: found.ours.filter((item) => !foreign(item)),
        unrelated: [...found.unrelated, ...found.ours.filter(foreign)],
        others,
    };
}
