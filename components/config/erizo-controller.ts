/** ErizoController's config: its nodes, rollout, port, and the name and TLS clients connect with. */
import { z } from "zod";
import {
    CONTROLLER_QUIET_SECONDS,
    DRAIN_RESERVE_SECONDS,
    minimumGracePeriod,
} from "../drain/timing";
import { DNS_1123_SUBDOMAIN, dns1123Label, nodeSelector, tier } from "./common";
import { DEFAULT_REPLICAS } from "./defaults";

/**
 * A controller's grace period: its drain ends CONTROLLER_QUIET_SECONDS after the last client left, or at
 * the deadline, the grace period less DRAIN_RESERVE_SECONDS; a shorter grace period than
 * minimumGracePeriod could end nearly every drain with a call in progress at its deadline.
 */
const SIGNALLING_MIN_GRACE = minimumGracePeriod(CONTROLLER_QUIET_SECONDS);

/** In `erizoController.hostname`, stands for the name of the node each controller runs on. */
export const NODE_NAME_PLACEHOLDER = "{nodeName}";

/** The `erizoController` key. */
export const erizoController = tier
    .extend({
        nodeSelector: nodeSelector.default({ "licode.io/signalling": "true" }),
        gracePeriodSeconds: z
            .number()
            .int()
            .min(
                SIGNALLING_MIN_GRACE,
                `a signalling drain ends once no client has been connected for ${CONTROLLER_QUIET_SECONDS} s and keeps ${DRAIN_RESERVE_SECONDS} s to stop; below ${SIGNALLING_MIN_GRACE} s a client still connected in the drain's first half ends it at the deadline, cut; set at least ${SIGNALLING_MIN_GRACE}`,
            )
            .max(86400)
            .default(1800),
        maxSurge: z.number().int().min(0).default(1),
        maxUnavailable: z.number().int().min(0).default(0),
        port: z.number().int().min(1024).max(65535).default(8080),
        hostname: z
            .string()
            .refine(
                (name) => DNS_1123_SUBDOMAIN.test(name.replace(NODE_NAME_PLACEHOLDER, "node")),
                {
                    message: `the hostname must be a DNS name, optionally with ${NODE_NAME_PLACEHOLDER} for each controller's node, e.g. ${NODE_NAME_PLACEHOLDER}.signalling.example.com`,
                },
            )
            .optional(),
        ssl: z.boolean().optional(),
        tls: z
            .strictObject({
                secretName: dns1123Label("the signalling TLS secret name"),
            })
            .optional(),
    })
    .superRefine((value, ctx) => {
        if (value.tls !== undefined && value.hostname === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["hostname"],
                message: `TLS needs the name on the certificate: set hostname, e.g. ${NODE_NAME_PLACEHOLDER}.signalling.example.com with a certificate for *.signalling.example.com; browsers refuse a certificate that does not name the host they connect to`,
            });
        }
        if (value.tls !== undefined && value.ssl === false) {
            ctx.addIssue({
                code: "custom",
                path: ["ssl"],
                message:
                    "the controller serves TLS (tls is set) but would tell clients to connect without it; remove ssl or set it true",
            });
        }
        if (
            value.hostname !== undefined &&
            !value.hostname.includes(NODE_NAME_PLACEHOLDER) &&
            (value.replicas ?? DEFAULT_REPLICAS.erizoController) > 1
        ) {
            ctx.addIssue({
                code: "custom",
                path: ["hostname"],
                message: `every controller would give clients the same hostname, but each room lives on one controller; put ${NODE_NAME_PLACEHOLDER} in it (one DNS name per signalling node), or run one controller`,
            });
        }
        if (value.maxSurge === 0 && value.maxUnavailable === 0) {
            ctx.addIssue({
                code: "custom",
                path: ["maxSurge"],
                message:
                    "maxSurge and maxUnavailable cannot both be 0, or a rollout can never start; keep maxSurge 1 (needs a spare signalling node) or set maxUnavailable 1",
            });
        }
    });
