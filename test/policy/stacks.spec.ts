// The whole pack over the real program's resources (test/harness, under mocks) for the dev, prod
// and local stacks, with each stack's policy/config/<stack>.json: no mandatory violation. Then the real tiers
// are broken one way at a time and each break is caught, with the right message.

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../policy/policies";
import { DEFAULT_TIERS } from "../../policy/policies/pod-security";
import { StackResource, stackResources } from "../harness/stack";
import { Fixture, runResourcePolicy, runStackPolicy } from "./util";

type Stack = "dev" | "prod" | "local";

// Manifests as plain JSON, edited freely by the tests below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = any;

interface Finding {
    readonly policy: string;
    readonly level: string;
    readonly resource: string;
    readonly message: string;
}

function packConfig(stack: Stack): Record<string, unknown> {
    const file = path.resolve(__dirname, "..", "..", "policy", "config", `${stack}.json`);
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

// The level and config a policy gets from the file, as the CLI would hand them over.
function settings(
    stack: Stack,
    name: string,
    fallback: string,
): { level: string; props: Record<string, unknown> } {
    const entry = packConfig(stack)[name];
    if (typeof entry === "string") {
        return { level: entry, props: {} };
    }
    if (typeof entry === "object" && entry !== null) {
        const { enforcementLevel, ...props } = entry as Record<string, unknown>;
        return { level: typeof enforcementLevel === "string" ? enforcementLevel : fallback, props };
    }
    return { level: fallback, props: {} };
}

// Each stack's resources, computed once: running the program under mocks takes a while, and
// asFixtures copies what the tests edit.
const loaded = new Map<Stack, Promise<StackResource[]>>();
function resourcesOf(stack: Stack): Promise<StackResource[]> {
    let found = loaded.get(stack);
    if (found === undefined) {
        found = stackResources(stack);
        loaded.set(stack, found);
    }
    return found;
}

function asFixtures(resources: readonly StackResource[]): Fixture[] {
    return resources.map((r) => ({
        type: r.type,
        name: r.name,
        props: structuredClone(r.props) as Props,
    }));
}

/** Runs every policy of the pack over the stack's resources. */
async function runPack(stack: Stack, fixtures: Fixture[]): Promise<Finding[]> {
    const findings: Finding[] = [];
    for (const p of policies) {
        const { level, props } = settings(stack, p.name, p.enforcementLevel ?? "advisory");
        if (level === "disabled") {
            continue;
        }
        if ("validateStack" in p) {
            for (const v of await runStackPolicy(p as StackValidationPolicy, fixtures, props)) {
                findings.push({
                    policy: p.name,
                    level,
                    resource: v.name ?? "",
                    message: v.message,
                });
            }
        } else {
            for (const f of fixtures) {
                const run = await runResourcePolicy(p as ResourceValidationPolicy, f, props);
                for (const message of run.violations) {
                    findings.push({ policy: p.name, level, resource: f.name ?? "", message });
                }
            }
        }
    }
    return findings;
}

function mandatory(findings: Finding[]): string[] {
    return findings
        .filter((f) => f.level === "mandatory")
        .map((f) => `[${f.policy}] ${f.resource}: ${f.message}`);
}

// Applies `edit` to a copy of the named resource's props.
function broken(
    fixtures: Fixture[],
    type: string,
    name: string,
    edit: (props: Props) => void,
): Fixture[] {
    let found = false;
    const out = fixtures.map((f) => {
        if (f.type !== type || f.name !== name) {
            return f;
        }
        found = true;
        const props = structuredClone(f.props);
        edit(props);
        return { ...f, props };
    });
    assert.ok(found, `${type} ${name} is in the stack`);
    return out;
}

function only(findings: Finding[], policy: string): Finding[] {
    return findings.filter((f) => f.policy === policy);
}

// The named container (app or init) of a workload's pod template.
function containerOf(props: Props, name: string): Props {
    const spec = props.spec.template.spec;
    const found = [...(spec.initContainers ?? []), ...spec.containers].find(
        (c: { name: string }) => c.name === name,
    );
    assert.ok(found, `container ${name}`);
    return found;
}

const STATEFULSET = "kubernetes:apps/v1:StatefulSet";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const DAEMONSET = "kubernetes:apps/v1:DaemonSet";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

// Breaks one thing, runs the whole pack, and returns what `policy` found, as
// [level, resource, message].
async function caught(
    stack: Stack,
    fixtures: Fixture[],
    policy: string,
): Promise<Array<[string, string, string]>> {
    return only(await runPack(stack, fixtures), policy).map((f) => [
        f.level,
        f.resource,
        f.message,
    ]);
}

describe("the policy pack on the program's stacks", function () {
    this.timeout(120000);

    for (const stack of ["dev", "prod", "local"] as const) {
        it(`passes every mandatory policy on ${stack}`, async () => {
            const fixtures = asFixtures(await resourcesOf(stack));
            assert.ok(fixtures.some((f) => f.type === "kubernetes:apps/v1:Deployment"));
            assert.deepStrictEqual(mandatory(await runPack(stack, fixtures)), []);
        });
    }

    it("keeps the local stack on images built on this machine", async () => {
        const fixtures = broken(
            asFixtures(await resourcesOf("local")),
            "kubernetes:apps/v1:StatefulSet",
            "mongodb",
            (p) => {
                p.spec.template.spec.containers[0].image = "mongo:7.0.41";
            },
        );
        const found = only(await runPack("local", fixtures), "image-digest-and-registry");
        assert.deepStrictEqual(
            found.map((f) => [f.level, f.resource]),
            [["mandatory", "mongodb"]],
        );
        assert.match(found[0].message, /docker\.io\/library\/mongo/);
    });

    describe("catches broken tiers in prod", () => {
        let prod: Fixture[];
        before(async () => {
            prod = asFixtures(await resourcesOf("prod"));
        });

        it("a Nuve container without a readiness probe", async () => {
            const fixtures = broken(prod, "kubernetes:apps/v1:Deployment", "nuve", (p) => {
                delete p.spec.template.spec.containers[0].readinessProbe;
            });
            const found = only(await runPack("prod", fixtures), "required-probes");
            assert.deepStrictEqual(
                found.map((f) => [f.level, f.resource]),
                [["mandatory", "nuve"]],
            );
            assert.match(
                found[0].message,
                /^Deployment "licode-nuve" container "nuve" \(spec\.template\.spec\.containers\[0\]\): readinessProbe is not set\. Why: Without readiness a Service sends traffic to a pod that cannot serve it.* Fix: Add the missing probes/,
            );
        });

        it("a MongoDB container without a memory limit", async () => {
            const fixtures = broken(prod, "kubernetes:apps/v1:StatefulSet", "mongodb", (p) => {
                const c = p.spec.template.spec.containers.find(
                    (x: { name: string }) => x.name === "mongodb",
                );
                delete c.resources.limits.memory;
            });
            const findings = await runPack("prod", fixtures);
            const limits = only(findings, "resource-requests-and-limits");
            assert.deepStrictEqual(
                limits.map((f) => [f.level, f.resource]),
                [["mandatory", "mongodb"]],
            );
            assert.match(
                limits[0].message,
                /^StatefulSet "licode-mongodb" container "mongodb" \(spec\.template\.spec\.containers\[0\]\): resources\.limits\.memory is not set\. Why: .*memory leak.* Fix: Set resources\.requests and resources\.limits/,
            );
            const qos = only(findings, "stateful-tiers-guaranteed-qos");
            assert.deepStrictEqual(
                qos.map((f) => [f.level, f.resource]),
                [["mandatory", "mongodb"]],
            );
            assert.match(
                qos[0].message,
                /would be in the Burstable QoS class; container "mongodb": no memory limit/,
            );
        });

        it("a config Secret with a fixed name and readers without checksums", async () => {
            const secret = prod.find(
                (f) => f.type === "kubernetes:core/v1:Secret" && f.name === "licode-config",
            );
            assert.ok(secret, "the licode-config Secret");
            const physical = (secret.props.metadata as { name: string }).name;
            let fixtures = broken(prod, "kubernetes:core/v1:Secret", "licode-config", (p) => {
                delete p.metadata.annotations["pulumi.com/autonamed"];
            });
            const readers = ["nuve", "erizo-controller"];
            for (const name of readers) {
                fixtures = broken(fixtures, "kubernetes:apps/v1:Deployment", name, (p) => {
                    delete p.spec.template.metadata.annotations;
                });
            }
            const found = only(await runPack("prod", fixtures), "config-consumers-roll-on-change");
            assert.deepStrictEqual(found.map((f) => f.resource).sort(), readers.sort());
            for (const f of found) {
                assert.strictEqual(f.level, "mandatory");
                assert.ok(
                    f.message.includes(
                        `reads Secret "${physical}" (volume "licode-config"), which has a fixed metadata.name`,
                    ),
                    f.message,
                );
            }
        });

        it("a MongoDB StatefulSet whose Service is not headless", async () => {
            const sts = prod.find(
                (f) => f.type === "kubernetes:apps/v1:StatefulSet" && f.name === "mongodb",
            );
            const serviceName = (sts?.props.spec as { serviceName: string }).serviceName;
            const svc = prod.find(
                (f) =>
                    f.type === "kubernetes:core/v1:Service" &&
                    (f.props.metadata as { name: string }).name === serviceName,
            );
            assert.ok(svc?.name);
            const fixtures = broken(prod, "kubernetes:core/v1:Service", svc.name, (p) => {
                delete p.spec.clusterIP;
            });
            const found = only(await runPack("prod", fixtures), "statefulset-service-headless");
            assert.deepStrictEqual(
                found.map((f) => [f.level, f.resource]),
                [["mandatory", "mongodb"]],
            );
            assert.match(found[0].message, new RegExp(`Service "${serviceName}" is not headless`));
        });

        it("replicated ErizoControllers without their PodDisruptionBudget", async () => {
            const fixtures = prod.filter(
                (f) => f.type !== "kubernetes:policy/v1:PodDisruptionBudget",
            );
            const found = only(await runPack("prod", fixtures), "replicated-workloads-have-pdb");
            assert.deepStrictEqual(
                found.map((f) => [f.level, f.resource]),
                [["mandatory", "erizo-controller"]],
            );
            assert.match(
                found[0].message,
                /has 2 replicas but no PodDisruptionBudget in namespace "licode" selects its pods/,
            );
        });
    });

    describe("catches broken hardening in prod", () => {
        let prod: Fixture[];
        before(async () => {
            prod = asFixtures(await resourcesOf("prod"));
        });

        it("MongoDB allowing privilege escalation", async () => {
            const fixtures = broken(prod, STATEFULSET, "mongodb", (p) => {
                containerOf(p, "mongodb").securityContext.allowPrivilegeEscalation = true;
            });
            const found = await caught("prod", fixtures, "pod-security");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "mongodb"]],
            );
            assert.match(
                found[0][2],
                /^StatefulSet "licode-mongodb" container "mongodb" \(spec\.template\.spec\.containers\[0\]\): securityContext\.allowPrivilegeEscalation is true\. Why: Unless allowPrivilegeEscalation is false .* Fix: Set securityContext\.allowPrivilegeEscalation: false/,
            );
        });

        it("Nuve without drop ALL", async () => {
            const fixtures = broken(prod, DEPLOYMENT, "nuve", (p) => {
                delete containerOf(p, "nuve").securityContext.capabilities;
            });
            const found = await caught("prod", fixtures, "pod-security");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "nuve"]],
            );
            assert.match(
                found[0][2],
                /^Deployment "licode-nuve" container "nuve" \(spec\.template\.spec\.containers\[0\]\): securityContext\.capabilities\.drop is not set, so the runtime's default capabilities stay \(drop must include ALL\)\. Why: /,
            );
        });

        it("Nuve's init container running as root (the root allowance names only nuve)", async () => {
            const fixtures = broken(prod, DEPLOYMENT, "nuve", (p) => {
                const sc = containerOf(p, "wait-for-dependencies").securityContext;
                delete sc.runAsNonRoot;
                sc.runAsUser = 0;
            });
            const found = await caught("prod", fixtures, "pod-security");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "nuve"]],
            );
            assert.match(
                found[0][2],
                /init container "wait-for-dependencies" .*: runAsNonRoot is not set on the container or the pod.*; securityContext\.runAsUser is 0 \(root\)\..* Fix: .*tiers\.nuve\.runAsRoot/,
            );
        });

        it("RabbitMQ running as root with a writable root filesystem", async () => {
            const fixtures = broken(prod, STATEFULSET, "rabbitmq", (p) => {
                const sc = containerOf(p, "rabbitmq").securityContext;
                sc.runAsNonRoot = false;
                sc.runAsUser = 0;
                sc.readOnlyRootFilesystem = false;
            });
            const found = await caught("prod", fixtures, "pod-security");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "rabbitmq"]],
            );
            assert.match(
                found[0][2],
                /container "rabbitmq" .*: securityContext\.runAsNonRoot is false; securityContext\.runAsUser is 0 \(root\); securityContext\.readOnlyRootFilesystem is false\./,
            );
        });

        it("a hostPath volume on RabbitMQ", async () => {
            const fixtures = broken(prod, STATEFULSET, "rabbitmq", (p) => {
                p.spec.template.spec.volumes.push({
                    name: "host-logs",
                    hostPath: { path: "/var/log" },
                });
            });
            const found = await caught("prod", fixtures, "pod-security");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "rabbitmq"]],
            );
            assert.match(
                found[0][2],
                /^StatefulSet "licode-rabbitmq" \(spec\.template\.spec\): volumes\[5\] "host-logs" is a hostPath volume \(\/var\/log\)\. Why: A hostPath volume reads and writes the node's filesystem.* Fix: .*tiers\.rabbitmq\.hostPathVolumes/,
            );
        });

        it("Nuve mounting a service-account token", async () => {
            const fixtures = broken(prod, DEPLOYMENT, "nuve", (p) => {
                delete p.spec.template.spec.automountServiceAccountToken;
            });
            const found = await caught("prod", fixtures, "no-service-account-token");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "nuve"]],
            );
            assert.match(
                found[0][2],
                /^Deployment "licode-nuve" \(spec\.template\.spec\.automountServiceAccountToken\): automountServiceAccountToken is not set, and its ServiceAccount "default" is not in this stack \(namespace "licode"\)/,
            );
        });

        it("a RabbitMQ emptyDir without a sizeLimit", async () => {
            const fixtures = broken(prod, STATEFULSET, "rabbitmq", (p) => {
                delete p.spec.template.spec.volumes[0].emptyDir.sizeLimit;
            });
            const found = await caught("prod", fixtures, "ephemeral-storage");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "rabbitmq"]],
            );
            assert.match(
                found[0][2],
                /^StatefulSet "licode-rabbitmq" \(spec\.template\.spec\.volumes\): emptyDir volumes\[0\] "data" has no sizeLimit\. Why: /,
            );
        });

        it("ErizoAgent recordings larger than its ephemeral-storage limit, and none on Nuve", async () => {
            let fixtures = broken(prod, DAEMONSET, "erizo-agent-primary", (p) => {
                p.spec.template.spec.volumes.find(
                    (v: { name: string }) => v.name === "recordings",
                ).emptyDir.sizeLimit = "8Gi";
            });
            fixtures = broken(fixtures, DEPLOYMENT, "nuve", (p) => {
                delete containerOf(p, "nuve").resources.limits["ephemeral-storage"];
            });
            const found = await caught("prod", fixtures, "ephemeral-storage");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [
                    ["mandatory", "nuve"],
                    ["mandatory", "erizo-agent-primary"],
                ],
            );
            assert.match(
                found[0][2],
                /container "nuve" .*: resources\.limits\.ephemeral-storage is not set \(its root filesystem is writable\)/,
            );
            assert.match(
                found[1][2],
                /the emptyDir sizeLimits \(volumes\[2\] "recordings" "8Gi"\) add up to more than the pod's ephemeral-storage limit 4Gi/,
            );
        });

        it("MongoDB's NetworkPolicy deleted", async () => {
            const fixtures = prod.filter(
                (f) => !(f.type === NETWORK_POLICY && f.name === "mongodb"),
            );
            assert.strictEqual(fixtures.length, prod.length - 1);
            const found = await caught("prod", fixtures, "network-policy-coverage");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "mongodb"]],
            );
            assert.match(
                found[0][2],
                /^StatefulSet "licode-mongodb" \(spec\.template\.metadata\.labels\): its pods are on the pod network but no NetworkPolicy with policyTypes Ingress in namespace "licode" selects them/,
            );
        });

        it("RabbitMQ's NetworkPolicy without the management port", async () => {
            const fixtures = broken(prod, NETWORK_POLICY, "rabbitmq", (p) => {
                p.spec.ingress[0].ports = p.spec.ingress[0].ports.filter(
                    (x: { port: number }) => x.port !== 15672,
                );
            });
            const found = await caught("prod", fixtures, "network-policy-coverage");
            assert.deepStrictEqual(found.map(([level, resource]) => [level, resource]).sort(), [
                ["mandatory", "rabbitmq"],
                ["mandatory", "rabbitmq-headless"],
            ]);
            for (const [, , message] of found) {
                assert.match(
                    message,
                    /ports\[1\] "management" \(15672\/TCP\) → targetPort "management" = 15672 on StatefulSet "licode-rabbitmq" is admitted by no ingress rule of the NetworkPolicies selecting those pods \(NetworkPolicy "rabbitmq-[0-9a-f]+"\)/,
                );
            }
        });

        it("the Ingress pointed at a wrong port", async () => {
            const fixtures = broken(
                prod,
                "kubernetes:networking.k8s.io/v1:Ingress",
                "nuve",
                (p) => {
                    p.spec.rules[0].http.paths[0].backend.service.port = { number: 80 };
                },
            );
            const found = await caught("prod", fixtures, "service-routing");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "nuve"]],
            );
            assert.match(
                found[0][2],
                /^Ingress "licode-nuve": spec\.rules\[0\]\.http\.paths\[0\]\.backend\.service\.port\.number 80 is not a port of Service "licode-nuve" \(its ports: http 3000\)/,
            );
        });

        it("a Service targetPort no container declares", async () => {
            const fixtures = broken(prod, "kubernetes:core/v1:Service", "mongodb", (p) => {
                p.spec.ports[0].targetPort = "mongo";
            });
            const found = await caught("prod", fixtures, "service-routing");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "mongodb"]],
            );
            assert.match(
                found[0][2],
                /^Service "licode-mongodb": spec\.ports\[0\] "mongodb" \(27017\/TCP\) targetPort "mongo" is not a declared containerPort \(TCP\) of StatefulSet "licode-mongodb"/,
            );
        });

        it("images without a digest or from another registry; Licode's exemption is for v10 only", async () => {
            let fixtures = broken(prod, STATEFULSET, "mongodb", (p) => {
                containerOf(p, "mongodb").image = "mongo:7.0.41";
            });
            fixtures = broken(fixtures, STATEFULSET, "rabbitmq", (p) => {
                containerOf(p, "rabbitmq").image =
                    "quay.io/rabbitmq/rabbitmq@sha256:" + "b".repeat(64);
            });
            fixtures = broken(fixtures, DEPLOYMENT, "erizo-controller", (p) => {
                containerOf(p, "erizo-controller").image = "lynckia/licode:v11";
            });
            const found = await caught("prod", fixtures, "image-digest-and-registry");
            assert.deepStrictEqual(found.map(([level, resource]) => [level, resource]).sort(), [
                ["mandatory", "erizo-controller"],
                ["mandatory", "mongodb"],
                ["mandatory", "rabbitmq"],
            ]);
            const byResource = new Map(found.map(([, resource, message]) => [resource, message]));
            assert.match(
                byResource.get("mongodb") ?? "",
                /container "mongodb" .*: image "mongo:7\.0\.41" has no @sha256: digest, which this stack requires/,
            );
            assert.match(
                byResource.get("rabbitmq") ?? "",
                /is quay\.io\/rabbitmq\/rabbitmq, which is not under an allowed registry \(docker\.io\/library, docker\.io\/lynckia, docker\.io\/coturn\)/,
            );
            assert.match(
                byResource.get("erizo-controller") ?? "",
                /"lynckia\/licode:v11" has no @sha256/,
            );
        });
    });

    describe("catches broken TURN in prod", () => {
        let prod: Fixture[];
        before(async () => {
            prod = asFixtures(await resourcesOf("prod"));
        });
        const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
        const editConf = (edit: (text: string) => string) =>
            broken(prod, CONFIG_MAP, "turn-config", (p) => {
                p.data["turnserver.conf"] = edit(p.data["turnserver.conf"]);
            });

        it("coturn relaying into a media pool's range", async () => {
            const fixtures = editConf((t) =>
                t
                    .replace(/^min-port=.*$/m, "min-port=41500")
                    .replace(/^max-port=.*$/m, "max-port=49999"),
            );
            const found = await caught("prod", fixtures, "turn-relay-range-clear-of-media");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "turn-config"]],
            );
            assert.match(
                found[0][2],
                /the relay ports 41500-49999 overlap the media range 41000-41999 of DaemonSet "licode-erizo-agent-overflow"/,
            );
        });

        it("coturn allowed to relay to the cluster's private ranges", async () => {
            const fixtures = editConf((t) =>
                t
                    .replace(/^denied-peer-ip=10\..*\n/m, "")
                    .replace(/^denied-peer-ip=169\.254\..*\n/m, ""),
            );
            const found = await caught("prod", fixtures, "turn-denies-private-peers");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "turn-config"]],
            );
            assert.match(
                found[0][2],
                /denied-peer-ip does not cover 10\.0\.0\.0\/8, 169\.254\.0\.0\/16/,
            );
        });

        it("the TLS listener without its certificate Secret mounted", async () => {
            const fixtures = broken(prod, DAEMONSET, "turn", (p) => {
                containerOf(p, "turn").volumeMounts = containerOf(p, "turn").volumeMounts.filter(
                    (m: { name: string }) => m.name !== "tls",
                );
            });
            const found = await caught("prod", fixtures, "turn-tls-has-certificate");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "turn"]],
            );
            assert.match(found[0][2], /no container mounts a Secret at \/etc\/licode-turn\/tls/);
        });

        it("clients not told about TURN", async () => {
            const fixtures = broken(prod, "kubernetes:core/v1:Secret", "licode-config", (p) => {
                p.stringData["licode_config.js"] = p.stringData["licode_config.js"].replace(
                    /"turns?:turn\.licode\.example\.com[^"]*",?/g,
                    "",
                );
            });
            const found = await caught("prod", fixtures, "turn-advertised-to-clients");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "licode-config"]],
            );
            assert.match(
                found[0][2],
                /iceServers lists no turn:turn\.licode\.example\.com:3478; iceServers lists no turns:turn\.licode\.example\.com:443/,
            );
        });
    });

    describe("the pod-security defaults are what the program needs", () => {
        it("every allowance is used by some stack", async () => {
            const stacks: Record<string, Fixture[]> = {};
            for (const stack of ["dev", "prod", "local"] as const) {
                stacks[stack] = asFixtures(await resourcesOf(stack));
            }
            const podSecurity = policies.find(
                (p) => p.name === "pod-security",
            ) as ResourceValidationPolicy;
            const entries: Array<[string, string, string]> = [];
            for (const [tier, allowance] of Object.entries(DEFAULT_TIERS)) {
                for (const [key, value] of Object.entries(allowance)) {
                    const names = Array.isArray(value) ? value : Object.keys(value);
                    for (const name of names) {
                        entries.push([tier, key, name]);
                    }
                }
            }
            assert.ok(entries.length >= 7);
            for (const [tier, key, name] of entries) {
                const tiers = structuredClone(DEFAULT_TIERS) as Record<
                    string,
                    Record<string, unknown>
                >;
                const value = tiers[tier][key];
                if (Array.isArray(value)) {
                    tiers[tier][key] = value.filter((n) => n !== name);
                } else {
                    delete (value as Record<string, unknown>)[name];
                }
                let hits = 0;
                for (const fixtures of Object.values(stacks)) {
                    for (const f of fixtures) {
                        const run = await runResourcePolicy(podSecurity, f, { tiers });
                        hits += run.violations.filter((m) => m.includes(`"${name}"`)).length;
                    }
                }
                assert.ok(hits > 0, `tiers.${tier}.${key} ${name} is not needed by any stack`);
            }
        });

        it("MongoDB's data-owner, in the hostPath stacks only, gets nothing beyond CAP_CHOWN", async () => {
            const dev = asFixtures(await resourcesOf("dev"));
            const fixtures = broken(dev, STATEFULSET, "mongodb", (p) => {
                containerOf(p, "data-owner").securityContext.capabilities.add.push("DAC_OVERRIDE");
            });
            const found = await caught("dev", fixtures, "pod-security");
            assert.deepStrictEqual(
                found.map(([level, resource]) => [level, resource]),
                [["mandatory", "mongodb"]],
            );
            assert.match(
                found[0][2],
                /init container "data-owner" .*: securityContext\.capabilities\.add has DAC_OVERRIDE, which neither the restricted profile \(only NET_BIND_SERVICE\) nor tier "mongodb"'s allowance permits/,
            );
            const prod = asFixtures(await resourcesOf("prod"));
            const sts = prod.find((f) => f.type === STATEFULSET && f.name === "mongodb");
            const init = (sts?.props.spec as Props).template.spec.initContainers ?? [];
            assert.deepStrictEqual(
                init.map((c: { name: string }) => c.name),
                [],
                "prod (NFS storage) runs no root init container",
            );
        });
    });
});
