/**
 * Prints, as a JSON array, the random resources the migration writes for a stack like the program's
 * (two passwords, one with keepers, and the superservice ID), in the checkpoint format of
 * `pulumi stack export --show-secrets` (secrets as plaintext). tools/pulumi-build/official-random
 * feeds them to the official random plugin's code path:
 *
 *   npx ts-node --transpile-only tools/migrate-random/sample.ts > migrated.json
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the checkpoint format is JSON */
import { migrateDeployment } from "./migrate";

const STACK = "sample";
const URN = `urn:pulumi:${STACK}::licode::`;
/** The checkpoint's marker of a secret (sdk/go/common/resource/sig). */
const SECRET_SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

function secret(value: string): Record<string, string> {
    return { ...SECRET_SIG, plaintext: JSON.stringify(value) };
}

/** A generated value as the releases before @pulumi/random kept it (components/generated-secret.ts up to 84df9ee9). */
function dynamic(parent: string, name: string, outputs: Record<string, unknown>): any {
    return {
        urn: `${URN}licode:index:${parent}$pulumi-nodejs:dynamic:Resource::${name}`,
        custom: true,
        id: "1d7c3bd4-6a2e-4a53-9c4e-2f0a7d5b9e11",
        type: "pulumi-nodejs:dynamic:Resource",
        inputs: { __provider: "src", format: outputs.format, length: outputs.length },
        outputs: { __provider: "src", ...outputs },
        parent: `${URN}licode:index:${parent}::${parent.toLowerCase()}`,
        additionalSecretOutputs: ["value"],
    };
}

const deployment = {
    manifest: {},
    resources: [
        dynamic("MongoDb", "mongodb-password", {
            format: "alphanumeric",
            length: 32,
            keepers: {},
            value: secret("k3JQ9vX0aLmN2bR7tY5wZ8cD1eF4gH6i"),
        }),
        dynamic("Superservice", "superservice-key", {
            format: "alphanumeric",
            length: 32,
            keepers: { generation: "1" },
            value: secret("P0oI9uY8tR7eW6qA5sD4fG3hJ2kL1zXc"),
        }),
        dynamic("Superservice", "superservice-id", {
            format: "hex",
            length: 24,
            keepers: {},
            value: "64b7f0c2a9e14d3b8c5f2a71",
        }),
    ],
};

const { deployment: migrated } = migrateDeployment(deployment, STACK);
const random = migrated.resources.filter((r: any) => String(r.type).startsWith("random:index/"));
process.stdout.write(`${JSON.stringify(random, null, 2)}\n`);
