/**
 * The ErizoController drain against Licode v10 run as processes (test/licode/cluster.ts): Nuve, controllers and a
 * real RabbitMQ. The controllers announce one static address and port, as controllers on several nodes behind one
 * address do, and differ only by the hostname tokens name; each reaches the test at its own port here. The
 * draining controller runs as its container does and the hook runs there as the kubelet runs it: the exact
 * script components/hooks.ts renders.
 *
 * A rollout: a live room and an idle room on the old controller, a new controller, the drain; then new rooms,
 * joins to the idle and the live room, the live room's last client leaving, and the drain's end. Then a second
 * rollout whose drain finds Nuve's API down at its start and at its end, with a client still connected at the
 * deadline.
 */
import * as assert from "assert";
import * as net from "net";
import * as path from "path";
import { LICODE } from "../../components/images";
import { LicodeCluster, LicodeProcess, PreStopRun, freePorts, waitFor } from "./cluster";
import { Member, drainUnderTest, hookLog, join, nuveOf, tokenFor } from "./drain-support";

const QUIET_SECONDS = 3;
const HOSTS = ["ec-old.drain.test", "ec-new.drain.test", "ec-third.drain.test"];

/** A TCP port that forwards to `target` only while open: an API that is down, then back. */
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

describe(`ErizoController drain on Licode v10 as processes (${drainUnderTest.label})`, function () {
    this.timeout(20 * 60_000);

    let cluster: LicodeCluster;
    let shared: number;
    const listen = new Map<string, number>(); // hostname -> the port it listens on here
    const controllers: LicodeProcess[] = [];
    const members: Member[] = [];
    const rooms: Record<string, string> = {};
    let hook: Promise<PreStopRun>;
    const logFile = (name: string) => path.join(cluster.dir, `${name}.hook.log`);
    const explain = (name: string) => () => `${hookLog(logFile(name))}\n${cluster.tails(25)}`;

    /** The hostname a new token for the room names. */
    async function named(roomId: string): Promise<string> {
        const token = await tokenFor(nuveOf(cluster), roomId, "probe");
        return token.host.split(":")[0];
    }

    /** Joins the room at the controller its token names. */
    async function joinRoom(roomId: string, user: string): Promise<Member> {
        const token = await tokenFor(nuveOf(cluster), roomId, user);
        const [host, port] = token.host.split(":");
        assert.strictEqual(Number(port), shared, `every controller announces port ${shared}`);
        const member = await join(token, `http://127.0.0.1:${listen.get(host)}`);
        members.push(member);
        return member;
    }

    /** Waits until new tokens for the room name `host`. */
    function untilNamed(roomId: string, host: string, what: string, name: string): Promise<true> {
        return waitFor(
            `${what}: tokens to name ${host}`,
            async () => ((await named(roomId)) === host ? true : undefined),
            30_000,
            explain(name),
        );
    }

    async function startController(index: number, container: boolean): Promise<LicodeProcess> {
        const [port] = await freePorts(1);
        listen.set(HOSTS[index], port);
        const controller = await cluster.startController(HOSTS[index].split(".")[0], {
            controllerPort: port,
            advertisedPort: shared,
            hostname: HOSTS[index],
            container,
        });
        controllers.push(controller);
        return controller;
    }

    function drainScript(index: number, drainSeconds: number): string {
        return drainUnderTest.hooks.controllerDrainScript(
            {
                process: LICODE.processes.erizoController,
                helper: { file: "controller-registry.js", command: "hold-full" },
                quietSeconds: QUIET_SECONDS,
                drainSeconds,
            },
            listen.get(HOSTS[index])!,
        );
    }

    /** Messages in a queue at the broker (the management API's figures follow within seconds). */
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

    before(async () => {
        cluster = await LicodeCluster.start();
        [shared] = await freePorts(1);
        await cluster.startNuve();
        await startController(0, true);
        const nuve = nuveOf(cluster);
        for (const name of ["live", "idle"]) {
            rooms[name] = (await nuve.createRoom(`drain-controller-${name}`))._id;
        }
        await joinRoom(rooms.live, "live-1");
        // The idle room had a client on the old controller: Nuve keeps it pinned there, the controller forgets it.
        await (await joinRoom(rooms.idle, "idle-1")).close();
        assert.strictEqual(await named(rooms.idle), HOSTS[0]);
        await startController(1, true);
    });

    after(async () => {
        await Promise.all(members.map((m) => m.close()));
        await cluster?.stop();
    });

    it("sends new rooms and new joins to idle rooms to the new controller, and keeps a live room on the old one", async () => {
        hook = cluster.preStop(controllers[0], drainScript(0, 300), {
            env: {
                LICODE_HOOK_LOG: logFile("ec-old"),
                LICODE_DRAIN_DIR: drainUnderTest.helpers,
                LICODE_NUVE_URL: cluster.nuveUrl,
                LICODE_REGISTRY_INTERVAL_MS: "1000",
            },
            graceSeconds: 315,
        });
        await waitFor(
            "the drain to hold the controller full",
            () => (/takes no new rooms/.test(hookLog(logFile("ec-old"))) ? true : undefined),
            60_000,
            explain("ec-old"),
        );
        rooms.new = (await nuveOf(cluster).createRoom("drain-controller-new"))._id;
        assert.strictEqual(
            await named(rooms.new),
            HOSTS[1],
            "a new room goes to the new controller",
        );
        await untilNamed(rooms.idle, HOSTS[1], "the idle room", "ec-old");
        assert.strictEqual(await named(rooms.live), HOSTS[0], "the live room stays");
        await joinRoom(rooms.live, "live-2");
        await (await joinRoom(rooms.idle, "idle-2")).close();
    });

    it("lets the live room go once its last client left, then ends by itself: the hook returns 0, the controller stops after it, and no token names it", async () => {
        await Promise.all(
            members.filter((m) => m.port === listen.get(HOSTS[0])).map((m) => m.close()),
        );
        await untilNamed(rooms.live, HOSTS[1], "the live room, empty now", "ec-old");
        assert.strictEqual(
            controllers[0].ended,
            undefined,
            "released by the drain, not by Nuve forgetting a stopped controller",
        );
        const run = await hook;
        // At once: Nuve keeps a stopped controller in its registry, and its rooms pinned to it, for
        // about 10 s more (cloudHandler.js 82-96).
        rooms.later = (await nuveOf(cluster).createRoom("drain-controller-later"))._id;
        for (const [name, roomId] of Object.entries(rooms)) {
            assert.strictEqual(await named(roomId), HOSTS[1], `room ${name}`);
        }
        const text = hookLog(logFile("ec-old"));
        assert.strictEqual(
            run.signal,
            undefined,
            `the hook was killed (${run.signal}) instead of returning\n${text}`,
        );
        assert.strictEqual(run.code, 0, text);
        assert.ok(
            !run.killedAtGracePeriod && run.stoppedAfterMs < 5000,
            `the controller stopped ${run.stoppedAfterMs} ms after the hook returned\n${text}`,
        );
        assert.match(
            text,
            new RegExp(`drain ended: no clients in progress for ${QUIET_SECONDS} s`),
        );
    });

    it("waits for Nuve's API when it is down as the drain starts; retries the last release when it is down again, reports it, and counts the client cut at the deadline", async () => {
        const nuvePort = Number(new URL(cluster.nuveUrl).port);
        const [gatePort] = await freePorts(1);
        const gate = new Gate(gatePort, nuvePort);
        // A client stays on the draining controller past the deadline.
        rooms.kept = (await nuveOf(cluster).createRoom("drain-controller-kept"))._id;
        await joinRoom(rooms.kept, "kept-1");
        assert.strictEqual(await named(rooms.kept), HOSTS[1]);
        await startController(2, false);
        const run = cluster.preStop(controllers[1], drainScript(1, 20), {
            env: {
                LICODE_HOOK_LOG: logFile("ec-new"),
                LICODE_DRAIN_DIR: drainUnderTest.helpers,
                LICODE_NUVE_URL: `http://127.0.0.1:${gatePort}/`,
                LICODE_REGISTRY_INTERVAL_MS: "1000",
            },
            graceSeconds: 35,
        });
        try {
            await waitFor(
                "the drain to hold the controller full",
                () => (/takes no new rooms/.test(hookLog(logFile("ec-new"))) ? true : undefined),
                60_000,
                explain("ec-new"),
            );
            await new Promise((resolve) => setTimeout(resolve, 2000));
            await gate.open();
            for (const name of ["idle", "live", "new", "later"]) {
                await untilNamed(
                    rooms[name],
                    HOSTS[2],
                    `room ${name}, once Nuve's API answers`,
                    "ec-new",
                );
            }
            await gate.close();
            const ended = await run;
            const text = hookLog(logFile("ec-new"));
            assert.strictEqual(
                ended.signal,
                undefined,
                `the hook was killed (${ended.signal})\n${text}`,
            );
            assert.strictEqual(ended.code, 0, text);
            assert.match(
                text,
                /drain ended: the deadline passed with 1 clients in progress; stopping cuts them/,
            );
            assert.match(text, /could not release the rooms pinned here, retrying/);
            assert.match(text, /gave up: 1 rooms still pinned here at the end/);
            await waitFor(
                "the cut client and the give-up counted at the broker",
                async () =>
                    (await messagesIn("licode-drain.cut.erizo-controller")) === 1 &&
                    (await messagesIn("licode-drain.give-ups.erizo-controller")) === 1
                        ? true
                        : undefined,
                30_000,
                explain("ec-new"),
            );
        } finally {
            await gate.close();
        }
    });
});
