// End to end: the real CLI, provider and policy pack against a real control plane (tools/cluster:
// etcd, kube-apiserver, controller-manager, scheduler, kwok nodes). The suite brings its own cluster
// up (own state dir and ports: a demo cluster can run beside it) and down again, pass or fail, and
// keeps backend, stack files and logs in a temporary directory (LICODE_E2E_KEEP=1 keeps it).
//
// Stacks: `local` (the repository's Pulumi.local.yaml: NodePort, static hostPath PV) and
// `e2e-prod` (Pulumi.prod.yaml with cluster addresses: Ingress, NFS PV, protected data, two media
// pools, two controllers). Each test first brings the stack to the state it starts from.

import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { checksum } from "../../components/meta";
import { lookupObject } from "../../components/monitoring/api-discovery";
import { migrateDeployment } from "../../tools/migrate-random/migrate";
import {
    IssuerStandIn,
    KObject,
    PulumiOptions,
    ROOT,
    RunResult,
    StackConfig,
    Suite,
    clusterDown,
    clusterListing,
    clusterUp,
    createSuite,
    exists,
    explain,
    exportCheckpoint,
    exportStack,
    getJson,
    initStack,
    installCertificateCrd,
    killLeftovers,
    kubectl,
    markedProcesses,
    orphansAndLost,
    podsByTier,
    policyArgs,
    pulumi,
    readConfig,
    recoverInterruptedUpdate,
    servicesWithoutEndpoints,
    sleep,
    startIssuerStandIn,
    waitReady,
    writeConfig,
} from "./lib";

const LOCAL = "local";
const PROD = "e2e-prod";
const BYO = "e2e-byo";
const MIGRATE = "e2e-migrate";
const METRICS = "e2e-metrics";
/** The Prometheus Operator release whose published CRDs the metrics case applies. */
const PROMETHEUS_OPERATOR = "github.com/prometheus-operator/prometheus-operator@v0.85.0";
/** The last commit whose program generated its values with dynamic resources. */
const PRE_RANDOM_COMMIT = "84df9ee91f80aa4dba84391fb79aeeb0b4e230e0";
/**
 * The release that moved them to @pulumi/random and shipped the migration. The migration is proven
 * against it (no change at all); later releases may change other objects (e.g. the log format in
 * licode_config.js), which the last step of the case allows while it checks the credentials.
 */
const RANDOM_COMMIT = "8fe82adbfce318e3d19a84450e75205374643615";
const LOCAL_NS = "licode-local";
const PROD_NS = "licode-e2e-prod";
/** The NFS server of the prod-like stack: nothing mounts under kwok, the PV only has to bind. */
const NFS_SERVER = "10.200.0.250";
/** The node of the prod-like stack's TURN server (Pulumi.prod.yaml: licode.io/turn=true). */
const TURN_NODE = "general-0";
/** TURN's certificate Secret in Pulumi.prod.yaml (licode:turn.tls.secretName). */
const TURN_TLS_SECRET = "licode-turn-tls";

/** The program's stack outputs the cases read (index.ts exports them). */
interface StackOutputs {
    readonly superserviceId: string;
    /** Present in clear text only with --show-secrets. */
    readonly superserviceKey?: string;
    readonly nuveEndpoint: unknown;
    readonly [name: string]: unknown;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const gitStatus = () =>
    spawnSync("git", ["status", "--porcelain", "--untracked-files=all"], {
        cwd: ROOT,
        encoding: "utf8",
    }).stdout;

describe("e2e: licode on a local control plane", function () {
    let suite: Suite;
    let gitBefore = "";
    let localBase: StackConfig;
    let prodBase: StackConfig;
    /** The config each stack was last brought to successfully (undefined: unknown or destroyed). */
    const deployed: Record<string, string | undefined> = {};
    /** The stand-in for cert-manager's controller, once the prod-like cases started it. */
    let issuer: IssuerStandIn | undefined;
    const policyOf: Record<string, string> = {
        [LOCAL]: "local",
        [PROD]: "prod",
        [BYO]: "local",
        [MIGRATE]: "local",
        [METRICS]: "local",
    };

    const must = (what: string, result: RunResult) => {
        assert.strictEqual(result.status, 0, explain(what, result));
        return result;
    };

    /** `pulumi up` of `stack` with `config` and the stack's policy config. */
    async function up(
        stack: string,
        config: StackConfig,
        extra: string[] = [],
        options: PulumiOptions = {},
    ): Promise<RunResult> {
        writeConfig(suite, stack, config);
        deployed[stack] = undefined;
        const result = await pulumi(
            suite,
            [
                "up",
                "--yes",
                "--skip-preview",
                "--non-interactive",
                "--stack",
                stack,
                ...policyArgs(policyOf[stack]),
                ...extra,
            ],
            options,
        );
        if (result.status === 0) {
            deployed[stack] = JSON.stringify(config);
        }
        return result;
    }

    async function preview(
        stack: string,
        config: StackConfig,
        extra: string[] = [],
    ): Promise<RunResult> {
        writeConfig(suite, stack, config);
        return pulumi(suite, [
            "preview",
            "--non-interactive",
            "--stack",
            stack,
            ...policyArgs(policyOf[stack]),
            ...extra,
        ]);
    }

    /** Brings `stack` to `config` unless the last successful up already did. */
    async function ensure(stack: string, config: StackConfig): Promise<void> {
        if (deployed[stack] === JSON.stringify(config)) {
            writeConfig(suite, stack, config);
            return;
        }
        must(`pulumi up ${stack}`, await up(stack, config));
    }

    /** `pulumi stack output --json` of `stack`, secrets in clear text when `showSecrets`. */
    async function stackOutputs(stack: string, showSecrets = false): Promise<StackOutputs> {
        const args = ["stack", "output", "--json", "--stack", stack];
        if (showSecrets) {
            args.push("--show-secrets");
        }
        return JSON.parse(must("stack output", await pulumi(suite, args)).stdout) as StackOutputs;
    }

    /** Destroys `stack` (unprotecting first) unless it holds nothing. */
    async function ensureDestroyed(stack: string): Promise<void> {
        const state = await exportStack(suite, stack);
        if (
            (state.resources ?? []).some(
                (r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:"),
            )
        ) {
            must(
                "pulumi state unprotect",
                await pulumi(suite, ["state", "unprotect", "--all", "--yes", "--stack", stack]),
            );
            must(
                `pulumi destroy ${stack}`,
                await pulumi(suite, [
                    "destroy",
                    "--yes",
                    "--skip-preview",
                    "--non-interactive",
                    "--stack",
                    stack,
                ]),
            );
        }
        deployed[stack] = undefined;
    }

    async function assertAllReady(namespace: string, expected: RegExp[]): Promise<void> {
        const check = await waitReady(suite, namespace, 60);
        assert.deepStrictEqual(check.problems, [], `workloads not Ready in ${namespace}`);
        assert.strictEqual(
            check.workloads.length,
            expected.length,
            `workloads: ${check.workloads.join(", ")}`,
        );
        for (const pattern of expected) {
            assert.ok(
                check.workloads.some((w) => pattern.test(w)),
                `no workload matches ${pattern}: ${check.workloads.join(", ")}`,
            );
        }
        const endpoints = await servicesWithoutEndpoints(suite, namespace);
        assert.ok(endpoints.services.length >= 4, `services: ${endpoints.services.join(", ")}`);
        assert.deepStrictEqual(endpoints.missing, [], "Services without ready endpoints");
    }

    /**
     * cert-manager, as the prod-like stack's operator runs it (Pulumi.prod.yaml has it issue TURN's
     * certificate): its own Certificate CRD, and a stand-in for its controller (test/e2e/lib.ts).
     */
    async function withCertManager(): Promise<IssuerStandIn> {
        if (issuer === undefined) {
            await installCertificateCrd(suite);
            issuer = startIssuerStandIn(suite, PROD_NS);
        }
        return issuer;
    }

    async function assertNoOrphans(stack: string, namespace: string): Promise<void> {
        const diff = await orphansAndLost(suite, stack, namespace);
        assert.deepStrictEqual(diff.orphans, [], "objects in the cluster the stack does not know");
        assert.deepStrictEqual(
            diff.lost,
            [],
            "objects in the stack's state missing from the cluster",
        );
    }

    // A case on a stack of its own destroys it at its end; when it fails before that, this does, so
    // its controllers do not hold the signalling nodes' host port for the cases that follow.
    afterEach(async function () {
        if (this.currentTest?.state !== "failed" || suite === undefined) {
            return;
        }
        for (const stack of [BYO, MIGRATE, METRICS]) {
            try {
                await ensureDestroyed(stack);
            } catch (error) {
                console.log(`      cleanup of ${stack} after the failure: ${String(error)}`);
            }
        }
    });

    /** Pulumi.local.yaml turns metrics (ROV) and TURN (on general-0, licode.io/turn=true) on. */
    const LOCAL_WORKLOADS = [
        /^Deployment\/licode-nuve$/,
        /^Deployment\/licode-erizo-controller$/,
        /^Deployment\/licode-rov$/,
        /^DaemonSet\/licode-erizo-agent-default$/,
        /^DaemonSet\/licode-turn$/,
        /^StatefulSet\/licode-mongodb$/,
        /^StatefulSet\/licode-rabbitmq$/,
        /^Job\/superservice-[a-z0-9]+$/,
    ];

    /** Pulumi.prod.yaml turns metrics and TURN on, so the prod-like stack also runs ROV and coturn. */
    const PROD_WORKLOADS = [
        /^Deployment\/licode-nuve$/,
        /^Deployment\/licode-erizo-controller$/,
        /^Deployment\/licode-rov$/,
        /^DaemonSet\/licode-erizo-agent-primary$/,
        /^DaemonSet\/licode-erizo-agent-overflow$/,
        /^DaemonSet\/licode-turn$/,
        /^StatefulSet\/licode-mongodb$/,
        /^StatefulSet\/licode-rabbitmq$/,
        /^Job\/superservice-[a-z0-9]+$/,
    ];

    before(async function () {
        gitBefore = gitStatus();
        suite = createSuite();
        const cluster = await clusterUp(suite);
        assert.strictEqual(cluster.status, 0, explain("cluster.sh up", cluster));
        // The prod-like stack's second media pool.
        must(
            "label media-1",
            await kubectl(suite, [
                "label",
                "node",
                "media-1",
                "licode.io/media-pool=overflow",
                "--overwrite",
            ]),
        );
        // The prod-like stack's TURN node.
        must(
            `label ${TURN_NODE}`,
            await kubectl(suite, [
                "label",
                "node",
                TURN_NODE,
                "licode.io/turn=true",
                "--overwrite",
            ]),
        );

        fs.copyFileSync(`${ROOT}/Pulumi.local.yaml`, `${suite.workspace}/Pulumi.${LOCAL}.yaml`);
        fs.copyFileSync(`${ROOT}/Pulumi.prod.yaml`, `${suite.workspace}/Pulumi.${PROD}.yaml`);
        await initStack(suite, LOCAL);
        await initStack(suite, PROD);
        localBase = await readConfig(suite, LOCAL);
        const prod = await readConfig(suite, PROD);
        prodBase = {
            ...prod,
            "licode:namespace": PROD_NS,
            "licode:ingress": { ...(prod["licode:ingress"] as object), host: "nuve.licode.test" },
            "licode:storage": { ...(prod["licode:storage"] as object), server: NFS_SERVER },
            "licode:networkPolicy": { enabled: true, nodeCidrs: ["10.200.0.0/24"] },
            "licode:media": {
                ...(prod["licode:media"] as object),
                pools: [
                    {
                        name: "primary",
                        nodeSelector: { "licode.io/media-pool": "default" },
                        portRange: { min: 40000, max: 40999 },
                    },
                    {
                        name: "overflow",
                        nodeSelector: { "licode.io/media-pool": "overflow" },
                        portRange: { min: 41000, max: 41999 },
                    },
                ],
            },
        };
    });

    after(async function () {
        if (suite === undefined) {
            return;
        }
        await issuer?.stop();
        await killLeftovers(suite);
        const down = await clusterDown(suite);
        const left = markedProcesses(suite.marker);
        if (process.env.LICODE_E2E_KEEP) {
            console.log(`    e2e files kept in ${suite.dir}`);
        } else {
            fs.rmSync(suite.dir, { recursive: true, force: true });
        }
        assert.strictEqual(down.status, 0, explain("cluster.sh down", down));
        assert.deepStrictEqual(left, [], "processes left running");
        assert.strictEqual(gitStatus(), gitBefore, "the suite changed the working tree");
    });

    it("1a. up from empty (local: nodePort, hostPath PV): every workload Ready, every Service has endpoints", async () => {
        const result = must("pulumi up local", await up(LOCAL, localBase));
        assert.match(result.output, /Resources:\s+\+ \d+ created/);
        await assertAllReady(LOCAL_NS, LOCAL_WORKLOADS);
        const svc = (await getJson<KObject>(suite, [
            "service",
            "licode-nuve",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        assert.strictEqual(svc.spec.type, "NodePort");
        assert.strictEqual(svc.spec.ports[0].nodePort, 30300);
        const pvc = (await getJson<KObject>(suite, [
            "pvc",
            "licode-mongodb-data",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        assert.strictEqual(pvc.status.phase, "Bound");
        assert.strictEqual(pvc.spec.volumeName, `licode-mongodb-data-${LOCAL_NS}`);
        const outputs = await stackOutputs(LOCAL);
        assert.deepStrictEqual(outputs.nuveEndpoint, { mode: "nodePort", nodePort: 30300 });
        assert.match(outputs.superserviceId, /^[0-9a-f]{24}$/);
        await assertNoOrphans(LOCAL, LOCAL_NS);
    });

    it("2. a second preview and up report no changes", async () => {
        await ensure(LOCAL, localBase);
        const p = await preview(LOCAL, localBase, ["--expect-no-changes"]);
        assert.strictEqual(p.status, 0, explain("preview --expect-no-changes", p));
        const u = await up(LOCAL, localBase, ["--expect-no-changes"]);
        assert.strictEqual(u.status, 0, explain("up --expect-no-changes", u));
        assert.match(u.output, /Resources:\s+\d+ unchanged/);
        assert.doesNotMatch(u.output, /[+~-] \d+ (created|updated|deleted|replaced)/);
    });

    it("3. a config change (log level, media port range) rolls exactly Nuve, ErizoController, ErizoAgent and ROV (its log level)", async () => {
        await ensure(LOCAL, localBase);
        const workloads = "deployments.apps,statefulsets.apps,daemonsets.apps,jobs.batch";
        const before = await getJson(suite, [workloads, "-n", LOCAL_NS]);
        const podsBefore = await podsByTier(suite, LOCAL_NS);
        const revisionsBefore = await getJson(suite, ["controllerrevisions.apps", "-n", LOCAL_NS]);

        const changed = clone(localBase);
        changed["licode:logLevel"] = "DEBUG";
        const media = changed["licode:media"] as { portRange: { min: number; max: number } };
        media.portRange = { min: 40000, max: 40199 };
        const result = must("pulumi up (config change)", await up(LOCAL, changed));
        assert.match(result.output, /licode-config.*replaced|\+-1 replaced/);
        await assertAllReady(LOCAL_NS, LOCAL_WORKLOADS);

        const after = await getJson(suite, [workloads, "-n", LOCAL_NS]);
        const byId = (list: { items: KObject[] }) =>
            new Map(list.items.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
        const was = byId(before);
        const now = byId(after);
        assert.deepStrictEqual(
            [...now.keys()].sort(),
            [...was.keys()].sort(),
            "the set of workloads changed",
        );
        const rolled = [...now.entries()]
            .filter(([id, o]) => o.metadata.generation !== was.get(id)?.metadata.generation)
            .map(([id]) => id)
            .sort();
        // ROV (Pulumi.local.yaml turns metrics on) renders the log level into its own log4js config.
        assert.deepStrictEqual(rolled, [
            "DaemonSet/licode-erizo-agent-default",
            "Deployment/licode-erizo-controller",
            "Deployment/licode-nuve",
            "Deployment/licode-rov",
        ]);
        // The rolled tiers run new pods only; the stateful tiers, TURN and the bootstrap Job kept theirs.
        const podsAfter = await podsByTier(suite, LOCAL_NS);
        for (const tier of ["nuve", "erizo-controller", "erizo-agent", "rov"]) {
            const old = new Set(Object.values(podsBefore[tier] ?? {}));
            const current = Object.values(podsAfter[tier] ?? {});
            assert.ok(current.length > 0, `${tier} has pods`);
            assert.ok(
                current.every((uid) => !old.has(uid)),
                `${tier} still runs a pod from before the change`,
            );
        }
        for (const tier of ["mongodb", "rabbitmq", "superservice-bootstrap", "turn"]) {
            assert.deepStrictEqual(podsAfter[tier], podsBefore[tier], `${tier} pods were replaced`);
        }
        for (const sts of ["licode-mongodb", "licode-rabbitmq"]) {
            const a = was.get(`StatefulSet/${sts}`)!;
            const b = now.get(`StatefulSet/${sts}`)!;
            assert.strictEqual(
                b.status.currentRevision,
                a.status.currentRevision,
                `${sts} currentRevision`,
            );
            assert.strictEqual(
                b.status.updateRevision,
                a.status.currentRevision,
                `${sts} updateRevision`,
            );
        }
        const revisionsAfter = await getJson(suite, ["controllerrevisions.apps", "-n", LOCAL_NS]);
        const stsRevisions = (list: { items: KObject[] }) =>
            list.items
                .filter((r) => r.metadata.ownerReferences?.some((o) => o.kind === "StatefulSet"))
                .map((r) => `${r.metadata.name} ${r.metadata.uid}`)
                .sort();
        assert.deepStrictEqual(
            stsRevisions(revisionsAfter),
            stsRevisions(revisionsBefore),
            "StatefulSet controller revisions",
        );
        // The agents got the new range.
        const ds = now.get("DaemonSet/licode-erizo-agent-default")!;
        const env = ds.spec.template.spec.containers[0].env as { name: string; value?: string }[];
        assert.strictEqual(env.find((e) => e.name === "MAX_PORT")?.value, "40199");
        await assertNoOrphans(LOCAL, LOCAL_NS);
    });

    it("3b. media pools on OnDelete: up returns without waiting, and a pod changes only once deleted", async () => {
        // kwok runs no hooks: the drains themselves are tested against real processes
        // (npm run test:processes); this shows the rollout mechanics Pulumi and Kubernetes apply.
        await ensure(LOCAL, localBase);
        const onDelete = clone(localBase);
        const media = onDelete["licode:media"] as Record<string, unknown>;
        media.updateStrategy = "OnDelete";
        must("pulumi up (OnDelete)", await up(LOCAL, onDelete));
        const podsBefore = await podsByTier(suite, LOCAL_NS);

        const changed = clone(onDelete);
        changed["licode:logLevel"] = "DEBUG";
        const started = Date.now();
        must("pulumi up (config change, OnDelete)", await up(LOCAL, changed));
        const podsAfter = await podsByTier(suite, LOCAL_NS);
        assert.deepStrictEqual(
            podsAfter["erizo-agent"],
            podsBefore["erizo-agent"],
            "OnDelete replaced an agent by itself",
        );
        // The DaemonSet controller reports on the new template once it has observed it.
        let ds = await getJson<KObject>(suite, [
            "daemonset.apps/licode-erizo-agent-default",
            "-n",
            LOCAL_NS,
        ]);
        for (let i = 0; i < 30 && ds.status.observedGeneration !== ds.metadata.generation; i++) {
            await sleep(1000);
            ds = await getJson<KObject>(suite, [
                "daemonset.apps/licode-erizo-agent-default",
                "-n",
                LOCAL_NS,
            ]);
        }
        assert.strictEqual(ds.status.observedGeneration, ds.metadata.generation);
        assert.strictEqual(ds.spec.updateStrategy.type, "OnDelete");
        // The API omits a count of 0 (omitempty).
        const updatedBefore = ds.status.updatedNumberScheduled ?? 0;
        assert.ok(
            updatedBefore < ds.status.desiredNumberScheduled,
            "the agents still run the old template, and up did not wait for them",
        );
        assert.ok(Date.now() - started < 600_000);

        // The operator's step: delete a pod (its preStop drains it); the DaemonSet replaces it.
        const [podName, uid] = Object.entries(podsBefore["erizo-agent"] ?? {})[0];
        must(
            "kubectl delete pod",
            await kubectl(suite, ["delete", "pod", podName, "-n", LOCAL_NS, "--wait=true"]),
        );
        let after = ds;
        for (let i = 0; i < 60; i++) {
            after = await getJson<KObject>(suite, [
                "daemonset.apps/licode-erizo-agent-default",
                "-n",
                LOCAL_NS,
            ]);
            if (
                after.status.numberReady === after.status.desiredNumberScheduled &&
                after.status.updatedNumberScheduled === updatedBefore + 1
            ) {
                break;
            }
            await sleep(1000);
        }
        assert.strictEqual(
            after.status.updatedNumberScheduled,
            updatedBefore + 1,
            "the deleted pod came back with the new template, the others kept the old one",
        );
        assert.strictEqual(after.status.numberReady, after.status.desiredNumberScheduled);
        const replaced = await podsByTier(suite, LOCAL_NS);
        assert.ok(
            !Object.values(replaced["erizo-agent"] ?? {}).includes(uid),
            "the deleted agent is gone",
        );

        must("pulumi up (back to RollingUpdate)", await up(LOCAL, localBase));
        await assertAllReady(LOCAL_NS, LOCAL_WORKLOADS);
    });

    it("4. switching to ingress mode and back converges and leaves no orphans", async () => {
        await ensure(LOCAL, localBase);
        const ingressConfig = clone(localBase);
        ingressConfig["licode:ingress"] = {
            mode: "ingress",
            className: "nginx",
            host: "nuve.local.test",
        };
        must("pulumi up (ingress mode)", await up(LOCAL, ingressConfig));
        await assertAllReady(LOCAL_NS, LOCAL_WORKLOADS);
        const ingress = (await getJson<KObject>(suite, [
            "ingress",
            "licode-nuve",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        assert.strictEqual(ingress.spec.ingressClassName, "nginx");
        assert.strictEqual(ingress.status.loadBalancer.ingress[0].ip, "127.0.0.1");
        let svc = (await getJson<KObject>(suite, [
            "service",
            "licode-nuve",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        assert.strictEqual(svc.spec.type, "ClusterIP");
        const outputs = await stackOutputs(LOCAL);
        assert.deepStrictEqual(outputs.nuveEndpoint, {
            mode: "ingress",
            url: "http://nuve.local.test/",
        });
        await assertNoOrphans(LOCAL, LOCAL_NS);

        must("pulumi up (back to nodePort)", await up(LOCAL, localBase));
        await assertAllReady(LOCAL_NS, LOCAL_WORKLOADS);
        const ingresses = await getJson(suite, ["ingresses.networking.k8s.io", "-n", LOCAL_NS]);
        assert.deepStrictEqual(
            ingresses.items.map((i) => i.metadata.name),
            [],
            "an Ingress is left after switching back",
        );
        svc = (await getJson<KObject>(suite, [
            "service",
            "licode-nuve",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        assert.strictEqual(svc.spec.type, "NodePort");
        assert.strictEqual(svc.spec.ports[0].nodePort, 30300);
        await assertNoOrphans(LOCAL, LOCAL_NS);
        const p = await preview(LOCAL, localBase, ["--expect-no-changes"]);
        assert.strictEqual(
            p.status,
            0,
            explain("preview --expect-no-changes after switching back", p),
        );
    });

    it("7. bad stack config fails before anything reaches the cluster", async () => {
        await ensure(LOCAL, localBase);
        const bad = clone(localBase);
        bad["licode:logLevel"] = "LOUD";
        bad["licode:ingress"] = { mode: "ingress" };
        (bad["licode:media"] as { portRange: unknown }).portRange = { min: 41000, max: 40000 };
        const namespaces = [LOCAL_NS, "licode-e2e-bad"];

        // On the deployed stack: nothing changes.
        let before = await clusterListing(suite, namespaces);
        const result = await up(LOCAL, bad);
        assert.notStrictEqual(result.status, 0, explain("up with bad config", result));
        assert.match(
            result.output,
            /The stack's licode config has \d+ problems; nothing was deployed/,
        );
        for (const key of [
            "licode:logLevel",
            "licode:ingress.className",
            "licode:ingress.host",
            "licode:media.portRange",
        ]) {
            assert.ok(
                result.output.includes(`- ${key}: `),
                `the message names ${key}:\n${result.output.slice(-3000)}`,
            );
        }
        assert.deepStrictEqual(
            await clusterListing(suite, namespaces),
            before,
            "the cluster changed",
        );

        // On a new stack: not even its namespace is created.
        const fresh = "e2e-bad";
        policyOf[fresh] = "local";
        await initStack(suite, fresh);
        const freshBad = { ...clone(bad), "licode:namespace": "licode-e2e-bad" };
        before = await clusterListing(suite, namespaces);
        const freshResult = await up(fresh, freshBad);
        assert.notStrictEqual(
            freshResult.status,
            0,
            explain("up of a new stack with bad config", freshResult),
        );
        assert.match(freshResult.output, /nothing was deployed/);
        assert.strictEqual(await exists(suite, "namespace", "licode-e2e-bad"), false);
        assert.deepStrictEqual(
            await clusterListing(suite, namespaces),
            before,
            "the cluster changed",
        );
        must("stack rm", await pulumi(suite, ["stack", "rm", fresh, "--yes"]));
        writeConfig(suite, LOCAL, localBase);
    });

    it("8. a manifest the API server rejects fails preview (server-side dry run), and nothing is created", async () => {
        await ensure(LOCAL, localBase);
        // (a) An annotation name the API rejects (the config schema accepts any string).
        const badAnnotation = clone(localBase);
        badAnnotation["licode:ingress"] = {
            mode: "ingress",
            className: "nginx",
            host: "nuve.local.test",
            annotations: { "bad key!": "x" },
        };
        let before = await clusterListing(suite, [LOCAL_NS]);
        let result = await preview(LOCAL, badAnnotation);
        assert.notStrictEqual(result.status, 0, explain("preview with a bad annotation", result));
        assert.match(
            result.output,
            /Ingress\.networking\.k8s\.io "licode-nuve" is invalid: metadata\.annotations: Invalid value: "bad key!"/,
        );
        assert.deepStrictEqual(
            await clusterListing(suite, [LOCAL_NS]),
            before,
            "the cluster changed",
        );

        // (b) A NodePort another Service already holds: only the API server knows.
        must(
            "create squatter",
            await kubectl(suite, [
                "create",
                "service",
                "nodeport",
                "e2e-squatter",
                "--tcp=80",
                "--node-port=30301",
                "-n",
                "default",
            ]),
        );
        try {
            const taken = clone(localBase);
            taken["licode:ingress"] = { mode: "nodePort", nodePort: 30301 };
            before = await clusterListing(suite, [LOCAL_NS]);
            result = await preview(LOCAL, taken);
            assert.notStrictEqual(
                result.status,
                0,
                explain("preview with a taken nodePort", result),
            );
            assert.match(
                result.output,
                /spec\.ports\[0\]\.nodePort: Invalid value: 30301: provided port is already allocated/,
            );
            assert.deepStrictEqual(
                await clusterListing(suite, [LOCAL_NS]),
                before,
                "the cluster changed",
            );
        } finally {
            await kubectl(suite, ["delete", "service", "e2e-squatter", "-n", "default"]);
            writeConfig(suite, LOCAL, localBase);
        }
    });

    it("5. SIGKILL in the middle of an up: cancel, refresh, up converge with nothing lost", async () => {
        await ensure(LOCAL, localBase);
        const pv = (await getJson<KObject>(suite, [
            "pv",
            `licode-mongodb-data-${LOCAL_NS}`,
        ])) as KObject;
        const pvc = (await getJson<KObject>(suite, [
            "pvc",
            "licode-mongodb-data",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        const secrets = async () =>
            (
                await getJson(suite, [
                    "secrets",
                    "-n",
                    LOCAL_NS,
                    "-l",
                    "app.kubernetes.io/name in (mongodb,rabbitmq)",
                ])
            ).items
                .map((s) => `${s.metadata.name} ${s.metadata.uid} ${JSON.stringify(s.data)}`)
                .sort();
        const credentialsBefore = await secrets();
        const outputsBefore = await stackOutputs(LOCAL);
        const statefulPodsBefore = await podsByTier(suite, LOCAL_NS);

        // A change that replaces the config Secret, rolls three workloads and updates the Service
        // (whose awaiter takes ~10 s): kill the CLI a moment after that update started.
        const target = clone(localBase);
        target["licode:logLevel"] = "WARN";
        target["licode:ingress"] = { mode: "nodePort", nodePort: 30310 };
        let trigger = "";
        const killed = await up(LOCAL, target, [], {
            onOutput: (all, child) => {
                if (trigger === "" && /Service nuve updating/.test(all)) {
                    trigger = "Service nuve updating";
                    setTimeout(() => child.kill("SIGKILL"), 1500);
                }
            },
        });
        assert.strictEqual(
            killed.signal,
            "SIGKILL",
            explain(`up killed after "${trigger}"`, killed),
        );

        // The killed update's lock blocks the next one until `pulumi cancel`.
        const blocked = await up(LOCAL, target);
        assert.notStrictEqual(blocked.status, 0, explain("up after the kill", blocked));
        assert.match(blocked.output, /the stack is currently locked/);

        const recovery = await recoverInterruptedUpdate(suite, LOCAL);
        console.log(
            `      killed mid-up; pending operations: ${recovery.pending.length === 0 ? "none" : recovery.pending.join("; ")}` +
                `; adopted: ${recovery.adopted.length}; dropped: ${recovery.dropped.length}`,
        );
        const converged = await up(LOCAL, target);
        assert.strictEqual(converged.status, 0, explain("up after recovery", converged));
        const noChanges = await preview(LOCAL, target, ["--expect-no-changes"]);
        assert.strictEqual(
            noChanges.status,
            0,
            explain("preview --expect-no-changes after recovery", noChanges),
        );

        await assertAllReady(LOCAL_NS, LOCAL_WORKLOADS);
        await assertNoOrphans(LOCAL, LOCAL_NS);
        const pvAfter = (await getJson<KObject>(suite, [
            "pv",
            `licode-mongodb-data-${LOCAL_NS}`,
        ])) as KObject;
        const pvcAfter = (await getJson<KObject>(suite, [
            "pvc",
            "licode-mongodb-data",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        assert.strictEqual(pvAfter.metadata.uid, pv.metadata.uid, "the MongoDB PV was replaced");
        assert.strictEqual(pvcAfter.metadata.uid, pvc.metadata.uid, "the MongoDB PVC was replaced");
        assert.strictEqual(pvcAfter.status.phase, "Bound");
        assert.deepStrictEqual(
            await secrets(),
            credentialsBefore,
            "the generated credentials changed",
        );
        const outputsAfter = await stackOutputs(LOCAL);
        assert.strictEqual(
            outputsAfter.superserviceId,
            outputsBefore.superserviceId,
            "the superservice ID changed",
        );
        assert.deepStrictEqual(outputsAfter.nuveEndpoint, { mode: "nodePort", nodePort: 30310 });
        const statefulPodsAfter = await podsByTier(suite, LOCAL_NS);
        for (const tier of ["mongodb", "rabbitmq"]) {
            assert.deepStrictEqual(
                statefulPodsAfter[tier],
                statefulPodsBefore[tier],
                `${tier} pods were replaced`,
            );
        }
    });

    it("6a. destroy removes everything of the dev-like stack (namespace and PV gone)", async () => {
        if (deployed[LOCAL] === undefined) {
            await ensure(LOCAL, localBase);
        }
        const result = await pulumi(suite, [
            "destroy",
            "--yes",
            "--skip-preview",
            "--non-interactive",
            "--stack",
            LOCAL,
        ]);
        assert.strictEqual(result.status, 0, explain("pulumi destroy local", result));
        deployed[LOCAL] = undefined;
        assert.strictEqual(
            await exists(suite, "namespace", LOCAL_NS),
            false,
            "the namespace is left",
        );
        assert.strictEqual(
            await exists(suite, "pv", `licode-mongodb-data-${LOCAL_NS}`),
            false,
            "the PV is left",
        );
        const left = await getJson(suite, [
            "persistentvolumes,namespaces",
            "-l",
            `app.kubernetes.io/instance=licode-${LOCAL}`,
        ]);
        assert.deepStrictEqual(
            left.items.map((o) => `${o.kind}/${o.metadata.name}`),
            [],
        );
        const state = await exportStack(suite, LOCAL);
        assert.deepStrictEqual(
            (state.resources ?? []).map((r) => r.urn),
            [],
        );
    });

    it("9. bring-your-own Secrets: the stack runs on the operator's Secrets; a missing key fails preview", async () => {
        // The operator makes the namespace and the Secrets before the first up.
        const ns = "licode-e2e-byo";
        const secrets = [
            ["mongodb-root", { user: "admin", pass: "byo-mongo-pw" }],
            ["rabbitmq-licode", { username: "licode-app", password: "byo-amqp-pw" }],
            ["nuve-superservice", { id: "0123456789abcdef01234567", key: "byo-key" }],
        ] as const;
        must("kubectl create namespace", await kubectl(suite, ["create", "namespace", ns]));
        for (const [name, data] of secrets) {
            must(
                `kubectl create secret ${name}`,
                await kubectl(suite, [
                    "create",
                    "secret",
                    "generic",
                    name,
                    "-n",
                    ns,
                    ...Object.entries(data).map(([k, v]) => `--from-literal=${k}=${v}`),
                ]),
            );
        }
        await initStack(suite, BYO);
        const byo: StackConfig = {
            ...clone(localBase),
            "licode:namespace": ns,
            "licode:createNamespace": false,
            "licode:mongodb": {
                ...(localBase["licode:mongodb"] as object),
                existingSecret: { name: "mongodb-root", usernameKey: "user", passwordKey: "pass" },
            },
            "licode:rabbitmq": {
                ...(localBase["licode:rabbitmq"] as object),
                existingSecret: { name: "rabbitmq-licode" },
            },
            "licode:superservice": { existingSecret: { name: "nuve-superservice" } },
        };
        must("pulumi up e2e-byo", await up(BYO, byo));
        await assertAllReady(ns, LOCAL_WORKLOADS);
        const mongo = await getJson<KObject>(suite, ["statefulset", "licode-mongodb", "-n", ns]);
        const env = mongo.spec.template.spec.containers[0].env as {
            name: string;
            valueFrom?: { secretKeyRef?: { name: string; key: string } };
        }[];
        assert.deepStrictEqual(
            env.find((e) => e.name === "MONGO_INITDB_ROOT_PASSWORD")?.valueFrom?.secretKeyRef,
            { name: "mongodb-root", key: "pass" },
        );
        const outputs = await stackOutputs(BYO);
        assert.strictEqual(outputs.superserviceId, "0123456789abcdef01234567");

        // A Secret without a key the stack needs: preview fails, naming it.
        must(
            "kubectl patch secret",
            await kubectl(suite, [
                "patch",
                "secret",
                "rabbitmq-licode",
                "-n",
                ns,
                "--type=json",
                "-p",
                '[{"op":"remove","path":"/data/password"}]',
            ]),
        );
        const broken = await preview(BYO, byo);
        assert.notStrictEqual(broken.status, 0, "preview must fail");
        assert.match(
            broken.output,
            /licode:rabbitmq\.existingSecret: Secret "rabbitmq-licode" has no key "password" \(password\)/,
        );

        must(
            "pulumi destroy e2e-byo",
            await pulumi(suite, [
                "destroy",
                "--yes",
                "--skip-preview",
                "--non-interactive",
                "--stack",
                BYO,
            ]),
        );
        must(
            "kubectl delete namespace",
            await kubectl(suite, ["delete", "namespace", ns, "--wait=true"]),
        );
        assert.strictEqual(await exists(suite, "pv", `licode-mongodb-data-${ns}`), false);
    });

    it("10. a stack deployed before @pulumi/random keeps its credentials and superservice ID through the migration, rolling no pod", async () => {
        const ns = "licode-e2e-migrate";
        // The local stack as the releases under test knew it: they predate the metrics and TURN keys
        // (their config schema refuses keys it does not know).
        const config: StackConfig = Object.fromEntries(
            Object.entries({ ...clone(localBase), "licode:namespace": ns }).filter(
                ([key]) => key !== "licode:metrics" && key !== "licode:turn",
            ),
        );
        // The previous release's program (generated values as dynamic resources) in the workspace.
        const useProgram = (commit: string | undefined) => {
            for (const f of ["index.ts", "components"]) {
                fs.rmSync(path.join(suite.workspace, f), { recursive: true, force: true });
            }
            if (commit === undefined) {
                for (const f of ["index.ts", "components"]) {
                    fs.cpSync(path.join(ROOT, f), path.join(suite.workspace, f), {
                        recursive: true,
                    });
                }
                return;
            }
            const archive = spawnSync("git", [
                "-C",
                ROOT,
                "archive",
                commit,
                "index.ts",
                "components",
            ]);
            assert.strictEqual(archive.status, 0, `git archive ${commit}: ${archive.stderr}`);
            const untar = spawnSync("tar", ["-x", "-C", suite.workspace], {
                input: archive.stdout,
            });
            assert.strictEqual(untar.status, 0, String(untar.stderr));
        };
        await initStack(suite, MIGRATE);
        try {
            useProgram(PRE_RANDOM_COMMIT);
            must("pulumi up (previous release)", await up(MIGRATE, config));
        } finally {
            useProgram(undefined);
        }
        const outputsBefore = await stackOutputs(MIGRATE, true);
        const podsBefore = await podsByTier(suite, ns);
        const secretsBefore = await getJson(suite, ["secrets", "-n", ns]);
        const before = await exportCheckpoint(suite, MIGRATE, false);
        assert.ok(
            (before.deployment.resources ?? []).some(
                (r) => r.type === "pulumi-nodejs:dynamic:Resource",
            ),
            "the previous release generated its values with dynamic resources",
        );

        // The documented migration (npm run migrate:random runs these steps on a stack).
        const { deployment, moved } = migrateDeployment(before.deployment, MIGRATE);
        assert.strictEqual(moved.length, 5);
        const file = path.join(suite.dir, "migrated.json");
        fs.writeFileSync(file, JSON.stringify({ ...before, deployment }));
        must(
            "pulumi stack import",
            await pulumi(suite, ["stack", "import", "--stack", MIGRATE, "--file", file]),
        );

        try {
            useProgram(RANDOM_COMMIT);
            const p = await preview(MIGRATE, config, ["--expect-no-changes"]);
            assert.strictEqual(p.status, 0, explain("preview after the migration", p));
            must("pulumi up (the release with the migration)", await up(MIGRATE, config));
        } finally {
            useProgram(undefined);
        }
        const outputsAfter = await stackOutputs(MIGRATE, true);
        assert.strictEqual(outputsAfter.superserviceId, outputsBefore.superserviceId);
        assert.strictEqual(outputsAfter.superserviceKey, outputsBefore.superserviceKey);
        assert.deepStrictEqual(await podsByTier(suite, ns), podsBefore, "no pod rolled");
        const secretsAfter = await getJson(suite, ["secrets", "-n", ns]);
        const data = (list: { items: KObject[] }) =>
            Object.fromEntries(list.items.map((s) => [s.metadata.name, JSON.stringify(s.data)]));
        assert.deepStrictEqual(data(secretsAfter), data(secretsBefore), "the same credentials");
        const after = await exportStack(suite, MIGRATE, false);
        const types = new Set((after.resources ?? []).map((r) => r.type));
        assert.ok(types.has("random:index/randomPassword:RandomPassword"));
        assert.ok(types.has("random:index/randomId:RandomId"));
        assert.ok(!types.has("pulumi-nodejs:dynamic:Resource"));

        // On to this tree: whatever else changed since, no generated value does.
        must("pulumi up (this release)", await up(MIGRATE, config));
        const outputsNow = await stackOutputs(MIGRATE, true);
        assert.strictEqual(outputsNow.superserviceId, outputsBefore.superserviceId);
        assert.strictEqual(outputsNow.superserviceKey, outputsBefore.superserviceKey);
        const credentials = (list: { items: KObject[] }) =>
            Object.fromEntries(
                list.items
                    .filter((s) => !s.metadata.name.startsWith("licode-config"))
                    .map((s) => [s.metadata.name, JSON.stringify(s.data)]),
            );
        assert.deepStrictEqual(
            credentials(await getJson(suite, ["secrets", "-n", ns])),
            credentials(secretsBefore),
            "the same credentials after upgrading to this tree",
        );

        must(
            "pulumi destroy e2e-migrate",
            await pulumi(suite, [
                "destroy",
                "--yes",
                "--skip-preview",
                "--non-interactive",
                "--stack",
                MIGRATE,
            ]),
        );
    });

    it("11. metrics: annotations on a cluster without the Prometheus Operator; ServiceMonitors and rules, accepted, once its CRDs exist", async () => {
        const ns = "licode-e2e-metrics";
        await initStack(suite, METRICS);
        // Pulumi.local.yaml turns metrics on: the case turns them off and on itself.
        const base: StackConfig = {
            ...clone(localBase),
            "licode:namespace": ns,
            "licode:ingress": { mode: "nodePort", nodePort: 30301 },
            "licode:metrics": { enabled: false },
        };
        const metrics: StackConfig = {
            ...clone(base),
            "licode:metrics": { enabled: true, labels: { release: "kube-prometheus-stack" } },
        };
        const annotationsOf = async (service: string) =>
            (await getJson<KObject>(suite, ["service", service, "-n", ns])).metadata.annotations ??
            {};
        const operatorKinds = async () => {
            const state = await exportStack(suite, METRICS);
            return (state.resources ?? [])
                .map((r) => r.type)
                .filter((type) => type.startsWith("kubernetes:monitoring.coreos.com/"))
                .sort();
        };

        // No CRDs: auto finds the group absent; the Services carry the scrape annotations.
        const plain = must("pulumi up (metrics, no CRDs)", await up(METRICS, metrics));
        assert.doesNotMatch(plain.output, /is unknown/, "the cluster answered; nothing to warn");
        await assertAllReady(ns, LOCAL_WORKLOADS);
        for (const service of ["licode-rov", "licode-rabbitmq"]) {
            assert.strictEqual(
                (await annotationsOf(service))["prometheus.io/scrape"],
                "true",
                service,
            );
        }
        const broker = await getJson<KObject>(suite, ["service", "licode-rabbitmq", "-n", ns]);
        assert.ok(
            (broker.spec.ports as { name: string }[]).some((p) => p.name === "prometheus"),
            "the broker's Service serves the Prometheus port",
        );
        assert.deepStrictEqual(await operatorKinds(), []);
        const dashboards = await getJson(suite, [
            "configmaps",
            "-n",
            ns,
            "-l",
            "grafana_dashboard=1",
        ]);
        assert.strictEqual(dashboards.items.length, 1, "the dashboard ConfigMap");

        // The Prometheus Operator's own CRD manifests, from its Go module.
        const download = spawnSync("go", ["mod", "download", "-json", PROMETHEUS_OPERATOR], {
            encoding: "utf8",
            env: { ...process.env, GOFLAGS: "-mod=mod" },
        });
        assert.strictEqual(download.status, 0, download.stderr);
        const moduleDir = (JSON.parse(download.stdout) as { Dir: string }).Dir;
        const crdDir = path.join(moduleDir, "example", "prometheus-operator-crd");
        for (const kind of ["servicemonitors", "prometheusrules"]) {
            must(
                `kubectl apply ${kind} CRD`,
                await kubectl(suite, [
                    "apply",
                    "--server-side",
                    "-f",
                    path.join(crdDir, `monitoring.coreos.com_${kind}.yaml`),
                ]),
            );
            must(
                `${kind} CRD established`,
                await kubectl(suite, [
                    "wait",
                    "--for=condition=Established",
                    `crd/${kind}.monitoring.coreos.com`,
                    "--timeout=60s",
                ]),
            );
        }

        // With the CRDs: ServiceMonitors and the rules instead of annotations, accepted by the
        // API server (validated against the CRDs' schemas), and a second run changes nothing.
        must("pulumi up (metrics, CRDs)", await up(METRICS, metrics));
        assert.deepStrictEqual(await operatorKinds(), [
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
            "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
            "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
        ]);
        const monitors = await getJson(suite, ["servicemonitors.monitoring.coreos.com", "-n", ns]);
        assert.deepStrictEqual(
            monitors.items.map((m) => (m.spec.endpoints as { port: string }[])[0].port).sort(),
            ["metrics", "prometheus"],
        );
        for (const monitor of monitors.items) {
            assert.strictEqual(monitor.metadata.labels?.release, "kube-prometheus-stack");
        }
        const rules = await getJson(suite, ["prometheusrules.monitoring.coreos.com", "-n", ns]);
        assert.strictEqual(rules.items.length, 1);
        const alerts = (
            rules.items[0].spec.groups as { rules: { alert: string; expr: string }[] }[]
        )[0].rules;
        assert.ok(alerts.some((r) => r.alert === "LicodeMongoDbDown"));
        assert.ok(alerts.every((r) => r.expr.includes(`namespace="${ns}"`)));
        for (const service of ["licode-rov", "licode-rabbitmq"]) {
            assert.strictEqual((await annotationsOf(service))["prometheus.io/scrape"], undefined);
        }
        const again = await preview(METRICS, metrics, ["--expect-no-changes"]);
        assert.strictEqual(again.status, 0, explain("preview --expect-no-changes", again));

        // Metrics off: ROV and every monitoring object go; the broker's port goes with them.
        must("pulumi up (metrics off)", await up(METRICS, base));
        assert.deepStrictEqual(await operatorKinds(), []);
        assert.strictEqual(await exists(suite, "deployment", "licode-rov", ns), false);
        const monitorsLeft = await getJson(suite, [
            "servicemonitors.monitoring.coreos.com",
            "-n",
            ns,
        ]);
        assert.strictEqual(monitorsLeft.items.length, 0);
        await assertNoOrphans(METRICS, ns);

        must(
            "pulumi destroy e2e-metrics",
            await pulumi(suite, [
                "destroy",
                "--yes",
                "--skip-preview",
                "--non-interactive",
                "--stack",
                METRICS,
            ]),
        );
        for (const kind of ["servicemonitors", "prometheusrules"]) {
            must(
                `kubectl delete ${kind} CRD`,
                await kubectl(suite, ["delete", "crd", `${kind}.monitoring.coreos.com`]),
            );
        }
    });

    it("5b. SIGKILL during a cold up (creates in flight): pending creates adopted, converges, PV and PVC kept", async () => {
        await ensureDestroyed(LOCAL);
        // Killed once the MongoDB claim exists and the bootstrap Job's create has started: the Job,
        // autonamed, is in flight, and so are the Services (~10 s awaiters). Nothing orders the claim
        // before the Job, so the kill waits for both.
        let trigger = "";
        const killed = await up(LOCAL, localBase, [], {
            onOutput: (all, child) => {
                const claim = /PersistentVolumeClaim mongodb-data created/.exec(all);
                const job = /Job superservice creating/.exec(all);
                if (trigger === "" && claim !== null && job !== null) {
                    trigger = `${claim[0]}; ${job[0]}`;
                    setTimeout(() => child.kill("SIGKILL"), 100);
                }
            },
        });
        assert.strictEqual(
            killed.signal,
            "SIGKILL",
            explain(`up killed after "${trigger}"`, killed),
        );
        const pv = (await getJson<KObject>(suite, [
            "pv",
            `licode-mongodb-data-${LOCAL_NS}`,
        ])) as KObject;
        const pvc = (await getJson<KObject>(suite, [
            "pvc",
            "licode-mongodb-data",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        const secretsAtKill = (await getJson(suite, ["secrets", "-n", LOCAL_NS])).items
            .map((o) => o.metadata.name)
            .sort();

        const recovery = await recoverInterruptedUpdate(suite, LOCAL);
        console.log(
            `      killed after "${trigger}"; pending operations: ${recovery.pending.length === 0 ? "none" : recovery.pending.join("; ")}` +
                `; adopted: ${recovery.adopted.length}; dropped: ${recovery.dropped.length}`,
        );
        assert.ok(
            recovery.pending.some(
                (p) => p.startsWith("creating ") && p.includes("kubernetes:core/v1:Service::"),
            ),
            `no Service create was in flight: ${recovery.pending.join("; ")}`,
        );
        must("up after recovery", await up(LOCAL, localBase));
        const noChanges = await preview(LOCAL, localBase, ["--expect-no-changes"]);
        assert.strictEqual(
            noChanges.status,
            0,
            explain("preview --expect-no-changes after recovery", noChanges),
        );
        await assertAllReady(LOCAL_NS, LOCAL_WORKLOADS);
        await assertNoOrphans(LOCAL, LOCAL_NS);
        const pvAfter = (await getJson<KObject>(suite, [
            "pv",
            `licode-mongodb-data-${LOCAL_NS}`,
        ])) as KObject;
        const pvcAfter = (await getJson<KObject>(suite, [
            "pvc",
            "licode-mongodb-data",
            "-n",
            LOCAL_NS,
        ])) as KObject;
        assert.strictEqual(pvAfter.metadata.uid, pv.metadata.uid, "the MongoDB PV was replaced");
        assert.strictEqual(pvcAfter.metadata.uid, pvc.metadata.uid, "the MongoDB PVC was replaced");
        // Every Secret that existed when the CLI died is still the one in use (none regenerated).
        const secretsNow = (await getJson(suite, ["secrets", "-n", LOCAL_NS])).items.map(
            (o) => o.metadata.name,
        );
        for (const name of secretsAtKill) {
            assert.ok(
                secretsNow.includes(name),
                `Secret ${name} was replaced: now ${secretsNow.join(", ")}`,
            );
        }
    });

    it("12. TURN over TLS with neither cert-manager nor the Secret: preview warns, up stops before deploying anything", async () => {
        assert.strictEqual(issuer, undefined, "this case runs before cert-manager's CRD exists");
        const missing = new RegExp(
            `licode:turn\\.tls\\.secretName: the Secret "${TURN_TLS_SECRET}" does not exist in namespace "${PROD_NS}"`,
        );
        // CI previews a change before its pipeline creates the Secret: the preview passes, saying so.
        const previewed = await preview(PROD, prodBase);
        assert.strictEqual(previewed.status, 0, explain("preview without the Secret", previewed));
        assert.match(previewed.output, missing);
        assert.match(
            previewed.output,
            /This preview goes on without it; `pulumi up` stops here unless the Secret exists by then\./,
        );
        // The update stops before registering anything, naming the fixes.
        const refused = await up(PROD, prodBase);
        assert.notStrictEqual(refused.status, 0, explain("up without the Secret", refused));
        assert.match(refused.output, missing);
        assert.match(
            refused.output,
            /kubectl -n licode-e2e-prod create secret tls licode-turn-tls/,
        );
        assert.match(
            refused.output,
            /or install cert-manager: the next run declares the Certificate/,
        );
        assert.match(refused.output, /Nothing was deployed\./);
        const state = await exportStack(suite, PROD);
        assert.deepStrictEqual(
            (state.resources ?? [])
                .map((r) => r.type)
                .filter((t) => t.startsWith("kubernetes:") || t.startsWith("pulumi:providers:")),
            [],
        );
        assert.strictEqual(await exists(suite, "namespace", PROD_NS), false);
        assert.strictEqual(await exists(suite, "pv", `licode-mongodb-data-${PROD_NS}`), false);
    });

    it("1b. up from empty (prod-like: ingress, NFS PV, protected data, TURN with cert-manager): every workload Ready, every Service has endpoints", async () => {
        // The two stacks' controllers would compete for the signalling nodes' host port.
        await ensureDestroyed(LOCAL);
        const certManager = await withCertManager();
        const result = must("pulumi up e2e-prod", await up(PROD, prodBase));
        assert.match(result.output, /Resources:\s+\+ \d+ created/);
        await assertAllReady(PROD_NS, PROD_WORKLOADS);
        const ec = (await getJson<KObject>(suite, [
            "deployment",
            "licode-erizo-controller",
            "-n",
            PROD_NS,
        ])) as KObject;
        assert.strictEqual(ec.status.readyReplicas, 2);
        const ingress = (await getJson<KObject>(suite, [
            "ingress",
            "licode-nuve",
            "-n",
            PROD_NS,
        ])) as KObject;
        assert.deepStrictEqual(ingress.spec.tls, [
            { hosts: ["nuve.licode.test"], secretName: "nuve-tls" },
        ]);
        assert.strictEqual(ingress.status.loadBalancer.ingress[0].ip, "127.0.0.1");
        const pv = (await getJson<KObject>(suite, [
            "pv",
            `licode-mongodb-data-${PROD_NS}`,
        ])) as KObject;
        assert.deepStrictEqual(pv.spec.nfs, { server: NFS_SERVER, path: "/nfs_mongodb/mongodb" });
        assert.strictEqual(pv.spec.persistentVolumeReclaimPolicy, "Retain");
        assert.strictEqual(pv.status.phase, "Bound");
        const pvc = (await getJson<KObject>(suite, [
            "pvc",
            "licode-mongodb-data",
            "-n",
            PROD_NS,
        ])) as KObject;
        assert.strictEqual(pvc.status.phase, "Bound");
        // TURN's certificate: the stack declared a Certificate for turn.host, up waited until it
        // was issued, and the pod template carries the sha256 of the Secret it made.
        assert.deepStrictEqual(certManager.errors, [], "the stand-in issuer failed");
        const certificates = await getJson(suite, ["certificates.cert-manager.io", "-n", PROD_NS]);
        assert.deepStrictEqual(
            certificates.items.map((c) => [c.spec.secretName, c.spec.dnsNames]),
            [[TURN_TLS_SECRET, ["turn.licode.example.com"]]],
        );
        assert.ok(
            certManager.issued.includes(`${PROD_NS}/${certificates.items[0].metadata.name}`),
            `issued: ${certManager.issued.join(", ")}`,
        );
        const tlsChecksum = async () =>
            checksum(
                (await getJson<KObject>(suite, ["secret", TURN_TLS_SECRET, "-n", PROD_NS])).data,
            );
        const turn = (await getJson<KObject>(suite, [
            "daemonset",
            "licode-turn",
            "-n",
            PROD_NS,
        ])) as KObject;
        assert.strictEqual(
            turn.spec.template.metadata.annotations["checksum/turn-tls"],
            await tlsChecksum(),
        );
        assert.deepStrictEqual(turn.spec.template.spec.nodeSelector, { "licode.io/turn": "true" });
        // The program's lookup (components/monitoring/api-discovery.ts) against this API server.
        const lookup = (name: string) =>
            lookupObject(`/api/v1/namespaces/${PROD_NS}/secrets/${name}`, {
                env: suite.pulumiEnv,
            });
        const found = lookup(TURN_TLS_SECRET);
        assert.strictEqual(found.status, "found", JSON.stringify(found));
        assert.deepStrictEqual(Object.keys(found).sort(), ["server", "status"], "metadata only");
        assert.strictEqual(lookup("no-such-secret").status, "absent");
        await assertNoOrphans(PROD, PROD_NS);
        const p = await preview(PROD, prodBase, ["--expect-no-changes"]);
        assert.strictEqual(p.status, 0, explain("second preview of e2e-prod", p));

        // A renewal writes a new certificate into the Secret: the next run changes TURN's pod
        // template, and nothing else.
        await certManager.renew(PROD_NS, TURN_TLS_SECRET, ["turn.licode.example.com"]);
        const renewed = await preview(PROD, prodBase, ["--json"]);
        assert.strictEqual(renewed.status, 0, explain("preview after a renewal", renewed));
        const steps = (
            (JSON.parse(renewed.stdout) as { steps?: { op: string; urn: string }[] }).steps ?? []
        )
            .filter((step) => step.op !== "same" && step.op !== "read")
            .map((step) => {
                const [, , type, name] = step.urn.split("::");
                return `${step.op} ${type.split("$").pop()} ${name}`;
            });
        assert.deepStrictEqual(steps, ["update kubernetes:apps/v1:DaemonSet turn"]);
    });

    /** What the prod-like stack's data depends on, recorded before 6b's destroy. */
    let protectedData:
        { pv: string; pvc: string; mongoPassword: string; superserviceId: string } | undefined;

    const mongoPassword = async (namespace: string): Promise<string> => {
        const secrets = await getJson(suite, [
            "secrets",
            "-n",
            namespace,
            "-l",
            "app.kubernetes.io/name=mongodb",
        ]);
        assert.strictEqual(secrets.items.length, 1, "one MongoDB credentials Secret");
        return Buffer.from(secrets.items[0].data.password, "base64").toString("utf8");
    };

    /** Runs the destroy that must stop at the protected PV and PVC. */
    async function destroyStoppingAtProtectedData(): Promise<RunResult> {
        const result = await pulumi(suite, [
            "destroy",
            "--yes",
            "--skip-preview",
            "--non-interactive",
            "--stack",
            PROD,
        ]);
        deployed[PROD] = undefined;
        return result;
    }

    /** The identities the prod-like stack's protected data must keep across a stopped destroy. */
    async function captureProtectedData(): Promise<NonNullable<typeof protectedData>> {
        const pv = (await getJson<KObject>(suite, [
            "pv",
            `licode-mongodb-data-${PROD_NS}`,
        ])) as KObject;
        const pvc = (await getJson<KObject>(suite, [
            "pvc",
            "licode-mongodb-data",
            "-n",
            PROD_NS,
        ])) as KObject;
        const outputs = await stackOutputs(PROD);
        return {
            pv: pv.metadata.uid,
            pvc: pvc.metadata.uid,
            mongoPassword: await mongoPassword(PROD_NS),
            superserviceId: outputs.superserviceId,
        };
    }

    it("6b. destroy of the prod-like stack keeps the protected PV and PVC and names them", async () => {
        await ensureDestroyed(LOCAL);
        await withCertManager();
        await ensure(PROD, prodBase);
        protectedData = await captureProtectedData();
        const result = await destroyStoppingAtProtectedData();
        assert.notStrictEqual(result.status, 0, explain("destroy of protected data", result));
        assert.match(
            result.output,
            /PersistentVolumeClaim::mongodb-data" cannot be deleted\s+because it is protected/,
        );
        assert.match(result.output, /pulumi state unprotect/);
        const pvAfter = (await getJson<KObject>(suite, [
            "pv",
            `licode-mongodb-data-${PROD_NS}`,
        ])) as KObject;
        const pvcAfter = (await getJson<KObject>(suite, [
            "pvc",
            "licode-mongodb-data",
            "-n",
            PROD_NS,
        ])) as KObject;
        assert.strictEqual(pvAfter.metadata.uid, protectedData.pv);
        assert.strictEqual(pvcAfter.metadata.uid, protectedData.pvc);
        assert.strictEqual(pvcAfter.metadata.deletionTimestamp, undefined);
        // The workloads are gone; the namespace stays because it holds the claim.
        const workloads = await getJson(suite, [
            "deployments.apps,statefulsets.apps,daemonsets.apps,jobs.batch,services",
            "-n",
            PROD_NS,
        ]);
        assert.deepStrictEqual(
            workloads.items.map((o) => `${o.kind}/${o.metadata.name}`),
            [],
        );
        const state = await exportStack(suite, PROD);
        const kept = (state.resources ?? []).filter((r) => r.protect).map((r) => r.type);
        assert.ok(
            kept.includes("kubernetes:core/v1:PersistentVolume"),
            `protected: ${kept.join(", ")}`,
        );
        assert.ok(
            kept.includes("kubernetes:core/v1:PersistentVolumeClaim"),
            `protected: ${kept.join(", ")}`,
        );
    });

    it("6c. up after a destroy stopped at protected data reattaches it with the same credentials; unprotect + destroy removes it", async () => {
        await withCertManager();
        if (
            protectedData === undefined ||
            (await exists(suite, "deployment", "licode-nuve", PROD_NS))
        ) {
            // 6b did not leave its state: make it.
            await ensureDestroyed(LOCAL);
            await ensure(PROD, prodBase);
            protectedData = await captureProtectedData();
            await destroyStoppingAtProtectedData();
        }
        try {
            must("up after the stopped destroy", await up(PROD, prodBase));
            await assertAllReady(PROD_NS, PROD_WORKLOADS);
            const pv = (await getJson<KObject>(suite, [
                "pv",
                `licode-mongodb-data-${PROD_NS}`,
            ])) as KObject;
            const pvc = (await getJson<KObject>(suite, [
                "pvc",
                "licode-mongodb-data",
                "-n",
                PROD_NS,
            ])) as KObject;
            assert.strictEqual(pv.metadata.uid, protectedData.pv, "the PV was replaced");
            assert.strictEqual(pvc.metadata.uid, protectedData.pvc, "the PVC was replaced");
            // MongoDB applies its root password only when it first initialises the data directory, and
            // the kept data holds the superservice: both must survive, or Nuve cannot log in to its data.
            const outputs = await stackOutputs(PROD);
            assert.strictEqual(
                await mongoPassword(PROD_NS),
                protectedData.mongoPassword,
                "the kept MongoDB data's root password was regenerated",
            );
            assert.strictEqual(
                outputs.superserviceId,
                protectedData.superserviceId,
                "the superservice ID was regenerated (the kept data holds the old one)",
            );
        } finally {
            // Deleting the data takes a deliberate unprotect, as the README says.
            await ensureDestroyed(PROD);
            assert.strictEqual(await exists(suite, "namespace", PROD_NS), false);
            assert.strictEqual(await exists(suite, "pv", `licode-mongodb-data-${PROD_NS}`), false);
        }
    });
});
