import { turnRelayRangeClearOfMedia as policy } from "../../policy/policies/turn-relay-range-clear-of-media";
import { turnConf, turnConfigMap, mediaWorkload, turnWorkload } from "./turn-fixtures";
import {
    Fixture,
    UNKNOWN,
    assertExplained,
    assertViolations,
    runStackPolicy,
    setPath,
} from "./util";

async function check(
    resources: Fixture[],
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const messages = (await runStackPolicy(policy, resources, config)).map((v) => v.message);
    assertExplained(messages);
    return messages;
}

describe("turn-relay-range-clear-of-media", () => {
    it("accepts the program's ranges: relays 49152-49999, media 40000-40999 and 41000-41999", async () => {
        assertViolations(
            await check([
                turnConfigMap(turnConf()),
                turnWorkload(),
                mediaWorkload(40000, 40999, "licode-erizo-agent-primary"),
                mediaWorkload(41000, 41999, "licode-erizo-agent-overflow"),
            ]),
            [],
        );
    });

    it("flags a relay range that overlaps a media pool, naming both ranges and the pool", async () => {
        assertViolations(
            await check([
                turnConfigMap(turnConf({ relayPortRange: { min: 40500, max: 41500 } })),
                mediaWorkload(40000, 40999, "licode-erizo-agent-primary"),
                mediaWorkload(42000, 42999, "licode-erizo-agent-overflow"),
            ]),
            [
                /^ConfigMap "turn-config-1a2b3c4d" \(turnserver\.conf\): the relay ports 40500-41500 overlap the media range 40000-40999 of DaemonSet "licode-erizo-agent-primary" container "erizo-agent"\. Why: .*Fix: Give TURN a range of its own/,
            ],
        );
    });

    it("reads coturn's own default relay range when the file sets none", async () => {
        const text = turnConf().replace(/^(min|max)-port=.*$/gm, "");
        assertViolations(await check([turnConfigMap(text), mediaWorkload(50000, 50999)]), [
            /the relay ports 49152-65535 overlap the media range 50000-50999/,
        ]);
    });

    it("holds while a value is unknown during preview, and without TURN or media", async () => {
        assertViolations(await check([turnConfigMap(UNKNOWN), mediaWorkload(49000, 49500)]), []);
        const unknownPort = setPath(
            mediaWorkload(49000, 49500),
            ["props", "spec", "template", "spec", "containers", "0", "env", "0", "value"],
            UNKNOWN,
        );
        assertViolations(await check([turnConfigMap(turnConf()), unknownPort]), []);
        assertViolations(await check([mediaWorkload(49000, 49500)]), []);
        assertViolations(await check([turnConfigMap(turnConf())]), []);
    });

    it("honours an exemption with a reason", async () => {
        assertViolations(
            await check(
                [
                    turnConfigMap(turnConf({ relayPortRange: { min: 40000, max: 40100 } })),
                    mediaWorkload(40000, 40999),
                ],
                {
                    exemptions: [
                        {
                            resource: "turn-config",
                            reason: "TURN and media nodes are disjoint here",
                        },
                    ],
                },
            ),
            [],
        );
    });
});
