/**
 * The media tier's config: the address Licode announces, the ErizoAgent pools with their nodes and
 * UDP ranges, ErizoAgent itself, and the ICE servers clients are given.
 */
import { z } from "zod";
import { AGENT_QUIET_SECONDS, DRAIN_RESERVE_SECONDS, minimumGracePeriod } from "../drain/timing";
import { IPV4, dns1123Label, nodeSelector, portRange, quantity, tier } from "./common";

/**
 * A media node's grace period: its drain ends AGENT_QUIET_SECONDS after the last media session, or at
 * the deadline, the grace period less DRAIN_RESERVE_SECONDS; a shorter grace period than
 * minimumGracePeriod could end nearly every drain with a call in progress at its deadline.
 */
const MEDIA_MIN_GRACE = minimumGracePeriod(AGENT_QUIET_SECONDS);

/** The `publicAddress` key: where ErizoController and ErizoAgent find the address they announce. */
export const publicAddress = z.discriminatedUnion(
    "from",
    [
        z.strictObject({
            from: z.literal("interface"),
            interface: z
                .string()
                .regex(
                    /^[A-Za-z0-9_.:-]{1,15}$/,
                    "a network interface name is 1-15 characters, e.g. eth0",
                ),
        }),
        z.strictObject({ from: z.literal("nodeIP") }),
        z.strictObject({
            from: z.literal("static"),
            ip: z.string().regex(IPV4, "the static public address must be an IPv4 address"),
        }),
    ],
    { error: 'publicAddress.from must be "interface", "nodeIP" or "static"' },
);

/** One entry of `media.pools`. */
export const mediaPool = z.strictObject({
    name: dns1123Label("the media pool name").max(40, "a media pool name is at most 40 characters"),
    nodeSelector,
    portRange,
});

/** The `media` key. */
export const media = z
    .strictObject({
        portRange: portRange.default({ min: 40000, max: 40999 }),
        nodeSelector: nodeSelector.default({ "licode.io/media": "true" }),
        pools: z.array(mediaPool).min(1, "pools, when set, needs at least one pool").optional(),
        gracePeriodSeconds: z
            .number()
            .int()
            .min(
                MEDIA_MIN_GRACE,
                `a media drain ends once no media session has been in progress for ${AGENT_QUIET_SECONDS} s and keeps ${DRAIN_RESERVE_SECONDS} s to stop; below ${MEDIA_MIN_GRACE} s a call still in progress in the drain's first half ends it at the deadline, cut; set at least ${MEDIA_MIN_GRACE}`,
            )
            .max(86400)
            .default(1800),
        maxUnavailable: z
            .number()
            .int()
            .min(1, "maxUnavailable must be at least 1 or a media rollout never progresses")
            .default(1),
        updateStrategy: z.enum(["RollingUpdate", "OnDelete"]).default("RollingUpdate"),
        rolloutNodes: z
            .number()
            .int()
            .min(1, "rolloutNodes is the most media nodes in one pool; at least 1")
            .default(4),
    })
    .superRefine((value, ctx) => {
        const pools = value.pools ?? [];
        const seen = new Map<string, number>();
        pools.forEach((pool, index) => {
            const first = seen.get(pool.name);
            if (first !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["pools", index, "name"],
                    message: `pool name "${pool.name}" is already used by media.pools[${first}]; give each pool its own name`,
                });
            }
            seen.set(pool.name, index);
            for (let other = 0; other < index; other++) {
                const a = pools[other].portRange;
                const b = pool.portRange;
                if (b.min <= a.max && b.max >= a.min) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["pools", index, "portRange"],
                        message: `overlaps media.pools[${other}] (${a.min}-${a.max}); pools on shared nodes would fight for ports, so give each pool its own range`,
                    });
                }
            }
        });
    });

/** The `erizoAgent.recordings` key. */
export const recordingVolume = z.discriminatedUnion(
    "kind",
    [
        z.strictObject({
            kind: z.literal("emptyDir"),
            sizeLimit: quantity("the recordings' sizeLimit").default("1Gi"),
        }),
        z.strictObject({
            kind: z.literal("claim"),
            claimName: dns1123Label("the recordings claim name"),
        }),
    ],
    { error: 'erizoAgent.recordings.kind must be "emptyDir" or "claim"' },
);

/** The `erizoAgent` key. */
export const erizoAgent = tier
    .extend({
        maxProcesses: z.number().int().min(1).default(1),
        prerunProcesses: z
            .number()
            .int()
            .min(
                1,
                "prerunProcesses must be at least 1: with 0 the agent starts no ErizoJS ahead of a call, so the first call on a node waits for a worker and the readiness probe has no worker to judge the pool by",
            )
            .default(1),
        recordings: recordingVolume.default({ kind: "emptyDir", sizeLimit: "1Gi" }),
    })
    .superRefine((value, ctx) => {
        if (value.prerunProcesses > value.maxProcesses) {
            ctx.addIssue({
                code: "custom",
                path: ["prerunProcesses"],
                message: `the agent never runs more than maxProcesses (${value.maxProcesses}) workers; set prerunProcesses at most ${value.maxProcesses}, or raise maxProcesses`,
            });
        }
    });

/** One entry of `iceServers`, as RTCPeerConnection takes it. */
export const iceServer = z.strictObject({
    urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    username: z.string().optional(),
    credential: z.string().optional(),
});

/** Where ErizoJS writes recordings: a size-limited emptyDir on the node, or a claim. */
export type RecordingVolume = z.output<typeof recordingVolume>;

/** A media pool: one ErizoAgent DaemonSet on its own nodes and UDP range. */
export interface MediaPool {
    readonly name: string;
    readonly nodeSelector: Readonly<Record<string, string>>;
    readonly portRange: { readonly min: number; readonly max: number };
}

/** The `mediaCheck` key: the reachability check of every media node after each `up`. */
export const mediaCheck = z.strictObject({
    enabled: z.boolean().default(false),
    samplePorts: z
        .number()
        .int()
        .min(1, "samplePorts is how many ports of each node's range to try; at least 1")
        .max(20, "samplePorts above 20 only slows the check; set at most 20")
        .default(5),
    timeoutSeconds: z.number().int().min(1).max(30).default(3),
});

/** The media check's settings after defaults. */
export type MediaCheckConfig = z.output<typeof mediaCheck>;
