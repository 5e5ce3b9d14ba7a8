/**
 * The migration of a stack's generated values from the old dynamic resources to @pulumi/random:
 * every value kept (secrets as the ciphertext they are), the inputs the program now declares,
 * references moved. test/e2e case 10 runs it on a deployed stack.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the checkpoint format is JSON */
import * as assert from "assert";
import { migrateDeployment } from "../../tools/migrate-random/migrate";

const URN = "urn:pulumi:local::licode::";
const SECRET = {
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    ciphertext: "v1:abc",
};

function dynamic(parent: string, name: string, outputs: Record<string, unknown>) {
    return {
        urn: `${URN}licode:index:${parent}$pulumi-nodejs:dynamic:Resource::${name}`,
        custom: true,
        id: "293f47b0-9f27-482c-9136-8b86b2973981",
        type: "pulumi-nodejs:dynamic:Resource",
        inputs: {
            __provider: "src",
            format: outputs.format,
            length: outputs.length,
            keepers: outputs.keepers,
        },
        outputs: { __provider: "src", ...outputs },
        parent: `${URN}licode:index:${parent}::${parent.toLowerCase()}`,
        provider: `${URN}pulumi:providers:pulumi-nodejs::default::91621352`,
        protect: name === "superservice-id",
        propertyDependencies: { format: [], length: [] },
        additionalSecretOutputs: ["value"],
    };
}

describe("migrating generated values to @pulumi/random", () => {
    const deployment = {
        manifest: {},
        resources: [
            {
                urn: `${URN}pulumi:pulumi:Stack::licode-local`,
                custom: false,
                type: "pulumi:pulumi:Stack",
            },
            dynamic("MongoDb", "mongodb-password", {
                format: "alphanumeric",
                length: 32,
                keepers: {},
                value: SECRET,
            }),
            dynamic("Superservice", "superservice-id", {
                format: "hex",
                length: 24,
                keepers: {},
                value: "0123456789abcdef01234567",
            }),
            dynamic("Superservice", "superservice-key", {
                format: "alphanumeric",
                length: 32,
                keepers: { generation: "2" },
                value: SECRET,
            }),
            {
                urn: `${URN}licode:index:MongoDb$kubernetes:core/v1:Secret::mongodb-credentials`,
                custom: true,
                type: "kubernetes:core/v1:Secret",
                dependencies: [
                    `${URN}licode:index:MongoDb$pulumi-nodejs:dynamic:Resource::mongodb-password`,
                ],
                propertyDependencies: {
                    stringData: [
                        `${URN}licode:index:MongoDb$pulumi-nodejs:dynamic:Resource::mongodb-password`,
                    ],
                },
            },
        ],
    };
    const { deployment: migrated, moved } = migrateDeployment(structuredClone(deployment), "local");
    const byName = (name: string) =>
        migrated.resources.find((r: any) => r.urn.endsWith(`::${name}`));

    it("moves every generated value, with the inputs the program declares", () => {
        assert.strictEqual(moved.length, 3);
        const password = byName("mongodb-password");
        assert.strictEqual(password.type, "random:index/randomPassword:RandomPassword");
        assert.strictEqual(
            password.urn,
            `${URN}licode:index:MongoDb$random:index/randomPassword:RandomPassword::mongodb-password`,
        );
        assert.deepStrictEqual(password.inputs, { length: 32, special: false });
        assert.deepStrictEqual(password.outputs.result, SECRET, "the ciphertext, untouched");
        assert.strictEqual(password.parent, `${URN}licode:index:MongoDb::mongodb`);
        const key = byName("superservice-key");
        assert.deepStrictEqual(key.inputs, {
            length: 32,
            special: false,
            keepers: { generation: "2" },
        });
    });

    it("keeps the superservice ID, its protection, and RandomId's encodings of it", () => {
        const id = byName("superservice-id");
        assert.strictEqual(id.type, "random:index/randomId:RandomId");
        assert.deepStrictEqual(id.inputs, { byteLength: 12 });
        assert.strictEqual(id.outputs.hex, "0123456789abcdef01234567");
        assert.strictEqual(
            id.outputs.b64Url,
            Buffer.from("0123456789abcdef01234567", "hex").toString("base64url"),
        );
        assert.strictEqual(id.outputs.dec, BigInt("0x0123456789abcdef01234567").toString(10));
        assert.strictEqual(id.id, id.outputs.b64Url);
        assert.strictEqual(id.protect, true);
    });

    it("writes the outputs the official random plugin writes: every default, `id`, `__meta`", () => {
        // terraform-provider-random resource_password.go 557-751 (defaults, schema version 3) and
        // resource_id.go 115-121 (`id`, schema version 0); the shape is
        // tools/pulumi-build/cmd/pulumi-resource-random/official.go's.
        const password = byName("mongodb-password");
        assert.strictEqual(password.id, "none");
        assert.deepStrictEqual(password.outputs, {
            length: 32,
            special: false,
            upper: true,
            lower: true,
            number: true,
            numeric: true,
            minUpper: 0,
            minLower: 0,
            minNumeric: 0,
            minSpecial: 0,
            result: SECRET,
            id: "none",
            __meta: '{"schema_version":"3"}',
        });
        assert.deepStrictEqual(byName("superservice-key").outputs.keepers, { generation: "2" });
        const id = byName("superservice-id");
        assert.strictEqual(id.outputs.id, id.id);
        assert.strictEqual(id.outputs.__meta, undefined, "random_id has schema version 0");
        assert.strictEqual(id.outputs.byteLength, 12);
    });

    it("adds the default random provider once, before the resources that use it", () => {
        const providers = migrated.resources.filter(
            (r: any) => r.type === "pulumi:providers:random",
        );
        assert.strictEqual(providers.length, 1);
        const at = migrated.resources.indexOf(providers[0]);
        const provider = `${providers[0].urn}::${providers[0].id}`;
        for (const name of ["mongodb-password", "superservice-id", "superservice-key"]) {
            assert.strictEqual(byName(name).provider, provider);
            assert.ok(migrated.resources.indexOf(byName(name)) > at);
        }
        assert.deepStrictEqual(providers[0].inputs, { version: "4.21.2" });
    });

    it("points every reference at the new URNs", () => {
        const secret = byName("mongodb-credentials");
        const to = byName("mongodb-password").urn;
        assert.deepStrictEqual(secret.dependencies, [to]);
        assert.deepStrictEqual(secret.propertyDependencies.stringData, [to]);
    });

    it("does nothing to a stack already migrated", () => {
        const again = migrateDeployment(structuredClone(migrated), "local");
        assert.deepStrictEqual(again.moved, []);
        assert.deepStrictEqual(again.deployment, migrated);
    });
});
