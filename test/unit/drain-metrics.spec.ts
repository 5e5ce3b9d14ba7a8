/**
 * The drains' figures for Prometheus (components/monitoring/drain-metrics.ts): the queues the helpers
 * report to (components/drain/licode-amqp.js) are the ones the queries and the scrape select, and the
 * drains' timing is what the config's grace periods are checked against.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import * as assert from "assert";
import {
    AGENT_QUIET_SECONDS,
    CONTROLLER_QUIET_SECONDS,
    DRAIN_FINISH_SECONDS,
    DRAIN_RESERVE_SECONDS,
    minimumGracePeriod,
} from "../../components/drain/timing";
import {
    DRAIN_METRICS_ENDPOINT,
    DRAIN_TIERS,
    drainQuery,
} from "../../components/monitoring/drain-metrics";
import { runProgram, stackConfig } from "../harness/program";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const report = require("../../components/drain/licode-amqp.js");

/** PromQL's double-quoted string, read back: each escaped character stands for itself. */
function unquote(text: string): string {
    return text.replace(/\\(.)/g, "$1");
}

describe("the drains' figures at the broker", () => {
    it("queries exactly the queues the helpers report to, per tier", () => {
        const kinds = ["running", "left", "cut", "give-ups"] as const;
        const regexOf = (kind: (typeof kinds)[number], tier?: (typeof DRAIN_TIERS)[number]) => {
            const match = /queue=~"((?:[^"\\]|\\.)*)"/.exec(drainQuery(kind, tier, '{a="b"}'));
            assert.ok(match, kind);
            return new RegExp(`^${unquote(match[1])}$`);
        };
        for (const tier of DRAIN_TIERS) {
            const queues = report.reportQueues(tier);
            const names = {
                running: queues.running,
                left: queues.left("host-12"),
                cut: queues.cut,
                "give-ups": queues.giveUps,
            };
            for (const kind of kinds) {
                assert.ok(regexOf(kind, tier).test(names[kind]), `${kind} of ${tier}`);
                assert.ok(regexOf(kind).test(names[kind]), `${kind} of any tier`);
                for (const other of kinds.filter((k) => k !== kind)) {
                    assert.ok(!regexOf(kind, tier).test(names[other]), `${kind} is not ${other}`);
                }
                assert.ok(new RegExp(DRAIN_METRICS_ENDPOINT.keep.regex).test(names[kind]));
                assert.ok(new RegExp(DRAIN_METRICS_ENDPOINT.params.queue[0]).test(names[kind]));
            }
            const other = DRAIN_TIERS.find((t) => t !== tier)!;
            assert.ok(
                !regexOf("cut", other).test(queues.cut),
                "one tier's query skips the other's",
            );
        }
    });

    it("reads consumers for the drains running and messages for the rest, from RabbitMQ's detailed endpoint", () => {
        assert.strictEqual(
            drainQuery("running", "erizo-agent", '{namespace="licode"}'),
            'rabbitmq_detailed_queue_consumers{namespace="licode",queue=~"licode-drain\\\\.running\\\\.erizo-agent"}',
        );
        assert.match(
            drainQuery("cut", undefined, "{}"),
            /^rabbitmq_detailed_queue_messages\{,?queue=~/,
        );
    });

    it("scrapes the broker's detailed endpoint for the drain queues beside /metrics, with the Operator", async () => {
        // The switches say what the cluster serves (left to auto, a run without a cluster creates none).
        const base = stackConfig("prod");
        const prod = await runProgram("prod", {
            ...base,
            metrics: { ...(base.metrics as object), serviceMonitor: true, prometheusRule: true },
        });
        const monitor = prod.resources.find(
            (r) =>
                r.type === "kubernetes:monitoring.coreos.com/v1:ServiceMonitor" &&
                r.name === "monitoring-rabbitmq",
        );
        assert.ok(monitor, "the broker's ServiceMonitor");
        const endpoints: any[] = monitor.props.spec.endpoints;
        assert.deepStrictEqual(
            endpoints.map((e) => e.path),
            ["/metrics", "/metrics/detailed"],
        );
        assert.deepStrictEqual(endpoints[1].params, {
            family: ["queue_coarse_metrics", "queue_consumer_count"],
            vhost: ["/"],
            queue: ["^licode-drain\\."],
        });
        assert.deepStrictEqual(endpoints[1].metricRelabelings, [
            { action: "keep", sourceLabels: ["queue"], regex: "licode-drain\\..+" },
        ]);
        assert.strictEqual(endpoints[1].port, endpoints[0].port);
    });
});

describe("the drains' timing", () => {
    it("keeps the last step within the reserve, and asks for the quiet window twice before it", () => {
        assert.ok(DRAIN_FINISH_SECONDS < DRAIN_RESERVE_SECONDS);
        assert.strictEqual(minimumGracePeriod(CONTROLLER_QUIET_SECONDS), 85);
        assert.strictEqual(minimumGracePeriod(AGENT_QUIET_SECONDS), 95);
        // The deadline (grace less the reserve) leaves room for a whole quiet window after work
        // that ends in the drain's first half.
        for (const quiet of [CONTROLLER_QUIET_SECONDS, AGENT_QUIET_SECONDS]) {
            const deadline = minimumGracePeriod(quiet) - DRAIN_RESERVE_SECONDS;
            assert.ok(deadline / 2 + quiet <= deadline, `quiet ${quiet}`);
        }
    });
});
