/**
 * Licode v10's own code, run as processes (test/licode/cluster.ts): Nuve, an ErizoController, an ErizoAgent
 * with its ErizoJS workers and ROV, on Node.js 12 from the cached tree, with a real RabbitMQ, FerretDB as the
 * MongoDB-wire stand-in, and the erizoAPI stand-in for the native media addon. The smoke client
 * (tools/smoke/) makes a session through them: what passes here is Licode's signalling, end to end; media
 * does not flow (the stand-in runs no ICE, DTLS, SRTP or RTP).
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SmokeResult, runSmoke } from "../../tools/smoke/session";
import { LicodeCluster, LicodeProcess, httpGet, waitFor } from "./cluster";

const ROOT = path.resolve(__dirname, "../..");

/** Local UDP ports bound in [min, max], from /proc/net/udp (hex ports, column 2 "address:port"). */
function udpPortsBound(min: number, max: number): number[] {
    const ports: number[] = [];
    for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
        if (!fs.existsSync(file)) {
            continue;
        }
        for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
            const local = line.trim().split(/\s+/)[1];
            if (local === undefined) {
                continue;
            }
            const port = parseInt(local.split(":").pop() ?? "", 16);
            if (port >= min && port <= max) {
                ports.push(port);
            }
        }
    }
    return ports;
}

/** A metric's value in Prometheus text, or undefined. */
function metric(text: string, name: string): number | undefined {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(" ")[1]);
}

describe("Licode v10 as processes: a client session through upstream's tiers (erizoAPI stand-in)", function () {
    // The first run builds the tree (npm installs, ~8 min on 2 cores) and FerretDB.
    this.timeout(45 * 60_000);

    let cluster: LicodeCluster | undefined;
    let agent: LicodeProcess;
    let rovPort: number;
    // A UDP range nothing else here uses, so the stand-in's bound sockets can be counted.
    const mediaPorts = { min: 47100, max: 47149 };

    before(async () => {
        cluster = await LicodeCluster.start();
        await cluster.startNuve();
        await cluster.startController("erizo-controller");
        agent = await cluster.startAgent("erizo-agent", { mediaPorts });
        rovPort = (await cluster.startRov("rov", 1000)).port;
    });

    after(async () => {
        await cluster?.stop();
    });

    /** Fails with every process's recent output, so a broken tier explains itself. */
    function explain(result: SmokeResult, lines: readonly string[]): string {
        return `${lines.join("\n")}\n${cluster!.tails()}`;
    }

    it("creates a room and tokens, joins, publishes and subscribes (both negotiated by ErizoJS), reports stats, then removes it all", async () => {
        const lines: string[] = [];
        let metricsWhileConnected = "";
        const result = await runSmoke({
            nuveUrl: cluster!.nuveUrl,
            credentials: {
                serviceId: cluster!.superservice.id,
                serviceKey: cluster!.superservice.key,
            },
            timeoutMs: 30_000,
            expectReady: true,
            report: (line) => lines.push(line),
            whileConnected: async () => {
                // ROV asks the controllers and ErizoJS over AMQP every second (rovMetricsGatherer.js).
                metricsWhileConnected = await waitFor(
                    "ROV to count one room, one publisher and one subscriber",
                    async () => {
                        const body = (await httpGet(rovPort, "/metrics"))?.body ?? "";
                        const counts = [
                            "active_rooms",
                            "total_publishers",
                            "total_subscribers",
                            "total_publishers_erizojs",
                        ].map((name) => metric(body, `licode_${name}`));
                        return counts.every((count) => count === 1) ? body : undefined;
                    },
                    30_000,
                    () => cluster!.process("rov").tail(),
                );
                const bound = udpPortsBound(mediaPorts.min, mediaPorts.max);
                assert.strictEqual(
                    bound.length,
                    2,
                    `one UDP socket per connection in ${mediaPorts.min}-${mediaPorts.max}, got ${bound}`,
                );
                return `ROV counts 1 room, 1 publisher, 1 subscriber; UDP ports ${bound.join(", ")} bound`;
            },
        });
        assert.ok(result.ok, explain(result, lines));
        assert.deepStrictEqual(
            result.steps.map((step) => step.name),
            [
                "create room",
                "token for the publisher",
                "publisher joins",
                "publish (ErizoController asks an ErizoAgent for an ErizoJS)",
                "publish offer answered by ErizoJS",
                "publish connection ready",
                "token for the subscriber",
                "subscriber joins",
                "subscribe",
                "subscribe offer from ErizoJS",
                "subscribe answered",
                "stream stats",
                "checks while connected",
                "unsubscribe",
                "unpublish",
                "delete room",
            ],
        );
        assert.match(metricsWhileConnected, /^licode_active_erizojs_processes 1$/m);

        // The ErizoJS the controller named is one the agent launched, and it loaded the stand-in.
        assert.match(
            agent.log,
            new RegExp(`launched new ErizoJS, erizoId: ${result.publisherErizoId}`),
        );
        assert.match(
            agent.log,
            new RegExp(`\\[erizo-${result.publisherErizoId}\\] erizoAPI stand-in loaded`),
        );

        // Stats come from ErizoJS through the stand-in, for the publisher and the subscriber.
        const stats = result.stats as Record<
            string,
            { connection?: { erizoApiStandIn?: boolean }; erizoApiStandIn?: boolean }
        >;
        assert.strictEqual(stats.publisher.erizoApiStandIn, true);
        assert.strictEqual(stats.publisher.connection?.erizoApiStandIn, true);
        assert.strictEqual(stats[result.subscriberClientId!].erizoApiStandIn, true);

        // Once its clients are gone ErizoJS exits and the agent starts another (erizoJSController.js 152-160,
        // erizoAgent.js 167-189); the connections' UDP sockets are closed; ROV sees the room gone.
        await agent.waitForLine(new RegExp(`closed, erizoId: ${result.publisherErizoId}`), 30_000);
        await waitFor(
            "the stand-in's UDP sockets to close",
            () => (udpPortsBound(mediaPorts.min, mediaPorts.max).length === 0 ? true : undefined),
            30_000,
        );
        await waitFor(
            "ROV to count no room",
            async () =>
                metric((await httpGet(rovPort, "/metrics"))?.body ?? "", "licode_active_rooms") ===
                0
                    ? true
                    : undefined,
            30_000,
        );
    });

    it("fails at the first step, removes nothing it did not make, and says why, when the service key is wrong", async () => {
        const lines: string[] = [];
        const result = await runSmoke({
            nuveUrl: cluster!.nuveUrl,
            credentials: { serviceId: cluster!.superservice.id, serviceKey: "not-the-key" },
            timeoutMs: 10_000,
            expectReady: true,
            report: (line) => lines.push(line),
        });
        assert.strictEqual(result.ok, false);
        assert.strictEqual(result.steps[0].status, "fail");
        assert.match(result.steps[0].detail, /Nuve answered HTTP 401/);
        assert.ok(
            result.steps.slice(1).every((step) => step.status === "skip"),
            lines.join("\n"),
        );
        assert.ok(!result.steps.some((step) => step.name === "delete room"));
    });

    it("`npm run smoke` exits 0 and prints PASS per step for a working stack, 1 for a failing one", async () => {
        const smoke = (key: string) =>
            new Promise<{ code: number | null; out: string }>((resolve) => {
                const child = spawn(
                    "npm",
                    [
                        "run",
                        "--silent",
                        "smoke",
                        "--",
                        "--nuve-url",
                        cluster!.nuveUrl,
                        "--service-id",
                        cluster!.superservice.id,
                        "--expect-ready",
                    ],
                    {
                        cwd: ROOT,
                        env: { ...process.env, LICODE_SMOKE_SERVICE_KEY: key },
                        stdio: ["ignore", "pipe", "pipe"],
                    },
                );
                let out = "";
                child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
                child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
                child.on("close", (code) => resolve({ code, out }));
            });
        const good = await smoke(cluster!.superservice.key);
        assert.strictEqual(good.code, 0, `${good.out}\n${cluster!.tails()}`);
        assert.match(good.out, /^PASS publish offer answered by ErizoJS \(\d+ ms\): /m);
        assert.match(good.out, /^PASS delete room \(\d+ ms\): /m);
        assert.match(good.out, /^smoke: all 15 steps passed$/m);
        const bad = await smoke("not-the-key");
        assert.strictEqual(bad.code, 1, bad.out);
        assert.match(
            bad.out,
            /^FAIL create room \(\d+ ms\): create the room: Nuve answered HTTP 401/m,
        );
        assert.match(bad.out, /^SKIP token for the publisher: needs a room$/m);
    });
});
