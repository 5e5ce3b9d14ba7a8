/**
 * Every exec probe, run with bash against real processes and sockets that show what the
 * containers show: HTTP servers, a wire-protocol peer, process trees that settle or crash-loop.
 */
import * as assert from "assert";
import { BSON } from "bson";
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import {
    httpStatusScript,
    mongoPingMessage,
    mongoPingScript,
    processRunningScript,
    workerPoolScript,
} from "../../components/probes";
import { LICODE } from "../../components/images";
import {
    ended,
    freePort,
    runBash,
    sleep,
    startNode,
    startSleeper,
    uniqueName,
    waitUntil,
} from "./real-processes";

/** A TCP server on loopback whose connections `onConnection` handles. */
async function tcpServer(
    onConnection: (socket: net.Socket) => void,
): Promise<{ port: number; close: () => Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("error", () => undefined);
        socket.on("close", () => sockets.delete(socket));
        onConnection(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        close: () =>
            new Promise((resolve) => {
                sockets.forEach((s) => s.destroy());
                server.close(() => resolve());
            }),
    };
}

describe("probes (run with bash against real processes)", function () {
    this.timeout(30000);
    const children: ChildProcess[] = [];
    afterEach(async () => {
        for (const child of children.splice(0)) {
            child.kill("SIGKILL");
            await ended(child);
        }
    });

    describe("Nuve's HTTP answer", () => {
        const health = LICODE.nuve.health;

        /** A node HTTP server answering `status` to every request, like Nuve's routes. */
        async function httpServer(status: number, blockAfterListen = false): Promise<number> {
            const port = await freePort();
            const source = `require("http").createServer((q, s) => { s.statusCode = ${status}; s.end("x"); })
                .listen(${port}, "127.0.0.1", () => { console.log("up"); ${blockAfterListen ? "for (;;) {}" : ""} });`;
            children.push(await startNode(source, uniqueName("fakeNuve")));
            return port;
        }

        it("passes when the server answers the health request with 200", async () => {
            const port = await httpServer(200);
            const run = await runBash(httpStatusScript(port, health, 2));
            assert.strictEqual(run.code, 0, run.stderr);
        });

        it("fails on another status (what GET /test, 500, or GET /, 401, would give)", async () => {
            for (const status of [500, 401]) {
                const port = await httpServer(status);
                const run = await runBash(httpStatusScript(port, health, 2));
                assert.strictEqual(run.code, 1);
                assert.match(run.stderr, new RegExp(`answered 'HTTP/1.1 ${status} `));
            }
        });

        it("fails when nothing listens", async () => {
            const run = await runBash(httpStatusScript(await freePort(), health, 2));
            assert.notStrictEqual(run.code, 0);
        });

        it("fails on a stuck event loop that a TCP connect would still accept", async () => {
            const port = await httpServer(200, true);
            const connected = await new Promise<boolean>((resolve) => {
                const socket = net.connect(port, "127.0.0.1", () => {
                    socket.destroy();
                    resolve(true);
                });
                socket.on("error", () => resolve(false));
            });
            assert.ok(connected, "the kernel completes the handshake for a stuck process");
            const run = await runBash(httpStatusScript(port, health, 1));
            assert.strictEqual(run.code, 1);
            assert.match(run.stderr, /sent no HTTP answer within 1 s/);
        });
    });

    describe("MongoDB's ping over the wire protocol", () => {
        it("sends exactly `{ ping: 1, $db: 'admin' }` as an OP_MSG", () => {
            const message = mongoPingMessage();
            assert.strictEqual(message.readInt32LE(0), message.length, "messageLength");
            assert.strictEqual(message.readInt32LE(12), 2013, "opCode OP_MSG");
            assert.strictEqual(message.readUInt32LE(16), 0, "flagBits");
            assert.strictEqual(message[20], 0, "one kind-0 section");
            const document = BSON.deserialize(message.subarray(21), { promoteValues: true });
            assert.deepStrictEqual(document, { ping: 1, $db: "admin" });
            assert.strictEqual(
                message.length,
                21 + message.readInt32LE(21),
                "nothing after the body",
            );
        });

        /** A peer that decodes the request with the official BSON library and answers `reply`. */
        function mongoPeer(
            reply: Record<string, unknown> | undefined,
            options: { split?: boolean } = {},
        ) {
            const seen: unknown[] = [];
            const server = tcpServer((socket) => {
                let buffered = Buffer.alloc(0);
                socket.on("data", async (chunk: Buffer) => {
                    buffered = Buffer.concat([buffered, chunk]);
                    if (buffered.length < 4 || buffered.length < buffered.readInt32LE(0)) {
                        return;
                    }
                    const requestId = buffered.readInt32LE(4);
                    seen.push(BSON.deserialize(buffered.subarray(21)));
                    if (reply === undefined) {
                        return; // a hung server: never answers
                    }
                    const body = Buffer.concat([
                        Buffer.from([0, 0, 0, 0, 0]),
                        Buffer.from(BSON.serialize(reply)),
                    ]);
                    const header = Buffer.alloc(16);
                    header.writeInt32LE(16 + body.length, 0);
                    header.writeInt32LE(7, 4);
                    header.writeInt32LE(requestId, 8);
                    header.writeInt32LE(2013, 12);
                    const answer = Buffer.concat([header, body]);
                    if (options.split) {
                        socket.write(answer.subarray(0, 3));
                        await sleep(300);
                        socket.write(answer.subarray(3, 20));
                        await sleep(300);
                        socket.write(answer.subarray(20));
                    } else {
                        socket.write(answer);
                    }
                });
            });
            return { server, seen };
        }

        it("passes on `ok: 1` (double, as mongod sends it, or int32)", async () => {
            for (const ok of [new BSON.Double(1), new BSON.Int32(1)]) {
                const { server, seen } = mongoPeer({ ok });
                const { port, close } = await server;
                const run = await runBash(mongoPingScript(port, 3));
                await close();
                assert.strictEqual(run.code, 0, run.stderr);
                assert.deepStrictEqual(seen, [{ ping: 1, $db: "admin" }]);
            }
        });

        it("passes when the reply arrives in pieces", async () => {
            const { server } = mongoPeer({ ok: new BSON.Double(1) }, { split: true });
            const { port, close } = await server;
            const run = await runBash(mongoPingScript(port, 3));
            await close();
            assert.strictEqual(run.code, 0, run.stderr);
        });

        it("fails on `ok: 0`", async () => {
            const { server } = mongoPeer({ ok: new BSON.Double(0), errmsg: "not now", code: 91 });
            const { port, close } = await server;
            const run = await runBash(mongoPingScript(port, 3));
            await close();
            assert.strictEqual(run.code, 1);
            assert.match(run.stderr, /without ok: 1/);
        });

        it("fails within its wait when the server accepts but never answers", async () => {
            const { server } = mongoPeer(undefined);
            const { port, close } = await server;
            const run = await runBash(mongoPingScript(port, 1));
            await close();
            assert.strictEqual(run.code, 1);
            assert.match(run.stderr, /no reply to ping within 1 s/);
            assert.ok(run.seconds < 4, `took ${run.seconds} s`);
        });

        it("fails when nothing listens", async () => {
            const run = await runBash(mongoPingScript(await freePort(), 1));
            assert.notStrictEqual(run.code, 0);
        });
    });

    describe("the ErizoJS worker pool", () => {
        let stateDir: string;
        beforeEach(() => (stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pool-"))));
        afterEach(() => fs.rmSync(stateDir, { recursive: true, force: true }));

        /** Seconds a worker must stay up: far more than a probe takes to start on a busy machine. */
        const SETTLED_SECONDS = 1.5;
        const check = (worker: string, graceSeconds = 2) => ({
            worker,
            settledSeconds: SETTLED_SECONDS,
            graceSeconds,
            stateFile: path.join(stateDir, "settled"),
        });
        /**
         * Starts a worker and waits until it has stayed up for settledSeconds (it started before
         * startSleeper returned, so it is at least as old as the time since then).
         */
        async function settledWorker(worker: string): Promise<ChildProcess> {
            const child = startSleeper(worker);
            children.push(child);
            await sleep(SETTLED_SECONDS * 1000 + 200);
            return child;
        }

        it("fails while no worker runs", async () => {
            const run = await runBash(workerPoolScript(check(uniqueName("fakeErizoJS"))));
            assert.strictEqual(run.code, 1);
            assert.match(
                run.stderr,
                new RegExp(
                    `has stayed up for ${SETTLED_SECONDS} s yet: the worker pool is starting`,
                ),
            );
        });

        it("fails for a fresh worker, passes once it has stayed up, and never matches itself", async () => {
            const worker = uniqueName("fakeErizoJS");
            const spawning = Date.now();
            children.push(startSleeper(worker));
            const fresh = await runBash(workerPoolScript(check(worker)));
            // The worker cannot be older than the time since just before it was spawned.
            const ageBound = (Date.now() - spawning) / 1000;
            assert.ok(
                ageBound < SETTLED_SECONDS,
                `the probe took ${ageBound} s to run, so the worker was not fresh any more`,
            );
            assert.strictEqual(fresh.code, 1, "a worker younger than settledSeconds");
            await sleep(SETTLED_SECONDS * 1000 + 200);
            const run = await runBash(workerPoolScript(check(worker)));
            assert.strictEqual(run.code, 0, run.stderr);
        });

        it("stays ready while the agent replaces a worker whose call ended, within the grace", async () => {
            const worker = uniqueName("fakeErizoJS");
            // A grace far longer than replacing the worker takes here: the grace is not under test.
            const withGrace = check(worker, 10);
            const first = await settledWorker(worker);
            assert.strictEqual((await runBash(workerPoolScript(withGrace))).code, 0);
            first.kill("SIGKILL");
            await ended(first);
            children.push(startSleeper(worker));
            const run = await runBash(workerPoolScript(withGrace));
            assert.strictEqual(run.code, 0, run.stderr);
        });

        it("turns unready when the agent's workers crash-loop, though a worker process always exists", async () => {
            const worker = uniqueName("fakeErizoJS");
            const first = await settledWorker(worker);
            assert.strictEqual((await runBash(workerPoolScript(check(worker)))).code, 0);
            first.kill("SIGKILL");
            // The agent's respawn loop: each worker dies after 300 ms and is replaced at once. The
            // worker's name comes through the environment so the agent's own command line lacks it.
            const respawner = await startNode(
                `const { spawn } = require("child_process");
                 const launch = () => spawn("sleep", ["0.3"], { argv0: process.env.WORKER }).on("exit", launch);
                 launch(); console.log("up");`,
                uniqueName("fakeErizoAgent"),
                { WORKER: worker },
            );
            children.push(respawner);
            const processAlive = processRunningScript(worker);
            let sawWorkerWhileUnready = false;
            // Unready once the grace (2 s) has passed without a worker that stayed up.
            await waitUntil(
                "the crash-looping pool to turn unready",
                async () => (await runBash(workerPoolScript(check(worker)))).code === 1,
                15000,
                500,
            );
            for (let i = 0; i < 5 && !sawWorkerWhileUnready; i++) {
                sawWorkerWhileUnready = (await runBash(processAlive)).code === 0;
            }
            assert.ok(sawWorkerWhileUnready, "a process check alone would have kept it ready");
            const unready = await runBash(workerPoolScript(check(worker)));
            assert.strictEqual(unready.code, 1);
            assert.match(unready.stderr, /in the last \d+ s: the worker pool is failing/);
            respawner.kill("SIGKILL");
        });
    });

    describe("process running", () => {
        it("passes while the process runs and fails once it is gone, never matching itself", async () => {
            const name = uniqueName("fakeErizoAgent");
            assert.strictEqual((await runBash(processRunningScript(name))).code, 1);
            const agent = await startNode("console.log('up'); setInterval(() => {}, 1000);", name);
            children.push(agent);
            assert.strictEqual((await runBash(processRunningScript(name))).code, 0);
            agent.kill("SIGKILL");
            await ended(agent);
            const run = await runBash(processRunningScript(name));
            assert.strictEqual(run.code, 1);
            assert.match(run.stderr, /no process matches/);
        });
    });
});
