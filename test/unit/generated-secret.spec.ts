import * as assert from "assert";
import { generatedSecretProvider } from "../../components/generated-secret";

const provider = generatedSecretProvider;
const create = provider.create.bind(provider);
const diff = (olds: object, news: object) => provider.diff?.call(provider, "id", olds, news);

describe("GeneratedSecret", () => {
    it("generates letters and digits of the asked length, different each time", async () => {
        const inputs = { format: "alphanumeric", length: 32, keepers: {} };
        const [a, b] = await Promise.all([create(inputs), create(inputs)]);
        assert.match(a.outs.value, /^[A-Za-z0-9]{32}$/);
        assert.notStrictEqual(a.outs.value, b.outs.value);
        assert.notStrictEqual(a.id, b.id);
    });

    it("generates hex, e.g. a 24-character MongoDB ObjectId", async () => {
        const result = await create({ format: "hex", length: 24, keepers: {} });
        assert.match(result.outs.value, /^[0-9a-f]{24}$/);
    });

    it("keeps the value unless its format, length or keepers change", async () => {
        const base = { format: "alphanumeric", length: 32, keepers: { generation: "1" } };
        assert.deepStrictEqual(await diff(base, { ...base }), {
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        const rotated = await diff(base, { ...base, keepers: { generation: "2" } });
        assert.deepStrictEqual(rotated?.replaces, ["keepers"]);
        assert.strictEqual(rotated?.changes, true);
    });
});
