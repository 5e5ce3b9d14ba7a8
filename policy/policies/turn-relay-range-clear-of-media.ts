// turn-relay-range-clear-of-media (stack policy): the UDP ports a coturn of the stack relays from
// (min-port..max-port of its turnserver.conf; coturn's defaults 49152-65535 when unset) share no
// port with a media range of the stack (the MIN_PORT..MAX_PORT of Licode's media pods). On a node
// that is both, coturn and ErizoJS would take each other's ports, and a firewall opened for one
// opens the other.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { violation } from "../lib/messages";
import { stackContext } from "../lib/policy";
import { COTURN_DEFAULTS, mediaRanges, turnConfs } from "../lib/turn";

export const NAME = "turn-relay-range-clear-of-media";

interface Config {
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: { exemptions: EXEMPTIONS_SCHEMA },
};

const WHY =
    "coturn binds a relay port for every allocation and ErizoJS binds ports of its media range; " +
    "where both run on one node they take each other's ports at random, and the firewall rule " +
    "that opens one range to the Internet opens the other.";
const FIX =
    "give TURN a range of its own (licode:turn.relayPortRange, e.g. 49152-49999) that no media " +
    "pool's portRange overlaps.";

/** coturn's relay range overlaps no media range. */
export const turnRelayRangeClearOfMedia: StackValidationPolicy = {
    name: NAME,
    description:
        "The relay ports of every coturn configuration (min-port..max-port) overlap no media " +
        "range (MIN_PORT..MAX_PORT) of the stack's Licode pods.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps: FIX,
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const media = mediaRanges(ctx.items);
        for (const found of turnConfs(ctx.items)) {
            if (ctx.exempt(found.item)) {
                continue;
            }
            const min = found.conf.port("min-port", COTURN_DEFAULTS.minPort);
            const max = found.conf.port("max-port", COTURN_DEFAULTS.maxPort);
            const overlaps = media.filter((m) => m.min <= max && m.max >= min);
            if (overlaps.length === 0) {
                continue;
            }
            ctx.report(
                found.item,
                violation(
                    `${found.item.subject} (${found.key})`,
                    overlaps.map(
                        (m) =>
                            `the relay ports ${min}-${max} overlap the media range ${m.min}-${m.max} of ${m.item.subject} container "${m.container}"`,
                    ),
                    WHY,
                    FIX,
                ),
            );
        }
    },
};
