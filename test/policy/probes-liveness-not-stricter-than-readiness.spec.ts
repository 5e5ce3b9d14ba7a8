import { probesLivenessNotStricterThanReadiness as policy } from "../../policy/policies/probes-liveness-not-stricter-than-readiness";
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

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

async function check(
    readinessProbe: unknown,
    livenessProbe: unknown,
    extra: Record<string, unknown> = {},
    type = DEPLOYMENT,
): Promise<string[]> {
    const c = container("nuve", { readinessProbe, livenessProbe, ...extra });
    const run = await runResourcePolicy(policy, workload(type, podSpec([c])));
    assertExplained(run.violations);
    return run.violations;
}

const http = (path: string, port: unknown = 3000) => ({ httpGet: { path, port } });
const SAME = /livenessProbe runs the same (\w+) check as readinessProbe and gives up after/;

describe("probes-liveness-not-stricter-than-readiness", () => {
    describe("same handler", () => {
        const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, RegExp[]]> = [
            ["identical httpGet probes", http("/health"), http("/health"), [SAME]],
            [
                "identical tcpSocket probes",
                { tcpSocket: { port: 3000 } },
                { tcpSocket: { port: 3000 } },
                [SAME],
            ],
            [
                "identical exec probes",
                { exec: { command: ["mongosh", "--eval", "ping"] } },
                { exec: { command: ["mongosh", "--eval", "ping"] } },
                [SAME],
            ],
            ["identical grpc probes", { grpc: { port: 9090 } }, { grpc: { port: 9090 } }, [SAME]],
            [
                "a named port against its number",
                http("/health", "http"),
                http("/health", 3000),
                [SAME],
            ],
            [
                "liveness failing faster",
                { ...http("/health"), failureThreshold: 6 },
                { ...http("/health"), failureThreshold: 3 },
                [/gives up after 3 × 10s = 30s, no later than readiness \(6 × 10s = 60s\)/],
            ],
            [
                "a higher liveness failureThreshold (kube-score#339)",
                http("/health"),
                { ...http("/health"), failureThreshold: 6 },
                [],
            ],
            [
                "a longer liveness period",
                http("/health"),
                { ...http("/health"), periodSeconds: 20 },
                [],
            ],
            [
                "a longer window but a shorter liveness timeout",
                { ...http("/health"), timeoutSeconds: 5 },
                { ...http("/health"), failureThreshold: 6, timeoutSeconds: 1 },
                [/with a shorter timeoutSeconds \(1s < 5s\)/],
            ],
        ];
        for (const [name, r, l, expected] of cases) {
            it(`handles ${name}`, async () => {
                assertViolations(await check(r, l), expected);
            });
        }
    });

    describe("different handlers", () => {
        const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
            ["different paths", http("/ready"), http("/alive")],
            ["different ports", { tcpSocket: { port: 3000 } }, { tcpSocket: { port: 3001 } }],
            ["different named ports", http("/h", "http"), http("/h", "admin")],
            ["different handler types", http("/health"), { tcpSocket: { port: 3000 } }],
            ["different exec argv", { exec: { command: ["a"] } }, { exec: { command: ["b"] } }],
            [
                "different grpc services",
                { grpc: { port: 9090, service: "ready" } },
                { grpc: { port: 9090 } },
            ],
        ];
        for (const [name, r, l] of cases) {
            it(`accepts ${name}`, async () => {
                assertViolations(await check(r, l), []);
            });
        }
        it("leaves missing or handler-less probes to required-probes", async () => {
            assertViolations(await check(undefined, undefined), []);
            assertViolations(await check({}, {}), []);
        });
    });

    describe("kinds and containers", () => {
        for (const k of [...WORKLOAD_KINDS, ...PATCH_KINDS]) {
            it(`checks ${k.kind}`, async () => {
                assertViolations(await check(http("/h"), http("/h"), {}, k.type), [SAME]);
            });
        }
        it("checks native sidecars, one message per container", async () => {
            const f = workload(
                DEPLOYMENT,
                podSpec([container("nuve")], {
                    initContainers: [
                        initContainer("proxy", {
                            restartPolicy: "Always",
                            readinessProbe: http("/h"),
                            livenessProbe: http("/h"),
                        }),
                    ],
                }),
            );
            assertViolations((await runResourcePolicy(policy, f)).violations, [
                /sidecar container "proxy"/,
            ]);
        });
    });

    describe("values unknown during preview", () => {
        it("skips when a handler field, a port name or a timing is unknown", async () => {
            assertViolations(await check(http(UNKNOWN), http("/h")), []);
            assertViolations(
                await check(http("/h", "http"), http("/h", "http"), { ports: UNKNOWN }),
                [],
            );
            assertViolations(
                await check({ ...http("/h"), failureThreshold: UNKNOWN }, http("/h")),
                [],
            );
        });
    });
});
