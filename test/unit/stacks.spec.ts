import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    GENERATED_TYPES,
    generatedValue,
    ProgramError,
    ProgramRun,
    StackResource,
    runProgram,
    stackConfig,
} from "../harness/program";

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job"];

function kindOf(resource: StackResource): string {
    return resource.type.split(":").pop() ?? "";
}

function workloads(run: ProgramRun): StackResource[] {
    return run.resources.filter(
        (r) => r.type.startsWith("kubernetes:") && WORKLOAD_KINDS.includes(kindOf(r)),
    );
}

function podTemplate(resource: StackResource): any {
    return resource.props.spec.template;
}

function find(run: ProgramRun, kind: string, name: string): StackResource {
    const found = run.resources.find(
        (r) => r.type.startsWith("kubernetes:") && kindOf(r) === kind && r.name === name,
    );
    assert.ok(found, `no ${kind} named ${name}`);
    return found;
}

function ofKind(run: ProgramRun, kind: string): StackResource[] {
    return run.resources.filter((r) => r.type.startsWith("kubernetes:") && kindOf(r) === kind);
}

function matches(selector: Record<string, string>, podLabels: Record<string, string>): boolean {
    return Object.entries(selector).every(([key, value]) => podLabels[key] === value);
}

/** The pod-template checksums of every workload, keyed by workload. */
function checksums(run: ProgramRun): Record<string, Record<string, string>> {
    return Object.fromEntries(
        workloads(run).map((w) => [
            `${kindOf(w)}/${w.name}`,
            Object.fromEntries(
                Object.entries(podTemplate(w).metadata.annotations ?? {}).filter(([k]) =>
                    k.startsWith("checksum/"),
                ),
            ) as Record<string, string>,
        ]),
    );
}

/** Which workloads' pod templates differ between two runs. */
function changedTemplates(before: ProgramRun, after: ProgramRun): string[] {
    const a = Object.fromEntries(
        workloads(before).map((w) => [`${kindOf(w)}/${w.name}`, JSON.stringify(podTemplate(w))]),
    );
    const b = Object.fromEntries(
        workloads(after).map((w) => [`${kindOf(w)}/${w.name}`, JSON.stringify(podTemplate(w))]),
    );
    return Object.keys(a)
        .filter((key) => a[key] !== b[key])
        .sort();
}

const LICODE_READERS = [
    "DaemonSet/erizo-agent-default",
    "Deployment/erizo-controller",
    "Deployment/nuve",
];

for (const stack of ["dev", "prod"]) {
    describe(`the ${stack} stack`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram(stack, stackConfig(stack));
        });

        it("gives every container CPU, memory and ephemeral-storage requests and limits", () => {
            for (const workload of workloads(run)) {
                const spec = podTemplate(workload).spec;
                for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
                    const where = `${kindOf(workload)} ${workload.name} container ${container.name}`;
                    for (const kind of ["requests", "limits"]) {
                        for (const resource of ["cpu", "memory", "ephemeral-storage"]) {
                            assert.ok(
                                container.resources?.[kind]?.[resource],
                                `${where} has no ${kind}.${resource}`,
                            );
                        }
                    }
                }
            }
        });

        it("gives every long-running container startup, readiness and liveness probes, and init containers none", () => {
            for (const workload of workloads(run)) {
                const spec = podTemplate(workload).spec;
                for (const container of spec.initContainers ?? []) {
                    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
                        assert.strictEqual(
                            container[probe],
                            undefined,
                            `${workload.name} init ${container.name} has a ${probe}`,
                        );
                    }
                }
                if (kindOf(workload) === "Job") {
                    continue;
                }
                for (const container of spec.containers) {
                    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
                        const handler = container[probe];
                        assert.ok(
                            handler?.exec ?? handler?.httpGet ?? handler?.tcpSocket,
                            `${kindOf(workload)} ${workload.name} container ${container.name} lacks a ${probe} with a handler`,
                        );
                    }
                }
            }
        });

        it("runs ErizoController and ErizoAgent on the host network with ClusterFirstWithHostNet and no Service", () => {
            const hostTiers = [
                find(run, "Deployment", "erizo-controller"),
                ...ofKind(run, "DaemonSet").filter((ds) => ds.name.startsWith("erizo-agent-")),
            ];
            assert.ok(hostTiers.length >= 2);
            for (const workload of hostTiers) {
                const spec = podTemplate(workload).spec;
                assert.strictEqual(spec.hostNetwork, true, workload.name);
                assert.strictEqual(spec.dnsPolicy, "ClusterFirstWithHostNet", workload.name);
                assert.ok(spec.terminationGracePeriodSeconds > 0);
                assert.ok(
                    spec.containers[0].lifecycle.preStop.exec.command
                        .join(" ")
                        .includes("kill -TERM"),
                );
                for (const service of ofKind(run, "Service")) {
                    assert.ok(
                        !matches(
                            service.props.spec.selector,
                            podTemplate(workload).metadata.labels,
                        ),
                        `Service ${service.name} selects ${workload.name}`,
                    );
                }
            }
            // TURN (when on) has its own host-network test below.
            for (const workload of workloads(run).filter(
                (w) => !hostTiers.includes(w) && w.name !== "turn",
            )) {
                assert.notStrictEqual(podTemplate(workload).spec.hostNetwork, true, workload.name);
            }
        });

        it("keeps ErizoControllers on separate nodes", () => {
            const spec = podTemplate(find(run, "Deployment", "erizo-controller")).spec;
            const [term] =
                spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
            assert.strictEqual(term.topologyKey, "kubernetes.io/hostname");
            assert.ok(
                matches(
                    term.labelSelector.matchLabels,
                    podTemplate(find(run, "Deployment", "erizo-controller")).metadata.labels,
                ),
            );
        });

        it("labels every object of the tiers and selects pods on name and instance", () => {
            for (const workload of workloads(run)) {
                const podLabels = podTemplate(workload).metadata.labels;
                for (const key of ["name", "instance", "component", "part-of", "version"]) {
                    assert.ok(
                        podLabels[`app.kubernetes.io/${key}`],
                        `${workload.name} lacks app.kubernetes.io/${key}`,
                    );
                }
                assert.strictEqual(podLabels["app.kubernetes.io/instance"], `licode-${stack}`);
                if (kindOf(workload) === "Job") {
                    continue;
                }
                const selector = workload.props.spec.selector.matchLabels;
                assert.ok(
                    matches(selector, podLabels),
                    `${workload.name}'s selector misses its pods`,
                );
                const extra = Object.keys(selector).filter(
                    (key) =>
                        ![
                            "app.kubernetes.io/name",
                            "app.kubernetes.io/instance",
                            "licode.io/media-pool",
                        ].includes(key),
                );
                assert.deepStrictEqual(
                    extra,
                    [],
                    `${workload.name} selects on more than name and instance`,
                );
            }
            for (const service of ofKind(run, "Service")) {
                const selected = workloads(run).filter((w) =>
                    matches(service.props.spec.selector, podTemplate(w).metadata.labels),
                );
                assert.strictEqual(
                    selected.length,
                    1,
                    `Service ${service.name} selects ${selected.length} workloads`,
                );
            }
        });

        it("keeps every secret value out of ConfigMaps, env literals, labels and annotations", () => {
            const secrets = new Set<string>();
            for (const resource of run.resources) {
                if (GENERATED_TYPES.includes(resource.type)) {
                    secrets.add(generatedValue(resource));
                }
            }
            secrets.delete(run.outputs.superserviceId as string);
            assert.ok(secrets.size >= 3);
            const leaks = (text: string) => [...secrets].filter((secret) => text.includes(secret));
            for (const configMap of ofKind(run, "ConfigMap")) {
                assert.deepStrictEqual(
                    leaks(JSON.stringify(configMap.props)),
                    [],
                    `ConfigMap ${configMap.name}`,
                );
            }
            for (const resource of run.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
                assert.deepStrictEqual(
                    leaks(JSON.stringify(resource.props.metadata ?? {})),
                    [],
                    `${resource.name} metadata`,
                );
            }
            for (const workload of workloads(run)) {
                const spec = podTemplate(workload).spec;
                assert.deepStrictEqual(leaks(JSON.stringify(podTemplate(workload).metadata)), []);
                for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
                    const literals = (container.env ?? []).map((e: any) => e.value ?? "").join(" ");
                    assert.deepStrictEqual(
                        leaks(literals + JSON.stringify(container.command ?? [])),
                        [],
                        `${workload.name}/${container.name}`,
                    );
                }
            }
            const configSecret = find(run, "Secret", "licode-config");
            assert.ok(
                leaks(JSON.stringify(configSecret.props.stringData)).length >= 2,
                "the config Secret carries the credentials",
            );
            assert.ok(
                run.secretOutputs.includes("superserviceKey"),
                "the superservice key is exported as a secret",
            );
        });

        it("carries the superservice ID and key into Nuve's config and the bootstrap Job", () => {
            const id = run.outputs.superserviceId as string;
            assert.match(id, /^[0-9a-f]{24}$/);
            const config = find(run, "Secret", "licode-config").props.stringData[
                "licode_config.js"
            ];
            assert.ok(config.includes(`"superserviceID": "${id}"`));
            assert.ok(
                config.includes(`"superserviceKey": "${run.outputs.superserviceKey as string}"`),
            );
            const job = find(run, "Job", "superservice");
            const env = podTemplate(job).spec.containers[0].env.map((e: any) => e.name);
            assert.deepStrictEqual(env.slice(0, 3), [
                "MONGO_URL",
                "SUPERSERVICE_ID",
                "SUPERSERVICE_KEY",
            ]);
            assert.match(
                podTemplate(job).spec.containers[0].command[2],
                /updateOne\([\s\S]*upsert: true/,
            );
        });

        it("mounts the config where the upstream entrypoint copies it from", () => {
            for (const name of LICODE_READERS.filter(
                (n) => stack === "dev" || !n.includes("default"),
            )) {
                const [kind, workloadName] = name.split("/");
                const mounts = podTemplate(find(run, kind, workloadName)).spec.containers[0]
                    .volumeMounts;
                assert.ok(
                    mounts.some(
                        (m: any) => m.mountPath === "/opt/licode/scripts/licode_default.js",
                    ),
                );
            }
        });
    });
}

describe("stack differences (data, not code paths)", () => {
    let dev: ProgramRun;
    let prod: ProgramRun;
    before(async () => {
        dev = await runProgram("dev", stackConfig("dev"));
        prod = await runProgram("prod", stackConfig("prod"));
    });

    it("exposes Nuve on a NodePort in dev and through a TLS Ingress in prod", () => {
        const devService = find(dev, "Service", "nuve");
        assert.strictEqual(devService.props.spec.type, "NodePort");
        assert.strictEqual(devService.props.spec.ports[0].nodePort, 30300);
        assert.strictEqual(ofKind(dev, "Ingress").length, 0);
        assert.deepStrictEqual(dev.outputs.nuveEndpoint, { mode: "nodePort", nodePort: 30300 });

        const prodService = find(prod, "Service", "nuve");
        assert.strictEqual(prodService.props.spec.type, "ClusterIP");
        const ingress = find(prod, "Ingress", "nuve");
        assert.strictEqual(ingress.type, "kubernetes:networking.k8s.io/v1:Ingress");
        assert.strictEqual(ingress.props.spec.ingressClassName, "nginx");
        assert.deepStrictEqual(ingress.props.spec.tls, [
            { hosts: ["nuve.licode.example.com"], secretName: "nuve-tls" },
        ]);
        const path = ingress.props.spec.rules[0].http.paths[0];
        assert.deepStrictEqual(path.backend.service, {
            name: "licode-nuve",
            port: { name: "http" },
        });
        assert.deepStrictEqual(prod.outputs.nuveEndpoint, {
            mode: "ingress",
            url: "https://nuve.licode.example.com/",
        });
    });

    it("puts prod's MongoDB data on the seed's NFS export, bound to its claim and protected", () => {
        const volume = find(prod, "PersistentVolume", "mongodb-data");
        assert.deepStrictEqual(volume.props.spec.nfs, {
            server: "192.168.94.40",
            path: "/nfs_mongodb/mongodb",
        });
        assert.strictEqual(volume.props.spec.persistentVolumeReclaimPolicy, "Retain");
        assert.strictEqual(volume.props.spec.capacity.storage, "10Gi");
        assert.deepStrictEqual(volume.props.spec.claimRef, {
            namespace: "licode",
            name: "licode-mongodb-data",
        });
        const claim = find(prod, "PersistentVolumeClaim", "mongodb-data");
        assert.strictEqual(claim.props.spec.volumeName, volume.props.metadata.name);
        assert.strictEqual(claim.props.spec.storageClassName, "");
        assert.ok(volume.protect && claim.protect, "prod data is protected");
        const generated = (name: string) =>
            prod.resources.find((r) => GENERATED_TYPES.includes(r.type) && r.name === name);
        assert.ok(generated("mongodb-password")?.protect, "the password of the kept data is kept");
        assert.ok(
            generated("superservice-id")?.protect,
            "the superservice ID in the kept data is kept",
        );
        assert.ok(!generated("superservice-key")?.protect, "the key stays rotatable");
        const devVolume = find(dev, "PersistentVolume", "mongodb-data");
        assert.strictEqual(devVolume.props.spec.hostPath.path, "/var/lib/licode/mongodb");
        assert.ok(!devVolume.protect, "dev data is not protected");
    });

    it("gives prod's stateful tiers Guaranteed QoS and leaves dev Burstable", () => {
        for (const name of ["mongodb", "rabbitmq"]) {
            // QoS looks at CPU and memory only.
            const qos = (resources: any) => ({ cpu: resources.cpu, memory: resources.memory });
            const prodContainer = podTemplate(find(prod, "StatefulSet", name)).spec.containers[0];
            assert.deepStrictEqual(
                qos(prodContainer.resources.requests),
                qos(prodContainer.resources.limits),
                `prod ${name}`,
            );
            const devContainer = podTemplate(find(dev, "StatefulSet", name)).spec.containers[0];
            assert.notDeepStrictEqual(
                qos(devContainer.resources.requests),
                qos(devContainer.resources.limits),
                `dev ${name}`,
            );
        }
    });

    it("runs one ErizoAgent DaemonSet per media pool, each with its own nodes and UDP range", () => {
        const pools = ofKind(prod, "DaemonSet")
            .filter((ds) => ds.name.startsWith("erizo-agent-"))
            .map((ds) => {
                const spec = podTemplate(ds).spec;
                const env = Object.fromEntries(
                    spec.containers[0].env.map((e: any) => [e.name, e.value]),
                );
                return {
                    name: ds.props.metadata.name,
                    nodes: spec.nodeSelector,
                    range: `${env.MIN_PORT}-${env.MAX_PORT}`,
                };
            });
        assert.deepStrictEqual(pools, [
            {
                name: "licode-erizo-agent-primary",
                nodes: { "licode.io/media-pool": "primary" },
                range: "40000-40999",
            },
            {
                name: "licode-erizo-agent-overflow",
                nodes: { "licode.io/media-pool": "overflow" },
                range: "41000-41999",
            },
        ]);
    });

    it("never drops below the running ErizoControllers in prod: surge 1, unavailable 0, and a PDB", () => {
        const ec = find(prod, "Deployment", "erizo-controller");
        assert.deepStrictEqual(ec.props.spec.strategy.rollingUpdate, {
            maxSurge: 1,
            maxUnavailable: 0,
        });
        assert.strictEqual(ec.props.spec.replicas, 2);
        assert.strictEqual(podTemplate(ec).spec.terminationGracePeriodSeconds, 1800);
        const pdb = find(prod, "PodDisruptionBudget", "erizo-controller");
        assert.ok(matches(pdb.props.spec.selector.matchLabels, podTemplate(ec).metadata.labels));
    });
});

describe("config changes", () => {
    const base = stackConfig("dev");

    it("a log level change rolls exactly the workloads that read licode_config.js", async () => {
        const before = await runProgram("dev", base);
        const after = await runProgram("dev", { ...base, logLevel: "ERROR" });
        assert.deepStrictEqual(changedTemplates(before, after), LICODE_READERS);
        const sums = [checksums(before), checksums(after)];
        for (const reader of LICODE_READERS) {
            assert.notStrictEqual(
                sums[0][reader]["checksum/licode-config"],
                sums[1][reader]["checksum/licode-config"],
            );
        }
    });

    it("a media range change rolls the Licode tiers and leaves MongoDB and RabbitMQ alone", async () => {
        const before = await runProgram("dev", base);
        const media = { ...(base.media as object), portRange: { min: 42000, max: 42099 } };
        const after = await runProgram("dev", { ...base, media });
        assert.deepStrictEqual(changedTemplates(before, after), LICODE_READERS);
    });

    it("a MongoDB sizing change rolls MongoDB only", async () => {
        const before = await runProgram("dev", base);
        const mongodb = {
            resources: {
                requests: { cpu: "200m", memory: "256Mi" },
                limits: { cpu: "1", memory: "1Gi" },
            },
        };
        const after = await runProgram("dev", { ...base, mongodb });
        assert.deepStrictEqual(changedTemplates(before, after), ["StatefulSet/mongodb"]);
    });

    it("rotating the superservice key re-runs the bootstrap Job and rolls the config readers", async () => {
        const before = await runProgram("dev", base);
        const after = await runProgram("dev", { ...base, superservice: { keyGeneration: 2 } });
        assert.notStrictEqual(before.outputs.superserviceKey, after.outputs.superserviceKey);
        assert.strictEqual(before.outputs.superserviceId, after.outputs.superserviceId);
        assert.deepStrictEqual(
            changedTemplates(before, after),
            ["Job/superservice", ...LICODE_READERS].sort(),
        );
    });
});

describe("external MongoDB", () => {
    it("deploys no MongoDB and points Nuve and the bootstrap at the given URL", async () => {
        const url = "mongodb://nuve:pw@mongo.example.internal:27017/nuvedb";
        const run = await runProgram("dev", {
            ...stackConfig("dev"),
            storage: { kind: "external", url },
        });
        const mongoKinds = run.resources.filter(
            (r) => r.type === "licode:index:MongoDb" || r.name.startsWith("mongodb"),
        );
        assert.deepStrictEqual(
            mongoKinds.map((r) => r.name),
            [],
        );
        assert.ok(
            find(run, "Secret", "licode-config").props.stringData["licode_config.js"].includes(
                `"dataBaseURL": "${url}"`,
            ),
        );
        assert.strictEqual(find(run, "Secret", "superservice").props.stringData.mongoUrl, url);
        const wait = podTemplate(find(run, "Deployment", "nuve")).spec.initContainers[0].command[2];
        assert.ok(
            !wait.includes("mongodb"),
            "Nuve does not wait for a MongoDB that is not deployed",
        );
    });
});

describe("bad config", () => {
    it("fails before any resource is registered, listing every problem", async () => {
        const bad = { ...stackConfig("dev"), namespace: "Not_A_Label", nuve: { replicas: -1 } };
        await assert.rejects(runProgram("dev", bad), (error: unknown) => {
            assert.ok(error instanceof ProgramError);
            assert.strictEqual(error.registered, 0);
            assert.ok(error.cause instanceof pulumi.RunError, "reported without a stack trace");
            assert.match(error.message, /licode:namespace/);
            assert.match(error.message, /licode:nuve\.replicas/);
            return true;
        });
    });
});

describe("rollouts that keep live calls", () => {
    let prod: ProgramRun;
    before(async () => {
        prod = await runProgram("prod", stackConfig("prod"));
    });

    it("waits as long as draining controllers and agents may take, not Pulumi's 10 minutes", () => {
        // 2 controllers × (1800 s grace + 300 s to start) = 70 minutes.
        assert.strictEqual(find(prod, "Deployment", "erizo-controller").updateTimeout, "70m");
        // 4 nodes a pool, 1 at a time × (1800 + 300) s = 140 minutes.
        for (const agent of ofKind(prod, "DaemonSet").filter((ds) =>
            ds.name.startsWith("erizo-agent-"),
        )) {
            assert.strictEqual(agent.updateTimeout, "140m", agent.name);
        }
    });

    it("lets operators roll media nodes by hand: OnDelete, and Pulumi does not wait for it", async () => {
        const config = stackConfig("dev");
        const run = await runProgram("dev", {
            ...config,
            media: { ...(config.media as object), updateStrategy: "OnDelete" },
        });
        const agent = find(run, "DaemonSet", "erizo-agent-default");
        assert.deepStrictEqual(agent.props.spec.updateStrategy, { type: "OnDelete" });
        assert.strictEqual(agent.props.metadata.annotations["pulumi.com/skipAwait"], "true");
        const devAgent = find(await runProgram("dev", config), "DaemonSet", "erizo-agent-default");
        assert.strictEqual(devAgent.props.spec.updateStrategy.type, "RollingUpdate");
        assert.strictEqual(devAgent.props.metadata.annotations, undefined);
    });

    it("gives each drain its helpers, its grace period, and the controller's drain Nuve's in-cluster API", () => {
        const ec = podTemplate(find(prod, "Deployment", "erizo-controller")).spec;
        assert.strictEqual(ec.terminationGracePeriodSeconds, 1800);
        assert.ok(ec.volumes.some((v: any) => v.name === "drain" && v.configMap));
        const helpers = find(prod, "ConfigMap", "erizo-controller-drain").props.data;
        assert.deepStrictEqual(Object.keys(helpers).sort(), [
            "controller-registry.js",
            "licode-amqp.js",
        ]);
        const ecEnv = Object.fromEntries(
            ec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]),
        );
        assert.strictEqual(ecEnv.LICODE_NUVE_URL, "http://licode-nuve.licode.svc:3000/");
        const agentHelpers = find(prod, "ConfigMap", "erizo-agent-drain").props.data;
        assert.deepStrictEqual(Object.keys(agentHelpers).sort(), [
            "licode-amqp.js",
            "media-routing.js",
        ]);
        // The agent's drain speaks AMQP with the agent's own credentials: no broker user or API of its own.
        const agent = podTemplate(find(prod, "DaemonSet", "erizo-agent-primary")).spec;
        const names = agent.containers[0].env.map((e: any) => e.name);
        assert.ok(!names.some((n: string) => n.startsWith("RABBITMQ_")), names.join(", "));
    });
});

describe("pods on the pod network are isolated", () => {
    const DNS = {
        ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
        ],
    };
    const to = (name: string, port: number) => ({
        to: [
            {
                podSelector: {
                    matchLabels: {
                        "app.kubernetes.io/name": name,
                        "app.kubernetes.io/instance": "licode-prod",
                    },
                },
            },
        ],
        ports: [{ protocol: "TCP", port }],
    });

    it("admits Nuve's API port in and lets Nuve reach only DNS, RabbitMQ and MongoDB", async () => {
        const run = await runProgram("prod", stackConfig("prod"));
        const nuve = find(run, "NetworkPolicy", "nuve").props.spec;
        assert.deepStrictEqual(nuve.podSelector.matchLabels, {
            "app.kubernetes.io/name": "nuve",
            "app.kubernetes.io/instance": "licode-prod",
        });
        assert.deepStrictEqual(nuve.policyTypes, ["Ingress", "Egress"]);
        assert.deepStrictEqual(nuve.ingress, [{ ports: [{ protocol: "TCP", port: 3000 }] }]);
        assert.deepStrictEqual(nuve.egress, [DNS, to("rabbitmq", 5672), to("mongodb", 27017)]);
    });

    it("admits nothing to the bootstrap Job, which reaches only DNS and MongoDB", async () => {
        const run = await runProgram("prod", stackConfig("prod"));
        const job = find(run, "NetworkPolicy", "superservice").props.spec;
        assert.deepStrictEqual(job.ingress, []);
        assert.deepStrictEqual(job.egress, [DNS, to("mongodb", 27017)]);
    });

    it("lets MongoDB and RabbitMQ connect nowhere but DNS", async () => {
        const run = await runProgram("prod", stackConfig("prod"));
        for (const name of ["mongodb", "rabbitmq"]) {
            const spec = find(run, "NetworkPolicy", name).props.spec;
            assert.deepStrictEqual(spec.policyTypes, ["Ingress", "Egress"], name);
            assert.deepStrictEqual(spec.egress, [DNS], name);
        }
    });

    it("opens an external MongoDB's port to its clients, and nothing when policies are off", async () => {
        const external = await runProgram("prod", {
            ...stackConfig("prod"),
            storage: { kind: "external", url: "mongodb://u:p@db.example.com:27018/nuvedb" },
        });
        const nuve = find(external, "NetworkPolicy", "nuve").props.spec;
        assert.deepStrictEqual(nuve.egress[2], { ports: [{ protocol: "TCP", port: 27018 }] });
        const off = await runProgram("prod", {
            ...stackConfig("prod"),
            networkPolicy: { enabled: false },
        });
        assert.deepStrictEqual(ofKind(off, "NetworkPolicy"), []);
    });
});
