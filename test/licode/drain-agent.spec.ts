/**
 * The ErizoAgent drain against Licode v10 run as processes (test/licode/cluster.ts): Nuve, an ErizoController,
 * several ErizoAgents with the erizoAPI stand-in (media does not flow), ROV and a real RabbitMQ. The draining
 * agent runs as its container does (bash as PID 1 of its own PID namespace) and the hook runs there as the
 * kubelet runs it: the exact script components/hooks.ts renders.
 *
 * A rollout, step by step: a publisher on the agent about to drain, two more agents, the drain; then new
 * publishers, a publish that reuses the room's slot on the draining agent, an agent that starts meanwhile while
 * a stand-in controller asks for ErizoJS fifty times a second, ROV read at each step, and the drain's end.
 */
import * as assert from "assert";
import * as dgram from "dgram";
import * as net from "net";
import * as fs from "fs";
import * as path from "path";
import { LICODE } from "../../components/images";
import { LicodeCluster, LicodeProcess, PreStopRun, waitFor } from "./cluster";
import {
    ErizoRequester,
    Publisher,
    agentIds,
    drainUnderTest,
    erizosOf,
    hookLog,
    nuveOf,
    publish,
    rovShows,
} from "./drain-support";

/** UDP ranges of their own, so each agent's drain counts only its own sessions. */
const RANGES = [47200, 47220, 47240, 47260, 47280].map((min) => ({ min, max: min + 19 }));
const QUIET_SECONDS = 3;

/** A TCP port that forwards to `target` only while open(): a broker or an API that is down, then back. */
class Gate {
    private server: net.Server | undefined;
    private readonly sockets = new Set<net.Socket>();
    constructor(
        readonly port: number,
        private readonly target: number,
    ) {}

    async open(): Promise<void> {
        this.server = net.createServer((socket) => {
            const upstream = net.connect(this.target, "127.0.0.1");
            for (const s of [socket, upstream]) {
                this.sockets.add(s);
                s.on("error", () => undefined);
                s.on("close", () => this.sockets.delete(s));
            }
            socket.pipe(upstream).pipe(socket);
        });
        await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    }

    async close(): Promise<void> {
        this.sockets.forEach((s) => s.destroy());
        await new Promise((resolve) =>
            this.server ? this.server.close(resolve) : resolve(undefined),
        );
        this.server = undefined;
    }
}

/**
 * LICODE_DIR for a helper that must reach the broker through `amqpPort`: the agent's own config with the broker
 * moved, and the rest of its tree linked.
 */
function licodeDirVia(agent: LicodeProcess, dir: string, amqpPort: number): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(
        path.join(agent.runDir!, "erizo_controller"),
        path.join(dir, "erizo_controller"),
    );
    const config = fs.readFileSync(path.join(agent.runDir!, "licode_config.js"), "utf8");
    fs.writeFileSync(
        path.join(dir, "licode_config.js"),
        `${config}\nconfig.rabbit.url = "amqp://guest:guest@127.0.0.1:${amqpPort}";\n`,
    );
    return dir;
}

describe(`ErizoAgent drain on Licode v10 as processes (${drainUnderTest.label})`, function () {
    this.timeout(20 * 60_000);

    let cluster: LicodeCluster;
    let rovPort: number;
    let agents: LicodeProcess[];
    let ids: string[];
    let requester: ErizoRequester;
    let firstPublisher: Publisher;
    let firstRoomId: string;
    let reusing: Publisher;
    let hook: Promise<PreStopRun>;
    let hookStarted = 0;
    const logFile = () => path.join(cluster.dir, "ea-1.hook.log");
    const nameOf = (agentId: string) => `ea-${ids.indexOf(agentId) + 1}`;
    const explain = () => `${hookLog(logFile())}\n${cluster.tails(25)}`;

    const hookEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
        LICODE_HOOK_LOG: logFile(),
        LICODE_DRAIN_DIR: drainUnderTest.helpers,
        // What an earlier drain needs: the management API, a user, and (all agents connect from this one
        // host) which queue is its agent's.
        RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${cluster.broker.managementPort}`,
        RABBITMQ_DRAIN_USER: "guest",
        RABBITMQ_DRAIN_PASSWORD: "guest",
        LICODE_AGENT_QUEUE: `ErizoAgent_${ids[0]}`,
        ...extra,
    });

    before(async () => {
        cluster = await LicodeCluster.start();
        await cluster.startNuve();
        // One ErizoJS slot a room: a room's second publisher reuses the slot of its first (roomController.js 87-116).
        await cluster.startController("ec", { maxErizosUsedByRoom: 1 });
        agents = [await cluster.startAgent("ea-1", { mediaPorts: RANGES[0], container: true })];
        rovPort = (await cluster.startRov("rov", 1000)).port;
        // The first publisher can only land on ea-1: its room keeps a slot there.
        const nuve = nuveOf(cluster);
        const room = await nuve.createRoom("drain-agent-first");
        firstRoomId = room._id;
        firstPublisher = await publish(nuve, room._id, "first");
        agents.push(await cluster.startAgent("ea-2", { mediaPorts: RANGES[1] }));
        agents.push(await cluster.startAgent("ea-3", { mediaPorts: RANGES[2] }));
        requester = await ErizoRequester.start(cluster);
        ids = await agentIds(requester, agents);
        assert.ok(erizosOf(agents[0]).includes(firstPublisher.erizoId), explain());
        await rovShows(
            rovPort,
            { total_publishers: 1, active_erizojs_processes: 3 },
            30_000,
            explain,
        );
    });

    after(async () => {
        requester?.close();
        await firstPublisher?.close();
        await reusing?.close();
        await cluster?.stop();
    });

    it("sends new publishers to the agents that do not drain, spread over them, while the draining one keeps its sessions", async () => {
        hookStarted = Date.now();
        hook = cluster.preStop(
            agents[0],
            drainUnderTest.hooks.agentDrainScript(
                {
                    process: LICODE.processes.erizoAgent,
                    helper: { file: "media-routing.js", command: "drain" },
                    quietSeconds: QUIET_SECONDS,
                    drainSeconds: 300,
                },
                RANGES[0],
            ),
            { env: hookEnv(), graceSeconds: 315 },
        );
        await waitFor(
            "the drain to route",
            () => (/draining: new sessions go to/.test(hookLog(logFile())) ? true : undefined),
            60_000,
            explain,
        );

        const nuve = nuveOf(cluster);
        const publishers: Publisher[] = [];
        for (let i = 0; i < 6; i++) {
            const room = await nuve.createRoom(`drain-agent-new-${i}`);
            publishers.push(await publish(nuve, room._id, `new-${i}`));
        }
        const where = publishers.map((p) =>
            agents.findIndex((a) => erizosOf(a).includes(p.erizoId)),
        );
        assert.ok(
            !where.includes(0),
            `no new publisher on the draining ea-1: ${where.map((w) => `ea-${w + 1}`)}\n${explain()}`,
        );
        assert.ok(
            where.includes(1) && where.includes(2),
            `both other agents take new publishers: ${where.map((w) => `ea-${w + 1}`)}\n${explain()}`,
        );

        // The stand-in controller's requests spread the same way.
        const from = Date.now();
        for (let i = 0; i < 20; i++) {
            requester.ask();
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await waitFor(
            "answers to 20 requests",
            () => (requester.answers.filter((a) => a.at >= from).length >= 20 ? true : undefined),
            15_000,
            explain,
        );
        const counts = requester.byAgent(from);
        assert.strictEqual(
            counts.get(ids[0]) ?? 0,
            0,
            `ea-1 drains: ${JSON.stringify([...counts])}`,
        );
        assert.ok(
            (counts.get(ids[1]) ?? 0) >= 3 && (counts.get(ids[2]) ?? 0) >= 3,
            `spread by load: ${JSON.stringify([...counts].map(([id, n]) => [nameOf(id), n]))}`,
        );

        // The draining agent's ErizoJS still answers for its session.
        const stats = await firstPublisher.connection.request(
            "getStreamStats",
            firstPublisher.streamId,
            10_000,
        );
        assert.ok(
            stats[0] !== null &&
                typeof stats[0] === "object" &&
                "publisher" in (stats[0] as object),
            `stats of the first publisher: ${JSON.stringify(stats)}`,
        );
        await rovShows(rovPort, { total_publishers: 7, active_rooms: 7 }, 20_000, explain);
        await Promise.all(publishers.map((p) => p.close()));
        await rovShows(rovPort, { total_publishers: 1 }, 30_000, explain);
    });

    it("answers a publish that reuses its room's slot on the draining agent at once, on that agent's ErizoJS", async () => {
        const nuve = nuveOf(cluster);
        reusing = await publish(nuve, firstRoomId, "reusing");
        assert.strictEqual(
            reusing.erizoId,
            firstPublisher.erizoId,
            `the room's slot on ea-1\n${explain()}`,
        );
        assert.ok(
            reusing.publishMs < 3000,
            `answered in ${reusing.publishMs} ms (the controller retries a lost request after 5 s)`,
        );
        await rovShows(rovPort, { total_publishers: 2 }, 20_000, explain);
    });

    it("lets an agent that starts meanwhile take sessions as soon as it consumes, and delivers no request twice", async () => {
        requester.every(20);
        try {
            const from = Date.now();
            agents.push(await cluster.startAgent("ea-4", { mediaPorts: RANGES[3] }));
            const consuming = Date.now();
            const first = await waitFor(
                "ea-4 to answer a request",
                () =>
                    requester.answers.find(
                        (a) => a.at >= from && erizosOf(agents[3]).includes(a.erizoId),
                    ),
                10_000,
                () =>
                    `${JSON.stringify([...requester.byAgent(from)].map(([id, n]) => [nameOf(id), n]))}\n${explain()}`,
            );
            assert.ok(
                first.at - consuming < 3000,
                `ea-4 took its first session ${first.at - consuming} ms after it consumed`,
            );
            await new Promise((resolve) => setTimeout(resolve, 3000));
            const counts = requester.byAgent(from);
            assert.strictEqual(counts.get(ids[0]) ?? 0, 0, "none reaches the draining agent");
        } finally {
            requester.stopAsking();
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.deepStrictEqual(requester.duplicates(), [], "each request is answered once");
        await rovShows(
            rovPort,
            { total_publishers: 2, active_erizojs_processes: 4 },
            20_000,
            explain,
        );
    });

    it("ends by itself once its sessions are gone: the hook returns 0, the agent stops after it, and no request reaches the agent", async () => {
        requester.every(10);
        await Promise.all([firstPublisher.close(), reusing.close()]);
        const run = await hook;
        await new Promise((resolve) => setTimeout(resolve, 1500));
        requester.stopAsking();
        await new Promise((resolve) => setTimeout(resolve, 500));
        const text = hookLog(logFile());
        assert.strictEqual(
            run.signal,
            undefined,
            `the hook was killed (${run.signal}) instead of returning\n${text}`,
        );
        assert.strictEqual(run.code, 0, text);
        assert.ok(
            !run.killedAtGracePeriod && run.stoppedAfterMs < 5000,
            `the agent stopped ${run.stoppedAfterMs} ms after the hook returned\n${text}`,
        );
        assert.ok(agents[0].ended !== undefined, "the agent's container has ended");
        assert.match(
            text,
            new RegExp(`drain ended: no media sessions in progress for ${QUIET_SECONDS} s`),
        );
        assert.strictEqual(
            requester.byAgent(hookStarted).get(ids[0]) ?? 0,
            0,
            `answers by ea-1 since its drain began: ${JSON.stringify([...requester.byAgent(hookStarted)].map(([id, n]) => [nameOf(id), n]))}`,
        );
        assert.deepStrictEqual(requester.duplicates(), []);
    });
});

describe(`ErizoAgent drain: failures and the deadline (${drainUnderTest.label})`, function () {
    this.timeout(20 * 60_000);
    let cluster: LicodeCluster;
    let agents: LicodeProcess[];
    let ids: string[];
    let requester: ErizoRequester;
    const logFile = () => path.join(cluster.dir, "drained.hook.log");
    const explain = () => `${hookLog(logFile())}\n${cluster.tails(25)}`;

    before(async () => {
        cluster = await LicodeCluster.start();
        await cluster.startNuve();
        await cluster.startController("ec");
        agents = [
            await cluster.startAgent("drained", { mediaPorts: RANGES[4], container: true }),
            await cluster.startAgent("other", { mediaPorts: RANGES[1] }),
        ];
        requester = await ErizoRequester.start(cluster);
        ids = await agentIds(requester, agents);
    });

    after(async () => {
        requester?.close();
        await cluster?.stop();
    });

    /** A queue's message count at the broker (the management API's figures follow within seconds). */
    async function messagesIn(queue: string): Promise<number | undefined> {
        const answer = await fetch(
            `http://127.0.0.1:${cluster.broker.managementPort}/api/queues/%2F/${encodeURIComponent(queue)}`,
            {
                headers: {
                    authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
                },
            },
        );
        return answer.ok ? ((await answer.json()) as { messages?: number }).messages : undefined;
    }

    it("waits for a broker that is down when the drain starts, then routes; cuts what is left at the deadline, says so and counts it", async () => {
        const [amqpGatePort, apiGatePort] = await Promise.all(
            [0, 0].map(
                () =>
                    new Promise<number>((resolve) => {
                        const s = net.createServer();
                        s.listen(0, "127.0.0.1", () => {
                            const port = (s.address() as net.AddressInfo).port;
                            s.close(() => resolve(port));
                        });
                    }),
            ),
        );
        const amqpGate = new Gate(amqpGatePort, cluster.broker.amqpPort);
        const apiGate = new Gate(apiGatePort, cluster.broker.managementPort);
        // A media session that outlives the drain: a UDP socket in the agent's range, as ErizoJS binds one.
        const session = dgram.createSocket("udp4");
        await new Promise<void>((resolve) => session.bind(RANGES[4].min + 3, "127.0.0.1", resolve));
        try {
            const hook = cluster.preStop(
                agents[0],
                drainUnderTest.hooks.agentDrainScript(
                    {
                        process: LICODE.processes.erizoAgent,
                        helper: { file: "media-routing.js", command: "drain" },
                        quietSeconds: QUIET_SECONDS,
                        drainSeconds: 25,
                    },
                    RANGES[4],
                ),
                {
                    env: {
                        LICODE_HOOK_LOG: logFile(),
                        LICODE_DRAIN_DIR: drainUnderTest.helpers,
                        LICODE_DIR: licodeDirVia(
                            agents[0],
                            path.join(cluster.dir, "via-gate"),
                            amqpGatePort,
                        ),
                        RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${apiGatePort}`,
                        RABBITMQ_DRAIN_USER: "guest",
                        RABBITMQ_DRAIN_PASSWORD: "guest",
                        LICODE_AGENT_QUEUE: `ErizoAgent_${ids[0]}`,
                    },
                    graceSeconds: 40,
                },
            );
            await new Promise((resolve) => setTimeout(resolve, 4000));
            await Promise.all([amqpGate.open(), apiGate.open()]);
            // Once the broker is reachable, new sessions leave the draining agent.
            await waitFor(
                "requests to be routed away from the draining agent",
                async () => {
                    const from = Date.now();
                    for (let i = 0; i < 10; i++) {
                        requester.ask();
                    }
                    await new Promise((resolve) => setTimeout(resolve, 500));
                    const counts = requester.byAgent(from);
                    return (counts.get(ids[1]) ?? 0) === 10 ? true : undefined;
                },
                20_000,
                explain,
            );
            const run = await hook;
            const text = hookLog(logFile());
            assert.strictEqual(
                run.signal,
                undefined,
                `the hook was killed (${run.signal})\n${text}`,
            );
            assert.strictEqual(run.code, 0, text);
            assert.match(text, /cannot reach the broker, retrying/);
            assert.match(
                text,
                /drain ended: the deadline passed with 1 media sessions in progress; stopping cuts them/,
            );
            await waitFor(
                "the cut session counted at the broker",
                async () =>
                    (await messagesIn("licode-drain.cut.erizo-agent")) === 1 ? true : undefined,
                30_000,
                explain,
            );
        } finally {
            session.close();
            await Promise.all([amqpGate.close(), apiGate.close()]);
        }
    });
});
