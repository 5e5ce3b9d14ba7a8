/**
 * Lifecycle hooks, run with bash against real processes and sockets: a node HTTP server without
 * a SIGTERM handler stands in for Nuve, as the image runs it under a bash PID 1.
 */
import * as assert from "assert";
import { ChildProcess } from "child_process";
import * as http from "http";
import { quiesceAndStopScript, stopScript } from "../../components/hooks";
import { ended, freePort, runBash, startNode, uniqueName, waitForOutput } from "./real-processes";

/**
 * A server like Nuve: no SIGTERM handler; `/slow` answers after `delayMs` and says when it has
 * the request. An idle keep-alive connection stays open until the client closes it (no
 * keepAliveTimeout), so a test decides how long a connection lasts.
 */
function fakeNuveSource(port: number, delayMs: number): string {
    return `const server = require("http").createServer((q, s) => {
        if (q.url === "/slow") console.log("slow request received");
        setTimeout(() => s.end("done"), q.url === "/slow" ? ${delayMs} : 0);
    });
    server.keepAliveTimeout = 0;
    server.listen(${port}, "127.0.0.1", () => console.log("up"));`;
}

/** GETs `path` and resolves with the status, or the error that ended the request. */
function get(
    port: number,
    path: string,
    agent: http.Agent | false = false,
): Promise<number | string> {
    return new Promise((resolve) => {
        const request = http.get({ host: "127.0.0.1", port, path, agent }, (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode ?? 0));
        });
        request.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
}

describe("hooks (run with bash against real processes)", function () {
    this.timeout(30000);
    const children: ChildProcess[] = [];
    afterEach(async () => {
        for (const child of children.splice(0)) {
            child.kill("SIGKILL");
            await ended(child);
        }
    });

    describe("quiesce and stop (Nuve)", () => {
        it("lets an in-flight request finish, then stops the server within seconds", async () => {
            const port = await freePort();
            const name = uniqueName("fakeNuve");
            const server = await startNode(fakeNuveSource(port, 1500), name);
            children.push(server);
            const exit = ended(server);
            // The hook starts once the server has the request, so it is in flight, not on its way.
            const received = waitForOutput(server, "slow request received");
            const inFlight = get(port, "/slow");
            await received;
            const drainSeconds = 10;
            const hook = runBash(
                quiesceAndStopScript({ process: name, port, settleSeconds: 0.2, drainSeconds }),
            );
            let exitedAt = 0;
            server.once("exit", () => (exitedAt = Date.now()));
            assert.strictEqual(await inFlight, 200, "the request in flight must be answered");
            const run = await hook;
            const returnedAt = Date.now();
            assert.strictEqual(run.code, 0, run.stderr);
            assert.strictEqual(await exit, "SIGTERM", "node ends on the hook's SIGTERM");
            // Under a bash PID 1 that exits with node, a hook still running then would be killed.
            assert.ok(exitedAt >= returnedAt, "node stops only once the hook has returned");
            // The request takes 1.5 s and the hook looks once a second: it ends seconds before
            // drainSeconds, which is what it would take if it missed the connection's end.
            assert.ok(
                run.seconds < drainSeconds - 3,
                `the hook took ${run.seconds} s, close to the drain limit of ${drainSeconds} s`,
            );
        });

        it("stops the server after drainSeconds when a connection stays open", async () => {
            const port = await freePort();
            const name = uniqueName("fakeNuve");
            const server = await startNode(fakeNuveSource(port, 0), name);
            children.push(server);
            const agent = new http.Agent({ keepAlive: true });
            assert.strictEqual(await get(port, "/", agent), 200);
            const run = await runBash(
                quiesceAndStopScript({ process: name, port, settleSeconds: 0.2, drainSeconds: 2 }),
            );
            agent.destroy();
            assert.strictEqual(run.code, 0, run.stderr);
            // bash counts whole seconds, so the wait ends between drainSeconds - 1 and drainSeconds.
            assert.ok(run.seconds >= 1 && run.seconds < 5, `the hook took ${run.seconds} s`);
            assert.strictEqual(await ended(server), "SIGTERM");
        });
    });

    describe("stop", () => {
        it("signals the process and returns once it has exited", async () => {
            const name = uniqueName("fakeAgent");
            const agent = await startNode(
                "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 300)); console.log('up'); setInterval(() => {}, 1000);",
                name,
            );
            children.push(agent);
            const run = await runBash(stopScript(name));
            assert.strictEqual(run.code, 0, run.stderr);
            assert.strictEqual(await ended(agent), 0, "it exited by itself after the signal");
        });

        it("succeeds at once when the process is already gone", async () => {
            const run = await runBash(stopScript(uniqueName("alreadyGone")));
            assert.strictEqual(run.code, 0, run.stderr);
            assert.ok(run.seconds < 2);
        });
    });
});
