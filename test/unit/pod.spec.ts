import * as assert from "assert";
import { imageName, resourceRequirements } from "../../components/pod";

describe("pod builders", () => {
    it("pulls by digest when one is set, else by tag", () => {
        assert.strictEqual(
            imageName({ repository: "r/i", tag: "v1", pullPolicy: "IfNotPresent" }),
            "r/i:v1",
        );
        const digest = `sha256:${"f".repeat(64)}`;
        assert.strictEqual(
            imageName({ repository: "r/i", tag: "v1", digest, pullPolicy: "IfNotPresent" }),
            `r/i@${digest}`,
        );
    });

    it("writes ephemeral storage under the API's name", () => {
        const quantities = { cpu: "1", memory: "1Gi", ephemeralStorage: "2Gi" };
        assert.deepStrictEqual(resourceRequirements({ requests: quantities, limits: quantities }), {
            requests: { cpu: "1", memory: "1Gi", "ephemeral-storage": "2Gi" },
            limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": "2Gi" },
        });
    });
});
