/** Pure naming, labelling and checksum helpers shared by every tier. */
import { createHash } from "crypto";

/** The Licode tiers, as they appear in `app.kubernetes.io/name`. */
export type TierName =
    | "nuve"
    | "erizo-controller"
    | "erizo-agent"
    | "mongodb"
    | "rabbitmq"
    | "superservice-bootstrap"
    | "rov"
    | "turn"
    | "media-check";

/** The role each tier plays, as it appears in `app.kubernetes.io/component`. */
const COMPONENT: Readonly<Record<TierName, string>> = {
    nuve: "api",
    "erizo-controller": "signaling",
    "erizo-agent": "media",
    mongodb: "database",
    rabbitmq: "message-broker",
    "superservice-bootstrap": "bootstrap",
    rov: "metrics",
    turn: "relay",
    "media-check": "reachability-check",
};

const MAX_NAME = 63;

/** Truncates a Kubernetes name to 63 characters without leaving a trailing "-". */
export function truncateName(name: string): string {
    return name.slice(0, MAX_NAME).replace(/-+$/, "");
}

/** The stable object name of a tier (Services, StatefulSets, Deployments): `licode-<tier>[-suffix]`. */
export function fullname(tier: TierName, suffix?: string): string {
    return truncateName(suffix === undefined ? `licode-${tier}` : `licode-${tier}-${suffix}`);
}

/** Cleans an image tag or digest into a label value (at most 63 of [A-Za-z0-9_.-]). */
export function versionLabel(version: string): string {
    const cleaned = version
        .replace(/^sha256:/, "")
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .slice(0, MAX_NAME);
    return cleaned.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** The labels that select a tier's pods: name and instance only, because selectors are immutable. */
export function selectorLabels(tier: TierName, instance: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": tier,
        "app.kubernetes.io/instance": instance,
    };
}

/** The full label set of a tier's objects and pods. */
export function labels(tier: TierName, instance: string, version: string): Record<string, string> {
    return {
        ...selectorLabels(tier, instance),
        "app.kubernetes.io/component": COMPONENT[tier],
        "app.kubernetes.io/part-of": "licode",
        "app.kubernetes.io/version": versionLabel(version),
    };
}

/** sha256 of a value's canonical JSON (object keys sorted), so equal data gives equal sums. */
export function checksum(data: unknown): string {
    return createHash("sha256").update(canonicalJson(data)).digest("hex");
}

function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(canonicalJson).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    return JSON.stringify(value);
}
