/**
 * Turns a pod template of the program (as test/harness/program.ts records it under mocks) into runc
 * containers (runc.ts), with what a kubelet would give each container: its user and groups (runAsUser,
 * runAsGroup, fsGroup, supplementalGroups), capabilities, no_new_privs, read-only root, env (values and
 * secretKeyRef/configMapKeyRef), command and args, volumes (emptyDir, configMap, secret, a claim backed by a
 * host directory the test names, subPath), memory and CPU limits, and its probes (exec and tcpSocket).
 *
 * What it does not do is refused with an error naming the field, never skipped: httpGet probes, fieldRef
 * env, hostPath volumes, privileged containers.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import * as fs from "fs";
import * as path from "path";
import { parseQuantity } from "../../components/quantity";
import { StackResource } from "../harness/program";
import { CommandResult, Container, ContainerSpec, MountSpec, NetNs, UnpackedImage } from "./runc";

/** containerd's default capability set (oci/spec_opts.go defaultUnixCaps): what a container keeps unless it drops. */
const RUNTIME_DEFAULT_CAPABILITIES = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/** The resource of `type` registered under logical `name`; throws naming both when missing. */
export function resourceNamed(
    resources: readonly StackResource[],
    type: string,
    name: string,
): StackResource {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (found === undefined) {
        throw new Error(`the program registered no ${type} named ${name}`);
    }
    return found;
}

/** A Secret's or ConfigMap's value by its object name, as a kubelet would read it from the API. */
function objectValue(
    resources: readonly StackResource[],
    kind: "Secret" | "ConfigMap",
    objectName: string,
    key: string,
): string {
    const type = `kubernetes:core/v1:${kind}`;
    const object = resources.find((r) => r.type === type && r.props.metadata?.name === objectName);
    if (object === undefined) {
        throw new Error(`no ${kind} named ${objectName} in the program`);
    }
    const stringData =
        object.props.stringData ?? (kind === "ConfigMap" ? object.props.data : undefined);
    if (stringData !== undefined && key in stringData) {
        return String(stringData[key]);
    }
    if (kind === "Secret" && object.props.data !== undefined && key in object.props.data) {
        return Buffer.from(String(object.props.data[key]), "base64").toString("utf8");
    }
    throw new Error(`${kind} ${objectName} has no key ${key}`);
}

/** All keys of a Secret or ConfigMap. */
function objectData(
    resources: readonly StackResource[],
    kind: "Secret" | "ConfigMap",
    objectName: string,
): Record<string, string> {
    const type = `kubernetes:core/v1:${kind}`;
    const object = resources.find((r) => r.type === type && r.props.metadata?.name === objectName);
    if (object === undefined) {
        throw new Error(`no ${kind} named ${objectName} in the program`);
    }
    const data: Record<string, string> = {};
    for (const key of Object.keys(object.props.data ?? {})) {
        data[key] = objectValue(resources, kind, objectName, key);
    }
    for (const [key, value] of Object.entries(object.props.stringData ?? {})) {
        data[key] = String(value);
    }
    return data;
}

/** The volumes of one pod, materialised on this host the way a kubelet lays them out. */
export class PodVolumes {
    private readonly paths = new Map<string, string>();

    /**
     * @param dir where emptyDir, configMap and secret volumes are created
     * @param claims host directories backing PersistentVolumeClaims, by claim name
     */
    constructor(
        private readonly resources: readonly StackResource[],
        private readonly pod: any,
        private readonly dir: string,
        claims: Readonly<Record<string, string>> = {},
    ) {
        const fsGroup: number | undefined = pod.securityContext?.fsGroup;
        for (const volume of pod.volumes ?? []) {
            const target = path.join(dir, volume.name);
            if (volume.emptyDir !== undefined) {
                // emptyDir is created 0777; fsGroup makes it group-owned and setgid (pkg/volume/volume_linux.go).
                fs.mkdirSync(target, { recursive: true });
                fs.chmodSync(target, 0o777);
                if (fsGroup !== undefined) {
                    fs.chownSync(target, 0, fsGroup);
                    fs.chmodSync(target, 0o2777);
                }
            } else if (volume.configMap !== undefined || volume.secret !== undefined) {
                const kind = volume.secret !== undefined ? "Secret" : "ConfigMap";
                const source = volume.secret ?? volume.configMap;
                const objectName: string = volume.secret?.secretName ?? volume.configMap?.name;
                const mode: number = source.defaultMode ?? 0o644;
                fs.mkdirSync(target, { recursive: true });
                for (const [key, value] of Object.entries(
                    objectData(resources, kind, objectName),
                )) {
                    const file = path.join(target, key);
                    fs.writeFileSync(file, value);
                    // Read-only volumes with fsGroup: group fsGroup, and group-readable (volume_linux.go roMask).
                    fs.chmodSync(file, fsGroup === undefined ? mode : mode | 0o440);
                    if (fsGroup !== undefined) {
                        fs.chownSync(file, 0, fsGroup);
                    }
                }
            } else if (volume.persistentVolumeClaim !== undefined) {
                const claim: string = volume.persistentVolumeClaim.claimName;
                const backing = claims[claim];
                if (backing === undefined) {
                    throw new Error(
                        `volume ${volume.name}: no host directory given for claim ${claim}`,
                    );
                }
                this.paths.set(volume.name, backing);
                continue;
            } else {
                throw new Error(
                    `volume ${volume.name}: only emptyDir, configMap, secret and persistentVolumeClaim are supported (${JSON.stringify(volume)})`,
                );
            }
            this.paths.set(volume.name, target);
        }
    }

    /** The host path of a volume (or of `subPath` inside it). */
    hostPath(volume: string, subPath?: string): string {
        const base = this.paths.get(volume);
        if (base === undefined) {
            throw new Error(`the pod has no volume ${volume}`);
        }
        return subPath === undefined || subPath === "" ? base : path.join(base, subPath);
    }

    /** The resources this pod's env and volumes are read from. */
    get stack(): readonly StackResource[] {
        return this.resources;
    }

    /** The pod spec these volumes belong to. */
    get podSpec(): any {
        return this.pod;
    }

    /** The directory volumes are created in. */
    get root(): string {
        return this.dir;
    }
}

/** Options for running one container of a pod. */
export interface PodContainerOptions {
    readonly id: string;
    readonly image: UnpackedImage;
    readonly netns: NetNs;
    readonly volumes: PodVolumes;
    /** The container's name in the pod spec (containers or initContainers). */
    readonly container: string;
    readonly hostname?: string;
    /** Extra /etc/hosts entries (e.g. a Service name to 127.0.0.1 when the peer shares the network namespace). */
    readonly hosts?: Readonly<Record<string, string>>;
}

/** The container named `name` in a pod spec, from containers or initContainers. */
export function podContainer(pod: any, name: string): any {
    const container = [...(pod.initContainers ?? []), ...(pod.containers ?? [])].find(
        (c: any) => c.name === name,
    );
    if (container === undefined) {
        throw new Error(`the pod has no container ${name}`);
    }
    return container;
}

/** What runc.ts needs to run container `options.container` of the pod as a kubelet would. */
export function containerSpec(options: PodContainerOptions): ContainerSpec {
    const pod = options.volumes.podSpec;
    const container = podContainer(pod, options.container);
    const podSecurity = pod.securityContext ?? {};
    const security = container.securityContext ?? {};
    if (security.privileged === true) {
        throw new Error(`container ${container.name}: privileged containers are not supported`);
    }
    const uid: number = security.runAsUser ?? podSecurity.runAsUser ?? 0;
    const gid: number = security.runAsGroup ?? podSecurity.runAsGroup ?? 0;
    const additionalGids = [
        ...(podSecurity.fsGroup === undefined ? [] : [podSecurity.fsGroup as number]),
        ...((podSecurity.supplementalGroups ?? []) as number[]),
    ];

    const drop: string[] = (security.capabilities?.drop ?? []).map((c: string) => c.toUpperCase());
    const add: string[] = (security.capabilities?.add ?? []).map(
        (c: string) => `CAP_${c.toUpperCase()}`,
    );
    const kept = drop.includes("ALL")
        ? []
        : RUNTIME_DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c.slice("CAP_".length)));
    const capabilities = [...new Set([...kept, ...add])];

    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
        if (variable.value !== undefined) {
            env[variable.name] = String(variable.value);
        } else if (variable.valueFrom?.secretKeyRef !== undefined) {
            const ref = variable.valueFrom.secretKeyRef;
            env[variable.name] = objectValue(options.volumes.stack, "Secret", ref.name, ref.key);
        } else if (variable.valueFrom?.configMapKeyRef !== undefined) {
            const ref = variable.valueFrom.configMapKeyRef;
            env[variable.name] = objectValue(options.volumes.stack, "ConfigMap", ref.name, ref.key);
        } else {
            throw new Error(
                `container ${container.name}: env ${variable.name} uses an unsupported source ${JSON.stringify(variable.valueFrom)}`,
            );
        }
    }

    const mounts: MountSpec[] = (container.volumeMounts ?? []).map((m: any) => ({
        destination: m.mountPath,
        source: options.volumes.hostPath(m.name, m.subPath),
        readOnly: m.readOnly === true,
    }));

    const limits = container.resources?.limits ?? {};
    const memory = limits.memory === undefined ? undefined : parseQuantity(limits.memory);
    const cpu = limits.cpu === undefined ? undefined : parseQuantity(limits.cpu);
    return {
        id: options.id,
        image: options.image,
        command: container.command,
        args: container.args,
        env,
        user: { uid, gid, additionalGids },
        readOnlyRootFilesystem: security.readOnlyRootFilesystem === true,
        capabilities,
        // allowPrivilegeEscalation defaults to true in Kubernetes.
        noNewPrivileges: security.allowPrivilegeEscalation === false,
        mounts,
        netns: options.netns,
        hostname: options.hostname,
        hosts: options.hosts,
        memoryLimitBytes: memory === undefined ? undefined : Math.floor(memory),
        cpuLimit: cpu,
        workingDir: container.workingDir,
    };
}

/** The outcome of one probe run. */
export interface ProbeOutcome {
    readonly passed: boolean;
    readonly detail: string;
}

/**
 * Runs a probe once, as the kubelet does: exec in the container with the probe's timeout, or a TCP connect
 * to the container's port (named ports resolved from the container's ports).
 */
export async function probeOnce(
    container: Container,
    podContainerSpec: any,
    probe: any,
): Promise<ProbeOutcome> {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    if (probe.exec !== undefined) {
        const started = Date.now();
        const result: CommandResult = await container.exec(probe.exec.command, {
            timeoutMs: timeoutMs + 5_000,
        });
        const tookMs = Date.now() - started;
        const detail = `exit ${result.code ?? result.signal} in ${tookMs} ms; stdout: ${result.stdout.trim()}; stderr: ${result.stderr.trim()}`;
        // The kubelet counts an exec probe that outlives timeoutSeconds as failed.
        return { passed: result.code === 0 && tookMs <= timeoutMs, detail };
    }
    if (probe.tcpSocket !== undefined) {
        const port: number =
            typeof probe.tcpSocket.port === "number"
                ? probe.tcpSocket.port
                : (podContainerSpec.ports ?? []).find((p: any) => p.name === probe.tcpSocket.port)
                      ?.containerPort;
        if (port === undefined) {
            throw new Error(
                `tcpSocket probe names port ${probe.tcpSocket.port}, which the container does not declare`,
            );
        }
        const open = await container.spec.netns.tcpOpen(port);
        return { passed: open, detail: open ? `port ${port} open` : `port ${port} refused` };
    }
    throw new Error(`probe ${JSON.stringify(probe)}: only exec and tcpSocket probes are supported`);
}

/**
 * Runs a probe every periodSeconds until it passes, within the window a kubelet grants it
 * (periodSeconds x failureThreshold, plus `extraMs`); rejects with the last outcome otherwise.
 */
export async function waitForProbe(
    container: Container,
    podContainerSpec: any,
    probe: any,
    what: string,
    extraMs = 0,
): Promise<void> {
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const windowMs = periodMs * (probe.failureThreshold ?? 3) + extraMs;
    let last: ProbeOutcome = { passed: false, detail: "never ran" };
    try {
        await container.waitFor(
            async () => {
                if (container.exited !== undefined) {
                    throw new Error(`the container exited with ${container.exited}`);
                }
                last = await probeOnce(container, podContainerSpec, probe);
                return last.passed;
            },
            windowMs,
            what,
            periodMs,
            false,
        );
    } catch (error) {
        throw new Error(
            `${what}: ${(error as Error).message.split("\n")[0]}; last probe: ${last.detail}\n--- container output ---\n${container.logs.slice(-4000)}`,
            { cause: error },
        );
    }
}
