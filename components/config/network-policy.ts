/** Whether the stack isolates its tiers with NetworkPolicies, and the node ranges they admit. */
import { z } from "zod";
import { CIDR } from "./common";

/** The `networkPolicy` key. */
export const networkPolicy = z
    .strictObject({
        enabled: z.boolean().default(true),
        nodeCidrs: z.array(z.string().regex(CIDR, "node CIDRs look like 10.0.0.0/16")).default([]),
    })
    .superRefine((value, ctx) => {
        if (value.enabled && value.nodeCidrs.length === 0) {
            ctx.addIssue({
                code: "custom",
                path: ["nodeCidrs"],
                message:
                    'list the node address ranges, e.g. ["10.0.0.0/16"]: ErizoController and ErizoAgent use the host network, so RabbitMQ sees them at node addresses; or set networkPolicy.enabled: false',
            });
        }
    });
