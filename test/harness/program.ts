/**
 * Runs the real program (index.ts) under Pulumi mocks with a given stack config and returns every
 * resource it registered. Each run re-imports the program, so one mocha process can run many configs.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Resource options the tests inspect. */
interface RecordedOptions {
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    /** The update timeout from customTimeouts, e.g. "35m" (empty when unset). */
    readonly updateTimeout: string;
}

/** One resource the program registered. */
export interface StackResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** The inputs, with secrets unwrapped to plain values. */
    readonly props: Record<string, any>;
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    /** How long Pulumi waits for an update of it (customTimeouts.update), or "" for its default. */
    readonly updateTimeout: string;
}

/** What a run produced. */
export interface ProgramRun {
    readonly resources: StackResource[];
    /** Stack outputs, resolved. */
    readonly outputs: Record<string, unknown>;
    /** Names of the stack outputs that are secrets. */
    readonly secretOutputs: string[];
}

/** Thrown when the program fails; says how many resources it had registered by then. */
export class ProgramError extends Error {
    constructor(
        public readonly cause: Error,
        public readonly registered: number,
    ) {
        super(cause.message);
        this.name = "ProgramError";
    }
}

const ROOT = path.resolve(__dirname, "..", "..");
/** The types of the values the program generates (passwords and the superservice ID). */
export const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
export const RANDOM_ID = "random:index/randomId:RandomId";
export const GENERATED_TYPES: readonly string[] = [RANDOM_PASSWORD, RANDOM_ID];

/** The value a generated resource holds: a password's `result`, an ID's `hex`. */
export function generatedValue(resource: { type: string; props: Record<string, any> }): string {
    return resource.type === RANDOM_ID ? resource.props.hex : resource.props.result;
}
const PROJECT = "licode";
/** A kubeconfig path that does not exist, so cluster discovery answers "unknown" in every run. */
export const NO_CLUSTER = path.join(ROOT, "test", "harness", "no-cluster", "kubeconfig");

/** Reads `config:` of Pulumi.<stack>.yaml as `licode:` keys to values. */
export function stackConfig(stack: string): Record<string, unknown> {
    const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
    return parseStackYaml(fs.readFileSync(file, "utf8"));
}

/** Deterministic stand-ins for generated secrets, so tests can look for them in the manifests. */
export function mockSecret(name: string, length = 32): string {
    return createHash("sha256").update(name).digest("hex").slice(0, length);
}

function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    if (type === RANDOM_PASSWORD) {
        // As the random provider: a value that changes only when an input (keepers too) changes.
        const seed = `${name}:${inputs.length}:${JSON.stringify(inputs.keepers ?? {})}`;
        return { ...inputs, result: mockSecret(seed, inputs.length) };
    }
    if (type === RANDOM_ID) {
        const seed = `${name}:${inputs.byteLength}:${JSON.stringify(inputs.keepers ?? {})}`;
        return { ...inputs, hex: mockSecret(seed, inputs.byteLength * 2) };
    }
    if (type.startsWith("kubernetes:") && inputs.metadata !== undefined) {
        if (inputs.metadata.name !== undefined) {
            return inputs;
        }
        // The provider's check autonames objects without a name: the logical name plus a suffix,
        // and an annotation that says so (policies read it to tell autonamed objects apart).
        const metadata = {
            ...inputs.metadata,
            name: `${name}-${mockSecret(name, 8)}`,
            annotations: { ...inputs.metadata.annotations, "pulumi.com/autonamed": "true" },
        };
        return { ...inputs, metadata };
    }
    return inputs;
}

const runs = new Map<string, Promise<ProgramRun>>();

/**
 * Runs index.ts with the given `licode:` config (keys without the prefix) as stack `stack`. The
 * program is deterministic under these mocks, so identical runs are computed once per process.
 */
export function runProgram(
    stack: string,
    config: Record<string, unknown>,
    cluster: ClusterObjects = {},
): Promise<ProgramRun> {
    const key = JSON.stringify([stack, config, cluster]);
    let run = runs.get(key);
    if (run === undefined) {
        // Runs share the global Pulumi runtime, so each starts after the previous one settles.
        run = queue.then(() => runOnce(stack, config, cluster));
        queue = run.catch(() => undefined);
        runs.set(key, run);
    }
    return run;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Objects already in the cluster, which the program reads with `.get` (an operator's Secrets),
 * keyed by type and ID, e.g. `kubernetes:core/v1:Secret licode/mongodb-root`. A read of anything
 * else fails as the provider's would.
 */
export type ClusterObjects = Record<string, Record<string, any>>;

async function runOnce(
    stack: string,
    config: Record<string, unknown>,
    cluster: ClusterObjects,
): Promise<ProgramRun> {
    const created: { type: string; name: string; urn: string; inputs: Record<string, any> }[] = [];
    const options = new Map<string, RecordedOptions>();
    await pulumi.runtime.setMocks(
        {
            newResource: (args: pulumi.runtime.MockResourceArgs) => {
                if (args.id !== undefined && args.id !== "") {
                    // A read (`.get`) of an object the program does not manage.
                    const found = cluster[`${args.type} ${args.id}`];
                    if (found === undefined) {
                        throw new Error(`${args.type} "${args.id}" not found`);
                    }
                    return { id: args.id, state: found };
                }
                const state = mockState(args.type, args.name, args.inputs);
                created.push({ type: args.type, name: args.name, urn: "", inputs: state });
                return { id: `${args.name}-id`, state };
            },
            call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
        },
        PROJECT,
        stack,
        false,
    );
    // The mock monitor does not pass resource options to newResource; record them on the way in.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const settings = require("@pulumi/pulumi/runtime/settings");
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        options.set(`${req.getType()}::${req.getName()}`, {
            protect: req.getProtect() === true,
            retainOnDelete: req.getRetainondelete() === true,
            updateTimeout: req.getCustomtimeouts()?.getUpdate() ?? "",
        });
        return register(req, callback);
    };

    // `metrics.serviceMonitor: auto` asks the cluster of KUBECONFIG; runs under mocks have none,
    // whatever the machine's own kubeconfig holds.
    process.env.KUBECONFIG = NO_CLUSTER;
    delete process.env.KUBERNETES_SERVICE_HOST;

    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        values[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    pulumi.runtime.setAllConfig(values);

    for (const cached of Object.keys(require.cache)) {
        if (
            cached.startsWith(ROOT) &&
            !cached.includes("node_modules") &&
            !cached.includes(`${path.sep}test${path.sep}`)
        ) {
            delete require.cache[cached];
        }
    }
    let program: Record<string, unknown>;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        program = require(path.join(ROOT, "index.ts"));
    } catch (error) {
        await settings.waitForRPCs();
        throw new ProgramError(error as Error, created.length);
    }
    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [key, value] of Object.entries(program)) {
        outputs[key] = await settle(value);
        if (
            pulumi.Output.isInstance(value) &&
            (await (value as unknown as { isSecret: Promise<boolean> }).isSecret)
        ) {
            secretOutputs.push(key);
        }
    }
    await settings.waitForRPCs();
    const registered: Map<string, { urn: string }> = monitor.getRegisteredResources();
    const urns = [...registered.keys()];
    return {
        outputs,
        secretOutputs,
        resources: created.map((resource) => {
            const urn =
                urns.find(
                    (u) =>
                        u.endsWith(`::${resource.type}::${resource.name}`) ||
                        u.endsWith(`$${resource.type}::${resource.name}`),
                ) ?? "";
            const recorded = options.get(`${resource.type}::${resource.name}`);
            return {
                type: resource.type,
                name: resource.name,
                urn,
                props: unwrapSecrets(resource.inputs),
                protect: recorded?.protect ?? false,
                retainOnDelete: recorded?.retainOnDelete ?? false,
                updateTimeout: recorded?.updateTimeout ?? "",
            };
        }),
    };
}

/** Resolves an Output, or a value holding Outputs, to its plain value. */
export function settle(value: unknown): Promise<unknown> {
    // pulumi.output lifts Outputs nested in arrays and objects too.
    const lifted: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<object>);
    return new Promise((resolve) => lifted.apply(resolve));
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function unwrapSecrets(value: any): any {
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (value !== null && typeof value === "object") {
        if (value[SECRET_SIG] !== undefined && "value" in value) {
            return unwrapSecrets(value.value);
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/**
 * A reader for the small YAML subset of our stack files: nested maps, lists of maps or scalars,
 * flow maps `{ a: 1 }` and quoted or plain scalars. It keeps the test suite free of a YAML
 * dependency the program itself does not need.
 */
export function parseStackYaml(text: string): Record<string, unknown> {
    const lines = text
        .split("\n")
        .map((line) => line.replace(/\s+#.*$/, "").replace(/^#.*$/, ""))
        .filter((line) => line.trim() !== "");
    const [root] = parseBlock(lines, 0, 0);
    const config = (root as Record<string, unknown>).config as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        result[key.replace(/^licode:/, "")] = value;
    }
    return result;
}

function indentOf(line: string): number {
    return line.length - line.trimStart().length;
}

function parseBlock(lines: string[], start: number, indent: number): [unknown, number] {
    if (lines[start]?.trimStart().startsWith("- ")) {
        const list: unknown[] = [];
        let index = start;
        while (
            index < lines.length &&
            indentOf(lines[index]) === indent &&
            lines[index].trimStart().startsWith("- ")
        ) {
            const rest = lines[index].trimStart().slice(2);
            if (/^[^"'{[][^:]*:(\s|$)/.test(rest)) {
                // A map item: reparse its first line at the item's inner indent.
                const inner = indent + 2;
                const itemLines = [" ".repeat(inner) + rest];
                let next = index + 1;
                while (next < lines.length && indentOf(lines[next]) >= inner) {
                    itemLines.push(lines[next]);
                    next++;
                }
                list.push(parseBlock(itemLines, 0, inner)[0]);
                index = next;
            } else {
                list.push(parseScalar(rest));
                index++;
            }
        }
        return [list, index];
    }
    const map: Record<string, unknown> = {};
    let index = start;
    while (index < lines.length && indentOf(lines[index]) === indent) {
        const line = lines[index].trim();
        const colon = line.search(/:(\s|$)/);
        const key = unquote(line.slice(0, colon));
        const rest = line.slice(colon + 1).trim();
        if (rest === "") {
            const childIndent = index + 1 < lines.length ? indentOf(lines[index + 1]) : indent;
            const [child, next] = parseBlock(lines, index + 1, childIndent);
            map[key] = child;
            index = next;
        } else {
            map[key] = parseScalar(rest);
            index++;
        }
    }
    return [map, index];
}

function parseScalar(text: string): unknown {
    const trimmed = text.trim();
    if (trimmed.startsWith("{") && trimmed.endsWith("}")) {
        const body = trimmed.slice(1, -1).trim();
        const result: Record<string, unknown> = {};
        if (body === "") {
            return result;
        }
        for (const part of body.split(",")) {
            const colon = part.indexOf(":");
            result[unquote(part.slice(0, colon).trim())] = parseScalar(part.slice(colon + 1));
        }
        return result;
    }
    if (trimmed.startsWith("[") && trimmed.endsWith("]")) {
        const body = trimmed.slice(1, -1).trim();
        return body === "" ? [] : body.split(",").map(parseScalar);
    }
    if (/^".*"$|^'.*'$/.test(trimmed)) {
        return unquote(trimmed);
    }
    if (trimmed === "true" || trimmed === "false") {
        return trimmed === "true";
    }
    if (/^-?\d+(\.\d+)?$/.test(trimmed)) {
        return Number(trimmed);
    }
    return trimmed;
}

function unquote(text: string): string {
    return /^".*"$|^'.*'$/.test(text) ? text.slice(1, -1) : text;
}
