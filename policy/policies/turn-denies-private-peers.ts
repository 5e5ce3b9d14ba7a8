// turn-denies-private-peers (stack policy): every coturn configuration refuses to relay to the
// private and special-purpose ranges (denied-peer-ip covering each of `requiredDeniedRanges`),
// keeps loopback peers refused (no allow-loopback-peers) and multicast ones too
// (no-multicast-peers), and re-allows no whole required range (allowed-peer-ip). Licode v10 gives
// every client the same long-term credentials (erizoController.js 17-18, 360), so anyone who joins
// a room can use the relay; without these lines it reaches the cluster's pods, Services, nodes and
// the cloud's metadata service from inside.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { violation } from "../lib/messages";
import { stackContext } from "../lib/policy";
import { Range, parseCidrRange, parseCoturnRange, turnConfs, uncovered } from "../lib/turn";

export const NAME = "turn-denies-private-peers";

interface Config {
    requiredDeniedRanges: string[];
    exemptions: unknown;
}

/** The ranges no relay may reach: RFC 1918, RFC 6598, link-local, loopback, 0/8, IPv6 ULA and link-local. */
export const REQUIRED_DENIED_RANGES = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

const configSchema: PolicyConfigSchema = {
    properties: {
        requiredDeniedRanges: {
            type: "array",
            items: { type: "string" },
            default: REQUIRED_DENIED_RANGES,
            description: "CIDR ranges every coturn configuration must refuse as peers.",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const WHY =
    "Licode hands every client the same TURN credentials, so whoever joins a room can allocate a " +
    "relay; a relay that may reach private ranges reaches the cluster's pods, Services and nodes " +
    "and the cloud's metadata service (169.254.169.254) from inside the network.";
const FIX =
    "keep licode:turn.deniedPeers.privateRanges true (the default), which renders a " +
    "denied-peer-ip line for each private range, with no-multicast-peers and without " +
    "allow-loopback-peers; re-allow only single media node addresses with licode:turn.allowedPeers.";

/** coturn refuses private and special-purpose peers. */
export const turnDeniesPrivatePeers: StackValidationPolicy = {
    name: NAME,
    description:
        "Every coturn configuration denies the private, loopback, link-local and multicast " +
        "ranges as peers (denied-peer-ip, no-multicast-peers, no allow-loopback-peers).",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema,
    remediationSteps: FIX,
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const required = stringList(ctx.config.requiredDeniedRanges)
            .map((text) => ({ text, range: parseCidrRange(text) }))
            .filter((r): r is { text: string; range: Range } => r.range !== undefined);
        for (const found of turnConfs(ctx.items)) {
            if (ctx.exempt(found.item)) {
                continue;
            }
            const denied = found.conf
                .values("denied-peer-ip")
                .map(parseCoturnRange)
                .filter((r): r is Range => r !== undefined);
            const allowed = found.conf
                .values("allowed-peer-ip")
                .map((text) => ({ text, range: parseCoturnRange(text) }))
                .filter((r): r is { text: string; range: Range } => r.range !== undefined);
            const problems: string[] = [];
            const open = required.filter((r) => uncovered(r.range, denied));
            if (open.length > 0) {
                problems.push(
                    `denied-peer-ip does not cover ${open.map((r) => r.text).join(", ")}`,
                );
            }
            for (const r of required) {
                const reopened = allowed.find((a) => !uncovered(r.range, [a.range]));
                if (reopened !== undefined) {
                    problems.push(`allowed-peer-ip=${reopened.text} re-allows all of ${r.text}`);
                }
            }
            if (found.conf.flag("allow-loopback-peers")) {
                problems.push("allow-loopback-peers is set");
            }
            if (!found.conf.flag("no-multicast-peers")) {
                problems.push("no-multicast-peers is not set");
            }
            if (problems.length > 0) {
                ctx.report(
                    found.item,
                    violation(`${found.item.subject} (${found.key})`, problems, WHY, FIX),
                );
            }
        }
    },
};
