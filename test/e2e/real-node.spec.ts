// End to end on real nodes: the `local` stack deployed with the policy pack onto a cluster of its own
// whose five nodes run containerd and kubelets (tools/node), with Licode v10 built from its source,
// RabbitMQ from Debian, the MongoDB-wire stand-in and coturn (tools/images, imported by digest), and a
// Licode client (tools/smoke) making sessions through it. The cluster has its own state dir, ports
// (defaults + 400), node addresses (10.201.0.x), pod range and device prefix, so it runs beside a demo
// cluster, the kwok e2e suite and test:node. Cases, in order (each starts from the state the one
// before left):
//   a. pulumi up: every workload Ready by the kubelet's own probes, init containers and the bootstrap
//      Job done, no restart, every image by digest and already on its node;
//   b. a client session (room, tokens, join, publish, subscribe, stats, delete), and ROV's /metrics
//      read through its NetworkPolicy by a scraper pod, refused to an unlabelled one;
//   c. every container's securityContext, checked from inside the running container;
//   d. NetworkPolicy: MongoDB and RabbitMQ refuse an unlabelled pod and admit the tiers that use them;
//   e. a config change rolls the Licode tiers while a client is connected: what must hold is asserted,
//      what the client saw and what the drains did is printed (the drains are being reworked);
//   f. pulumi destroy removes everything, and cluster down leaves nothing on the host.
// Needs root (it fails, not skips, without). LICODE_E2E_KEEP=1 keeps the temporary directory.

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { LICODE } from "../../components/images";
import { runSmoke } from "../../tools/smoke/session";
import { NuveClient } from "../../tools/smoke/nuve";
import { tokenSignedWith } from "../../tools/smoke/token";
import { HostSnapshot, hostSnapshot } from "../node/lib";
import {
    KObject,
    ROOT,
    RunResult,
    StackConfig,
    clusterDown,
    clusterUp,
    exists,
    explain,
    exportStack,
    getJson,
    initStack,
    killLeftovers,
    kubectl,
    podsByTier,
    policyArgs,
    pulumi,
    readConfig,
    sleep,
    waitReady,
    writeConfig,
} from "./lib";
import {
    ClusterNode,
    ContainerLike,
    ContainerStatus,
    JoinAttempt,
    LocalImage,
    LogFollower,
    PodRecord,
    PodSpecLike,
    PodTimeline,
    RealNodeSuite,
    SECURITY_PROBE,
    buildAndImportImages,
    clusterNodes,
    configForNodes,
    createRealNodeSuite,
    diagnose,
    digestOf,
    execIn,
    expectedSecurity,
    failedPreStopHooks,
    gauge,
    holdPublisher,
    hostBoundingSet,
    hostLeftovers,
    httpGetFrom,
    joinOnce,
    kubectlFor,
    parseConfig,
    parseSecurityProbe,
    requireRoot,
    securityMismatches,
    tcpOpens,
    waitUntil,
    withDigests,
} from "./real-node-lib";

const STACK = "local";
const INSTANCE = `licode-${STACK}`;
/** Most milliseconds one client request may take. */
const CLIENT_TIMEOUT_MS = 30_000;
/** What a controller's drain helper says once Nuve's registry holds its controller full. */
const HOLDING_FULL = /\[controller-registry\] controller \S+ takes no new rooms/;

/** The stack outputs the cases read (index.ts exports them). */
interface StackOutputs {
    readonly superserviceId: string;
    readonly superserviceKey: string;
    readonly nuveEndpoint: { readonly mode: string; readonly nodePort?: number };
}

/** A pod as the cases read it. */
interface Pod extends KObject {
    spec: PodSpecLike & {
        nodeName?: string;
        initContainers?: (ContainerLike & Record<string, unknown>)[];
        containers: (ContainerLike & Record<string, unknown>)[];
        [key: string]: unknown;
    };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("e2e: the local stack on real nodes (containerd and kubelets, Licode built here)", function () {
    let suite: RealNodeSuite | undefined;
    let clusterStarted = false;
    let baseline: HostSnapshot;
    let nodes: ClusterNode[] = [];
    let images: LocalImage[] = [];
    /** The stack config as deployed by case a. */
    let config: StackConfig;
    let namespace = "";
    let deployed = false;
    /** The probe pods of cases b and d (created once): one the scraper rule admits, one no rule names. */
    let probes: Promise<{ scraper: string; unlabelled: string }> | undefined;
    const phases: [string, number][] = [];
    const cleanups: (() => void)[] = [];

    /** Runs a phase, printing and keeping its duration. */
    async function phase<T>(name: string, body: () => Promise<T>): Promise<T> {
        const started = Date.now();
        try {
            return await body();
        } finally {
            const ms = Date.now() - started;
            phases.push([name, ms]);
            console.log(`      [real-node] ${name}: ${seconds(ms)}`);
        }
    }

    function ours(): RealNodeSuite {
        assert.ok(suite !== undefined, "the suite's before hook did not finish");
        return suite;
    }

    function requireDeployed(): RealNodeSuite {
        assert.ok(deployed, "case a did not deploy the stack, so this case cannot run");
        return ours();
    }

    async function stackOutputs(): Promise<StackOutputs> {
        const result = await pulumi(ours(), [
            "stack",
            "output",
            "--json",
            "--show-secrets",
            "--stack",
            STACK,
        ]);
        assert.strictEqual(result.status, 0, explain("pulumi stack output", result));
        return JSON.parse(result.stdout) as StackOutputs;
    }

    /** Nuve's NodePort on a node address, and the superservice, from the stack's outputs. */
    async function nuveAccess(): Promise<{ url: string; serviceId: string; serviceKey: string }> {
        const outputs = await stackOutputs();
        assert.strictEqual(
            outputs.nuveEndpoint.mode,
            "nodePort",
            "the local stack serves Nuve on a NodePort",
        );
        return {
            url: `http://${nodes[0].address}:${outputs.nuveEndpoint.nodePort}/`,
            serviceId: outputs.superserviceId,
            serviceKey: outputs.superserviceKey,
        };
    }

    async function up(stackConfig: StackConfig, timeoutSeconds = 900): Promise<RunResult> {
        writeConfig(ours(), STACK, stackConfig);
        return pulumi(
            ours(),
            [
                "up",
                "--yes",
                "--skip-preview",
                "--non-interactive",
                "--stack",
                STACK,
                ...policyArgs("local"),
            ],
            { timeoutSeconds },
        );
    }

    async function pods(): Promise<Pod[]> {
        return (await getJson(ours(), ["pods", "-n", namespace])).items as Pod[];
    }

    /** The Service of a tier (selected by its name label) and one of its ports by name. */
    async function servicePort(
        tier: string,
        portName?: string,
    ): Promise<{ host: string; port: number }> {
        // A tier's ClusterIP Service if it has one (RabbitMQ also has a headless one), else its
        // headless Service (MongoDB).
        const selecting = (await getJson(ours(), ["services", "-n", namespace])).items.filter(
            (svc) => svc.spec.selector?.["app.kubernetes.io/name"] === tier,
        );
        const service = selecting.find((svc) => svc.spec.clusterIP !== "None") ?? selecting[0];
        assert.ok(service !== undefined, `no Service selects the ${tier} pods in ${namespace}`);
        const ports = service.spec.ports as { name?: string; port: number }[];
        const port = portName === undefined ? ports[0] : ports.find((p) => p.name === portName);
        assert.ok(
            port !== undefined,
            `Service ${service.metadata.name} has no port named ${portName} (${ports.map((p) => p.name).join(", ")})`,
        );
        return { host: service.metadata.name, port: port.port };
    }

    /** A pod that runs the Licode image's bash as nobody, doing nothing: the client of the probes. */
    function probePod(name: string, labels: Record<string, string>): string {
        const licode = images.find((i) => i.configKey === "licode:image.digest");
        assert.ok(licode !== undefined, "local-stack.sh built no licode:image");
        return JSON.stringify({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, namespace, labels },
            spec: {
                terminationGracePeriodSeconds: 1,
                automountServiceAccountToken: false,
                securityContext: {
                    runAsUser: 65534,
                    runAsGroup: 65534,
                    runAsNonRoot: true,
                    seccompProfile: { type: "RuntimeDefault" },
                },
                containers: [
                    {
                        name: "probe",
                        image: `${licode.ref}@${licode.digest}`,
                        imagePullPolicy: "IfNotPresent",
                        command: ["sleep", "infinity"],
                        securityContext: {
                            allowPrivilegeEscalation: false,
                            capabilities: { drop: ["ALL"] },
                            readOnlyRootFilesystem: true,
                        },
                        resources: {
                            requests: { cpu: "10m", memory: "16Mi" },
                            limits: { cpu: "100m", memory: "64Mi" },
                        },
                    },
                ],
            },
        });
    }

    async function waitPodsReady(names: readonly string[], timeoutSeconds = 180): Promise<void> {
        await waitUntil(
            `pods ${names.join(", ")} Ready`,
            timeoutSeconds,
            async () => {
                const all = await pods();
                return names.every((n) =>
                    all.some(
                        (p) =>
                            p.metadata.name === n &&
                            (p.status?.conditions ?? []).some(
                                (c: { type: string; status: string }) =>
                                    c.type === "Ready" && c.status === "True",
                            ),
                    ),
                )
                    ? true
                    : undefined;
            },
            () => diagnose(ours(), namespace, names),
        );
    }

    /** Creates the probe pods once; the scraper carries the labels the stack's ROV policy admits. */
    function ensureProbePods(): Promise<{ scraper: string; unlabelled: string }> {
        probes ??= (async () => {
            const scraperLabels = parseConfig(config).metrics.scraper;
            // The stack's scraper rule may also name namespace labels: then the scraper would have
            // to run in such a namespace. The local stack names none (any namespace).
            assert.strictEqual(
                scraperLabels.namespaceLabels,
                undefined,
                "metrics.scraper.namespaceLabels is set: this case runs its scraper in the stack's namespace",
            );
            const names = { scraper: "real-node-scraper", unlabelled: "real-node-unlabelled" };
            for (const [name, labels] of [
                [names.scraper, { ...scraperLabels.podLabels }],
                [names.unlabelled, {}],
            ] as const) {
                const applied = await kubectl(ours(), ["apply", "-f", "-"], probePod(name, labels));
                assert.strictEqual(
                    applied.status,
                    0,
                    explain(`kubectl apply pod ${name}`, applied),
                );
            }
            await waitPodsReady([names.scraper, names.unlabelled]);
            return names;
        })();
        return probes;
    }

    before(async function () {
        this.timeout(120 * 60_000); // a cold cache builds the node binaries and every image
        requireRoot();
        suite = createRealNodeSuite();
        const s = suite;
        baseline = hostSnapshot();
        await phase("cluster up (control plane and real nodes)", async () => {
            clusterStarted = true;
            const started = await clusterUp(s);
            assert.strictEqual(started.status, 0, explain("cluster.sh up", started));
        });
        nodes = await clusterNodes(s);
        const runtimes = (await getJson(s, ["nodes"])).items.map(
            (n) => `${n.metadata.name}: ${n.status?.nodeInfo?.containerRuntimeVersion}`,
        );
        const wanted = ["SIGNALLING", "MEDIA", "GENERAL"]
            .map((kind) => Number(s.clusterEnv[`LICODE_CLUSTER_${kind}_NODES`]))
            .reduce((a, b) => a + b, 0);
        assert.ok(
            nodes.length === wanted && runtimes.every((r) => /: containerd:\/\//.test(r)),
            `expected ${wanted} real nodes (containerd), got:\n${runtimes.join("\n")}`,
        );
        images = await phase("images built (cached) and imported into every node", () =>
            buildAndImportImages(s),
        );
        fs.copyFileSync(
            path.join(ROOT, "Pulumi.local.yaml"),
            path.join(s.workspace, `Pulumi.${STACK}.yaml`),
        );
        await initStack(s, STACK);
        const { config: forNodes, derived } = configForNodes(
            await readConfig(s, STACK),
            nodes,
            path.join(s.dir, "mongodb-data"),
        );
        config = withDigests(forNodes, images);
        // The program's own schema: bad derived values fail here, naming the key.
        namespace = parseConfig(config).namespace;
        console.log(
            `      [real-node] nodes: ${nodes.map((n) => `${n.name}=${n.address}`).join(" ")}\n` +
                `      [real-node] config for these nodes: ${JSON.stringify(derived)}\n` +
                `      [real-node] images: ${images.map((i) => `${i.configKey}=${i.digest.slice(0, 19)}…`).join(" ")}`,
        );
    });

    after(async function () {
        this.timeout(10 * 60_000);
        for (const cleanup of cleanups) {
            cleanup();
        }
        if (suite === undefined) {
            return;
        }
        await killLeftovers(suite);
        const down = clusterStarted ? await clusterDown(suite) : undefined;
        clusterStarted = false;
        console.log(
            `      [real-node] phases:\n${phases.map(([name, ms]) => `        ${seconds(ms).padStart(8)}  ${name}`).join("\n")}`,
        );
        if (process.env.LICODE_E2E_KEEP) {
            console.log(`      [real-node] files kept in ${suite.dir}`);
        } else {
            fs.rmSync(suite.dir, { recursive: true, force: true });
        }
        if (down !== undefined) {
            assert.strictEqual(down.status, 0, explain("cluster.sh down", down));
        }
    });

    it("a. pulumi up with the policy pack: every workload Ready by the kubelet's probes, init containers and the bootstrap Job done, no restarts, every image by digest and already on its node", async function () {
        this.timeout(30 * 60_000);
        const s = ours();
        const result = await phase("pulumi up (from empty)", () => up(config));
        if (result.status !== 0) {
            assert.fail(`${explain("pulumi up", result)}\n${await diagnose(s, namespace)}`);
        }
        deployed = true;

        const ready = await waitReady(s, namespace, 120);
        if (ready.problems.length > 0) {
            assert.fail(
                `not Ready:\n${ready.problems.join("\n")}\n${await diagnose(s, namespace)}`,
            );
        }
        // Every tier the config turns on has a workload (selected by its name label).
        const parsed = parseConfig(config);
        const workloads = (
            await getJson(s, [
                "deployments.apps,statefulsets.apps,daemonsets.apps,jobs.batch",
                "-n",
                namespace,
            ])
        ).items;
        const tiersRunning = new Set(
            workloads.map((w) => w.metadata.labels?.["app.kubernetes.io/name"] ?? "?"),
        );
        const tiersWanted = [
            "nuve",
            "erizo-controller",
            "erizo-agent",
            "mongodb",
            "rabbitmq",
            "superservice-bootstrap",
            ...(parsed.metrics.enabled ? ["rov"] : []),
            ...(parsed.turn.enabled ? ["turn"] : []),
        ];
        assert.deepStrictEqual(
            tiersWanted.filter((t) => !tiersRunning.has(t)),
            [],
            `workloads: ${workloads.map((w) => `${w.kind}/${w.metadata.name}`).join(", ")}`,
        );

        const problems: string[] = [];
        const troubled = new Set<string>();
        const digests = new Set(images.map((i) => i.digest));
        const events = (await getJson(s, ["events", "-n", namespace])).items as (KObject & {
            reason: string;
            message: string;
            involvedObject: { name: string; fieldPath?: string };
        })[];
        for (const pod of await pods()) {
            const name = pod.metadata.name;
            const problem = (text: string) => {
                problems.push(`${name}: ${text}`);
                troubled.add(name);
            };
            const job = pod.metadata.ownerReferences?.some((o) => o.kind === "Job") ?? false;
            const specs = [
                ...(pod.spec.initContainers ?? []).map((c) => ({ c, init: true })),
                ...pod.spec.containers.map((c) => ({ c, init: false })),
            ];
            const statuses = [
                ...((pod.status?.initContainerStatuses ?? []) as ContainerStatus[]),
                ...((pod.status?.containerStatuses ?? []) as ContainerStatus[]),
            ];
            for (const { c, init } of specs) {
                const status = statuses.find((st) => st.name === c.name);
                const where = `${init ? "init container" : "container"} ${c.name}`;
                if (status === undefined) {
                    problem(`${where} has no status`);
                    continue;
                }
                if (status.restartCount !== 0) {
                    problem(`${where} restarted ${status.restartCount} time(s)`);
                }
                if (init || job) {
                    if (status.state.terminated?.exitCode !== 0) {
                        problem(
                            `${where} did not end with exit 0: ${JSON.stringify(status.state)}`,
                        );
                    }
                } else {
                    if (c.readinessProbe === undefined) {
                        problem(
                            `${where} has no readinessProbe: its Ready is not the kubelet's probe`,
                        );
                    }
                    if (status.ready !== true || status.state.running === undefined) {
                        problem(
                            `${where} is not running and Ready: ${JSON.stringify(status.state)}`,
                        );
                    }
                }
                const digest = digestOf(c.image);
                if (digest === undefined || !digests.has(digest)) {
                    problem(`${where} runs ${c.image}, not an image built here by digest`);
                } else if (!status.imageID.endsWith(`@${digest}`)) {
                    problem(`${where} runs image ${status.imageID}, its spec names ${digest}`);
                }
                const fieldPath = `spec.${init ? "initContainers" : "containers"}{${c.name}}`;
                const pulled = events.filter(
                    (e) =>
                        e.involvedObject.name === name && e.involvedObject.fieldPath === fieldPath,
                );
                if (
                    !pulled.some(
                        (e) =>
                            e.reason === "Pulled" && /already present on machine/.test(e.message),
                    )
                ) {
                    problem(
                        `${where}: no "already present on machine" event (events: ${pulled.length === 0 ? "none" : pulled.map((e) => `${e.reason}: ${e.message}`).join("; ")})`,
                    );
                }
            }
        }
        for (const e of events.filter(
            (ev) => ev.reason === "Pulling" || /ErrImagePull|ImagePullBackOff/.test(ev.reason),
        )) {
            problems.push(`${e.involvedObject.name}: ${e.reason}: ${e.message}`);
            troubled.add(e.involvedObject.name);
        }
        if (problems.length > 0) {
            assert.fail(`${problems.join("\n")}\n${await diagnose(s, namespace, [...troubled])}`);
        }
    });

    it("b. a Licode client makes a session (room, tokens, join, publish and subscribe answered by ErizoJS, stats, delete); meanwhile ROV's /metrics, read through its NetworkPolicy by a scraper pod, counts the room and the publisher, and an unlabelled pod cannot read it", async function () {
        this.timeout(15 * 60_000);
        const s = requireDeployed();
        const nuve = await nuveAccess();
        const probe = await phase("probe pods Ready", () => ensureProbePods());
        const rov = await servicePort("rov", "metrics");
        const nuveService = await servicePort("nuve");
        const statsPeriod = parseConfig(config).metrics.statsPeriod;
        const prefix = LICODE.rov.defaults.statsPrefix;
        const lines: string[] = [];
        const result = await phase("client session with ROV checks", () =>
            runSmoke({
                nuveUrl: nuve.url,
                credentials: { serviceId: nuve.serviceId, serviceKey: nuve.serviceKey },
                timeoutMs: CLIENT_TIMEOUT_MS,
                expectReady: true,
                report: (line) => lines.push(line),
                whileConnected: async () => {
                    // ROV asks the tiers every statsPeriod seconds (rovMetricsGatherer.js): wait
                    // for a round that saw the session. The scraper's first packets may race the
                    // policy enforcer learning its address, so it is polled too.
                    let last = "";
                    const counts = await waitUntil(
                        `ROV's ${LICODE.rov.metricsPath} (read by ${probe.scraper}) to count a room and a publisher`,
                        3 * statsPeriod + 60,
                        async () => {
                            const got = await httpGetFrom(
                                s,
                                namespace,
                                probe.scraper,
                                "probe",
                                rov.host,
                                rov.port,
                                LICODE.rov.metricsPath,
                            );
                            const rooms = gauge(got.body, `${prefix}active_rooms`);
                            const publishers = gauge(got.body, `${prefix}total_publishers`);
                            last = `${got.detail}; ${prefix}active_rooms ${rooms}, ${prefix}total_publishers ${publishers}`;
                            return got.status === 200 && (rooms ?? 0) >= 1 && (publishers ?? 0) >= 1
                                ? { rooms, publishers }
                                : undefined;
                        },
                        async () =>
                            `last answer: ${last}\n${await diagnose(s, namespace, [probe.scraper])}`,
                        2000,
                    );
                    // The unlabelled pod has a network (Nuve's port is open to everyone), so a
                    // refusal of /metrics is the policy's.
                    await waitUntil(
                        `${probe.unlabelled} to reach Nuve (${nuveService.host}:${nuveService.port})`,
                        60,
                        async () =>
                            (
                                await tcpOpens(
                                    s,
                                    namespace,
                                    probe.unlabelled,
                                    "probe",
                                    nuveService.host,
                                    nuveService.port,
                                )
                            ).open
                                ? true
                                : undefined,
                    );
                    const refused = await httpGetFrom(
                        s,
                        namespace,
                        probe.unlabelled,
                        "probe",
                        rov.host,
                        rov.port,
                        LICODE.rov.metricsPath,
                    );
                    assert.strictEqual(
                        refused.status,
                        undefined,
                        `${probe.unlabelled} (no labels) read ROV's /metrics: ${refused.detail}`,
                    );
                    return `ROV counts ${counts.rooms} room(s), ${counts.publishers} publisher(s) (read by ${probe.scraper}); ${probe.unlabelled}: ${refused.detail}`;
                },
            }),
        );
        console.log(lines.map((l) => `        ${l}`).join("\n"));
        if (!result.ok) {
            assert.fail(
                `the session failed:\n${lines.join("\n")}\n${await diagnose(s, namespace)}`,
            );
        }
        for (const step of [
            "publish offer answered by ErizoJS",
            "publish connection ready",
            "subscribe answered",
            "stream stats",
            "checks while connected",
            "delete room",
        ]) {
            assert.ok(
                result.steps.some((r) => r.name === step && r.status === "pass"),
                `no passing step "${step}":\n${lines.join("\n")}`,
            );
        }
    });

    it("c. every container's securityContext holds inside it: user, groups, capabilities, no_new_privs, seccomp, read-only root", async function () {
        this.timeout(15 * 60_000);
        const s = requireDeployed();
        const bounding = hostBoundingSet();
        const userOf = (image: string) => {
            const found = images.find((i) => i.digest === digestOf(image));
            assert.ok(found !== undefined, `${image} is not one of the images built here`);
            return found.user;
        };
        const probeNames = new Set(["real-node-scraper", "real-node-unlabelled"]);
        const all = (await pods()).filter((p) => !probeNames.has(p.metadata.name));
        const rows: string[] = [];
        const problems: string[] = [];

        const judge = (where: string, pod: Pod, container: ContainerLike, output: string) => {
            const seen = parseSecurityProbe(output);
            const expected = expectedSecurity(
                pod.spec,
                container,
                userOf(container.image),
                seen,
                bounding,
            );
            const mismatches = securityMismatches(expected, seen);
            rows.push(
                `${mismatches.length === 0 ? "ok  " : "FAIL"} ${where}: uid ${seen.uid} gid ${seen.gid} groups ${seen.groups.join(",")} ` +
                    `CapEff 0x${seen.capEff.toString(16)} NoNewPrivs ${seen.noNewPrivs} Seccomp ${seen.seccomp} / ${seen.rootMount} write ${seen.rootWrite} ` +
                    `(${expected.sources.join("; ")})`,
            );
            problems.push(...mismatches.map((m) => `${where}: ${m}`));
        };

        // Running containers: the probe runs in the container itself.
        await phase("security probes in every running container", () =>
            Promise.all(
                all
                    .filter((p) => p.status?.phase === "Running")
                    .flatMap((pod) =>
                        pod.spec.containers.map(async (c) => {
                            const where = `${pod.metadata.name}/${c.name}`;
                            const ran = await execIn(
                                s,
                                namespace,
                                pod.metadata.name,
                                c.name,
                                SECURITY_PROBE,
                            );
                            if (ran.status !== 0) {
                                problems.push(
                                    `${where}: the probe failed: ${explain("kubectl exec", ran)}`,
                                );
                                return;
                            }
                            judge(where, pod, c, ran.stdout);
                        }),
                    ),
            ),
        );

        // Init containers and the bootstrap Job's container have exited: nothing can be exec'd in
        // them. Each runs again here as a pod of its own with the same image, pod securityContext and
        // container securityContext, the probe as its command: the same kubelet and runtime turn
        // the same spec into a process, which is what is checked. Their own runs are case a's
        // (terminated with exit 0).
        const exited = all.flatMap((pod) => [
            ...(pod.spec.initContainers ?? []).map((c) => ({ pod, c, kind: "init" })),
            ...(pod.status?.phase === "Succeeded"
                ? pod.spec.containers.map((c) => ({ pod, c, kind: "job" }))
                : []),
        ]);
        const mirrors = exited.map(({ pod, c, kind }, i) => ({
            name: `real-node-mirror-${i}`,
            where: `${pod.metadata.name}/${c.name} (${kind}, as real-node-mirror-${i})`,
            pod,
            c,
        }));
        await phase(
            `security probes in ${mirrors.length} copies of exited containers`,
            async () => {
                for (const m of mirrors) {
                    const manifest = {
                        apiVersion: "v1",
                        kind: "Pod",
                        metadata: { name: m.name, namespace },
                        spec: {
                            restartPolicy: "Never",
                            automountServiceAccountToken: false,
                            terminationGracePeriodSeconds: 1,
                            securityContext: m.pod.spec.securityContext,
                            containers: [
                                {
                                    name: m.c.name,
                                    image: m.c.image,
                                    imagePullPolicy: "IfNotPresent",
                                    command: ["bash", "-c", SECURITY_PROBE],
                                    securityContext: m.c.securityContext,
                                    resources: m.c.resources,
                                },
                            ],
                        },
                    };
                    const applied = await kubectl(
                        s,
                        ["apply", "-f", "-"],
                        JSON.stringify(manifest),
                    );
                    assert.strictEqual(
                        applied.status,
                        0,
                        explain(`kubectl apply ${m.name}`, applied),
                    );
                }
                for (const m of mirrors) {
                    await waitUntil(
                        `${m.name} to finish`,
                        180,
                        async () => {
                            const phaseNow = (
                                await getJson<KObject>(s, ["pod", m.name, "-n", namespace])
                            ).status?.phase;
                            return phaseNow === "Succeeded" || phaseNow === "Failed"
                                ? phaseNow
                                : undefined;
                        },
                        () => diagnose(s, namespace, [m.name]),
                    );
                    const logs = await kubectlFor(s, ["-n", namespace, "logs", m.name], 60);
                    if (logs.status !== 0 || !/^uid=/m.test(logs.stdout)) {
                        problems.push(
                            `${m.where}: no probe output: ${explain("kubectl logs", logs)}`,
                        );
                        continue;
                    }
                    judge(m.where, m.pod, m.c, logs.stdout);
                }
                const deleted = await kubectl(s, [
                    "delete",
                    "pod",
                    "-n",
                    namespace,
                    "--wait=true",
                    ...mirrors.map((m) => m.name),
                ]);
                assert.strictEqual(
                    deleted.status,
                    0,
                    explain("kubectl delete the copies", deleted),
                );
            },
        );
        console.log(
            rows
                .sort()
                .map((r) => `        ${r}`)
                .join("\n"),
        );
        assert.deepStrictEqual(
            problems,
            [],
            `containers differ from their securityContext:\n${problems.join("\n")}`,
        );
        const running = all
            .filter((p) => p.status?.phase === "Running")
            .reduce((n, p) => n + p.spec.containers.length, 0);
        assert.strictEqual(
            rows.length,
            running + mirrors.length,
            `checked ${rows.length} containers; the namespace has ${running} running and ${mirrors.length} exited`,
        );
    });

    it("d. NetworkPolicy: an unlabelled pod cannot reach MongoDB or RabbitMQ (AMQP, management); Nuve reaches both, the controllers and agents (host network) reach RabbitMQ", async function () {
        this.timeout(10 * 60_000);
        const s = requireDeployed();
        const probe = await ensureProbePods();
        const mongo = await servicePort("mongodb");
        const amqp = await servicePort("rabbitmq", "amqp");
        const management = await servicePort("rabbitmq", "management");
        const nuveService = await servicePort("nuve");
        const running = await pods();
        const tierPods = (tier: string) =>
            running.filter(
                (p) =>
                    p.metadata.labels?.["app.kubernetes.io/name"] === tier &&
                    p.status?.phase === "Running",
            );
        const rows: string[] = [];
        const problems: string[] = [];
        const expect = async (
            pod: string,
            container: string,
            target: { host: string; port: number },
            open: boolean,
        ) => {
            const got = await tcpOpens(s, namespace, pod, container, target.host, target.port);
            rows.push(
                `${got.open === open ? "ok  " : "FAIL"} ${pod} -> ${target.host}:${target.port}: ${got.detail} (${open ? "admitted" : "not admitted"})`,
            );
            if (got.open !== open) {
                problems.push(
                    `${pod} -> ${target.host}:${target.port}: ${got.detail}, expected ${open ? "open" : "refused"}`,
                );
            }
        };
        await phase("NetworkPolicy probes", async () => {
            // Admitted: Nuve (its own policy lets it out, theirs let it in); the host-network tiers
            // come from the node addresses (networkPolicy.nodeCidrs). kube-network-policies never
            // polices what a node's root user sends (tools/node/README.md), so these prove the
            // ports answer rather than that the rules admit them; the refusals below are the rules'.
            for (const nuve of tierPods("nuve")) {
                await expect(nuve.metadata.name, "nuve", mongo, true);
                await expect(nuve.metadata.name, "nuve", amqp, true);
            }
            for (const tier of ["erizo-controller", "erizo-agent"]) {
                const found = tierPods(tier);
                assert.ok(found.length > 0, `no running ${tier} pod`);
                for (const pod of found) {
                    await expect(pod.metadata.name, tier, amqp, true);
                }
            }
            // The management port answers (from a controller's node), so its refusal is the policy's.
            await expect(
                tierPods("erizo-controller")[0].metadata.name,
                "erizo-controller",
                management,
                true,
            );
            // The unlabelled pod has a network: Nuve's port is open to everyone.
            await waitUntil(`${probe.unlabelled} to reach Nuve`, 60, async () =>
                (
                    await tcpOpens(
                        s,
                        namespace,
                        probe.unlabelled,
                        "probe",
                        nuveService.host,
                        nuveService.port,
                    )
                ).open
                    ? true
                    : undefined,
            );
            await expect(probe.unlabelled, "probe", nuveService, true);
            for (const target of [mongo, amqp, management]) {
                await expect(probe.unlabelled, "probe", target, false);
            }
        });
        console.log(rows.map((r) => `        ${r}`).join("\n"));
        if (problems.length > 0) {
            const policies = await kubectlFor(
                s,
                ["-n", namespace, "get", "networkpolicies", "-o", "yaml"],
                60,
            );
            assert.fail(
                `${problems.join("\n")}\n--- NetworkPolicies\n${policies.stdout.slice(-8000)}`,
            );
        }
        // The probe pods are done: cases e and f see only the stack's pods.
        const deleted = await kubectl(s, [
            "delete",
            "pod",
            "-n",
            namespace,
            "--wait=true",
            probe.scraper,
            probe.unlabelled,
        ]);
        assert.strictEqual(deleted.status, 0, explain("kubectl delete the probe pods", deleted));
        probes = undefined;
    });

    it("e. a config change (licode:logLevel) rolls Nuve, ErizoController and ErizoAgent while a client is connected; MongoDB and RabbitMQ keep their pods, and a fresh session passes after (what the client saw and the drains did is printed)", async function () {
        this.timeout(40 * 60_000);
        const s = requireDeployed();
        const access = await nuveAccess();
        const nuve = new NuveClient(
            access.url,
            { serviceId: access.serviceId, serviceKey: access.serviceKey },
            CLIENT_TIMEOUT_MS,
        );
        const t0 = Date.now();
        const at = (ms: number | undefined) =>
            ms === undefined ? "-" : `t=${(ms / 1000).toFixed(1)}`;
        const timeline = new PodTimeline(s, namespace, t0);
        const podsAtStart = (await timeline.poll()) as Pod[];
        const tiersBefore = await podsByTier(s, namespace);

        const held = await phase("client joined and publishing", () =>
            holdPublisher(
                nuve,
                (token) => tokenSignedWith(token, access.serviceKey),
                CLIENT_TIMEOUT_MS,
                t0,
                40 * 60_000,
            ),
        );
        cleanups.push(() => held.connection.close());

        // The containers with a preStop hook: their logs (hooks write to PID 1's stdout) are
        // followed from now until each container stops, since a deleted pod's log goes with it.
        const followers = podsAtStart.flatMap((pod) =>
            pod.spec.containers
                .filter(
                    (c) =>
                        (c as { lifecycle?: { preStop?: unknown } }).lifecycle?.preStop !==
                        undefined,
                )
                .map((c) => new LogFollower(s, namespace, pod.metadata.name, c.name)),
        );
        cleanups.push(() => followers.forEach((f) => f.stop()));

        const from = String(config["licode:logLevel"]);
        const to = from === "DEBUG" ? "INFO" : "DEBUG";
        const changed: StackConfig = { ...config, "licode:logLevel": to };
        let upResult: RunResult | undefined;
        const upStarted = Date.now() - t0;
        const rolling = up(changed, 1500).then((r) => (upResult = r));

        // While pulumi runs, and until the old pods are gone: the timeline every second, and once
        // an old controller drains beside a Ready new one, a new client joins a new room and the
        // held client's room.
        const joins: (JoinAttempt & { what: string })[] = [];
        let joinProbeDone = false;
        const deadline = Date.now() + 30 * 60_000;
        await phase("rollout (pulumi up, then the old pods' drains)", async () => {
            let failedPolls = 0;
            while (Date.now() < deadline) {
                try {
                    await timeline.poll();
                } catch (error) {
                    // One missed look (an API server slow under load) loses a second of timeline.
                    if (++failedPolls > 30) {
                        throw error;
                    }
                }
                if (!joinProbeDone) {
                    const controllers = timeline.byTier("erizo-controller");
                    const draining = controllers.some(
                        (r) => r.old && r.deleting !== undefined && r.gone === undefined,
                    );
                    const fresh = controllers.some(
                        (r) => !r.old && r.ready !== undefined && r.deleting === undefined,
                    );
                    // The drain's helper says once Nuve's registry holds its controller full
                    // (components/drain/controller-registry.js); before that, Nuve may still
                    // give it a new room, as it would any available controller.
                    const holdingFull = followers.some(
                        (f) =>
                            controllers.some((r) => r.old && r.name === f.pod) &&
                            f.lines().some((l) => HOLDING_FULL.test(l.text)),
                    );
                    if (draining && fresh && holdingFull) {
                        joinProbeDone = true;
                        try {
                            const room = await nuve.createRoom(`real-node-rollout-${Date.now()}`);
                            joins.push({
                                what: "a new room",
                                ...(await joinOnce(nuve, room._id, CLIENT_TIMEOUT_MS, t0)),
                            });
                            await nuve.deleteRoom(room._id).catch(() => undefined);
                        } catch (error) {
                            joins.push({
                                what: "a new room",
                                at: Date.now() - t0,
                                room: "-",
                                joined: false,
                                detail: `no room: ${(error as Error).message}`,
                            });
                        }
                        joins.push({
                            what: "the held client's room",
                            ...(await joinOnce(nuve, held.roomId, CLIENT_TIMEOUT_MS, t0)),
                        });
                    }
                }
                if (upResult !== undefined && timeline.terminating().length === 0) {
                    break;
                }
                await sleep(1000);
            }
            await rolling;
        });
        const upEnded = Date.now() - t0;
        // Each follower ends with its container; one still running after the rollout belongs to
        // a pod that was not replaced.
        await Promise.race([Promise.all(followers.map((f) => f.ended)), sleep(15_000)]);
        followers.forEach((f) => f.stop());

        // What the held client sees afterwards, and what a new client finds in its room.
        let heldStatsAfter = "";
        if (held.watch.closed === undefined) {
            try {
                const answer = await held.connection.request(
                    "getStreamStats",
                    held.streamId,
                    CLIENT_TIMEOUT_MS,
                );
                heldStatsAfter = `still connected; getStreamStats answered ${JSON.stringify(answer).slice(0, 160)}`;
            } catch (error) {
                heldStatsAfter = `still open, but getStreamStats: ${(error as Error).message}`;
            }
        }
        // Read before this suite's own disconnect below closes it too.
        const heldClosed = held.watch.closed;
        const heldEvents = [...held.watch.events];
        const afterJoin = await joinOnce(nuve, held.roomId, CLIENT_TIMEOUT_MS, t0);
        held.connection.disconnect();
        const heldRoomDeleted = await nuve.deleteRoom(held.roomId).then(
            (answer) => `deleted (${answer})`,
            (error: Error) => `not deleted: ${error.message}`,
        );

        // The summary the lead reads.
        const events = (await getJson(s, ["events", "-n", namespace])).items as (KObject & {
            reason: string;
            message: string;
            type: string;
            count?: number;
            lastTimestamp?: string;
            eventTime?: string;
            involvedObject: { name: string };
        })[];
        const oldRecords = [...timeline.records.values()].filter((r) => r.old);
        const oldNames = new Set(oldRecords.map((r) => r.name));
        const controllerOf = (host: string | undefined) => {
            const ip = host?.split(":")[0];
            const found = timeline.byTier("erizo-controller").filter((r) => r.hostIP === ip);
            return found.length === 0
                ? "no controller pod there"
                : found
                      .map((r) => `${r.old ? "old" : "new"} controller ${r.name} on ${r.node}`)
                      .join(" / ");
        };
        const describePod = (r: PodRecord) => {
            const life = r.old ? "" : `created ${at(r.firstSeen)}, Ready ${at(r.ready)}, `;
            const end =
                r.gone === undefined
                    ? r.deleting === undefined
                        ? "kept"
                        : `deleting ${at(r.deleting)}, still there`
                    : r.deleting === undefined
                      ? `gone ${at(r.gone)} (deleted between two looks)`
                      : `deleting ${at(r.deleting)}, gone ${at(r.gone)} (${seconds(r.gone - r.deleting)})`;
            return `${r.tier.padEnd(22)} ${r.name} on ${r.node ?? "?"}: ${life}${end}`;
        };
        const drainReport = followers.map((f) => {
            const record = oldRecords.find((r) => r.name === f.pod);
            const lines = f.lines();
            const rel = (d?: Date) => (d === undefined ? "?" : at(d.getTime() - t0));
            // The hook's lines and its helpers' (components/hooks.ts, components/drain/*.js).
            const drain = lines.filter((l) =>
                /\[(drain|controller-registry|media-routing)\]/.test(l.text),
            );
            const stopping = drain.find((l) => /\[drain\] stopping/.test(l.text));
            const ended = drain.find((l) => /\[drain\] drain ended/.test(l.text));
            const afterDeletion = lines.filter(
                (l) =>
                    record?.deleting !== undefined &&
                    l.at !== undefined &&
                    l.at.getTime() - t0 >= record.deleting - 2000,
            );
            const shown = (drain.length > 0 ? drain : afterDeletion).slice(-30);
            const took =
                stopping?.at !== undefined && ended?.at !== undefined
                    ? `drain took ${seconds(ended.at.getTime() - stopping.at.getTime())}`
                    : drain.length > 0
                      ? "drain did not report its end"
                      : "no drain lines";
            return [
                `      ${f.pod}/${f.container}: ${took}`,
                ...shown.map((l) => `        ${rel(l.at)} ${l.text.slice(0, 220)}`),
            ].join("\n");
        });
        // Every event since the client joined, but the routine ones of starting pods.
        const routine = [
            "Scheduled",
            "Pulled",
            "Created",
            "Started",
            "SuccessfulCreate",
            "SuccessfulDelete",
            "ScalingReplicaSet",
        ];
        const eventTime = (e: KObject) => Date.parse(e.lastTimestamp ?? e.eventTime ?? "");
        const rolloutEvents = events
            .filter((e) => eventTime(e) >= t0 - 1000 && !routine.includes(e.reason))
            .sort((a, b) => eventTime(a) - eventTime(b))
            .map(
                (e) =>
                    `      ${at(eventTime(e) - t0)} ${e.type} ${e.reason} ${e.involvedObject.name}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ""}: ${e.message.trim().slice(0, 300)}`,
            );
        // The event says only "PreStopHook failed"; the kubelet's log says how the hook ended.
        const failedHooks = [
            ...new Set(oldRecords.map((r) => r.node).filter((n) => n !== undefined)),
        ]
            .flatMap((node) => failedPreStopHooks(s, node))
            .filter((h) => oldNames.has(h.pod.split("/").pop() ?? ""))
            .map((h) => `      ${h.at} ${h.pod}/${h.container}: ${h.ending}, at: ${h.lastLine}`);
        const tiersAfter = await podsByTier(s, namespace);
        const replacedTiers = [
            ...new Set([...Object.keys(tiersBefore), ...Object.keys(tiersAfter)]),
        ]
            .sort()
            .map((tier) => {
                const was = new Set(Object.values(tiersBefore[tier] ?? {}));
                const now = Object.values(tiersAfter[tier] ?? {});
                const kept = now.filter((uid) => was.has(uid)).length;
                return `${tier}: ${kept === now.length && now.length === was.size ? "kept" : `replaced ${now.length - kept} of ${was.size}`}`;
            });
        console.log(
            [
                `      [real-node] rollout: licode:logLevel ${from} -> ${to}; pulumi up ${at(upStarted)} .. ${upResult?.status === 0 ? "exit 0" : `exit ${upResult?.status}`} after ${seconds(upResult?.seconds !== undefined ? upResult.seconds * 1000 : 0)}; old pods gone by ${at(upEnded)}`,
                `    tiers: ${replacedTiers.join("; ")}`,
                "    pods (t = seconds since the client joined, just before pulumi up):",
                ...[...timeline.records.values()]
                    .sort((a, b) => a.tier.localeCompare(b.tier) || a.firstSeen - b.firstSeen)
                    .map((r) => `      ${describePod(r)}`),
                `    held client: room ${held.roomId}, stream ${held.streamId} on ErizoJS ${held.erizoId}, joined at ${held.token.host} (${controllerOf(held.token.host)})`,
                ...(heldEvents.length === 0
                    ? ["      told nothing by the controller"]
                    : heldEvents.map((e) => `      ${at(e.at)} ${e.what}`)),
                `      ${heldClosed === undefined ? heldStatsAfter : `${at(heldClosed.at)} ${heldClosed.reason}`}`,
                "    clients joining while an old controller drained beside a Ready new one:",
                ...(joins.length === 0
                    ? [
                          "      (never observed: no moment with a draining and a Ready new controller)",
                      ]
                    : joins.map(
                          (j) =>
                              `      ${at(j.at)} ${j.what}: token for ${j.host ?? "-"} (${controllerOf(j.host)}): ${j.joined ? `joined, ${j.detail}, streams [${(j.streams ?? []).join(", ")}]` : `not joined: ${j.detail}`}`,
                      )),
                `    after the rollout, a new client in the held room: token for ${afterJoin.host ?? "-"} (${controllerOf(afterJoin.host)}): ${afterJoin.joined ? `joined, streams [${(afterJoin.streams ?? []).join(", ")}]` : `not joined: ${afterJoin.detail}`}; the room ${heldRoomDeleted}`,
                "    the stopped containers' logs (the drain's lines, else what they printed once deleted):",
                ...drainReport,
                `    events since the client joined (FailedPreStopHook: the kubelet's record of a failed hook): ${rolloutEvents.length === 0 ? "none" : ""}`,
                ...rolloutEvents,
                `    failed preStop hooks of the old pods, from the kubelets' logs: ${failedHooks.length === 0 ? "none" : ""}`,
                ...failedHooks,
            ].join("\n"),
        );

        // What must hold whatever the drains do.
        assert.ok(upResult !== undefined, "pulumi up did not end within the rollout's time");
        if (upResult.status !== 0) {
            assert.fail(
                `${explain("pulumi up (config change)", upResult)}\n${await diagnose(s, namespace)}`,
            );
        }
        const ready = await waitReady(s, namespace, 180);
        if (ready.problems.length > 0 || timeline.terminating().length > 0) {
            assert.fail(
                `the rollout did not converge: ${[...ready.problems, ...timeline.terminating().map((r) => `${r.name} still terminating`)].join("; ")}\n${await diagnose(s, namespace)}`,
            );
        }
        // The drains (components/hooks.ts, components/drain/*.js) on the kubelet: every hook
        // returned by itself, said what ended it, and while an old controller drained beside a
        // Ready new one, a new room went to the new one and the live room stayed on the old.
        assert.deepStrictEqual(failedHooks, [], "preStop hooks failed on the kubelet");
        const failedHookEvents = rolloutEvents.filter((e) => /FailedPreStopHook/.test(e));
        assert.deepStrictEqual(failedHookEvents, [], "the kubelet recorded failed preStop hooks");
        for (const f of followers.filter((f) => /erizo-(controller|agent)/.test(f.pod))) {
            assert.ok(
                f.lines().some((l) => /\[drain\] drain ended: /.test(l.text)),
                `${f.pod}/${f.container} never said what ended its drain:\n${f
                    .lines()
                    .slice(-20)
                    .map((l) => l.text)
                    .join("\n")}`,
            );
        }
        const newRoom = joins.find((j) => j.what === "a new room");
        const heldRoom = joins.find((j) => j.what === "the held client's room");
        assert.ok(
            newRoom !== undefined && heldRoom !== undefined,
            "no moment with an old controller held full beside a Ready new one",
        );
        assert.ok(
            newRoom.joined && /^new controller/.test(controllerOf(newRoom.host)),
            `a new room during the drain: ${newRoom.detail}, at ${controllerOf(newRoom.host)}`,
        );
        assert.ok(
            heldRoom.joined && /^old controller/.test(controllerOf(heldRoom.host)),
            `a join to the live room during the drain: ${heldRoom.detail}, at ${controllerOf(heldRoom.host)}`,
        );
        for (const tier of ["mongodb", "rabbitmq"]) {
            assert.deepStrictEqual(
                tiersAfter[tier],
                tiersBefore[tier],
                `${tier} pods were replaced`,
            );
        }
        for (const tier of ["nuve", "erizo-controller", "erizo-agent"]) {
            const was = new Set(Object.values(tiersBefore[tier] ?? {}));
            const now = Object.values(tiersAfter[tier] ?? {});
            assert.ok(
                now.length > 0 && now.every((uid) => !was.has(uid)),
                `${tier} was not replaced: before ${JSON.stringify(tiersBefore[tier])}, after ${JSON.stringify(tiersAfter[tier])}`,
            );
        }
        config = changed;
        const lines: string[] = [];
        const fresh = await phase("client session after the rollout", () =>
            runSmoke({
                nuveUrl: access.url,
                credentials: { serviceId: access.serviceId, serviceKey: access.serviceKey },
                timeoutMs: CLIENT_TIMEOUT_MS,
                expectReady: true,
                report: (line) => lines.push(line),
            }),
        );
        if (!fresh.ok) {
            assert.fail(
                `the session after the rollout failed:\n${lines.join("\n")}\n${await diagnose(s, namespace)}`,
            );
        }
    });

    it("f. pulumi destroy removes everything the stack made; cluster down then leaves nothing on the host", async function () {
        this.timeout(20 * 60_000);
        const s = requireDeployed();
        const destroyed = await phase("pulumi destroy", () =>
            pulumi(
                s,
                ["destroy", "--yes", "--skip-preview", "--non-interactive", "--stack", STACK],
                {
                    timeoutSeconds: 900,
                },
            ),
        );
        if (destroyed.status !== 0) {
            assert.fail(`${explain("pulumi destroy", destroyed)}\n${await diagnose(s, namespace)}`);
        }
        deployed = false;
        const left = ((await exportStack(s, STACK)).resources ?? []).filter((r) =>
            r.type.startsWith("kubernetes:"),
        );
        assert.deepStrictEqual(
            left.map((r) => r.urn),
            [],
            "Kubernetes resources left in the stack's state",
        );
        assert.strictEqual(
            await exists(s, "namespace", namespace),
            false,
            `namespace ${namespace} still exists`,
        );
        const labelled = [
            ...(
                await getJson(s, [
                    "namespaces,persistentvolumes,clusterroles.rbac.authorization.k8s.io,clusterrolebindings.rbac.authorization.k8s.io",
                    "-l",
                    `app.kubernetes.io/instance=${INSTANCE}`,
                ])
            ).items,
            ...(
                await getJson(s, [
                    "all,secrets,configmaps,networkpolicies.networking.k8s.io,poddisruptionbudgets.policy,persistentvolumeclaims,serviceaccounts",
                    "-A",
                    "-l",
                    `app.kubernetes.io/instance=${INSTANCE}`,
                ])
            ).items,
        ];
        assert.deepStrictEqual(
            labelled.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`),
            [],
            `objects labelled app.kubernetes.io/instance=${INSTANCE} remain`,
        );
        const podsLeft = (await getJson(s, ["pods", "-A"])).items.filter(
            (p) => p.metadata.namespace !== "kube-system",
        );
        assert.deepStrictEqual(
            podsLeft.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
            [],
            "pods outside kube-system remain",
        );
        // A hostPath PersistentVolume's directory is never deleted by Kubernetes: MongoDB's data
        // stays in the suite's directory (removed with it), as on a real node.
        console.log(
            `      [real-node] MongoDB's hostPath data is left at ${path.join(s.dir, "mongodb-data")} (as Kubernetes leaves it); removed with the suite's directory`,
        );

        const down = await phase("cluster down", () => clusterDown(s));
        clusterStarted = false;
        assert.strictEqual(down.status, 0, explain("cluster.sh down", down));
        const found = hostLeftovers(baseline, hostSnapshot(), { prefix: s.prefix, dir: s.dir });
        assert.deepStrictEqual(
            found.ours,
            [],
            `left behind:\n${found.ours.join("\n")}\n(changes on the host made by others, e.g. ${found.others.join(", ")}:\n${found.unrelated.join("\n")})`,
        );
    });
});
