import * as assert from "assert";
import { resourceRequestsAndLimits as policy } from "../../policy/policies/resource-requests-and-limits";
import {
    Fixture,
    PATCH_KINDS,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertViolations,
    container,
    goodDeployment,
    initContainer,
    podSpec,
    runResourcePolicy,
    workload,
    explainedViolations,
} from "./util";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

function withResources(resources: unknown, name = "nuve"): Record<string, unknown> {
    const c = container(name);
    if (resources === undefined) {
        delete c.resources;
    } else {
        c.resources = resources;
    }
    return c;
}

function deployment(...containers: Record<string, unknown>[]): Fixture {
    return workload(DEPLOYMENT, podSpec(containers));
}

const violations = (f: Fixture, config: Record<string, unknown> = {}): Promise<string[]> =>
    explainedViolations(policy, f, config);

describe("resource-requests-and-limits", () => {
    describe("every pod-bearing kind", () => {
        for (const k of [...WORKLOAD_KINDS, ...PATCH_KINDS]) {
            it(`passes a good ${k.kind} and flags a container without resources`, async () => {
                assertViolations(
                    await violations(workload(k.type, podSpec([container("nuve")]))),
                    [],
                );
                const bad = workload(k.type, podSpec([withResources(undefined)]));
                const path = k.kind.startsWith("CronJob")
                    ? "spec.jobTemplate.spec.template.spec.containers[0]"
                    : k.kind.startsWith("Pod")
                      ? "spec.containers[0]"
                      : "spec.template.spec.containers[0]";
                assertViolations(await violations(bad), [
                    new RegExp(
                        `^${k.kind} "licode-nuve" container "nuve" \\(${path.replace(/[.[\]]/g, "\\$&")}\\): ` +
                            "resources.requests.cpu is not set; resources.limits.cpu is not set; " +
                            "resources.requests.memory is not set; resources.limits.memory is not set\\. Why: ",
                    ),
                ]);
            });
        }

        it("is not applicable to kinds without a pod template", async () => {
            const run = await runResourcePolicy(policy, {
                type: "kubernetes:core/v1:Service",
                props: { spec: {} },
            });
            assert.ok(run.notApplicable !== undefined);
        });

        it("skips a Patch that carries no pod template", async () => {
            const run = await runResourcePolicy(policy, {
                type: "kubernetes:apps/v1:DeploymentPatch",
                props: { metadata: { name: "licode-nuve" }, spec: { replicas: 3 } },
            });
            assert.deepStrictEqual(run, { violations: [] });
        });
    });

    describe("missing and empty values", () => {
        const cases: Array<[string, unknown, RegExp]> = [
            ["resources: {}", {}, /requests.cpu is not set;.*limits.memory is not set\./],
            [
                "limits: {}",
                { requests: { cpu: "1", memory: "1Gi" }, limits: {} },
                /: resources.limits.cpu is not set; resources.limits.memory is not set\./,
            ],
            [
                "requests only",
                { requests: { cpu: "1", memory: "1Gi" } },
                /: resources.limits.cpu is not set; resources.limits.memory is not set\./,
            ],
            [
                "only a memory limit",
                { limits: { memory: "1Gi" } },
                /: resources.requests.cpu is not set; resources.limits.cpu is not set; resources.requests.memory is not set\./,
            ],
            [
                "empty strings",
                { requests: { cpu: "", memory: "1Gi" }, limits: { cpu: "1", memory: "" } },
                /: resources.requests.cpu is not set; resources.limits.memory is not set\./,
            ],
            [
                "null values",
                { requests: { cpu: null, memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
                /: resources.requests.cpu is not set\./,
            ],
        ];
        for (const [name, resources, pattern] of cases) {
            it(`flags ${name}`, async () => {
                assertViolations(await violations(deployment(withResources(resources))), [pattern]);
            });
        }

        for (const zero of ["0", 0, "0m", "0Gi", "0.0", "0e3"]) {
            it(`counts zero (${JSON.stringify(zero)}) as unset`, async () => {
                const f = deployment(
                    withResources({
                        requests: { cpu: zero, memory: "1Gi" },
                        limits: { cpu: "1", memory: zero },
                    }),
                );
                assertViolations(await violations(f), [
                    /resources.requests.cpu is .*, and zero counts as unset; resources.limits.memory is .*, and zero counts as unset/,
                ]);
            });
        }
    });

    describe("quantity forms", () => {
        const forms: unknown[] = [
            1,
            "1",
            10,
            "10",
            "2m",
            "250m",
            0.5,
            "0.5",
            0.05,
            ".5",
            "1.",
            "+1",
            "1n",
            "1u",
            "1k",
            "1M",
            "1G",
            "1T",
            "1P",
            "1E",
            "1Ki",
            "1Mi",
            "1Gi",
            "1Ti",
            "1Pi",
            "1Ei",
            "1.5Mi",
            "1e3",
            "1E3",
            "1e-3",
            "1e+3",
            1e3,
            "1m",
        ];
        for (const form of forms) {
            it(`accepts ${JSON.stringify(form)} for cpu and memory`, async () => {
                const r = { cpu: form, memory: form };
                assertViolations(
                    await violations(deployment(withResources({ requests: r, limits: r }))),
                    [],
                );
            });
        }
        for (const bad of ["212asdf", "1asdf", "1K", "1 Gi", "1e", "1.5.3", true, {}, "-1"]) {
            it(`flags the unparsable ${JSON.stringify(bad)}`, async () => {
                const f = deployment(
                    withResources({
                        requests: { cpu: "1", memory: bad },
                        limits: { cpu: "1", memory: "1Gi" },
                    }),
                );
                assertViolations(await violations(f), [
                    /: resources.requests.memory .+ (has an unknown suffix|is not|is a|is negative).*Why: .*not a Kubernetes quantity/,
                ]);
            });
        }
    });

    describe("limits against requests", () => {
        it("flags a limit below its request", async () => {
            const f = deployment(
                withResources({
                    requests: { cpu: "1", memory: "1Gi" },
                    limits: { cpu: "999m", memory: "1023Mi" },
                }),
            );
            assertViolations(await violations(f), [
                /resources.limits.cpu "999m" is below resources.requests.cpu "1"; resources.limits.memory "1023Mi" is below resources.requests.memory "1Gi"\. Why: .*rejects a limit below its request/,
            ]);
        });
        it("compares equal quantities in different notations as equal", async () => {
            const f = deployment(
                withResources({
                    requests: { cpu: "1", memory: "256Mi" },
                    limits: { cpu: "1000m", memory: "0.25Gi" },
                }),
            );
            assertViolations(await violations(f), []);
        });
        it("accepts limits-only containers when limitsImplyRequests is on", async () => {
            const f = deployment(withResources({ limits: { cpu: "1", memory: "1Gi" } }));
            assertViolations(await violations(f), [
                /requests.cpu is not set; resources.requests.memory is not set\./,
            ]);
            assertViolations(await violations(f, { limitsImplyRequests: true }), []);
        });
    });

    describe("CPU limit mode", () => {
        const noCpuLimit = withResources({
            requests: { cpu: "1", memory: "1Gi" },
            limits: { memory: "1Gi" },
        });
        it("requires a CPU limit by default", async () => {
            assertViolations(await violations(deployment(noCpuLimit)), [
                /: resources.limits.cpu is not set\./,
            ]);
        });
        it("accepts a missing CPU limit when optional, globally or for the tier", async () => {
            assertViolations(
                await violations(deployment(noCpuLimit), { cpuLimit: "optional" }),
                [],
            );
            assertViolations(
                await violations(deployment(noCpuLimit), { cpuLimitByTier: { nuve: "optional" } }),
                [],
            );
            assertViolations(
                await violations(deployment(noCpuLimit), {
                    cpuLimitByTier: { mongodb: "optional" },
                }),
                [/limits.cpu is not set/],
            );
        });
        it("flags a CPU limit where forbidden", async () => {
            assertViolations(
                await violations(goodDeployment(), { cpuLimitByTier: { nuve: "forbidden" } }),
                [
                    /: resources.limits.cpu is set, but CPU limits are forbidden for tier "nuve"\. Why: .*throttling/,
                ],
            );
            assertViolations(
                await violations(deployment(noCpuLimit), { cpuLimit: "forbidden" }),
                [],
            );
        });
        it("still flags an unparsable CPU limit when optional", async () => {
            const c = withResources({
                requests: { cpu: "1", memory: "1Gi" },
                limits: { cpu: "x", memory: "1Gi" },
            });
            assertViolations(await violations(deployment(c), { cpuLimit: "optional" }), [
                /limits.cpu "x" has an unknown suffix/,
            ]);
        });
    });

    describe("container classes", () => {
        it("reports one message per offending container, in either order", async () => {
            const bad = withResources(undefined, "bad");
            const good = container("good");
            for (const list of [
                [bad, good],
                [good, bad],
            ]) {
                assertViolations(await violations(deployment(...list)), [/container "bad"/]);
            }
            assertViolations(await violations(deployment(bad, withResources({}, "worse"))), [
                /container "bad"/,
                /container "worse"/,
            ]);
        });
        it("checks init containers and native sidecars", async () => {
            const f = workload(
                DEPLOYMENT,
                podSpec([container("nuve")], {
                    initContainers: [
                        initContainer("wait-for-mongo", { resources: undefined }),
                        initContainer("log-shipper", {
                            restartPolicy: "Always",
                            resources: { requests: { cpu: "10m" } },
                        }),
                    ],
                }),
            );
            assertViolations(await violations(f), [
                /init container "wait-for-mongo" \(spec.template.spec.initContainers\[0\]\): resources.requests.cpu is not set/,
                /sidecar container "log-shipper" \(spec.template.spec.initContainers\[1\]\): resources.limits.cpu is not set; resources.requests.memory is not set/,
            ]);
        });
        it("never checks ephemeral containers", async () => {
            const f = workload(
                "kubernetes:core/v1:Pod",
                podSpec([container("nuve")], {
                    ephemeralContainers: [{ name: "debug", image: "busybox:1.36" }],
                }),
            );
            assertViolations(await violations(f), []);
        });
    });

    describe("exemptions", () => {
        const f = deployment(container("nuve"), withResources(undefined, "legacy"));
        it("skips an exempt container and nothing else", async () => {
            const exemptions = [
                {
                    resource: "licode-nuve",
                    container: "legacy",
                    reason: "vendor image, sized by the vendor",
                },
            ];
            assertViolations(await violations(f, { exemptions }), []);
            const other = [{ resource: "licode-nuve", container: "nuve", reason: "r" }];
            assertViolations(await violations(f, { exemptions: other }), [/container "legacy"/]);
        });
        it("matches the Pulumi name too, and whole resources", async () => {
            const named = { ...f, name: "nuve" };
            assertViolations(
                await violations(named, { exemptions: [{ resource: "nuve", reason: "r" }] }),
                [],
            );
        });
        it("reports an exemption without a reason and does not honour it", async () => {
            const exemptions = [{ resource: "licode-nuve", container: "legacy" }];
            assertViolations(await violations(f, { exemptions }), [
                /^The "resource-requests-and-limits" exemption for resource "licode-nuve", container "legacy" has no reason, so it is ignored\./,
                /container "legacy"/,
            ]);
        });
    });

    describe("values unknown during preview", () => {
        it("skips only the unknown field", async () => {
            const c = withResources({
                requests: { cpu: UNKNOWN },
                limits: { cpu: "1", memory: UNKNOWN },
            });
            assertViolations(await violations(deployment(c)), [
                /: resources.requests.memory is not set\./,
            ]);
        });
        it("skips a container whose resources are unknown, and unknown container lists", async () => {
            assertViolations(await violations(deployment(withResources(UNKNOWN))), []);
            assertViolations(await violations(workload(DEPLOYMENT, { containers: UNKNOWN })), []);
            assertViolations(await violations(workload(DEPLOYMENT, { containers: [UNKNOWN] })), []);
        });
        it("skips the CPU limit check when per-tier modes exist and the tier is unknown", async () => {
            const c = withResources({
                requests: { cpu: "1", memory: "1Gi" },
                limits: { memory: "1Gi" },
            });
            const f = workload(DEPLOYMENT, podSpec([c]), {
                labels: { "app.kubernetes.io/name": UNKNOWN },
            });
            assertViolations(await violations(f, { cpuLimitByTier: { nuve: "optional" } }), []);
            assertViolations(await violations(f), [/limits.cpu is not set/]);
        });
    });
});
