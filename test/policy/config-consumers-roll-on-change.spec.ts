import * as assert from "assert";
import { configConsumersRollOnChange as policy } from "../../policy/policies/config-consumers-roll-on-change";
import {
    Fixture,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertExplained,
    assertViolations,
    configObject,
    container,
    initContainer,
    podSpec,
    runStackPolicy,
    workload,
} from "./util";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

const volumeFrom = (name: string, kind: "configMap" | "secret" = "configMap") => ({
    volumes: [
        {
            name: "config",
            ...(kind === "configMap" ? { configMap: { name } } : { secret: { secretName: name } }),
        },
    ],
});

function consumer(
    spec: Record<string, unknown>,
    annotations?: Record<string, unknown>,
    opts: { type?: string; namespace?: string; containers?: Record<string, unknown>[] } = {},
): Fixture {
    return workload(
        opts.type ?? DEPLOYMENT,
        podSpec(opts.containers ?? [container("nuve")], spec),
        {
            annotations,
            namespace: opts.namespace,
        },
    );
}

async function check(
    resources: Fixture[],
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const out = await runStackPolicy(policy, resources, config);
    const messages = out.map((v) => v.message);
    assertExplained(messages);
    for (const v of out) {
        assert.ok(v.urn !== undefined, "stack violations point at the workload");
    }
    return messages;
}

const FIXED =
    /^Deployment "licode-nuve" \(spec.template.metadata.annotations has no checksum\/\* key\): reads ConfigMap "licode-config" \(volume "config"\), which has a fixed metadata.name, so it is updated in place\. Why: /;

describe("config-consumers-roll-on-change", () => {
    const cm = configObject("ConfigMap", "licode-config");

    it("flags a fixed-name ConfigMap read without a checksum annotation", async () => {
        assertViolations(await check([cm, consumer(volumeFrom("licode-config"))]), [FIXED]);
        assertViolations(
            await check([cm, consumer(volumeFrom("licode-config"), { team: "media" })]),
            [FIXED],
        );
    });
    it("accepts a checksum/ annotation on the pod template", async () => {
        assertViolations(
            await check([cm, consumer(volumeFrom("licode-config"), { "checksum/config": "abc" })]),
            [],
        );
        assertViolations(
            await check([cm, consumer(volumeFrom("licode-config"), { "hash/config": "abc" })], {
                checksumPrefix: "hash/",
            }),
            [],
        );
    });
    it("accepts autonamed objects (provider annotation, or no name in the inputs)", async () => {
        const auto = configObject("ConfigMap", "licode-config-1a2b3c4d", { autonamed: true });
        assertViolations(await check([auto, consumer(volumeFrom("licode-config-1a2b3c4d"))]), []);
        const inputsView: Fixture = {
            type: "kubernetes:core/v1:ConfigMap",
            props: { metadata: {} },
            name: "licode-config",
        };
        assertViolations(await check([inputsView, consumer(volumeFrom("licode-config"))]), []);
    });
    it("does not count autonaming when the provider updates the object in place", async () => {
        const provider = { props: { enableConfigMapMutable: "true" } };
        const auto = configObject("ConfigMap", "cfg-1", { autonamed: true, provider });
        assertViolations(await check([auto, consumer(volumeFrom("cfg-1"))]), [
            /reads ConfigMap "cfg-1" \(volume "config"\), which is autonamed but its provider sets enableConfigMapMutable/,
        ]);
        const secret = configObject("Secret", "s-1", { autonamed: true, provider });
        assertViolations(await check([secret, consumer(volumeFrom("s-1", "secret"))]), []);
    });

    describe("every way a pod reads config", () => {
        const cases: Array<[string, Record<string, unknown>, Record<string, unknown>[], RegExp]> = [
            [
                "a secret volume",
                volumeFrom("licode-config", "secret"),
                [container("nuve")],
                /Secret "licode-config" \(volume "config"\)/,
            ],
            [
                "a projected volume",
                {
                    volumes: [
                        {
                            name: "all",
                            projected: {
                                sources: [
                                    { configMap: { name: "licode-config" } },
                                    { secret: { name: "licode-config" } },
                                ],
                            },
                        },
                    ],
                },
                [container("nuve")],
                /ConfigMap "licode-config" \(projected volume "all"\).*; reads Secret "licode-config" \(projected volume "all"\)/,
            ],
            [
                "envFrom configMapRef",
                {},
                [container("nuve", { envFrom: [{ configMapRef: { name: "licode-config" } }] })],
                /ConfigMap "licode-config" \(envFrom of container "nuve"\)/,
            ],
            [
                "envFrom secretRef",
                {},
                [container("nuve", { envFrom: [{ secretRef: { name: "licode-config" } }] })],
                /Secret "licode-config" \(envFrom of container "nuve"\)/,
            ],
            [
                "env configMapKeyRef",
                {},
                [
                    container("nuve", {
                        env: [
                            {
                                name: "LOG",
                                valueFrom: {
                                    configMapKeyRef: { name: "licode-config", key: "log" },
                                },
                            },
                        ],
                    }),
                ],
                /ConfigMap "licode-config" \(env LOG of container "nuve"\)/,
            ],
            [
                "env secretKeyRef",
                {},
                [
                    container("nuve", {
                        env: [
                            {
                                name: "KEY",
                                valueFrom: { secretKeyRef: { name: "licode-config", key: "k" } },
                            },
                        ],
                    }),
                ],
                /Secret "licode-config" \(env KEY of container "nuve"\)/,
            ],
        ];
        for (const [name, spec, containers, pattern] of cases) {
            it(`catches ${name}`, async () => {
                const objects = [
                    configObject("ConfigMap", "licode-config"),
                    configObject("Secret", "licode-config"),
                ];
                assertViolations(
                    await check([...objects, consumer(spec, undefined, { containers })]),
                    [pattern],
                );
            });
        }
        it("catches init containers", async () => {
            const spec = {
                initContainers: [
                    initContainer("render", {
                        envFrom: [{ configMapRef: { name: "licode-config" } }],
                    }),
                ],
            };
            assertViolations(await check([cm, consumer(spec)]), [/envFrom of container "render"/]);
        });
    });

    it("skips objects outside the stack or in another namespace", async () => {
        assertViolations(await check([consumer(volumeFrom("created-elsewhere"))]), []);
        const other = configObject("ConfigMap", "licode-config", { namespace: "other" });
        assertViolations(
            await check([
                other,
                consumer(volumeFrom("licode-config"), undefined, { namespace: "licode" }),
            ]),
            [],
        );
        const same = configObject("ConfigMap", "licode-config", { namespace: "licode" });
        assertViolations(
            await check([
                same,
                consumer(volumeFrom("licode-config"), undefined, { namespace: "licode" }),
            ]),
            [/ConfigMap "licode-config"/],
        );
    });

    describe("kinds", () => {
        for (const k of WORKLOAD_KINDS) {
            const checked = ["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(k.kind);
            it(`${checked ? "checks" : "skips"} ${k.kind}`, async () => {
                const v = await check([
                    cm,
                    consumer(volumeFrom("licode-config"), undefined, { type: k.type }),
                ]);
                assertViolations(v, checked ? [new RegExp(`^${k.kind} `)] : []);
            });
        }
    });

    it("exempts a workload with a reason", async () => {
        const exemptions = [{ resource: "licode-nuve", reason: "reads config at every request" }];
        assertViolations(
            await check([cm, consumer(volumeFrom("licode-config"))], { exemptions }),
            [],
        );
    });

    it("skips values unknown during preview", async () => {
        assertViolations(
            await check([cm, consumer(volumeFrom("licode-config"), UNKNOWN as never)]),
            [],
        );
        assertViolations(await check([cm, consumer(volumeFrom(UNKNOWN))]), []);
        const unknownName: Fixture = {
            type: "kubernetes:core/v1:ConfigMap",
            props: { metadata: { name: UNKNOWN } },
            name: "licode-config",
        };
        assertViolations(await check([unknownName, consumer(volumeFrom("licode-config"))]), []);
        const unknownNs = configObject("ConfigMap", "licode-config", { namespace: UNKNOWN });
        assertViolations(await check([unknownNs, consumer(volumeFrom("licode-config"))]), []);
    });
});
