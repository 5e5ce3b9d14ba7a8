import * as assert from "assert";
import { containersOf } from "../../policy/lib/containers";
import { podTemplateOf } from "../../policy/lib/podspec";
import { compareQuantities, parseQuantity } from "../../policy/lib/quantity";
import { ephemeralStorage as policy, podLimit } from "../../policy/policies/ephemeral-storage";
import {
    Fixture,
    PATCH_KINDS,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertViolations,
    container,
    initContainer,
    podSpec,
    workload,
    explainedViolations,
} from "./util";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

const violations = (f: Fixture, config: Record<string, unknown> = {}): Promise<string[]> =>
    explainedViolations(policy, f, config);

/** Resources with ephemeral-storage request and limit (null leaves one out). */
function disk(request: unknown = "64Mi", limit: unknown = "1Gi"): Record<string, unknown> {
    const requests: Record<string, unknown> = { cpu: "100m", memory: "128Mi" };
    const limits: Record<string, unknown> = { cpu: "500m", memory: "256Mi" };
    if (request !== null) {
        requests["ephemeral-storage"] = request;
    }
    if (limit !== null) {
        limits["ephemeral-storage"] = limit;
    }
    return { requests, limits };
}

const RO = { readOnlyRootFilesystem: true };
const RW = { readOnlyRootFilesystem: false };

function c(name: string, sc: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return container(name, { securityContext: sc, ...extra });
}

function pod(
    containers: Record<string, unknown>[],
    spec: Record<string, unknown> = {},
    type = DEPLOYMENT,
): Fixture {
    return workload(type, podSpec(containers, spec));
}

const mount = (name: string) => ({ volumeMounts: [{ name, mountPath: `/${name}` }] });
const empty = (name: string, sizeLimit?: unknown, medium?: string) => ({
    name,
    emptyDir: {
        ...(sizeLimit === undefined ? {} : { sizeLimit }),
        ...(medium === undefined ? {} : { medium }),
    },
});

const C0 = /^Deployment "licode-nuve" container "c" \(spec\.template\.spec\.containers\[0\]\): /;
const VOLUMES = /^Deployment "licode-nuve" \(spec\.template\.spec\.volumes\): /;

describe("ephemeral-storage", () => {
    it("needs nothing from a read-only container without an emptyDir", async () => {
        assertViolations(await violations(pod([c("c", RO)])), []);
    });

    it("requires requests and limits from a container with a writable root filesystem", async () => {
        const out = await violations(pod([c("c", RW)]));
        assertViolations(out, [
            /resources\.requests\.ephemeral-storage is not set \(its root filesystem is writable\); resources\.limits\.ephemeral-storage is not set/,
        ]);
        assert.match(out[0], C0);
        assertViolations(await violations(pod([c("c", {})])), [/root filesystem is writable/]);
        assertViolations(await violations(pod([c("c", RW, { resources: disk() })])), []);
    });

    it("requires them from a read-only container that mounts a disk-backed emptyDir", async () => {
        const f = (resources?: Record<string, unknown>) =>
            pod([c("c", RO, { ...mount("tmp"), ...(resources ? { resources } : {}) })], {
                volumes: [empty("tmp", "64Mi")],
            });
        assertViolations(await violations(f()), [
            /requests\.ephemeral-storage is not set \(it mounts emptyDir "tmp"\)/,
        ]);
        assertViolations(await violations(f(disk(null, "1Gi"))), [
            /resources\.requests\.ephemeral-storage is not set/,
        ]);
        assertViolations(await violations(f(disk())), []);
    });

    it("leaves memory-backed emptyDirs to the memory limit", async () => {
        const f = pod([c("c", RO, mount("shm"))], {
            volumes: [empty("shm", undefined, "Memory")],
        });
        assertViolations(await violations(f), []);
    });

    it("flags bad quantities and a limit below its request", async () => {
        assertViolations(await violations(pod([c("c", RW, { resources: disk("lots", "0") })])), [
            /resources\.requests\.ephemeral-storage "lots" has an unknown suffix.*; resources\.limits\.ephemeral-storage is not set/,
        ]);
        assertViolations(await violations(pod([c("c", RO, { resources: disk("2Gi", "1Gi") })])), [
            /resources\.limits\.ephemeral-storage "1Gi" is below resources\.requests\.ephemeral-storage "2Gi"/,
        ]);
    });

    it("requires a sizeLimit on every disk-backed emptyDir", async () => {
        const f = pod([c("c", RO)], {
            volumes: [
                empty("a"),
                empty("b", "0"),
                empty("c", "1 Gi"),
                empty("d", "64Mi"),
                empty("e", undefined, "Memory"),
                { name: "f", emptyDir: null },
            ],
        });
        const out = await violations(f);
        assertViolations(out, [
            /emptyDir volumes\[0\] "a" has no sizeLimit; emptyDir volumes\[1\] "b" has sizeLimit "0", which sets no limit; emptyDir volumes\[2\] "c" sizeLimit "1 Gi" has an unknown suffix/,
        ]);
        assert.match(out[0], VOLUMES);
    });

    describe("emptyDirs within the pod's limit", () => {
        const two = (limits: [string, string]) =>
            pod(
                [
                    c("c", RO, { ...mount("a"), resources: disk("64Mi", limits[0]) }),
                    c("d", RO, { ...mount("b"), resources: disk("64Mi", limits[1]) }),
                ],
                { volumes: [empty("a", "1Gi"), empty("b", "512Mi")] },
            );
        it("accepts emptyDirs that fit in the sum of the containers' limits", async () => {
            assertViolations(await violations(two(["1Gi", "512Mi"])), []);
        });
        it("flags emptyDirs that add up to more", async () => {
            const out = await violations(two(["1Gi", "256Mi"]));
            assertViolations(out, [
                /the emptyDir sizeLimits \(volumes\[0\] "a" "1Gi" \+ volumes\[1\] "b" "512Mi"\) add up to more than the pod's ephemeral-storage limit 1280Mi \(containers' limits: "c" "1Gi", "d" "256Mi"\)\. Why: The kubelet evicts a pod/,
            ]);
            assert.match(out[0], VOLUMES);
            assertViolations(
                await violations(two(["1Gi", "256Mi"]), { emptyDirsWithinPodLimit: false }),
                [],
            );
        });
        it("computes the pod's limit as the kubelet does", () => {
            const limitOf = (spec: Record<string, unknown>) => {
                const lookup = podTemplateOf("kubernetes:core/v1:Pod", { spec });
                assert.strictEqual(lookup.status, "found");
                const q = podLimit(containersOf(lookup.pod).containers);
                return q;
            };
            const eq = (q: ReturnType<typeof limitOf>, text: string) => {
                const want = parseQuantity(text);
                assert.ok(q && want.ok && compareQuantities(q, want.value) === 0, text);
            };
            const lim = (name: string, limit: string, extra = {}) =>
                initContainer(name, { resources: disk("1Mi", limit), ...extra });
            // App containers and sidecars add up; a plain init container counts with the
            // sidecars started before it; the larger wins.
            eq(
                limitOf({
                    containers: [lim("a", "1Gi"), lim("b", "1Gi")],
                    initContainers: [
                        lim("s", "512Mi", { restartPolicy: "Always" }),
                        lim("i", "2Gi"),
                    ],
                }),
                "2560Mi",
            );
            eq(
                limitOf({
                    containers: [lim("a", "1Gi")],
                    initContainers: [
                        lim("s", "512Mi", { restartPolicy: "Always" }),
                        lim("i", "3Gi"),
                    ],
                }),
                "3584Mi",
            );
            assert.strictEqual(limitOf({ containers: [container("a")] }), undefined);
        });
    });

    it("checks init and sidecar containers, not ephemeral ones", async () => {
        const f = workload(
            "kubernetes:core/v1:Pod",
            podSpec([c("c", RO)], {
                initContainers: [
                    initContainer("wait", { securityContext: RW }),
                    initContainer("proxy", { restartPolicy: "Always", securityContext: RW }),
                ],
                ephemeralContainers: [{ name: "debug", image: "busybox:1.36" }],
            }),
        );
        assertViolations(await violations(f), [
            /^Pod "licode-nuve" init container "wait" \(spec\.initContainers\[0\]\): resources\.requests\.ephemeral-storage is not set/,
            /^Pod "licode-nuve" sidecar container "proxy" \(spec\.initContainers\[1\]\)/,
        ]);
    });

    for (const k of WORKLOAD_KINDS) {
        it(`checks ${k.kind}`, async () => {
            assertViolations(await violations(pod([c("c", RW)], {}, k.type)), [
                new RegExp(`^${k.kind} "licode-nuve" container "c" .*ephemeral-storage is not set`),
            ]);
            assertViolations(
                await violations(pod([c("c", RO)], { volumes: [empty("tmp")] }, k.type)),
                [new RegExp(`^${k.kind} "licode-nuve" \\(.*volumes\\): .*no sizeLimit`)],
            );
        });
    }

    for (const k of PATCH_KINDS) {
        it(`judges only what ${k.kind} sets`, async () => {
            const f = pod([{ name: "c", ...mount("tmp") }], { volumes: [empty("tmp")] }, k.type);
            assertViolations(await violations(f), []);
            const bad = pod(
                [{ name: "c", resources: disk("1Gi", "64Mi") }],
                { volumes: [empty("tmp", "lots")] },
                k.type,
            );
            assertViolations(await violations(bad), [
                new RegExp(`^${k.kind} "licode-nuve" container "c" .*is below`),
                new RegExp(`^${k.kind} "licode-nuve" .*sizeLimit "lots"`),
            ]);
        });
    }

    it("exempts a container or a resource with a reason", async () => {
        const f = pod([c("c", RW)], { volumes: [empty("tmp")] });
        assertViolations(
            await violations(f, {
                exemptions: [{ resource: "licode-nuve", container: "c", reason: "scratch" }],
            }),
            [VOLUMES],
        );
        assertViolations(
            await violations(f, { exemptions: [{ resource: "licode-nuve", reason: "scratch" }] }),
            [],
        );
    });

    it("skips values unknown during preview", async () => {
        assertViolations(await violations(pod([c("c", { readOnlyRootFilesystem: UNKNOWN })])), []);
        assertViolations(
            await violations(
                pod([c("c", RO, { volumeMounts: UNKNOWN })], { volumes: [empty("tmp", "1Gi")] }),
            ),
            [],
        );
        assertViolations(
            await violations(pod([c("c", RO)], { volumes: [empty("tmp", UNKNOWN)] })),
            [],
        );
        assertViolations(
            await violations(pod([c("c", RO)], { volumes: [empty("tmp", undefined, UNKNOWN)] })),
            [],
        );
        // An unknown limit leaves the pod's total open.
        const f = pod([c("c", RO, { ...mount("a"), resources: disk("1Mi", UNKNOWN) })], {
            volumes: [empty("a", "1Gi")],
        });
        assertViolations(await violations(f), []);
    });
});
