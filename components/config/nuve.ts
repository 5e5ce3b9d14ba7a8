/** Nuve's config: how clients reach its REST API. */
import { z } from "zod";
import { DNS_1123_SUBDOMAIN, NODE_PORT_RANGE, dns1123Label } from "./common";

/** The `ingress` key: how clients reach Nuve. */
export const ingress = z.discriminatedUnion(
    "mode",
    [
        z.strictObject({
            mode: z.literal("nodePort"),
            nodePort: z
                .number()
                .int()
                .min(
                    NODE_PORT_RANGE.min,
                    `nodePort must lie within ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
                )
                .max(
                    NODE_PORT_RANGE.max,
                    `nodePort must lie within ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
                )
                .optional(),
        }),
        z.strictObject({
            mode: z.literal("ingress"),
            className: dns1123Label("the ingress class name"),
            host: z
                .string()
                .max(253)
                .regex(
                    DNS_1123_SUBDOMAIN,
                    "the ingress host must be a DNS name such as nuve.example.com",
                ),
            tlsSecret: dns1123Label("the TLS secret name").optional(),
            annotations: z.record(z.string(), z.string()).optional(),
        }),
    ],
    { error: 'ingress.mode must be "nodePort" or "ingress"' },
);
