// Properties over every policy and every field of a set of fixtures:
//   - a value unknown during preview, wherever it appears, never adds a violation (unknown →
//     skip that check) and never makes a policy throw (which would fail the whole preview);
//   - malformed values (null, numbers, strings, empty objects and lists in any field) never make a
//     policy throw either: the API server is the place to reject them, not a crashed pack.

import * as assert from "assert";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../policy/policies";
import {
    Fixture,
    HARDENED,
    POD_HARDENED,
    UNKNOWN,
    configObject,
    container,
    ingress,
    initContainer,
    leafPaths,
    networkPolicy,
    pdb,
    podSpec,
    runResourcePolicy,
    runStackPolicy,
    service,
    serviceAccount,
    setPath,
    workload,
} from "./util";

const resourcePolicies = policies.filter(
    (p): p is ResourceValidationPolicy => "validateResource" in p,
);
const stackPolicies = policies.filter((p): p is StackValidationPolicy => "validateStack" in p);

const EQ = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } };
const DIGEST = `@sha256:${"a".repeat(64)}`;
const EQ_DISK = {
    requests: { cpu: "1", memory: "1Gi", "ephemeral-storage": "64Mi" },
    limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": "256Mi" },
};

// Resource fixtures: one that passes everything, and ones that fail in several ways at once.
const resourceFixtures: Array<[string, Fixture]> = [
    [
        "a passing erizo-agent DaemonSet",
        workload(
            "kubernetes:apps/v1:DaemonSet",
            podSpec(
                [
                    container("erizo-agent", {
                        image: `lynckia/licode:v10${DIGEST}`,
                        resources: EQ_DISK,
                        securityContext: HARDENED,
                        volumeMounts: [{ name: "recordings", mountPath: "/recordings" }],
                        readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 10 },
                        livenessProbe: {
                            httpGet: { path: "/", port: "http" },
                            periodSeconds: 10,
                            failureThreshold: 6,
                        },
                    }),
                ],
                {
                    hostNetwork: true,
                    dnsPolicy: "ClusterFirstWithHostNet",
                    securityContext: POD_HARDENED,
                    volumes: [{ name: "recordings", emptyDir: { sizeLimit: "128Mi" } }],
                    initContainers: [
                        initContainer("wait", {
                            image: `busybox:1.36${DIGEST}`,
                            resources: EQ,
                            securityContext: HARDENED,
                        }),
                        initContainer("proxy", {
                            image: `docker.io/library/busybox:1.36${DIGEST}`,
                            restartPolicy: "Always",
                            resources: EQ,
                            securityContext: HARDENED,
                        }),
                    ],
                },
            ),
            { labels: { "app.kubernetes.io/name": "erizo-agent" } },
        ),
    ],
    [
        "a failing MongoDB StatefulSet",
        workload(
            "kubernetes:apps/v1:StatefulSet",
            podSpec(
                [
                    container("mongodb", {
                        image: "mongo",
                        resources: {
                            requests: { cpu: "2", memory: "0" },
                            limits: { cpu: "1", memory: "1Gi" },
                        },
                        readinessProbe: { exec: { command: ["mongosh"] } },
                        livenessProbe: { exec: { command: ["mongosh"] } },
                    }),
                    container("exporter", {
                        resources: {},
                        readinessProbe: {},
                        livenessProbe: undefined,
                        securityContext: {
                            privileged: true,
                            capabilities: { add: ["SYS_ADMIN"], drop: ["NET_RAW"] },
                            seLinuxOptions: { type: "spc_t", user: "root" },
                            readOnlyRootFilesystem: true,
                        },
                        ports: [{ containerPort: 9216, hostPort: 19216 }],
                    }),
                ],
                {
                    hostNetwork: true,
                    securityContext: { runAsUser: 0, sysctls: [{ name: "kernel.msgmax" }] },
                    volumes: [
                        { name: "data", hostPath: { path: "/var/lib/mongo" } },
                        { name: "tmp", emptyDir: {} },
                    ],
                    initContainers: [
                        initContainer("init", {
                            readinessProbe: { tcpSocket: { port: 1 } },
                            resources: undefined,
                        }),
                    ],
                },
            ),
            { labels: { "app.kubernetes.io/name": "mongodb" } },
        ),
    ],
    [
        "a failing CronJob",
        workload(
            "kubernetes:batch/v1:CronJob",
            podSpec([
                container("backup", {
                    image: "mongo:latest",
                    resources: { limits: { memory: "x" } },
                    livenessProbe: {},
                }),
            ]),
            { labels: { "app.kubernetes.io/name": "mongodb" } },
        ),
    ],
];

const LABELS = { "app.kubernetes.io/name": "mongodb" };
const stackFixture: Fixture[] = [
    workload(
        "kubernetes:apps/v1:StatefulSet",
        podSpec([container("mongodb", { envFrom: [{ secretRef: { name: "creds" } }] })], {
            volumes: [{ name: "cfg", configMap: { name: "cfg" } }],
        }),
        {
            name: "licode-mongodb",
            namespace: "licode",
            labels: LABELS,
            replicas: 3,
            workloadSpec: { serviceName: "mongodb-headless" },
        },
    ),
    workload(
        "kubernetes:apps/v1:Deployment",
        podSpec([container("nuve", { envFrom: [{ configMapRef: { name: "auto-1" } }] })], {
            serviceAccountName: "app",
        }),
        {
            name: "licode-nuve",
            namespace: "licode",
            replicas: 2,
            annotations: { "checksum/config": "x" },
        },
    ),
    workload(
        "kubernetes:apps/v1:DaemonSet",
        podSpec(
            [
                container("agent", {
                    env: [
                        { name: "MIN_PORT", value: "40050" },
                        { name: "MAX_PORT", value: "40060" },
                    ],
                }),
            ],
            { volumes: [{ name: "creds", secret: { secretName: "creds" } }] },
        ),
        { name: "licode-erizo-agent", namespace: "licode" },
    ),
    // coturn with a relay range over the agent's, a TLS listener without certificate, private
    // ranges allowed, and clients told nothing: each TURN policy has something to report.
    {
        type: "kubernetes:core/v1:ConfigMap",
        name: "turn-config",
        props: {
            metadata: { name: "turn-config", namespace: "licode" },
            data: {
                "turnserver.conf":
                    "min-port=40000\nmax-port=40100\nrealm=turn.example.com\n" +
                    "denied-peer-ip=10.0.0.0-10.255.255.255\nallow-loopback-peers\n",
            },
        },
    },
    workload(
        "kubernetes:apps/v1:DaemonSet",
        podSpec([container("turn")], {
            volumes: [{ name: "template", configMap: { name: "turn-config" } }],
        }),
        { name: "licode-turn", namespace: "licode" },
    ),
    {
        type: "kubernetes:core/v1:Secret",
        name: "licode-config",
        props: {
            metadata: { name: "licode-config", namespace: "licode" },
            stringData: {
                "licode_config.js":
                    'config.erizoController = {\n  "iceServers": [{ "urls": "turn:turn.example.com:3478" }]\n};\n',
            },
        },
    },
    configObject("ConfigMap", "cfg", { namespace: "licode" }),
    configObject("Secret", "creds", { namespace: "licode", autonamed: true }),
    configObject("ConfigMap", "auto-1", { namespace: "licode", autonamed: true }),
    service(
        "mongodb-headless",
        { clusterIP: "10.0.0.1", selector: { "app.kubernetes.io/name": "rabbitmq" } },
        { namespace: "licode" },
    ),
    pdb(
        "nuve",
        { selector: { matchLabels: { "app.kubernetes.io/name": "nuve" } }, maxUnavailable: 0 },
        { namespace: "licode" },
    ),
    pdb(
        "other",
        { selector: { matchExpressions: [{ key: "x", operator: "Exists" }] }, minAvailable: 1 },
        { namespace: "licode" },
    ),
    serviceAccount("app", { automountServiceAccountToken: false }, { namespace: "licode" }),
    networkPolicy(
        "nuve",
        {
            podSelector: { matchLabels: { "app.kubernetes.io/name": "nuve" } },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [{ podSelector: {} }],
                    ports: [{ port: "http" }, { protocol: "TCP", port: 9000, endPort: 9100 }],
                },
            ],
        },
        { namespace: "licode" },
    ),
    service(
        "nuve",
        {
            selector: { "app.kubernetes.io/name": "nuve" },
            ports: [
                { name: "http", port: 80, targetPort: "http" },
                { name: "metrics", port: 81, targetPort: 8080 },
            ],
        },
        { namespace: "licode" },
    ),
    ingress(
        "nuve",
        {
            defaultBackend: { service: { name: "nuve", port: { number: 80 } } },
            rules: [
                {
                    http: {
                        paths: [
                            {
                                path: "/",
                                backend: { service: { name: "nuve", port: { name: "web" } } },
                            },
                        ],
                    },
                },
            ],
        },
        { namespace: "licode" },
    ),
];

const GARBAGE: unknown[] = [null, 0, -1, "", "x", true, {}, []];

// Counts problems, not messages: a message lists a container's problems joined by "; ".
function problems(messages: string[]): number {
    return messages.reduce((n, m) => n + m.split(". Why: ")[0].split("; ").length, 0);
}

// Settings that make a policy report something on these fixtures (its defaults allow everything).
const OVERRIDES: Record<string, Record<string, unknown>> = {
    "image-digest-and-registry": {
        requireDigest: true,
        allowedRegistries: ["docker.io/lynckia", "docker.io/library/busybox"],
    },
};

async function resourceCount(p: ResourceValidationPolicy, f: Fixture): Promise<number> {
    return problems(
        (await runResourcePolicy(p, f, OVERRIDES[p.name], { shareProps: true })).violations,
    );
}

async function stackCount(p: StackValidationPolicy, fs: Fixture[]): Promise<number> {
    return problems((await runStackPolicy(p, fs, {}, { shareProps: true })).map((v) => v.message));
}

describe("values unknown during preview, and malformed values, in every field", () => {
    for (const [name, fixture] of resourceFixtures) {
        for (const p of resourcePolicies) {
            it(`${p.name} on ${name}`, async () => {
                const baseline = await resourceCount(p, fixture);
                for (const path of leafPaths(fixture.props)) {
                    const unknown = await resourceCount(p, {
                        ...fixture,
                        props: setPath(fixture.props, path, UNKNOWN),
                    });
                    assert.ok(
                        unknown <= baseline,
                        `unknown ${path.join(".")}: ${unknown} > ${baseline} violations`,
                    );
                    for (const bad of GARBAGE) {
                        await resourceCount(p, {
                            ...fixture,
                            props: setPath(fixture.props, path, bad),
                        });
                    }
                }
            });
        }
    }

    it("the resource fixtures do exercise the policies", async () => {
        for (const p of resourcePolicies) {
            let total = 0;
            for (const [, f] of resourceFixtures.slice(1)) {
                total += await resourceCount(p, f);
            }
            assert.ok(total > 0, p.name);
            assert.strictEqual(await resourceCount(p, resourceFixtures[0][1]), 0, p.name);
        }
    });

    for (const p of stackPolicies) {
        it(`${p.name} on a small stack`, async () => {
            const baseline = await stackCount(p, stackFixture);
            assert.ok(baseline > 0, "the fixture exercises the policy");
            for (let i = 0; i < stackFixture.length; i++) {
                for (const path of leafPaths(stackFixture[i].props)) {
                    const variant = (v: unknown) =>
                        stackFixture.map((f, j) =>
                            j === i ? { ...f, props: setPath(f.props, path, v) } : f,
                        );
                    const unknown = await stackCount(p, variant(UNKNOWN));
                    assert.ok(
                        unknown <= baseline,
                        `unknown ${stackFixture[i].name}.${path.join(".")}: ${unknown} > ${baseline}`,
                    );
                    for (const bad of GARBAGE) {
                        await stackCount(p, variant(bad));
                    }
                }
            }
        });
    }
});
