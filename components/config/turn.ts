/**
 * The TURN tier's config (`turn`): coturn relaying media for clients that cannot reach the media
 * nodes directly, where it runs, the credentials clients get, and the limits that stop it from
 * being used to reach anything but Licode's media.
 */
import { z } from "zod";
import { parseCidr } from "../cidr";
import {
    DNS_1123_SUBDOMAIN,
    IPV4,
    ImageRef,
    Resources,
    apiSwitch,
    imageOverride,
    labels,
    nodeSelector,
    portRange,
    resources,
} from "./common";
import { ExistingSecretConfig, userSecret } from "./secrets";

/** TURN's plain listener, UDP and TCP (RFC 8656 section 4; coturn's `listening-port` default). */
export const TURN_PORT = 3478;
/** TURN over TLS: 443, the port firewalls that let only HTTPS out still pass. */
export const TURN_TLS_PORT = 443;
/** coturn's Prometheus port (`DEFAULT_PROM_SERVER_PORT`, 9641; mainrelay.c 220 at 4.17.0). */
export const TURN_METRICS_PORT = 9641;
/**
 * The most relay ports a LoadBalancer Service carries: each port is one Service port (Kubernetes
 * has no port ranges), kube-proxy writes rules for each, and cloud load balancers cap listeners.
 */
export const MAX_LOAD_BALANCER_RELAY_PORTS = 1000;

/**
 * Peer addresses TURN refuses by default, so that a client holding Licode's shared credentials
 * cannot use the relay to reach the cluster's or the provider's internal networks. IANA's
 * special-purpose registries (RFC 6890) mark each as not globally reachable. The documentation
 * ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849: 2001:db8::/32) are
 * left out on purpose: no network routes them, so denying them stops nothing, and the test suite
 * uses them as public addresses. The unspecified address ::/128 is not listed: it is never a peer,
 * and coturn reads a range ending at an all-zero address as every address (below).
 */
export const PRIVATE_PEER_RANGES: readonly { readonly cidr: string; readonly why: string }[] = [
    { cidr: "0.0.0.0/8", why: "this network (RFC 791)" },
    { cidr: "10.0.0.0/8", why: "private (RFC 1918)" },
    { cidr: "100.64.0.0/10", why: "shared carrier-grade NAT space (RFC 6598)" },
    { cidr: "127.0.0.0/8", why: "loopback (RFC 1122)" },
    { cidr: "169.254.0.0/16", why: "link-local, incl. cloud metadata services (RFC 3927)" },
    { cidr: "172.16.0.0/12", why: "private (RFC 1918)" },
    { cidr: "192.0.0.0/24", why: "IETF protocol assignments (RFC 6890)" },
    { cidr: "192.168.0.0/16", why: "private (RFC 1918)" },
    { cidr: "198.18.0.0/15", why: "benchmarking, often used internally (RFC 2544)" },
    { cidr: "224.0.0.0/4", why: "multicast (RFC 5771)" },
    { cidr: "240.0.0.0/4", why: "reserved, incl. broadcast (RFC 1112)" },
    { cidr: "::1/128", why: "loopback (RFC 4291)" },
    { cidr: "::ffff:0:0/96", why: "IPv4-mapped: private IPv4 in IPv6 clothing (RFC 4291)" },
    { cidr: "64:ff9b::/96", why: "NAT64, which reaches IPv4 behind a translator (RFC 6052)" },
    { cidr: "64:ff9b:1::/48", why: "local-use NAT64 (RFC 8215)" },
    { cidr: "100::/64", why: "discard-only (RFC 6666)" },
    { cidr: "fc00::/7", why: "unique local (RFC 4193)" },
    { cidr: "fe80::/10", why: "link-local (RFC 4291)" },
    { cidr: "ff00::/8", why: "multicast (RFC 4291)" },
];

/**
 * Whether coturn reads the range as meant. It matches a peer when `min <= peer <= max`, but takes
 * an all-zero bound as open (ns_turn_ioaddr.c `ioa_addr_in_range`, 440-453 at 4.6.1, 510-536 at
 * 4.17.0): a range ending at 0.0.0.0 or :: (0.0.0.0/32, ::/128) holds every address.
 */
export function coturnReadsRange(text: string): boolean {
    const range = parseCidr(text);
    return range !== undefined && range.last !== 0n;
}

const cidr = (what: string) =>
    z
        .string()
        .refine((text) => parseCidr(text) !== undefined, {
            message: `${what} must be an IPv4 or IPv6 range such as 10.0.0.0/8 or fd00::/8 (host bits zero), or one address`,
        })
        .refine((text) => parseCidr(text) === undefined || coturnReadsRange(text), {
            message: `${what} that is only the all-zero address (0.0.0.0 or ::) means every address to coturn; remove it`,
        });

/** The `turn.placement` key: host network on labelled nodes, or behind a LoadBalancer. */
export const turnPlacement = z.discriminatedUnion(
    "mode",
    [
        z.strictObject({
            mode: z.literal("hostNetwork"),
            nodeSelector: nodeSelector.default({ "licode.io/turn": "true" }),
        }),
        z.strictObject({
            mode: z.literal("loadBalancer"),
            loadBalancerIP: z
                .string()
                .regex(
                    IPV4,
                    "the LoadBalancer's address must be an IPv4 address you reserved with your provider: coturn announces it in every relayed address",
                ),
            annotations: labels("turn.placement.annotations").optional(),
            loadBalancerClass: z.string().min(1).optional(),
        }),
    ],
    { error: 'turn.placement.mode must be "hostNetwork" or "loadBalancer"' },
);

/** The `turn.tls` key: the certificate TURN over TLS serves on 443. */
export const turnTls = z.strictObject({
    secretName: z
        .string()
        .max(253)
        .regex(
            DNS_1123_SUBDOMAIN,
            "a Secret name is a DNS-1123 subdomain, e.g. turn-tls (a kubernetes.io/tls Secret with tls.crt and tls.key)",
        )
        .default("licode-turn-tls"),
    certManager: z
        .strictObject({
            create: apiSwitch.default("auto"),
            issuer: z.strictObject({
                name: z
                    .string()
                    .max(253)
                    .regex(DNS_1123_SUBDOMAIN, "the issuer's name, e.g. letsencrypt"),
                kind: z.enum(["ClusterIssuer", "Issuer"]).default("ClusterIssuer"),
            }),
        })
        .optional(),
});

const quota = (what: string, fallback: number) =>
    z
        .number()
        .int(`${what} is a whole number`)
        .min(
            1,
            `${what} must be at least 1; coturn reads 0 as "no limit", which is not a safe default`,
        )
        .default(fallback);

const bandwidth = (what: string, fallback: number) =>
    z
        .number()
        .int(`${what} is in bytes per second, a whole number`)
        .min(
            8000,
            `${what} is in bytes per second (not bits); below 8000 (64 kbit/s) not even audio passes`,
        )
        .default(fallback);

/** The `turn` key. */
export const turn = z
    .strictObject({
        enabled: z.boolean().default(false),
        host: z
            .string()
            .max(253)
            .refine((host) => IPV4.test(host) || DNS_1123_SUBDOMAIN.test(host), {
                message:
                    "the TURN host is the DNS name (or IPv4 address) clients connect to, e.g. turn.example.com",
            })
            .optional(),
        username: z
            .string()
            .regex(
                /^[A-Za-z0-9._-]{1,64}$/,
                "the TURN username is 1-64 letters, digits, '.', '_' or '-'",
            )
            .default("licode"),
        existingSecret: userSecret.optional(),
        placement: turnPlacement.default({
            mode: "hostNetwork",
            nodeSelector: { "licode.io/turn": "true" },
        }),
        relayPortRange: portRange.default({ min: 49152, max: 49999 }),
        tls: turnTls.optional(),
        deniedPeers: z
            .strictObject({
                privateRanges: z.boolean().default(true),
                podCidrs: z.array(cidr("a pod range")).default([]),
                serviceCidrs: z.array(cidr("a service range")).default([]),
                nodeCidrs: z.boolean().default(true),
                extra: z.array(cidr("a denied range")).default([]),
            })
            .prefault({}),
        allowedPeers: z.array(cidr("an allowed peer range")).default([]),
        userQuota: quota("userQuota", 800),
        totalQuota: quota("totalQuota", 800),
        maxBps: bandwidth("maxBps", 250000),
        bpsCapacity: bandwidth("bpsCapacity", 125000000),
        erizoRelay: z
            .strictObject({
                enabled: z.boolean().default(false),
                address: z
                    .string()
                    .regex(IPV4, "ErizoJS takes the TURN server as an IPv4 address")
                    .optional(),
            })
            .default({ enabled: false }),
        metrics: z.boolean().default(true),
        gracePeriodSeconds: z.number().int().min(1).max(3600).default(30),
        resources: resources.optional(),
        image: imageOverride.optional(),
    })
    .superRefine((value, ctx) => {
        if (!value.enabled) {
            return;
        }
        const issue = (path: (string | number)[], message: string) =>
            ctx.addIssue({ code: "custom", path, message });
        if (value.host === undefined) {
            issue(
                ["host"],
                "TURN needs the name clients connect to: set turn.host, e.g. turn.example.com (a DNS record for every TURN node, or for the LoadBalancer's address)",
            );
        } else if (value.tls !== undefined && IPV4.test(value.host)) {
            issue(
                ["host"],
                "TURN over TLS needs a DNS name: browsers check the certificate against the host they connect to; set turn.host to a DNS name, or remove turn.tls",
            );
        }
        const range = value.relayPortRange;
        const size = range.max - range.min + 1;
        for (const port of [TURN_PORT, TURN_METRICS_PORT]) {
            if (port >= range.min && port <= range.max) {
                issue(
                    ["relayPortRange"],
                    `holds ${port}, a port coturn listens on; move the range, e.g. to 49152-49999`,
                );
            }
        }
        if (value.userQuota > value.totalQuota) {
            issue(
                ["userQuota"],
                `exceeds totalQuota (${value.totalQuota}); every client shares one TURN user, so the user quota is reached only under the total: set userQuota at most totalQuota`,
            );
        }
        if (value.totalQuota > size) {
            issue(
                ["totalQuota"],
                `exceeds the ${size} ports of turn.relayPortRange (${range.min}-${range.max}); each allocation holds one relay port, so allocations past that fail without a quota message: lower totalQuota or widen the range`,
            );
        }
        if (value.placement.mode === "loadBalancer" && size > MAX_LOAD_BALANCER_RELAY_PORTS) {
            issue(
                ["relayPortRange"],
                `${size} ports; behind a LoadBalancer each relay port is a Service port: keep at most ${MAX_LOAD_BALANCER_RELAY_PORTS}, or use placement.mode hostNetwork`,
            );
        }
        if (
            value.erizoRelay.enabled &&
            value.erizoRelay.address === undefined &&
            value.placement.mode !== "loadBalancer"
        ) {
            issue(
                ["erizoRelay", "address"],
                "ErizoJS takes the TURN server as an IPv4 address (libnice resolves no names): set erizoRelay.address to a TURN node's address",
            );
        }
    });

/** TURN after defaults: what the tier and the rendered configs use. */
export interface TurnConfig {
    readonly enabled: boolean;
    /** What clients connect to; set whenever `enabled`. Also coturn's realm. */
    readonly host?: string;
    readonly username: string;
    readonly existingSecret?: ExistingSecretConfig<"username" | "password">;
    readonly placement: z.output<typeof turnPlacement>;
    readonly relayPortRange: { readonly min: number; readonly max: number };
    readonly tls?: z.output<typeof turnTls>;
    /** Every range coturn refuses as a peer, resolved (private ranges, pods, services, nodes, extra). */
    readonly deniedPeers: readonly string[];
    readonly allowedPeers: readonly string[];
    readonly userQuota: number;
    readonly totalQuota: number;
    readonly maxBps: number;
    readonly bpsCapacity: number;
    /** ErizoJS relays through TURN itself (`config.erizo.turnserver`), at this IPv4 address. */
    readonly erizoRelay?: { readonly address: string };
    readonly metrics: boolean;
    readonly gracePeriodSeconds: number;
    readonly resources: Resources;
    readonly image: ImageRef;
}

/** The peer ranges TURN denies: the private ranges (when on), then the cluster's, then extras. */
export function deniedPeerRanges(
    denied: z.output<typeof turn>["deniedPeers"],
    nodeCidrs: readonly string[],
): string[] {
    const ranges = [
        ...(denied.privateRanges ? PRIVATE_PEER_RANGES.map((r) => r.cidr) : []),
        ...denied.podCidrs,
        ...denied.serviceCidrs,
        ...(denied.nodeCidrs ? nodeCidrs : []),
        ...denied.extra,
    ];
    const normalised = ranges.map((range) => parseCidr(range)?.cidr ?? range);
    return [...new Set(normalised)];
}

/** What `turnProblems` needs of the rest of the config. */
export interface TurnContext {
    readonly turn: TurnConfig;
    readonly createNamespace: boolean;
    readonly namespace: string;
    /** The media pools' ranges, each with the key that sets it. */
    readonly mediaRanges: readonly {
        readonly key: string;
        readonly range: { readonly min: number; readonly max: number };
    }[];
    readonly publicAddress: { readonly from: string; readonly ip?: string };
}

/** Checks of `turn` that need other keys: the media ranges, the announced address, the namespace. */
export function turnProblems(
    context: TurnContext,
): { key: string; value: unknown; message: string }[] {
    const { turn: config } = context;
    if (!config.enabled) {
        return [];
    }
    const problems: { key: string; value: unknown; message: string }[] = [];
    const relay = config.relayPortRange;
    for (const { key, range } of context.mediaRanges) {
        if (relay.min <= range.max && relay.max >= range.min) {
            problems.push({
                key: "licode:turn.relayPortRange",
                value: relay,
                message: `overlaps licode:${key} (${range.min}-${range.max}); a TURN node that is also a media node would have coturn and ErizoJS bind the same UDP ports, and firewall rules for one would open the other: give TURN its own range, e.g. 49152-49999`,
            });
        }
    }
    const ip = context.publicAddress.from === "static" ? context.publicAddress.ip : undefined;
    if (ip !== undefined) {
        const denied = config.deniedPeers.map(parseCidr).find((r) => r && rangeContainsIp(r, ip));
        const allowed = config.allowedPeers.map(parseCidr).some((r) => r && rangeContainsIp(r, ip));
        if (denied !== undefined && !allowed) {
            problems.push({
                key: "licode:turn.allowedPeers",
                value: config.allowedPeers,
                message: `the media nodes announce ${ip} (publicAddress.ip), which TURN denies as a peer (${denied.cidr}), so no client could reach media through TURN; add ${ip}/32 to turn.allowedPeers (and block UDP from the TURN nodes to anything but the media range on those nodes)`,
            });
        }
    }
    if (
        config.tls !== undefined &&
        config.tls.certManager === undefined &&
        context.createNamespace
    ) {
        problems.push({
            key: "licode:turn.tls",
            value: config.tls,
            message: `the certificate Secret "${config.tls.secretName}" is yours and TURN's pods need it from the start, so it must exist before the first up, and its namespace too: create "${context.namespace}" with the Secret and set createNamespace: false, or let cert-manager issue it (turn.tls.certManager)`,
        });
    }
    return problems;
}

function rangeContainsIp(
    range: { family: 4 | 6; first: bigint; last: bigint },
    ip: string,
): boolean {
    const parsed = parseCidr(ip);
    return (
        parsed !== undefined &&
        parsed.family === range.family &&
        parsed.first >= range.first &&
        parsed.last <= range.last
    );
}
