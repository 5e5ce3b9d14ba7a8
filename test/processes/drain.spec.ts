/**
 * The drains of ErizoController and ErizoAgent, run with bash against real processes and sockets:
 * TCP clients on the controller's port, UDP sockets in the media range, and a stand-in helper that
 * keeps the hook's side of the contract (LICODE_DRAIN_PID, LICODE_DRAIN_RUN with `busy`, `end` and
 * `done`, SIGUSR2 at the end) and records what it was told. The helpers themselves run against
 * Licode v10's own tiers and a real RabbitMQ in test/licode/drain-*.spec.ts; their pure parts are
 * tested here.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the fakes */
import * as assert from "assert";
import { createHmac } from "crypto";
import { ChildProcess } from "child_process";
import * as dgram from "dgram";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { agentDrainScript, controllerDrainScript } from "../../components/hooks";
import {
    ended,
    freePort,
    runBash,
    sleep,
    startNode,
    uniqueName,
    waitUntil,
} from "./real-processes";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const routing = require("../../components/drain/media-routing.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const registry = require("../../components/drain/controller-registry.js");

/** The drains' quiet window here: seconds without a client or session before they stop. */
const QUIET_SECONDS = 2;

/** The drain's log so far ("" before the hook has written it). */
function logText(file: string): string {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

describe("media routing: the agent for the next session (pure)", () => {
    const agents = [
        { id: "a", cpu: 0.1 },
        { id: "b", cpu: 0.1 },
        { id: "c", cpu: 0.5 },
    ];

    it("takes the least loaded agent that does not drain", () => {
        assert.strictEqual(routing.chooseAgent(agents, ["a"], {}), "b");
        assert.strictEqual(routing.chooseAgent(agents, [], {}), "a");
    });

    it("counts the sessions sent since the last report, so a burst spreads", () => {
        const sent: Record<string, number> = {};
        const picks: string[] = [];
        // Each session sent counts 0.05: after 8 each, a and b weigh as much as c (0.5).
        for (let i = 0; i < 20; i++) {
            const id = routing.chooseAgent(agents, [], sent);
            sent[id] = (sent[id] ?? 0) + 1;
            picks.push(id);
        }
        assert.deepStrictEqual(picks.slice(0, 4).sort(), ["a", "a", "b", "b"]);
        assert.ok(picks.includes("c"), `the loaded agent takes its share too: ${picks}`);
    });

    it("has no agent to offer when every other one drains", () => {
        assert.strictEqual(routing.chooseAgent(agents, ["a", "b", "c"], {}), undefined);
        assert.strictEqual(routing.chooseAgent([], [], {}), undefined);
    });
});

describe("controller registry helpers (pure)", () => {
    it("finds this controller's entry by the identity its controller reports, not by its address", () => {
        const entries = [
            { _id: "5f0000000000000000000001", ip: "10.0.0.5", port: 8080 },
            { _id: "5f0000000000000000000003", ip: "10.0.0.5", port: 8080 },
        ];
        const identities = {
            "5f0000000000000000000001": '["boot","pid:[1]",7]',
            "5f0000000000000000000003": '["boot","pid:[2]",7]',
        };
        assert.strictEqual(
            registry.findSelf(entries, identities, '["boot","pid:[1]",7]')._id,
            "5f0000000000000000000001",
            "the older entry with the same address, because its controller is this one",
        );
        assert.strictEqual(
            registry.findSelf(entries, identities, '["boot","pid:[9]",7]'),
            undefined,
        );
    });

    it("names a controller as tokens do: its hostname, else its address, and its port", () => {
        assert.strictEqual(
            registry.tokenHost({ ip: "203.0.113.7", hostname: "", port: 8080 }),
            "203.0.113.7:8080",
        );
        assert.strictEqual(
            registry.tokenHost({ ip: "203.0.113.7", hostname: "ec-1.example.com", port: 443 }),
            "ec-1.example.com:443",
        );
        const token = Buffer.from(JSON.stringify({ tokenId: "t", host: "h:1" })).toString("base64");
        assert.deepStrictEqual(registry.decodeToken(token), { tokenId: "t", host: "h:1" });
    });

    it("signs Nuve requests as Nuve checks them (mauthParser.js 54-64)", () => {
        const header = registry.mauthHeader({ id: "svc", key: "k" }, 1700000000000, 42, {
            name: "licode-drain",
            role: "presenter",
        });
        const hex = createHmac("sha1", "k")
            .update("1700000000000,42,licode-drain,presenter")
            .digest("hex");
        assert.strictEqual(
            header,
            "MAuth realm=http://marte3.dit.upm.es,mauth_signature_method=HMAC_SHA1," +
                "mauth_username=licode-drain,mauth_role=presenter,mauth_serviceid=svc," +
                `mauth_cnonce=42,mauth_timestamp=1700000000000,mauth_signature=${Buffer.from(hex).toString("base64")}`,
        );
    });
});

/**
 * A stand-in drain helper for the bash runs: records the environment the hook gives it and the
 * counts it passes, and at SIGUSR2 records the hook's `end` and writes `done` (after `delayMs`).
 */
function fakeHelperDir(file: string, delayMs = 0): { dir: string; record: () => any } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drain-helper-"));
    const record = path.join(dir, "record.json");
    fs.writeFileSync(
        path.join(dir, file),
        `const fs = require("fs");
         const run = process.env.LICODE_DRAIN_RUN;
         const seen = { argv: process.argv.slice(2), pid: process.env.LICODE_DRAIN_PID,
             deadline: Number(process.env.LICODE_DRAIN_DEADLINE), busy: [], end: undefined,
             doneAt: undefined };
         const save = () => fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify(seen));
         save();
         process.on("SIGUSR2", () => {
             seen.end = fs.readFileSync(run + "/end", "utf8").trim();
             save();
             setTimeout(() => {
                 fs.writeFileSync(run + "/done", "ok\\n");
                 seen.doneAt = Date.now();
                 save();
             }, ${delayMs});
         });
         setInterval(() => {
             try {
                 const busy = fs.readFileSync(run + "/busy", "utf8").trim();
                 if (seen.busy[seen.busy.length - 1] !== busy) { seen.busy.push(busy); save(); }
             } catch (error) { /* not yet */ }
             try { process.kill(Number(seen.pid), 0); } catch (error) { process.exit(0); }
         }, 100);
`,
    );
    return {
        dir,
        record: () => (fs.existsSync(record) ? JSON.parse(fs.readFileSync(record, "utf8")) : {}),
    };
}

describe("ErizoController drain (run with bash against real processes)", function () {
    this.timeout(40000);
    const children: ChildProcess[] = [];
    const sockets: net.Socket[] = [];
    const dirs: string[] = [];
    let log: string;
    const logSays = (pattern: RegExp) => pattern.test(logText(log));
    afterEach(async () => {
        sockets.splice(0).forEach((s) => s.destroy());
        for (const child of children.splice(0)) {
            child.kill("SIGKILL");
            await ended(child);
        }
        dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    });

    /** A controller: no SIGTERM handler, a TCP port clients hold a connection to. */
    async function controller(port: number): Promise<{ name: string; child: ChildProcess }> {
        const name = uniqueName("erizoController");
        const child = await startNode(
            `require("net").createServer(() => {}).listen(${port}, "127.0.0.1", () => console.log("up"));`,
            name,
        );
        children.push(child);
        return { name, child };
    }

    async function connect(port: number): Promise<net.Socket> {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("error", () => undefined);
        await new Promise((resolve) => socket.once("connect", resolve));
        sockets.push(socket);
        return socket;
    }

    function drain(
        name: string,
        port: number,
        helperDir: string,
        drainSeconds = 15,
        quietSeconds = QUIET_SECONDS,
    ) {
        log = path.join(helperDir, "hook.log");
        return runBash(
            controllerDrainScript(
                {
                    process: name,
                    helper: { file: "controller-registry.js", command: "hold-full" },
                    quietSeconds,
                    drainSeconds,
                },
                port,
            ),
            {
                timeoutMs: 30000,
                env: { ...process.env, LICODE_HOOK_LOG: log, LICODE_DRAIN_DIR: helperDir },
            },
        );
    }

    function helper(delayMs = 0) {
        const made = fakeHelperDir("controller-registry.js", delayMs);
        dirs.push(made.dir);
        return made;
    }

    it("starts its helper with the controller's PID, keeps serving while clients stay, and has it stopped soon after the last leaves", async () => {
        const port = await freePort();
        const fake = helper();
        const { name, child } = await controller(port);
        const clients = [await connect(port), await connect(port)];
        const hook = drain(name, port, fake.dir);

        // Once the drain has counted the clients, it would stop after quietSeconds (2) of counting
        // none: a controller still running well after that has been held for its clients.
        await waitUntil("the drain counting the clients", () => logSays(/clients: 2 in progress/));
        await sleep((QUIET_SECONDS + 1.5) * 1000);
        assert.strictEqual(child.exitCode, null, "the controller keeps serving its clients");
        assert.strictEqual(child.signalCode, null);
        const left = Date.now();
        clients.forEach((c) => c.destroy());

        const run = await hook;
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(await ended(child), "SIGTERM");
        const afterLast = (Date.now() - left) / 1000;
        assert.ok(
            afterLast < 6,
            `stopped ${afterLast} s after the last client, not at the grace period`,
        );
        const seen = fake.record();
        assert.deepStrictEqual(seen.argv, ["hold-full"]);
        assert.strictEqual(Number(seen.pid), child.pid);
        assert.ok(seen.busy.includes("2") && seen.busy.includes("0"), JSON.stringify(seen));
        assert.strictEqual(seen.end, "quiet 0");
        assert.match(
            logText(log),
            /clients: 2 in progress[\s\S]*drain ended: no clients in progress for 2 s[\s\S]*node stops once this hook has returned/,
        );
    });

    it("returns before the controller stops, after its helper's last step", async () => {
        const port = await freePort();
        const fake = helper(1500);
        const { name, child } = await controller(port);
        let exitedAt = 0;
        child.once("exit", () => (exitedAt = Date.now()));
        const run = await drain(name, port, fake.dir);
        const returnedAt = Date.now();
        assert.strictEqual(run.code, 0, run.stderr);
        const doneAt = fake.record().doneAt;
        assert.ok(doneAt !== undefined && returnedAt >= doneAt, "returned after the last step");
        assert.strictEqual(await ended(child), "SIGTERM");
        assert.ok(exitedAt >= returnedAt, "node stops only once the hook has returned");
    });

    it("ends within seconds when no client is connected", async () => {
        const port = await freePort();
        const fake = helper();
        const { name, child } = await controller(port);
        const run = await drain(name, port, fake.dir);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.ok(run.seconds < 6, `took ${run.seconds} s`);
        assert.strictEqual(await ended(child), "SIGTERM");
    });

    it("gives up at the end of its time with clients still connected, and says they are cut", async () => {
        const port = await freePort();
        const fake = helper();
        const { name, child } = await controller(port);
        await connect(port);
        const run = await drain(name, port, fake.dir, 4);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.ok(run.seconds >= 3 && run.seconds < 8, `took ${run.seconds} s`);
        assert.strictEqual(await ended(child), "SIGTERM");
        assert.match(
            logText(log),
            /drain ended: the deadline passed with 1 clients in progress; stopping cuts them/,
        );
        assert.strictEqual(fake.record().end, "deadline 1");
    });

    it("says so when the deadline ends it before the quiet window after the last client", async () => {
        const port = await freePort();
        const fake = helper();
        const { name, child } = await controller(port);
        const client = await connect(port);
        const hook = drain(name, port, fake.dir, 5, 30);
        await waitUntil("the drain counting the client", () => logSays(/clients: 1 in progress/));
        client.destroy();
        const run = await hook;
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(await ended(child), "SIGTERM");
        assert.match(
            logText(log),
            /drain ended: the deadline passed \d+ s after the last of the clients ended, short of the 30 s quiet window/,
        );
        assert.strictEqual(fake.record().end, "deadline 0");
    });

    it("carries on, and says so, when its helper ends early", async () => {
        const port = await freePort();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drain-helper-"));
        dirs.push(dir);
        fs.writeFileSync(path.join(dir, "controller-registry.js"), "process.exit(3);\n");
        const { name, child } = await controller(port);
        const run = await drain(name, port, dir);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(await ended(child), "SIGTERM");
        assert.match(logText(log), /the helper ended early \(exit code 3\)/);
    });
});

describe("ErizoAgent drain (run with bash against real processes)", function () {
    this.timeout(40000);
    const children: ChildProcess[] = [];
    const udp: dgram.Socket[] = [];
    const dirs: string[] = [];
    let log: string;
    const logSays = (pattern: RegExp) => pattern.test(logText(log));
    afterEach(async () => {
        udp.splice(0).forEach((s) => s.close());
        for (const child of children.splice(0)) {
            child.kill("SIGKILL");
            await ended(child);
        }
        dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    });

    /** An agent: answers SIGTERM by exiting, as erizoAgent.js 208-219 does after killing its workers. */
    async function agent(): Promise<{ name: string; child: ChildProcess }> {
        const name = uniqueName("erizoAgent");
        const child = await startNode(
            "process.on('SIGTERM', () => process.exit(0)); console.log('up'); setInterval(() => {}, 1000);",
            name,
        );
        children.push(child);
        return { name, child };
    }

    /** A media session: UDP sockets bound in the pool's range, as libnice binds them. */
    async function media(port: number): Promise<dgram.Socket> {
        const socket = dgram.createSocket("udp4");
        await new Promise<void>((resolve) => socket.bind(port, "127.0.0.1", resolve));
        udp.push(socket);
        return socket;
    }

    function drain(
        name: string,
        helperDir: string,
        range: { min: number; max: number },
        drainSeconds = 15,
    ) {
        log = path.join(helperDir, "hook.log");
        return runBash(
            agentDrainScript(
                {
                    process: name,
                    helper: { file: "media-routing.js", command: "drain" },
                    quietSeconds: QUIET_SECONDS,
                    drainSeconds,
                },
                range,
            ),
            {
                timeoutMs: 30000,
                env: { ...process.env, LICODE_HOOK_LOG: log, LICODE_DRAIN_DIR: helperDir },
            },
        );
    }

    it("starts its helper first, waits while media flows, then returns and has the agent stopped", async () => {
        const range = { min: await freePortUdp(), max: 0 };
        range.max = range.min + 5;
        const made = fakeHelperDir("media-routing.js");
        dirs.push(made.dir);
        const { name, child } = await agent();
        const session = await media(range.min + 2);
        const hook = drain(name, made.dir, range);

        // Once the drain has counted the session, it would stop after quietSeconds (2) of
        // counting none: an agent still running well after that has been held for its session.
        await waitUntil("the drain counting the session", () =>
            logSays(/media sessions: 1 in progress/),
        );
        await sleep((QUIET_SECONDS + 1.5) * 1000);
        assert.strictEqual(child.exitCode, null, "the agent keeps its sessions");
        assert.deepStrictEqual(made.record().argv, ["drain"]);
        const left = Date.now();
        session.close();
        udp.splice(udp.indexOf(session), 1);

        const run = await hook;
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(await ended(child), 0);
        assert.ok((Date.now() - left) / 1000 < 6, "stops soon after the last session");
        const seen = made.record();
        assert.strictEqual(Number(seen.pid), child.pid);
        assert.strictEqual(seen.end, "quiet 0");
        assert.match(
            logText(log),
            /media sessions: 1 in progress[\s\S]*drain ended: no media sessions in progress for 2 s/,
        );
    });

    it("gives up at the end of its time, says how many sessions it cuts, and still has the agent stopped", async () => {
        const range = { min: await freePortUdp(), max: 0 };
        range.max = range.min + 5;
        const made = fakeHelperDir("media-routing.js");
        dirs.push(made.dir);
        const { name, child } = await agent();
        await media(range.max);
        const run = await drain(name, made.dir, range, 4);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.ok(run.seconds >= 3 && run.seconds < 9, `took ${run.seconds} s`);
        assert.strictEqual(await ended(child), 0);
        assert.match(
            logText(log),
            /drain ended: the deadline passed with 1 media sessions in progress; stopping cuts them/,
        );
        assert.strictEqual(made.record().end, "deadline 1");
    });
});

/** The lowest of six free UDP ports in a row on loopback. */
async function freePortUdp(): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
        const base = 41000 + Math.floor(Math.random() * 20000);
        const sockets: dgram.Socket[] = [];
        try {
            for (let p = base; p <= base + 5; p++) {
                const s = dgram.createSocket("udp4");
                await new Promise<void>((resolve, reject) => {
                    s.once("error", reject);
                    s.bind(p, "127.0.0.1", resolve);
                });
                sockets.push(s);
            }
            return base;
        } catch {
            // taken: try another base
        } finally {
            sockets.forEach((s) => s.close());
        }
    }
    throw new Error("no six free UDP ports in a row");
}
