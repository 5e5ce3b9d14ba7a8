import { requiredProbes as policy } from "../../policy/policies/required-probes";
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
const POD = "kubernetes:core/v1:Pod";

function probes(name: string, p: Record<string, unknown>): Record<string, unknown> {
    const c = container(name);
    delete c.readinessProbe;
    delete c.livenessProbe;
    return { ...c, ...p };
}

const violations = (f: Fixture, config: Record<string, unknown> = {}): Promise<string[]> =>
    explainedViolations(policy, f, config);

const ready = { httpGet: { path: "/ready", port: 3000 } };
const live = { tcpSocket: { port: 3000 } };
const BOTH_MISSING =
    /container "nuve" \(.*\): readinessProbe is not set; livenessProbe is not set\. Why: Without readiness/;

describe("required-probes", () => {
    describe("workload kinds", () => {
        for (const k of [...WORKLOAD_KINDS, ...PATCH_KINDS]) {
            const expectation = k.longRunning ? "requires" : "does not require";
            it(`${expectation} probes on a ${k.kind}`, async () => {
                assertViolations(
                    await violations(workload(k.type, podSpec([container("nuve")]))),
                    [],
                );
                const bare = workload(k.type, podSpec([probes("nuve", {})]));
                assertViolations(await violations(bare), k.longRunning ? [BOTH_MISSING] : []);
            });
        }
        for (const [restartPolicy, longRunning] of [
            [undefined, true],
            ["Always", true],
            ["Never", false],
            ["OnFailure", false],
        ] as const) {
            it(`treats a Pod with restartPolicy ${restartPolicy ?? "unset"} as ${longRunning ? "long-running" : "run-once"}`, async () => {
                const f = workload(POD, podSpec([probes("nuve", {})], { restartPolicy }));
                assertViolations(await violations(f), longRunning ? [BOTH_MISSING] : []);
            });
        }
    });

    describe("which probes", () => {
        const cases: Array<[string, Record<string, unknown>, RegExp[]]> = [
            ["readiness only", { readinessProbe: ready }, [/: livenessProbe is not set\./]],
            ["liveness only", { livenessProbe: live }, [/: readinessProbe is not set\./]],
            [
                "startup only (grpc)",
                { startupProbe: { grpc: { port: 9090 } } },
                [/: readinessProbe is not set; livenessProbe is not set\./],
            ],
            ["none", {}, [BOTH_MISSING]],
            ["readiness and liveness", { readinessProbe: ready, livenessProbe: live }, []],
        ];
        for (const [name, p, expected] of cases) {
            it(`handles ${name}`, async () => {
                assertViolations(
                    await violations(workload(DEPLOYMENT, podSpec([probes("nuve", p)]))),
                    expected,
                );
            });
        }

        it("requires a startup probe when configured, globally or per tier", async () => {
            const f = workload(DEPLOYMENT, podSpec([container("nuve")]));
            assertViolations(await violations(f, { requireStartupProbe: true }), [
                /: startupProbe is not set\./,
            ]);
            assertViolations(await violations(f, { startupProbeTiers: ["nuve"] }), [
                /: startupProbe is not set\./,
            ]);
            assertViolations(await violations(f, { startupProbeTiers: ["rabbitmq"] }), []);
        });

        it("reports one message per offending container, in either order", async () => {
            for (const list of [
                [container("ok"), probes("nuve", { readinessProbe: ready })],
                [probes("nuve", { readinessProbe: ready }), container("ok")],
            ]) {
                assertViolations(await violations(workload(DEPLOYMENT, podSpec(list))), [
                    /^Deployment "licode-nuve" container "nuve" .*: livenessProbe is not set\./,
                ]);
            }
        });
    });

    describe("probe objects without a usable handler", () => {
        const cases: Array<[string, unknown, RegExp]> = [
            [
                "an empty object",
                {},
                /readinessProbe has no handler \(exec, httpGet, tcpSocket or grpc\), so it counts as missing/,
            ],
            [
                "timings only",
                { periodSeconds: 5, failureThreshold: 3 },
                /readinessProbe has no handler/,
            ],
            ["a null handler", { httpGet: null }, /readinessProbe has no handler/],
            [
                "two handlers",
                { exec: { command: ["true"] }, tcpSocket: { port: 3000 } },
                /readinessProbe sets exec and tcpSocket; the API accepts exactly one handler/,
            ],
            [
                "httpGet without a port",
                { httpGet: { path: "/" } },
                /readinessProbe httpGet has no valid port/,
            ],
            [
                "exec without a command",
                { exec: { command: [] } },
                /readinessProbe exec has no command/,
            ],
            [
                "grpc with a named port",
                { grpc: { port: "grpc" } },
                /readinessProbe grpc has no valid port/,
            ],
        ];
        for (const [name, probe, pattern] of cases) {
            it(`flags ${name}`, async () => {
                const f = workload(
                    DEPLOYMENT,
                    podSpec([probes("nuve", { readinessProbe: probe, livenessProbe: live })]),
                );
                assertViolations(await violations(f), [pattern]);
            });
        }
        it("flags a handler outside allowedHandlers", async () => {
            const f = workload(
                DEPLOYMENT,
                podSpec([
                    probes("nuve", {
                        readinessProbe: { grpc: { port: 9090 } },
                        livenessProbe: live,
                    }),
                ]),
            );
            assertViolations(await violations(f), []);
            assertViolations(
                await violations(f, { allowedHandlers: ["exec", "httpGet", "tcpSocket"] }),
                [
                    /readinessProbe uses grpc, which this pack's allowedHandlers \(exec, httpGet, tcpSocket\) does not accept/,
                ],
            );
        });
        it("flags a handler-less probe on a Job too (the API rejects it)", async () => {
            const f = workload(
                "kubernetes:batch/v1:Job",
                podSpec([probes("nuve", { livenessProbe: {} })]),
            );
            assertViolations(await violations(f), [/livenessProbe has no handler/]);
        });
    });

    describe("container classes", () => {
        it("flags probes on a plain init container, on any kind", async () => {
            for (const type of [DEPLOYMENT, "kubernetes:batch/v1:CronJob"]) {
                const f = workload(
                    type,
                    podSpec([container("nuve")], {
                        initContainers: [
                            initContainer("wait", { readinessProbe: ready, startupProbe: {} }),
                        ],
                    }),
                );
                assertViolations(await violations(f), [
                    /init container "wait" \(.*initContainers\[0\]\): readinessProbe is set on a plain init container; startupProbe is set on a plain init container\. Why: The API server rejects probes on init containers/,
                ]);
            }
        });
        it("lets native sidecars carry probes or not, but checks the ones they carry", async () => {
            const sidecar = (p: Record<string, unknown>) =>
                workload(
                    DEPLOYMENT,
                    podSpec([container("nuve")], {
                        initContainers: [initContainer("proxy", { restartPolicy: "Always", ...p })],
                    }),
                );
            assertViolations(await violations(sidecar({})), []);
            assertViolations(
                await violations(sidecar({ readinessProbe: ready, livenessProbe: live })),
                [],
            );
            assertViolations(await violations(sidecar({ readinessProbe: {} })), [
                /sidecar container "proxy" .*readinessProbe has no handler/,
            ]);
        });
        it("accepts init containers without probes next to app containers with probes", async () => {
            const f = workload(
                DEPLOYMENT,
                podSpec([container("nuve")], { initContainers: [initContainer("wait")] }),
            );
            assertViolations(await violations(f), []);
        });
        it("ignores ephemeral containers", async () => {
            const f = workload(
                POD,
                podSpec([container("nuve")], {
                    ephemeralContainers: [
                        { name: "debug", image: "busybox:1.36", readinessProbe: {} },
                    ],
                }),
            );
            assertViolations(await violations(f), []);
        });
    });

    describe("exemptions", () => {
        it("exempts one container with a reason", async () => {
            const f = workload(DEPLOYMENT, podSpec([container("nuve"), probes("exporter", {})]));
            assertViolations(await violations(f), [/container "exporter"/]);
            const exemptions = [
                {
                    resource: "licode-nuve",
                    container: "exporter",
                    reason: "metrics sidecar, no endpoint",
                },
            ];
            assertViolations(await violations(f, { exemptions }), []);
        });
    });

    describe("values unknown during preview", () => {
        it("treats an unknown probe as present", async () => {
            const f = workload(
                DEPLOYMENT,
                podSpec([
                    probes("nuve", {
                        readinessProbe: UNKNOWN,
                        livenessProbe: { httpGet: UNKNOWN },
                    }),
                ]),
            );
            assertViolations(await violations(f), []);
        });
        it("skips the requirement when a Pod's restartPolicy is unknown", async () => {
            const f = workload(POD, podSpec([probes("nuve", {})], { restartPolicy: UNKNOWN }));
            assertViolations(await violations(f), []);
        });
        it("skips an init container whose restartPolicy is unknown", async () => {
            const f = workload(
                DEPLOYMENT,
                podSpec([container("nuve")], {
                    initContainers: [
                        initContainer("maybe", { restartPolicy: UNKNOWN, readinessProbe: ready }),
                    ],
                }),
            );
            assertViolations(await violations(f), []);
        });
        it("skips unknown ports and commands", async () => {
            const f = workload(
                DEPLOYMENT,
                podSpec([
                    probes("nuve", {
                        readinessProbe: { httpGet: { port: UNKNOWN } },
                        livenessProbe: { exec: { command: UNKNOWN } },
                    }),
                ]),
            );
            assertViolations(await violations(f), []);
        });
    });
});
