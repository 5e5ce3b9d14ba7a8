/**
 * Which Prometheus Operator objects a deployment gets: `true` and `false` decide; `auto` asks the
 * cluster once whether it serves the CRD's API, and falls back to scrape annotations when it does
 * not or cannot tell.
 */
import type { ApiDiscovery } from "./api-discovery";

/** The API group and version whose kinds `auto` looks for. */
export const OPERATOR_GROUP = { group: "monitoring.coreos.com", version: "v1" } as const;

/** `metrics.serviceMonitor` and `metrics.prometheusRule` as the stack sets them. */
export interface OperatorSwitches {
    readonly serviceMonitor: "auto" | boolean;
    readonly prometheusRule: "auto" | boolean;
}

/** What to create, and what to tell the operator about how it was decided. */
export interface MonitoringPlan {
    readonly serviceMonitors: boolean;
    readonly prometheusRule: boolean;
    /** Why an `auto` switch fell back when the cluster could not say; empty otherwise. */
    readonly warnings: readonly string[];
}

/**
 * Resolves the switches. `discover` runs at most once, and only when a switch is `auto` outside
 * render mode (rendered YAML goes to a cluster the program cannot ask).
 */
export function planMonitoring(
    switches: OperatorSwitches,
    discover: () => ApiDiscovery,
    renderMode: boolean,
): MonitoringPlan {
    const autoKeys = (["serviceMonitor", "prometheusRule"] as const).filter(
        (key) => switches[key] === "auto",
    );
    if (autoKeys.length === 0) {
        return {
            serviceMonitors: switches.serviceMonitor === true,
            prometheusRule: switches.prometheusRule === true,
            warnings: [],
        };
    }
    const keys = autoKeys.map((key) => `licode:metrics.${key}`).join(" and ");
    let discovery: ApiDiscovery;
    const warnings: string[] = [];
    if (renderMode) {
        discovery = { status: "unknown", reason: "render mode does not ask a cluster" };
    } else {
        discovery = discover();
    }
    if (discovery.status === "unknown") {
        warnings.push(
            `${keys} ${autoKeys.length === 1 ? "is" : "are"} auto, but whether the cluster serves ${OPERATOR_GROUP.group}/${OPERATOR_GROUP.version} is unknown (${discovery.reason}); ROV and RabbitMQ get prometheus.io annotations instead. Set ${keys} to true or false to decide.`,
        );
    }
    const served = (kind: string) => discovery.status === "served" && discovery.kinds.has(kind);
    const resolve = (value: "auto" | boolean, kind: string) =>
        value === "auto" ? served(kind) : value;
    return {
        serviceMonitors: resolve(switches.serviceMonitor, "ServiceMonitor"),
        prometheusRule: resolve(switches.prometheusRule, "PrometheusRule"),
        warnings,
    };
}
