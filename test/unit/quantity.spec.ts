import * as assert from "assert";
import { isQuantity, parseQuantity } from "../../components/quantity";

describe("parseQuantity", () => {
    const cases: [string | number, number][] = [
        ["250m", 0.25],
        ["0.5", 0.5],
        [2, 2],
        ["1e3", 1000],
        ["1E3", 1000],
        ["1k", 1000],
        ["512Mi", 512 * 2 ** 20],
        ["1.5Gi", 1.5 * 2 ** 30],
        ["2Ti", 2 * 2 ** 40],
        ["1M", 1e6],
        ["100n", 100e-9],
    ];
    for (const [text, value] of cases) {
        it(`reads ${JSON.stringify(text)} as ${value}`, () => {
            assert.ok(Math.abs((parseQuantity(text) ?? NaN) - value) < 1e-9 * Math.max(1, value));
        });
    }
    for (const text of ["", "Mi", "1.2.3", "12abc", "1 Gi", "1gi", "--1"]) {
        it(`rejects ${JSON.stringify(text)}`, () => {
            assert.strictEqual(parseQuantity(text), undefined);
            assert.strictEqual(isQuantity(text), false);
        });
    }
    it("rejects negative sizes", () => assert.strictEqual(isQuantity("-1Gi"), false));
});
