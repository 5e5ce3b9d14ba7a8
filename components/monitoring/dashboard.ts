/**
 * The Licode Grafana dashboard: a pure builder returning Grafana's dashboard JSON model, to be
 * stored in a ConfigMap that Grafana provisions. Its queries read two exporters:
 *   - ROV (erizo_controller/ROV/rovMetricsServer.js), which every statsPeriod (20 s by default)
 *     asks each ErizoController and ErizoJS over RabbitMQ and publishes Licode-wide totals;
 *   - RabbitMQ's rabbitmq_prometheus plugin, aggregated `/metrics` endpoint on 15692.
 * Every metric name comes from metric-names.ts, where its upstream source is cited; the unit tests
 * check every query against those lists. The line numbers below are of Licode v10.
 */
import { DRAIN_TIERS, drainQuery } from "./drain-metrics";
import {
    CoturnMetric,
    RabbitMqMetric,
    ROV_PREFIX,
    RovGauge,
    RovPerformanceGauge,
    PERFORMANCE_MEASURES,
} from "./metric-names";

/** The data source every panel queries: the dashboard's `datasource` variable. */
export interface GrafanaDatasourceRef {
    readonly type: "prometheus";
    readonly uid: string;
}

/** One PromQL query of a panel. */
export interface GrafanaTarget {
    readonly refId: string;
    readonly datasource: GrafanaDatasourceRef;
    readonly expr: string;
    /** Series name shown in legends, with `{{label}}` placeholders. */
    readonly legendFormat: string;
    readonly range: boolean;
    readonly instant: boolean;
    readonly format: "time_series" | "table";
}

/** A panel's place on Grafana's 24-column grid. */
export interface GrafanaGridPos {
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
}

/** A threshold step: from `value` up (null is minus infinity), draw in `color`. */
export interface GrafanaThresholdStep {
    readonly color: string;
    readonly value: number | null;
}

/** Maps a raw value to a text and colour (used for the 0/1 alarm metrics). */
export interface GrafanaValueMapping {
    readonly type: "value";
    readonly options: Readonly<
        Record<string, { readonly text: string; readonly color: string; readonly index: number }>
    >;
}

/** The field defaults of a panel: unit, thresholds, mappings and the panel type's own settings. */
export interface GrafanaFieldConfig {
    readonly defaults: {
        readonly unit: string;
        readonly min?: number;
        readonly color: { readonly mode: string };
        readonly thresholds: {
            readonly mode: "absolute";
            readonly steps: readonly GrafanaThresholdStep[];
        };
        readonly mappings: readonly GrafanaValueMapping[];
        readonly custom?: Readonly<Record<string, unknown>>;
    };
    readonly overrides: readonly unknown[];
}

/** A Grafana transformation, e.g. `filterFieldsByName`. */
export interface GrafanaTransformation {
    readonly id: string;
    readonly options: Readonly<Record<string, unknown>>;
}

/** A panel of the dashboard. */
export interface GrafanaPanel {
    readonly id: number;
    readonly type: "timeseries" | "stat" | "table";
    readonly title: string;
    /** One line: what the panel shows, shown by Grafana as the panel's tooltip. */
    readonly description: string;
    readonly gridPos: GrafanaGridPos;
    readonly datasource: GrafanaDatasourceRef;
    readonly targets: readonly GrafanaTarget[];
    readonly fieldConfig: GrafanaFieldConfig;
    readonly options: Readonly<Record<string, unknown>>;
    readonly transformations: readonly GrafanaTransformation[];
}

/** A selectable value of a template variable. */
export interface GrafanaVariableOption {
    readonly text: string;
    readonly value: string;
    readonly selected: boolean;
}

/** A template variable: the data source, or a value the queries interpolate as `$name`. */
export interface GrafanaVariable {
    readonly name: string;
    readonly label: string;
    readonly type: "datasource" | "custom" | "textbox";
    /** For a datasource variable, the plugin type; for custom, the comma-separated values. */
    readonly query: string;
    readonly current: Partial<GrafanaVariableOption>;
    readonly options: readonly GrafanaVariableOption[];
    readonly description: string;
    readonly hide: 0;
    readonly includeAll: false;
    readonly multi: false;
    readonly skipUrlSync: false;
    readonly refresh?: 1;
    readonly regex?: string;
}

/** Grafana's dashboard JSON model, as a provisioned dashboard file holds it. */
export interface GrafanaDashboard {
    /** null: Grafana assigns its own database id; `uid` is what identifies the dashboard. */
    readonly id: null;
    readonly uid: string;
    readonly title: string;
    readonly description: string;
    readonly tags: readonly string[];
    readonly timezone: "browser";
    readonly schemaVersion: number;
    readonly version: number;
    readonly editable: boolean;
    /** 1: a shared crosshair across panels. */
    readonly graphTooltip: 0 | 1 | 2;
    readonly refresh: string;
    readonly time: { readonly from: string; readonly to: string };
    readonly templating: { readonly list: readonly GrafanaVariable[] };
    readonly annotations: { readonly list: readonly unknown[] };
    readonly panels: readonly GrafanaPanel[];
}

/** What the caller decides about the dashboard. */
export interface LicodeDashboardOptions {
    /** The dashboard's Grafana uid, stable per stack: 1-40 letters, digits, `-` or `_`. */
    readonly uid: string;
    /** The namespace Licode and RabbitMQ run in: the default of the `namespace` variable. */
    readonly namespace: string;
    /**
     * `erizoController.limit_n_rooms`: with more rooms than this, an ErizoController reports
     * itself full to Nuve (erizoController.js 285-311). Drawn as a line on "Rooms per ErizoController".
     */
    readonly roomLimitPerController: number;
    /**
     * ErizoController replicas: the default of the `controllers` variable (editable in Grafana)
     * that divides the rooms. Defaults to 1; pass the stack's replicas.
     */
    readonly erizoControllers?: number;
    /** ROV's metric prefix, `config.rov.statsPrefix`. Defaults to `licode_`. */
    readonly prefix?: string;
    /** The dashboard title. Defaults to "Licode". */
    readonly title?: string;
    /** Add the TURN row (coturn's own metrics, metric-names.ts COTURN_METRICS). Defaults to false. */
    readonly turn?: boolean;
}

/** The defaults of the optional options. */
export const LICODE_DASHBOARD_DEFAULTS = {
    prefix: ROV_PREFIX,
    title: "Licode",
    erizoControllers: 1,
} as const;

/** Grafana's dashboard JSON schema version the model follows (Grafana 10.4 / 11). */
export const SCHEMA_VERSION = 39;

/** The label selector of every query: the scrape config's `namespace` label. */
const SELECTOR = '{namespace="$namespace"}';
const DATASOURCE: GrafanaDatasourceRef = { type: "prometheus", uid: "${datasource}" };
const GRID_COLUMNS = 24;

/** What is wrong with the options, one message each; empty when they are valid. */
export function validateLicodeDashboardOptions(options: LicodeDashboardOptions): string[] {
    const problems: string[] = [];
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(options.uid)) {
        problems.push(
            `uid ${JSON.stringify(options.uid)} is not a Grafana uid: use 1-40 letters, digits, "-" or "_"`,
        );
    }
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(options.namespace)) {
        problems.push(
            `namespace ${JSON.stringify(options.namespace)} is not a Kubernetes namespace name (DNS-1123 label)`,
        );
    }
    const prefix = options.prefix ?? LICODE_DASHBOARD_DEFAULTS.prefix;
    if (!/^([A-Za-z_:][A-Za-z0-9_:]*)?$/.test(prefix)) {
        problems.push(
            `prefix ${JSON.stringify(prefix)} cannot start a Prometheus metric name: use letters, digits, "_" or ":", not starting with a digit`,
        );
    }
    for (const [key, value] of [
        ["roomLimitPerController", options.roomLimitPerController],
        [
            "erizoControllers",
            options.erizoControllers ?? LICODE_DASHBOARD_DEFAULTS.erizoControllers,
        ],
    ] as const) {
        if (!Number.isInteger(value) || value < 1) {
            problems.push(`${key} must be a positive integer, not ${value}`);
        }
    }
    return problems;
}

/** A target before it gets its refId. */
interface Query {
    readonly expr: string;
    readonly legendFormat: string;
    /** A table of the latest values instead of a time series. */
    readonly table?: boolean;
}

/** How a panel draws its series. */
interface Style {
    readonly unit?: string;
    /** Stack the series (they are parts of one whole: buckets, levels, ready + unacked). */
    readonly stacked?: boolean;
    readonly bars?: boolean;
    /** A red line at this value. */
    readonly limit?: number;
    readonly mappings?: readonly GrafanaValueMapping[];
}

/** A panel before layout gives it an id and a place. */
interface PanelSpec {
    readonly type: GrafanaPanel["type"];
    readonly title: string;
    readonly description: string;
    readonly w: number;
    readonly h: number;
    readonly queries: readonly Query[];
    readonly style: Style;
    readonly transformations?: readonly GrafanaTransformation[];
}

/**
 * The five buckets, upper bounds inclusive: erizo/src/erizo/thread/Worker.cpp 155-181 for tasks,
 * erizoAPI/PromiseDurationDistribution.cc 31-43 for promises.
 */
const BUCKETS = [
    { suffix: "0_to_10_ms", label: "<= 10 ms" },
    { suffix: "10_to_50_ms", label: "10-50 ms" },
    { suffix: "50_to_100_ms", label: "50-100 ms" },
    { suffix: "100_to_1000_ms", label: "100 ms-1 s" },
    { suffix: "1000_ms", label: "> 1 s" },
] as const;

type BucketFamily =
    | "task_duration"
    | "task_delay"
    | "connection_promise_duration"
    | "connection_promise_delay"
    | "stream_promise_duration"
    | "stream_promise_delay";

/** Alarm metrics are 0 or 1. */
const ALARM_MAPPING: GrafanaValueMapping = {
    type: "value",
    options: {
        "0": { text: "OK", color: "green", index: 0 },
        "1": { text: "ALARM", color: "red", index: 1 },
    },
};

/** The Licode dashboard for one stack. Throws when the options are invalid. */
export function licodeDashboard(options: LicodeDashboardOptions): GrafanaDashboard {
    const problems = validateLicodeDashboardOptions(options);
    if (problems.length > 0) {
        throw new Error(`invalid Licode dashboard options: ${problems.join("; ")}`);
    }
    const prefix = options.prefix ?? LICODE_DASHBOARD_DEFAULTS.prefix;
    const title = options.title ?? LICODE_DASHBOARD_DEFAULTS.title;

    // ROV publishes Licode-wide totals; max() keeps one series when two ROV pods overlap in a rollout.
    const rov = (name: RovGauge | RovPerformanceGauge): string =>
        `max(${prefix}${name}${SELECTOR})`;
    const rabbit = (name: RabbitMqMetric): string => `${name}${SELECTOR}`;
    const buckets = (family: BucketFamily): Query[] =>
        BUCKETS.map(({ suffix, label }) => ({
            expr: rov(`${family}_${suffix}`),
            legendFormat: label,
        }));
    const perStatsPeriod = "counted over the last ROV stats period (20 s by default), then reset";
    /** A half-width stacked bar chart of one bucket family; `what` says what its buckets count. */
    const bucketPanel = (title: string, what: string, family: BucketFamily): PanelSpec => ({
        type: "timeseries",
        title,
        description: `${what}, ${perStatsPeriod} (${family}_*).`,
        w: 12,
        h: 8,
        queries: buckets(family),
        style: { stacked: true, bars: true },
    });

    const panels: PanelSpec[] = [
        {
            type: "stat",
            title: "Active rooms",
            description: "Rooms open in all ErizoControllers now (ROV active_rooms).",
            w: 4,
            h: 4,
            queries: [{ expr: rov("active_rooms"), legendFormat: "rooms" }],
            style: {},
        },
        {
            type: "stat",
            title: "Active clients",
            description: "Clients in rooms of all ErizoControllers now (ROV active_clients).",
            w: 4,
            h: 4,
            queries: [{ expr: rov("active_clients"), legendFormat: "clients" }],
            style: {},
        },
        {
            type: "stat",
            title: "Active ErizoJS processes",
            description:
                "ErizoJS processes of all ErizoAgents that are not idle now (ROV active_erizojs_processes).",
            w: 4,
            h: 4,
            queries: [{ expr: rov("active_erizojs_processes"), legendFormat: "processes" }],
            style: {},
        },
        {
            type: "stat",
            title: "RabbitMQ alarms",
            description:
                "ALARM while any RabbitMQ node's memory high watermark or free disk space alarm is in effect: publishers are blocked.",
            w: 4,
            h: 4,
            queries: [
                {
                    expr: `max(${rabbit("rabbitmq_alarms_memory_used_watermark")})`,
                    legendFormat: "memory",
                },
                {
                    expr: `max(${rabbit("rabbitmq_alarms_free_disk_space_watermark")})`,
                    legendFormat: "disk",
                },
            ],
            style: { mappings: [ALARM_MAPPING], limit: 1 },
        },
        {
            type: "table",
            title: "Licode release",
            description:
                "Commit and build date of the image, from the RELEASE file its Dockerfile writes (41-42) as ROV reads it (release_info, rovMetricsGatherer.js 103-134); empty when ROV cannot read it.",
            w: 8,
            h: 4,
            queries: [
                {
                    expr: `max by (commit, date, ip) (${prefix}release_info${SELECTOR})`,
                    legendFormat: "{{commit}} {{date}}",
                    table: true,
                },
            ],
            style: {},
            transformations: [
                {
                    id: "filterFieldsByName",
                    options: { include: { names: ["commit", "date", "ip"] } },
                },
            ],
        },
        {
            type: "timeseries",
            title: "Active rooms",
            description: "Rooms open in all ErizoControllers (ROV active_rooms).",
            w: 8,
            h: 8,
            queries: [{ expr: rov("active_rooms"), legendFormat: "rooms" }],
            style: {},
        },
        {
            type: "timeseries",
            title: "Rooms per ErizoController",
            description: `Mean rooms per ErizoController (active rooms / the controllers variable); above the line, limit_n_rooms ${options.roomLimitPerController}, a controller reports itself full to Nuve.`,
            w: 8,
            h: 8,
            queries: [
                { expr: `${rov("active_rooms")} / $controllers`, legendFormat: "mean rooms" },
            ],
            style: { limit: options.roomLimitPerController },
        },
        {
            type: "timeseries",
            title: "Active clients",
            description: "Clients in rooms of all ErizoControllers (ROV active_clients).",
            w: 8,
            h: 8,
            queries: [{ expr: rov("active_clients"), legendFormat: "clients" }],
            style: {},
        },
        {
            type: "timeseries",
            title: "Publishers and subscribers",
            description:
                "Published streams and their subscribers as the ErizoControllers' rooms count them and as the ErizoJS processes count them; the two views should agree.",
            w: 12,
            h: 8,
            queries: [
                { expr: rov("total_publishers"), legendFormat: "publishers (ErizoController)" },
                { expr: rov("total_subscribers"), legendFormat: "subscribers (ErizoController)" },
                { expr: rov("total_publishers_erizojs"), legendFormat: "publishers (ErizoJS)" },
                { expr: rov("total_subscribers_erizojs"), legendFormat: "subscribers (ErizoJS)" },
            ],
            style: {},
        },
        {
            type: "timeseries",
            title: "Active ErizoJS processes",
            description:
                "ErizoJS processes of all ErizoAgents that are not idle (ROV active_erizojs_processes).",
            w: 6,
            h: 8,
            queries: [{ expr: rov("active_erizojs_processes"), legendFormat: "processes" }],
            style: {},
        },
        {
            type: "timeseries",
            title: "Failed connections per stats period",
            description: `WebRTC connections that reported a 'failed' status in all ErizoJS, ${perStatsPeriod} (erizoJSController.js 87-94, 566-621): not a running total.`,
            w: 6,
            h: 8,
            queries: [{ expr: rov("total_connections_failed"), legendFormat: "failed" }],
            style: { bars: true },
        },
        bucketPanel("Task durations", "ErizoJS worker tasks by how long they ran", "task_duration"),
        bucketPanel(
            "Task delays",
            "ErizoJS worker tasks by how long they waited to start",
            "task_delay",
        ),
        bucketPanel(
            "Connection promise durations",
            "Connection promises by how long they lasted",
            "connection_promise_duration",
        ),
        bucketPanel(
            "Connection promise delays",
            "Connection promises by how late their notification was",
            "connection_promise_delay",
        ),
        bucketPanel(
            "Stream promise durations",
            "Stream promises by how long they lasted",
            "stream_promise_duration",
        ),
        bucketPanel(
            "Stream promise delays",
            "Stream promises by how late their notification was",
            "stream_promise_delay",
        ),
        {
            type: "timeseries",
            title: "Connection quality",
            description:
                "WebRTC connections in all ErizoJS by quality level now: high, medium and low are erizo's GOOD, LOW and VERY_LOW (rovMetricsGatherer.js 345-347, WebRtcConnection.h 42-46).",
            w: 12,
            h: 8,
            queries: [
                { expr: rov("connection_quality_high"), legendFormat: "high" },
                { expr: rov("connection_quality_medium"), legendFormat: "medium" },
                { expr: rov("connection_quality_low"), legendFormat: "low" },
            ],
            style: { stacked: true },
        },
        {
            type: "timeseries",
            title: "ErizoJS event loop lag",
            description:
                "Event loop delay of ErizoJS since each process started, the highest of all processes per statistic; 'p95' is upstream's name for the 90th percentile (erizoJSController.js 40-41, 623-631).",
            w: 12,
            h: 8,
            queries: [
                { expr: rov("event_loop_lag_max_max"), legendFormat: "max" },
                { expr: rov("event_loop_lag_max_p99"), legendFormat: "p99" },
                { expr: rov("event_loop_lag_max_p95"), legendFormat: "p95 (p90)" },
                { expr: rov("event_loop_lag_max_median"), legendFormat: "median" },
                { expr: rov("event_loop_lag_max_mean"), legendFormat: "mean" },
            ],
            style: { unit: "s" },
        },
        {
            type: "timeseries",
            title: "Subscribe and unsubscribe time",
            description:
                "Time ErizoJS took to answer subscribe and unsubscribe requests over the last stats period: the highest per-ErizoJS mean and maximum (PerformanceStats.js 99-138, 298-317).",
            w: 12,
            h: 8,
            queries: (["subscribe_total", "unsubscribe_total"] as const).flatMap((measure) =>
                (["amean", "max"] as const).map((stat) => ({
                    expr: rov(`${measure}_${stat}`),
                    legendFormat: `${measure.split("_")[0]} ${stat === "amean" ? "mean" : stat}`,
                })),
            ),
            style: { unit: "ms" },
        },
        {
            type: "timeseries",
            title: "Connection negotiation time",
            description:
                "Time ErizoJS took for an SDP offer/answer exchange it started (local offer) or a client started (remote offer) over the last stats period: the highest per-ErizoJS mean.",
            w: 12,
            h: 8,
            queries: PERFORMANCE_MEASURES.filter((measure) => measure.endsWith("_offer_total")).map(
                (measure) => ({
                    expr: rov(`${measure}_amean`),
                    legendFormat: measure
                        .replace("connection_negotiation_", "")
                        .replace(/_total$/, "")
                        .replace("_", " "),
                }),
            ),
            style: { unit: "ms" },
        },
        {
            type: "timeseries",
            title: "RabbitMQ queue depth",
            description:
                "Messages in all queues of all RabbitMQ nodes: ready for consumers, and delivered but not yet acknowledged.",
            w: 8,
            h: 8,
            queries: [
                { expr: `sum(${rabbit("rabbitmq_queue_messages_ready")})`, legendFormat: "ready" },
                {
                    expr: `sum(${rabbit("rabbitmq_queue_messages_unacked")})`,
                    legendFormat: "unacked",
                },
            ],
            style: { stacked: true },
        },
        {
            type: "timeseries",
            title: "RabbitMQ connections and channels",
            description: "Connections and channels currently open on all RabbitMQ nodes.",
            w: 8,
            h: 8,
            queries: [
                { expr: `sum(${rabbit("rabbitmq_connections")})`, legendFormat: "connections" },
                { expr: `sum(${rabbit("rabbitmq_channels")})`, legendFormat: "channels" },
            ],
            style: {},
        },
        {
            type: "timeseries",
            title: "RabbitMQ memory",
            description:
                "Memory each RabbitMQ node uses against its high watermark; at the watermark the memory alarm blocks publishers.",
            w: 8,
            h: 8,
            queries: [
                {
                    expr: rabbit("rabbitmq_process_resident_memory_bytes"),
                    legendFormat: "{{instance}} used",
                },
                {
                    expr: rabbit("rabbitmq_resident_memory_limit_bytes"),
                    legendFormat: "{{instance}} watermark",
                },
            ],
            style: { unit: "bytes" },
        },
    ];

    return {
        id: null,
        uid: options.uid,
        title,
        description: `Licode rooms, media and RabbitMQ in namespace ${options.namespace}, from ROV and rabbitmq_prometheus.`,
        tags: ["licode", "webrtc", "rabbitmq"],
        timezone: "browser",
        schemaVersion: SCHEMA_VERSION,
        version: 1,
        editable: true,
        graphTooltip: 1,
        refresh: "30s",
        time: { from: "now-6h", to: "now" },
        templating: {
            list: [
                {
                    name: "datasource",
                    label: "Data source",
                    type: "datasource",
                    query: "prometheus",
                    current: {},
                    options: [],
                    description: "The Prometheus that scrapes ROV and RabbitMQ.",
                    hide: 0,
                    includeAll: false,
                    multi: false,
                    skipUrlSync: false,
                    refresh: 1,
                    regex: "",
                },
                fixedVariable(
                    "namespace",
                    "Namespace",
                    "custom",
                    options.namespace,
                    "The namespace label of the Licode stack's metrics.",
                ),
                fixedVariable(
                    "controllers",
                    "ErizoControllers",
                    "textbox",
                    String(options.erizoControllers ?? LICODE_DASHBOARD_DEFAULTS.erizoControllers),
                    "ErizoController replicas, to divide the rooms by.",
                ),
            ],
        },
        annotations: { list: [] },
        panels: layout([
            ...panels,
            ...drainPanels(),
            ...(options.turn === true ? turnPanels() : []),
        ]),
    };
}

/**
 * The drains: running, sessions they wait for, sessions cut at a deadline and give-ups, per tier,
 * from the broker's per-queue metrics (drain-metrics.ts; they need the broker's ServiceMonitor).
 */
function drainPanels(): PanelSpec[] {
    const perTier = (kind: "running" | "left" | "cut" | "give-ups") =>
        DRAIN_TIERS.map((tier) => ({
            expr: `sum(${drainQuery(kind, tier, SELECTOR)}) or vector(0)`,
            legendFormat: tier,
        }));
    return [
        {
            type: "timeseries",
            title: "Drains running",
            description:
                "ErizoControllers and ErizoAgents draining in their preStop hooks now, per tier (consumers of licode-drain.running.<tier>).",
            w: 6,
            h: 8,
            queries: perTier("running"),
            style: {},
        },
        {
            type: "timeseries",
            title: "Sessions the drains wait for",
            description:
                "Clients (controllers) and bound media sockets (agents) the running drains still wait for, per tier.",
            w: 6,
            h: 8,
            queries: perTier("left"),
            style: {},
        },
        {
            type: "timeseries",
            title: "Sessions cut at a drain's deadline",
            description:
                "Clients and media sockets still there when a drain reached its deadline, so cut when it stopped, per tier, over the last 7 days (messages of licode-drain.cut.<tier>).",
            w: 6,
            h: 8,
            queries: perTier("cut"),
            style: {},
        },
        {
            type: "timeseries",
            title: "Drain give-ups",
            description:
                "Steps a drain gave up (the broker or Nuve unreachable until its deadline, rooms left pinned, its agent or controller not found), per tier, over the last 7 days; the reason is in the pod's log.",
            w: 6,
            h: 8,
            queries: perTier("give-ups"),
            style: {},
        },
    ];
}

/** The TURN row: allocations, challenges and relayed bytes, from coturn's endpoint. */
function turnPanels(): PanelSpec[] {
    const turn = (metric: CoturnMetric) => `${metric}${SELECTOR}`;
    return [
        {
            type: "timeseries",
            title: "TURN allocations",
            description:
                "Relay allocations each coturn holds now (turn_total_allocations, by instance); at turn.totalQuota new ones fail.",
            w: 8,
            h: 8,
            queries: [
                {
                    expr: `sum by (instance) (${turn("turn_total_allocations")})`,
                    legendFormat: "{{instance}}",
                },
            ],
            style: {},
        },
        {
            type: "timeseries",
            title: "TURN 401 challenges",
            description:
                "401 answers to UDP requests per second (turn_unauthenticated_401_responses): every allocation starts with one; many without allocations mean rejected credentials.",
            w: 8,
            h: 8,
            queries: [
                {
                    expr: `sum(rate(${turn("turn_unauthenticated_401_responses")}[5m]))`,
                    legendFormat: "401/s",
                },
            ],
            style: { unit: "reqps" },
        },
        {
            type: "timeseries",
            title: "TURN relayed bytes",
            description:
                "Bytes per second of finished TURN sessions, client and peer side (turn_total_traffic_*; counted when a session ends).",
            w: 8,
            h: 8,
            queries: [
                {
                    expr: `sum(rate(${turn("turn_total_traffic_rcvb")}[5m]))`,
                    legendFormat: "from clients",
                },
                {
                    expr: `sum(rate(${turn("turn_total_traffic_sentb")}[5m]))`,
                    legendFormat: "to clients",
                },
                {
                    expr: `sum(rate(${turn("turn_total_traffic_peer_rcvb")}[5m]))`,
                    legendFormat: "from peers",
                },
                {
                    expr: `sum(rate(${turn("turn_total_traffic_peer_sentb")}[5m]))`,
                    legendFormat: "to peers",
                },
            ],
            style: { unit: "Bps" },
        },
    ];
}

/** A variable with one preset value. */
function fixedVariable(
    name: string,
    label: string,
    type: "custom" | "textbox",
    value: string,
    description: string,
): GrafanaVariable {
    const option = { text: value, value, selected: true };
    return {
        name,
        label,
        type,
        query: value,
        current: option,
        options: [option],
        description,
        hide: 0,
        includeAll: false,
        multi: false,
        skipUrlSync: false,
    };
}

/** Gives each panel an id (1, 2, ...) and places it left to right, wrapping at 24 columns. */
function layout(specs: readonly PanelSpec[]): GrafanaPanel[] {
    let x = 0;
    let y = 0;
    let rowHeight = 0;
    return specs.map((spec, index) => {
        if (x + spec.w > GRID_COLUMNS) {
            x = 0;
            y += rowHeight;
            rowHeight = 0;
        }
        const gridPos = { x, y, w: spec.w, h: spec.h };
        x += spec.w;
        rowHeight = Math.max(rowHeight, spec.h);
        return panel(spec, index + 1, gridPos);
    });
}

/** The JSON model of one panel. */
function panel(spec: PanelSpec, id: number, gridPos: GrafanaGridPos): GrafanaPanel {
    const style = spec.style;
    const steps: GrafanaThresholdStep[] = [{ color: "green", value: null }];
    if (style.limit !== undefined) {
        steps.push({ color: "red", value: style.limit });
    }
    return {
        id,
        type: spec.type,
        title: spec.title,
        description: spec.description,
        gridPos,
        datasource: DATASOURCE,
        targets: spec.queries.map((query, index) => ({
            refId: String.fromCharCode(65 + index),
            datasource: DATASOURCE,
            expr: query.expr,
            legendFormat: query.legendFormat,
            range: !query.table,
            instant: query.table === true,
            format: query.table ? "table" : "time_series",
        })),
        fieldConfig: {
            defaults: {
                unit: style.unit ?? "short",
                ...(spec.type === "table" ? {} : { min: 0 }),
                color: { mode: spec.type === "timeseries" ? "palette-classic" : "thresholds" },
                thresholds: { mode: "absolute", steps },
                mappings: style.mappings ?? [],
                ...(spec.type === "timeseries" ? { custom: seriesStyle(style) } : {}),
            },
            overrides: [],
        },
        options: panelOptions(spec),
        transformations: spec.transformations ?? [],
    };
}

/** How a time series panel draws its lines or bars. */
function seriesStyle(style: Style): Record<string, unknown> {
    return {
        drawStyle: style.bars ? "bars" : "line",
        lineWidth: 1,
        fillOpacity: style.stacked || style.bars ? 60 : 10,
        showPoints: "never",
        spanNulls: false,
        stacking: { mode: style.stacked ? "normal" : "none", group: "A" },
        thresholdsStyle: { mode: style.limit === undefined ? "off" : "line" },
    };
}

/** The panel type's display options. */
function panelOptions(spec: PanelSpec): Record<string, unknown> {
    switch (spec.type) {
        case "stat":
            return {
                reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
                colorMode: spec.style.mappings ? "background" : "value",
                graphMode: spec.style.mappings ? "none" : "area",
                justifyMode: "auto",
                orientation: "auto",
                textMode: spec.queries.length > 1 ? "value_and_name" : "auto",
            };
        case "table":
            return { showHeader: true, cellHeight: "sm" };
        default:
            return {
                legend: { displayMode: "list", placement: "bottom", showLegend: true },
                tooltip: { mode: "multi", sort: "none" },
            };
    }
}

/** PromQL aggregation operators, keywords and functions: never metric names. */
const PROMQL_WORDS = new Set(
    [
        // aggregation operators
        "sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio",
        // keywords and binary operators
        "by without on ignoring group_left group_right bool offset and or unless atan2 inf nan",
        // functions
        "abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week",
        "day_of_year days_in_month delta deriv exp floor histogram_avg histogram_count",
        "histogram_fraction histogram_quantile histogram_stddev histogram_stdvar histogram_sum",
        "double_exponential_smoothing holt_winters hour idelta increase info irate label_join",
        "label_replace ln log2 log10 minute month predict_linear rate resets round scalar sgn sort",
        "sort_desc sort_by_label sort_by_label_desc sqrt time timestamp vector year avg_over_time",
        "min_over_time max_over_time sum_over_time count_over_time quantile_over_time",
        "stddev_over_time stdvar_over_time last_over_time present_over_time mad_over_time acos",
        "acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg rad pi",
    ]
        .join(" ")
        .split(" "),
);

/**
 * The metric names a PromQL expression selects, in order of appearance without repeats: every
 * identifier ([a-zA-Z_:][a-zA-Z0-9_:]*) outside strings, label matchers `{...}`, ranges `[...]`,
 * grouping lists (`by (...)`, `on (...)`, ...) and Grafana variables (`$name`), that is not a
 * function call and not a PromQL keyword or function. Enough for this dashboard's queries; not a
 * full PromQL parser.
 */
export function exprMetricNames(expr: string): string[] {
    const stripped = expr
        .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
        .replace(/\$\{[^}]*\}|\$\w+/g, " ")
        .replace(/\{[^}]*\}/g, "{}")
        .replace(/\[[^\]]*\]/g, "[]")
        .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, "$1 ");
    const names: string[] = [];
    for (const match of stripped.matchAll(/(?<![\w:.$])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()/g)) {
        const name = match[0];
        if (!PROMQL_WORDS.has(name.toLowerCase()) && !names.includes(name)) {
            names.push(name);
        }
    }
    return names;
}

/** Every metric name the dashboard's queries select, sorted, without repeats. */
export function dashboardMetricNames(dashboard: GrafanaDashboard): string[] {
    const names = new Set(
        dashboard.panels.flatMap((p) =>
            p.targets.flatMap((target) => exprMetricNames(target.expr)),
        ),
    );
    return [...names].sort();
}
