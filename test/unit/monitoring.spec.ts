/**
 * Metrics: ROV as its own tier, the broker's Prometheus port, and the scraping, alerting and
 * dashboard objects, for every switch of `licode:metrics`.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as vm from "vm";
import { LICODE, RABBITMQ } from "../../components/images";
import { ROOMS_PER_CONTROLLER, log4jsPath } from "../../components/licode-config-file";
import { AlertOptions, RUNBOOK, licodeAlertRules } from "../../components/monitoring/alerts";
import { ApiDiscovery } from "../../components/monitoring/api-discovery";
import { GRAFANA_DASHBOARD_LABEL } from "../../components/monitoring/monitoring";
import { planMonitoring } from "../../components/monitoring/plan";
import { ROV_METRICS } from "../../components/rov";
import { ConfigError, ConfigProblem, parseStackConfig } from "../../components/config";
import { ProgramRun, StackResource, runProgram, stackConfig } from "../harness/program";

const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const kindOf = (r: StackResource) => r.type.split(":").pop() ?? "";
const find = (run: ProgramRun, kind: string, name: string) => {
    const found = run.resources.find((r) => kindOf(r) === kind && r.name === name);
    assert.ok(found, `no ${kind} ${name}`);
    return found;
};
const ofType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);

function withMetrics(stack: string, metrics: Record<string, unknown>): Record<string, unknown> {
    const base = stackConfig(stack);
    return { ...base, metrics: { ...(base.metrics as object), ...metrics } };
}

/** Evaluates a rendered licode_config.js as node's `require` would. */
function evaluate(source: string): any {
    const module = { exports: {} as any };
    vm.runInNewContext(source, { module, process: { env: {} } });
    return module.exports;
}

function problems(raw: Record<string, unknown>): readonly ConfigProblem[] {
    try {
        parseStackConfig(raw);
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        return error.problems;
    }
    assert.fail("the config was accepted");
}

describe("metrics off (dev)", () => {
    let dev: ProgramRun;
    before(async () => {
        dev = await runProgram("dev", stackConfig("dev"));
    });

    it("deploys no ROV, no monitoring object, and leaves the broker's ports as they were", () => {
        assert.deepStrictEqual(
            dev.resources.filter((r) => /rov|monitoring/.test(r.name)).map((r) => r.name),
            [],
        );
        assert.strictEqual(ofType(dev, SERVICE_MONITOR).length, 0);
        const service = find(dev, "Service", "rabbitmq").props;
        assert.deepStrictEqual(
            service.spec.ports.map((p: any) => p.name),
            ["amqp", "management"],
        );
        assert.strictEqual(service.metadata.annotations, undefined);
        const broker = find(dev, "StatefulSet", "rabbitmq").props.spec.template.spec;
        assert.deepStrictEqual(
            broker.containers[0].ports.map((p: any) => p.name),
            ["amqp", "management"],
        );
        assert.strictEqual(find(dev, "NetworkPolicy", "rabbitmq").props.spec.ingress.length, 1);
    });
});

describe("metrics on, with the Prometheus Operator (prod, serviceMonitor and prometheusRule true)", () => {
    let prod: ProgramRun;
    before(async () => {
        prod = await runProgram(
            "prod",
            withMetrics("prod", { serviceMonitor: true, prometheusRule: true }),
        );
    });

    it("runs ROV from the Licode image with its own config, probed on /metrics", () => {
        const deployment = find(prod, "Deployment", "rov").props;
        assert.strictEqual(deployment.spec.replicas, 1);
        const spec = deployment.spec.template.spec;
        const [rov] = spec.containers;
        assert.strictEqual(rov.image, "lynckia/licode:v10");
        assert.strictEqual(rov.workingDir, LICODE.rov.workingDir);
        assert.deepStrictEqual(rov.ports, [{ name: "metrics", containerPort: 3005 }]);
        for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
            assert.deepStrictEqual(rov[probe].httpGet, { path: "/metrics", port: "metrics" });
        }
        assert.deepStrictEqual(
            rov.volumeMounts.map((m: any) => m.mountPath),
            [LICODE.configFile, log4jsPath(LICODE.installDir)],
        );
        assert.deepStrictEqual(rov.resources, {
            requests: { cpu: "50m", memory: "96Mi", "ephemeral-storage": "16Mi" },
            limits: { cpu: "250m", memory: "256Mi", "ephemeral-storage": "64Mi" },
        });
        // It waits for the broker: ROV exits at any AMQP connection error.
        assert.match(spec.initContainers[0].command[2], /dev\/tcp\/.*licode-rabbitmq.*\/5672/);
        assert.strictEqual(spec.automountServiceAccountToken, false);
    });

    it("renders ROV's config with the stack's period, the broker URL and its own logger", () => {
        const secret = prod.resources.find(
            (r) => kindOf(r) === "Secret" && r.name === "rov-config",
        );
        assert.ok(secret);
        const config = evaluate(secret.props.stringData["licode_config.js"]);
        assert.deepStrictEqual(JSON.parse(JSON.stringify(config.rov)), {
            statsPeriod: 20000,
            serverPort: ROV_METRICS.port,
            statsPrefix: "licode_",
        });
        assert.match(
            config.rabbit.url,
            /^amqp:\/\/licode:[^@]+@licode-rabbitmq\.licode\.svc:5672$/,
        );
        assert.strictEqual(config.logger.configFile, log4jsPath(LICODE.installDir));
        assert.strictEqual(config.cloudProvider.name, "");
        assert.match(secret.props.stringData["log4js_configuration.json"], /"level": "INFO"/);
        // The pod rolls when its config changes.
        const annotations = find(prod, "Deployment", "rov").props.spec.template.metadata
            .annotations;
        assert.match(annotations["checksum/rov-config"], /^[0-9a-f]{64}$/);
    });

    it("lets only the scraper reach ROV, and ROV reach only DNS and RabbitMQ", () => {
        const policy = find(prod, "NetworkPolicy", "rov").props.spec;
        assert.deepStrictEqual(policy.ingress, [
            {
                from: [
                    {
                        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
                        namespaceSelector: {
                            matchLabels: { "kubernetes.io/metadata.name": "monitoring" },
                        },
                    },
                ],
                ports: [{ protocol: "TCP", port: 3005 }],
            },
        ]);
        assert.deepStrictEqual(
            policy.egress.map((rule: any) => rule.ports.map((p: any) => p.port)),
            [[53, 53], [RABBITMQ.amqpPort]],
        );
        assert.deepStrictEqual(policy.egress[1].to, [
            {
                podSelector: {
                    matchLabels: {
                        "app.kubernetes.io/name": "rabbitmq",
                        "app.kubernetes.io/instance": "licode-prod",
                    },
                },
            },
        ]);
    });

    it("serves the broker's Prometheus port to the scraper only", () => {
        const service = find(prod, "Service", "rabbitmq").props;
        assert.deepStrictEqual(service.spec.ports[2], {
            name: "prometheus",
            port: RABBITMQ.prometheusPort,
            targetPort: "prometheus",
        });
        // The headless twin has no such port, so the ServiceMonitor's port name skips it.
        const headless = find(prod, "Service", "rabbitmq-headless").props;
        assert.ok(headless.spec.ports.every((p: any) => p.name !== "prometheus"));
        const ingress = find(prod, "NetworkPolicy", "rabbitmq").props.spec.ingress;
        assert.strictEqual(ingress.length, 2);
        assert.deepStrictEqual(ingress[1].ports, [
            { protocol: "TCP", port: RABBITMQ.prometheusPort },
        ]);
        assert.deepStrictEqual(ingress[1].from[0].podSelector.matchLabels, {
            "app.kubernetes.io/name": "prometheus",
        });
        assert.ok(
            !ingress[0].ports.some((p: any) => p.port === RABBITMQ.prometheusPort),
            "Licode's own pods do not need the metrics port",
        );
    });

    it("creates a ServiceMonitor per target with the stack's labels, and no annotations", () => {
        const monitors = ofType(prod, SERVICE_MONITOR);
        assert.deepStrictEqual(monitors.map((m) => m.name).sort(), [
            "monitoring-rabbitmq",
            "monitoring-rov",
            "monitoring-turn",
        ]);
        for (const monitor of monitors) {
            assert.strictEqual(monitor.props.metadata.labels.release, "kube-prometheus-stack");
            assert.strictEqual(monitor.props.metadata.namespace, "licode");
            assert.strictEqual(monitor.props.spec.endpoints[0].interval, "30s");
        }
        const rov = monitors.find((m) => m.name === "monitoring-rov")?.props.spec;
        assert.deepStrictEqual(rov.selector.matchLabels, {
            "app.kubernetes.io/name": "rov",
            "app.kubernetes.io/instance": "licode-prod",
        });
        assert.deepStrictEqual(rov.endpoints[0].port, "metrics");
        const rabbit = monitors.find((m) => m.name === "monitoring-rabbitmq")?.props.spec;
        assert.deepStrictEqual(rabbit.endpoints[0].port, "prometheus");
        // coturn's endpoint, through its headless metrics Service only (not a LoadBalancer).
        const turn = monitors.find((m) => m.name === "monitoring-turn")?.props.spec;
        assert.deepStrictEqual(turn.endpoints[0].port, "metrics");
        const selected = ofType(prod, "kubernetes:core/v1:Service").filter((service) =>
            Object.entries(turn.selector.matchLabels).every(
                ([key, value]) => service.props.metadata.labels?.[key] === value,
            ),
        );
        assert.deepStrictEqual(
            selected.map((service) => service.name),
            ["turn-metrics"],
        );
        for (const name of ["rov", "rabbitmq", "turn-metrics"]) {
            assert.strictEqual(find(prod, "Service", name).props.metadata.annotations, undefined);
        }
    });

    it("creates the alerting rules, with the deployment's object names", () => {
        const [rule] = ofType(prod, PROMETHEUS_RULE);
        const rules: any[] = rule.props.spec.groups[0].rules;
        assert.deepStrictEqual(
            rules.map((r) => r.alert),
            [
                "LicodeNoReadyErizoController",
                "LicodeMediaPoolWithoutReadyAgent",
                "LicodeNuveDown",
                "LicodeRabbitMqMemoryAlarm",
                "LicodeMongoDbDown",
                "LicodeConnectionsFailing",
                "LicodeRoomsNearControllerLimit",
                "LicodeDrainCutCalls",
                "LicodeMetricsDown",
                "LicodeTurnDown",
                "LicodeTurnAllocationsFailing",
                "LicodeTurnNearQuota",
            ],
        );
        const expr = (name: string) => rules.find((r) => r.alert === name).expr;
        assert.match(
            expr("LicodeMediaPoolWithoutReadyAgent"),
            /daemonset=~"licode-erizo-agent-primary\|licode-erizo-agent-overflow"/,
        );
        assert.match(expr("LicodeNuveDown"), /namespace="licode",deployment="licode-nuve"/);
        assert.match(expr("LicodeMongoDbDown"), /statefulset="licode-mongodb"/);
        assert.match(expr("LicodeRoomsNearControllerLimit"), / > 16$/);
        assert.match(expr("LicodeMetricsDown"), /service="licode-rov"/);
    });

    it("ships the dashboard as a ConfigMap Grafana's sidecar loads", () => {
        const configMap = find(prod, "ConfigMap", "monitoring-dashboard").props;
        assert.strictEqual(
            configMap.metadata.labels.grafana_dashboard,
            GRAFANA_DASHBOARD_LABEL.grafana_dashboard,
        );
        const dashboard = JSON.parse(configMap.data["licode.json"]);
        assert.strictEqual(dashboard.uid, "licode-prod");
        assert.ok(dashboard.panels.length > 5);
    });
});

describe("metrics on, without the Prometheus Operator", () => {
    for (const [label, metrics] of [
        [
            "serviceMonitor and prometheusRule false",
            { serviceMonitor: false, prometheusRule: false },
        ],
        ["auto, and no cluster to ask", {}],
    ] as const) {
        it(`${label}: annotations instead of ServiceMonitors, and no rules`, async () => {
            const run = await runProgram("prod", withMetrics("prod", metrics));
            assert.strictEqual(ofType(run, SERVICE_MONITOR).length, 0);
            assert.strictEqual(ofType(run, PROMETHEUS_RULE).length, 0);
            assert.deepStrictEqual(find(run, "Service", "rov").props.metadata.annotations, {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "3005",
                "prometheus.io/path": "/metrics",
            });
            assert.deepStrictEqual(find(run, "Service", "rabbitmq").props.metadata.annotations, {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "15692",
                "prometheus.io/path": "/metrics",
            });
            // The dashboard does not depend on the operator.
            find(run, "ConfigMap", "monitoring-dashboard");
        });
    }

    describe("with the dashboard off, no NetworkPolicies and an external MongoDB", () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram("prod", {
                ...withMetrics("prod", { dashboard: false, prometheusRule: true }),
                networkPolicy: { enabled: false },
                storage: { kind: "external", url: "mongodb://db.example.com:27017/nuvedb" },
            });
        });

        it("leaves the dashboard out", () => {
            assert.ok(!run.resources.some((r) => r.name === "monitoring-dashboard"));
            find(run, "Deployment", "rov");
        });

        it("isolates nothing", () => {
            assert.ok(!run.resources.some((r) => kindOf(r) === "NetworkPolicy"));
        });

        it("has no MongoDB alert", () => {
            const [rule] = ofType(run, PROMETHEUS_RULE);
            const names = rule.props.spec.groups[0].rules.map((r: any) => r.alert);
            assert.ok(!names.includes("LicodeMongoDbDown"));
            assert.ok(names.includes("LicodeNuveDown"));
        });
    });
});

describe("planMonitoring", () => {
    const served: ApiDiscovery = {
        status: "served",
        kinds: new Set(["ServiceMonitor", "PrometheusRule", "PodMonitor"]),
        server: "https://k8s",
    };
    const once = (answer: ApiDiscovery) => {
        let calls = 0;
        return {
            discover: () => {
                calls++;
                return answer;
            },
            calls: () => calls,
        };
    };

    it("does not ask the cluster when no switch is auto", () => {
        const asked = once(served);
        const plan = planMonitoring(
            { serviceMonitor: true, prometheusRule: false },
            asked.discover,
            false,
        );
        assert.deepStrictEqual(plan, {
            serviceMonitors: true,
            prometheusRule: false,
            warnings: [],
        });
        assert.strictEqual(asked.calls(), 0);
    });

    it("asks once, and creates what the cluster serves", () => {
        const asked = once({ ...served, kinds: new Set(["ServiceMonitor"]) });
        const plan = planMonitoring(
            { serviceMonitor: "auto", prometheusRule: "auto" },
            asked.discover,
            false,
        );
        assert.deepStrictEqual(plan, {
            serviceMonitors: true,
            prometheusRule: false,
            warnings: [],
        });
        assert.strictEqual(asked.calls(), 1);
    });

    it("falls back quietly when the group is absent, and says why when it cannot tell", () => {
        const absent = planMonitoring(
            { serviceMonitor: "auto", prometheusRule: "auto" },
            () => ({ status: "absent", server: "https://k8s" }),
            false,
        );
        assert.deepStrictEqual(absent, {
            serviceMonitors: false,
            prometheusRule: false,
            warnings: [],
        });
        const unknown = planMonitoring(
            { serviceMonitor: "auto", prometheusRule: true },
            () => ({ status: "unknown", reason: "connection refused" }),
            false,
        );
        assert.strictEqual(unknown.serviceMonitors, false);
        assert.strictEqual(unknown.prometheusRule, true);
        assert.strictEqual(unknown.warnings.length, 1);
        assert.match(unknown.warnings[0], /licode:metrics\.serviceMonitor is auto/);
        assert.match(unknown.warnings[0], /connection refused/);
        assert.match(unknown.warnings[0], /to true or false/);
    });

    it("never asks in render mode", () => {
        const asked = once(served);
        const plan = planMonitoring(
            { serviceMonitor: "auto", prometheusRule: "auto" },
            asked.discover,
            true,
        );
        assert.strictEqual(asked.calls(), 0);
        assert.strictEqual(plan.serviceMonitors, false);
        assert.match(plan.warnings[0], /render mode/);
    });
});

describe("licodeAlertRules", () => {
    const options: AlertOptions = {
        namespace: "licode",
        nuveDeployment: "licode-nuve",
        erizoControllerDeployment: "licode-erizo-controller",
        mediaDaemonSets: ["licode-erizo-agent-default"],
        mongodbStatefulSet: "licode-mongodb",
        rovService: "licode-rov",
        statsPeriodSeconds: 20,
        failedConnectionsPerPeriod: 5,
        roomLimit: ROOMS_PER_CONTROLLER.limit,
        roomsPerControllerRatio: 0.8,
    };

    it("scopes every expression to the namespace, and points every alert at its runbook", () => {
        for (const rule of licodeAlertRules(options)) {
            assert.match(rule.expr, /namespace="licode"/, rule.alert);
            assert.ok(rule.annotations.runbook.startsWith(RUNBOOK), rule.alert);
            assert.match(rule.for, /^\d+m$/);
        }
    });

    it("uses ROV's prefix and the thresholds it is given", () => {
        const rules = licodeAlertRules({
            ...options,
            prefix: "lic_",
            failedConnectionsPerPeriod: 2,
            roomsPerControllerRatio: 0.5,
        });
        const expr = (name: string) => rules.find((r) => r.alert === name)?.expr ?? "";
        assert.match(
            expr("LicodeConnectionsFailing"),
            /lic_total_connections_failed\{.*\}\[15m\]\)\) > 2$/,
        );
        assert.match(
            expr("LicodeRoomsNearControllerLimit"),
            /^max by \(namespace\) \(lic_active_rooms/,
        );
        assert.match(expr("LicodeRoomsNearControllerLimit"), / > 10$/);
    });

    it("has a runbook entry in the README for every alert", () => {
        const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
        assert.match(readme, /^### Alerts and first steps$/m);
        for (const rule of licodeAlertRules(options)) {
            assert.match(readme, new RegExp(`^\\| \`${rule.alert}\` \\|`, "m"), rule.alert);
        }
    });
});

describe("licode:metrics validation", () => {
    const base = { networkPolicy: { enabled: false } };

    it("defaults to off, every 20 s, auto, with Prometheus's pods as the scraper", () => {
        const { metrics } = parseStackConfig(base);
        assert.strictEqual(metrics.enabled, false);
        assert.strictEqual(metrics.statsPeriod, LICODE.rov.defaults.statsPeriodMs / 1000);
        assert.strictEqual(metrics.serviceMonitor, "auto");
        assert.strictEqual(metrics.prometheusRule, "auto");
        assert.deepStrictEqual(metrics.scraper.podLabels, {
            "app.kubernetes.io/name": "prometheus",
        });
        assert.strictEqual(metrics.image.repository, "lynckia/licode");
    });

    it("refuses milliseconds for statsPeriod, naming the unit", () => {
        const [problem] = problems({ ...base, metrics: { enabled: true, statsPeriod: 20000 } });
        assert.strictEqual(problem.key, "licode:metrics.statsPeriod");
        assert.match(problem.message, /seconds/);
    });

    it("refuses a switch that is neither auto nor a boolean", () => {
        const [problem] = problems({ ...base, metrics: { enabled: true, serviceMonitor: "yes" } });
        assert.strictEqual(problem.key, "licode:metrics.serviceMonitor");
        assert.match(problem.message, /"auto".*true or false/);
    });

    it("refuses operator objects for metrics that are off", () => {
        const [problem] = problems({ ...base, metrics: { serviceMonitor: true } });
        assert.strictEqual(problem.key, "licode:metrics.enabled");
    });

    it("refuses an empty scraper selector, which would admit every pod", () => {
        const [problem] = problems({
            ...base,
            metrics: { enabled: true, scraper: { podLabels: {} } },
        });
        assert.strictEqual(problem.key, "licode:metrics.scraper.podLabels");
    });

    it("refuses a scrape interval Prometheus would not parse", () => {
        const [problem] = problems({ ...base, metrics: { enabled: true, scrapeInterval: "30" } });
        assert.strictEqual(problem.key, "licode:metrics.scrapeInterval");
    });
});
