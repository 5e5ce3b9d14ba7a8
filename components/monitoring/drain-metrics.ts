/**
 * How Prometheus sees the drains. A drain runs in the preStop hook of a pod that is terminating: the
 * pod has left its Service's endpoints, and a figure it served itself just before its container
 * ends may never be scraped. So the drains keep their figures at the broker, which outlives them
 * and is scraped through its Service (drain/licode-amqp.js `Report`), in queues of their own:
 *
 *   licode-drain.running.<tier>      its consumers are the drains running now (one each; gone with
 *                                    the drain's connection, so with its container)
 *   licode-drain.left.<tier>.<id>    one per drain, exclusive: as many messages as sessions it
 *                                    still waits for (deleted with its connection)
 *   licode-drain.cut.<tier>          a message for each session cut at a drain's deadline, kept 7 days
 *   licode-drain.give-ups.<tier>     a message for each give-up of a drain, with its reason, kept 7 days
 *
 * RabbitMQ's detailed endpoint serves these as per-queue gauges (metric-names.ts
 * RABBITMQ_DETAILED_METRICS); the ServiceMonitor of the broker scrapes it for these queues only.
 * What this cannot see: a drain that never reached the broker (it logs why, and a broker that is
 * down is its own alert), figures lost with a restarted broker (its queues live in an emptyDir), and
 * anything without the Prometheus Operator (annotations carry one path per Service, and this is a
 * second one).
 */
import { RabbitMqDetailedMetric } from "./metric-names";

/** The tiers that drain, as their queues name them. */
export const DRAIN_TIERS = ["erizo-controller", "erizo-agent"] as const;

/** Every drain queue's name starts so. */
export const DRAIN_QUEUE_PREFIX = "licode-drain.";

/** The regex of a drain queue's name (RE2 for PromQL, PCRE for RabbitMQ's `queue=` filter). */
export function drainQueueRegex(
    kind: "running" | "left" | "cut" | "give-ups",
    tier: (typeof DRAIN_TIERS)[number] | undefined,
): string {
    const name = tier === undefined ? "[^.]+" : tier.replace(/\./g, "\\.");
    return kind === "left"
        ? `licode-drain\\.left\\.${name}\\..+`
        : `licode-drain\\.${kind}\\.${name}`;
}

/** A scrape endpoint beside a Service's first (for the Prometheus Operator's ServiceMonitor). */
export interface ExtraScrapeEndpoint {
    readonly path: string;
    readonly params: Readonly<Record<string, readonly string[]>>;
    /** Keep only the series whose `label` matches `regex` (a guard for brokers that ignore `queue=`). */
    readonly keep: { readonly label: string; readonly regex: string };
}

/** The broker's detailed endpoint, for the drain queues only. */
export const DRAIN_METRICS_ENDPOINT: ExtraScrapeEndpoint = {
    path: "/metrics/detailed",
    params: {
        family: ["queue_coarse_metrics", "queue_consumer_count"],
        vhost: ["/"],
        queue: ["^licode-drain\\."],
    },
    keep: { label: "queue", regex: "licode-drain\\..+" },
};

/**
 * A PromQL query of one drain figure of one tier: drains running (consumers), sessions left,
 * sessions cut in the last 7 days, give-ups in the last 7 days. `selector` is a matcher list such
 * as `{namespace="licode"}`; the queue's matcher is added to it.
 */
export function drainQuery(
    kind: "running" | "left" | "cut" | "give-ups",
    tier: (typeof DRAIN_TIERS)[number] | undefined,
    selector: string,
): string {
    const metric: RabbitMqDetailedMetric =
        kind === "running"
            ? "rabbitmq_detailed_queue_consumers"
            : "rabbitmq_detailed_queue_messages";
    const matcher = selector.replace(
        /}$/,
        `,queue=~"${promqlString(drainQueueRegex(kind, tier))}"}`,
    );
    return `${metric}${matcher}`;
}

/** A regex written inside a PromQL double-quoted string: each backslash doubled. */
function promqlString(regex: string): string {
    return regex.replace(/\\/g, "\\\\");
}
