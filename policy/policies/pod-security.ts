// pod-security: the Pod Security Standards' baseline and restricted controls, checked on every
// container of the pod (app, init, native sidecar and ephemeral, as pod-security-admission does)
// and on the pod, plus a read-only root filesystem (not part of the PSS). A per-tier allow-list
// (tier = pod label app.kubernetes.io/name) names, container by container, what a tier needs
// beyond the profile: running as root, a writable root filesystem, extra capabilities, hostPath
// volumes, host ports.
//
// Host network is host-network-allow-list's job and is not checked here. With hostNetwork the
// API sets each declared port's hostPort to its containerPort (on Pods; on templates since 1.28
// it does not), so a hostPort equal to the containerPort on a host-network pod is covered by that
// policy's allowance, not reported here. Effective values follow the API: a container's
// securityContext wins over the pod's (runAsNonRoot, runAsUser, seccompProfile). A `*Patch`
// need not restate fields it leaves alone: on patches only values that are set are judged.

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { ContainerRef, containersOf, describeContainer } from "../lib/containers";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { capitalize, show, violation } from "../lib/messages";
import { PodContext, validatePod } from "../lib/policy";
import { PodTemplate, TIER_LABEL, tierOf } from "../lib/podspec";
import {
    APPARMOR_ANNOTATION_PREFIX,
    APPARMOR_TYPES,
    BASELINE_CAPABILITIES,
    RESTRICTED_CAPABILITIES,
    RESTRICTED_VOLUME_TYPES,
    SAFE_SYSCTLS,
    SECCOMP_TYPES,
    SELINUX_TYPES,
    appArmorAnnotationAllowed,
} from "../lib/pss";
import { UNKNOWN, Unknown, isObject, isUnknown, readPath } from "../lib/unknown";

export const NAME = "pod-security";

/** The Pod Security Standards profile enforced. */
export type Profile = "baseline" | "restricted";

interface Config {
    profile: Profile;
    requireReadOnlyRootFilesystem: boolean;
    allowedSysctls: string[];
    tiers: Record<string, unknown>;
    exemptions: unknown;
}

/**
 * What the Licode program needs: the Licode image (Nuve, ErizoController, ErizoAgent) starts as
 * root and writes its config copy into its own filesystem; MongoDB's init container data-owner
 * (present only with hostPath storage) chowns the data directory as root with CAP_CHOWN alone.
 * ErizoController and ErizoAgent use the host network: host-network-allow-list allows that.
 */
export const DEFAULT_TIERS = {
    nuve: { runAsRoot: ["nuve"], writableRootFilesystem: ["nuve"] },
    "erizo-controller": {
        runAsRoot: ["erizo-controller"],
        writableRootFilesystem: ["erizo-controller"],
    },
    "erizo-agent": { runAsRoot: ["erizo-agent"], writableRootFilesystem: ["erizo-agent"] },
    mongodb: { runAsRoot: ["data-owner"], capabilities: { "data-owner": ["CHOWN"] } },
    // ROV runs node from the Licode image, whose only user is root; it writes nothing.
    rov: { runAsRoot: ["rov"] },
    // TURN on the host network: coturn binds 443 as root and drops to nobody (proc-user), and its
    // start script writes the root-only config copy; behind a LoadBalancer it runs as nobody.
    turn: {
        runAsRoot: ["turn", "prepare"],
        capabilities: { turn: ["NET_BIND_SERVICE", "SETUID", "SETGID"] },
    },
};

const containerNames = {
    type: "array",
    items: { type: "string" },
    description: 'Container names ("*" for every container of the tier).',
} as const;

const configSchema: PolicyConfigSchema = {
    properties: {
        profile: {
            type: "string",
            enum: ["baseline", "restricted"],
            default: "restricted",
            description:
                "The Pod Security Standards profile: baseline (no known privilege escalation) or " +
                "restricted (baseline plus non-root, no privilege escalation, drop ALL, seccomp).",
        },
        requireReadOnlyRootFilesystem: {
            type: "boolean",
            default: true,
            description:
                "Also require securityContext.readOnlyRootFilesystem: true (not part of the PSS).",
        },
        allowedSysctls: {
            type: "array",
            items: { type: "string" },
            default: [...SAFE_SYSCTLS],
            description: "Pod sysctls accepted (default: the PSS safe set).",
        },
        tiers: {
            type: "object",
            default: DEFAULT_TIERS,
            description:
                `What each tier (pod label ${TIER_LABEL}) needs beyond the profile: ` +
                "runAsRoot and writableRootFilesystem (container names), capabilities " +
                "(container name → capabilities it may add), hostPathVolumes (volume names), " +
                "hostPorts (port numbers). Host network: see host-network-allow-list.",
            additionalProperties: {
                type: "object",
                additionalProperties: false,
                properties: {
                    runAsRoot: containerNames,
                    writableRootFilesystem: containerNames,
                    capabilities: {
                        type: "object",
                        additionalProperties: { type: "array", items: { type: "string" } },
                    },
                    hostPathVolumes: { type: "array", items: { type: "string" } },
                    hostPorts: { type: "array", items: { type: "integer" } },
                },
            },
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

type Kind =
    | "privileged"
    | "escalation"
    | "capabilities"
    | "seccomp"
    | "root"
    | "rootfs"
    | "procMount"
    | "selinux"
    | "apparmor"
    | "hostPort"
    | "hostNamespaces"
    | "hostPath"
    | "volumeTypes"
    | "sysctls";

const ORDER: Kind[] = [
    "privileged",
    "hostNamespaces",
    "escalation",
    "capabilities",
    "root",
    "seccomp",
    "rootfs",
    "hostPort",
    "hostPath",
    "volumeTypes",
    "procMount",
    "selinux",
    "apparmor",
    "sysctls",
];

const WHY: Record<Kind, string> = {
    privileged:
        "a privileged (or Windows HostProcess) container gets every capability and the node's " +
        "devices: whoever takes the process owns the node (PSS baseline).",
    escalation:
        "unless allowPrivilegeEscalation is false the kernel's no_new_privs flag is off, so a " +
        "setuid binary or file capability in the image can raise the process's privileges " +
        "(PSS restricted).",
    capabilities:
        "capabilities widen what a compromised process can do to the node and its neighbours; " +
        "baseline allows adding only Docker's default set, restricted only NET_BIND_SERVICE, and " +
        "without drop ALL the runtime's default set (CHOWN, DAC_OVERRIDE, SETUID, NET_RAW...) stays.",
    seccomp:
        "without a seccomp profile the process may make every system call, including the ones " +
        "container escapes use (baseline forbids Unconfined; restricted requires RuntimeDefault " +
        "or Localhost).",
    root:
        "a process running as UID 0 owns everything in the image and is root on the node after " +
        "any container escape (PSS restricted).",
    rootfs:
        "a writable root filesystem lets an intruder replace the image's binaries and config, " +
        "and what is written there is unbounded node disk (not a PSS control; Polaris, " +
        "kube-score and Kyverno's best practices check it).",
    procMount: "an Unmasked /proc exposes kernel interfaces the runtime hides (PSS baseline).",
    selinux:
        "a custom SELinux type, user or role lifts the confinement the runtime's container " +
        "type gives (PSS baseline).",
    apparmor:
        "an unconfined AppArmor profile lifts the confinement the runtime's default profile " +
        "gives (PSS baseline).",
    hostPort:
        "a hostPort binds the node's address: one such pod per node, traffic that bypasses " +
        "Services and NetworkPolicies, and a PSS baseline violation.",
    hostNamespaces:
        "sharing the node's PID or IPC namespace lets the pod see, signal and trace node " +
        "processes and read their shared memory (PSS baseline).",
    hostPath:
        "a hostPath volume reads and writes the node's filesystem: a path to taking the node, " +
        "and data left behind on whichever node the pod ran (PSS baseline).",
    volumeTypes:
        "the restricted profile allows only configMap, csi, downwardAPI, emptyDir, ephemeral, " +
        "persistentVolumeClaim, projected and secret volumes; other inline sources bypass the " +
        "cluster's storage objects.",
    sysctls:
        "a sysctl outside the safe set reaches beyond the pod's namespaces, and the kubelet " +
        "refuses to start the pod unless its node allows it (PSS baseline).",
};

function fixFor(kind: Kind, tier: string, container: string | undefined): string {
    const c = container ?? "<container>";
    switch (kind) {
        case "privileged":
            return "remove securityContext.privileged and windowsOptions.hostProcess.";
        case "escalation":
            return "set securityContext.allowPrivilegeEscalation: false on the container.";
        case "capabilities":
            return (
                'set securityContext.capabilities.drop: ["ALL"] and add only what the process ' +
                `needs; a capability the tier cannot do without goes under this policy's ` +
                `tiers.${tier}.capabilities.${c}.`
            );
        case "seccomp":
            return "set securityContext.seccompProfile.type: RuntimeDefault on the pod (or the container).";
        case "root":
            return (
                "set runAsNonRoot: true and a non-zero runAsUser (pod or container " +
                "securityContext); if the image must start as root, list the container under " +
                `this policy's tiers.${tier}.runAsRoot.`
            );
        case "rootfs":
            return (
                "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir (with a " +
                "sizeLimit) where the process writes; if the image must write into its own " +
                `filesystem, list the container under this policy's tiers.${tier}.writableRootFilesystem.`
            );
        case "procMount":
            return "remove securityContext.procMount (or set it to Default).";
        case "selinux":
            return (
                `remove seLinuxOptions, or use a type among ${SELINUX_TYPES.join(", ")} with no ` +
                "user or role."
            );
        case "apparmor":
            return (
                "use appArmorProfile.type RuntimeDefault or Localhost (or the annotation values " +
                "runtime/default, localhost/<profile>)."
            );
        case "hostPort":
            return (
                "remove hostPort and expose the port through a Service; a tier that must take " +
                `node ports lists them under this policy's tiers.${tier}.hostPorts (host-network ` +
                "tiers are host-network-allow-list's)."
            );
        case "hostNamespaces":
            return "remove hostPID and hostIPC (host network is host-network-allow-list's).";
        case "hostPath":
            return (
                "mount a PersistentVolumeClaim or an emptyDir instead; a tier that must mount a " +
                `node path lists the volume under this policy's tiers.${tier}.hostPathVolumes.`
            );
        case "volumeTypes":
            return "declare the storage as a PersistentVolume and mount it through a PersistentVolumeClaim.";
        case "sysctls":
            return "remove the sysctl, or allow it on the nodes' kubelets and add it to this policy's allowedSysctls.";
        default:
            return "";
    }
}

/** A tier's allowances; everything is allowed while the tier is unknown during preview. */
class Allowance {
    private readonly entry: Record<string, unknown>;
    private readonly open: boolean;
    readonly tierName: string;

    constructor(tier: string | Unknown | undefined, tiers: unknown) {
        this.open = tier === UNKNOWN;
        this.tierName = typeof tier === "string" ? tier : "<tier>";
        const entry =
            typeof tier === "string" && isObject(tiers) && Object.hasOwn(tiers, tier)
                ? tiers[tier]
                : undefined;
        this.entry = isObject(entry) ? entry : {};
    }

    container(key: "runAsRoot" | "writableRootFilesystem", c: ContainerRef): boolean {
        return this.open || listed(stringList(this.entry[key]), c);
    }

    capabilities(c: ContainerRef): string[] | "any" {
        if (this.open) {
            return "any";
        }
        const map = this.entry.capabilities;
        if (!isObject(map)) {
            return [];
        }
        if (c.name === undefined) {
            return isUnknown(c.value.name) && Object.keys(map).length > 0 ? "any" : [];
        }
        return [...stringList(map[c.name]), ...stringList(map["*"])].map(normalizeCapability);
    }

    volume(name: unknown): boolean {
        const list = stringList(this.entry.hostPathVolumes);
        return (
            this.open ||
            list.includes("*") ||
            (typeof name === "string" && list.includes(name)) ||
            (isUnknown(name) && list.length > 0)
        );
    }

    hostPort(port: number): boolean {
        const list = this.entry.hostPorts;
        return this.open || (Array.isArray(list) && list.includes(port));
    }
}

function listed(list: string[], c: ContainerRef): boolean {
    if (list.includes("*")) {
        return true;
    }
    if (c.name === undefined) {
        return isUnknown(c.value.name) && list.length > 0;
    }
    return list.includes(c.name);
}

// "CAP_CHOWN" and "chown" name CHOWN for the runtime; the allow-list accepts either spelling.
function normalizeCapability(name: string): string {
    return name.toUpperCase().replace(/^CAP_/, "");
}

function missing(value: unknown): boolean {
    return value === undefined || value === null;
}

/** A value as the container sees it: its own securityContext's, else the pod's. */
interface Effective {
    readonly value: unknown;
    /** The field path, for messages. */
    readonly field: string;
}

function effective(pod: PodTemplate, c: ContainerRef, ...keys: string[]): Effective {
    const own = readPath(c.value, "securityContext", ...keys);
    if (own === UNKNOWN || !missing(own)) {
        return { value: own, field: `securityContext.${keys.join(".")}` };
    }
    return {
        value: readPath(pod.spec, "securityContext", ...keys),
        field: `${pod.specPath}.securityContext.${keys.join(".")}`,
    };
}

class Findings {
    readonly problems: string[] = [];
    readonly kinds = new Set<Kind>();

    add(kind: Kind, problem: string): void {
        this.problems.push(problem);
        this.kinds.add(kind);
    }
}

/** The Pod Security Standards (baseline or restricted) with per-tier allowances. */
export const podSecurity: ResourceValidationPolicy = {
    name: NAME,
    description:
        "Pod Security Standards (restricted by default) on every container and the pod, and a " +
        "read-only root filesystem, with a per-tier allow-list of what a tier needs " +
        "(running as root, a writable root filesystem, capabilities, hostPath, host ports).",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps:
        "Set allowPrivilegeEscalation: false, capabilities.drop [ALL], seccompProfile " +
        "RuntimeDefault, runAsNonRoot: true with a non-zero runAsUser, readOnlyRootFilesystem: " +
        "true; no privileged, hostPID, hostIPC, hostPort or hostPath. List what a tier really " +
        "needs under this policy's tiers.",
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            const restricted = ctx.config.profile !== "baseline";
            const allow = new Allowance(tierOf(ctx.pod), ctx.config.tiers);
            const list = containersOf(ctx.pod);
            for (const c of list.containers) {
                if (ctx.containerExempt(c)) {
                    continue;
                }
                const f = new Findings();
                checkContainer(ctx, c, allow, restricted, f);
                report(ctx, `${ctx.subject} ${describeContainer(c)}`, f, allow, c.name);
            }
            const f = new Findings();
            checkPod(ctx, list.complete ? list.containers : undefined, allow, restricted, f);
            report(ctx, `${ctx.subject} (${ctx.pod.specPath})`, f, allow, undefined);
        }),
};

function report(
    ctx: PodContext<Config>,
    subject: string,
    f: Findings,
    allow: Allowance,
    container: string | undefined,
): void {
    if (f.problems.length === 0) {
        return;
    }
    const kinds = ORDER.filter((k) => f.kinds.has(k));
    ctx.report(
        violation(
            subject,
            f.problems,
            kinds.map((k) => capitalize(WHY[k])).join(" "),
            kinds.map((k) => capitalize(fixFor(k, allow.tierName, container))).join(" "),
        ),
    );
}

function checkContainer(
    ctx: PodContext<Config>,
    c: ContainerRef,
    allow: Allowance,
    restricted: boolean,
    f: Findings,
): void {
    const pod = ctx.pod;
    const patch = pod.patch;
    const sc = (...keys: string[]): unknown => readPath(c.value, "securityContext", ...keys);

    // Privileged, HostProcess (baseline).
    if (sc("privileged") === true) {
        f.add("privileged", "securityContext.privileged is true");
    }
    if (sc("windowsOptions", "hostProcess") === true) {
        f.add("privileged", "securityContext.windowsOptions.hostProcess is true");
    }

    // Privilege escalation (restricted).
    const escalation = sc("allowPrivilegeEscalation");
    if (restricted && escalation !== UNKNOWN && escalation !== false) {
        if (!missing(escalation)) {
            f.add("escalation", `securityContext.allowPrivilegeEscalation is ${show(escalation)}`);
        } else if (!patch) {
            f.add(
                "escalation",
                "securityContext.allowPrivilegeEscalation is not set (so it is true)",
            );
        }
    }

    checkCapabilities(c, allow, restricted, patch, f);

    // Running as non-root (restricted), unless the tier lets this container run as root.
    if (restricted && !allow.container("runAsRoot", c)) {
        const nonRoot = effective(pod, c, "runAsNonRoot");
        if (nonRoot.value !== UNKNOWN && nonRoot.value !== true) {
            if (!missing(nonRoot.value)) {
                f.add("root", `${nonRoot.field} is ${show(nonRoot.value)}`);
            } else if (!patch) {
                f.add(
                    "root",
                    "runAsNonRoot is not set on the container or the pod, so the image's user " +
                        "(root unless the image says otherwise) runs",
                );
            }
        }
        const user = effective(pod, c, "runAsUser");
        if (user.value === 0) {
            f.add("root", `${user.field} is 0 (root)`);
        }
    }

    checkSeccomp(pod, c, restricted, f);

    // Read-only root filesystem (not PSS), unless the tier lets this container write to it.
    if (ctx.config.requireReadOnlyRootFilesystem !== false) {
        const ro = sc("readOnlyRootFilesystem");
        if (ro !== UNKNOWN && ro !== true && !allow.container("writableRootFilesystem", c)) {
            if (!missing(ro)) {
                f.add("rootfs", `securityContext.readOnlyRootFilesystem is ${show(ro)}`);
            } else if (!patch) {
                f.add(
                    "rootfs",
                    "securityContext.readOnlyRootFilesystem is not set (so it is false)",
                );
            }
        }
    }

    checkHostPorts(pod, c, allow, f);

    // /proc mount (baseline).
    const procMount = sc("procMount");
    if (procMount !== UNKNOWN && !missing(procMount) && procMount !== "Default") {
        f.add("procMount", `securityContext.procMount is ${show(procMount)}, not "Default"`);
    }

    checkSeLinux(sc("seLinuxOptions"), "securityContext.seLinuxOptions", f);
    checkAppArmorField(sc("appArmorProfile", "type"), "securityContext.appArmorProfile.type", f);
    if (c.name !== undefined) {
        const key = APPARMOR_ANNOTATION_PREFIX + c.name;
        const value = readPath(pod.templateMetadata, "annotations", key);
        if (typeof value === "string" && !appArmorAnnotationAllowed(value)) {
            f.add(
                "apparmor",
                `${pod.metadataPath}.annotations["${key}"] is ${show(value)}, not ` +
                    "runtime/default or localhost/<profile>",
            );
        }
    }
}

function checkCapabilities(
    c: ContainerRef,
    allow: Allowance,
    restricted: boolean,
    patch: boolean,
    f: Findings,
): void {
    const add = readPath(c.value, "securityContext", "capabilities", "add");
    if (Array.isArray(add)) {
        const base = restricted ? RESTRICTED_CAPABILITIES : BASELINE_CAPABILITIES;
        const extra = allow.capabilities(c);
        const bad = add.filter(
            (cap): cap is string =>
                typeof cap === "string" &&
                !isUnknown(cap) &&
                !base.includes(cap) &&
                extra !== "any" &&
                !extra.includes(normalizeCapability(cap)),
        );
        if (bad.length > 0) {
            const profile = restricted
                ? "the restricted profile (only NET_BIND_SERVICE)"
                : "the baseline profile (Docker's default set)";
            const by =
                allow.tierName === "<tier>"
                    ? `which ${profile} does not allow`
                    : `which neither ${profile} nor tier "${allow.tierName}"'s allowance permits`;
            f.add("capabilities", `securityContext.capabilities.add has ${bad.join(", ")}, ${by}`);
        }
    }
    if (!restricted) {
        return;
    }
    const drop = readPath(c.value, "securityContext", "capabilities", "drop");
    if (drop === UNKNOWN || (Array.isArray(drop) && drop.some(isUnknown))) {
        return;
    }
    if (Array.isArray(drop)) {
        if (!drop.includes("ALL")) {
            f.add(
                "capabilities",
                `securityContext.capabilities.drop is ${show(drop)}, which does not include ALL`,
            );
        }
    } else if (!patch) {
        f.add(
            "capabilities",
            "securityContext.capabilities.drop is not set, so the runtime's default " +
                "capabilities stay (drop must include ALL)",
        );
    }
}

function checkSeccomp(pod: PodTemplate, c: ContainerRef, restricted: boolean, f: Findings): void {
    const own = readPath(c.value, "securityContext", "seccompProfile", "type");
    if (own === UNKNOWN) {
        return;
    }
    if (own === "Unconfined") {
        f.add("seccomp", 'securityContext.seccompProfile.type is "Unconfined"');
        return;
    }
    if (!restricted) {
        return;
    }
    if (!missing(own)) {
        if (typeof own !== "string" || !SECCOMP_TYPES.includes(own)) {
            f.add(
                "seccomp",
                `securityContext.seccompProfile.type is ${show(own)}, not RuntimeDefault or Localhost`,
            );
        }
        return;
    }
    const inherited = readPath(pod.spec, "securityContext", "seccompProfile", "type");
    // The pod-level message reports a pod-level Unconfined; a patch need not restate it.
    if (inherited === UNKNOWN || inherited === "Unconfined" || (missing(inherited) && pod.patch)) {
        return;
    }
    if (typeof inherited !== "string" || !SECCOMP_TYPES.includes(inherited)) {
        f.add(
            "seccomp",
            missing(inherited)
                ? "no seccompProfile is set on the container or the pod (restricted requires " +
                      "RuntimeDefault or Localhost)"
                : `${pod.specPath}.securityContext.seccompProfile.type is ${show(inherited)}, ` +
                      "not RuntimeDefault or Localhost",
        );
    }
}

function checkHostPorts(pod: PodTemplate, c: ContainerRef, allow: Allowance, f: Findings): void {
    const ports = c.value.ports;
    if (!Array.isArray(ports)) {
        return;
    }
    const hostNetwork = pod.spec.hostNetwork;
    ports.forEach((port: unknown, i: number) => {
        if (!isObject(port)) {
            return;
        }
        const hostPort = port.hostPort;
        if (typeof hostPort !== "number" || hostPort === 0) {
            return;
        }
        const containerPort = port.containerPort;
        // The host network's implicit hostPort = containerPort: host-network-allow-list's call.
        if (
            (hostNetwork === true || isUnknown(hostNetwork)) &&
            (containerPort === hostPort || isUnknown(containerPort))
        ) {
            return;
        }
        if (allow.hostPort(hostPort)) {
            return;
        }
        f.add("hostPort", `ports[${i}].hostPort is ${hostPort}`);
    });
}

function checkSeLinux(options: unknown, field: string, f: Findings): void {
    if (!isObject(options)) {
        return;
    }
    const type = options.type;
    if (typeof type === "string" && !isUnknown(type) && type !== "") {
        if (!SELINUX_TYPES.includes(type)) {
            f.add(
                "selinux",
                `${field}.type is ${show(type)}, not one of ${SELINUX_TYPES.join(", ")}`,
            );
        }
    }
    for (const key of ["user", "role"]) {
        const value = options[key];
        if (typeof value === "string" && !isUnknown(value) && value !== "") {
            f.add("selinux", `${field}.${key} is set (${show(value)})`);
        }
    }
}

function checkAppArmorField(type: unknown, field: string, f: Findings): void {
    if (typeof type === "string" && !isUnknown(type) && !APPARMOR_TYPES.includes(type)) {
        f.add("apparmor", `${field} is ${show(type)}, not RuntimeDefault or Localhost`);
    }
}

function checkPod(
    ctx: PodContext<Config>,
    containers: ContainerRef[] | undefined,
    allow: Allowance,
    restricted: boolean,
    f: Findings,
): void {
    const pod = ctx.pod;
    const spec = pod.spec;
    for (const field of ["hostPID", "hostIPC"]) {
        if (spec[field] === true) {
            f.add("hostNamespaces", `${field} is true`);
        }
    }
    if (readPath(spec, "securityContext", "windowsOptions", "hostProcess") === true) {
        f.add("privileged", "securityContext.windowsOptions.hostProcess is true");
    }
    if (readPath(spec, "securityContext", "seccompProfile", "type") === "Unconfined") {
        f.add("seccomp", 'securityContext.seccompProfile.type is "Unconfined"');
    }
    checkSeLinux(
        readPath(spec, "securityContext", "seLinuxOptions"),
        "securityContext.seLinuxOptions",
        f,
    );
    checkAppArmorField(
        readPath(spec, "securityContext", "appArmorProfile", "type"),
        "securityContext.appArmorProfile.type",
        f,
    );

    const sysctls = readPath(spec, "securityContext", "sysctls");
    if (Array.isArray(sysctls)) {
        const allowed = stringList(ctx.config.allowedSysctls);
        const bad = sysctls
            .map((s: unknown) => (isObject(s) ? s.name : undefined))
            .filter(
                (n): n is string => typeof n === "string" && !isUnknown(n) && !allowed.includes(n),
            );
        if (bad.length > 0) {
            f.add(
                "sysctls",
                `securityContext.sysctls sets ${bad.join(", ")}, outside the allowed (safe) set`,
            );
        }
    }

    const volumes = spec.volumes;
    if (Array.isArray(volumes)) {
        volumes.forEach((v: unknown, i: number) => {
            if (!isObject(v)) {
                return;
            }
            const name = v.name;
            const label = `volumes[${i}]${typeof name === "string" && !isUnknown(name) ? ` "${name}"` : ""}`;
            if (!missing(v.hostPath)) {
                if (!allow.volume(name)) {
                    const hostPath = readPath(v, "hostPath", "path");
                    const where = typeof hostPath === "string" ? ` (${hostPath})` : "";
                    f.add("hostPath", `${label} is a hostPath volume${where}`);
                }
                return;
            }
            if (!restricted) {
                return;
            }
            const sources = Object.keys(v).filter((k) => k !== "name" && !missing(v[k]));
            const bad = sources.filter((k) => !RESTRICTED_VOLUME_TYPES.includes(k));
            if (bad.length > 0) {
                f.add("volumeTypes", `${label} is a ${bad.join(", ")} volume`);
            }
        });
    }

    // AppArmor annotations naming no container of the pod (the others are in their container's
    // message). Skipped while the container list is unknown.
    const annotations = pod.templateMetadata.annotations;
    if (containers !== undefined && isObject(annotations)) {
        const names = new Set(containers.map((c) => c.name));
        if (containers.some((c) => c.name === undefined)) {
            return;
        }
        for (const [key, value] of Object.entries(annotations)) {
            if (
                key.startsWith(APPARMOR_ANNOTATION_PREFIX) &&
                !names.has(key.slice(APPARMOR_ANNOTATION_PREFIX.length)) &&
                typeof value === "string" &&
                !isUnknown(value) &&
                !appArmorAnnotationAllowed(value)
            ) {
                f.add(
                    "apparmor",
                    `${pod.metadataPath}.annotations["${key}"] is ${show(value)}, not ` +
                        "runtime/default or localhost/<profile>",
                );
            }
        }
    }
}
