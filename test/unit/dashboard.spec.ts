import { strict as assert } from "assert";
import {
    GrafanaDashboard,
    GrafanaPanel,
    dashboardMetricNames,
    exprMetricNames,
    licodeDashboard,
} from "../../components/monitoring/dashboard";
import {
    PERFORMANCE_MEASURES,
    PERFORMANCE_STATS,
    PROM_CLIENT_DEFAULT_METRICS,
    RABBITMQ_DETAILED_METRICS,
    RABBITMQ_METRICS,
    ROV_GAUGES,
    ROV_PERFORMANCE_GAUGES,
    rovMetricNames,
} from "../../components/monitoring/metric-names";

const OPTIONS = {
    uid: "licode-dev",
    namespace: "licode-dev",
    roomLimitPerController: 20,
    erizoControllers: 2,
};

/** The names of a dashboard's queries that neither ROV (with this prefix) nor RabbitMQ exports. */
function unknownMetricNames(dashboard: GrafanaDashboard, prefix?: string): string[] {
    const known = new Set<string>([
        ...rovMetricNames(prefix),
        ...RABBITMQ_METRICS,
        ...RABBITMQ_DETAILED_METRICS,
    ]);
    return dashboardMetricNames(dashboard).filter((name) => !known.has(name));
}

/** The dashboard with one panel's first query replaced. */
function withExpr(dashboard: GrafanaDashboard, panelIndex: number, expr: string): GrafanaDashboard {
    const panels = dashboard.panels.map((panel, index): GrafanaPanel =>
        index === panelIndex
            ? { ...panel, targets: [{ ...panel.targets[0], expr }, ...panel.targets.slice(1)] }
            : panel,
    );
    return { ...dashboard, panels };
}

describe("licodeDashboard", () => {
    const dashboard = licodeDashboard(OPTIONS);

    it("round-trips through JSON unchanged", () => {
        assert.deepEqual(JSON.parse(JSON.stringify(dashboard)), dashboard);
    });

    it("gives every panel a unique id, a title, a description, a place and a query", () => {
        const ids = dashboard.panels.map((panel) => panel.id);
        assert.equal(new Set(ids).size, ids.length, `repeated ids: ${ids}`);
        for (const panel of dashboard.panels) {
            assert.ok(panel.title.trim().length > 0, `panel ${panel.id} has no title`);
            assert.ok(panel.description.trim().length > 0, `${panel.title} has no description`);
            assert.ok(
                !panel.description.includes("\n"),
                `${panel.title}: description not one line`,
            );
            assert.ok(panel.targets.length > 0, `${panel.title} has no query`);
            for (const key of ["x", "y", "w", "h"] as const) {
                assert.ok(Number.isInteger(panel.gridPos[key]), `${panel.title}: gridPos.${key}`);
            }
            for (const target of panel.targets) {
                assert.ok(target.expr.length > 0 && target.legendFormat.length > 0, panel.title);
            }
            const refIds = panel.targets.map((target) => target.refId);
            assert.equal(new Set(refIds).size, refIds.length, `${panel.title}: repeated refIds`);
        }
    });

    it("lays the panels on the 24-column grid without overlaps", () => {
        const cells = new Set<string>();
        for (const { title, gridPos } of dashboard.panels) {
            assert.ok(gridPos.x >= 0 && gridPos.x + gridPos.w <= 24, `${title} leaves the grid`);
            for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
                for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
                    assert.ok(
                        !cells.has(`${x},${y}`),
                        `${title} overlaps another panel at ${x},${y}`,
                    );
                    cells.add(`${x},${y}`);
                }
            }
        }
    });

    it("queries only metrics ROV and RabbitMQ export", () => {
        assert.deepEqual(unknownMetricNames(dashboard), []);
    });

    it("would catch a misspelt metric name", () => {
        const index = dashboard.panels.findIndex((panel) =>
            panel.targets[0].expr.includes("licode_active_rooms"),
        );
        const expr = dashboard.panels[index].targets[0].expr.replace("active_rooms", "active_room");
        assert.deepEqual(unknownMetricNames(withExpr(dashboard, index, expr)), [
            "licode_active_room",
        ]);
        const rabbit = withExpr(
            dashboard,
            index,
            'sum(rabbitmq_queue_message_ready{namespace="x"})',
        );
        assert.deepEqual(unknownMetricNames(rabbit), ["rabbitmq_queue_message_ready"]);
    });

    it("selects every query by the namespace variable, defaulting to the stack's namespace", () => {
        for (const panel of dashboard.panels) {
            for (const target of panel.targets) {
                assert.match(target.expr, /\{namespace="\$namespace"(,[^}]*)?\}/, panel.title);
            }
        }
        const namespace = dashboard.templating.list.find(
            (variable) => variable.name === "namespace",
        );
        assert.equal(namespace?.type, "custom");
        assert.equal(namespace?.current.value, "licode-dev");
        const datasource = dashboard.templating.list.find((v) => v.name === "datasource");
        assert.deepEqual([datasource?.type, datasource?.query], ["datasource", "prometheus"]);
        for (const panel of dashboard.panels) {
            assert.equal(panel.datasource.uid, "${datasource}", panel.title);
        }
    });

    it("renames every ROV metric with the prefix option, and no RabbitMQ metric", () => {
        const renamed = licodeDashboard({ ...OPTIONS, prefix: "rov_" });
        const names = dashboardMetricNames(renamed);
        assert.deepEqual(unknownMetricNames(renamed, "rov_"), []);
        assert.deepEqual(
            names.filter((name) => name.startsWith("licode_")),
            [],
        );
        assert.deepEqual(
            names,
            dashboardMetricNames(dashboard)
                .map((name) => name.replace(/^licode_/, "rov_"))
                .sort(),
        );
        assert.deepEqual(
            unknownMetricNames(renamed),
            names.filter((n) => n.startsWith("rov_")),
        );
    });

    it("draws limit_n_rooms as a line on the rooms-per-controller panel", () => {
        const panel = dashboard.panels.find((p) => p.title === "Rooms per ErizoController");
        assert.ok(panel);
        assert.equal(
            panel.targets[0].expr,
            'max(licode_active_rooms{namespace="$namespace"}) / $controllers',
        );
        assert.deepEqual(panel.fieldConfig.defaults.thresholds.steps, [
            { color: "green", value: null },
            { color: "red", value: 20 },
        ]);
        assert.deepEqual(panel.fieldConfig.defaults.custom?.thresholdsStyle, { mode: "line" });
        const controllers = dashboard.templating.list.find((v) => v.name === "controllers");
        assert.equal(controllers?.current.value, "2");
    });

    it("stacks the five buckets of each distribution", () => {
        for (const family of ["task_duration", "task_delay", "stream_promise_duration"]) {
            const panel = dashboard.panels.find((p) =>
                p.targets.some((t) => t.expr.includes(`licode_${family}_`)),
            );
            assert.ok(panel, family);
            assert.deepEqual(
                panel.targets.flatMap((t) => exprMetricNames(t.expr)),
                ["0_to_10_ms", "10_to_50_ms", "50_to_100_ms", "100_to_1000_ms", "1000_ms"].map(
                    (bucket) => `licode_${family}_${bucket}`,
                ),
            );
            assert.deepEqual(panel.fieldConfig.defaults.custom?.stacking, {
                mode: "normal",
                group: "A",
            });
        }
    });

    it("defaults the prefix, the title and the controller count", () => {
        const minimal = licodeDashboard({ uid: "u", namespace: "n", roomLimitPerController: 5 });
        assert.equal(minimal.title, "Licode");
        assert.ok(dashboardMetricNames(minimal).includes("licode_active_rooms"));
        const controllers = minimal.templating.list.find((v) => v.name === "controllers");
        assert.equal(controllers?.current.value, "1");
    });

    it("rejects options Grafana or Prometheus would not take", () => {
        assert.throws(
            () =>
                licodeDashboard({
                    uid: "x".repeat(41),
                    namespace: "Licode",
                    roomLimitPerController: 0,
                    erizoControllers: 1.5,
                    prefix: "9licode_",
                }),
            {
                message:
                    'invalid Licode dashboard options: uid "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" is not a Grafana uid: use 1-40 letters, digits, "-" or "_"; ' +
                    'namespace "Licode" is not a Kubernetes namespace name (DNS-1123 label); ' +
                    'prefix "9licode_" cannot start a Prometheus metric name: use letters, digits, "_" or ":", not starting with a digit; ' +
                    "roomLimitPerController must be a positive integer, not 0; " +
                    "erizoControllers must be a positive integer, not 1.5",
            },
        );
    });
});

describe("metric names", () => {
    it("lists the 49 gauges of rovMetricsGatherer.js 16-64 (Licode v10), once each", () => {
        // Lines 16-64 hold one `new promClient.Gauge` each: release_info (16) to
        // event_loop_lag_max_p99 (64).
        assert.equal(ROV_GAUGES.length, 49);
        assert.equal(new Set(ROV_GAUGES).size, 49);
        assert.equal(ROV_GAUGES[0], "release_info");
        assert.equal(ROV_GAUGES[48], "event_loop_lag_max_p99");
    });

    it("lists one performance gauge per measure and statistic (PerformanceStats.js 275-296)", () => {
        // PerformanceMeasures (99-174) holds 22 measures; StatMetrics (22) holds 4 statistics.
        assert.equal(PERFORMANCE_MEASURES.length, 22);
        assert.equal(PERFORMANCE_STATS.length, 4);
        assert.equal(ROV_PERFORMANCE_GAUGES.length, 88);
        assert.equal(new Set(ROV_PERFORMANCE_GAUGES).size, 88);
        assert.equal(ROV_PERFORMANCE_GAUGES[0], "subscribe_total_min");
        assert.equal(ROV_PERFORMANCE_GAUGES[87], "connection_negotiation_answer_send_stddev");
    });

    it("gives every name ROV exports once, with the prefix", () => {
        assert.equal(PROM_CLIENT_DEFAULT_METRICS.length, 19);
        const names = rovMetricNames();
        assert.equal(names.size, 49 + 88 + 19);
        assert.ok([...names].every((name) => name.startsWith("licode_")));
        assert.ok(names.has("licode_process_cpu_user_seconds_total"));
        assert.ok(names.has("licode_nodejs_eventloop_lag_seconds"));
        assert.ok(rovMetricNames("rov_").has("rov_active_rooms"));
        assert.ok(rovMetricNames("").has("active_rooms"));
    });

    it("names only rabbitmq_ metrics for RabbitMQ", () => {
        assert.ok(RABBITMQ_METRICS.every((name) => /^rabbitmq_[a-z_]+$/.test(name)));
        assert.equal(new Set(RABBITMQ_METRICS).size, RABBITMQ_METRICS.length);
    });
});

describe("exprMetricNames", () => {
    const cases: [string, string[]][] = [
        ["licode_active_rooms", ["licode_active_rooms"]],
        [
            'max(licode_active_rooms{namespace="$namespace"}) / $controllers',
            ["licode_active_rooms"],
        ],
        ['max by (commit, date, ip) (licode_release_info{namespace="n"})', ["licode_release_info"]],
        ["a/b", ["a", "b"]],
        ["a > bool 0.5e3 and on (instance) b unless c offset 5m", ["a", "b", "c"]],
        [
            'sum(rate(x_total{code=~"5..", job="sum(y)"}[$__rate_interval])) / sum(rate(x_total[5m]))',
            ["x_total"],
        ],
        ["rate (x[1m])", ["x"]],
        ["job:requests:rate5m", ["job:requests:rate5m"]],
        ["sum without (pod) (x) or vector(0)", ["x"]],
        ["SUM(x) BY (y)", ["x"]],
        ["clamp_max(x, 1)", ["x"]],
        ['label_replace(up, "dst", "$1", "src", "(.*)")', ["up"]],
        ["max(${prefix}x)", ["x"]],
        ["1 + 2 * Inf", []],
    ];
    for (const [expr, names] of cases) {
        it(`reads ${JSON.stringify(names)} from ${expr}`, () => {
            assert.deepEqual(exprMetricNames(expr), names);
        });
    }

    it("collects the names of every panel, sorted, once each", () => {
        const dashboard = licodeDashboard(OPTIONS);
        const names = dashboardMetricNames(dashboard);
        assert.deepEqual(names, [...new Set(names)].sort());
        const two = withExpr(withExpr(dashboard, 0, "b + a"), 1, "a");
        assert.deepEqual(dashboardMetricNames({ ...two, panels: two.panels.slice(0, 2) }), [
            "a",
            "b",
        ]);
    });
});
