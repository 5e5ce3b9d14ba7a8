// Kubernetes resource quantities, parsed the way apimachinery's `resource.ParseQuantity` does.
//
//   <quantity>        ::= <sign><digits>[.<digits>]<suffix>     (either side of "." may be empty)
//   <suffix>          ::= <binarySI> | <decimalSI> | <decimalExponent>
//   <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
//   <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
//   <decimalExponent> ::= e<signed integer> | E<signed integer>      ("1E" alone is 1 exa)
//
// Values are kept exact (a BigInt fraction), so "0.1" equals "100m" and "256Mi" equals "0.25Gi".
// Numbers (as YAML or JSON sources give them, e.g. `cpu: 0.5`) are read through their decimal text.

/** An exact, non-reduced fraction. The denominator is always positive. */
export interface Quantity {
    readonly num: bigint;
    readonly den: bigint;
}

/** The outcome of parsing: a value, or the reason the text is not a quantity. */
export type ParsedQuantity = { ok: true; value: Quantity } | { ok: false; reason: string };

const DECIMAL_SI = new Map<string, number>([
    ["n", -9],
    ["u", -6],
    ["m", -3],
    ["", 0],
    ["k", 3],
    ["M", 6],
    ["G", 9],
    ["T", 12],
    ["P", 15],
    ["E", 18],
]);

const BINARY_SI = new Map<string, number>([
    ["Ki", 10],
    ["Mi", 20],
    ["Gi", 30],
    ["Ti", 40],
    ["Pi", 50],
    ["Ei", 60],
]);

// Exponents past this are accepted by no real workload; refusing them keeps BigInt work bounded.
const MAX_EXPONENT = 1000;

const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/;
const EXPONENT_RE = /^[eE]([+-]?\d+)$/;

/** Parses a quantity given as a string or a number. */
export function parseQuantity(input: unknown): ParsedQuantity {
    let text: string;
    if (typeof input === "number") {
        if (!Number.isFinite(input)) {
            return { ok: false, reason: "is not a finite number" };
        }
        text = String(input);
    } else if (typeof input === "string") {
        text = input;
    } else {
        return {
            ok: false,
            reason: `is a ${input === null ? "null" : typeof input}, not a quantity`,
        };
    }
    if (text === "") {
        return { ok: false, reason: "is an empty string" };
    }
    const m = NUMBER_RE.exec(text);
    if (!m) {
        return { ok: false, reason: "is not a Kubernetes quantity" };
    }
    const [, sign, intPart, fracPart = "", suffix] = m;
    let decExp = 0;
    let binExp = 0;
    const decimal = DECIMAL_SI.get(suffix);
    const binary = BINARY_SI.get(suffix);
    if (decimal !== undefined) {
        decExp = decimal;
    } else if (binary !== undefined) {
        binExp = binary;
    } else {
        const e = EXPONENT_RE.exec(suffix);
        if (!e) {
            return {
                ok: false,
                reason:
                    `has an unknown suffix "${suffix}" (use n, u, m, k, M, G, T, P, E, ` +
                    "Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3)",
            };
        }
        decExp = Number(e[1]);
        if (Math.abs(decExp) > MAX_EXPONENT) {
            return { ok: false, reason: "has an exponent out of range" };
        }
    }
    const digits = `${intPart}${fracPart}`;
    let num = BigInt(digits === "" ? "0" : digits) * (sign === "-" ? -1n : 1n);
    let den = 1n;
    const exp10 = decExp - fracPart.length;
    if (exp10 >= 0) {
        num *= 10n ** BigInt(exp10);
    } else {
        den *= 10n ** BigInt(-exp10);
    }
    num *= 2n ** BigInt(binExp);
    return { ok: true, value: { num, den } };
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compareQuantities(a: Quantity, b: Quantity): number {
    const l = a.num * b.den;
    const r = b.num * a.den;
    return l < r ? -1 : l > r ? 1 : 0;
}

/** a + b. */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
    return { num: a.num * b.den + b.num * a.den, den: a.den * b.den };
}

/** The zero quantity. */
export const ZERO: Quantity = { num: 0n, den: 1n };

/** True for zero. */
export function isZero(q: Quantity): boolean {
    return q.num === 0n;
}

/** True for values below zero. */
export function isNegative(q: Quantity): boolean {
    return q.num < 0n;
}
