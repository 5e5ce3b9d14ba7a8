// What the TURN policies read: coturn configurations (a ConfigMap or Secret key named
// turnserver.conf, coturn's own file name: DEFAULT_CONFIG_FILE, src/apps/relay/mainrelay.h 125),
// the address ranges in them, the media ranges Licode's pods take (the MIN_PORT/MAX_PORT their
// entrypoint writes into the config, extras/docker/initDockerLicode.sh 177-182 in Licode v10), and
// the iceServers licode_config.js hands to clients (erizoController.js 17-18, 360).

import { StackItem } from "./policy";
import { isObject, isUnknown } from "./unknown";

const CONFIG_TYPES = ["kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"];

/** coturn's config file name, and Licode's. */
export const TURNSERVER_CONF = "turnserver.conf";
export const LICODE_CONFIG = "licode_config.js";

/** coturn's defaults for what a file leaves out (mainrelay.c at 4.6.1 and 4.17.0). */
export const COTURN_DEFAULTS = {
    listeningPort: 3478,
    tlsListeningPort: 5349,
    minPort: 49152,
    maxPort: 65535,
} as const;

/** One parsed coturn configuration: every option with all its values, in order. */
export class TurnConf {
    private readonly options = new Map<string, string[]>();

    constructor(readonly text: string) {
        // coturn reads "name=value" or a bare "name" per line; "#" starts a comment line
        // (mainrelay.c read_config_file): blanks around the line are ignored.
        for (const raw of text.split("\n")) {
            const line = raw.trim();
            if (line === "" || line.startsWith("#")) {
                continue;
            }
            const eq = line.indexOf("=");
            const name = (eq < 0 ? line : line.slice(0, eq)).trim();
            const value = eq < 0 ? "" : line.slice(eq + 1).trim();
            this.options.set(name, [...(this.options.get(name) ?? []), value]);
        }
    }

    /** Whether the option is present and not switched off ("0", "off", "no", "false", "f"). */
    flag(name: string): boolean {
        const values = this.options.get(name);
        if (values === undefined) {
            return false;
        }
        const last = values[values.length - 1].toLowerCase();
        return !["0", "off", "no", "false", "f"].includes(last);
    }

    values(name: string): string[] {
        return this.options.get(name) ?? [];
    }

    value(name: string): string | undefined {
        const values = this.options.get(name);
        return values === undefined ? undefined : values[values.length - 1];
    }

    /** A port option, or its default. */
    port(name: string, fallback: number): number {
        const value = Number(this.value(name));
        return Number.isInteger(value) && value > 0 ? value : fallback;
    }
}

/** A coturn configuration found in the stack. */
export interface TurnConfFound {
    readonly item: StackItem;
    readonly key: string;
    readonly conf: TurnConf;
    /** The object's name as pods reference it (undefined while unknown). */
    readonly objectName?: string;
}

function dataOf(item: StackItem): Record<string, unknown> | undefined {
    const data = isObject(item.props.data) ? item.props.data : {};
    const stringData = isObject(item.props.stringData) ? item.props.stringData : {};
    const out: Record<string, unknown> = { ...data };
    for (const [key, value] of Object.entries(stringData)) {
        out[key] = value;
    }
    // A Secret's data is base64.
    if (item.type.endsWith(":Secret") && isObject(item.props.data)) {
        for (const [key, value] of Object.entries(item.props.data)) {
            if (typeof value === "string" && !(key in stringData)) {
                out[key] = Buffer.from(value, "base64").toString("utf8");
            }
        }
    }
    return out;
}

/** Every coturn configuration of the stack whose text is known. */
export function turnConfs(items: readonly StackItem[]): TurnConfFound[] {
    const found: TurnConfFound[] = [];
    for (const item of items) {
        if (!CONFIG_TYPES.includes(item.type)) {
            continue;
        }
        const data = dataOf(item);
        const text = data?.[TURNSERVER_CONF];
        if (typeof text === "string" && !isUnknown(text)) {
            const name = item.metadata.name;
            found.push({
                item,
                key: TURNSERVER_CONF,
                conf: new TurnConf(text),
                objectName: typeof name === "string" && !isUnknown(name) ? name : undefined,
            });
        }
    }
    return found;
}

/** The workloads whose pods mount the object, with the mounts of the volume in each container. */
export function mountersOf(
    items: readonly StackItem[],
    found: TurnConfFound,
): { item: StackItem; podSpec: Record<string, unknown> }[] {
    const out: { item: StackItem; podSpec: Record<string, unknown> }[] = [];
    for (const item of items) {
        const spec = item.pod?.spec;
        if (!isObject(spec) || !Array.isArray(spec.volumes)) {
            continue;
        }
        const mounts = spec.volumes.some((v) => {
            if (!isObject(v)) {
                return false;
            }
            const ref = isObject(v.configMap)
                ? v.configMap.name
                : isObject(v.secret)
                  ? v.secret.secretName
                  : undefined;
            return (
                typeof ref === "string" &&
                (ref === found.objectName || ref === found.item.resource.name)
            );
        });
        if (mounts) {
            out.push({ item, podSpec: spec });
        }
    }
    return out;
}

/** A media range a Licode container takes (its MIN_PORT and MAX_PORT). */
export interface MediaRange {
    readonly item: StackItem;
    readonly container: string;
    readonly min: number;
    readonly max: number;
}

/** Every media range of the stack's pods whose values are known. */
export function mediaRanges(items: readonly StackItem[]): MediaRange[] {
    const out: MediaRange[] = [];
    for (const item of items) {
        const spec = item.pod?.spec;
        if (!isObject(spec) || !Array.isArray(spec.containers)) {
            continue;
        }
        for (const c of spec.containers) {
            if (!isObject(c) || !Array.isArray(c.env)) {
                continue;
            }
            const env = (name: string) => {
                const entry = (c.env as unknown[]).find((e) => isObject(e) && e.name === name);
                const value = isObject(entry) ? entry.value : undefined;
                return typeof value === "string" && /^\d+$/.test(value) ? Number(value) : undefined;
            };
            const min = env("MIN_PORT");
            const max = env("MAX_PORT");
            if (min !== undefined && max !== undefined) {
                out.push({ item, container: String(c.name), min, max });
            }
        }
    }
    return out;
}

/** The iceServers of every licode_config.js of the stack; undefined entries were unknown. */
export function licodeIceServers(
    items: readonly StackItem[],
): { item: StackItem; iceServers: unknown[] | undefined }[] {
    const out: { item: StackItem; iceServers: unknown[] | undefined }[] = [];
    for (const item of items) {
        if (!CONFIG_TYPES.includes(item.type)) {
            continue;
        }
        // On a first preview a Secret built from generated credentials has data unknown as a whole:
        // it may hold licode_config.js, so nothing can be told of it until the update.
        if (isUnknown(item.props.stringData) || isUnknown(item.props.data)) {
            out.push({ item, iceServers: undefined });
            continue;
        }
        const text = dataOf(item)?.[LICODE_CONFIG];
        if (text === undefined) {
            continue;
        }
        if (typeof text !== "string" || isUnknown(text)) {
            out.push({ item, iceServers: undefined });
            continue;
        }
        // The program writes each section as `config.<name> = <JSON>;` (licode-config-file.ts).
        // A file without an erizoController section (ROV's) gives clients nothing.
        const match = /^config\.erizoController = (\{[\s\S]*?\n\});$/m.exec(text);
        if (match === null) {
            continue;
        }
        out.push({ item, iceServers: iceServersOf(match[1]) });
    }
    return out;
}

/** The iceServers of a rendered erizoController section; none when it does not parse. */
function iceServersOf(section: string): unknown[] {
    try {
        const parsed = JSON.parse(section) as { iceServers?: unknown };
        return Array.isArray(parsed.iceServers) ? parsed.iceServers : [];
    } catch {
        return [];
    }
}

/** An address range as integers. */
export interface Range {
    readonly family: 4 | 6;
    readonly first: bigint;
    readonly last: bigint;
}

function address(text: string): { family: 4 | 6; value: bigint } | undefined {
    const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
    if (v4 !== null) {
        const octets = v4.slice(1).map(Number);
        if (octets.some((o) => o > 255)) {
            return undefined;
        }
        return { family: 4, value: octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n) };
    }
    if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) {
        return undefined;
    }
    let body = text;
    const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
    if (tail !== null) {
        const embedded = address(tail[1]);
        if (embedded === undefined) {
            return undefined;
        }
        body = `${body.slice(0, tail.index)}${(embedded.value >> 16n).toString(16)}:${(embedded.value & 0xffffn).toString(16)}`;
    }
    const halves = body.split("::");
    if (halves.length > 2) {
        return undefined;
    }
    const head = halves[0] === "" ? [] : halves[0].split(":");
    const rest = halves.length === 2 ? (halves[1] === "" ? [] : halves[1].split(":")) : [];
    const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
    const groups = [...head, ...Array<string>(Math.max(fill, 0)).fill("0"), ...rest];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) {
        return undefined;
    }
    return {
        family: 6,
        value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n),
    };
}

/** A CIDR range ("10.0.0.0/8"), or undefined. */
export function parseCidrRange(text: string): Range | undefined {
    const [base, prefixText] = text.split("/");
    const parsed = address(base);
    if (parsed === undefined) {
        return undefined;
    }
    const bits = parsed.family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
        return undefined;
    }
    const host = (1n << BigInt(bits - prefix)) - 1n;
    return { family: parsed.family, first: parsed.value & ~host, last: parsed.value | host };
}

/** A coturn peer range ("first-last" or one address), or undefined. */
export function parseCoturnRange(text: string): Range | undefined {
    const [from, to] = text.split("-");
    const first = address(from.trim());
    const last = to === undefined ? first : address(to.trim());
    if (first === undefined || last === undefined || first.family !== last.family) {
        return undefined;
    }
    return { family: first.family, first: first.value, last: last.value };
}

/** Whether some address of `wanted` lies in none of `ranges`. */
export function uncovered(wanted: Range, ranges: readonly Range[]): boolean {
    const same = ranges
        .filter(
            (r) => r.family === wanted.family && r.last >= wanted.first && r.first <= wanted.last,
        )
        .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let next = wanted.first;
    for (const r of same) {
        if (r.first > next) {
            return true;
        }
        if (r.last >= next) {
            next = r.last + 1n;
        }
        if (next > wanted.last) {
            return false;
        }
    }
    return next <= wanted.last;
}
