/**
 * Renders `licode_config.js`, the one file every Licode tier reads, from typed values. The output
 * is JavaScript because the tiers `require()` it; every value is written with JSON.stringify so no
 * config value can inject code.
 */
import { StackConfig, NODE_NAME_PLACEHOLDER } from "./config";
import { LICODE } from "./images";
import { IceServer, erizoTurnSettings } from "./turnserver-conf";

/** The environment variable that carries a controller's node name into its config. */
export const NODE_NAME_ENV = "LICODE_NODE_NAME";
/** Where a controller finds its kubernetes.io/tls Secret (keys tls.key and tls.crt). */
export const SIGNALLING_CERT_DIR = `${LICODE.certDir}/signalling`;
/** Where ErizoJS writes recordings: the agent pods mount the recordings volume here. */
export const RECORDINGS_DIR = "/var/lib/licode/recordings";

/**
 * Rooms per controller (erizoController.js 34-35, 127-128, 291-303): from `warning` on a controller
 * reports itself busy, above `limit` full, and Nuve's cloud handler (cloudHandler.js 30-50) gives
 * new rooms to controllers in the best state first.
 */
export const ROOMS_PER_CONTROLLER = { warning: 15, limit: 20 } as const;

/** Everything the rendered config needs that is not plain stack config. */
export interface LicodeConfigValues {
    /** AMQP URL with credentials, e.g. `amqp://licode:...@licode-rabbitmq:5672`. */
    readonly rabbitUrl: string;
    /** MongoDB URL Nuve connects to, including the database. */
    readonly mongoUrl: string;
    /** Nuve's superservice ID (24 hex characters). */
    readonly superserviceId: string;
    /** Nuve's superservice key. */
    readonly superserviceKey: string;
    /** Where the image keeps Licode, e.g. `/opt/licode`. */
    readonly installDir: string;
    /** The stack's TURN server, when it runs one. */
    readonly turn?: LicodeTurnValues;
}

/** TURN as Licode sees it. */
export interface LicodeTurnValues {
    /** The entry every client gets in `iceServers` (turnIceServer). */
    readonly iceServer: IceServer;
    /** ErizoJS relays through TURN too, for media nodes without a public address. */
    readonly erizo?: {
        readonly address: string;
        readonly username: string;
        readonly password: string;
    };
}

/** The subset of stack config that the rendered file depends on. */
export type LicodeConfigInput = Pick<
    StackConfig,
    "logLevel" | "publicAddress" | "iceServers" | "erizoController" | "erizoAgent" | "media"
>;

/** Path of the rendered log4js configuration inside the containers. */
export function log4jsPath(installDir: string): string {
    return `${installDir}/log4js_configuration.json`;
}

/** Where the rendered config is mounted: the entrypoint copies it to a writable licode_config.js. */
export function defaultConfigPath(installDir: string): string {
    return `${installDir}/scripts/licode_default.js`;
}

/** Renders licode_config.js. */
export function renderLicodeConfig(config: LicodeConfigInput, values: LicodeConfigValues): string {
    const networkInterface =
        config.publicAddress.from === "interface" ? config.publicAddress.interface : "";
    // The pools share this file; each pool's own range reaches it through MIN_PORT/MAX_PORT.
    const range = config.media.pools[0].portRange;
    const sections: Record<string, unknown> = {
        rabbit: { host: hostOf(values.rabbitUrl), port: 5672, url: values.rabbitUrl, heartbeat: 8 },
        logger: { configFile: log4jsPath(values.installDir) },
        cloudProvider: { name: "" },
        nuve: {
            dataBaseURL: values.mongoUrl,
            dataBaseName: "nuvedb",
            superserviceID: values.superserviceId,
            superserviceKey: values.superserviceKey,
            testErizoController: `localhost:${config.erizoController.port}`,
            cloudHandlerPolicy: "default_policy.js",
            port: 3000,
        },
        erizoController: {
            // erizoController.js 17-18, 360: handed to every client as it joins a room.
            iceServers: [
                ...config.iceServers,
                ...(values.turn === undefined ? [] : [values.turn.iceServer]),
            ],
            defaultVideoBW: 300,
            maxVideoBW: 300,
            publicIP: config.publicAddress.from === "static" ? config.publicAddress.ip : "",
            networkinterface: networkInterface,
            // A hostname naming each controller's node is set below, from the environment.
            hostname:
                hostnameParts(config.erizoController.hostname).length === 1
                    ? (config.erizoController.hostname ?? "")
                    : "",
            port: config.erizoController.port,
            ssl: config.erizoController.ssl,
            listen_port: config.erizoController.port,
            // erizoController.js 137-149: with listen_ssl the controller serves https and wss
            // itself, reading ssl_key and ssl_cert at start.
            listen_ssl: config.erizoController.tls !== undefined,
            ...(config.erizoController.tls === undefined
                ? {}
                : {
                      ssl_key: `${SIGNALLING_CERT_DIR}/tls.key`,
                      ssl_cert: `${SIGNALLING_CERT_DIR}/tls.crt`,
                  }),
            // A forgotten controller restarts instead of lingering without rooms.
            exitOnNuveCheckFail: true,
            allowSinglePC: false,
            maxErizosUsedByRoom: 100,
            warning_n_rooms: ROOMS_PER_CONTROLLER.warning,
            limit_n_rooms: ROOMS_PER_CONTROLLER.limit,
            interval_time_keepAlive: 1000,
            report: { session_events: false, connection_events: false, rtcp_stats: false },
            reportSubscriptions: { maxSubscriptions: 10, minInterval: 1, maxTimeout: 60 },
            // models/Client.js 542-545: the file name is appended to this path as it is.
            recording_path: `${RECORDINGS_DIR}/`,
            roles: {
                presenter: {
                    publish: true,
                    subscribe: true,
                    record: true,
                    stats: true,
                    controlhandlers: true,
                },
                viewer: { subscribe: true },
                viewerWithData: {
                    subscribe: true,
                    publish: { audio: false, video: false, screen: false, data: true },
                },
            },
            cloudHandlerPolicy: "default_policy.js",
        },
        erizoAgent: {
            maxProcesses: config.erizoAgent.maxProcesses,
            prerunProcesses: config.erizoAgent.prerunProcesses,
            publicIP: config.publicAddress.from === "static" ? config.publicAddress.ip : "",
            networkinterface: networkInterface,
            useIndividualLogFiles: false,
            launchDebugErizoJS: false,
            enableNicerLogs: true,
        },
        erizo: {
            numWorkers: 24,
            numIOWorkers: 1,
            minport: range.min,
            maxport: range.max,
            networkinterface: networkInterface,
            stunserver: "",
            stunport: 0,
            // erizoJS.js 26-29: ErizoJS's own relay; empty means none.
            ...(values.turn?.erizo === undefined
                ? { turnserver: "", turnport: 0, turnusername: "", turnpass: "" }
                : erizoTurnSettings(
                      values.turn.erizo.address,
                      values.turn.erizo.username,
                      values.turn.erizo.password,
                  )),
            // licode_default.js 194 and 198: the upstream defaults, which erizoJS.js would not
            // fill in by itself (it falls back to no quality check and no handlers).
            useConnectionQualityCheck: true,
            disabledHandlers: [],
            handlerProfiles: [[], [{ name: "Logger" }]],
        },
    };
    const lines = [
        "// Rendered from the stack's licode config; change the stack, not this file.",
        "var config = {};",
        ...Object.entries(sections).map(
            ([key, value]) => `config.${key} = ${JSON.stringify(value, null, 2)};`,
        ),
        ...nodeHostnameLines(config.erizoController.hostname),
        "module.exports = config;",
        "",
    ];
    return lines.join("\n");
}

/** What ROV's own config file holds. */
export interface RovConfigValues {
    /** AMQP URL with credentials. */
    readonly rabbitUrl: string;
    /** Where the image keeps Licode, e.g. `/opt/licode`. */
    readonly installDir: string;
    /** Milliseconds between ROV's rounds of questions (`config.rov.statsPeriod`). */
    readonly statsPeriodMs: number;
    /** The /metrics port (`config.rov.serverPort`). */
    readonly serverPort: number;
    /** The metric name prefix (`config.rov.statsPrefix`). */
    readonly statsPrefix: string;
}

/**
 * Renders the licode_config.js ROV reads: only the sections its code touches (rovMetricsServer.js
 * 15-17, 69-86; rovMetricsGatherer.js 68-69, 84; common/amqper.js 11-39; common/logger.js 6-8),
 * so a change to the other tiers' settings does not restart it, and a change to its own does not
 * restart them.
 */
export function renderRovConfig(values: RovConfigValues): string {
    const sections: Record<string, unknown> = {
        rabbit: { host: hostOf(values.rabbitUrl), port: 5672, url: values.rabbitUrl, heartbeat: 8 },
        logger: { configFile: log4jsPath(values.installDir) },
        // Not "amazon": rovMetricsGatherer.js 84-99 would ask EC2's metadata service for an IP.
        cloudProvider: { name: "" },
        erizoAgent: { publicIP: "" },
        rov: {
            statsPeriod: values.statsPeriodMs,
            serverPort: values.serverPort,
            statsPrefix: values.statsPrefix,
        },
    };
    return [
        "// Rendered from the stack's metrics settings; change the stack, not this file.",
        "var config = {};",
        ...Object.entries(sections).map(
            ([key, value]) => `config.${key} = ${JSON.stringify(value, null, 2)};`,
        ),
        "module.exports = config;",
        "",
    ].join("\n");
}

/**
 * One line per event on stdout, where the container runtime keeps it for a node's log collector:
 * `<time> <level> <logger> - <message>`. The time carries its UTC offset because the image sets
 * TZ=Europe/Madrid (Dockerfile 8), so a bare local time would be read an hour or two off. log4js
 * 6.4.0, the version erizo_controller/package-lock.json 482-485 installs, names that format
 * ISO8601_WITH_TZ_OFFSET (lib/layouts.js 143-150); test/unit/logging.spec.ts runs it.
 * docs/logging/fluent-bit.yaml has a collector's parser for these lines.
 */
export const LOG4JS_PATTERN = "%d{ISO8601_WITH_TZ_OFFSET} %p %c - %m";

/** Renders the log4js configuration that sets every Licode logger to the stack's level. */
export function renderLog4js(level: StackConfig["logLevel"]): string {
    return `${JSON.stringify(
        {
            appenders: {
                out: { type: "stdout", layout: { type: "pattern", pattern: LOG4JS_PATTERN } },
            },
            categories: { default: { appenders: ["out"], level } },
        },
        null,
        2,
    )}\n`;
}

/** The hostname split around NODE_NAME_PLACEHOLDER: one part when it names no node. */
function hostnameParts(hostname: string | undefined): string[] {
    return (hostname ?? "").split(NODE_NAME_PLACEHOLDER);
}

/**
 * A hostname per controller: the config is JavaScript that each tier `require`s at start, so it
 * can read the node name the pod's environment carries. Every piece is written with
 * JSON.stringify, so no config value can inject code.
 */
function nodeHostnameLines(hostname: string | undefined): string[] {
    const parts = hostnameParts(hostname);
    if (parts.length === 1) {
        return [];
    }
    const expression = parts
        .map((part) => JSON.stringify(part))
        .join(` + (process.env.${NODE_NAME_ENV} || "") + `);
    return [`config.erizoController.hostname = ${expression};`];
}

function hostOf(url: string): string {
    return new URL(url).hostname;
}
