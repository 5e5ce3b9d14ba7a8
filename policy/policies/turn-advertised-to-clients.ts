// turn-advertised-to-clients (stack policy): when the stack runs coturn, the iceServers of its
// licode_config.js (what ErizoController hands every client, erizoController.js 17-18, 360) name
// it: a turn: URL with its realm as host and its listening port, a turns: URL with its TLS port
// when it keeps a TLS listener, and a username and credential. Otherwise the TURN server runs and
// no client ever uses it. The program renders the realm as the host clients connect to.

import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { violation } from "../lib/messages";
import { stackContext } from "../lib/policy";
import { COTURN_DEFAULTS, licodeIceServers, turnConfs } from "../lib/turn";
import { isObject } from "../lib/unknown";

export const NAME = "turn-advertised-to-clients";

interface Config {
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: { exemptions: EXEMPTIONS_SCHEMA },
};

const WHY =
    "clients learn of TURN only from the iceServers ErizoController sends as they join a room; " +
    "a TURN server they are not told about, or told about without credentials, is never used, " +
    "and clients behind strict firewalls still fail to connect.";
const FIX =
    "enable TURN through licode:turn (the program adds turn:<host>:3478 over UDP and TCP, " +
    "turns:<host>:443 with TLS, and the credentials to iceServers); do not list TURN by hand in " +
    "licode:iceServers.";

/** The URLs an iceServers entry lists. */
function urlsOf(entry: unknown): string[] {
    if (!isObject(entry)) {
        return [];
    }
    const urls = entry.urls ?? entry.url;
    return (Array.isArray(urls) ? urls : [urls]).filter((u): u is string => typeof u === "string");
}

/** A URL's scheme, host and port (turn:host:port?transport=...). */
function target(url: string): { scheme: string; host: string; port: number } | undefined {
    const match = /^(turns?):([^:?]+)(?::(\d+))?/.exec(url);
    if (match === null) {
        return undefined;
    }
    const port = match[3] === undefined ? (match[1] === "turns" ? 5349 : 3478) : Number(match[3]);
    return { scheme: match[1], host: match[2], port };
}

/** Clients are told about the stack's TURN server. */
export const turnAdvertisedToClients: StackValidationPolicy = {
    name: NAME,
    description:
        "When the stack runs coturn, licode_config.js's iceServers name it (turn: on its " +
        "listening port, turns: on its TLS port) with a username and credential.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps: FIX,
    validateStack: (args, reportViolation) => {
        const ctx = stackContext<Config>(NAME, configSchema, args, reportViolation);
        const configs = licodeIceServers(ctx.items);
        for (const found of turnConfs(ctx.items)) {
            const realm = found.conf.value("realm");
            if (realm === undefined || ctx.exempt(found.item)) {
                continue;
            }
            const wanted = [
                {
                    scheme: "turn",
                    port: found.conf.port("listening-port", COTURN_DEFAULTS.listeningPort),
                },
                ...(found.conf.flag("no-tls")
                    ? []
                    : [
                          {
                              scheme: "turns",
                              port: found.conf.port(
                                  "tls-listening-port",
                                  COTURN_DEFAULTS.tlsListeningPort,
                              ),
                          },
                      ]),
            ];
            if (configs.length === 0) {
                ctx.report(
                    found.item,
                    violation(
                        `${found.item.subject} (${found.key})`,
                        [`no licode_config.js of this stack names TURN at ${realm}`],
                        WHY,
                        FIX,
                    ),
                );
                continue;
            }
            for (const { item, iceServers } of configs) {
                if (iceServers === undefined) {
                    continue;
                }
                const problems: string[] = [];
                for (const want of wanted) {
                    const entry = iceServers.find((e) =>
                        urlsOf(e).some((url) => {
                            const t = target(url);
                            return (
                                t?.scheme === want.scheme &&
                                t.host === realm &&
                                t.port === want.port
                            );
                        }),
                    );
                    if (entry === undefined) {
                        problems.push(`iceServers lists no ${want.scheme}:${realm}:${want.port}`);
                    } else if (
                        !isObject(entry) ||
                        typeof entry.username !== "string" ||
                        entry.username === "" ||
                        typeof entry.credential !== "string" ||
                        entry.credential === ""
                    ) {
                        problems.push(
                            `the iceServers entry for ${want.scheme}:${realm}:${want.port} has no username and credential`,
                        );
                    }
                }
                if (problems.length > 0) {
                    ctx.report(
                        item,
                        violation(
                            `${item.subject} (licode_config.js)`,
                            [...problems, `the stack runs TURN (${found.item.subject})`],
                            WHY,
                            FIX,
                        ),
                    );
                }
            }
        }
    },
};
