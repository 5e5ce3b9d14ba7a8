/**
 * What the TURN tier hands coturn and the clients, as pure functions: `turnserver.conf` (no
 * credentials, so it can live in a ConfigMap the policy pack reads), the start script that adds the
 * per-pod address and the credentials to a private copy, and the `iceServers` entry and
 * `config.erizo.turn*` values that point Licode at TURN. test/turn/ runs Debian's coturn 4.6.1
 * with exactly this output. Option names are those of coturn 4.6.1 and 4.17.0 alike
 * (src/apps/relay/mainrelay.c, `long_options`); an option coturn does not know is only logged
 * ("Bad configuration format", mainrelay.c 1820 at 4.6.1, 2939 at 4.17.0) and ignored.
 */
import { coturnRange, parseCidr } from "./cidr";
import { TURN_METRICS_PORT, TURN_PORT, TURN_TLS_PORT } from "./config";

/** Where the pod keeps coturn's files (images.ts COTURN). */
export const TURN_PATHS = {
    /** The rendered turnserver.conf and start script (ConfigMap). */
    templateDir: "/etc/licode-turn",
    /** The private copy with the credentials (memory-backed emptyDir). */
    runDir: "/run/licode-turn",
    /** The TLS Secret (tls.crt, tls.key). */
    certDir: "/etc/licode-turn/tls",
    /** coturn's database directory: an empty SQLite file is created here (emptyDir). */
    dataDir: "/var/lib/coturn",
} as const;

/** The ConfigMap keys. */
export const TURN_FILES = { conf: "turnserver.conf", prepare: "prepare.sh" } as const;

/** Everything turnserver.conf is rendered from. */
export interface TurnServerSettings {
    /** The name clients connect to; coturn's realm, which clients echo in every request. */
    readonly realm: string;
    readonly relayPortRange: { readonly min: number; readonly max: number };
    /** Certificate and key files for TURN over TLS; undefined for no TLS listener. */
    readonly tls?: { readonly certFile: string; readonly keyFile: string };
    /** Peer ranges refused (CIDR). */
    readonly deniedPeers: readonly string[];
    /** Peer ranges allowed even inside a denied range (CIDR). */
    readonly allowedPeers: readonly string[];
    readonly userQuota: number;
    readonly totalQuota: number;
    /** Bytes per second per session. */
    readonly maxBps: number;
    /** Bytes per second for all sessions together. */
    readonly bpsCapacity: number;
    /** Serve Prometheus metrics on TURN_METRICS_PORT (only builds with the endpoint have it). */
    readonly prometheus: boolean;
    /** After binding its ports as root, continue as this user (host network: binding 443 needs root). */
    readonly dropPrivilegesTo?: { readonly user: string; readonly group: string };
    /** Directories for the pid file and the database. */
    readonly runDir: string;
    readonly dataDir: string;
}

/** coturn reads a peer range as "first-last" (userdb.c add_ip_list_range), never as CIDR. */
function peerLines(option: string, ranges: readonly string[]): string[] {
    return ranges.map((range) => {
        const parsed = parseCidr(range);
        if (parsed === undefined) {
            throw new Error(`${option}: "${range}" is not a CIDR range`);
        }
        // coturn takes an all-zero bound as open: this range would hold every address.
        if (parsed.last === 0n) {
            throw new Error(`${option}: "${range}" would mean every address to coturn`);
        }
        return `${option}=${coturnRange(parsed)}`;
    });
}

/** Renders turnserver.conf: one option a line, each preceded by why it is there. */
export function renderTurnserverConf(settings: TurnServerSettings): string {
    const lines: string[] = [
        "# Rendered from the stack's turn config; change the stack, not this file.",
        "# The start script appends listening-ip, relay-ip (and external-ip) and the user.",
        `listening-port=${TURN_PORT}`,
        ...(settings.tls === undefined
            ? ["# No certificate: no TLS listener.", "no-tls"]
            : [
                  "# TURN over TLS on 443, the one port strict firewalls still pass.",
                  `tls-listening-port=${TURN_TLS_PORT}`,
                  `cert=${settings.tls.certFile}`,
                  `pkey=${settings.tls.keyFile}`,
              ]),
        "# Browsers speak TURN over UDP, TCP and TLS, never DTLS.",
        "no-dtls",
        `min-port=${settings.relayPortRange.min}`,
        `max-port=${settings.relayPortRange.max}`,
        "# Long-term credentials (RFC 8489 9.2): Licode v10 has no short-lived ones.",
        "lt-cred-mech",
        `realm=${settings.realm}`,
        "fingerprint",
        "stale-nonce=600",
        "# Abuse stops here: every client holds the same credentials.",
        "# Browsers relay UDP only; TCP relays (RFC 6062) would reach TCP services.",
        "no-tcp-relay",
        "no-multicast-peers",
        "# Loopback peers stay refused: allow-loopback-peers is never set.",
        ...peerLines("denied-peer-ip", settings.deniedPeers),
        ...peerLines("allowed-peer-ip", settings.allowedPeers),
        `user-quota=${settings.userQuota}`,
        `total-quota=${settings.totalQuota}`,
        `max-bps=${settings.maxBps}`,
        `bps-capacity=${settings.bpsCapacity}`,
        "# No telnet CLI, no web admin, no version in responses.",
        "no-cli",
        "no-software-attribute",
        ...(settings.dropPrivilegesTo === undefined
            ? []
            : [
                  `proc-user=${settings.dropPrivilegesTo.user}`,
                  `proc-group=${settings.dropPrivilegesTo.group}`,
              ]),
        ...(settings.prometheus ? [`prometheus`, `prometheus-port=${TURN_METRICS_PORT}`] : []),
        "log-file=stdout",
        "simple-log",
        `pidfile=${settings.runDir}/turnserver.pid`,
        `userdb=${settings.dataDir}/turndb`,
        "",
    ];
    return lines.join("\n");
}

/** The environment the start script reads. */
export const TURN_ENV = {
    username: "TURN_USERNAME",
    password: "TURN_PASSWORD",
    /** The address coturn listens and relays on: the node's (host network) or the pod's. */
    address: "TURN_ADDRESS",
    /** The public address coturn announces when it differs (a LoadBalancer's). */
    externalIp: "TURN_EXTERNAL_IP",
} as const;

/**
 * The start script (POSIX sh, run by an init container from the coturn image): writes the private
 * copy of turnserver.conf with the pod's address and the credentials, readable by coturn's user
 * only. It refuses credentials that would change the file's meaning: a line break would add
 * options, and coturn reads a password starting with 0x as a key (mainrelay.c, `user` option).
 */
export function renderTurnPrepareScript(templateDir: string, runDir: string): string {
    return [
        "#!/bin/sh",
        "# Rendered from the stack's turn config; change the stack, not this file.",
        "set -eu",
        `for name in ${TURN_ENV.username} ${TURN_ENV.password} ${TURN_ENV.address}; do`,
        '    eval "value=\\${$name:-}"',
        '    if [ -z "$value" ]; then echo "prepare: $name is empty" >&2; exit 1; fi',
        "done",
        `case "$${TURN_ENV.username}$${TURN_ENV.password}" in`,
        '    *[!A-Za-z0-9._~!@%^*+=,/-]*) echo "prepare: the TURN username or password holds a character turnserver.conf cannot carry (only letters, digits and ._~!@%^*+=,/-)" >&2; exit 1 ;;',
        "esac",
        `case "$${TURN_ENV.password}" in`,
        '    0x* | 0X*) echo "prepare: coturn reads a password starting with 0x as a key; choose another password" >&2; exit 1 ;;',
        "esac",
        "umask 077",
        `tmp="${runDir}/turnserver.conf.tmp"`,
        "{",
        `    cat "${templateDir}/${TURN_FILES.conf}"`,
        `    printf 'listening-ip=%s\\nrelay-ip=%s\\n' "$${TURN_ENV.address}" "$${TURN_ENV.address}"`,
        `    if [ -n "\${${TURN_ENV.externalIp}:-}" ]; then printf 'external-ip=%s\\n' "$${TURN_ENV.externalIp}"; fi`,
        `    printf 'user=%s:%s\\n' "$${TURN_ENV.username}" "$${TURN_ENV.password}"`,
        '} >"$tmp"',
        `mv "$tmp" "${runDir}/turnserver.conf"`,
        `echo "prepare: ${runDir}/turnserver.conf written for $${TURN_ENV.address}"`,
        "",
    ].join("\n");
}

/** One entry of `iceServers`, as RTCPeerConnection takes it. */
export interface IceServer {
    readonly urls: string | readonly string[];
    readonly username?: string;
    readonly credential?: string;
}

/**
 * The entry that sends clients to TURN: UDP first (cheapest), TCP for UDP-blocking networks, and
 * TLS on 443 for networks that pass only HTTPS. transport=tcp on a turns: URL is what browsers
 * expect (RFC 7065 section 3.1: turns implies TCP).
 */
export function turnIceServer(
    host: string,
    username: string,
    password: string,
    tls: boolean,
): IceServer {
    return {
        urls: [
            `turn:${host}:${TURN_PORT}?transport=udp`,
            `turn:${host}:${TURN_PORT}?transport=tcp`,
            ...(tls ? [`turns:${host}:${TURN_TLS_PORT}?transport=tcp`] : []),
        ],
        username,
        credential: password,
    };
}

/**
 * `config.erizo.turnserver` and its companions (erizoJS.js 26-29): ErizoJS hands them to libnice,
 * which takes an IPv4 address and relays over UDP (LibNiceConnection.cpp 300-313).
 */
export function erizoTurnSettings(
    address: string,
    username: string,
    password: string,
): { turnserver: string; turnport: number; turnusername: string; turnpass: string } {
    return { turnserver: address, turnport: TURN_PORT, turnusername: username, turnpass: password };
}
