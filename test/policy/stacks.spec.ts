// The whole pack over the real program's resources (test/harness, under mocks) for the dev, prod
// and local stacks, with each stack's policy/config/<stack>.json: no mandatory violation. Then the real tiers
// are broken one way at a time and each break is caught, with the right message.

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../policy/policies";
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

describe("the policy pack on the program's stacks", function () {
    this.timeout(120000);

    for (const stack of ["dev", "prod", "local"] as const) {
        it(`passes every mandatory policy on ${stack}`, async () => {
            const fixtures = asFixtures(await stackResources(stack));
            assert.ok(fixtures.some((f) => f.type === "kubernetes:apps/v1:Deployment"));
            assert.deepStrictEqual(mandatory(await runPack(stack, fixtures)), []);
        });
    }

    describe("catches broken tiers in prod", () => {
        let prod: Fixture[];
        before(async () => {
            prod = asFixtures(await stackResources("prod"));
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
});
