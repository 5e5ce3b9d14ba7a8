/**
 * IPv4 and IPv6 address ranges in CIDR notation: parsing, containment and overlap, and the
 * "first-last" form coturn's `denied-peer-ip` and `allowed-peer-ip` take (coturn 4.6.1 and 4.17.0
 * src/apps/relay/userdb.c `add_ip_list_range`: one address, or two joined by "-"; no CIDR).
 */
import { isIP } from "net";

/** One parsed range: its family and first and last address as integers. */
export interface AddressRange {
    readonly family: 4 | 6;
    readonly first: bigint;
    readonly last: bigint;
    /** The range as written, normalised (`10.0.0.0/8`). */
    readonly cidr: string;
}

const IPV4_BITS = 32;
const IPV6_BITS = 128;

/** An address as an integer, or undefined when it is not an IPv4 or IPv6 address. */
export function addressValue(address: string): { family: 4 | 6; value: bigint } | undefined {
    const family = isIP(address);
    if (family === 4) {
        return {
            family: 4,
            value: address
                .split(".")
                .reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n),
        };
    }
    if (family === 6) {
        return { family: 6, value: ipv6Value(address) };
    }
    return undefined;
}

function ipv6Value(address: string): bigint {
    // An embedded IPv4 tail (::ffff:10.0.0.1) is two 16-bit groups.
    let text = address;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4 !== null) {
        const value = addressValue(v4[1])?.value ?? 0n;
        text = `${text.slice(0, v4.index)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
    const headGroups = head === "" ? [] : head.split(":");
    const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
    const missing = 8 - headGroups.length - tailGroups.length;
    const groups = [
        ...headGroups,
        ...Array<string>(tail === undefined ? 0 : missing).fill("0"),
        ...tailGroups,
    ];
    return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** The address an integer stands for, in the usual text form. */
export function formatAddress(family: 4 | 6, value: bigint): string {
    if (family === 4) {
        return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
    }
    const groups = [];
    for (let shift = 112n; shift >= 0n; shift -= 16n) {
        groups.push(((value >> shift) & 0xffffn).toString(16));
    }
    // The longest run of zero groups (two or more) becomes "::", as RFC 5952 writes it.
    let best = { start: -1, length: 0 };
    for (let i = 0; i < groups.length;) {
        if (groups[i] !== "0") {
            i++;
            continue;
        }
        let j = i;
        while (j < groups.length && groups[j] === "0") {
            j++;
        }
        if (j - i > best.length && j - i > 1) {
            best = { start: i, length: j - i };
        }
        i = j;
    }
    if (best.start < 0) {
        return groups.join(":");
    }
    const left = groups.slice(0, best.start).join(":");
    const right = groups.slice(best.start + best.length).join(":");
    return `${left}::${right}`;
}

/**
 * Parses `a.b.c.d/n` or `x::y/n` (a bare address is a /32 or /128). Returns undefined for anything
 * else, or when the address has bits set past the prefix (10.0.0.1/8 is a typo for 10.0.0.0/8).
 */
export function parseCidr(text: string): AddressRange | undefined {
    const [address, prefixText, extra] = text.split("/");
    if (extra !== undefined) {
        return undefined;
    }
    const parsed = addressValue(address);
    if (parsed === undefined) {
        return undefined;
    }
    const bits = parsed.family === 4 ? IPV4_BITS : IPV6_BITS;
    if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) {
        return undefined;
    }
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (prefix > bits) {
        return undefined;
    }
    const hostBits = BigInt(bits - prefix);
    const hostMask = (1n << hostBits) - 1n;
    if ((parsed.value & hostMask) !== 0n) {
        return undefined;
    }
    return {
        family: parsed.family,
        first: parsed.value,
        last: parsed.value | hostMask,
        cidr: `${formatAddress(parsed.family, parsed.value)}/${prefix}`,
    };
}

/** Whether `range` holds `address`. */
export function rangeContains(range: AddressRange, address: string): boolean {
    const parsed = addressValue(address);
    return (
        parsed !== undefined &&
        parsed.family === range.family &&
        parsed.value >= range.first &&
        parsed.value <= range.last
    );
}

/** Whether two ranges share an address. */
export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
    return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** The range as coturn's peer lists take it: `first-last`, or one address for a single host. */
export function coturnRange(range: AddressRange): string {
    const first = formatAddress(range.family, range.first);
    return range.first === range.last
        ? first
        : `${first}-${formatAddress(range.family, range.last)}`;
}
