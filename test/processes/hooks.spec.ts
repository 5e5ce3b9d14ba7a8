/**
 * Lifecycle hooks, run with bash against real processes and sockets: a node HTTP server without
 * a SIGTERM handler stands in for Nuve, as the image runs it under a bash PID 1.
 */
import * as assert from "assert";
import { ChildProcess } from "child_process";
import * as http from "http";
import { quiesceAndStopScript, stopScript } from "../../components/hooks";
import { ended, freePort, runBash, sleep, startNode, uniqueName } from "./real-processes";

/** A server like Nuve: no SIGTERM handler; `/slow` answers after `delayMs`. */
function fakeNuveSource(port: number, delayMs: number): string {
    return `require("http").createServer((q, s) => {
        setTimeout(() => s.end("done"), q.url === "/slow" ? ${delayMs} : 0);
    }).listen(${port}, "127.0.0.1", () => console.log("up"));`;
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
            const inFlight = get(port, "/slow");
            await sleep(100);
            const hook = runBash(
                quiesceAndStopScript({ process: name, port, settleSeconds: 0.2, drainSeconds: 10 }),
            );
            assert.strictEqual(await inFlight, 200, "the request in flight must be answered");
            const run = await hook;
            assert.strictEqual(run.code, 0, run.stderr);
            assert.strictEqual(await exit, "SIGTERM", "node ends on the hook's SIGTERM");
            assert.ok(run.seconds < 4, `the hook took ${run.seconds} s, not the drain limit`);
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
