// Probe helpers: which handler a probe uses, whether it is usable, and its effective timings.

import { UNKNOWN, Unknown, containsUnknown, isObject, isUnknown } from "./unknown";

/** The probe handlers the API knows. */
export const HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"] as const;
export type Handler = (typeof HANDLERS)[number];

/** The probe fields of a container. */
export const PROBE_FIELDS = ["readinessProbe", "livenessProbe", "startupProbe"] as const;
export type ProbeField = (typeof PROBE_FIELDS)[number];

/** What a container's probe field holds. */
export type ProbeState =
    | { state: "unknown" }
    | { state: "absent" }
    /** An object with no handler: the kubelet cannot run it. */
    | { state: "no-handler" }
    /** A handler the API rejects (two handlers, or one without its required field). */
    | { state: "invalid"; problem: string }
    | { state: "ok"; handler: Handler; probe: Record<string, unknown> };

/** Classifies the probe in `container[field]`. */
export function probeState(container: Record<string, unknown>, field: ProbeField): ProbeState {
    const probe = container[field];
    if (isUnknown(probe)) {
        return { state: "unknown" };
    }
    if (probe === undefined || probe === null) {
        return { state: "absent" };
    }
    if (!isObject(probe)) {
        return { state: "no-handler" };
    }
    const present = HANDLERS.filter((h) => probe[h] !== undefined && probe[h] !== null);
    if (present.length === 0) {
        return { state: "no-handler" };
    }
    if (present.length > 1) {
        return {
            state: "invalid",
            problem: `sets ${present.join(" and ")}; the API accepts exactly one handler`,
        };
    }
    const handler = present[0];
    const body = probe[handler];
    if (isUnknown(body)) {
        return { state: "ok", handler, probe };
    }
    const missing = missingHandlerField(handler, body);
    if (missing !== undefined) {
        return { state: "invalid", problem: `${handler} ${missing}` };
    }
    return { state: "ok", handler, probe };
}

function missingHandlerField(handler: Handler, body: unknown): string | undefined {
    if (!isObject(body)) {
        return "is not an object";
    }
    if (handler === "exec") {
        const command = body.command;
        if (isUnknown(command)) {
            return undefined;
        }
        return Array.isArray(command) && command.length > 0
            ? undefined
            : "has no command (exec.command must be a non-empty list)";
    }
    const port = body.port;
    if (isUnknown(port)) {
        return undefined;
    }
    const validPort =
        (typeof port === "number" && Number.isInteger(port) && port > 0 && port < 65536) ||
        (typeof port === "string" && port !== "" && handler !== "grpc");
    if (validPort) {
        return undefined;
    }
    return handler === "grpc"
        ? "has no valid port (grpc.port must be a port number)"
        : `has no valid port (${handler}.port must be a port number or a container port name)`;
}

/** Kubernetes defaults for probe timings. */
export const PROBE_DEFAULTS = {
    initialDelaySeconds: 0,
    periodSeconds: 10,
    timeoutSeconds: 1,
    failureThreshold: 3,
    successThreshold: 1,
} as const;

/** A timing field with its Kubernetes default; undefined when unknown during preview. */
export function timing(
    probe: Record<string, unknown>,
    field: keyof typeof PROBE_DEFAULTS,
): number | undefined {
    const value = probe[field];
    if (isUnknown(value)) {
        return undefined;
    }
    return typeof value === "number" ? value : PROBE_DEFAULTS[field];
}

/**
 * A canonical form of the probe's handler, for comparing two probes. Named ports are resolved
 * against the container's ports, so `port: "http"` equals `port: 8080` when "http" is 8080.
 * Returns undefined when some part is unknown during preview.
 */
export function handlerKey(
    probe: Record<string, unknown>,
    handler: Handler,
    container: Record<string, unknown>,
): string | undefined {
    const body = probe[handler];
    if (containsUnknown(body) || !isObject(body)) {
        return undefined;
    }
    const port = resolvePort(body.port, container);
    if (port === UNKNOWN) {
        return undefined;
    }
    switch (handler) {
        case "exec":
            return JSON.stringify(["exec", body.command]);
        case "httpGet": {
            const headers = Array.isArray(body.httpHeaders)
                ? body.httpHeaders
                      .filter(isObject)
                      .map((h) => `${String(h.name).toLowerCase()}=${String(h.value)}`)
                      .sort()
                : [];
            return JSON.stringify([
                "httpGet",
                body.scheme ?? "HTTP",
                body.host ?? "",
                port,
                body.path ?? "/",
                headers,
            ]);
        }
        case "tcpSocket":
            return JSON.stringify(["tcpSocket", body.host ?? "", port]);
        case "grpc":
            return JSON.stringify(["grpc", port, body.service ?? ""]);
        default:
            return undefined;
    }
}

function resolvePort(
    port: unknown,
    container: Record<string, unknown>,
): number | string | undefined | Unknown {
    if (typeof port !== "string") {
        return typeof port === "number" ? port : undefined;
    }
    const ports = container.ports;
    if (isUnknown(ports)) {
        return UNKNOWN;
    }
    if (Array.isArray(ports)) {
        for (const p of ports) {
            if (isUnknown(p)) {
                return UNKNOWN;
            }
            if (isObject(p) && p.name === port) {
                return typeof p.containerPort === "number" ? p.containerPort : UNKNOWN;
            }
        }
    }
    return `name:${port}`;
}
