import { noServiceAccountToken as policy } from "../../policy/policies/no-service-account-token";
import {
    Fixture,
    PATCH_KINDS,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertExplained,
    assertViolations,
    container,
    podSpec,
    runStackPolicy,
    serviceAccount,
    workload,
} from "./util";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const NS = { namespace: "licode" };

async function violations(fs: Fixture[], config: Record<string, unknown> = {}): Promise<string[]> {
    const out = (await runStackPolicy(policy, fs, config)).map((v) => v.message);
    assertExplained(out);
    return out;
}

function pod(spec: Record<string, unknown> = {}, type = DEPLOYMENT, tier = "nuve"): Fixture {
    return workload(type, podSpec([container("nuve")], spec), {
        ...NS,
        labels: { "app.kubernetes.io/name": tier },
    });
}

const OFF = { automountServiceAccountToken: false };
const SUBJECT =
    /^Deployment "licode-nuve" \(spec\.template\.spec\.automountServiceAccountToken\): /;

describe("no-service-account-token", () => {
    it("accepts pods that turn the token off", async () => {
        assertViolations(await violations([pod(OFF)]), []);
    });

    it("flags a pod that leaves it to a ServiceAccount outside the stack", async () => {
        assertViolations(await violations([pod()]), [
            /automountServiceAccountToken is not set, and its ServiceAccount "default" is not in this stack \(namespace "licode"\), so nothing stops the token being mounted\. Why: Whoever takes a process/,
        ]);
        assertViolations(
            await violations([pod({ serviceAccountName: "app" }), serviceAccount("app", OFF)]),
            [/its ServiceAccount "app" is not in this stack/],
        );
    });

    it("accepts a pod whose ServiceAccount of the stack turns the token off", async () => {
        for (const spec of [{ serviceAccountName: "app" }, { serviceAccount: "app" }]) {
            assertViolations(await violations([pod(spec), serviceAccount("app", OFF, NS)]), []);
        }
        assertViolations(await violations([pod(), serviceAccount("default", OFF, NS)]), []);
    });

    it("flags a ServiceAccount that does not turn it off", async () => {
        const spec = { serviceAccountName: "app" };
        assertViolations(await violations([pod(spec), serviceAccount("app", {}, NS)]), [
            /its ServiceAccount "app" sets automountServiceAccountToken nowhere/,
        ]);
        assertViolations(
            await violations([
                pod(spec),
                serviceAccount("app", { automountServiceAccountToken: true }, NS),
            ]),
            [/its ServiceAccount "app" sets automountServiceAccountToken to true/],
        );
    });

    it("lets the pod's field win over its ServiceAccount's", async () => {
        const out = await violations([
            pod({ serviceAccountName: "app", automountServiceAccountToken: true }),
            serviceAccount("app", OFF, NS),
        ]);
        assertViolations(out, [/automountServiceAccountToken is true, so a token is mounted/]);
        assertViolations(out, [SUBJECT]);
    });

    it("flags a projected service-account token", async () => {
        const spec = {
            ...OFF,
            volumes: [
                {
                    name: "token",
                    projected: { sources: [{ serviceAccountToken: { path: "token" } }] },
                },
                { name: "cfg", projected: { sources: [{ configMap: { name: "cfg" } }] } },
            ],
        };
        assertViolations(await violations([pod(spec)]), [
            /volumes\[0\] "token" projects a service-account token/,
        ]);
    });

    it("leaves allow-listed tiers alone", async () => {
        assertViolations(await violations([pod({}, DEPLOYMENT, "operator")]), [/not set/]);
        assertViolations(
            await violations([pod({}, DEPLOYMENT, "operator")], { allowedTiers: ["operator"] }),
            [],
        );
    });

    for (const k of WORKLOAD_KINDS) {
        it(`checks ${k.kind}`, async () => {
            assertViolations(await violations([pod(OFF, k.type)]), []);
            assertViolations(await violations([pod({}, k.type)]), [
                new RegExp(`^${k.kind} "licode-nuve" .*automountServiceAccountToken is not set`),
            ]);
        });
    }

    for (const k of PATCH_KINDS) {
        it(`judges only what ${k.kind} sets`, async () => {
            assertViolations(await violations([pod({}, k.type)]), []);
            assertViolations(
                await violations([pod({ automountServiceAccountToken: true }, k.type)]),
                [new RegExp(`^${k.kind} "licode-nuve" .*is true`)],
            );
        });
    }

    it("exempts a resource with a reason", async () => {
        const exemptions = [{ resource: "licode-nuve", reason: "calls the API to list pods" }];
        assertViolations(await violations([pod()], { exemptions }), []);
    });

    it("skips values unknown during preview", async () => {
        assertViolations(await violations([pod({ automountServiceAccountToken: UNKNOWN })]), []);
        assertViolations(await violations([pod({ serviceAccountName: UNKNOWN })]), []);
        const spec = { serviceAccountName: "app" };
        assertViolations(
            await violations([
                pod(spec),
                serviceAccount("app", { automountServiceAccountToken: UNKNOWN }, NS),
            ]),
            [],
        );
        assertViolations(
            await violations([pod(spec), serviceAccount("app", OFF, { namespace: UNKNOWN })]),
            [],
        );
        assertViolations(
            await violations([pod({}, DEPLOYMENT, UNKNOWN)], { allowedTiers: ["operator"] }),
            [],
        );
    });
});
