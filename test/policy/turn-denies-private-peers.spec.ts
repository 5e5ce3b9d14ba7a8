import { turnDeniesPrivatePeers as policy } from "../../policy/policies/turn-denies-private-peers";
import { turnConf, turnConfigMap } from "./turn-fixtures";
import { Fixture, UNKNOWN, assertExplained, assertViolations, runStackPolicy } from "./util";

async function check(
    resources: Fixture[],
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const messages = (await runStackPolicy(policy, resources, config)).map((v) => v.message);
    assertExplained(messages);
    return messages;
}

describe("turn-denies-private-peers", () => {
    it("accepts the program's denied ranges, with one media node address re-allowed", async () => {
        assertViolations(
            await check([turnConfigMap(turnConf({ allowedPeers: ["10.0.5.5/32"] }))]),
            [],
        );
    });

    it("accepts the private ranges split into smaller denied ranges", async () => {
        const split = turnConf({
            deniedPeers: [
                "0.0.0.0/8",
                "10.0.0.0/9",
                "10.128.0.0/9",
                "100.64.0.0/10",
                "127.0.0.0/8",
                "169.254.0.0/16",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "::1/128",
                "fc00::/7",
                "fe80::/10",
            ],
        });
        assertViolations(await check([turnConfigMap(split)]), []);
    });

    it("flags every private range left open, loopback allowed and multicast not refused", async () => {
        const text = turnConf({ deniedPeers: ["10.0.0.0/8", "fc00::/7"] }).replace(
            /^no-multicast-peers$/m,
            "allow-loopback-peers",
        );
        assertViolations(await check([turnConfigMap(text)]), [
            /^ConfigMap "turn-config-1a2b3c4d" \(turnserver\.conf\): denied-peer-ip does not cover 0\.0\.0\.0\/8, 100\.64\.0\.0\/10, 127\.0\.0\.0\/8, 169\.254\.0\.0\/16, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, ::1\/128, fe80::\/10; allow-loopback-peers is set; no-multicast-peers is not set\. Why: Licode hands every client the same TURN credentials/,
        ]);
    });

    it("flags a range with a hole, and an allowed range that re-opens a private range", async () => {
        const holed = turnConf({
            deniedPeers: [
                ...["0.0.0.0/8", "10.0.0.0/9", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16"],
                ...["172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10"],
            ],
        });
        assertViolations(await check([turnConfigMap(holed)]), [
            /does not cover 10\.0\.0\.0\/8$|does not cover 10\.0\.0\.0\/8\./,
        ]);
        assertViolations(
            await check([turnConfigMap(turnConf({ allowedPeers: ["192.168.0.0/16"] }))]),
            [
                /allowed-peer-ip=192\.168\.0\.0-192\.168\.255\.255 re-allows all of 192\.168\.0\.0\/16/,
            ],
        );
    });

    it("takes the required ranges from config", async () => {
        assertViolations(
            await check([turnConfigMap(turnConf())], {
                requiredDeniedRanges: ["198.18.0.0/15", "203.0.113.0/24"],
            }),
            [/does not cover 203\.0\.113\.0\/24/],
        );
    });

    it("holds while the file is unknown during preview", async () => {
        assertViolations(await check([turnConfigMap(UNKNOWN)]), []);
    });
});
