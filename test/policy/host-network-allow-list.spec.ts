import { hostNetworkAllowList as policy } from "../../policy/policies/host-network-allow-list";
import {
    PATCH_KINDS,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertExplained,
    assertViolations,
    container,
    podSpec,
    runResourcePolicy,
    workload,
} from "./util";

const DAEMONSET = "kubernetes:apps/v1:DaemonSet";

async function check(
    tier: unknown,
    spec: Record<string, unknown>,
    config: Record<string, unknown> = {},
    type = DAEMONSET,
): Promise<string[]> {
    const labels = tier === undefined ? {} : { "app.kubernetes.io/name": tier };
    const run = await runResourcePolicy(
        policy,
        workload(type, podSpec([container("c")], spec), { labels }),
        config,
    );
    assertExplained(run.violations);
    return run.violations;
}

const HOST = { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" };
const TIER =
    /hostNetwork is true but its tier is "nuve", not one of \[erizo-controller, erizo-agent, turn, media-check\]/;

describe("host-network-allow-list", () => {
    it("accepts the allow-listed tiers with ClusterFirstWithHostNet", async () => {
        assertViolations(await check("erizo-agent", HOST), []);
        assertViolations(
            await check("erizo-controller", HOST, {}, "kubernetes:apps/v1:Deployment"),
            [],
        );
    });
    it("accepts pods without host network", async () => {
        assertViolations(await check("nuve", {}), []);
        assertViolations(await check("nuve", { hostNetwork: false }), []);
    });
    it("flags other tiers and unlabelled pods", async () => {
        assertViolations(await check("nuve", HOST), [TIER]);
        assertViolations(await check(undefined, HOST), [
            /its tier has no app.kubernetes.io\/name label/,
        ]);
    });
    it("flags host network without ClusterFirstWithHostNet", async () => {
        assertViolations(await check("erizo-agent", { hostNetwork: true }), [
            /\(spec.template.spec.dnsPolicy\): hostNetwork is true and dnsPolicy is not set/,
        ]);
        assertViolations(
            await check("erizo-agent", { hostNetwork: true, dnsPolicy: "ClusterFirst" }),
            [/dnsPolicy is "ClusterFirst"/],
        );
        assertViolations(await check("nuve", { hostNetwork: true, dnsPolicy: "Default" }), [
            TIER,
            /dnsPolicy is "Default"/,
        ]);
    });
    it("takes the allow-list and DNS policies from config", async () => {
        assertViolations(await check("nuve", HOST, { allowedTiers: ["nuve"] }), []);
        assertViolations(await check("erizo-agent", HOST, { allowedTiers: [] }), [
            /not one of \[\]/,
        ]);
        assertViolations(
            await check(
                "erizo-agent",
                { hostNetwork: true, dnsPolicy: "None" },
                { allowedDnsPolicies: ["ClusterFirstWithHostNet", "None"] },
            ),
            [],
        );
    });
    for (const k of [...WORKLOAD_KINDS, ...PATCH_KINDS]) {
        it(`checks ${k.kind}`, async () => {
            assertViolations(await check("nuve", HOST, {}, k.type), [
                new RegExp(`^${k.kind} "licode-nuve" .*hostNetwork`),
            ]);
        });
    }
    it("exempts a resource with a reason", async () => {
        const exemptions = [{ resource: "licode-nuve", reason: "TURN relay on the node address" }];
        assertViolations(await check("nuve", HOST, { exemptions }), []);
    });
    it("skips values unknown during preview", async () => {
        assertViolations(await check("nuve", { hostNetwork: UNKNOWN }), []);
        assertViolations(await check(UNKNOWN, HOST), []);
        assertViolations(await check("erizo-agent", { hostNetwork: true, dnsPolicy: UNKNOWN }), []);
    });
});
