import { statefulTiersGuaranteedQos as policy } from "../../policy/policies/stateful-tiers-guaranteed-qos";
import {
    PATCH_KINDS,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertExplained,
    assertViolations,
    container,
    initContainer,
    podSpec,
    runResourcePolicy,
    workload,
} from "./util";

const STS = "kubernetes:apps/v1:StatefulSet";
const EQ = { cpu: "1", memory: "2Gi" };

async function check(
    containers: Record<string, unknown>[],
    opts: {
        tier?: unknown;
        spec?: Record<string, unknown>;
        type?: string;
        config?: Record<string, unknown>;
    } = {},
): Promise<string[]> {
    const labels = { "app.kubernetes.io/name": opts.tier ?? "mongodb" };
    const f = workload(opts.type ?? STS, podSpec(containers, opts.spec), {
        labels,
        name: "licode-mongodb",
    });
    const run = await runResourcePolicy(policy, f, opts.config);
    assertExplained(run.violations);
    return run.violations;
}

const mongo = (resources: unknown) => container("mongodb", { resources });

describe("stateful-tiers-guaranteed-qos", () => {
    it("accepts Guaranteed pods, whatever the notation", async () => {
        assertViolations(await check([mongo({ requests: EQ, limits: EQ })]), []);
        assertViolations(
            await check([
                mongo({
                    requests: { cpu: "1000m", memory: "2048Mi" },
                    limits: { cpu: 1, memory: "2Gi" },
                }),
            ]),
            [],
        );
    });
    it("accepts limits-only containers (requests default to limits)", async () => {
        assertViolations(await check([mongo({ limits: EQ })]), []);
    });
    it("flags Burstable pods and says why", async () => {
        assertViolations(
            await check([mongo({ requests: { cpu: "500m", memory: "2Gi" }, limits: EQ })]),
            [
                /^StatefulSet "licode-mongodb" \(tier "mongodb", spec.template.spec\): its pods would be in the Burstable QoS class; container "mongodb": requests.cpu 500m differs from limits.cpu 1\. Why: /,
            ],
        );
        assertViolations(await check([mongo({ requests: EQ, limits: { memory: "2Gi" } })]), [
            /container "mongodb": no cpu limit/,
        ]);
    });
    it("flags BestEffort pods", async () => {
        assertViolations(await check([mongo({})]), [/BestEffort QoS class/]);
    });
    it("counts init containers and sidecars", async () => {
        const spec = {
            initContainers: [
                initContainer("init-perms", {
                    resources: { requests: { cpu: "100m", memory: "64Mi" } },
                }),
            ],
        };
        assertViolations(await check([mongo({ requests: EQ, limits: EQ })], { spec }), [
            /init container "init-perms": no cpu limit; init container "init-perms": no memory limit/,
        ]);
        const sidecar = {
            initContainers: [
                initContainer("exporter", {
                    restartPolicy: "Always",
                    resources: { limits: { cpu: "100m", memory: "64Mi" } },
                }),
            ],
        };
        assertViolations(await check([mongo({ requests: EQ, limits: EQ })], { spec: sidecar }), []);
    });
    it("applies only to the configured tiers and long-running kinds", async () => {
        const burstable = [mongo({ requests: { cpu: "1", memory: "1Gi" }, limits: EQ })];
        assertViolations(await check(burstable, { tier: "nuve" }), []);
        assertViolations(await check(burstable, { tier: "nuve", config: { tiers: ["nuve"] } }), [
            /Burstable/,
        ]);
        assertViolations(await check(burstable, { type: "kubernetes:batch/v1:Job" }), []);
    });
    for (const k of [...WORKLOAD_KINDS, ...PATCH_KINDS].filter((x) => x.longRunning)) {
        it(`checks ${k.kind}`, async () => {
            assertViolations(await check([mongo({})], { type: k.type }), [
                new RegExp(`^${k.kind} .*BestEffort`),
            ]);
        });
    }
    it("exempts a resource with a reason", async () => {
        const exemptions = [{ resource: "licode-mongodb", reason: "single-node lab" }];
        assertViolations(await check([mongo({})], { config: { exemptions } }), []);
    });
    it("skips pods with values unknown during preview", async () => {
        assertViolations(
            await check([mongo({ requests: { cpu: UNKNOWN, memory: "1Gi" }, limits: EQ })]),
            [],
        );
        assertViolations(await check([mongo({})], { tier: UNKNOWN }), []);
        assertViolations(await check([mongo({})], { spec: { initContainers: UNKNOWN } }), []);
    });
});
