/**
 * Licode's alerting rules, as a PrometheusRule's groups. Readiness comes from kube-state-metrics
 * (Licode has no gauge for it); calls and rooms from ROV's gauges (metric-names.ts); the broker's
 * memory alarm from RabbitMQ's own Prometheus plugin; calls cut by a drain from the drains'
 * figures at the broker (drain-metrics.ts). Each alert's meaning and first step are in
 * the README's Monitoring section, under the alert's name.
 */
import { drainQuery } from "./drain-metrics";
import { ROV_PREFIX } from "./metric-names";

/** One alerting rule in the Prometheus Operator's shape. */
export interface AlertRule {
    readonly alert: string;
    readonly expr: string;
    readonly for: string;
    readonly labels: { readonly severity: "critical" | "warning" };
    readonly annotations: {
        readonly summary: string;
        readonly description: string;
        /** Where the first step is written down. */
        readonly runbook: string;
    };
}

/** What the rules need to know about the deployment. */
export interface AlertOptions {
    /** The namespace every Licode object lives in. */
    readonly namespace: string;
    /** Object names: the Deployments, the media DaemonSets, the StatefulSets and ROV's Service. */
    readonly nuveDeployment: string;
    readonly erizoControllerDeployment: string;
    readonly mediaDaemonSets: readonly string[];
    /** MongoDB's StatefulSet, or undefined when the stack uses an external database. */
    readonly mongodbStatefulSet?: string;
    readonly rovService: string;
    /** ROV's metric prefix. Defaults to `licode_`. */
    readonly prefix?: string;
    /** Seconds per ROV round: failed connections are counted per round (erizoJSController.js 566-620). */
    readonly statsPeriodSeconds: number;
    /** Fire when more connections than this failed per round, on average over 15 minutes. */
    readonly failedConnectionsPerPeriod: number;
    /** Licode's limit_n_rooms per controller. */
    readonly roomLimit: number;
    /** Fire when rooms per Ready controller exceed this fraction of roomLimit. */
    readonly roomsPerControllerRatio: number;
    /** The TURN tier, when the stack runs one. */
    readonly turn?: TurnAlertOptions;
}

/** What the TURN rules need. */
export interface TurnAlertOptions {
    /** The DaemonSet (host network) or Deployment (LoadBalancer) running coturn. */
    readonly workload: string;
    readonly kind: "daemonset" | "deployment";
    /** Whether coturn's Prometheus endpoint is scraped (the allocation rules need it). */
    readonly metrics: boolean;
    /** coturn's total-quota: allocations per server beyond it fail. */
    readonly totalQuota: number;
}

/** The README section holding every runbook line. */
export const RUNBOOK = "README.md#alerts-and-first-steps";

/** Matches a list of names exactly, as a PromQL regex. */
function anyOf(names: readonly string[]): string {
    return names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&")).join("|");
}

/** Licode's alerting rules for one deployment. */
export function licodeAlertRules(options: AlertOptions): AlertRule[] {
    const ns = `namespace="${options.namespace}"`;
    const prefix = options.prefix ?? ROV_PREFIX;
    const rule = (
        alert: string,
        expr: string,
        forDuration: string,
        severity: "critical" | "warning",
        summary: string,
        description: string,
    ): AlertRule => ({
        alert,
        expr,
        for: forDuration,
        labels: { severity },
        annotations: { summary, description, runbook: `${RUNBOOK} (${alert})` },
    });
    const roomThreshold = options.roomLimit * options.roomsPerControllerRatio;
    const rules: AlertRule[] = [
        rule(
            "LicodeNoReadyErizoController",
            `kube_deployment_status_replicas_available{${ns},deployment="${options.erizoControllerDeployment}"} < 1`,
            "2m",
            "critical",
            "No ErizoController is Ready: no client can join a room",
            "kube-state-metrics reports no available replica of {{ $labels.deployment }} in {{ $labels.namespace }}.",
        ),
        rule(
            "LicodeMediaPoolWithoutReadyAgent",
            `kube_daemonset_status_number_ready{${ns},daemonset=~"${anyOf(options.mediaDaemonSets)}"} < 1`,
            "5m",
            "critical",
            "Media pool {{ $labels.daemonset }} has no Ready ErizoAgent",
            "No ErizoAgent of {{ $labels.daemonset }} is Ready, so rooms that need this pool get no media.",
        ),
        rule(
            "LicodeNuveDown",
            `kube_deployment_status_replicas_available{${ns},deployment="${options.nuveDeployment}"} < 1`,
            "2m",
            "critical",
            "Nuve is down: rooms and tokens cannot be created",
            "kube-state-metrics reports no available replica of {{ $labels.deployment }}; ErizoControllers also lose their keepalive target.",
        ),
        rule(
            "LicodeRabbitMqMemoryAlarm",
            `max by (namespace) (rabbitmq_alarms_memory_used_watermark{${ns}}) > 0`,
            "1m",
            "critical",
            "RabbitMQ's memory alarm is on: publishers are blocked",
            "The broker crossed its memory high watermark and blocks every publishing connection, so Licode's RPCs stall until it drops below.",
        ),
        ...(options.mongodbStatefulSet === undefined
            ? []
            : [
                  rule(
                      "LicodeMongoDbDown",
                      `kube_statefulset_status_replicas_ready{${ns},statefulset="${options.mongodbStatefulSet}"} < 1`,
                      "2m",
                      "critical",
                      "MongoDB is down: Nuve cannot read or write rooms",
                      "kube-state-metrics reports no Ready replica of {{ $labels.statefulset }}.",
                  ),
              ]),
        rule(
            "LicodeConnectionsFailing",
            `max by (namespace) (avg_over_time(${prefix}total_connections_failed{${ns}}[15m])) > ${options.failedConnectionsPerPeriod}`,
            "5m",
            "warning",
            "WebRTC connections are failing",
            `On average more than ${options.failedConnectionsPerPeriod} connections failed per ${options.statsPeriodSeconds} s round over the last 15 minutes (ROV's count across every ErizoJS).`,
        ),
        rule(
            "LicodeRoomsNearControllerLimit",
            `max by (namespace) (${prefix}active_rooms{${ns}}) / scalar(sum(kube_deployment_status_replicas_available{${ns},deployment="${options.erizoControllerDeployment}"})) > ${roomThreshold}`,
            "10m",
            "warning",
            "ErizoControllers are near their room limit",
            `Rooms per Ready ErizoController average above ${roomThreshold} (${Math.round(options.roomsPerControllerRatio * 100)}% of limit_n_rooms ${options.roomLimit}). ROV counts rooms over all controllers, so one controller may be fuller than the average.`,
        ),
        rule(
            "LicodeDrainCutCalls",
            `max by (namespace, queue) (delta(${drainQuery("cut", undefined, `{${ns}}`)}[15m])) > 0`,
            "0m",
            "warning",
            "A drain ({{ $labels.queue }}) reached its deadline with calls in progress and cut them",
            "A preStop drain ended at the end of its grace period while clients or media sessions were still there (messages of the broker's licode-drain.cut queue); the pod's log says how many and why it was stopped.",
        ),
        rule(
            "LicodeMetricsDown",
            `absent(up{${ns},service="${options.rovService}"} == 1)`,
            "10m",
            "warning",
            "ROV is not scraped: Licode's call and room alerts are blind",
            "No successful scrape of ROV's /metrics: the exporter is down, cannot reach RabbitMQ, or Prometheus cannot reach it.",
        ),
    ];
    return options.turn === undefined ? rules : [...rules, ...turnRules(options.turn, ns, rule)];
}

/**
 * TURN: no Ready coturn (kube-state-metrics), and, from coturn's endpoint, challenges without any
 * allocation (coturn counts no failed allocation itself; a client that keeps getting 401 without
 * ever holding an allocation is what a rejected credential or a refused allocation looks like)
 * and allocations near the quota, past which they fail.
 */
function turnRules(
    turn: TurnAlertOptions,
    ns: string,
    rule: (
        alert: string,
        expr: string,
        forDuration: string,
        severity: "critical" | "warning",
        summary: string,
        description: string,
    ) => AlertRule,
): AlertRule[] {
    const ready =
        turn.kind === "daemonset"
            ? `kube_daemonset_status_number_ready{${ns},daemonset="${turn.workload}"}`
            : `kube_deployment_status_replicas_available{${ns},deployment="${turn.workload}"}`;
    const threshold = Math.floor(turn.totalQuota * 0.9);
    return [
        rule(
            "LicodeTurnDown",
            `${ready} < 1`,
            "5m",
            "critical",
            "No TURN server is Ready: clients behind strict firewalls cannot connect",
            `No coturn pod of ${turn.workload} is Ready; clients that reach media only through TURN (TCP or TLS on 443) fail to connect.`,
        ),
        ...(turn.metrics
            ? [
                  rule(
                      "LicodeTurnAllocationsFailing",
                      `sum by (namespace) (rate(turn_unauthenticated_401_responses{${ns}}[10m])) > 0.05 unless sum by (namespace) (turn_total_allocations{${ns}}) > 0`,
                      "15m",
                      "warning",
                      "TURN challenges clients but holds no allocation",
                      "coturn keeps answering 401 while no allocation exists: clients' credentials are rejected (a rotated password that licode_config.js does not carry yet) or allocations are refused.",
                  ),
                  rule(
                      "LicodeTurnNearQuota",
                      `sum by (namespace, instance) (turn_total_allocations{${ns}}) > ${threshold}`,
                      "10m",
                      "warning",
                      "A TURN server is near its allocation quota",
                      `{{ $labels.instance }} holds more than ${threshold} allocations (90% of turn.totalQuota ${turn.totalQuota}); past the quota new allocations fail.`,
                  ),
              ]
            : []),
    ];
}
