import * as assert from "assert";
import { replicatedWorkloadsHavePdb as policy } from "../../policy/policies/replicated-workloads-have-pdb";
import {
    Fixture,
    UNKNOWN,
    assertExplained,
    assertViolations,
    container,
    pdb,
    podSpec,
    runStackPolicy,
    workload,
} from "./util";

const LABELS = {
    "app.kubernetes.io/name": "erizo-controller",
    "app.kubernetes.io/instance": "licode-prod",
};

function deploy(
    replicas: unknown,
    opts: { type?: string; namespace?: string; labels?: Record<string, unknown> } = {},
): Fixture {
    return workload(opts.type ?? "kubernetes:apps/v1:Deployment", podSpec([container("ec")]), {
        name: "licode-erizo-controller",
        replicas,
        namespace: opts.namespace ?? "licode",
        labels: opts.labels ?? LABELS,
    });
}

const byLabels = (
    matchLabels: Record<string, unknown>,
    extra: Record<string, unknown> = { maxUnavailable: 1 },
) => ({
    selector: { matchLabels },
    ...extra,
});

async function check(
    resources: Fixture[],
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const out = await runStackPolicy(policy, resources, config);
    const messages = out.map((v) => v.message);
    assertExplained(messages);
    return messages;
}

const NONE =
    /^Deployment "licode-erizo-controller" \(spec.template.metadata.labels\): has (\d+) replicas but no PodDisruptionBudget in namespace "licode" selects its pods\. Why: /;

describe("replicated-workloads-have-pdb", () => {
    const good = pdb("ec-pdb", byLabels(LABELS), { namespace: "licode" });

    it("accepts a replicated workload with a selecting PDB", async () => {
        assertViolations(await check([deploy(2), good]), []);
    });
    it("skips single-replica workloads (replicas 1 or unset)", async () => {
        assertViolations(await check([deploy(1)]), []);
        assertViolations(await check([deploy(undefined)]), []);
        assertViolations(await check([deploy(2)], { minReplicas: 3 }), []);
    });
    for (const kind of ["Deployment", "StatefulSet", "ReplicaSet"]) {
        it(`flags a ${kind} with replicas > 1 and no PDB`, async () => {
            const f = deploy(3, { type: `kubernetes:apps/v1:${kind}` });
            const v = await check([f]);
            assertViolations(v, [
                new RegExp(`^${kind} .*has 3 replicas but no PodDisruptionBudget`),
            ]);
            const urn = (await runStackPolicy(policy, [f]))[0].urn ?? "";
            assert.match(urn, new RegExp(`${kind}::licode-erizo-controller$`));
        });
    }
    it("ignores DaemonSets, Jobs and Patches", async () => {
        for (const type of [
            "kubernetes:apps/v1:DaemonSet",
            "kubernetes:batch/v1:Job",
            "kubernetes:apps/v1:DeploymentPatch",
        ]) {
            assertViolations(await check([deploy(3, { type })]), []);
        }
    });

    describe("selector semantics", () => {
        const cases: Array<[string, Fixture, boolean]> = [
            [
                "a PDB in another namespace",
                pdb("p", byLabels(LABELS), { namespace: "other" }),
                false,
            ],
            ["a PDB without a namespace (default)", pdb("p", byLabels(LABELS)), false],
            [
                "one label of two",
                pdb("p", byLabels({ "app.kubernetes.io/name": "erizo-controller" }), {
                    namespace: "licode",
                }),
                true,
            ],
            [
                "a wrong value",
                pdb("p", byLabels({ "app.kubernetes.io/name": "nuve" }), { namespace: "licode" }),
                false,
            ],
            [
                "a label the pods lack",
                pdb("p", byLabels({ ...LABELS, extra: "x" }), { namespace: "licode" }),
                false,
            ],
            [
                "matchExpressions In",
                pdb(
                    "p",
                    {
                        selector: {
                            matchExpressions: [
                                {
                                    key: "app.kubernetes.io/name",
                                    operator: "In",
                                    values: ["erizo-controller", "nuve"],
                                },
                            ],
                        },
                        maxUnavailable: 1,
                    },
                    { namespace: "licode" },
                ),
                true,
            ],
            [
                "matchLabels AND a failing matchExpressions",
                pdb(
                    "p",
                    {
                        selector: {
                            matchLabels: LABELS,
                            matchExpressions: [{ key: "tier", operator: "Exists" }],
                        },
                        maxUnavailable: 1,
                    },
                    { namespace: "licode" },
                ),
                false,
            ],
            [
                "an empty selector in policy/v1 (selects all)",
                pdb("p", { selector: {}, maxUnavailable: 1 }, { namespace: "licode" }),
                true,
            ],
            [
                "an empty selector in policy/v1beta1 (selects none)",
                pdb(
                    "p",
                    { selector: {}, maxUnavailable: 1 },
                    { namespace: "licode", version: "v1beta1" },
                ),
                false,
            ],
            ["no selector", pdb("p", { maxUnavailable: 1 }, { namespace: "licode" }), false],
            [
                "no metadata and no labels",
                { type: "kubernetes:policy/v1:PodDisruptionBudget", props: {}, name: "p" },
                false,
            ],
        ];
        for (const [name, p, selects] of cases) {
            it(`${selects ? "accepts" : "rejects"} ${name}`, async () => {
                assertViolations(await check([deploy(2), p]), selects ? [] : [NONE]);
            });
        }
        it("finds the one matching PDB among many", async () => {
            const others = [
                pdb("a", byLabels({ "app.kubernetes.io/name": "nuve" }), { namespace: "licode" }),
                pdb("b", byLabels(LABELS), { namespace: "other" }),
            ];
            assertViolations(await check([deploy(2), ...others]), [NONE]);
            assertViolations(await check([deploy(2), ...others, good]), []);
        });
        it("flags two PDBs over the same pods", async () => {
            const second = pdb(
                "ec-pdb-2",
                byLabels({ "app.kubernetes.io/name": "erizo-controller" }),
                { namespace: "licode" },
            );
            assertViolations(await check([deploy(2), good, second]), [
                /its pods are selected by 2 PodDisruptionBudgets \(PodDisruptionBudget "ec-pdb", PodDisruptionBudget "ec-pdb-2"\).*eviction API refuses/,
            ]);
        });
    });

    describe("PDBs that allow no disruption", () => {
        const cases: Array<[string, Record<string, unknown>, number, RegExp | undefined]> = [
            ["maxUnavailable 0", { maxUnavailable: 0 }, 2, /sets maxUnavailable 0/],
            ['maxUnavailable "0%"', { maxUnavailable: "0%" }, 2, /sets maxUnavailable "0%"/],
            ["maxUnavailable 1", { maxUnavailable: 1 }, 2, undefined],
            ['maxUnavailable "10%" (rounds up to 1)', { maxUnavailable: "10%" }, 2, undefined],
            [
                'minAvailable "100%"',
                { minAvailable: "100%" },
                3,
                /sets minAvailable "100%" with 3 replicas/,
            ],
            [
                "minAvailable equal to replicas",
                { minAvailable: 2 },
                2,
                /sets minAvailable 2 with 2 replicas/,
            ],
            ["minAvailable 1 of 2", { minAvailable: 1 }, 2, undefined],
            ['minAvailable "50%" of 2', { minAvailable: "50%" }, 2, undefined],
            [
                'minAvailable "51%" of 2 (rounds up to 2)',
                { minAvailable: "51%" },
                2,
                /minAvailable "51%"/,
            ],
            ["neither set (defaults to minAvailable 1)", {}, 2, undefined],
        ];
        for (const [name, budget, replicas, expected] of cases) {
            it(`${expected ? "flags" : "accepts"} ${name}`, async () => {
                const p = pdb(
                    "ec-pdb",
                    { selector: { matchLabels: LABELS }, ...budget },
                    { namespace: "licode" },
                );
                assertViolations(await check([deploy(replicas), p]), expected ? [expected] : []);
            });
        }
    });

    describe("HorizontalPodAutoscaler", () => {
        const hpa = (spec: Record<string, unknown>): Fixture => ({
            type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            name: "ec-hpa",
            props: {
                metadata: { name: "ec-hpa", namespace: "licode" },
                spec: {
                    scaleTargetRef: {
                        apiVersion: "apps/v1",
                        kind: "Deployment",
                        name: "licode-erizo-controller",
                    },
                    ...spec,
                },
            },
        });
        it("checks a workload an HPA scales above one replica", async () => {
            assertViolations(
                await check([deploy(undefined), hpa({ minReplicas: 1, maxReplicas: 4 })]),
                [/scales to 4 replicas \(HorizontalPodAutoscaler\) but no PodDisruptionBudget/],
            );
            assertViolations(await check([deploy(undefined), hpa({ maxReplicas: 1 })]), []);
        });
        it("judges the PDB against the HPA's minimum", async () => {
            const p = pdb("ec-pdb", byLabels(LABELS, { minAvailable: 1 }), { namespace: "licode" });
            assertViolations(
                await check([deploy(undefined), hpa({ minReplicas: 1, maxReplicas: 4 }), p]),
                [/sets minAvailable 1 with 1 replicas/],
            );
        });
    });

    it("exempts a workload with a reason", async () => {
        const exemptions = [
            { resource: "licode-erizo-controller", reason: "drains are manual for signalling" },
        ];
        assertViolations(await check([deploy(2)], { exemptions }), []);
    });

    it("skips values unknown during preview", async () => {
        assertViolations(await check([deploy(UNKNOWN)]), []);
        assertViolations(
            await check([deploy(2), pdb("p", UNKNOWN as never, { namespace: "licode" })]),
            [],
        );
        assertViolations(
            await check([deploy(2), pdb("p", byLabels(LABELS), { namespace: UNKNOWN })]),
            [],
        );
        assertViolations(await check([deploy(2, { labels: UNKNOWN as never }), good]), []);
        assertViolations(
            await check([
                deploy(2),
                pdb("p", byLabels(LABELS, { maxUnavailable: UNKNOWN }), { namespace: "licode" }),
            ]),
            [],
        );
    });
});
