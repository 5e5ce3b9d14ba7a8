/** RabbitMQ's config: the broker tier, its management plugin and its credentials. */
import { z } from "zod";
import { replicas, tier } from "./common";
import { userSecret } from "./secrets";

/** The `rabbitmq` key. */
export const rabbitmq = tier.extend({
    replicas: replicas
        .max(
            1,
            "RabbitMQ runs as a single broker here (Licode's queues are transient); set 1 (or 0 to stop it)",
        )
        .optional(),
    management: z.boolean().default(false),
    existingSecret: userSecret.optional(),
});
