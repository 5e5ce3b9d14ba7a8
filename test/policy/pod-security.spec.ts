import * as assert from "assert";
import { DEFAULT_TIERS, podSecurity as policy } from "../../policy/policies/pod-security";
import {
    Fixture,
    HARDENED,
    PATCH_KINDS,
    POD_HARDENED,
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

/** A hardened container with `sc` merged into its securityContext (undefined values delete). */
function hardened(name: string, sc: Record<string, unknown> = {}, extra = {}) {
    const securityContext: Record<string, unknown> = { ...HARDENED, ...sc };
    for (const [k, v] of Object.entries(securityContext)) {
        if (v === undefined) {
            delete securityContext[k];
        }
    }
    return container(name, { securityContext, ...extra });
}

interface PodOptions {
    readonly tier?: unknown;
    readonly type?: string;
    readonly spec?: Record<string, unknown>;
    readonly annotations?: Record<string, unknown>;
}

/** A pod of hardened containers (default: one, "c") with a hardened pod securityContext. */
function pod(
    containers: Record<string, unknown>[] = [hardened("c")],
    opts: PodOptions = {},
): Fixture {
    const labels = opts.tier === undefined ? {} : { "app.kubernetes.io/name": opts.tier };
    return workload(
        opts.type ?? DEPLOYMENT,
        podSpec(containers, { securityContext: POD_HARDENED, ...opts.spec }),
        { labels, annotations: opts.annotations },
    );
}

const C0 = /^Deployment "licode-nuve" container "c" \(spec\.template\.spec\.containers\[0\]\): /;
const POD = /^Deployment "licode-nuve" \(spec\.template\.spec\): /;

describe("pod-security", () => {
    it("accepts a hardened pod with init and sidecar containers", async () => {
        const f = pod([hardened("c")], {
            spec: {
                initContainers: [
                    initContainer("wait", { securityContext: HARDENED }),
                    initContainer("proxy", { restartPolicy: "Always", securityContext: HARDENED }),
                ],
                volumes: [
                    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                    { name: "data", persistentVolumeClaim: { claimName: "data" } },
                    { name: "cfg", projected: { sources: [{ configMap: { name: "cfg" } }] } },
                ],
            },
        });
        assertViolations(await violations(f), []);
    });

    describe("container controls (restricted profile)", () => {
        const cases: Array<[string, Record<string, unknown>, RegExp]> = [
            ["privileged", { privileged: true }, /securityContext\.privileged is true/],
            [
                "Windows HostProcess",
                { windowsOptions: { hostProcess: true } },
                /windowsOptions\.hostProcess is true/,
            ],
            [
                "allowPrivilegeEscalation unset",
                { allowPrivilegeEscalation: undefined },
                /allowPrivilegeEscalation is not set \(so it is true\)/,
            ],
            [
                "allowPrivilegeEscalation true",
                { allowPrivilegeEscalation: true },
                /allowPrivilegeEscalation is true\. Why: Unless allowPrivilegeEscalation is false/,
            ],
            [
                "an added capability",
                { capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_BIND_SERVICE"] } },
                /capabilities\.add has NET_ADMIN, which the restricted profile \(only NET_BIND_SERVICE\) does not allow/,
            ],
            [
                "no drop",
                { capabilities: undefined },
                /capabilities\.drop is not set, so the runtime's default capabilities stay/,
            ],
            [
                "drop without ALL",
                { capabilities: { drop: ["NET_RAW"] } },
                /capabilities\.drop is \["NET_RAW"\], which does not include ALL/,
            ],
            [
                "seccomp Unconfined",
                { seccompProfile: { type: "Unconfined" } },
                /securityContext\.seccompProfile\.type is "Unconfined"/,
            ],
            [
                "runAsNonRoot false",
                { runAsNonRoot: false },
                /: securityContext\.runAsNonRoot is false\. Why: A process running as UID 0/,
            ],
            ["runAsUser 0", { runAsUser: 0 }, /: securityContext\.runAsUser is 0 \(root\)/],
            [
                "a writable root filesystem",
                { readOnlyRootFilesystem: false },
                /readOnlyRootFilesystem is false\. Why: A writable root filesystem/,
            ],
            [
                "no readOnlyRootFilesystem",
                { readOnlyRootFilesystem: undefined },
                /readOnlyRootFilesystem is not set \(so it is false\)/,
            ],
            [
                "an unmasked /proc",
                { procMount: "Unmasked" },
                /procMount is "Unmasked", not "Default"/,
            ],
            [
                "a custom SELinux type, user and role",
                { seLinuxOptions: { type: "spc_t", user: "system_u", role: "system_r" } },
                /seLinuxOptions\.type is "spc_t", not one of container_t, .*; securityContext\.seLinuxOptions\.user is set \("system_u"\); securityContext\.seLinuxOptions\.role is set/,
            ],
            [
                "an unconfined AppArmor profile",
                { appArmorProfile: { type: "Unconfined" } },
                /appArmorProfile\.type is "Unconfined", not RuntimeDefault or Localhost/,
            ],
        ];
        for (const [what, sc, expected] of cases) {
            it(`flags ${what}`, async () => {
                const out = await violations(pod([hardened("c", sc)]));
                assertViolations(out, [expected]);
                assert.match(out[0], C0);
            });
        }

        it("accepts what the profile allows", async () => {
            for (const sc of [
                { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } },
                { seccompProfile: { type: "Localhost", localhostProfile: "licode.json" } },
                { procMount: "Default" },
                { seLinuxOptions: { type: "container_engine_t", level: "s0:c1,c2" } },
                { appArmorProfile: { type: "Localhost", localhostProfile: "licode" } },
                { runAsNonRoot: true, runAsUser: 1000 },
            ]) {
                assertViolations(await violations(pod([hardened("c", sc)])), []);
            }
        });

        it("lets the container's securityContext win over the pod's", async () => {
            const spec = { securityContext: { ...POD_HARDENED, runAsNonRoot: false } };
            assertViolations(await violations(pod([hardened("c")], { spec })), [
                /securityContext\.runAsNonRoot is false/,
            ]);
            assertViolations(
                await violations(pod([hardened("c", { runAsNonRoot: true })], { spec })),
                [],
            );
            const rootPod = { securityContext: { ...POD_HARDENED, runAsUser: 0 } };
            assertViolations(await violations(pod([hardened("c")], { spec: rootPod })), [
                /spec\.template\.spec\.securityContext\.runAsUser is 0 \(root\)/,
            ]);
            assertViolations(
                await violations(pod([hardened("c", { runAsUser: 999 })], { spec: rootPod })),
                [],
            );
        });

        it("needs runAsNonRoot and a seccomp profile on the pod or the container", async () => {
            const none = { securityContext: {} };
            assertViolations(await violations(pod([hardened("c")], { spec: none })), [
                /runAsNonRoot is not set on the container or the pod.*; no seccompProfile is set on the container or the pod/,
            ]);
            assertViolations(
                await violations(
                    pod(
                        [
                            hardened("c", {
                                runAsNonRoot: true,
                                seccompProfile: { type: "RuntimeDefault" },
                            }),
                        ],
                        { spec: none },
                    ),
                ),
                [],
            );
        });

        it("applies only the baseline controls with profile baseline", async () => {
            const lax = container("c", {
                securityContext: { capabilities: { add: ["CHOWN", "SETUID"] } },
            });
            assertViolations(
                await violations(pod([lax], { spec: { securityContext: {} } }), {
                    profile: "baseline",
                    requireReadOnlyRootFilesystem: false,
                }),
                [],
            );
            const bad = container("c", {
                securityContext: {
                    capabilities: { add: ["SYS_ADMIN"] },
                    seccompProfile: { type: "Unconfined" },
                },
            });
            assertViolations(
                await violations(pod([bad]), {
                    profile: "baseline",
                    requireReadOnlyRootFilesystem: false,
                }),
                [
                    /capabilities\.add has SYS_ADMIN, which the baseline profile \(Docker's default set\) does not allow; securityContext\.seccompProfile\.type is "Unconfined"/,
                ],
            );
        });

        it("can leave readOnlyRootFilesystem alone", async () => {
            const f = pod([hardened("c", { readOnlyRootFilesystem: false })]);
            assertViolations(await violations(f, { requireReadOnlyRootFilesystem: false }), []);
        });

        it("checks AppArmor annotations", async () => {
            const key = "container.apparmor.security.beta.kubernetes.io/";
            const ok = { [`${key}c`]: "runtime/default", [`${key}d`]: "localhost/licode" };
            assertViolations(await violations(pod([hardened("c")], { annotations: ok })), []);
            assertViolations(
                await violations(
                    pod([hardened("c")], {
                        annotations: { [`${key}c`]: "unconfined", [`${key}gone`]: "unconfined" },
                    }),
                ),
                [
                    /container "c" .*spec\.template\.metadata\.annotations\["container\.apparmor\.security\.beta\.kubernetes\.io\/c"\] is "unconfined"/,
                    /\(spec\.template\.spec\): spec\.template\.metadata\.annotations\[".*\/gone"\] is "unconfined"/,
                ],
            );
        });
    });

    describe("host ports", () => {
        const port = (p: Record<string, unknown>) => hardened("c", {}, { ports: [p] });
        it("flags a hostPort", async () => {
            assertViolations(await violations(pod([port({ containerPort: 80, hostPort: 80 })])), [
                /container "c" .*: ports\[0\]\.hostPort is 80\. Why: A hostPort binds the node's address/,
            ]);
            assertViolations(await violations(pod([port({ containerPort: 80, hostPort: 0 })])), []);
        });
        it("leaves the host network's implicit hostPort to host-network-allow-list", async () => {
            const spec = { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" };
            for (const p of [{ containerPort: 8080 }, { containerPort: 8080, hostPort: 8080 }]) {
                assertViolations(
                    await violations(pod([port(p)], { tier: "erizo-controller", spec })),
                    [],
                );
            }
            assertViolations(
                await violations(
                    pod([port({ containerPort: 8080, hostPort: 9090 })], {
                        tier: "erizo-controller",
                        spec,
                    }),
                ),
                [/ports\[0\]\.hostPort is 9090/],
            );
        });
        it("takes allowed host ports per tier", async () => {
            const tiers = { turn: { hostPorts: [3478] } };
            const f = (tier: string) =>
                pod([port({ containerPort: 3478, hostPort: 3478 })], { tier });
            assertViolations(await violations(f("turn"), { tiers }), []);
            assertViolations(await violations(f("nuve"), { tiers }), [/hostPort is 3478/]);
        });
    });

    describe("pod controls", () => {
        const cases: Array<[string, Record<string, unknown>, RegExp]> = [
            ["hostPID", { hostPID: true }, /hostPID is true\. Why: Sharing the node's PID/],
            ["hostIPC", { hostIPC: true }, /hostIPC is true/],
            [
                "a hostPath volume",
                { volumes: [{ name: "data", hostPath: { path: "/var/lib/licode" } }] },
                /volumes\[0\] "data" is a hostPath volume \(\/var\/lib\/licode\)/,
            ],
            [
                "an inline nfs volume",
                { volumes: [{ name: "rec", nfs: { server: "nas", path: "/rec" } }] },
                /volumes\[0\] "rec" is a nfs volume\. Why: The restricted profile allows only/,
            ],
            [
                "an unsafe sysctl",
                {
                    securityContext: {
                        ...POD_HARDENED,
                        sysctls: [
                            { name: "net.ipv4.tcp_keepalive_time", value: "60" },
                            { name: "net.core.somaxconn", value: "1024" },
                        ],
                    },
                },
                /securityContext\.sysctls sets net\.core\.somaxconn, outside the allowed/,
            ],
            [
                "a pod-level Unconfined seccomp profile",
                { securityContext: { ...POD_HARDENED, seccompProfile: { type: "Unconfined" } } },
                /: securityContext\.seccompProfile\.type is "Unconfined"/,
            ],
            [
                "pod-level SELinux and AppArmor",
                {
                    securityContext: {
                        ...POD_HARDENED,
                        seLinuxOptions: { role: "sysadm_r" },
                        appArmorProfile: { type: "Unconfined" },
                    },
                },
                /seLinuxOptions\.role is set.*; securityContext\.appArmorProfile\.type is "Unconfined"/,
            ],
            [
                "a pod-level Windows HostProcess",
                {
                    securityContext: { ...POD_HARDENED, windowsOptions: { hostProcess: true } },
                },
                /windowsOptions\.hostProcess is true/,
            ],
        ];
        for (const [what, spec, expected] of cases) {
            it(`flags ${what}`, async () => {
                const out = await violations(pod([hardened("c")], { spec }));
                assertViolations(out, [expected]);
                assert.match(out[0], POD);
            });
        }
        it("allows inline volume types other than hostPath with profile baseline", async () => {
            const spec = { volumes: [{ name: "rec", nfs: { server: "nas", path: "/rec" } }] };
            assertViolations(
                await violations(pod([hardened("c")], { spec }), { profile: "baseline" }),
                [],
            );
        });
        it("takes the sysctl allow-list from config", async () => {
            const spec = {
                securityContext: { ...POD_HARDENED, sysctls: [{ name: "net.core.somaxconn" }] },
            };
            assertViolations(
                await violations(pod([hardened("c")], { spec }), {
                    allowedSysctls: ["net.core.somaxconn"],
                }),
                [],
            );
        });
    });

    describe("per-tier allowances", () => {
        it("defaults to what the Licode program needs", () => {
            assert.deepStrictEqual(policy.configSchema?.properties.tiers, {
                ...(policy.configSchema?.properties.tiers as object),
                default: DEFAULT_TIERS,
            });
            assert.deepStrictEqual(DEFAULT_TIERS, {
                nuve: { runAsRoot: ["nuve"], writableRootFilesystem: ["nuve"] },
                "erizo-controller": {
                    runAsRoot: ["erizo-controller"],
                    writableRootFilesystem: ["erizo-controller"],
                },
                "erizo-agent": {
                    runAsRoot: ["erizo-agent"],
                    writableRootFilesystem: ["erizo-agent"],
                },
                mongodb: { runAsRoot: ["data-owner"], capabilities: { "data-owner": ["CHOWN"] } },
                rov: { runAsRoot: ["rov"] },
                turn: {
                    runAsRoot: ["turn", "prepare"],
                    capabilities: { turn: ["NET_BIND_SERVICE", "SETUID", "SETGID"] },
                },
            });
        });

        const licode = (name: string) =>
            container(name, {
                securityContext: {
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"] },
                    readOnlyRootFilesystem: false,
                },
            });
        const seccompOnly = { securityContext: { seccompProfile: { type: "RuntimeDefault" } } };

        it("lets the Licode containers run as root with a writable root filesystem", async () => {
            for (const tier of ["nuve", "erizo-controller", "erizo-agent"]) {
                assertViolations(
                    await violations(pod([licode(tier)], { tier, spec: seccompOnly })),
                    [],
                );
            }
        });

        it("names containers, so another container of the tier gets nothing", async () => {
            const f = pod([licode("nuve")], {
                tier: "nuve",
                spec: {
                    ...seccompOnly,
                    initContainers: [
                        initContainer("wait-for-dependencies", {
                            securityContext: { ...HARDENED, readOnlyRootFilesystem: false },
                        }),
                    ],
                },
            });
            assertViolations(await violations(f), [
                /init container "wait-for-dependencies" \(spec\.template\.spec\.initContainers\[0\]\): runAsNonRoot is not set.*; securityContext\.readOnlyRootFilesystem is false\. .* Fix: .*tiers\.nuve\.runAsRoot.*tiers\.nuve\.writableRootFilesystem/,
            ]);
        });

        it("lets MongoDB's data-owner chown as root, with CHOWN alone", async () => {
            const owner = (caps: string[]) =>
                initContainer("data-owner", {
                    securityContext: {
                        ...HARDENED,
                        runAsNonRoot: false,
                        runAsUser: 0,
                        capabilities: { drop: ["ALL"], add: caps },
                    },
                });
            const f = (caps: string[], name = "data-owner") =>
                pod([hardened("mongodb")], {
                    tier: "mongodb",
                    type: "kubernetes:apps/v1:StatefulSet",
                    spec: { initContainers: [{ ...owner(caps), name }] },
                });
            assertViolations(await violations(f(["CHOWN"])), []);
            assertViolations(await violations(f(["CAP_CHOWN"])), []);
            assertViolations(await violations(f(["CHOWN", "DAC_OVERRIDE"])), [
                /init container "data-owner" .*: securityContext\.capabilities\.add has DAC_OVERRIDE, which neither the restricted profile \(only NET_BIND_SERVICE\) nor tier "mongodb"'s allowance permits\..* Fix: .*tiers\.mongodb\.capabilities\.data-owner/,
            ]);
            assertViolations(await violations(f(["CHOWN"], "chown")), [
                /init container "chown" .*capabilities\.add has CHOWN.*; securityContext\.runAsNonRoot is false; securityContext\.runAsUser is 0/,
            ]);
        });

        it("gives an unlabelled pod, or another tier, no allowance", async () => {
            for (const tier of [undefined, "rabbitmq"]) {
                assertViolations(
                    await violations(pod([licode("nuve")], { tier, spec: seccompOnly })),
                    [/runAsNonRoot is not set.*readOnlyRootFilesystem is false/],
                );
            }
        });

        it("takes tiers from config, with * for every container and hostPath volumes", async () => {
            const spec = { volumes: [{ name: "recordings", hostPath: { path: "/rec" } }] };
            const f = pod([licode("a"), licode("b")], { tier: "media", spec });
            assertViolations(
                await violations(f, {
                    tiers: {
                        media: {
                            runAsRoot: ["*"],
                            writableRootFilesystem: ["a", "b"],
                            hostPathVolumes: ["recordings"],
                        },
                    },
                }),
                [],
            );
            assertViolations(await violations(f, { tiers: { media: { runAsRoot: ["*"] } } }), [
                /container "a" .*readOnlyRootFilesystem is false/,
                /container "b" .*readOnlyRootFilesystem is false/,
                /volumes\[0\] "recordings" is a hostPath volume .*tiers\.media\.hostPathVolumes/,
            ]);
        });
    });

    it("checks init, sidecar and ephemeral containers, one message each", async () => {
        const f = workload(
            "kubernetes:core/v1:Pod",
            podSpec([hardened("c")], {
                securityContext: POD_HARDENED,
                initContainers: [
                    initContainer("wait", { securityContext: { ...HARDENED, privileged: true } }),
                    initContainer("proxy", {
                        restartPolicy: "Always",
                        securityContext: { ...HARDENED, allowPrivilegeEscalation: true },
                    }),
                ],
                ephemeralContainers: [{ name: "debug", image: "busybox:1.36" }],
            }),
        );
        assertViolations(await violations(f), [
            /^Pod "licode-nuve" init container "wait" \(spec\.initContainers\[0\]\): securityContext\.privileged is true/,
            /^Pod "licode-nuve" sidecar container "proxy" \(spec\.initContainers\[1\]\): securityContext\.allowPrivilegeEscalation is true/,
            /^Pod "licode-nuve" ephemeral container "debug" \(spec\.ephemeralContainers\[0\]\): securityContext\.allowPrivilegeEscalation is not set/,
        ]);
    });

    for (const k of WORKLOAD_KINDS) {
        it(`checks ${k.kind}`, async () => {
            assertViolations(await violations(pod([hardened("c")], { type: k.type })), []);
            assertViolations(
                await violations(pod([hardened("c", { privileged: true })], { type: k.type })),
                [new RegExp(`^${k.kind} "licode-nuve" container "c" .*privileged is true`)],
            );
        });
    }

    for (const k of PATCH_KINDS) {
        it(`judges only what ${k.kind} sets`, async () => {
            const bare = workload(k.type, podSpec([{ name: "c", image: "licode:v10" }]));
            assertViolations(await violations(bare), []);
            const bad = workload(
                k.type,
                podSpec([{ name: "c", securityContext: { allowPrivilegeEscalation: true } }], {
                    hostIPC: true,
                }),
            );
            assertViolations(await violations(bad), [
                new RegExp(
                    `^${k.kind} "licode-nuve" container "c" .*allowPrivilegeEscalation is true`,
                ),
                new RegExp(`^${k.kind} "licode-nuve" \\(.*spec\\): hostIPC is true`),
            ]);
        });
    }

    it("exempts a resource or a container with a reason, and reports one without", async () => {
        const f = pod([hardened("c", { privileged: true })], { spec: { hostPID: true } });
        assertViolations(
            await violations(f, { exemptions: [{ resource: "licode-nuve", reason: "debug" }] }),
            [],
        );
        assertViolations(
            await violations(f, {
                exemptions: [{ resource: "licode-nuve", container: "c", reason: "debug" }],
            }),
            [POD],
        );
        assertViolations(
            await violations(f, {
                exemptions: [{ resource: "licode-nuve", reason: "debug", expires: "2020-01-01" }],
            }),
            [/exemption for resource "licode-nuve" expired on 2020-01-01/, C0, POD],
        );
    });

    it("skips values unknown during preview", async () => {
        assertViolations(
            await violations(pod([container("c", { securityContext: UNKNOWN })], { tier: "x" })),
            [],
        );
        // An unknown tier may be one with allowances.
        const root = container("c", {
            securityContext: { ...HARDENED, runAsNonRoot: false, readOnlyRootFilesystem: false },
        });
        assertViolations(await violations(pod([root], { tier: UNKNOWN })), []);
        assertViolations(
            await violations(
                pod([hardened("c", {}, { ports: [{ containerPort: 80, hostPort: 80 }] })], {
                    spec: { hostNetwork: UNKNOWN },
                }),
            ),
            [],
        );
        assertViolations(
            await violations(
                pod([hardened("c", { seccompProfile: undefined })], {
                    spec: { securityContext: { ...POD_HARDENED, seccompProfile: UNKNOWN } },
                }),
            ),
            [],
        );
    });
});
