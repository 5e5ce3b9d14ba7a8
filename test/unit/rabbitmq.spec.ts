import * as assert from "assert";
import { renderBrokerConfig } from "../../components/rabbitmq";

describe("RabbitMQ's config file", () => {
    const render = (memoryLimit: string, password = "s3cret") =>
        renderBrokerConfig({ username: "licode", password, memoryLimit });

    it("computes the memory watermark from the container's limit, in bytes", () => {
        assert.match(render("512Mi"), /^total_memory_available_override_value = 536870912$/m);
        assert.match(render("2Gi"), /^total_memory_available_override_value = 2147483648$/m);
        assert.match(render("1G"), /^total_memory_available_override_value = 1000000000$/m);
        assert.match(render("512Mi"), /^vm_memory_high_watermark\.relative = 0\.4$/m);
    });

    it("creates Licode's user and lets it declare Licode's transient queues", () => {
        const file = render("512Mi", "abc#def");
        assert.match(file, /^default_user = 'licode'$/m);
        assert.match(file, /^default_pass = 'abc#def'$/m, "quoted, so '#' starts no comment");
        assert.match(file, /^deprecated_features\.permit\.transient_nonexcl_queues = true$/m);
    });

    it("refuses values it could not write safely", () => {
        assert.throws(() => render("512Mi", "a'b"), /must not contain quotes/);
        assert.throws(() => render("lots"), /not a quantity/);
    });
});
