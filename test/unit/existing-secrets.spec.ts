/**
 * Bring-your-own Secrets: operators point the stack at their own Secrets for MongoDB's root user,
 * Licode's RabbitMQ user and Nuve's superservice; the stack reads them from the cluster and uses
 * them where it would use generated values, and pods read them from those Secrets directly.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import * as assert from "assert";
import * as vm from "vm";
import { ConfigError, parseStackConfig } from "../../components/config";
import { rabbitPasswordHash } from "../../components/rabbitmq";
import { superserviceId } from "../../components/superservice";
import { decodeSecretKeys } from "../../components/tier";
import {
    ClusterObjects,
    GENERATED_TYPES,
    ProgramRun,
    StackResource,
    runProgram,
    stackConfig,
} from "../harness/program";

const NS = "licode-dev";
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const secret = (data: Record<string, string>) => ({
    metadata: { name: "x", namespace: NS },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

/** The operator's namespace and Secrets, as the cluster holds them. */
function cluster(overrides: Record<string, Record<string, string>> = {}): ClusterObjects {
    const secrets: Record<string, Record<string, string>> = {
        "mongodb-root": { user: "admin", pass: "p@ss:w/rd#1" },
        "rabbitmq-licode": { username: "licode-app", password: "amqp pw&2" },
        "nuve-superservice": { id: "0123456789abcdef01234567", key: "the-key" },
        ...overrides,
    };
    return {
        [`kubernetes:core/v1:Namespace ${NS}`]: { metadata: { name: NS } },
        ...Object.fromEntries(
            Object.entries(secrets).map(([name, data]) => [
                `kubernetes:core/v1:Secret ${NS}/${name}`,
                secret(data),
            ]),
        ),
    };
}

function withExisting(): Record<string, unknown> {
    const base = stackConfig("dev");
    return {
        ...base,
        createNamespace: false,
        mongodb: {
            ...(base.mongodb as object),
            existingSecret: { name: "mongodb-root", usernameKey: "user", passwordKey: "pass" },
        },
        rabbitmq: { ...(base.rabbitmq as object), existingSecret: { name: "rabbitmq-licode" } },
        superservice: { existingSecret: { name: "nuve-superservice" } },
    };
}

const kindOf = (r: StackResource) => r.type.split(":").pop() ?? "";
const find = (run: ProgramRun, kind: string, name: string) => {
    const found = run.resources.find((r) => kindOf(r) === kind && r.name === name);
    assert.ok(found, `no ${kind} ${name}`);
    return found;
};

describe("the operator's own Secrets", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("dev", withExisting(), cluster());
    });

    it("generates none of the values it is given, and creates no namespace", () => {
        const generated = run.resources
            .filter((r) => GENERATED_TYPES.includes(r.type))
            .map((r) => r.name);
        assert.deepStrictEqual(generated.sort(), ["rabbitmq-drain-password"]);
        assert.ok(!run.resources.some((r) => kindOf(r) === "Namespace" && r.props.metadata));
    });

    it("lets MongoDB read its root user from the operator's Secret, by the keys given", () => {
        const env = find(run, "StatefulSet", "mongodb").props.spec.template.spec.containers[0].env;
        const ref = (name: string) => env.find((e: any) => e.name === name).valueFrom.secretKeyRef;
        assert.deepStrictEqual(ref("MONGO_INITDB_ROOT_USERNAME"), {
            name: "mongodb-root",
            key: "user",
        });
        assert.deepStrictEqual(ref("MONGO_INITDB_ROOT_PASSWORD"), {
            name: "mongodb-root",
            key: "pass",
        });
    });

    it("puts the given credentials, escaped, into Licode's config, and the superservice into both", () => {
        const source: string = find(run, "Secret", "licode-config").props.stringData[
            "licode_config.js"
        ];
        const module = { exports: {} as any };
        vm.runInNewContext(source, { module, process: { env: {} } });
        const config = module.exports;
        assert.strictEqual(
            config.nuve.dataBaseURL,
            `mongodb://admin:${encodeURIComponent("p@ss:w/rd#1")}@licode-mongodb.licode-dev.svc:27017/nuvedb?authSource=admin`,
        );
        assert.strictEqual(
            config.rabbit.url,
            `amqp://licode-app:${encodeURIComponent("amqp pw&2")}@licode-rabbitmq.licode-dev.svc:5672`,
        );
        assert.strictEqual(config.nuve.superserviceID, "0123456789abcdef01234567");
        assert.strictEqual(config.nuve.superserviceKey, "the-key");
        assert.strictEqual(run.outputs.superserviceId, "0123456789abcdef01234567");
        const job = find(run, "Secret", "superservice").props.stringData;
        assert.strictEqual(job.id, "0123456789abcdef01234567");
    });

    it("creates the broker's Licode user from the operator's Secret", () => {
        const defs = JSON.parse(
            find(run, "Secret", "rabbitmq-definitions").props.stringData["licode-definitions.json"],
        );
        const user = defs.users.find((u: any) => u.name === "licode-app");
        assert.strictEqual(user.password_hash, rabbitPasswordHash("licode-app", "amqp pw&2"));
    });

    it("fails, naming the key to fix, when a Secret lacks a key", () => {
        const existing = {
            name: "mongodb-root",
            keys: { username: "user", password: "pass" },
            configKey: "licode:mongodb.existingSecret",
        };
        assert.deepStrictEqual(decodeSecretKeys({ user: b64("a"), pass: b64("b") }, existing), {
            username: "a",
            password: "b",
        });
        assert.throws(
            () => decodeSecretKeys({ user: b64("admin") }, existing),
            /^Error: licode:mongodb\.existingSecret: Secret "mongodb-root" has no key "pass" \(password\); add the key to the Secret, or set licode:mongodb\.existingSecret\.<field>Key/,
        );
    });

    it("fails when a superservice ID is no ObjectId", () => {
        const existing = {
            name: "nuve-superservice",
            keys: { id: "id", key: "key" },
            configKey: "licode:superservice.existingSecret",
        };
        assert.throws(() => superserviceId("not-an-id", existing), /must hold a MongoDB ObjectId/);
        assert.strictEqual(
            superserviceId("0123456789abcdef01234567", existing),
            "0123456789abcdef01234567",
        );
    });

    describe("config", () => {
        const problems = (raw: Record<string, unknown>) => {
            try {
                parseStackConfig(raw);
            } catch (error) {
                assert.ok(error instanceof ConfigError);
                return error.problems.map((p) => `${p.key}: ${p.message}`);
            }
            return [];
        };
        const VALID = { networkPolicy: { enabled: false }, createNamespace: false };

        it("needs a namespace made beforehand, since the Secrets must exist before the first up", () => {
            const found = problems({
                networkPolicy: { enabled: false },
                mongodb: { existingSecret: { name: "mongodb-root" } },
            });
            assert.strictEqual(found.length, 1);
            assert.match(found[0], /^licode:createNamespace: .*set createNamespace: false/);
        });

        it("refuses a Secret the stack generates itself", () => {
            const found = problems({
                ...VALID,
                rabbitmq: { existingSecret: { name: "rabbitmq-credentials-1a2b3c4" } },
            });
            assert.strictEqual(found.length, 1);
            assert.match(found[0], /^licode:rabbitmq\.existingSecret\.name: .*the stack generates/);
        });

        it("refuses combinations that cannot work", () => {
            assert.match(
                problems({
                    ...VALID,
                    storage: { kind: "external", url: "mongodb://x/nuvedb" },
                    mongodb: { existingSecret: { name: "mongodb-root" } },
                }).join("\n"),
                /licode:mongodb\.existingSecret: an external MongoDB/,
            );
            assert.match(
                problems({
                    ...VALID,
                    superservice: { keyGeneration: 2, existingSecret: { name: "s" } },
                }).join("\n"),
                /licode:superservice\.keyGeneration: keyGeneration rotates a generated key/,
            );
            assert.match(
                problems({
                    ...VALID,
                    renderYamlToDirectory: "out",
                    superservice: { existingSecret: { name: "s" } },
                }).join("\n"),
                /licode:renderYamlToDirectory: your Secrets are read from the cluster/,
            );
        });

        it("takes the usual key names by default", () => {
            const config = parseStackConfig({
                ...VALID,
                mongodb: { existingSecret: { name: "mongodb-root" } },
            });
            assert.deepStrictEqual(config.mongodb.existingSecret, {
                name: "mongodb-root",
                keys: { username: "username", password: "password" },
                configKey: "licode:mongodb.existingSecret",
            });
        });
    });
});
