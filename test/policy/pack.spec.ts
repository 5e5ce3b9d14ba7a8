// The pack as a whole: names, config schemas, the assembling index.ts, the per-stack config files,
// and the package that `pulumi preview --policy-pack policy` loads.

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../policy/policies";
import {
    Fixture,
    container,
    pdb,
    podSpec,
    runResourcePolicy,
    runStackPolicy,
    service,
    workload,
} from "./util";

const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];
const EXPECTED = [
    "resource-requests-and-limits",
    "required-probes",
    "probes-liveness-not-stricter-than-readiness",
    "image-pinned",
    "image-digest-and-registry",
    "host-network-allow-list",
    "pod-security",
    "stateful-tiers-guaranteed-qos",
    "ephemeral-storage",
    "config-consumers-roll-on-change",
    "replicated-workloads-have-pdb",
    "statefulset-service-headless",
    "no-service-account-token",
    "network-policy-coverage",
    "service-routing",
    "turn-relay-range-clear-of-media",
    "turn-tls-has-certificate",
    "turn-denies-private-peers",
    "turn-advertised-to-clients",
];

// Policies that report nothing on the bare fixture below with no config: the defaults allow every
// registry and need no digest; the bare StatefulSet is on the host network (outside
// NetworkPolicies) and the bare Service has no selector; the bare stack runs no coturn, so the
// TURN policies have nothing to judge (their own specs run them without config too).
const QUIET_WITHOUT_CONFIG = [
    "probes-liveness-not-stricter-than-readiness",
    "config-consumers-roll-on-change",
    "image-digest-and-registry",
    "network-policy-coverage",
    "service-routing",
    "turn-relay-range-clear-of-media",
    "turn-tls-has-certificate",
    "turn-denies-private-peers",
    "turn-advertised-to-clients",
];

function read(file: string): string {
    return fs.readFileSync(path.join(POLICY_DIR, file), "utf8");
}

function isStack(p: (typeof policies)[number]): p is StackValidationPolicy {
    return "validateStack" in p;
}

describe("policy pack", () => {
    it("has the expected policies, with unique kebab-case names", () => {
        const names = policies.map((p) => p.name);
        assert.deepStrictEqual(names, EXPECTED);
        assert.strictEqual(new Set(names).size, names.length);
        for (const name of names) {
            assert.match(name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
        }
    });

    for (const p of policies) {
        describe(p.name, () => {
            it("has a config schema whose every property has a default", () => {
                const schema = p.configSchema;
                assert.ok(schema, "configSchema");
                assert.ok(Object.keys(schema.properties).length > 0);
                for (const [key, prop] of Object.entries(schema.properties)) {
                    assert.ok(
                        typeof prop === "object" && prop.default !== undefined,
                        `${key} has no default`,
                    );
                    assert.notStrictEqual(key, "enforcementLevel");
                }
                assert.ok(!schema.required || schema.required.length === 0, "nothing is required");
                assert.ok("exemptions" in schema.properties, "exemptions are configurable");
            });
            it("describes itself and defaults to mandatory", () => {
                assert.ok(p.description.length > 20);
                assert.ok(p.remediationSteps && p.remediationSteps.length > 10);
                assert.ok(p.severity);
                assert.strictEqual(p.enforcementLevel, "mandatory");
                assert.ok(
                    isStack(p) ||
                        typeof (p as ResourceValidationPolicy).validateResource === "function",
                );
            });
        });
    }

    it("works with no config at all (the SDK's getConfig returns {})", async () => {
        const bare = workload(
            "kubernetes:apps/v1:StatefulSet",
            podSpec([{ name: "mongodb", image: "mongo" }], { hostNetwork: true }),
            {
                labels: { "app.kubernetes.io/name": "mongodb" },
                replicas: 3,
                workloadSpec: { serviceName: "nope" },
            },
        );
        const stack: Fixture[] = [
            bare,
            service("svc", {}),
            pdb("p", { selector: {} }, { namespace: "other" }),
        ];
        for (const p of policies) {
            const count = isStack(p)
                ? (await runStackPolicy(p, stack, {}, { noConfig: true })).length
                : (
                      await runResourcePolicy(
                          p as ResourceValidationPolicy,
                          bare,
                          {},
                          { noConfig: true },
                      )
                  ).violations.length;
            if (QUIET_WITHOUT_CONFIG.includes(p.name)) {
                continue;
            }
            assert.ok(count > 0, `${p.name} reported nothing`);
        }
        const same = container("c", {
            readinessProbe: { tcpSocket: { port: 1 } },
            livenessProbe: { tcpSocket: { port: 1 } },
        });
        const run = await runResourcePolicy(
            policies[2] as ResourceValidationPolicy,
            workload("kubernetes:apps/v1:Deployment", podSpec([same])),
            {},
            { noConfig: true },
        );
        assert.strictEqual(run.violations.length, 1);
    });

    it("index.ts only wraps the policies in a PolicyPack", () => {
        const code = read("index.ts")
            .split("\n")
            .filter((l) => !l.startsWith("//") && l.trim() !== "");
        assert.deepStrictEqual(code, [
            'import { PolicyPack } from "@pulumi/policy";',
            'import { policies } from "./policies";',
            'new PolicyPack("licode", { policies });',
        ]);
    });

    for (const stack of ["dev", "prod", "local"]) {
        it(`config/${stack}.json sets a valid level for every policy`, () => {
            const config = JSON.parse(read(`config/${stack}.json`)) as Record<string, unknown>;
            assert.deepStrictEqual(Object.keys(config).sort(), [...EXPECTED].sort());
            for (const [name, value] of Object.entries(config)) {
                const policy = policies.find((p) => p.name === name);
                assert.ok(policy);
                const level =
                    typeof value === "string"
                        ? value
                        : (value as { enforcementLevel?: string }).enforcementLevel;
                assert.ok(
                    level !== undefined && LEVELS.includes(level),
                    `${name}: ${String(level)}`,
                );
                if (typeof value === "object" && value !== null) {
                    for (const key of Object.keys(value)) {
                        assert.ok(
                            key === "enforcementLevel" ||
                                key in (policy.configSchema?.properties ?? {}),
                            `${name}.${key}`,
                        );
                    }
                }
                if (
                    stack !== "dev" ||
                    name === "resource-requests-and-limits" ||
                    name === "required-probes"
                ) {
                    assert.strictEqual(level, "mandatory", `${stack}: ${name}`);
                }
            }
        });
    }

    it("is a loadable Node.js pack with pinned dependencies", () => {
        assert.match(read("PulumiPolicy.yaml"), /^runtime: nodejs$/m);
        const pkg = JSON.parse(read("package.json"));
        assert.ok(pkg.version);
        assert.deepStrictEqual(pkg.dependencies, {
            "@pulumi/policy": "1.21.0",
            "@pulumi/pulumi": "3.248.0",
        });
        assert.deepStrictEqual(pkg.devDependencies, {
            "@types/node": "20.19.25",
            "ts-node": "10.9.2",
            typescript: "5.9.3",
        });
        const lock = JSON.parse(read("package-lock.json"));
        assert.strictEqual(lock.packages["node_modules/@pulumi/policy"].version, "1.21.0");
        assert.ok(fs.existsSync(path.join(POLICY_DIR, "tsconfig.json")));
        assert.ok(!/@pulumi\/kubernetes/.test(read("package.json")), "no @pulumi/kubernetes");
    });

    it("documents every policy in policy/README.md", () => {
        const readme = read("README.md");
        for (const name of EXPECTED) {
            assert.ok(readme.includes(`\`${name}\``), name);
        }
    });
});
