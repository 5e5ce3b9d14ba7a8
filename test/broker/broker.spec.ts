/**
 * Proves the RabbitMQ test harness (./broker) itself: real brokers from the Debian package
 * rabbitmq-server, configured through conf.d files and a definitions file.
 *
 * Run: npx mocha --no-config -r ts-node/register/transpile-only --timeout 180000 test/broker/broker.spec.ts
 */
import * as amqp from "amqp";
import * as assert from "assert";
import { createHash, randomBytes } from "crypto";
import { Broker, BrokerOptions, brokerInstalled, startBroker } from "./broker";

const TOTAL_MEMORY = 536870912;
/** RabbitMQ 3.10's default vm_memory_high_watermark.relative. */
const DEFAULT_WATERMARK = 0.4;

/** Starts a broker, failing (never skipping) when RabbitMQ is not installed. */
async function requireBroker(options?: BrokerOptions): Promise<Broker> {
    assert.ok(
        brokerInstalled(),
        "RabbitMQ is not installed: these tests need a real broker. Install the Debian package " +
            "with `apt-get install rabbitmq-server` (no service needs to run).",
    );
    return startBroker(options);
}

/** RabbitMQ's password_hash: base64(salt + sha256(salt + utf8 password)), 4-byte salt. */
function rabbitPasswordHash(password: string): string {
    const salt = randomBytes(4);
    const hash = createHash("sha256")
        .update(Buffer.concat([salt, Buffer.from(password, "utf8")]))
        .digest();
    return Buffer.concat([salt, hash]).toString("base64");
}

async function getApi(
    broker: Broker,
    apiPath: string,
    user: string,
    password: string,
): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${broker.managementPort}${apiPath}`, {
        headers: {
            Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
        },
        signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
        body = JSON.parse(text);
    } catch {
        // not JSON: keep the text
    }
    return { status: response.status, body };
}

/** Opens an AMQP 0-9-1 connection with node-amqp, then closes it; resolves once it was ready. */
function amqpConnect(port: number, login: string, password: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const connection = amqp.createConnection(
            { host: "127.0.0.1", port, login, password, connectionTimeout: 10_000 },
            { reconnect: false },
        );
        const timer = setTimeout(() => {
            connection.end();
            reject(new Error(`no AMQP connection to port ${port} within 15 s`));
        }, 15_000);
        connection.once("ready", () => {
            clearTimeout(timer);
            connection.once("close", () => resolve());
            connection.disconnect();
        });
        connection.once("error", (error: Error) => {
            clearTimeout(timer);
            connection.end();
            reject(error);
        });
    });
}

describe("RabbitMQ test broker harness", function () {
    this.timeout(120000);

    describe("a broker with a conf.d file", function () {
        let broker: Broker | undefined;

        before(async function () {
            broker = await requireBroker({
                confFiles: {
                    "90-test.conf": `total_memory_available_override_value = ${TOTAL_MEMORY}\n`,
                },
            });
        });

        after(async function () {
            await broker?.stop();
        });

        it("applies the conf file: mem_limit is 0.4 x the overridden total memory", async function () {
            // The node's stats (mem_limit among them) appear with the first stats emission,
            // up to collect_statistics_interval (5 s) after boot: until then /api/nodes only
            // lists the node's name and type.
            type Node = { name: string; mem_limit?: number };
            let nodes: Node[] = [];
            for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
                const { status, body } = await getApi(broker!, "/api/nodes", "guest", "guest");
                assert.strictEqual(status, 200, JSON.stringify(body));
                nodes = body as Node[];
                if (nodes[0]?.mem_limit !== undefined) {
                    break;
                }
                await new Promise((resolve) => setTimeout(resolve, 250));
            }
            assert.strictEqual(nodes.length, 1);
            assert.notStrictEqual(nodes[0].mem_limit, undefined, "no mem_limit within 30 s");
            const expected = DEFAULT_WATERMARK * TOTAL_MEMORY;
            assert.ok(
                Math.abs(nodes[0].mem_limit! - expected) <= 4,
                `mem_limit ${nodes[0].mem_limit} is not ${expected}`,
            );
        });

        it("accepts an AMQP 0-9-1 connection from node-amqp", async function () {
            await amqpConnect(broker!.amqpPort, "guest", "guest");
        });

        it("runs rabbitmqctl against its own node", async function () {
            const users = JSON.parse(
                await broker!.rabbitmqctl("list_users", "--formatter", "json"),
            ) as { user: string }[];
            assert.deepStrictEqual(
                users.map((u) => u.user),
                ["guest"],
            );
            await assert.rejects(broker!.rabbitmqctl("no_such_command"), /no_such_command/);
        });
    });

    describe("a broker importing a definitions file", function () {
        const alicePassword = "wonderland-" + randomBytes(4).toString("hex");
        let broker: Broker | undefined;

        before(async function () {
            const definitions = {
                vhosts: [{ name: "/" }],
                users: [
                    {
                        name: "alice",
                        password_hash: rabbitPasswordHash(alicePassword),
                        hashing_algorithm: "rabbit_password_hashing_sha256",
                        tags: ["management"],
                    },
                ],
                permissions: [
                    { user: "alice", vhost: "/", configure: ".*", write: ".*", read: ".*" },
                ],
            };
            broker = await requireBroker({
                etcFiles: { "definitions.json": JSON.stringify(definitions, null, 4) },
                confFiles: {
                    "90-definitions.conf":
                        "definitions.import_backend = local_filesystem\n" +
                        "definitions.local.path = {{ETC}}/definitions.json\n",
                },
            });
        });

        after(async function () {
            await broker?.stop();
        });

        it("lets alice log into the management API", async function () {
            const { status, body } = await getApi(broker!, "/api/whoami", "alice", alicePassword);
            assert.strictEqual(status, 200, JSON.stringify(body));
            const whoami = body as { name: string; tags: string[] | string };
            assert.strictEqual(whoami.name, "alice");
            assert.deepStrictEqual(whoami.tags, ["management"]);
        });

        it("lets alice connect over AMQP with full permissions on /", async function () {
            await amqpConnect(broker!.amqpPort, "alice", alicePassword);
            const permissions = JSON.parse(
                await broker!.rabbitmqctl("list_user_permissions", "alice", "--formatter", "json"),
            ) as unknown[];
            assert.deepStrictEqual(permissions, [
                { vhost: "/", configure: ".*", write: ".*", read: ".*" },
            ]);
        });

        it("creates no default guest user", async function () {
            const { status } = await getApi(broker!, "/api/whoami", "guest", "guest");
            assert.strictEqual(status, 401);
            const users = JSON.parse(
                await broker!.rabbitmqctl("list_users", "--formatter", "json"),
            ) as { user: string }[];
            assert.deepStrictEqual(
                users.map((u) => u.user),
                ["alice"],
            );
        });
    });
});
