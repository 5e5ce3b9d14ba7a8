import * as assert from "assert";
import {
    checksum,
    fullname,
    labels,
    selectorLabels,
    truncateName,
    versionLabel,
} from "../../components/meta";

describe("meta", () => {
    it("names tiers licode-<tier>[-suffix]", () => {
        assert.strictEqual(fullname("nuve"), "licode-nuve");
        assert.strictEqual(fullname("erizo-agent", "primary"), "licode-erizo-agent-primary");
    });

    it("truncates names to 63 characters without a trailing dash", () => {
        const name = truncateName(`${"a".repeat(62)}-b`);
        assert.strictEqual(name, "a".repeat(62));
        assert.ok(fullname("erizo-agent", "x".repeat(80)).length <= 63);
    });

    it("selects on name and instance only", () => {
        assert.deepStrictEqual(selectorLabels("mongodb", "licode-prod"), {
            "app.kubernetes.io/name": "mongodb",
            "app.kubernetes.io/instance": "licode-prod",
        });
    });

    it("labels objects with the five app.kubernetes.io labels", () => {
        assert.deepStrictEqual(labels("erizo-controller", "licode-dev", "v10"), {
            "app.kubernetes.io/name": "erizo-controller",
            "app.kubernetes.io/instance": "licode-dev",
            "app.kubernetes.io/component": "signaling",
            "app.kubernetes.io/part-of": "licode",
            "app.kubernetes.io/version": "v10",
        });
    });

    it("cleans versions into label values", () => {
        assert.strictEqual(versionLabel(`sha256:${"ab".repeat(32)}`), "ab".repeat(31) + "a");
        assert.strictEqual(versionLabel("1.0+build/7"), "1.0-build-7");
        assert.match(versionLabel("-x-"), /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    });

    it("sums equal data equally, whatever the key order, and different data differently", () => {
        assert.strictEqual(
            checksum({ a: 1, b: { c: 2, d: 3 } }),
            checksum({ b: { d: 3, c: 2 }, a: 1 }),
        );
        assert.notStrictEqual(checksum({ a: 1 }), checksum({ a: 2 }));
        assert.match(checksum("x"), /^[0-9a-f]{64}$/);
    });
});
