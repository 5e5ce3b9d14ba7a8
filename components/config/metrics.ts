/** Licode's exporter (ROV), its scraping, its alerts and its dashboard. */
import { z } from "zod";
import { ImageRef, Resources, apiSwitch, imageOverride, labels, resources } from "./common";

/** A Prometheus duration such as 30s or 1m. */
export const PROMETHEUS_DURATION = /^([0-9]+(ms|s|m|h))+$/;

/** The `metrics` key. */
export const metrics = z
    .strictObject({
        enabled: z.boolean().default(false),
        statsPeriod: z
            .number()
            .int()
            .min(
                5,
                "statsPeriod is in seconds; ROV queries every tier each period, so keep it at 5 or more",
            )
            .max(
                3600,
                "statsPeriod is in seconds (licode_config.js's config.rov.statsPeriod is in milliseconds: 20000 there is 20 here); set at most 3600",
            )
            .default(20),
        serviceMonitor: apiSwitch.default("auto"),
        prometheusRule: apiSwitch.default("auto"),
        dashboard: z.boolean().default(true),
        labels: labels("metrics.labels").default({}),
        scrapeInterval: z
            .string()
            .regex(PROMETHEUS_DURATION, 'a Prometheus duration, e.g. "30s" or "1m"')
            .default("30s"),
        scraper: z
            .strictObject({
                podLabels: labels("metrics.scraper.podLabels")
                    .refine((value) => Object.keys(value).length > 0, {
                        message:
                            'name the scraper\'s pod labels, e.g. {"app.kubernetes.io/name": "prometheus"}; an empty selector would admit every pod',
                    })
                    .default({ "app.kubernetes.io/name": "prometheus" }),
                namespaceLabels: labels("metrics.scraper.namespaceLabels").optional(),
            })
            .default({ podLabels: { "app.kubernetes.io/name": "prometheus" } }),
        alerts: z
            .strictObject({
                failedConnectionsPerPeriod: z.number().min(0).default(5),
                roomsPerControllerRatio: z
                    .number()
                    .gt(0, "a fraction of limit_n_rooms, e.g. 0.8")
                    .max(1, "a fraction of limit_n_rooms, at most 1")
                    .default(0.8),
            })
            .default({ failedConnectionsPerPeriod: 5, roomsPerControllerRatio: 0.8 }),
        resources: resources.optional(),
        image: imageOverride.optional(),
    })
    .superRefine((value, ctx) => {
        if (!value.enabled && (value.serviceMonitor === true || value.prometheusRule === true)) {
            ctx.addIssue({
                code: "custom",
                path: ["enabled"],
                message:
                    "serviceMonitor or prometheusRule is true, but metrics are off: set enabled: true, or leave those keys at auto",
            });
        }
    });

/** Licode's exporter (ROV) and how Prometheus and Grafana find it. */
export interface MetricsConfig {
    readonly enabled: boolean;
    /** Seconds between ROV's rounds of questions to the tiers. */
    readonly statsPeriod: number;
    readonly serviceMonitor: "auto" | boolean;
    readonly prometheusRule: "auto" | boolean;
    readonly dashboard: boolean;
    /** Extra labels for the ServiceMonitors, the PrometheusRule and the dashboard ConfigMap. */
    readonly labels: Readonly<Record<string, string>>;
    readonly scrapeInterval: string;
    /** The pods (and their namespaces) that may scrape, for the NetworkPolicies. */
    readonly scraper: {
        readonly podLabels: Readonly<Record<string, string>>;
        readonly namespaceLabels?: Readonly<Record<string, string>>;
    };
    readonly alerts: {
        readonly failedConnectionsPerPeriod: number;
        readonly roomsPerControllerRatio: number;
    };
    readonly resources: Resources;
    readonly image: ImageRef;
}
