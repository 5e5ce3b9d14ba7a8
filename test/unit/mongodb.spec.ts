import * as assert from "assert";
import { volumeName, wiredTigerCacheGb } from "../../components/mongodb";

describe("MongoDB helpers", () => {
    it("sizes the WiredTiger cache from the memory limit, as mongod does from RAM", () => {
        assert.strictEqual(wiredTigerCacheGb("512Mi"), 0.25);
        assert.strictEqual(wiredTigerCacheGb("1Gi"), 0.25);
        assert.strictEqual(wiredTigerCacheGb("2Gi"), 0.5);
        assert.strictEqual(wiredTigerCacheGb("8Gi"), 3.5);
    });

    it("names the cluster-wide volume after the namespace, so stacks never share one", () => {
        assert.strictEqual(volumeName("licode"), "licode-mongodb-data-licode");
        assert.notStrictEqual(volumeName("licode-dev"), volumeName("licode"));
    });
});
