// The pack's pure helpers: quantities, pod-spec extraction, container taxonomy, probes, QoS,
// selectors, exemptions, unknown handling.

import * as assert from "assert";
import { containersOf } from "../../policy/lib/containers";
import { Exemptions } from "../../policy/lib/exemptions";
import { normalizeRepository, parseImage, repositoryAllowed } from "../../policy/lib/images";
import { WORKLOAD_TYPES, isLongRunning, podTemplateOf, tierOf } from "../../policy/lib/podspec";
import { handlerKey, probeState } from "../../policy/lib/probes";
import { podQos } from "../../policy/lib/qos";
import { compareQuantities, parseQuantity } from "../../policy/lib/quantity";
import { labelSelectorMatches, mapSelectorMatches, namespaceOf } from "../../policy/lib/selectors";
import {
    UNKNOWN as DERIVED_UNKNOWN,
    UNKNOWN_SENTINELS,
    containsUnknown,
    isUnknown,
    readPath,
    unwrap,
} from "../../policy/lib/unknown";
import {
    PATCH_KINDS,
    SDK_SENTINELS,
    UNKNOWN,
    WORKLOAD_KINDS,
    container,
    initContainer,
    podSpec,
    workload,
} from "./util";

function value(input: unknown): string {
    const q = parseQuantity(input);
    assert.ok(q.ok, `${JSON.stringify(input)} should parse: ${q.ok ? "" : q.reason}`);
    // Exact decimal rendering of the fraction (den is a power of 2 and 10 only).
    const { num, den } = q.value;
    let d = den;
    let scale = 0n;
    while (d % 10n === 0n) {
        d /= 10n;
        scale += 1n;
    }
    let n = num;
    while (d % 2n === 0n) {
        d /= 2n;
        n *= 5n;
        scale += 1n;
    }
    assert.strictEqual(d, 1n);
    const s = n.toString().padStart(Number(scale) + 1, "0");
    const point = s.length - Number(scale);
    const text = scale === 0n ? s : `${s.slice(0, point)}.${s.slice(point)}`;
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

describe("policy lib: quantity", () => {
    const cases: Array<[unknown, string]> = [
        ["1", "1"],
        [1, "1"],
        ["10", "10"],
        [10, "10"],
        [0.5, "0.5"],
        ["0.5", "0.5"],
        [".5", "0.5"],
        ["1.", "1"],
        ["+1", "1"],
        ["2m", "0.002"],
        ["100m", "0.1"],
        ["0.05", "0.05"],
        ["1n", "0.000000001"],
        ["1u", "0.000001"],
        ["1k", "1000"],
        ["1M", "1000000"],
        ["1G", "1000000000"],
        ["1T", "1000000000000"],
        ["1P", "1000000000000000"],
        ["1E", "1000000000000000000"],
        ["1Ki", "1024"],
        ["1Mi", "1048576"],
        ["1Gi", "1073741824"],
        ["1Ti", "1099511627776"],
        ["1Pi", "1125899906842624"],
        ["1Ei", "1152921504606846976"],
        ["1.5Mi", "1572864"],
        ["0.25Gi", "268435456"],
        ["1e3", "1000"],
        ["1E3", "1000"],
        ["1e+3", "1000"],
        ["1e-3", "0.001"],
        ["12e6", "12000000"],
        [1e21, "1000000000000000000000"],
        ["1m", "0.001"],
        ["0", "0"],
        ["000", "0"],
    ];
    for (const [input, expected] of cases) {
        it(`parses ${JSON.stringify(input)} as ${expected}`, () => {
            assert.strictEqual(value(input), expected);
        });
    }

    const bad: unknown[] = [
        "",
        "212asdf",
        "1asdf",
        "1K",
        "1kb",
        "1 Gi",
        " 1",
        "1e",
        "1.5.3",
        "1e1.5",
        "Mi1",
        "1constructor",
        true,
        null,
        {},
        [],
        Number.NaN,
        Number.POSITIVE_INFINITY,
    ];
    for (const input of bad) {
        it(`rejects ${JSON.stringify(input) ?? String(input)}`, () => {
            assert.strictEqual(parseQuantity(input).ok, false);
        });
    }

    it("compares equivalent forms as equal", () => {
        const eq = (a: unknown, b: unknown): number => {
            const x = parseQuantity(a);
            const y = parseQuantity(b);
            assert.ok(x.ok && y.ok);
            return compareQuantities(x.value, y.value);
        };
        assert.strictEqual(eq("1", "1000m"), 0);
        assert.strictEqual(eq("256Mi", "0.25Gi"), 0);
        assert.strictEqual(eq(0.1, "100m"), 0);
        assert.strictEqual(eq("1e3", "1k"), 0);
        assert.strictEqual(eq("1Ki", "1k"), 1);
        assert.strictEqual(eq("999m", "1"), -1);
    });
});

describe("policy lib: pod-spec extraction", () => {
    for (const k of [...WORKLOAD_KINDS, ...PATCH_KINDS]) {
        it(`finds the pod template of ${k.kind}`, () => {
            const f = workload(k.type, podSpec([container("nuve")]));
            const lookup = podTemplateOf(f.type, f.props);
            assert.strictEqual(lookup.status, "found");
            if (lookup.status !== "found") {
                return;
            }
            assert.strictEqual(lookup.pod.kind, k.kind);
            assert.strictEqual(tierOf(lookup.pod), "nuve");
            assert.strictEqual(isLongRunning(lookup.pod), k.longRunning);
            const expected = k.kind.startsWith("CronJob")
                ? "spec.jobTemplate.spec.template.spec"
                : k.kind.startsWith("Pod")
                  ? "spec"
                  : "spec.template.spec";
            assert.strictEqual(lookup.pod.specPath, expected);
        });
    }

    it("knows the older API groups and the Patch variants", () => {
        for (const type of [
            "kubernetes:apps/v1beta1:Deployment",
            "kubernetes:apps/v1beta2:DaemonSet",
            "kubernetes:extensions/v1beta1:ReplicaSet",
            "kubernetes:batch/v1beta1:CronJob",
            "kubernetes:apps/v1:StatefulSetPatch",
        ]) {
            assert.ok(WORKLOAD_TYPES.has(type), type);
        }
    });

    it("reports other types as not workloads, and patches without a template as such", () => {
        assert.strictEqual(
            podTemplateOf("kubernetes:core/v1:Service", { spec: {} }).status,
            "not-a-workload",
        );
        assert.strictEqual(
            podTemplateOf("kubernetes:apps/v1:DeploymentPatch", { spec: { replicas: 3 } }).status,
            "no-template",
        );
        assert.strictEqual(
            podTemplateOf("kubernetes:apps/v1:Deployment", { spec: { template: UNKNOWN } }).status,
            "unknown",
        );
    });

    it("decides Pods by restartPolicy", () => {
        const pod = (restartPolicy?: unknown) => {
            const f = workload(
                "kubernetes:core/v1:Pod",
                podSpec([container("c")], { restartPolicy }),
            );
            const l = podTemplateOf(f.type, f.props);
            assert.ok(l.status === "found");
            return l.status === "found" ? isLongRunning(l.pod) : undefined;
        };
        assert.strictEqual(pod(undefined), true);
        assert.strictEqual(pod("Always"), true);
        assert.strictEqual(pod("Never"), false);
        assert.strictEqual(pod("OnFailure"), false);
        assert.strictEqual(typeof pod(UNKNOWN), "symbol");
    });

    it("classifies app, init, sidecar and ephemeral containers", () => {
        const f = workload(
            "kubernetes:core/v1:Pod",
            podSpec([container("app")], {
                initContainers: [
                    initContainer("init"),
                    initContainer("sidecar", { restartPolicy: "Always" }),
                    initContainer("maybe", { restartPolicy: UNKNOWN }),
                ],
                ephemeralContainers: [{ name: "debug", image: "busybox" }],
            }),
        );
        const l = podTemplateOf(f.type, f.props);
        assert.ok(l.status === "found");
        if (l.status !== "found") {
            return;
        }
        const list = containersOf(l.pod);
        assert.deepStrictEqual(
            list.containers.map((c) => [c.name, c.cls, c.classUnknown, c.path]),
            [
                ["init", "init", false, "spec.initContainers[0]"],
                ["sidecar", "sidecar", false, "spec.initContainers[1]"],
                ["maybe", "init", true, "spec.initContainers[2]"],
                ["app", "container", false, "spec.containers[0]"],
                ["debug", "ephemeral", false, "spec.ephemeralContainers[0]"],
            ],
        );
        assert.strictEqual(list.complete, true);
    });
});

describe("policy lib: probes", () => {
    it("classifies probe objects", () => {
        const c = (probe: unknown) => probeState({ readinessProbe: probe }, "readinessProbe").state;
        assert.strictEqual(c(undefined), "absent");
        assert.strictEqual(c(null), "absent");
        assert.strictEqual(c({}), "no-handler");
        assert.strictEqual(c({ periodSeconds: 5 }), "no-handler");
        assert.strictEqual(c({ httpGet: null }), "no-handler");
        assert.strictEqual(c({ httpGet: { path: "/" } }), "invalid");
        assert.strictEqual(c({ exec: { command: [] } }), "invalid");
        assert.strictEqual(c({ exec: { command: ["true"] }, tcpSocket: { port: 1 } }), "invalid");
        assert.strictEqual(c({ grpc: { port: "grpc" } }), "invalid");
        assert.strictEqual(c({ grpc: { port: 9090 } }), "ok");
        assert.strictEqual(c({ httpGet: { port: "http" } }), "ok");
        assert.strictEqual(c(UNKNOWN), "unknown");
        assert.strictEqual(c({ tcpSocket: UNKNOWN }), "ok");
    });

    it("resolves named ports when comparing handlers", () => {
        const ctr = { ports: [{ name: "http", containerPort: 8080 }] };
        const key = (port: unknown, path = "/health") =>
            handlerKey({ httpGet: { port, path } }, "httpGet", ctr);
        assert.strictEqual(key("http"), key(8080));
        assert.notStrictEqual(key("http"), key(8081));
        assert.notStrictEqual(key("other"), key("http"));
        assert.notStrictEqual(key(8080, "/a"), key(8080, "/b"));
        assert.strictEqual(key(UNKNOWN), undefined);
    });
});

describe("policy lib: QoS", () => {
    const qos = (containers: Record<string, unknown>[], extra: Record<string, unknown> = {}) => {
        const f = workload("kubernetes:apps/v1:StatefulSet", podSpec(containers, extra));
        const l = podTemplateOf(f.type, f.props);
        assert.ok(l.status === "found");
        return l.status === "found" ? podQos(l.pod).qos : undefined;
    };
    const res = (requests: object | undefined, limits: object | undefined) =>
        container("c", { resources: { requests, limits } });
    const eq = { cpu: "1", memory: "1Gi" };

    it("is Guaranteed when requests equal limits, in any notation", () => {
        assert.strictEqual(qos([res(eq, eq)]), "Guaranteed");
        assert.strictEqual(
            qos([res({ cpu: "1000m", memory: "1024Mi" }, { cpu: 1, memory: "1Gi" })]),
            "Guaranteed",
        );
    });
    it("treats limits-only as requests = limits", () => {
        assert.strictEqual(qos([res(undefined, eq)]), "Guaranteed");
        assert.strictEqual(qos([res({ cpu: "1" }, eq)]), "Guaranteed");
    });
    it("is Burstable when a request differs or a limit is missing", () => {
        assert.strictEqual(qos([res({ cpu: "500m", memory: "1Gi" }, eq)]), "Burstable");
        assert.strictEqual(qos([res(eq, { memory: "1Gi" })]), "Burstable");
        assert.strictEqual(qos([res({ cpu: "0", memory: "1Gi" }, eq)]), "Burstable");
    });
    it("counts init containers and sidecars, not ephemeral containers", () => {
        const good = res(eq, eq);
        assert.strictEqual(
            qos([good], { initContainers: [initContainer("i", { resources: { requests: eq } })] }),
            "Burstable",
        );
        assert.strictEqual(
            qos([good], { initContainers: [initContainer("i", { resources: { limits: eq } })] }),
            "Guaranteed",
        );
        assert.strictEqual(
            qos([good], { ephemeralContainers: [{ name: "debug", image: "busybox:1" }] }),
            "Guaranteed",
        );
    });
    it("is BestEffort with nothing set", () => {
        assert.strictEqual(qos([container("c", { resources: {} })]), "BestEffort");
        assert.strictEqual(qos([res({ cpu: "0" }, { memory: "0" })]), "BestEffort");
    });
    it("uses pod-level resources when they are set", () => {
        assert.strictEqual(
            qos([container("c", { resources: {} })], { resources: { limits: eq } }),
            "Guaranteed",
        );
    });
    it("is indeterminate while a value is unknown", () => {
        assert.strictEqual(qos([res({ cpu: UNKNOWN, memory: "1Gi" }, eq)]), "indeterminate");
        assert.strictEqual(qos([res(eq, eq)], { initContainers: UNKNOWN }), "indeterminate");
    });
});

describe("policy lib: selectors and namespaces", () => {
    const labels = { app: "mongo", tier: "db" };
    it("applies matchLabels and matchExpressions together", () => {
        const m = (selector: unknown, emptyAll = true) =>
            labelSelectorMatches(selector, labels, emptyAll);
        assert.strictEqual(m({ matchLabels: { app: "mongo" } }), true);
        assert.strictEqual(m({ matchLabels: { app: "mongo", x: "y" } }), false);
        assert.strictEqual(
            m({ matchExpressions: [{ key: "tier", operator: "In", values: ["db", "cache"] }] }),
            true,
        );
        assert.strictEqual(
            m({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }] }),
            false,
        );
        assert.strictEqual(
            m({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }),
            true,
        );
        assert.strictEqual(m({ matchExpressions: [{ key: "app", operator: "Exists" }] }), true);
        assert.strictEqual(
            m({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }),
            false,
        );
        assert.strictEqual(
            m({
                matchLabels: { app: "mongo" },
                matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }],
            }),
            false,
        );
        assert.strictEqual(m({ matchExpressions: [{ key: "app", operator: "Bogus" }] }), false);
        assert.strictEqual(m({}), true);
        assert.strictEqual(m({}, false), false);
        assert.strictEqual(m(null), false);
        assert.strictEqual(m(UNKNOWN), "unknown");
        assert.strictEqual(m({ matchLabels: { app: UNKNOWN } }), "unknown");
    });
    it("matches Service map selectors", () => {
        assert.strictEqual(mapSelectorMatches({ app: "mongo" }, labels), true);
        assert.strictEqual(mapSelectorMatches({ app: "rabbit" }, labels), false);
        assert.strictEqual(mapSelectorMatches(undefined, labels), false);
    });
    it("resolves namespaces from metadata, then the provider, then default", () => {
        assert.strictEqual(namespaceOf({ namespace: "licode" }), "licode");
        assert.strictEqual(
            namespaceOf({}, { props: { namespace: "from-provider" } }),
            "from-provider",
        );
        assert.strictEqual(namespaceOf({}), "default");
        assert.strictEqual(typeof namespaceOf({ namespace: UNKNOWN }), "symbol");
    });
});

describe("policy lib: exemptions", () => {
    const names = ["erizo-agent", "licode-erizo-agent"];
    it("applies valid exemptions to the resource or one container", () => {
        const ex = new Exemptions(
            [
                { resource: "licode-erizo-agent", container: "erizo-agent", reason: "media" },
                { resource: "licode-nuve", reason: "legacy" },
            ],
            "2026-01-01",
        );
        assert.strictEqual(ex.covers(names, "erizo-agent"), true);
        assert.strictEqual(ex.covers(names, "other"), false);
        assert.strictEqual(ex.covers(names), false);
        assert.strictEqual(ex.covers(["licode-nuve"]), true);
        assert.deepStrictEqual(ex.problems(names, "p"), []);
    });
    it("ignores and reports exemptions without a reason or past their date", () => {
        const ex = new Exemptions(
            [
                { resource: "erizo-agent" },
                { resource: "erizo-agent", container: "c", reason: "  " },
                { resource: "erizo-agent", reason: "old", expires: "2025-12-31" },
                { resource: "erizo-agent", reason: "bad date", expires: "next year" },
            ],
            "2026-01-01",
        );
        assert.strictEqual(ex.covers(names), false);
        assert.strictEqual(ex.covers(names, "c"), false);
        const problems = ex.problems(names, "image-pinned");
        assert.strictEqual(problems.length, 4);
        assert.match(
            problems[0],
            /"image-pinned" exemption for resource "erizo-agent" has no reason/,
        );
        assert.match(problems[1], /container "c" has no reason/);
        assert.match(problems[2], /expired on 2025-12-31/);
        assert.match(problems[3], /not YYYY-MM-DD/);
    });
    it("limits an entry with an image to containers running it", () => {
        const ex = new Exemptions(
            [
                { resource: "*", image: "docker.io/lynckia/licode:v10", reason: "no digest" },
                { resource: "nuve", image: "mongo", reason: "bootstrap" },
            ],
            "2026-01-01",
        );
        assert.strictEqual(ex.covers(["any"], "c", "lynckia/licode:v10"), true);
        assert.strictEqual(ex.covers(["any"], "c", "lynckia/licode:v11"), false);
        assert.strictEqual(ex.covers(["any"], "c", "quay.io/lynckia/licode:v10"), false);
        assert.strictEqual(ex.covers(["any"], "c", UNKNOWN), true);
        assert.strictEqual(ex.covers(["any"]), false, "not pod-level checks");
        assert.strictEqual(ex.covers(["nuve"], "c", "docker.io/library/mongo:7"), true);
        assert.strictEqual(ex.covers(["other"], "c", "mongo:7"), false);
        assert.deepStrictEqual(ex.problems(["any"], "p", ["lynckia/licode:v10"]), []);
        // A container whose name is unknown during preview may be the exempt one.
        assert.strictEqual(ex.namesAnyContainer(["any"], "lynckia/licode:v10"), true);
        assert.strictEqual(ex.namesAnyContainer(["any"], "busybox"), false);
    });
    it("reports a * entry without an image, and image entries only where the image runs", () => {
        const ex = new Exemptions(
            [
                { resource: "*", reason: "everything" },
                { resource: "*", image: "mongo", reason: "" },
            ],
            "2026-01-01",
        );
        assert.strictEqual(ex.covers(["a"]), false);
        assert.strictEqual(ex.covers(["a"], "c", "busybox"), false);
        const problems = ex.problems(["a"], "p", ["busybox:1"]);
        assert.strictEqual(problems.length, 1);
        assert.match(problems[0], /resource "\*" names every resource \("\*"\) without an "image"/);
        const withMongo = ex.problems(["a"], "p", ["mongo:7"]);
        assert.strictEqual(withMongo.length, 2);
        assert.match(withMongo[1], /resource "\*", image "mongo" has no reason/);
    });
});

describe("policy lib: unknown values", () => {
    it("knows the SDK's sentinels", () => {
        assert.deepStrictEqual([...UNKNOWN_SENTINELS].sort(), [...SDK_SENTINELS].sort());
    });
    it("reads paths through unknown values", () => {
        assert.strictEqual(readPath({ a: { b: 1 } }, "a", "b"), 1);
        assert.strictEqual(readPath({ a: UNKNOWN }, "a", "b"), DERIVED_UNKNOWN);
        assert.strictEqual(readPath({ a: { b: UNKNOWN } }, "a", "b"), DERIVED_UNKNOWN);
        assert.strictEqual(readPath({ a: 3 }, "a", "b"), undefined);
        assert.strictEqual(isUnknown(DERIVED_UNKNOWN), true);
    });
    it("unwraps the SDK proxy so unknowns can be read without throwing", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { unknownCheckingProxy } = require("@pulumi/policy/proxy");
        const proxied = unknownCheckingProxy({ a: { b: UNKNOWN } });
        assert.throws(() => proxied.a.b, /can't be known during preview/);
        const plain = unwrap(proxied);
        assert.strictEqual((plain.a as Record<string, unknown>).b, UNKNOWN);
        assert.strictEqual(containsUnknown(plain), true);
    });
});

describe("policy lib: image references", () => {
    const cases: Array<[string, string | undefined, string | undefined]> = [
        ["nginx", undefined, undefined],
        ["nginx:1.25", "1.25", undefined],
        ["registry:5000/nginx", undefined, undefined],
        ["registry:5000/nginx:1.25", "1.25", undefined],
        ["nginx@sha256:abc", undefined, "sha256:abc"],
        ["nginx:1.25@sha256:abc", "1.25", "sha256:abc"],
        ["registry:5000", "5000", undefined],
    ];
    for (const [ref, tag, digest] of cases) {
        it(`parses ${ref}`, () => {
            const r = parseImage(ref);
            assert.strictEqual(r.tag, tag);
            assert.strictEqual(r.digest, digest);
        });
    }
    it("normalizes repositories as the runtime does", () => {
        const cases: Array<[string, string]> = [
            ["mongo", "docker.io/library/mongo"],
            ["lynckia/licode", "docker.io/lynckia/licode"],
            ["docker.io/mongo", "docker.io/library/mongo"],
            ["index.docker.io/lynckia/licode", "docker.io/lynckia/licode"],
            ["registry:5000/licode", "registry:5000/licode"],
            ["localhost/licode", "localhost/licode"],
            ["quay.io/org/sub/img", "quay.io/org/sub/img"],
            ["Registry/img", "Registry/img"],
        ];
        for (const [name, repository] of cases) {
            assert.strictEqual(normalizeRepository(name), repository, name);
        }
    });
    it("matches allow-list entries on whole path components", () => {
        const repo = "docker.io/lynckia/licode";
        for (const entry of [
            "*",
            "docker.io",
            "docker.io/lynckia",
            "docker.io/lynckia/",
            "index.docker.io/lynckia/*",
            repo,
        ]) {
            assert.strictEqual(repositoryAllowed(repo, entry), true, entry);
        }
        for (const entry of [
            "",
            "docker.io/lynck",
            "docker.io/lynckia/licode-x",
            "quay.io",
            "lynckia",
        ]) {
            assert.strictEqual(repositoryAllowed(repo, entry), false, entry);
        }
    });
});
