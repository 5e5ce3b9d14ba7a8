/**
 * How the Prometheus Operator and Grafana see Licode: ServiceMonitors for ROV and RabbitMQ, the
 * alerting rules, and the dashboard as a ConfigMap Grafana's sidecar loads.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AlertOptions, licodeAlertRules } from "./alerts";
import { licodeDashboard } from "./dashboard";
import { ExtraScrapeEndpoint } from "./drain-metrics";

const TOKEN = "licode:index:Monitoring";

/** The API group and version of the Prometheus Operator's objects. */
export const MONITORING_API = "monitoring.coreos.com/v1";

/** A Service the ServiceMonitor scrapes. */
export interface ScrapeTarget {
    /** Labels that select the Service (and, with `port`, only it). */
    readonly selector: Record<string, string>;
    /** The Service port's name. */
    readonly port: string;
    /** The HTTP path. */
    readonly path: string;
    /** More endpoints of the same Service port (the broker's drain figures: drain-metrics.ts). */
    readonly extraEndpoints?: readonly ExtraScrapeEndpoint[];
}

/** Arguments of the Monitoring component. */
export interface MonitoringArgs {
    /** Namespace of the objects, and of the Services they point at. Required. */
    readonly namespace: pulumi.Input<string>;
    /** Labels of every object, including what the operator's Prometheus and Grafana select on. Required. */
    readonly labels: Record<string, string>;
    /** Services to scrape, by name: ServiceMonitors when `serviceMonitors` is on. Required. */
    readonly targets: Readonly<Record<string, ScrapeTarget>>;
    /** Create ServiceMonitors. Defaults to false. */
    readonly serviceMonitors?: boolean;
    /** How often Prometheus scrapes. Defaults to "30s". */
    readonly scrapeInterval?: string;
    /** The alerting rules' inputs; undefined for no PrometheusRule. Defaults to none. */
    readonly alerts?: pulumi.Input<AlertOptions>;
    /** The dashboard's inputs; undefined for no dashboard ConfigMap. Defaults to none. */
    readonly dashboard?: {
        readonly uid: string;
        readonly namespace: string;
        readonly roomLimit: number;
        /** ErizoControllers the room limit applies to. */
        readonly erizoControllers: number;
        /** Add the TURN panels. */
        readonly turn?: boolean;
    };
}

/** The conventional annotations a Prometheus without the operator scrapes a Service by. */
export function scrapeAnnotations(port: number, path: string): Record<string, string> {
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(port),
        "prometheus.io/path": path,
    };
}

/** The label Grafana's dashboard sidecar watches ConfigMaps for (kube-prometheus-stack's default). */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

/** ServiceMonitors, a PrometheusRule and a dashboard ConfigMap, each when asked for. */
export class Monitoring extends pulumi.ComponentResource {
    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TOKEN, name, {}, opts);
        const metadata = { namespace: args.namespace, labels: args.labels };

        if (args.serviceMonitors ?? false) {
            for (const [target, scrape] of Object.entries(args.targets)) {
                new k8s.apiextensions.CustomResource(
                    `${name}-${target}`,
                    {
                        apiVersion: MONITORING_API,
                        kind: "ServiceMonitor",
                        metadata,
                        spec: {
                            selector: { matchLabels: scrape.selector },
                            // Only Services with this port name yield targets, so a headless
                            // twin of the Service is not scraped twice.
                            endpoints: [
                                {
                                    port: scrape.port,
                                    path: scrape.path,
                                    interval: args.scrapeInterval ?? "30s",
                                },
                                ...(scrape.extraEndpoints ?? []).map((extra) => ({
                                    port: scrape.port,
                                    path: extra.path,
                                    params: extra.params,
                                    interval: args.scrapeInterval ?? "30s",
                                    metricRelabelings: [
                                        {
                                            action: "keep",
                                            sourceLabels: [extra.keep.label],
                                            regex: extra.keep.regex,
                                        },
                                    ],
                                })),
                            ],
                        },
                    },
                    { parent: this },
                );
            }
        }

        if (args.alerts !== undefined) {
            new k8s.apiextensions.CustomResource(
                `${name}-alerts`,
                {
                    apiVersion: MONITORING_API,
                    kind: "PrometheusRule",
                    metadata,
                    spec: {
                        groups: [
                            {
                                name: "licode",
                                rules: pulumi.output(args.alerts).apply(licodeAlertRules),
                            },
                        ],
                    },
                },
                { parent: this },
            );
        }

        if (args.dashboard !== undefined) {
            const dashboard = licodeDashboard({
                uid: args.dashboard.uid,
                namespace: args.dashboard.namespace,
                roomLimitPerController: args.dashboard.roomLimit,
                erizoControllers: args.dashboard.erizoControllers,
                turn: args.dashboard.turn,
            });
            new k8s.core.v1.ConfigMap(
                `${name}-dashboard`,
                {
                    metadata: {
                        namespace: args.namespace,
                        labels: { ...args.labels, ...GRAFANA_DASHBOARD_LABEL },
                    },
                    data: { "licode.json": JSON.stringify(dashboard, null, 2) },
                },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
