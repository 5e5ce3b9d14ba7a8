// ephemeral-storage: what a pod writes to the node's disk is bounded, so one tier cannot fill the
// node and get every pod on it evicted (Kubernetes docs, "Local ephemeral storage").
//   - A container that can write to its own filesystem (readOnlyRootFilesystem not true) or that
//     mounts a disk-backed emptyDir sets ephemeral-storage requests and limits (app containers,
//     init containers and native sidecars; the API forbids resources on ephemeral containers).
//   - Every emptyDir not backed by memory sets a sizeLimit (the kubelet evicts the pod beyond it).
//   - Optionally (emptyDirsWithinPodLimit, on by default), the sizeLimits of a pod's disk-backed
//     emptyDirs add up to no more than the pod's ephemeral-storage limit, computed as the kubelet
//     does (app containers and sidecars add up; a plain init container counts with the sidecars
//     started before it; the larger wins). The kubelet evicts a pod whose writable layers, logs
//     and emptyDirs together pass that limit, so emptyDirs sized above it are a promise the pod
//     cannot keep. A memory-backed emptyDir counts against the memory limit instead.
// A `*Patch` need not restate the resources or the sizeLimits it leaves alone.

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { ContainerRef, containersOf, describeContainer } from "../lib/containers";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { capitalize, show, violation } from "../lib/messages";
import { PodContext, validatePod } from "../lib/policy";
import { PodTemplate } from "../lib/podspec";
import {
    Quantity,
    ZERO,
    addQuantities,
    compareQuantities,
    isNegative,
    isZero,
    parseQuantity,
} from "../lib/quantity";
import { isObject, isUnknown, readPath } from "../lib/unknown";

export const NAME = "ephemeral-storage";

interface Config {
    emptyDirsWithinPodLimit: boolean;
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        emptyDirsWithinPodLimit: {
            type: "boolean",
            default: true,
            description:
                "Also require the sizeLimits of a pod's disk-backed emptyDirs to add up to no " +
                "more than the pod's ephemeral-storage limit (the sum of its containers' limits).",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const RESOURCE = "ephemeral-storage";

type Problem = "unset" | "invalid" | "below" | "sizeLimit" | "total";

const WHY: Record<Problem, string> = {
    unset:
        "a container that writes to its filesystem or an emptyDir uses node disk; without a " +
        "request the scheduler does not count it, and without a limit one container (ErizoAgent " +
        "recording, a log loop) can fill the node until the kubelet evicts every pod on it.",
    invalid: "the API server rejects a value that is not a Kubernetes quantity, mid-deployment.",
    below: "the API server rejects a limit below its request, mid-deployment.",
    sizeLimit:
        "an emptyDir without a sizeLimit grows until the node's disk runs out; with one the " +
        "kubelet evicts only the pod that overflows it.",
    total:
        "the kubelet evicts a pod whose writable layers, logs and emptyDirs together pass the " +
        "sum of its containers' ephemeral-storage limits, so emptyDirs sized above that are " +
        "evicted before they are full.",
};

const FIX: Record<Problem, string> = {
    unset:
        "set resources.requests and resources.limits for ephemeral-storage (in this program: the " +
        "tier's resources stack config, ephemeralStorage), or make the root filesystem read-only " +
        "and mount no emptyDir.",
    invalid: "write quantities as Kubernetes does: 64Mi, 1Gi, 500M.",
    below: "raise the limit to at least the request, or lower the request.",
    sizeLimit: "give every emptyDir a sizeLimit (e.g. emptyDir: { sizeLimit: 1Gi }).",
    total:
        "raise the containers' ephemeral-storage limits above the emptyDirs' sizeLimits (with " +
        "room for writable layers and logs), or lower the sizeLimits.",
};

/** Writing containers bound their ephemeral storage; emptyDirs have sizeLimits. */
export const ephemeralStorage: ResourceValidationPolicy = {
    name: NAME,
    description:
        "Containers with a writable root filesystem or an emptyDir set ephemeral-storage " +
        "requests and limits; every disk-backed emptyDir has a sizeLimit, and (by default) the " +
        "sizeLimits fit within the pod's ephemeral-storage limit.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema,
    remediationSteps:
        "Set resources.requests/limits.ephemeral-storage on writing containers and a sizeLimit " +
        "on every emptyDir, with the containers' limits above the emptyDirs' total.",
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            const { pod } = ctx;
            const volumes = emptyDirs(pod);
            const list = containersOf(pod);
            for (const c of list.containers) {
                if (c.cls === "ephemeral" || ctx.containerExempt(c)) {
                    continue;
                }
                const problems: string[] = [];
                const kinds = new Set<Problem>();
                checkContainer(c, pod, volumes, problems, kinds);
                if (problems.length > 0) {
                    const order: Problem[] = ["unset", "invalid", "below"];
                    const present = order.filter((k) => kinds.has(k));
                    ctx.report(
                        violation(
                            `${ctx.subject} ${describeContainer(c)}`,
                            problems,
                            present.map((k) => capitalize(WHY[k])).join(" "),
                            present.map((k) => capitalize(FIX[k])).join(" "),
                        ),
                    );
                }
            }
            const problems: string[] = [];
            const kinds = new Set<Problem>();
            for (const v of volumes) {
                const size = v.sizeLimit;
                if (size.state === "missing" && !pod.patch) {
                    problems.push(`emptyDir ${v.label} has no sizeLimit`);
                    kinds.add("sizeLimit");
                } else if (size.state === "zero") {
                    problems.push(
                        `emptyDir ${v.label} has sizeLimit ${show(v.raw)}, which sets no limit`,
                    );
                    kinds.add("sizeLimit");
                } else if (size.state === "invalid") {
                    problems.push(`emptyDir ${v.label} sizeLimit ${show(v.raw)} ${size.reason}`);
                    kinds.add("invalid");
                }
            }
            if (problems.length > 0) {
                const present = (["sizeLimit", "invalid"] as Problem[]).filter((k) => kinds.has(k));
                ctx.report(
                    violation(
                        `${ctx.subject} (${pod.specPath}.volumes)`,
                        problems,
                        present.map((k) => capitalize(WHY[k])).join(" "),
                        present.map((k) => capitalize(FIX[k])).join(" "),
                    ),
                );
            }
            if (ctx.config.emptyDirsWithinPodLimit !== false && list.complete) {
                checkTotal(ctx, volumes, list.containers);
            }
        }),
};

/** A disk-backed emptyDir of the pod and its sizeLimit. */
interface EmptyDir {
    readonly name: string | undefined;
    readonly label: string;
    readonly raw: unknown;
    readonly sizeLimit:
        | { state: "unknown" }
        | { state: "missing" }
        | { state: "zero" }
        | { state: "invalid"; reason: string }
        | { state: "ok"; value: Quantity };
}

/** The pod's emptyDirs not backed by memory (unknown entries and media are left out). */
function emptyDirs(pod: PodTemplate): EmptyDir[] {
    const volumes = pod.spec.volumes;
    if (!Array.isArray(volumes)) {
        return [];
    }
    const out: EmptyDir[] = [];
    volumes.forEach((v: unknown, i: number) => {
        if (!isObject(v) || v.emptyDir === undefined || v.emptyDir === null) {
            return;
        }
        const medium = readPath(v, "emptyDir", "medium");
        if (isUnknown(v.emptyDir) || medium === "Memory" || isUnknown(medium)) {
            return;
        }
        const name = typeof v.name === "string" && !isUnknown(v.name) ? v.name : undefined;
        const label = `volumes[${i}]${name === undefined ? "" : ` "${name}"`}`;
        const raw = readPath(v, "emptyDir", "sizeLimit");
        out.push({ name, label, raw, sizeLimit: readSize(raw) });
    });
    return out;
}

function readSize(raw: unknown): EmptyDir["sizeLimit"] {
    if (typeof raw === "symbol") {
        return { state: "unknown" };
    }
    if (raw === undefined || raw === null || raw === "") {
        return { state: "missing" };
    }
    const parsed = parseQuantity(raw);
    if (!parsed.ok) {
        return { state: "invalid", reason: parsed.reason };
    }
    if (isNegative(parsed.value)) {
        return { state: "invalid", reason: "is negative" };
    }
    if (isZero(parsed.value)) {
        return { state: "zero" };
    }
    return { state: "ok", value: parsed.value };
}

type Field =
    | { state: "unknown" }
    | { state: "missing" }
    | { state: "invalid"; raw: unknown; reason: string }
    | { state: "ok"; raw: unknown; value: Quantity };

/** `resources[kind]["ephemeral-storage"]` of a container. */
export function readEphemeral(
    container: Record<string, unknown>,
    kind: "requests" | "limits",
): Field {
    const raw = readPath(container, "resources", kind, RESOURCE);
    if (typeof raw === "symbol") {
        return { state: "unknown" };
    }
    if (raw === undefined || raw === null || raw === "") {
        return { state: "missing" };
    }
    const parsed = parseQuantity(raw);
    if (!parsed.ok) {
        return { state: "invalid", raw, reason: parsed.reason };
    }
    if (isNegative(parsed.value)) {
        return { state: "invalid", raw, reason: "is negative" };
    }
    if (isZero(parsed.value)) {
        return { state: "missing" };
    }
    return { state: "ok", raw, value: parsed.value };
}

// Why the container needs ephemeral-storage resources: "" when it does not, undefined when that
// is unknown during preview.
function writes(c: ContainerRef, volumes: EmptyDir[]): string | undefined {
    const reasons: string[] = [];
    let open = false;
    const ro = readPath(c.value, "securityContext", "readOnlyRootFilesystem");
    if (typeof ro === "symbol") {
        open = true;
    } else if (ro !== true) {
        reasons.push("its root filesystem is writable");
    }
    const mounts = c.value.volumeMounts;
    if (isUnknown(mounts)) {
        open = true;
    } else if (Array.isArray(mounts)) {
        const names = new Set(volumes.map((v) => v.name));
        const mounted = new Set<string>();
        for (const m of mounts) {
            const name = isObject(m) ? m.name : undefined;
            if (isUnknown(m) || isUnknown(name)) {
                open = true;
            } else if (typeof name === "string" && names.has(name)) {
                mounted.add(name);
            }
        }
        if (mounted.size > 0) {
            reasons.push(`it mounts emptyDir ${[...mounted].map((n) => `"${n}"`).join(", ")}`);
        }
    }
    if (reasons.length > 0) {
        return reasons.join(" and ");
    }
    return open ? undefined : "";
}

function checkContainer(
    c: ContainerRef,
    pod: PodTemplate,
    volumes: EmptyDir[],
    problems: string[],
    kinds: Set<Problem>,
): void {
    const request = readEphemeral(c.value, "requests");
    const limit = readEphemeral(c.value, "limits");
    for (const [kind, field] of [
        ["requests", request],
        ["limits", limit],
    ] as const) {
        if (field.state === "invalid") {
            problems.push(`resources.${kind}.${RESOURCE} ${show(field.raw)} ${field.reason}`);
            kinds.add("invalid");
        }
    }
    const why = writes(c, volumes);
    if (why !== undefined && why !== "" && !pod.patch) {
        for (const [kind, field] of [
            ["requests", request],
            ["limits", limit],
        ] as const) {
            if (field.state === "missing") {
                problems.push(`resources.${kind}.${RESOURCE} is not set (${why})`);
                kinds.add("unset");
            }
        }
    }
    if (
        request.state === "ok" &&
        limit.state === "ok" &&
        compareQuantities(limit.value, request.value) < 0
    ) {
        problems.push(
            `resources.limits.${RESOURCE} ${show(limit.raw)} is below ` +
                `resources.requests.${RESOURCE} ${show(request.raw)}`,
        );
        kinds.add("below");
    }
}

/**
 * The pod's ephemeral-storage limit as the kubelet computes it (resourcehelper.PodLimits): app
 * containers and sidecars add up; each plain init container counts with the sidecars started
 * before it; the larger wins. Undefined when no container sets a limit, or one is unknown.
 */
export function podLimit(containers: ContainerRef[]): Quantity | undefined {
    let apps: Quantity = ZERO;
    let sidecars: Quantity = ZERO;
    let init: Quantity = ZERO;
    let found = false;
    for (const c of containers) {
        if (c.cls === "ephemeral") {
            continue;
        }
        if (c.classUnknown) {
            return undefined;
        }
        const limit = readEphemeral(c.value, "limits");
        if (limit.state === "unknown" || limit.state === "invalid") {
            return undefined;
        }
        const value = limit.state === "ok" ? limit.value : ZERO;
        found = found || limit.state === "ok";
        if (c.cls === "container") {
            apps = addQuantities(apps, value);
        } else if (c.cls === "sidecar") {
            sidecars = addQuantities(sidecars, value);
            apps = addQuantities(apps, value);
            init = max(init, sidecars);
        } else {
            init = max(init, addQuantities(value, sidecars));
        }
    }
    return found ? max(apps, init) : undefined;
}

function max(a: Quantity, b: Quantity): Quantity {
    return compareQuantities(a, b) >= 0 ? a : b;
}

function checkTotal(
    ctx: PodContext<Config>,
    volumes: EmptyDir[],
    containers: ContainerRef[],
): void {
    if (volumes.length === 0 || volumes.some((v) => v.sizeLimit.state !== "ok")) {
        return;
    }
    const limit = podLimit(containers);
    if (limit === undefined) {
        return;
    }
    let total: Quantity = ZERO;
    for (const v of volumes) {
        if (v.sizeLimit.state === "ok") {
            total = addQuantities(total, v.sizeLimit.value);
        }
    }
    if (compareQuantities(total, limit) <= 0) {
        return;
    }
    const sizes = volumes.map((v) => `${v.label} ${show(v.raw)}`).join(" + ");
    const limits = containers
        .filter((c) => c.cls !== "ephemeral")
        .map((c) => {
            const l = readEphemeral(c.value, "limits");
            return `"${c.name ?? "<unnamed>"}" ${l.state === "ok" ? show(l.raw) : "none"}`;
        })
        .join(", ");
    ctx.report(
        violation(
            `${ctx.subject} (${ctx.pod.specPath}.volumes)`,
            [
                `the emptyDir sizeLimits (${sizes}) add up to more than the pod's ` +
                    `ephemeral-storage limit ${formatBytes(limit)} (containers' limits: ${limits})`,
            ],
            WHY.total,
            FIX.total,
        ),
    );
}

// A quantity in the largest binary unit that keeps it whole, else in bytes.
function formatBytes(q: Quantity): string {
    if (q.num % q.den !== 0n) {
        return `${Number(q.num) / Number(q.den)}`;
    }
    const bytes = q.num / q.den;
    for (const [suffix, exp] of [
        ["Ei", 60n],
        ["Pi", 50n],
        ["Ti", 40n],
        ["Gi", 30n],
        ["Mi", 20n],
        ["Ki", 10n],
    ] as const) {
        const unit = 2n ** exp;
        if (bytes >= unit && bytes % unit === 0n) {
            return `${bytes / unit}${suffix}`;
        }
    }
    return `${bytes}`;
}
