/**
 * The metric names the Licode dashboard may query, read from the sources of the exporters that
 * publish them. dashboard.ts builds its queries from these names and test/unit/dashboard.spec.ts
 * checks every query against them, so a misspelt name fails a test instead of drawing an empty
 * panel. Each list names the upstream file and lines it comes from; change one only together with
 * its source.
 *
 * Sources: github.com/lynckia/licode at tag v10 (commit f9fca4e0, the `lynckia/licode:v10` image);
 * prom-client 11.2.1 from npm (the version erizo_controller/package-lock.json 590-593 of Licode v10
 * pins, integrity sha512-7VwtjrkQ...); github.com/rabbitmq/rabbitmq-server at tag v4.3.5 (commit
 * 0dde27bf, the newest 4.3 tag mirrored; the image runs 4.3.6) and the RabbitMQ 4.3 docs
 * (rabbitmq/rabbitmq-website, versioned_docs/version-4.3/, commit 0acf2a42).
 */

/**
 * The gauges ROV's gatherer defines, without the prefix, in source order:
 * erizo_controller/ROV/rovMetricsGatherer.js 16-64 at v10, one `new promClient.Gauge` a line.
 */
export const ROV_GAUGES = [
    "release_info",
    "active_rooms",
    "active_clients",
    "total_publishers",
    "total_subscribers",
    "active_erizojs_processes",
    "total_connections_failed",
    "task_duration_0_to_10_ms",
    "task_duration_10_to_50_ms",
    "task_duration_50_to_100_ms",
    "task_duration_100_to_1000_ms",
    "task_duration_1000_ms",
    "task_delay_0_to_10_ms",
    "task_delay_10_to_50_ms",
    "task_delay_50_to_100_ms",
    "task_delay_100_to_1000_ms",
    "task_delay_1000_ms",
    "connection_promise_duration_0_to_10_ms",
    "connection_promise_duration_10_to_50_ms",
    "connection_promise_duration_50_to_100_ms",
    "connection_promise_duration_100_to_1000_ms",
    "connection_promise_duration_1000_ms",
    "connection_promise_delay_0_to_10_ms",
    "connection_promise_delay_10_to_50_ms",
    "connection_promise_delay_50_to_100_ms",
    "connection_promise_delay_100_to_1000_ms",
    "connection_promise_delay_1000_ms",
    "stream_promise_duration_0_to_10_ms",
    "stream_promise_duration_10_to_50_ms",
    "stream_promise_duration_50_to_100_ms",
    "stream_promise_duration_100_to_1000_ms",
    "stream_promise_duration_1000_ms",
    "stream_promise_delay_0_to_10_ms",
    "stream_promise_delay_10_to_50_ms",
    "stream_promise_delay_50_to_100_ms",
    "stream_promise_delay_100_to_1000_ms",
    "stream_promise_delay_1000_ms",
    "connection_quality_high",
    "connection_quality_medium",
    "connection_quality_low",
    "total_publishers_erizojs",
    "total_subscribers_erizojs",
    "event_loop_lag_max_min",
    "event_loop_lag_max_max",
    "event_loop_lag_max_mean",
    "event_loop_lag_max_stddev",
    "event_loop_lag_max_median",
    "event_loop_lag_max_p95",
    "event_loop_lag_max_p99",
] as const;

/** One of ROV's gatherer gauges, without the prefix. */
export type RovGauge = (typeof ROV_GAUGES)[number];

/**
 * The measures (durations in milliseconds) ErizoJS times, in the order of `PerformanceMeasures`:
 * erizo_controller/common/PerformanceStats.js 99-174 at v10, each the value of its `Measures` key
 * (25-51; note `SUBSCRIBE_STREAM_CREATED` is `subscribe_stream_started`).
 */
export const PERFORMANCE_MEASURES = [
    "subscribe_total",
    "subscribe_stream_started",
    "subscribe_connection_init",
    "subscribe_candidates_gathered",
    "subscribe_connection_started",
    "subscribe_connection_ready",
    "unsubscribe_total",
    "unsubscribe_close_stream",
    "unsubscribe_remove_internal_stream",
    "unsubscribe_close_internal_stream",
    "unsubscribe_remove_stream",
    "unsubscribe_response_sent",
    "connection_negotiation_local_offer_total",
    "connection_negotiation_offer_create",
    "connection_negotiation_offer_send",
    "connection_negotiation_answer_receive",
    "connection_negotiation_answer_set",
    "connection_negotiation_remote_offer_total",
    "connection_negotiation_offer_set",
    "connection_negotiation_answer_create",
    "connection_negotiation_answer_created",
    "connection_negotiation_answer_send",
] as const;

/** The statistics computed for each measure: `StatMetrics`, PerformanceStats.js 22 at v10. */
export const PERFORMANCE_STATS = ["min", "max", "amean", "stddev"] as const;

/** One of the gauges `PrometheusExporter` defines, without the prefix. */
export type RovPerformanceGauge =
    `${(typeof PERFORMANCE_MEASURES)[number]}_${(typeof PERFORMANCE_STATS)[number]}`;

/**
 * The gauges ROV's `PrometheusExporter` defines, without the prefix: one `<measure>_<stat>` per
 * measure and statistic, measures outer (PerformanceStats.js 275-296 at v10, created by
 * rovMetricsGatherer.js 72). Each holds the largest value any ErizoJS reported for the last stats
 * period (300-317).
 */
export const ROV_PERFORMANCE_GAUGES: readonly RovPerformanceGauge[] = PERFORMANCE_MEASURES.flatMap(
    (measure) => PERFORMANCE_STATS.map((stat): RovPerformanceGauge => `${measure}_${stat}`),
);

/**
 * prom-client's default metrics as ROV registers them (rovMetricsServer.js 70-71 at v10:
 * `collectDefaultMetrics({ prefix: config.rov.statsPrefix, ... })`), without the prefix, for
 * prom-client 11.2.1 on Linux (lib/defaultMetrics.js 3-13 lists the modules). Each from its
 * module under lib/metrics/:
 *   - processCpuTotal.js 4-6;
 *   - processStartTime.js 6;
 *   - osMemoryHeapLinux.js 8-10 (osMemoryHeap.js 28-31 picks it on Linux; elsewhere only
 *     process_resident_memory_bytes);
 *   - processOpenFileDescriptors.js 7 and processMaxFileDescriptors.js 6 (Linux only);
 *   - eventLoopLag.js 5, processHandles.js 5, processRequests.js 5;
 *   - heapSizeAndUsed.js 6-8 (the external memory gauge only when Node reports it, as Node 12 does);
 *   - heapSpacesSizeAndUsed.js 13-19 (label `space`);
 *   - version.js 10.
 */
export const PROM_CLIENT_DEFAULT_METRICS = [
    "process_cpu_user_seconds_total",
    "process_cpu_system_seconds_total",
    "process_cpu_seconds_total",
    "process_start_time_seconds",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_heap_bytes",
    "process_open_fds",
    "process_max_fds",
    "nodejs_eventloop_lag_seconds",
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_heap_size_total_bytes",
    "nodejs_heap_size_used_bytes",
    "nodejs_external_memory_bytes",
    "nodejs_heap_space_size_total_bytes",
    "nodejs_heap_space_size_used_bytes",
    "nodejs_heap_space_size_available_bytes",
    "nodejs_version_info",
] as const;

/** ROV's metric prefix: `config.rov.statsPrefix`, scripts/licode_default.js 209 at v10. */
export const ROV_PREFIX = "licode_";

/** Every full metric name ROV exports with the given prefix: gatherer, performance and default metrics. */
export function rovMetricNames(prefix: string = ROV_PREFIX): ReadonlySet<string> {
    return new Set(
        [...ROV_GAUGES, ...ROV_PERFORMANCE_GAUGES, ...PROM_CLIENT_DEFAULT_METRICS].map(
            (name) => `${prefix}${name}`,
        ),
    );
}

/**
 * Metrics of the rabbitmq_prometheus plugin's default endpoint, `/metrics` on 15692, which
 * aggregates by name (no per-queue, per-connection labels) unless `return_per_object_metrics` is
 * set (rabbit_prometheus_dispatcher.erl 16-37; the core collector's default clause, 318-329, and its
 * aggregating `get_data` clauses, 644-736; docs versioned_docs/version-4.3/prometheus/index.md
 * 482-513). All read at v4.3.5, files under deps/rabbitmq_prometheus/src/collectors/ unless noted:
 *   - queue_messages_ready, _unacked and queue_messages: prometheus_rabbitmq_core_metrics_collector.erl
 *     123-125 (queue_coarse_metrics, summed over all queues of the node);
 *   - connections, channels, consumers, queues: the same file 275-281 (`?TOTALS`, emitted by
 *     `totals/1`, 321);
 *   - process_resident_memory_bytes, disk_space_available_bytes: 72-73 (node_coarse_metrics);
 *   - resident_memory_limit_bytes (the memory high watermark), disk_space_available_limit_bytes:
 *     81-82 (node_metrics);
 *   - alarms_*: prometheus_rabbitmq_alarm_metrics_collector.erl 18, 45, 49 (1 while the node's
 *     alarm is in effect, else 0), names as listed in release-notes/3.8.25.md 48-51.
 * Every name has the `rabbitmq_` prefix (core collector 29); deps/rabbitmq_prometheus/metrics.md
 * 130-204 documents the same names. Each value is per node: sum or max across pods.
 */
export const RABBITMQ_METRICS = [
    "rabbitmq_queue_messages_ready",
    "rabbitmq_queue_messages_unacked",
    "rabbitmq_queue_messages",
    "rabbitmq_connections",
    "rabbitmq_channels",
    "rabbitmq_consumers",
    "rabbitmq_queues",
    "rabbitmq_process_resident_memory_bytes",
    "rabbitmq_resident_memory_limit_bytes",
    "rabbitmq_disk_space_available_bytes",
    "rabbitmq_disk_space_available_limit_bytes",
    "rabbitmq_alarms_memory_used_watermark",
    "rabbitmq_alarms_free_disk_space_watermark",
] as const;

/** One of the RabbitMQ metrics above. */
export type RabbitMqMetric = (typeof RABBITMQ_METRICS)[number];

/**
 * Per-queue metrics of the rabbitmq_prometheus plugin's detailed endpoint, `/metrics/detailed` on
 * 15692, which the drains' figures are read from (drain-metrics.ts): the `rabbitmq_detailed_`
 * prefix (prometheus_rabbitmq_core_metrics_collector.erl 32, used by `collect_mf('detailed')`,
 * 292-303), `queue_messages` of the family `queue_coarse_metrics` (122-126) and `queue_consumers`
 * of the family `queue_consumer_count` (129-131), each labelled with `vhost` and `queue`. The
 * endpoint emits only the families asked for with `family=`, of the vhosts asked for with
 * `vhost=`, and of the queues whose names match `queue=` (deps/rabbitmq_prometheus/src/
 * rabbit_prometheus_handler.erl 136-152, 184-203). All read at v4.3.5.
 */
export const RABBITMQ_DETAILED_METRICS = [
    "rabbitmq_detailed_queue_messages",
    "rabbitmq_detailed_queue_consumers",
] as const;

/** One of the detailed RabbitMQ metrics above. */
export type RabbitMqDetailedMetric = (typeof RABBITMQ_DETAILED_METRICS)[number];

/**
 * coturn's Prometheus metrics the dashboard and the alerts read, as coturn 4.17.0 registers them
 * (src/apps/relay/prom_server.c at tag 4.17.0, commit 54ef76ce; the coturn/coturn:4.17.0-r0 image
 * builds it with the endpoint, components/images.ts COTURN.prometheus), without a prefix:
 *   - turn_total_allocations: gauge of current allocations, label `type` (270-272, 427-438);
 *   - turn_unauthenticated_401_responses: counter of 401 challenges to UDP requests (211-212);
 *   - turn_total_traffic_{rcvb,sentb,peer_rcvb,peer_sentb}: counters of bytes of finished
 *     sessions, client side and peer side (252-267).
 */
export const COTURN_METRICS = [
    "turn_total_allocations",
    "turn_unauthenticated_401_responses",
    "turn_total_traffic_rcvb",
    "turn_total_traffic_sentb",
    "turn_total_traffic_peer_rcvb",
    "turn_total_traffic_peer_sentb",
] as const;

/** One of coturn's metrics above. */
export type CoturnMetric = (typeof COTURN_METRICS)[number];
