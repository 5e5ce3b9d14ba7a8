// Test helpers for the policy pack: fake ResourceValidationArgs / StackValidationArgs built the way
// @pulumi/policy's server builds them (props wrapped in the real unknown-checking proxy, config with
// the schema defaults filled in as the CLI does, notApplicable throwing), plus fixture builders.

import type {
    PolicyConfigSchema,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

// @pulumi/policy's proxy.ts: the proxy the server wraps props in, and the unknown sentinels. Its
// typings are internal, so it is loaded untyped.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy = require("@pulumi/policy/proxy") as Record<string, string> & {
    unknownCheckingProxy<T>(value: T): T;
};
const unknownCheckingProxy = <T>(value: T): T => proxy.unknownCheckingProxy(value);

/** What the engine sends for a string (or any value) unknown during preview. */
export const UNKNOWN: string = proxy.unknownStringValue;
/** The other sentinels, for checking the pack's copy of them. */
export const SDK_SENTINELS: string[] = [
    proxy.unknownBooleanValue,
    proxy.unknownNumberValue,
    proxy.unknownStringValue,
    proxy.unknownArrayValue,
    proxy.unknownAssetValue,
    proxy.unknownArchiveValue,
    proxy.unknownObjectValue,
];

/** Thrown by the fake `notApplicable`. */
export class NotApplicable extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

/** The policy's config: defaults from its configSchema, then `overrides`. */
export function configFor(
    policy: { configSchema?: PolicyConfigSchema },
    overrides: Record<string, unknown> = {},
): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(policy.configSchema?.properties ?? {})) {
        if (typeof prop === "object" && prop.default !== undefined) {
            out[key] = structuredClone(prop.default);
        }
    }
    return { ...out, ...structuredClone(overrides) };
}

const OPTS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

/** A resource to validate. */
export interface Fixture {
    readonly type: string;
    readonly props: Record<string, unknown>;
    readonly name?: string;
    readonly provider?: { props: Record<string, unknown> };
}

/** How to run a policy. */
export interface RunOptions {
    /** Give the policy no config at all, as the SDK does for a policy missing from the file. */
    readonly noConfig?: boolean;
    /**
     * Hand the fixtures' props to the proxy without copying them first: for sweeps that run
     * thousands of variants and never edit a fixture once it has run (policies only read).
     */
    readonly shareProps?: boolean;
}

/** The outcome of a resource policy run. */
export interface ResourceRun {
    readonly violations: string[];
    readonly notApplicable?: string;
}

function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::licode::${type}::${name}`;
}

function providerOf(p: Fixture["provider"]): PolicyProviderResource | undefined {
    return p === undefined
        ? undefined
        : {
              type: "pulumi:providers:kubernetes",
              name: "k8s",
              urn: urnOf("pulumi:providers:kubernetes", "k8s"),
              props: unknownCheckingProxy(structuredClone(p.props)),
          };
}

/** Runs a resource policy on one resource; the props go through the SDK's unknown proxy. */
export async function runResourcePolicy(
    policy: ResourceValidationPolicy,
    fixture: Fixture,
    overrides: Record<string, unknown> = {},
    opts: RunOptions = {},
): Promise<ResourceRun> {
    const name = fixture.name ?? "test";
    const config = opts.noConfig ? {} : configFor(policy, overrides);
    const props = unknownCheckingProxy(
        opts.shareProps ? fixture.props : structuredClone(fixture.props),
    );
    const args: ResourceValidationArgs = {
        type: fixture.type,
        props,
        urn: urnOf(fixture.type, name),
        name,
        opts: OPTS,
        provider: providerOf(fixture.provider),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    const violations: string[] = [];
    const validations = policy.validateResource;
    const list = Array.isArray(validations) ? validations : validations ? [validations] : [];
    try {
        for (const v of list) {
            await v(args, (message) => violations.push(message));
        }
    } catch (e) {
        if (e instanceof NotApplicable) {
            return { violations, notApplicable: e.reason ?? "" };
        }
        throw e;
    }
    return { violations };
}

/** The messages `policy` reports on `fixture` with `config`, each checked to say Why and Fix. */
export async function explainedViolations(
    policy: ResourceValidationPolicy,
    fixture: Fixture,
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const run = await runResourcePolicy(policy, fixture, config);
    assertExplained(run.violations);
    return run.violations;
}

/** A violation reported by a stack policy. */
export interface StackViolation {
    readonly message: string;
    readonly urn?: string;
    /** The Pulumi name of the resource the URN points at. */
    readonly name?: string;
}

/** Runs a stack policy over resources; each one's props go through the SDK's unknown proxy. */
export async function runStackPolicy(
    policy: StackValidationPolicy,
    fixtures: Fixture[],
    overrides: Record<string, unknown> = {},
    opts: RunOptions = {},
): Promise<StackViolation[]> {
    const config = opts.noConfig ? {} : configFor(policy, overrides);
    const resources: PolicyResource[] = fixtures.map((f, i) => {
        const name = f.name ?? `r${i}`;
        return {
            type: f.type,
            props: unknownCheckingProxy(opts.shareProps ? f.props : structuredClone(f.props)),
            urn: urnOf(f.type, name),
            name,
            opts: OPTS,
            provider: providerOf(f.provider),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        };
    });
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    const out: StackViolation[] = [];
    try {
        await policy.validateStack(args, (message, urn) =>
            out.push({ message, urn, name: urn?.split("::").pop() }),
        );
    } catch (e) {
        if (!(e instanceof NotApplicable)) {
            throw e;
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** Resources that pass every container-level check. */
export const GOOD_RESOURCES = {
    requests: { cpu: "250m", memory: "256Mi" },
    limits: { cpu: "500m", memory: "256Mi" },
};

/** A container securityContext that meets the restricted profile and a read-only root. */
export const HARDENED: Record<string, unknown> = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem: true,
};

/** A pod securityContext that meets the restricted profile. */
export const POD_HARDENED: Record<string, unknown> = {
    runAsNonRoot: true,
    runAsUser: 10001,
    seccompProfile: { type: "RuntimeDefault" },
};

/** A container that passes every check: pinned image, resources, distinct probes. */
export function container(
    name: string,
    extra: Record<string, unknown> = {},
): Record<string, unknown> {
    return {
        name,
        image: "lynckia/licode:v10",
        ports: [{ name: "http", containerPort: 3000 }],
        resources: structuredClone(GOOD_RESOURCES),
        readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 10, failureThreshold: 3 },
        livenessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 10, failureThreshold: 6 },
        ...extra,
    };
}

/** An init container that passes every check (resources, no probes). */
export function initContainer(
    name: string,
    extra: Record<string, unknown> = {},
): Record<string, unknown> {
    return {
        name,
        image: "busybox:1.36",
        command: ["true"],
        resources: structuredClone(GOOD_RESOURCES),
        ...extra,
    };
}

/** Every pod-bearing kind: type token and whether it is long-running. */
export const WORKLOAD_KINDS: ReadonlyArray<{ kind: string; type: string; longRunning: boolean }> = [
    { kind: "Pod", type: "kubernetes:core/v1:Pod", longRunning: true },
    { kind: "Deployment", type: "kubernetes:apps/v1:Deployment", longRunning: true },
    { kind: "StatefulSet", type: "kubernetes:apps/v1:StatefulSet", longRunning: true },
    { kind: "DaemonSet", type: "kubernetes:apps/v1:DaemonSet", longRunning: true },
    { kind: "ReplicaSet", type: "kubernetes:apps/v1:ReplicaSet", longRunning: true },
    {
        kind: "ReplicationController",
        type: "kubernetes:core/v1:ReplicationController",
        longRunning: true,
    },
    { kind: "Job", type: "kubernetes:batch/v1:Job", longRunning: false },
    { kind: "CronJob", type: "kubernetes:batch/v1:CronJob", longRunning: false },
];

/** The same kinds as server-side-apply patches. */
export const PATCH_KINDS = WORKLOAD_KINDS.map((k) => ({
    ...k,
    kind: `${k.kind}Patch`,
    type: `${k.type}Patch`,
}));

/** Options for `workload`. */
export interface WorkloadOptions {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Record<string, unknown>;
    readonly annotations?: Record<string, unknown>;
    readonly replicas?: unknown;
    readonly spec?: Record<string, unknown>;
    readonly workloadSpec?: Record<string, unknown>;
}

/** A resource of `type` whose pod spec is `podSpec` (with the template at the kind's path). */
export function workload(
    type: string,
    podSpec: Record<string, unknown>,
    opts: WorkloadOptions = {},
): Fixture {
    const name = opts.name ?? "licode-nuve";
    const labels = opts.labels ?? { "app.kubernetes.io/name": "nuve" };
    const templateMeta: Record<string, unknown> = { labels };
    if (opts.annotations !== undefined) {
        templateMeta.annotations = opts.annotations;
    }
    const metadata: Record<string, unknown> = { name };
    if (opts.namespace !== undefined) {
        metadata.namespace = opts.namespace;
    }
    const kind = type.split(":")[2].replace(/Patch$/, "");
    const template = { metadata: templateMeta, spec: podSpec };
    const selector = { matchLabels: labels };
    let props: Record<string, unknown>;
    switch (kind) {
        case "Pod":
            props = { metadata: { ...metadata, ...templateMeta }, spec: podSpec };
            break;
        case "Job":
            props = { metadata, spec: { template, ...opts.workloadSpec } };
            break;
        case "CronJob":
            props = {
                metadata,
                spec: {
                    schedule: "0 3 * * *",
                    jobTemplate: { spec: { template } },
                    ...opts.workloadSpec,
                },
            };
            break;
        case "DaemonSet":
            props = { metadata, spec: { selector, template, ...opts.workloadSpec } };
            break;
        case "ReplicationController":
            props = {
                metadata,
                spec: {
                    replicas: opts.replicas ?? 1,
                    selector: labels,
                    template,
                    ...opts.workloadSpec,
                },
            };
            break;
        default: {
            const spec: Record<string, unknown> = { selector, template, ...opts.workloadSpec };
            if (opts.replicas !== undefined) {
                spec.replicas = opts.replicas;
            }
            props = { metadata, spec };
        }
    }
    return { type, props, name };
}

/** A pod spec with the given app containers and optional extras. */
export function podSpec(
    containers: Record<string, unknown>[],
    extra: Record<string, unknown> = {},
): Record<string, unknown> {
    return { containers, ...extra };
}

/** A Deployment of one good container. */
export function goodDeployment(opts: WorkloadOptions = {}): Fixture {
    return workload("kubernetes:apps/v1:Deployment", podSpec([container("nuve")]), opts);
}

/** A path into a JSON value: a dotted string, or keys (for keys that contain dots). */
export type JsonPath = string | readonly string[];

/** Sets `value` at `path` in a copy of `obj` (undefined deletes the key). */
export function setPath<T>(obj: T, path: JsonPath, value: unknown): T {
    const copy = structuredClone(obj) as Record<string, unknown>;
    const keys = typeof path === "string" ? path.split(".") : path;
    let node: Record<string, unknown> = copy;
    for (const key of keys.slice(0, -1)) {
        node = node[key] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (value === undefined) {
        delete node[last];
    } else {
        node[last] = value;
    }
    return copy as T;
}

/** Every path to every value (objects, arrays and leaves) inside a JSON value. */
export function leafPaths(value: unknown, prefix: readonly string[] = []): string[][] {
    const self = prefix.length === 0 ? [] : [[...prefix]];
    if (typeof value === "object" && value !== null) {
        return [
            ...self,
            ...Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k])),
        ];
    }
    return self;
}

/** Asserts exactly one violation per pattern, each matching its pattern, in order. */
export function assertViolations(actual: readonly string[], patterns: readonly RegExp[]): void {
    const shown = actual.map((m, i) => `  [${i}] ${m}`).join("\n");
    if (actual.length !== patterns.length) {
        throw new Error(
            `expected ${patterns.length} violation(s), got ${actual.length}:\n${shown}`,
        );
    }
    patterns.forEach((p, i) => {
        if (!p.test(actual[i])) {
            throw new Error(`violation [${i}] does not match ${p}:\n${shown}`);
        }
    });
}

/** Every violation message says why and how to fix it. */
export function assertExplained(actual: readonly string[]): void {
    for (const m of actual) {
        if (!/\. Why: .+ Fix: .+/.test(m)) {
            throw new Error(`violation lacks "Why:" / "Fix:": ${m}`);
        }
    }
}

/** A ConfigMap or Secret of the stack. */
export function configObject(
    kind: "ConfigMap" | "Secret",
    name: string,
    opts: {
        autonamed?: boolean;
        namespace?: string;
        pulumiName?: string;
        provider?: Fixture["provider"];
    } = {},
): Fixture {
    const metadata: Record<string, unknown> = { name };
    if (opts.autonamed) {
        metadata.annotations = { "pulumi.com/autonamed": "true" };
    }
    if (opts.namespace !== undefined) {
        metadata.namespace = opts.namespace;
    }
    return {
        type: `kubernetes:core/v1:${kind}`,
        props: { metadata, data: { key: "value" } },
        name: opts.pulumiName ?? name,
        provider: opts.provider,
    };
}

/** A Service of the stack. */
export function service(
    name: string,
    spec: Record<string, unknown>,
    opts: { namespace?: string } = {},
): Fixture {
    const metadata: Record<string, unknown> = { name };
    if (opts.namespace !== undefined) {
        metadata.namespace = opts.namespace;
    }
    return { type: "kubernetes:core/v1:Service", props: { metadata, spec }, name };
}

/** A PodDisruptionBudget of the stack. */
export function pdb(
    name: string,
    spec: Record<string, unknown>,
    opts: { namespace?: string; version?: string } = {},
): Fixture {
    const metadata: Record<string, unknown> = { name };
    if (opts.namespace !== undefined) {
        metadata.namespace = opts.namespace;
    }
    return {
        type: `kubernetes:policy/${opts.version ?? "v1"}:PodDisruptionBudget`,
        props: { metadata, spec },
        name,
    };
}

/** A namespaced object of the stack: metadata { name, namespace } plus `rest` (e.g. spec). */
function namespaced(
    type: string,
    name: string,
    rest: Record<string, unknown>,
    namespace: string | undefined,
): Fixture {
    const metadata: Record<string, unknown> = { name };
    if (namespace !== undefined) {
        metadata.namespace = namespace;
    }
    return { type, props: { metadata, ...rest }, name };
}

/** A NetworkPolicy of the stack. */
export function networkPolicy(
    name: string,
    spec: Record<string, unknown>,
    opts: { namespace?: string } = {},
): Fixture {
    return namespaced(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        name,
        { spec },
        opts.namespace,
    );
}

/** An Ingress of the stack. */
export function ingress(
    name: string,
    spec: Record<string, unknown>,
    opts: { namespace?: string } = {},
): Fixture {
    return namespaced("kubernetes:networking.k8s.io/v1:Ingress", name, { spec }, opts.namespace);
}

/** A ServiceAccount of the stack. */
export function serviceAccount(
    name: string,
    props: Record<string, unknown> = {},
    opts: { namespace?: string } = {},
): Fixture {
    return namespaced("kubernetes:core/v1:ServiceAccount", name, props, opts.namespace);
}
