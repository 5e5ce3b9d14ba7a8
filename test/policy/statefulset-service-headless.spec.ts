import { statefulsetServiceHeadless as policy } from "../../policy/policies/statefulset-service-headless";
import {
    Fixture,
    UNKNOWN,
    assertExplained,
    assertViolations,
    container,
    podSpec,
    runStackPolicy,
    service,
    workload,
} from "./util";

const LABELS = { "app.kubernetes.io/name": "mongodb", "app.kubernetes.io/instance": "licode-prod" };

function sts(serviceName: unknown, opts: { namespace?: string; type?: string } = {}): Fixture {
    return workload(
        opts.type ?? "kubernetes:apps/v1:StatefulSet",
        podSpec([container("mongodb")]),
        {
            name: "licode-mongodb",
            namespace: opts.namespace ?? "licode",
            labels: LABELS,
            workloadSpec: serviceName === undefined ? {} : { serviceName },
        },
    );
}

const headless = (extra: Record<string, unknown> = {}, namespace = "licode") =>
    service(
        "licode-mongodb-headless",
        { clusterIP: "None", selector: LABELS, ...extra },
        { namespace },
    );

async function check(
    resources: Fixture[],
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const out = await runStackPolicy(policy, resources, config);
    const messages = out.map((v) => v.message);
    assertExplained(messages);
    return messages;
}

const SUBJECT = /^StatefulSet "licode-mongodb" \(spec.serviceName\): /;

describe("statefulset-service-headless", () => {
    it("accepts a headless Service in the same namespace that selects the pods", async () => {
        assertViolations(await check([sts("licode-mongodb-headless"), headless()]), []);
        assertViolations(
            await check([
                sts("licode-mongodb-headless"),
                headless({ selector: { "app.kubernetes.io/name": "mongodb" } }),
            ]),
            [],
        );
    });
    it("flags a missing serviceName", async () => {
        assertViolations(await check([sts(undefined), headless()]), [/serviceName is not set/]);
        assertViolations(await check([sts(""), headless()]), [/serviceName is not set/]);
    });
    it("flags a serviceName that names no Service of the stack in the namespace", async () => {
        assertViolations(await check([sts("licode-mongodb-headless")]), [
            /serviceName "licode-mongodb-headless" names no Service of this stack in namespace "licode"/,
        ]);
        assertViolations(await check([sts("licode-mongodb-headless"), headless({}, "other")]), [
            /names no Service/,
        ]);
    });
    it("flags a Service that is not headless", async () => {
        assertViolations(
            await check([sts("licode-mongodb-headless"), headless({ clusterIP: undefined })]),
            [
                new RegExp(
                    SUBJECT.source +
                        'Service "licode-mongodb-headless" is not headless \\(spec.clusterIP is unset, not "None"\\)',
                ),
            ],
        );
        assertViolations(
            await check([sts("licode-mongodb-headless"), headless({ clusterIP: "10.0.0.7" })]),
            [/spec.clusterIP is "10.0.0.7"/],
        );
    });
    it("flags a Service that does not select the pods", async () => {
        assertViolations(
            await check([
                sts("licode-mongodb-headless"),
                headless({ selector: { "app.kubernetes.io/name": "rabbitmq" } }),
            ]),
            [/does not select the StatefulSet's pods/],
        );
        assertViolations(
            await check([sts("licode-mongodb-headless"), headless({ selector: undefined })]),
            [/does not select/],
        );
    });
    it("ignores other kinds and Patches", async () => {
        assertViolations(
            await check([sts("x", { type: "kubernetes:apps/v1:StatefulSetPatch" })]),
            [],
        );
        assertViolations(await check([sts("x", { type: "kubernetes:apps/v1:Deployment" })]), []);
    });
    it("exempts a StatefulSet with a reason", async () => {
        const exemptions = [
            { resource: "licode-mongodb", reason: "single member, reached through the ClusterIP" },
        ];
        assertViolations(await check([sts("licode-mongodb-headless")], { exemptions }), []);
    });
    it("skips values unknown during preview", async () => {
        assertViolations(await check([sts(UNKNOWN)]), []);
        assertViolations(
            await check([sts("licode-mongodb-headless"), headless({ clusterIP: UNKNOWN })]),
            [],
        );
        assertViolations(await check([sts("licode-mongodb-headless"), headless({}, UNKNOWN)]), []);
        const unnamed = service(
            UNKNOWN,
            { clusterIP: "None", selector: LABELS },
            { namespace: "licode" },
        );
        assertViolations(await check([sts("licode-mongodb-headless"), unnamed]), []);
        assertViolations(
            await check([
                sts("licode-mongodb-headless"),
                headless({ selector: { "app.kubernetes.io/name": UNKNOWN } }),
            ]),
            [],
        );
    });
});
