import * as assert from "assert";
import { networkPolicyCoverage as policy } from "../../policy/policies/network-policy-coverage";
import {
    Fixture,
    PATCH_KINDS,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertExplained,
    assertViolations,
    container,
    networkPolicy,
    podSpec,
    runStackPolicy,
    service,
    workload,
} from "./util";

const NUVE = { "app.kubernetes.io/name": "nuve", "app.kubernetes.io/part-of": "licode" };

async function run(fs: Fixture[], config: Record<string, unknown> = {}) {
    const out = await runStackPolicy(policy, fs, config);
    assertExplained(out.map((v) => v.message));
    return out;
}

async function violations(fs: Fixture[], config: Record<string, unknown> = {}): Promise<string[]> {
    return (await run(fs, config)).map((v) => v.message);
}

/** Nuve's Deployment: one container serving http (3000/TCP) and metrics (9100/TCP). */
function nuve(opts: { type?: string; spec?: Record<string, unknown>; namespace?: string } = {}) {
    return workload(
        opts.type ?? "kubernetes:apps/v1:Deployment",
        podSpec(
            [
                container("nuve", {
                    ports: [
                        { name: "http", containerPort: 3000 },
                        { name: "metrics", containerPort: 9100 },
                    ],
                }),
            ],
            opts.spec,
        ),
        { labels: NUVE, namespace: opts.namespace ?? "licode" },
    );
}

function np(spec: Record<string, unknown>, name = "nuve", namespace = "licode"): Fixture {
    return networkPolicy(
        name,
        { podSelector: { matchLabels: NUVE }, policyTypes: ["Ingress"], ...spec },
        { namespace },
    );
}

const svc = (ports: Record<string, unknown>[], namespace = "licode") =>
    service("licode-nuve", { selector: NUVE, ports }, { namespace });

const HTTP = { name: "http", port: 3000, targetPort: "http" };
const UNCOVERED =
    /^Deployment "licode-nuve" \(spec\.template\.metadata\.labels\): its pods are on the pod network but no NetworkPolicy with policyTypes Ingress in namespace "licode" selects them\. Why: /;

describe("network-policy-coverage", () => {
    describe("pods", () => {
        it("accepts a pod selected by an Ingress NetworkPolicy", async () => {
            assertViolations(await violations([nuve(), np({ ingress: [] })]), []);
        });
        it("flags a pod no NetworkPolicy selects", async () => {
            const out = await run([nuve()]);
            assertViolations(
                out.map((v) => v.message),
                [UNCOVERED],
            );
            assert.strictEqual(out[0].name, "licode-nuve");
        });
        it("counts only Ingress policies in the pod's namespace", async () => {
            for (const other of [
                np({ ingress: [] }, "nuve", "other"),
                np({ policyTypes: ["Egress"], egress: [] }),
                np({ podSelector: { matchLabels: { "app.kubernetes.io/name": "mongodb" } } }),
            ]) {
                assertViolations(await violations([nuve(), other]), [UNCOVERED]);
            }
            for (const ok of [
                np({ policyTypes: undefined, ingress: [] }),
                np({ policyTypes: ["Egress", "Ingress"] }),
                np({ podSelector: {} }),
                np({ podSelector: undefined }),
            ]) {
                assertViolations(await violations([nuve(), ok]), []);
            }
        });
        it("applies matchLabels and matchExpressions together", async () => {
            const sel = (podSelector: Record<string, unknown>) => np({ podSelector });
            const cases: Array<[Record<string, unknown>, boolean]> = [
                [
                    {
                        matchExpressions: [
                            {
                                key: "app.kubernetes.io/name",
                                operator: "In",
                                values: ["nuve", "x"],
                            },
                        ],
                    },
                    true,
                ],
                [
                    {
                        matchExpressions: [
                            { key: "app.kubernetes.io/name", operator: "NotIn", values: ["nuve"] },
                        ],
                    },
                    false,
                ],
                [{ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, true],
                [{ matchExpressions: [{ key: "tier", operator: "Exists" }] }, false],
                [
                    {
                        matchLabels: { "app.kubernetes.io/part-of": "licode" },
                        matchExpressions: [
                            { key: "app.kubernetes.io/name", operator: "In", values: ["mongodb"] },
                        ],
                    },
                    false,
                ],
            ];
            for (const [selector, selects] of cases) {
                assertViolations(
                    await violations([nuve(), sel(selector)]),
                    selects ? [] : [UNCOVERED],
                );
            }
        });
        it("leaves host-network pods and patches out", async () => {
            assertViolations(await violations([nuve({ spec: { hostNetwork: true } })]), []);
            assertViolations(
                await violations([nuve({ type: "kubernetes:apps/v1:DeploymentPatch" })]),
                [],
            );
        });
        for (const k of WORKLOAD_KINDS) {
            it(`checks ${k.kind}`, async () => {
                assertViolations(await violations([nuve({ type: k.type })]), [
                    new RegExp(`^${k.kind} "licode-nuve" .*no NetworkPolicy`),
                ]);
                assertViolations(await violations([nuve({ type: k.type }), np({})]), []);
            });
        }
        for (const k of PATCH_KINDS) {
            it(`leaves ${k.kind} out`, async () => {
                assertViolations(await violations([nuve({ type: k.type })]), []);
            });
        }
    });

    describe("Service ports", () => {
        const rule = (ports?: unknown[]) => np({ ingress: [ports === undefined ? {} : { ports }] });
        const admitted = async (ports: Record<string, unknown>[], policies: Fixture[]) =>
            violations([nuve(), svc(ports), ...policies]);

        it("admits every port through a rule without ports", async () => {
            assertViolations(await admitted([HTTP], [rule()]), []);
            assertViolations(await admitted([HTTP], [rule([])]), []);
        });
        it("matches by number, by name, by protocol and by range", async () => {
            const ok: unknown[][] = [
                [{ port: 3000 }],
                [{ port: 3000, protocol: "TCP" }],
                [{ port: "http" }],
                [{ port: 2000, endPort: 4000 }],
                [{ protocol: "TCP" }],
            ];
            for (const ports of ok) {
                assertViolations(await admitted([HTTP], [rule(ports)]), []);
            }
            // A numeric targetPort is admitted by the containerPort's name as well.
            assertViolations(
                await admitted(
                    [{ name: "http", port: 80, targetPort: 3000 }],
                    [rule([{ port: "http" }])],
                ),
                [],
            );
            // targetPort defaults to port.
            assertViolations(await admitted([{ port: 3000 }], [rule([{ port: 3000 }])]), []);
        });
        it("flags a port no rule admits", async () => {
            const out = await run([
                nuve(),
                svc([HTTP, { name: "metrics", port: 9100, targetPort: "metrics" }]),
                rule([
                    { port: 3000 },
                    { port: 9100, protocol: "UDP" },
                    { port: 9000, endPort: 9099 },
                ]),
            ]);
            assert.strictEqual(out.length, 1);
            assert.strictEqual(out[0].name, "licode-nuve");
            assert.match(
                out[0].message,
                /^Service "licode-nuve" \(spec\.ports\): ports\[1\] "metrics" \(9100\/TCP\) → targetPort "metrics" = 9100 on Deployment "licode-nuve" is admitted by no ingress rule of the NetworkPolicies selecting those pods \(NetworkPolicy "nuve"\)\. Why: Once a NetworkPolicy selects a pod/,
            );
        });
        it("flags every port of a policy with no ingress rules", async () => {
            assertViolations(await admitted([HTTP], [np({ ingress: [] })]), [
                /ports\[0\] "http" \(3000\/TCP\) → targetPort "http" = 3000 .*admitted by no ingress rule/,
            ]);
            assertViolations(await admitted([HTTP], [np({})]), [/admitted by no ingress rule/]);
        });
        it("takes the union of the policies selecting the pods", async () => {
            const deny = np({ ingress: [] }, "deny-all");
            assertViolations(await admitted([HTTP], [deny, rule([{ port: "http" }])]), []);
        });
        it("leaves Services of other namespaces, and unresolved names, alone", async () => {
            assertViolations(
                await violations([nuve(), svc([HTTP], "other"), np({ ingress: [] })]),
                [],
            );
            assertViolations(
                await admitted([{ port: 80, targetPort: "web" }], [np({ ingress: [] })]),
                [],
            );
        });
        it("reports an uncovered pod once, not its ports", async () => {
            assertViolations(await violations([nuve(), svc([HTTP])]), [UNCOVERED]);
        });
    });

    it("exempts a workload or a Service with a reason", async () => {
        const exemptions = [{ resource: "licode-nuve", reason: "public API" }];
        assertViolations(await violations([nuve()], { exemptions }), []);
        assertViolations(
            await violations([nuve(), svc([HTTP]), np({ ingress: [] })], { exemptions }),
            [],
        );
    });

    it("skips values unknown during preview", async () => {
        assertViolations(await violations([nuve({ spec: { hostNetwork: UNKNOWN } })]), []);
        assertViolations(await violations([nuve(), np({ podSelector: UNKNOWN })]), []);
        assertViolations(await violations([nuve(), np({ policyTypes: UNKNOWN })]), []);
        assertViolations(await violations([nuve(), np({}, "nuve", UNKNOWN)]), []);
        assertViolations(
            await violations([
                nuve(),
                svc([HTTP]),
                np({ ingress: [{ ports: [{ port: UNKNOWN }] }] }),
            ]),
            [],
        );
        assertViolations(await violations([nuve(), svc([HTTP]), np({ ingress: UNKNOWN })]), []);
        assertViolations(
            await violations([
                nuve(),
                svc([{ port: 3000, targetPort: UNKNOWN }]),
                np({ ingress: [] }),
            ]),
            [],
        );
    });
});
