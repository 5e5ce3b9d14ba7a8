import * as assert from "assert";
import { createHash } from "crypto";
import {
    DRAIN_PERMISSIONS,
    rabbitPasswordHash,
    renderBrokerConfig,
    renderDefinitions,
} from "../../components/rabbitmq";

describe("RabbitMQ's config file and definitions", () => {
    const render = (memoryLimit: string) =>
        renderBrokerConfig({ memoryLimit, definitionsPath: "/etc/rabbitmq/defs.json" });

    it("computes the memory watermark from the container's limit, in bytes", () => {
        assert.match(render("512Mi"), /^total_memory_available_override_value = 536870912$/m);
        assert.match(render("2Gi"), /^total_memory_available_override_value = 2147483648$/m);
        assert.match(render("1G"), /^total_memory_available_override_value = 1000000000$/m);
        assert.match(render("512Mi"), /^vm_memory_high_watermark\.relative = 0\.4$/m);
        assert.throws(() => render("lots"), /not a quantity/);
    });

    it("imports users from definitions and lets Licode declare its transient queues", () => {
        const file = render("512Mi");
        assert.match(file, /^definitions\.import_backend = local_filesystem$/m);
        assert.match(file, /^definitions\.local\.path = \/etc\/rabbitmq\/defs\.json$/m);
        assert.match(file, /^deprecated_features\.permit\.transient_nonexcl_queues = true$/m);
        assert.doesNotMatch(file, /default_pass|password/, "no secret in the config file");
    });

    it("hashes passwords as RabbitMQ documents: base64(salt + sha256(salt + password))", () => {
        const hash = Buffer.from(rabbitPasswordHash("u", "test12"), "base64");
        assert.strictEqual(hash.length, 36);
        const salt = hash.subarray(0, 4);
        const expected = createHash("sha256")
            .update(Buffer.concat([salt, Buffer.from("test12")]))
            .digest();
        assert.deepStrictEqual(hash.subarray(4), expected);
        assert.strictEqual(rabbitPasswordHash("u", "test12"), rabbitPasswordHash("u", "test12"));
        assert.notStrictEqual(rabbitPasswordHash("u", "test12"), rabbitPasswordHash("u", "test13"));
    });

    it("defines the vhost, Licode's user and the drain user, whose rights stop at bindings", () => {
        const defs = JSON.parse(
            renderDefinitions([
                {
                    name: "licode",
                    password: "a",
                    tags: [],
                    configure: ".*",
                    write: ".*",
                    read: ".*",
                },
                { name: "licode-drain", password: "b", ...DRAIN_PERMISSIONS },
            ]),
        );
        assert.deepStrictEqual(defs.vhosts, [{ name: "/" }]);
        assert.deepStrictEqual(
            defs.users.map((u: { name: string; tags: string[] }) => [u.name, u.tags]),
            [
                ["licode", []],
                ["licode-drain", ["monitoring"]],
            ],
        );
        assert.ok(!JSON.stringify(defs).includes('"a"') && !JSON.stringify(defs).includes('"b"'));
        assert.deepStrictEqual(defs.permissions[1], {
            user: "licode-drain",
            vhost: "/",
            configure: "^$",
            write: "^ErizoAgent(_.+)?$",
            read: "^rpcExchange$",
        });
    });
});
