/**
 * The broker as the program configures it, against a real RabbitMQ (Debian's rabbitmq-server
 * 3.10): the rendered config and definitions boot a blank node with the program's users, and the
 * drain user (kept in the definitions, see components/rabbitmq.ts) can change bindings and nothing
 * else. The media drain's routing runs against Licode's own agents in test/licode/drain-agent.spec.ts.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the management API */
import * as amqp from "amqp";
import * as assert from "assert";
import {
    DRAIN_PERMISSIONS,
    rabbitmqProbes,
    renderBrokerConfig,
    renderDefinitions,
} from "../../components/rabbitmq";
import { Broker, brokerInstalled, startBroker } from "./broker";

const LICODE = { name: "licode", password: "licode-pw" };
const DRAIN = { name: "licode-drain", password: "drain-pw" };
const TOTAL_MEMORY = 536870912;

/** The program's broker config. RabbitMQ 3.10 predates the 4.3-only permission key, which it would refuse. */
function brokerConfigFor310(): string {
    return renderBrokerConfig({
        memoryLimit: "512Mi",
        definitionsPath: "{{ETC}}/licode-definitions.json",
    })
        .split("\n")
        .filter((line) => !line.startsWith("deprecated_features."))
        .join("\n");
}

async function api(
    broker: Broker,
    method: string,
    apiPath: string,
    user: { name: string; password: string },
    body?: unknown,
): Promise<{ status: number; body: any }> {
    const response = await fetch(`http://127.0.0.1:${broker.managementPort}${apiPath}`, {
        method,
        headers: {
            authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString("base64")}`,
            "content-type": "application/json",
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
        parsed = JSON.parse(text);
    } catch {
        // not JSON
    }
    return { status: response.status, body: parsed };
}

function connect(broker: Broker, user = LICODE): Promise<amqp.Connection> {
    return new Promise((resolve, reject) => {
        const connection = amqp.createConnection(
            { host: "127.0.0.1", port: broker.amqpPort, login: user.name, password: user.password },
            { reconnect: false },
        );
        connection.once("ready", () => resolve(connection));
        connection.once("error", reject);
    });
}

/** The method of the test's own marker messages (see `flushed`); agents do not count them. */
const MARKER = "testMarker";

/**
 * An ErizoAgent's queues, declared as erizoAgent.js 299-305 and amqper.js 50, 108-114 do:
 * the direct exchange rpcExchange, the shared queue ErizoAgent and ErizoAgent_<id>, each bound
 * under its own name, both consumed. Records the createErizoJS requests it receives, and the
 * test's markers apart.
 */
async function agent(broker: Broker, id: string) {
    const connection = await connect(broker);
    const received: number[] = [];
    const markers = new Set<string>();
    await new Promise<void>((resolve) =>
        connection.exchange("rpcExchange", { type: "direct" }, () => resolve()),
    );
    const queues = new Map<string, amqp.Queue>();
    for (const name of ["ErizoAgent", `ErizoAgent_${id}`]) {
        await new Promise<void>((resolve) => {
            const queue = connection.queue(name, () => {
                queue.bind("rpcExchange", name, () => resolve());
                queue.subscribe((message) => {
                    if (message.method === MARKER) {
                        markers.add(String(message.key));
                    } else {
                        received.push(Number(message.corrID));
                    }
                });
            });
            queues.set(name, queue);
        });
    }
    const own = queues.get(`ErizoAgent_${id}`) as amqp.Queue;
    return { queue: `ErizoAgent_${id}`, received, connection, own, markers };
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check())) {
        if (Date.now() > end) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

describe("the broker as the program configures it (real RabbitMQ)", function () {
    this.timeout(180_000);
    let broker: Broker;
    const connections: amqp.Connection[] = [];

    before(async () => {
        assert.ok(
            brokerInstalled(),
            "these tests need a real broker: install Debian's rabbitmq-server (npm run setup does, as root)",
        );
        broker = await startBroker({
            confFiles: { "90-licode.conf": brokerConfigFor310() },
            etcFiles: {
                "licode-definitions.json": renderDefinitions([
                    { ...LICODE, tags: [], configure: ".*", write: ".*", read: ".*" },
                    { ...DRAIN, ...DRAIN_PERMISSIONS },
                ]),
            },
        });
    });
    after(async () => {
        connections.forEach((c) => c.end());
        await broker?.stop();
    });

    it("boots with the program's users only, and the memory limit it is given", async () => {
        const users = await broker.rabbitmqctl("list_users", "--silent");
        assert.deepStrictEqual(
            users
                .trim()
                .split("\n")
                .map((line) => line.split("\t")[0])
                .sort(),
            ["licode", "licode-drain"],
            "no guest user on a node that imports definitions",
        );
        await until(
            "the node's memory limit",
            async () => {
                const { body } = await api(broker, "GET", "/api/nodes", DRAIN);
                return Array.isArray(body) && body[0]?.mem_limit !== undefined;
            },
            30_000,
        );
        const { body } = await api(broker, "GET", "/api/nodes", DRAIN);
        assert.strictEqual(body[0].mem_limit, Math.floor(0.4 * TOTAL_MEMORY));
    });

    it("answers the liveness probe's command, which fails for a node that is not running", async () => {
        const command = (rabbitmqProbes().livenessProbe as { exec: { command: string[] } }).exec
            .command;
        await broker.cli(command);
        await assert.rejects(
            broker.cli(command, `licode-absent-${process.pid}@localhost`),
            /rabbitmq-diagnostics -q ping failed/,
        );
    });

    it("lets Licode's user speak AMQP but not use the management API", async () => {
        connections.push(await connect(broker));
        assert.strictEqual((await api(broker, "GET", "/api/whoami", LICODE)).status, 401);
    });

    it("lets the drain user change bindings of agents' queues, and nothing else", async () => {
        const a = await agent(broker, "probe");
        try {
            await checkDrainRights(a.queue);
        } finally {
            // Its consumer on the shared queue would take a share of the next test's requests.
            a.connection.end();
            await until("the probe agent gone", async () => {
                const { body } = await api(broker, "GET", "/api/queues/%2F/ErizoAgent", DRAIN);
                return body.consumers === 0 || body.error !== undefined;
            });
        }
    });

    async function checkDrainRights(queue: string): Promise<void> {
        assert.strictEqual((await api(broker, "GET", "/api/whoami", DRAIN)).status, 200);
        // What findSelf reads: the consumer's address, visible to a management user.
        // The management statistics catch up with a new consumer within a few seconds.
        let details: any;
        await until("the consumer in the queue's details", async () => {
            details = (await api(broker, "GET", `/api/queues/%2F/${queue}`, DRAIN)).body;
            return (details.consumer_details ?? []).length > 0;
        });
        assert.strictEqual(details.consumer_details[0].channel_details.peer_host, "127.0.0.1");

        const bindingPath = `/api/bindings/%2F/e/rpcExchange/q/${queue}`;
        assert.strictEqual(
            (await api(broker, "POST", bindingPath, DRAIN, { routing_key: "x" })).status,
            201,
        );
        assert.strictEqual((await api(broker, "DELETE", `${bindingPath}/x`, DRAIN)).status, 204);

        const refused = [
            ["declare a queue", "PUT", "/api/queues/%2F/other", { durable: false }],
            ["delete a queue", "DELETE", `/api/queues/%2F/${queue}`, undefined],
            [
                "publish to rpcExchange",
                "POST",
                "/api/exchanges/%2F/rpcExchange/publish",
                { properties: {}, routing_key: "nuve", payload: "{}", payload_encoding: "string" },
            ],
            [
                "read an agent's messages",
                "POST",
                `/api/queues/%2F/${queue}/get`,
                { count: 1, ackmode: "ack_requeue_true", encoding: "auto" },
            ],
            [
                "bind another queue",
                "POST",
                "/api/bindings/%2F/e/rpcExchange/q/amq.gen-x",
                { routing_key: "x" },
            ],
            ["manage users", "PUT", "/api/users/mallory", { password: "x", tags: "administrator" }],
        ] as const;
        for (const [what, method, apiPath, body] of refused) {
            const { status, body: answer } = await api(broker, method, apiPath, DRAIN, body);
            // The HTTP API refuses by status, or relays the AMQP channel's 403 ACCESS_REFUSED
            // inside a 400; a 404 would mean a missing object, not missing rights.
            const refusedForRights =
                status === 401 ||
                status === 403 ||
                (status === 400 && /ACCESS_REFUSED/.test(JSON.stringify(answer)));
            assert.ok(refusedForRights, `${what}: HTTP ${status} ${JSON.stringify(answer)}`);
        }
    }
});
