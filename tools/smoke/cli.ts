/**
 * `npm run smoke -- <stack> [options]`: runs the Licode smoke session (session.ts) against a deployed stack and
 * exits 0 when every step passed, 1 when one failed, 2 when the inputs could not be found.
 *
 *   npm run smoke -- prod                       Nuve URL and superservice from `pulumi stack output` of prod
 *   npm run smoke -- prod --from-secret         superservice from the stack's Kubernetes Secret (kubectl),
 *                                               Nuve from its Service (or --nuve-url)
 *   npm run smoke -- --nuve-url URL --service-id ID --service-key KEY
 *
 * Options:
 *   --nuve-url URL        Nuve's URL as clients reach it (ingress URL, or http://<node>:<nodePort>/)
 *   --service-id ID       the superservice ID (stack output `superserviceId`)
 *   --service-key KEY     the superservice key (stack output `superserviceKey`); LICODE_SMOKE_SERVICE_KEY
 *                         in the environment keeps it off the command line
 *   --node-address ADDR   a node address for a nodePort Nuve (default: the first node's, from kubectl)
 *   --from-secret         read the superservice from the Kubernetes Secret, not from Pulumi
 *   --namespace NS        the stack's namespace for --from-secret (default: stack output, else "licode")
 *   --timeout SECONDS     most seconds per step (default 20)
 *   --expect-ready        also require both connections to be ready (media servers without ICE/DTLS only,
 *                         such as the erizoAPI stand-in of the local image)
 *   --insecure-tls        accept the controller's certificate without checking it (self-signed wss://)
 * Pulumi runs through tools/pulumi-env.sh: the stack's passphrase comes from PULUMI_CONFIG_PASSPHRASE(_FILE)
 * (dev and local have a default), the backend from PULUMI_BACKEND_URL (default: the repository's state).
 * kubectl uses KUBECONFIG.
 */
import { execFile } from "child_process";
import * as path from "path";
import { runSmoke } from "./session";

const ROOT = path.resolve(__dirname, "../..");
const USAGE =
    "usage: npm run smoke -- <stack> [options] | --nuve-url URL --service-id ID --service-key KEY";

/** Bad or missing input: exit 2 with the fix. */
class InputError extends Error {}

interface Args {
    stack?: string;
    nuveUrl?: string;
    serviceId?: string;
    serviceKey?: string;
    nodeAddress?: string;
    fromSecret: boolean;
    namespace?: string;
    timeoutSeconds: number;
    expectReady: boolean;
    insecureTls: boolean;
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Args {
    const args: Args = {
        fromSecret: false,
        timeoutSeconds: 20,
        expectReady: false,
        insecureTls: false,
        serviceKey: env.LICODE_SMOKE_SERVICE_KEY,
    };
    const valueOf = (flag: string, value: string | undefined): string => {
        if (value === undefined || value.startsWith("--")) {
            throw new InputError(`${flag} needs a value (${USAGE})`);
        }
        return value;
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] =
            arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
        const take = () => (inline !== undefined ? inline : valueOf(flag, argv[++i]));
        switch (flag) {
            case "--nuve-url":
                args.nuveUrl = take();
                break;
            case "--service-id":
                args.serviceId = take();
                break;
            case "--service-key":
                args.serviceKey = take();
                break;
            case "--node-address":
                args.nodeAddress = take();
                break;
            case "--namespace":
                args.namespace = take();
                break;
            case "--timeout": {
                const seconds = Number(take());
                if (!Number.isFinite(seconds) || seconds <= 0) {
                    throw new InputError(
                        `--timeout must be a positive number of seconds, got ${argv[i]}`,
                    );
                }
                args.timeoutSeconds = seconds;
                break;
            }
            case "--from-secret":
                args.fromSecret = true;
                break;
            case "--expect-ready":
                args.expectReady = true;
                break;
            case "--insecure-tls":
                args.insecureTls = true;
                break;
            default:
                if (flag.startsWith("-")) {
                    throw new InputError(`unknown option ${flag} (${USAGE})`);
                }
                if (args.stack !== undefined) {
                    throw new InputError(
                        `one stack only: got ${args.stack} and ${flag} (${USAGE})`,
                    );
                }
                args.stack = flag;
        }
    }
    if (args.serviceId !== undefined && !/^[0-9a-f]{24}$/.test(args.serviceId)) {
        throw new InputError(
            `--service-id must be a MongoDB ObjectId (24 lower-case hex), got ${args.serviceId}`,
        );
    }
    return args;
}

function run(file: string, argv: readonly string[], what: string): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            file,
            argv,
            { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
            (error, stdout, stderr) => {
                if (error) {
                    reject(new InputError(`${what} failed: ${(stderr || error.message).trim()}`));
                } else {
                    resolve(stdout);
                }
            },
        );
    });
}

/** The outputs of index.ts an operator has after `pulumi up -s <stack>`. */
interface StackOutputs {
    readonly nuveEndpoint?: {
        readonly mode: string;
        readonly url?: string;
        readonly nodePort?: number;
    };
    readonly superserviceId?: string;
    readonly superserviceKey?: string;
    readonly namespaceName?: string;
}

async function stackOutputs(stack: string): Promise<StackOutputs> {
    // A workspace copy, as every script here runs pulumi: stack files are not written in the repository.
    const script = [
        'set -eu; . tools/pulumi-env.sh; licode_passphrase "$1"; ws="$(licode_workspace "$1")"',
        'trap \'rm -rf "$ws"\' EXIT; cd "$ws"; pulumi stack output --stack "$1" --json --show-secrets',
    ].join("\n");
    const text = await run(
        "bash",
        ["-c", script, "smoke", stack],
        `pulumi stack output of ${stack}`,
    );
    return JSON.parse(text) as StackOutputs;
}

async function kubectlJson(
    args: readonly string[],
    what: string,
): Promise<Record<string, unknown>> {
    return JSON.parse(await run("kubectl", [...args, "-o", "json"], `kubectl (${what})`)) as Record<
        string,
        unknown
    >;
}

interface KubeList<T> {
    readonly items: readonly T[];
}

async function nodeAddress(): Promise<string> {
    const nodes = (await kubectlJson(["get", "nodes"], "a node address")) as unknown as KubeList<{
        status?: { addresses?: ReadonlyArray<{ type: string; address: string }> };
    }>;
    for (const type of ["ExternalIP", "InternalIP"]) {
        for (const node of nodes.items) {
            const found = node.status?.addresses?.find((a) => a.type === type);
            if (found !== undefined) {
                return found.address;
            }
        }
    }
    throw new InputError(
        "no node has an ExternalIP or InternalIP: give --node-address or --nuve-url",
    );
}

function hostUrl(address: string, port: number): string {
    return `http://${address.includes(":") ? `[${address}]` : address}:${port}/`;
}

async function secretCredentials(
    namespace: string,
    instance: string,
): Promise<{ serviceId: string; serviceKey: string }> {
    const selector = `app.kubernetes.io/name=superservice-bootstrap,app.kubernetes.io/instance=${instance}`;
    const secrets = (await kubectlJson(
        ["get", "secrets", "-n", namespace, "-l", selector],
        `the superservice Secret in ${namespace}`,
    )) as unknown as KubeList<{ data?: Record<string, string> }>;
    const data = secrets.items[0]?.data;
    if (data?.id === undefined || data.key === undefined) {
        throw new InputError(
            `no Secret labelled ${selector} with keys id and key in namespace ${namespace}: check --namespace`,
        );
    }
    const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");
    return { serviceId: decode(data.id), serviceKey: decode(data.key) };
}

async function nuveFromService(
    namespace: string,
    instance: string,
    address?: string,
): Promise<string> {
    const selector = `app.kubernetes.io/name=nuve,app.kubernetes.io/instance=${instance}`;
    const services = (await kubectlJson(
        ["get", "services", "-n", namespace, "-l", selector],
        `the Nuve Service in ${namespace}`,
    )) as unknown as KubeList<{
        spec?: { type?: string; ports?: ReadonlyArray<{ nodePort?: number }> };
    }>;
    const nodePort = services.items
        .filter((s) => s.spec?.type === "NodePort")
        .flatMap((s) => s.spec?.ports ?? [])
        .find((p) => p.nodePort !== undefined)?.nodePort;
    if (nodePort === undefined) {
        throw new InputError(
            `Nuve in ${namespace} has no NodePort Service: give --nuve-url (its ingress URL)`,
        );
    }
    return hostUrl(address ?? (await nodeAddress()), nodePort);
}

/** Fills in what the flags left out, from the stack's outputs or its Kubernetes objects. */
export async function resolveInputs(
    args: Args,
): Promise<{ nuveUrl: string; serviceId: string; serviceKey: string }> {
    let { nuveUrl, serviceId, serviceKey } = args;
    const complete = () =>
        nuveUrl !== undefined && serviceId !== undefined && serviceKey !== undefined;
    if (!complete() && args.stack === undefined) {
        const missing = [
            nuveUrl === undefined ? "--nuve-url" : "",
            serviceId === undefined ? "--service-id" : "",
            serviceKey === undefined ? "--service-key (or LICODE_SMOKE_SERVICE_KEY)" : "",
        ].filter(Boolean);
        throw new InputError(
            `missing ${missing.join(", ")}: give them, or a stack name (${USAGE})`,
        );
    }
    if (!complete() && args.stack !== undefined) {
        const instance = `licode-${args.stack}`;
        if (args.fromSecret) {
            const namespace = args.namespace ?? "licode";
            if (serviceId === undefined || serviceKey === undefined) {
                const fromSecret = await secretCredentials(namespace, instance);
                serviceId ??= fromSecret.serviceId;
                serviceKey ??= fromSecret.serviceKey;
            }
            nuveUrl ??= await nuveFromService(namespace, instance, args.nodeAddress);
        } else {
            const outputs = await stackOutputs(args.stack);
            serviceId ??= outputs.superserviceId;
            serviceKey ??= outputs.superserviceKey;
            const endpoint = outputs.nuveEndpoint;
            if (
                nuveUrl === undefined &&
                endpoint?.mode === "ingress" &&
                endpoint.url !== undefined
            ) {
                nuveUrl = endpoint.url;
            } else if (
                nuveUrl === undefined &&
                endpoint?.mode === "nodePort" &&
                endpoint.nodePort !== undefined
            ) {
                nuveUrl = hostUrl(args.nodeAddress ?? (await nodeAddress()), endpoint.nodePort);
            }
            if (nuveUrl === undefined || serviceId === undefined || serviceKey === undefined) {
                throw new InputError(
                    `stack ${args.stack} has no nuveEndpoint/superserviceId/superserviceKey outputs: has it been deployed (pulumi up -s ${args.stack})?`,
                );
            }
        }
    }
    return { nuveUrl: nuveUrl!, serviceId: serviceId!, serviceKey: serviceKey! };
}

async function main(): Promise<number> {
    let inputs: { nuveUrl: string; serviceId: string; serviceKey: string };
    let args: Args;
    try {
        args = parseArgs(process.argv.slice(2), process.env);
        inputs = await resolveInputs(args);
    } catch (error) {
        if (error instanceof InputError) {
            process.stderr.write(`smoke: ${error.message}\n`);
            return 2;
        }
        throw error;
    }
    process.stdout.write(
        `Licode smoke test: Nuve ${inputs.nuveUrl}, superservice ${inputs.serviceId}` +
            `${args.stack === undefined ? "" : `, stack ${args.stack}`}\n`,
    );
    const result = await runSmoke({
        nuveUrl: inputs.nuveUrl,
        credentials: { serviceId: inputs.serviceId, serviceKey: inputs.serviceKey },
        timeoutMs: args.timeoutSeconds * 1000,
        expectReady: args.expectReady,
        insecureTls: args.insecureTls,
        report: (line) => process.stdout.write(`${line}\n`),
    });
    const failed = result.steps.filter((step) => step.status !== "pass").length;
    process.stdout.write(
        result.ok
            ? `smoke: all ${result.steps.length} steps passed\n`
            : `smoke: ${failed} of ${result.steps.length} steps did not pass\n`,
    );
    return result.ok ? 0 : 1;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(
                `smoke: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
            );
            process.exit(1);
        },
    );
}
