/**
 * The socket counters the hooks and drains share (components/bash.ts), run with bash against the
 * kernel's real tables while other sockets open and close, as they do on a busy node: Nuve's hook
 * stops node at the first count of 0, so a live connection missed once cuts its requests.
 */
import * as assert from "assert";
import { ChildProcess } from "child_process";
import * as dgram from "dgram";
import * as net from "net";
import { ESTABLISHED_ON, UDP_BOUND_IN, script } from "../../components/bash";
import { ended, runBash, startNode, uniqueName, waitUntil } from "./real-processes";

/**
 * Keeps `idle` connections open to a port of its own (rows in the table before and after the
 * tested one) and opens and resets short connections to it without pause: sockets appear and
 * vanish throughout the table while the counter reads it. Resets leave no TIME_WAIT rows behind.
 */
const CHURN = `
const net = require("net");
const server = net.createServer((s) => s.on("error", () => {})).listen(0, "127.0.0.1", () => {
    const port = server.address().port;
    for (let i = 0; i < Number(process.env.IDLE); i++) net.connect(port, "127.0.0.1").on("error", () => {});
    const loop = () => {
        const s = net.connect(port, "127.0.0.1", () => { s.resetAndDestroy(); setImmediate(loop); });
        s.on("error", () => setImmediate(loop));
    };
    for (let i = 0; i < 4; i++) loop();
    console.log("churning");
});`;

/** A listening server on `host` and the sockets it has accepted. */
async function server(
    host: string,
): Promise<{ port: number; accepted: net.Socket[]; close: () => void }> {
    const accepted: net.Socket[] = [];
    const srv = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => srv.listen(0, host, resolve));
    return {
        port: (srv.address() as net.AddressInfo).port,
        accepted,
        close: () => {
            accepted.forEach((s) => s.destroy());
            srv.close();
        },
    };
}

/** Connects to 127.0.0.1:port and resolves once the server has accepted the connection too. */
async function connect(target: { port: number; accepted: net.Socket[] }): Promise<net.Socket> {
    const before = target.accepted.length;
    const socket = net.connect(target.port, "127.0.0.1");
    socket.on("error", () => undefined);
    await new Promise((resolve) => socket.once("connect", resolve));
    await waitUntil("the server's side of the connection", () => target.accepted.length > before);
    return socket;
}

/** Runs `call` (a counter call) `times` times in one bash and returns each count. */
async function counts(fn: string, call: string, times: number): Promise<number[]> {
    const run = await runBash(script(fn, `for ((i = 0; i < ${times}; i++)); do ${call}; done`), {
        timeoutMs: 240000,
    });
    assert.strictEqual(run.code, 0, run.stderr);
    return run.stdout.trim().split("\n").map(Number);
}

describe("socket counters (run with bash against the kernel's tables)", function () {
    this.timeout(300000);
    const cleanup: (() => void)[] = [];
    const children: ChildProcess[] = [];
    afterEach(async () => {
        cleanup.splice(0).forEach((close) => close());
        for (const child of children.splice(0)) {
            child.kill("SIGKILL");
            await ended(child);
        }
    });

    it("established_on counts a live connection on every read while other sockets open and close", async () => {
        const busy = await server("127.0.0.1");
        const quiet = await server("127.0.0.1");
        cleanup.push(busy.close, quiet.close);
        const client = await connect(busy);
        cleanup.push(() => client.destroy());
        const churn = await startNode(CHURN, uniqueName("socketChurn"), { IDLE: "40" });
        children.push(churn);

        const live = await counts(ESTABLISHED_ON, `established_on ${busy.port}`, 100);
        // A row can show twice in one pass (the kernel's walk of a changing table), which only
        // makes a hook wait a second longer; a row that does not show at all ends the wait early.
        const missed = live.filter((n) => n === 0).length;
        assert.strictEqual(missed, 0, `the live connection was missed in ${missed} of 100 reads`);
        assert.strictEqual(live.length, 100);

        const none = await counts(ESTABLISHED_ON, `established_on ${quiet.port}`, 20);
        assert.deepStrictEqual(new Set(none), new Set([0]), "a port without connections counts 0");
    });

    it("established_on counts an IPv4 client of a server listening on :: (a tcp6 row)", async () => {
        const dual = await server("::");
        cleanup.push(dual.close);
        assert.deepStrictEqual(await counts(ESTABLISHED_ON, `established_on ${dual.port}`, 1), [0]);
        const client = await connect(dual);
        cleanup.push(() => client.destroy());
        assert.deepStrictEqual(await counts(ESTABLISHED_ON, `established_on ${dual.port}`, 1), [1]);
    });

    it("udp_bound_in counts IPv4 and IPv6 sockets bound in the range, and none outside it", async () => {
        const bound: dgram.Socket[] = [];
        cleanup.push(() => bound.forEach((s) => s.close()));
        const bind = (type: "udp4" | "udp6", port: number, host: string) =>
            new Promise<number>((resolve, reject) => {
                const socket = dgram.createSocket(type);
                bound.push(socket);
                socket.once("error", reject);
                socket.bind(port, host, () => resolve(socket.address().port));
            });
        // Two neighbouring ports, so no other socket on the machine falls in the range.
        let low = 0;
        for (let attempt = 0; attempt < 20 && low === 0; attempt++) {
            const candidate = await bind("udp4", 0, "127.0.0.1");
            low = await bind("udp6", candidate + 1, "::1").then(
                () => candidate,
                () => 0,
            );
        }
        assert.notStrictEqual(low, 0, "no two neighbouring free UDP ports");
        const count = async (min: number, max: number) =>
            (await counts(UDP_BOUND_IN, `udp_bound_in ${min} ${max}`, 1))[0];
        assert.strictEqual(await count(low, low + 1), 2, "one udp and one udp6 row");
        assert.strictEqual(await count(low, low), 1);
        assert.strictEqual(await count(low + 1, low + 1), 1);
    });
});
