import * as assert from "assert";
import { serviceRouting as policy } from "../../policy/policies/service-routing";
import {
    Fixture,
    PATCH_KINDS,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertExplained,
    assertViolations,
    container,
    ingress,
    initContainer,
    podSpec,
    runStackPolicy,
    service,
    workload,
} from "./util";

const NS = { namespace: "licode" };
const NUVE = { "app.kubernetes.io/name": "nuve" };

async function run(fs: Fixture[], config: Record<string, unknown> = {}) {
    const out = await runStackPolicy(policy, fs, config);
    assertExplained(out.map((v) => v.message));
    return out;
}

async function violations(fs: Fixture[], config: Record<string, unknown> = {}): Promise<string[]> {
    return (await run(fs, config)).map((v) => v.message);
}

function nuve(opts: { type?: string; spec?: Record<string, unknown>; name?: string } = {}) {
    return workload(
        opts.type ?? "kubernetes:apps/v1:Deployment",
        podSpec([container("nuve", { ports: [{ name: "http", containerPort: 3000 }] })], opts.spec),
        { labels: NUVE, name: opts.name, ...NS },
    );
}

const HTTP = { name: "http", port: 3000, targetPort: "http" };
const svc = (spec: Record<string, unknown> = {}, namespace = "licode") =>
    service("licode-nuve", { selector: NUVE, ports: [HTTP], ...spec }, { namespace });

const backend = (port: Record<string, unknown>, name = "licode-nuve") => ({
    service: { name, port },
});
const ing = (spec: Record<string, unknown>) => ingress("licode-nuve", spec, NS);
const rules = (b: Record<string, unknown>) => ({
    rules: [{ host: "nuve.example.com", http: { paths: [{ path: "/", backend: b }] } }],
});

describe("service-routing", () => {
    describe("Ingress backends", () => {
        it("accept a Service of the stack and one of its ports, by name or number", async () => {
            for (const port of [{ name: "http" }, { number: 3000 }]) {
                assertViolations(await violations([nuve(), svc(), ing(rules(backend(port)))]), []);
                assertViolations(
                    await violations([nuve(), svc(), ing({ defaultBackend: backend(port) })]),
                    [],
                );
            }
        });
        it("flag a wrong port name or number", async () => {
            const out = await run([nuve(), svc(), ing(rules(backend({ name: "web" })))]);
            assert.strictEqual(out.length, 1);
            assert.strictEqual(out[0].urn?.includes("Ingress"), true);
            assert.match(
                out[0].message,
                /^Ingress "licode-nuve": spec\.rules\[0\]\.http\.paths\[0\]\.backend\.service\.port\.name "web" is not a port of Service "licode-nuve" \(its ports: http 3000\)\. Why: The ingress controller answers 503/,
            );
            assertViolations(
                await violations([nuve(), svc(), ing({ defaultBackend: backend({ number: 80 }) })]),
                [
                    /spec\.defaultBackend\.service\.port\.number 80 is not a port of Service "licode-nuve"/,
                ],
            );
        });
        it("flag a Service that is not in the stack, or not in the namespace", async () => {
            assertViolations(
                await violations([nuve(), svc(), ing(rules(backend({ name: "http" }, "nuve")))]),
                [
                    /backend names Service "nuve", which is not a Service of this stack in namespace "licode"/,
                ],
            );
            assertViolations(
                await violations([nuve(), svc({}, "other"), ing(rules(backend({ name: "http" })))]),
                [
                    /names Service "licode-nuve", which is not a Service of this stack in namespace "licode"/,
                    /^Service "licode-nuve": .*selects no pod template of this stack in namespace "other"/,
                ],
            );
        });
        it("read networking v1beta1 backends, and leave resource backends alone", async () => {
            const beta = (b: Record<string, unknown>) => ({
                type: "kubernetes:extensions/v1beta1:Ingress",
                name: "old",
                props: { metadata: { name: "old", ...NS }, spec: { backend: b } },
            });
            assertViolations(
                await violations([
                    nuve(),
                    svc(),
                    beta({ serviceName: "licode-nuve", servicePort: "http" }),
                ]),
                [],
            );
            assertViolations(
                await violations([
                    nuve(),
                    svc(),
                    beta({ serviceName: "licode-nuve", servicePort: 80 }),
                ]),
                [/spec\.backend\.servicePort 80 is not a port/],
            );
            const resource = { resource: { apiGroup: "x", kind: "Bucket", name: "b" } };
            assertViolations(await violations([ing(rules(resource))]), []);
        });
    });

    describe("Services", () => {
        it("accept targetPorts the selected pods declare, by name or number", async () => {
            for (const targetPort of ["http", 3000, undefined]) {
                const ports = [{ name: "http", port: 3000, targetPort }];
                assertViolations(await violations([nuve(), svc({ ports })]), []);
            }
        });
        it("flag a Service that selects no pod template of the stack", async () => {
            const out = await run([nuve(), svc({ selector: { "app.kubernetes.io/name": "nuv" } })]);
            assert.strictEqual(out.length, 1);
            assert.match(
                out[0].message,
                /^Service "licode-nuve": spec\.selector \{"app\.kubernetes\.io\/name":"nuv"\} selects no pod template of this stack in namespace "licode"\. Why: A Service that selects no pod/,
            );
            assertViolations(await violations([nuve(), svc({}, "other")]), [
                /selects no pod template of this stack in namespace "other"/,
            ]);
        });
        it("flag a targetPort no selected container declares", async () => {
            const ports = [
                HTTP,
                { name: "admin", port: 8080, targetPort: "admin" },
                { name: "metrics", port: 9100 },
                { name: "dns", port: 3000, targetPort: 3000, protocol: "UDP" },
            ];
            assertViolations(await violations([nuve(), svc({ ports })]), [
                /spec\.ports\[1\] "admin" \(8080\/TCP\) targetPort "admin" is not a declared containerPort \(TCP\) of Deployment "licode-nuve"; spec\.ports\[2\] "metrics" \(9100\/TCP\) targetPort 9100 is not.*; spec\.ports\[3\] "dns" \(3000\/UDP\) targetPort 3000 is not a declared containerPort \(UDP\)/,
            ]);
        });
        it("count sidecar ports, not plain init containers' ones", async () => {
            const init = (restartPolicy?: string) => ({
                initContainers: [
                    initContainer("proxy", {
                        restartPolicy,
                        ports: [{ name: "https", containerPort: 8443 }],
                    }),
                ],
            });
            const ports = [HTTP, { name: "https", port: 443, targetPort: "https" }];
            assertViolations(
                await violations([nuve({ spec: init("Always") }), svc({ ports })]),
                [],
            );
            assertViolations(await violations([nuve({ spec: init() }), svc({ ports })]), [
                /targetPort "https" is not a declared containerPort/,
            ]);
        });
        it("name each selected template that lacks the port", async () => {
            const other = workload(
                "kubernetes:apps/v1:StatefulSet",
                podSpec([container("x", { ports: [] })]),
                {
                    labels: NUVE,
                    name: "licode-nuve-canary",
                    ...NS,
                },
            );
            assertViolations(await violations([nuve(), other, svc()]), [
                /targetPort "http" is not a declared containerPort \(TCP\) of StatefulSet "licode-nuve-canary"\./,
            ]);
        });
        it("leave Services without a selector, and ExternalName Services, alone", async () => {
            assertViolations(await violations([svc({ selector: undefined })]), []);
            assertViolations(await violations([svc({ selector: {} })]), []);
            assertViolations(
                await violations([svc({ type: "ExternalName", externalName: "db.example.com" })]),
                [],
            );
        });
        for (const k of WORKLOAD_KINDS) {
            it(`see the pods of ${k.kind}`, async () => {
                assertViolations(await violations([nuve({ type: k.type }), svc()]), []);
            });
        }
        for (const k of PATCH_KINDS) {
            it(`do not count ${k.kind} templates`, async () => {
                assertViolations(await violations([nuve({ type: k.type }), svc()]), [
                    /selects no pod template/,
                ]);
            });
        }
    });

    it("exempts an Ingress or a Service with a reason", async () => {
        const exemptions = [
            { resource: "licode-nuve", reason: "routed by an external controller" },
        ];
        assertViolations(
            await violations([svc(), ing(rules(backend({ name: "web" })))], { exemptions }),
            [],
        );
    });

    it("skips values unknown during preview", async () => {
        assertViolations(await violations([nuve(), svc({ selector: UNKNOWN })]), []);
        assertViolations(await violations([nuve(), svc({ ports: UNKNOWN })]), []);
        assertViolations(
            await violations([nuve(), svc({ ports: [{ port: 3000, targetPort: UNKNOWN }] })]),
            [],
        );
        assertViolations(await violations([nuve({ spec: { containers: UNKNOWN } }), svc()]), []);
        assertViolations(
            await violations([nuve(), svc(), ing(rules(backend(UNKNOWN as never)))]),
            [],
        );
        assertViolations(
            await violations([nuve(), svc(), ing(rules(backend({ name: "http" }, UNKNOWN)))]),
            [],
        );
        assertViolations(
            await violations([nuve(), svc({}, UNKNOWN), ing(rules(backend({ name: "x" })))]),
            [],
        );
    });
});
