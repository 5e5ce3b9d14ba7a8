/**
 * Collects every PromQL expression the program ships, for tools/promql-check/check.sh, which pipes
 * the JSON this prints to the promql-check binary (Prometheus's own parser):
 *
 *   - every alerting rule's `expr` from licodeAlertRules, for several representative option sets
 *     (with and without a MongoDB StatefulSet, one and several media DaemonSets, default and
 *     custom ROV prefix, whole and fractional thresholds), as kind "alert";
 *   - every dashboard target's `expr` from licodeDashboard, for a few option sets, as kind
 *     "query", with the Grafana variables substituted first (see interpolate below).
 *
 * Prints a JSON array of { name, expr, kind } on stdout. When a query uses a Grafana variable
 * this file has no value for, it prints one "name: ..." line per such use on stderr and exits 3
 * (check.sh turns that into its exit status 1; any other failure is a crash, exit status 2 there).
 *
 *   node_modules/.bin/ts-node --transpile-only tools/promql-check/extract.ts
 */
import { AlertOptions, licodeAlertRules } from "../../components/monitoring/alerts";
import {
    GrafanaDashboard,
    LicodeDashboardOptions,
    licodeDashboard,
} from "../../components/monitoring/dashboard";
import { ROOMS_PER_CONTROLLER } from "../../components/licode-config-file";

/** One expression for the checker. */
interface Entry {
    readonly name: string;
    readonly expr: string;
    /** "alert": must yield an instant vector; "query": an instant vector or a scalar. */
    readonly kind: "alert" | "query";
}

const BASE_ALERTS: AlertOptions = {
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

/** Option sets for the alerting rules, by a label that goes into each expression's name. */
const ALERT_VARIANTS: Readonly<Record<string, AlertOptions>> = {
    "MongoDB, 1 pool": BASE_ALERTS,
    "MongoDB, 2 pools": {
        ...BASE_ALERTS,
        mediaDaemonSets: ["licode-erizo-agent-default", "licode-erizo-agent-large"],
    },
    "external MongoDB, 3 pools, prefix rov_, fractional thresholds": {
        ...BASE_ALERTS,
        namespace: "licode-prod",
        mediaDaemonSets: [
            "licode-erizo-agent-eu-west-1",
            "licode-erizo-agent-eu-west-2",
            "licode-erizo-agent-gpu",
        ],
        mongodbStatefulSet: undefined,
        prefix: "rov_",
        statsPeriodSeconds: 5,
        failedConnectionsPerPeriod: 0.5,
        roomsPerControllerRatio: 0.35,
    },
};

const BASE_DASHBOARD: LicodeDashboardOptions = {
    uid: "licode",
    namespace: "licode",
    roomLimitPerController: ROOMS_PER_CONTROLLER.limit,
    erizoControllers: 2,
};

/** Option sets for the dashboard. `namespace` and `erizoControllers` become the variables' values. */
const DASHBOARD_VARIANTS: Readonly<Record<string, LicodeDashboardOptions>> = {
    default: BASE_DASHBOARD,
    "prefix rov_": { ...BASE_DASHBOARD, prefix: "rov_" },
};

/**
 * Grafana's global variables, with the values Grafana would give them for this dashboard: its
 * time range is the last 6 h and Prometheus scrapes every 30 s, so $__interval is 30s and
 * $__rate_interval (at least four scrape intervals) 1m.
 */
const GLOBAL_VARIABLES: Readonly<Record<string, string>> = {
    __interval: "30s",
    __interval_ms: "30000",
    __rate_interval: "1m",
    __rate_interval_ms: "60000",
    __range: "6h",
    __range_s: "21600",
    __range_ms: "21600000",
};

/**
 * Grafana's variable syntaxes: `$name`, `[[name]]`, `[[name:format]]`, `${name}`,
 * `${name:format}`, `${name.field}` (the same expression Grafana's template service uses).
 */
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/** A single value formatted the way Grafana's `${name:format}` formats it. */
function formatValue(value: string, format: string | undefined): string | undefined {
    switch (format ?? "raw") {
        case "raw":
        case "text":
        case "csv":
        case "pipe":
        case "glob":
        case "distributed":
            return value;
        case "regex":
            return value.replace(/[\\^$*+?.()|[\]{}/]/g, "\\$&");
        case "doublequote":
            return `"${value.replace(/"/g, '\\"')}"`;
        case "singlequote":
            return `'${value.replace(/'/g, "\\'")}'`;
        case "json":
            return JSON.stringify(value);
        default:
            return undefined;
    }
}

/**
 * The query as Grafana sends it to Prometheus: the substitution is done here, in the extractor,
 * because Prometheus's parser knows nothing of Grafana's variables (`$namespace` is a syntax error
 * to it). Each dashboard variable takes its current value from the dashboard's own templating list,
 * as Grafana does when the dashboard opens (with the options above: `$namespace` -> `licode`,
 * `$controllers` -> `2`); `$__rate_interval` and the other globals come from GLOBAL_VARIABLES;
 * `${datasource}` is the data source's uid. The values are single and plain (no `\`, `'`, `"` or
 * regex characters), so the Prometheus data source's own escaping of single values changes nothing.
 * A variable with no value here is reported, not left in: Grafana would send `$name` as is.
 */
function interpolate(
    expr: string,
    values: ReadonlyMap<string, string>,
    problem: (message: string) => void,
): string {
    return expr.replace(
        VARIABLE,
        (
            whole,
            plain?: string,
            bracket?: string,
            bracketFormat?: string,
            braced?: string,
            field?: string,
            bracedFormat?: string,
        ) => {
            const name = plain ?? bracket ?? braced ?? "";
            const value = values.get(name);
            if (value === undefined) {
                problem(
                    `Grafana variable ${whole} is neither a variable of the dashboard nor a global variable tools/promql-check/extract.ts knows`,
                );
                return whole;
            }
            if (field !== undefined) {
                problem(`Grafana variable ${whole}: fields of variables are not supported here`);
                return whole;
            }
            const formatted = formatValue(value, bracketFormat ?? bracedFormat);
            if (formatted === undefined) {
                problem(`Grafana variable ${whole}: unknown format`);
                return whole;
            }
            return formatted;
        },
    );
}

/** The variables' values for one dashboard: Grafana's globals and its own variables' current values. */
function variableValues(dashboard: GrafanaDashboard): Map<string, string> {
    const values = new Map<string, string>(Object.entries(GLOBAL_VARIABLES));
    for (const variable of dashboard.templating.list) {
        if (variable.type === "datasource") {
            values.set(variable.name, "prometheus");
        } else if (variable.current.value !== undefined) {
            values.set(variable.name, variable.current.value);
        }
    }
    return values;
}

/** Every expression, and every problem found while collecting them. */
export function extract(): { entries: Entry[]; problems: string[] } {
    const entries: Entry[] = [];
    const problems: string[] = [];
    for (const [variant, options] of Object.entries(ALERT_VARIANTS)) {
        for (const rule of licodeAlertRules(options)) {
            entries.push({
                name: `alert ${rule.alert} [${variant}]`,
                expr: rule.expr,
                kind: "alert",
            });
        }
    }
    for (const [variant, options] of Object.entries(DASHBOARD_VARIANTS)) {
        const dashboard = licodeDashboard(options);
        const values = variableValues(dashboard);
        for (const panel of dashboard.panels) {
            for (const target of panel.targets) {
                const name = `dashboard panel ${panel.id} "${panel.title}" target ${target.refId} [${variant}]`;
                const expr = interpolate(target.expr, values, (message) =>
                    problems.push(`${name}: ${message}`),
                );
                entries.push({ name, expr, kind: "query" });
            }
        }
    }
    return { entries, problems };
}

if (require.main === module) {
    const { entries, problems } = extract();
    if (problems.length > 0) {
        for (const problem of problems) {
            process.stderr.write(`${problem}\n`);
        }
        process.exit(3);
    }
    process.stdout.write(`${JSON.stringify(entries, null, 1)}\n`);
}
