/** Kubernetes resource quantities: parsing and comparison for config validation. */

const QUANTITY =
    /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

const SUFFIX_FACTORS: Readonly<Record<string, number>> = {
    "": 1,
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
};

/**
 * Parses a quantity as the API server does ("250m", "1.5Gi", "1e3", 2) and returns its value in
 * base units, or undefined when the text is not a quantity.
 */
export function parseQuantity(value: string | number): number | undefined {
    if (typeof value === "number") {
        return Number.isFinite(value) ? value : undefined;
    }
    const match = QUANTITY.exec(value.trim());
    if (!match) {
        return undefined;
    }
    return Number(match[1]) * SUFFIX_FACTORS[match[2] ?? ""];
}

/** True when the value parses as a non-negative quantity. */
export function isQuantity(value: string | number): boolean {
    const parsed = parseQuantity(value);
    return parsed !== undefined && parsed >= 0;
}
