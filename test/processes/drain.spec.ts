/**
 * The drains of ErizoController and ErizoAgent, run with bash against real processes and sockets:
 * TCP clients on the controller's port, UDP sockets in the media range, and fakes of what the
 * helpers talk to (Licode's RPC module answering for Nuve; RabbitMQ's management API), which
 * record every call. test/broker/ runs the media routing against a real RabbitMQ.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the fakes */
import * as assert from "assert";
import { ChildProcess } from "child_process";
import * as dgram from "dgram";
import * as fs from "fs";
import * as http from "http";
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

const DRAIN_DIR = path.resolve(__dirname, "..", "..", "components", "drain");

/** The drains' quiet window here: seconds without a client or session before they stop. */
const QUIET_SECONDS = 2;

/** The drain's log so far ("" before the hook has written it). */
function logText(file: string): string {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

describe("media routing plan (pure)", () => {
    const queue = (name: string, consumers = 1) => ({ name, consumers });
    const binding = (destination: string, key: string) => ({
        destination,
        routing_key: key,
        properties_key: key,
    });
    const usual = (agents: string[]) => ({
        queues: [queue("ErizoAgent", agents.length), ...agents.map((a) => queue(a))],
        bindings: [binding("ErizoAgent", "ErizoAgent"), ...agents.map((a) => binding(a, a))],
    });
    const ops = (result: any) =>
        result.actions.map((a: any) =>
            a.op === "bind"
                ? `bind ${a.queue} ${a.key}`
                : `unbind ${a.queue} ${a.binding.routing_key}`,
        );

    it("drain: removes its own binding and the shared one before binding a survivor", () => {
        const result = routing.plan(
            usual(["ErizoAgent_a", "ErizoAgent_b"]),
            "ErizoAgent_a",
            "drain",
        );
        assert.deepStrictEqual(ops(result), [
            "unbind ErizoAgent_a ErizoAgent_a",
            "unbind ErizoAgent ErizoAgent",
            "bind ErizoAgent_b ErizoAgent",
        ]);
        assert.deepStrictEqual(result.draining, ["ErizoAgent_a"]);
    });

    it("drain: does nothing more once the routing is right", () => {
        const state = {
            queues: usual(["ErizoAgent_a", "ErizoAgent_b"]).queues,
            bindings: [
                binding("ErizoAgent_b", "ErizoAgent_b"),
                binding("ErizoAgent_b", "ErizoAgent"),
            ],
        };
        assert.deepStrictEqual(ops(routing.plan(state, "ErizoAgent_a", "drain")), []);
    });

    it("drain: an agent that starts meanwhile re-binds the shared queue; it is removed again first", () => {
        const state = {
            queues: usual(["ErizoAgent_a", "ErizoAgent_b", "ErizoAgent_c"]).queues,
            bindings: [
                binding("ErizoAgent_b", "ErizoAgent_b"),
                binding("ErizoAgent_c", "ErizoAgent_c"),
                binding("ErizoAgent_b", "ErizoAgent"),
                binding("ErizoAgent", "ErizoAgent"),
            ],
        };
        assert.deepStrictEqual(ops(routing.plan(state, "ErizoAgent_a", "drain")), [
            "unbind ErizoAgent ErizoAgent",
        ]);
    });

    it("drain: keeps a second drainer's survivor, or moves off a survivor that starts draining", () => {
        const two = {
            queues: usual(["ErizoAgent_a", "ErizoAgent_b", "ErizoAgent_c"]).queues,
            bindings: [
                binding("ErizoAgent_b", "ErizoAgent_b"),
                binding("ErizoAgent_c", "ErizoAgent_c"),
                binding("ErizoAgent_c", "ErizoAgent"),
            ],
        };
        // a drains already (no own binding); b starts draining; c stays the survivor.
        assert.deepStrictEqual(ops(routing.plan(two, "ErizoAgent_b", "drain")), [
            "unbind ErizoAgent_b ErizoAgent_b",
        ]);
        // Now c drains too: new sessions must leave c; b and a drain, so nobody is left but...
        const all = routing.plan(two, "ErizoAgent_c", "drain");
        assert.deepStrictEqual(all.survivors, ["ErizoAgent_b"]);
        assert.deepStrictEqual(ops(all), [
            "unbind ErizoAgent_c ErizoAgent_c",
            "unbind ErizoAgent_c ErizoAgent",
            "bind ErizoAgent_b ErizoAgent",
        ]);
    });

    it("drain: with no other agent, new sessions stay on the shared queue", () => {
        const result = routing.plan(usual(["ErizoAgent_a"]), "ErizoAgent_a", "drain");
        assert.deepStrictEqual(ops(result), ["unbind ErizoAgent_a ErizoAgent_a"]);
        assert.strictEqual(result.target, "ErizoAgent");
        assert.deepStrictEqual(result.survivors, []);
    });

    it("release: restores the shared queue when no other agent drains", () => {
        const state = {
            queues: usual(["ErizoAgent_a", "ErizoAgent_b"]).queues,
            bindings: [
                binding("ErizoAgent_b", "ErizoAgent_b"),
                binding("ErizoAgent_b", "ErizoAgent"),
            ],
        };
        assert.deepStrictEqual(ops(routing.plan(state, "ErizoAgent_a", "release")), [
            "unbind ErizoAgent_b ErizoAgent",
            "bind ErizoAgent ErizoAgent",
        ]);
    });

    it("release: leaves the routing to the agents that still drain", () => {
        const state = {
            queues: usual(["ErizoAgent_a", "ErizoAgent_b", "ErizoAgent_c"]).queues,
            bindings: [
                binding("ErizoAgent_c", "ErizoAgent_c"),
                binding("ErizoAgent_c", "ErizoAgent"),
            ],
        };
        assert.deepStrictEqual(ops(routing.plan(state, "ErizoAgent_a", "release")), []);
    });

    it("ignores agents' queues without a consumer (an agent that is gone)", () => {
        const state = {
            queues: [queue("ErizoAgent", 1), queue("ErizoAgent_a"), queue("ErizoAgent_gone", 0)],
            bindings: [
                binding("ErizoAgent", "ErizoAgent"),
                binding("ErizoAgent_a", "ErizoAgent_a"),
            ],
        };
        const result = routing.plan(state, "ErizoAgent_a", "drain");
        assert.deepStrictEqual(result.survivors, []);
        assert.strictEqual(result.target, "ErizoAgent");
    });
});

describe("controller registry helpers (pure)", () => {
    it("finds this controller's newest entry by address and port", () => {
        const controllers = [
            { _id: "5f0000000000000000000001", ip: "10.0.0.5", port: 8080 },
            { _id: "5f0000000000000000000003", ip: "10.0.0.5", port: 8080 },
            { _id: "5f0000000000000000000009", ip: "10.0.0.6", port: 8080 },
            { _id: "5f000000000000000000000a", ip: "10.0.0.5", port: 8443 },
        ];
        assert.strictEqual(
            registry.findSelf(controllers, "10.0.0.5", 8080),
            "5f0000000000000000000003",
        );
        assert.strictEqual(registry.findSelf(controllers, "10.0.0.7", 8080), undefined);
    });

    it("takes the address the controller registers with: publicIP, else its interface's", () => {
        assert.strictEqual(
            registry.registeredAddress({ erizoController: { publicIP: "203.0.113.7" } }),
            "203.0.113.7",
        );
        const nic = Object.entries(os.networkInterfaces()).find(([, addrs]) =>
            (addrs ?? []).some((a) => a.family === "IPv4" && !a.internal),
        );
        if (nic !== undefined) {
            const ipv4 = (nic[1] ?? []).find((a) => a.family === "IPv4" && !a.internal);
            assert.strictEqual(
                registry.registeredAddress({
                    erizoController: { publicIP: "", networkinterface: nic[0] },
                }),
                ipv4?.address,
            );
        }
    });
});

/** A directory standing in for /opt/licode: a config and an RPC module that answers for Nuve. */
function fakeLicodeDir(port: number, controllers: unknown[]): { dir: string; calls: () => any[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "licode-"));
    fs.mkdirSync(path.join(dir, "erizo_controller", "common"), { recursive: true });
    fs.writeFileSync(
        path.join(dir, "licode_config.js"),
        `module.exports = { rabbit: {}, erizoController: { publicIP: "10.1.2.3", port: ${port} } };\n`,
    );
    const callsFile = path.join(dir, "calls.jsonl");
    // The interface of erizo_controller/common/amqper.js (v10 45-106, 224-230): connect(callback),
    // callRpc(to, method, args, { callback }). Nuve's answers come from `controllers`.
    fs.writeFileSync(
        path.join(dir, "erizo_controller", "common", "amqper.js"),
        `const fs = require("fs");
         exports.connect = (callback) => setImmediate(callback);
         exports.callRpc = (to, method, args, callbacks) => {
             fs.appendFileSync(${JSON.stringify(callsFile)}, JSON.stringify({ to, method, args }) + "\\n");
             const answer = method === "getErizoControllers" ? ${JSON.stringify(controllers)} : undefined;
             setImmediate(() => callbacks.callback(answer));
         };\n`,
    );
    return {
        dir,
        calls: () =>
            fs.existsSync(callsFile)
                ? fs
                      .readFileSync(callsFile, "utf8")
                      .trim()
                      .split("\n")
                      .map((line) => JSON.parse(line))
                : [],
    };
}

describe("ErizoController drain (run with bash against real processes)", function () {
    this.timeout(40000);
    const children: ChildProcess[] = [];
    const sockets: net.Socket[] = [];
    let log: string;
    const logSays = (pattern: RegExp) => pattern.test(logText(log));
    afterEach(async () => {
        sockets.splice(0).forEach((s) => s.destroy());
        for (const child of children.splice(0)) {
            child.kill("SIGKILL");
            await ended(child);
        }
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

    function drain(name: string, port: number, licodeDir: string, drainSeconds = 15) {
        log = path.join(licodeDir, "hook.log");
        return runBash(
            controllerDrainScript(
                {
                    process: name,
                    helper: { file: "controller-registry.js", command: "hold-full" },
                    quietSeconds: QUIET_SECONDS,
                    drainSeconds,
                },
                port,
            ),
            {
                timeoutMs: 30000,
                env: {
                    ...process.env,
                    LICODE_HOOK_LOG: log,
                    LICODE_DRAIN_DIR: DRAIN_DIR,
                    LICODE_DIR: licodeDir,
                    LICODE_REGISTRY_INTERVAL_MS: "300",
                },
            },
        );
    }

    const CONTROLLERS = (port: number) => [
        { _id: "5f00000000000000000000a1", ip: "10.1.2.3", port, state: 2 },
        { _id: "5f00000000000000000000b2", ip: "10.1.2.3", port, state: 2 },
        { _id: "5f00000000000000000000c3", ip: "10.1.2.4", port, state: 2 },
    ];

    it("marks itself full first, keeps serving while clients stay, and stops soon after the last leaves", async () => {
        const port = await freePort();
        const fake = fakeLicodeDir(port, CONTROLLERS(port));
        const { name, child } = await controller(port);
        const clients = [await connect(port), await connect(port)];
        const hook = drain(name, port, fake.dir);

        await waitUntil("the helper's first calls to Nuve", () => fake.calls().length >= 2);
        const early = fake.calls();
        assert.deepStrictEqual(early[0], { to: "nuve", method: "getErizoControllers", args: {} });
        assert.deepStrictEqual(early[1], {
            to: "nuve",
            method: "setInfo",
            args: { id: "5f00000000000000000000b2", state: 0 },
        });

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
        const setInfos = fake.calls().filter((c) => c.method === "setInfo");
        assert.ok(
            setInfos.length >= 3,
            `the state is set again while draining (${setInfos.length})`,
        );
        assert.match(
            fs.readFileSync(log, "utf8"),
            /clients: 2 in progress[\s\S]*nothing in progress for 2 s/,
        );
        fs.rmSync(fake.dir, { recursive: true, force: true });
    });

    it("ends within seconds when no client is connected", async () => {
        const port = await freePort();
        const fake = fakeLicodeDir(port, CONTROLLERS(port));
        const { name, child } = await controller(port);
        const run = await drain(name, port, fake.dir);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.ok(run.seconds < 6, `took ${run.seconds} s`);
        assert.strictEqual(await ended(child), "SIGTERM");
        fs.rmSync(fake.dir, { recursive: true, force: true });
    });

    it("gives up at the end of its time, with clients still connected", async () => {
        const port = await freePort();
        const fake = fakeLicodeDir(port, CONTROLLERS(port));
        const { name, child } = await controller(port);
        await connect(port);
        const run = await drain(name, port, fake.dir, 4);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.ok(run.seconds >= 3 && run.seconds < 8, `took ${run.seconds} s`);
        assert.strictEqual(await ended(child), "SIGTERM");
        assert.match(fs.readFileSync(log, "utf8"), /grace period ends with 1 clients in progress/);
        fs.rmSync(fake.dir, { recursive: true, force: true });
    });
});

const servers: http.Server[] = [];
afterEach(() => {
    for (const server of servers.splice(0)) {
        server.closeAllConnections();
        server.close();
    }
});

/** RabbitMQ's management API for the routing: queues, bindings of rpcExchange, every call recorded. */
async function fakeManagementApi(state: {
    queues: any[];
    bindings: any[];
    peers: Record<string, string>;
}) {
    const calls: string[] = [];
    const auth = `Basic ${Buffer.from("licode-drain:pw").toString("base64")}`;
    const server = http.createServer((req, res) => {
        const url = req.url ?? ""; // as sent: the vhost "/" is %2F
        const send = (status: number, body?: unknown) => {
            res.writeHead(status, { "content-type": "application/json" });
            res.end(body === undefined ? "" : JSON.stringify(body));
        };
        if (req.headers.authorization !== auth) {
            return send(401, { error: "not_authorised" });
        }
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            calls.push(`${req.method} ${url}${body === "" ? "" : ` ${body}`}`);
            let m: RegExpMatchArray | null;
            if (req.method === "GET" && url.startsWith("/api/queues/%2F?")) {
                return send(200, state.queues);
            }
            if (req.method === "GET" && (m = url.match(/^\/api\/queues\/%2F\/([^?]+)$/))) {
                const peer = state.peers[m[1]];
                return send(200, {
                    name: m[1],
                    consumer_details: peer ? [{ channel_details: { peer_host: peer } }] : [],
                });
            }
            if (req.method === "GET" && url === "/api/exchanges/%2F/rpcExchange/bindings/source") {
                return send(
                    200,
                    state.bindings.map((b) => ({
                        ...b,
                        source: "rpcExchange",
                        destination_type: "queue",
                    })),
                );
            }
            if (
                req.method === "DELETE" &&
                (m = url.match(/^\/api\/bindings\/%2F\/e\/rpcExchange\/q\/([^/]+)\/(.+)$/))
            ) {
                const before = state.bindings.length;
                state.bindings = state.bindings.filter(
                    (b) => !(b.destination === m?.[1] && b.properties_key === m?.[2]),
                );
                return send(before === state.bindings.length ? 404 : 204);
            }
            if (
                req.method === "POST" &&
                (m = url.match(/^\/api\/bindings\/%2F\/e\/rpcExchange\/q\/(.+)$/))
            ) {
                const key = JSON.parse(body).routing_key;
                state.bindings.push({ destination: m[1], routing_key: key, properties_key: key });
                return send(201);
            }
            return send(404, { error: "not_found" });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    servers.push(server);
    return { port, calls, state };
}

describe("ErizoAgent drain (run with bash against real processes)", function () {
    this.timeout(40000);
    const children: ChildProcess[] = [];
    const udp: dgram.Socket[] = [];
    let log: string;
    const logSays = (pattern: RegExp) => pattern.test(logText(log));
    let tmp: string;
    beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "agent-"))));
    afterEach(async () => {
        udp.splice(0).forEach((s) => s.close());
        for (const child of children.splice(0)) {
            child.kill("SIGKILL");
            await ended(child);
        }
        fs.rmSync(tmp, { recursive: true, force: true });
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

    const usualState = () => ({
        queues: [
            { name: "ErizoAgent", consumers: 2 },
            { name: "ErizoAgent_self", consumers: 1 },
            { name: "ErizoAgent_other", consumers: 1 },
        ],
        bindings: [
            { destination: "ErizoAgent", routing_key: "ErizoAgent", properties_key: "ErizoAgent" },
            {
                destination: "ErizoAgent_self",
                routing_key: "ErizoAgent_self",
                properties_key: "ErizoAgent_self",
            },
            {
                destination: "ErizoAgent_other",
                routing_key: "ErizoAgent_other",
                properties_key: "ErizoAgent_other",
            },
        ],
        // This host's agent connects from 127.0.0.1; the other from another node.
        peers: { ErizoAgent_self: "127.0.0.1", ErizoAgent_other: "10.9.9.9" } as Record<
            string,
            string
        >,
    });

    function drain(
        name: string,
        api: number,
        range: { min: number; max: number },
        drainSeconds = 15,
    ) {
        log = path.join(tmp, "hook.log");
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
                env: {
                    ...process.env,
                    LICODE_HOOK_LOG: log,
                    LICODE_DRAIN_DIR: DRAIN_DIR,
                    RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${api}`,
                    RABBITMQ_DRAIN_USER: "licode-drain",
                    RABBITMQ_DRAIN_PASSWORD: "pw",
                    LICODE_ROUTING_INTERVAL_MS: "300",
                },
            },
        );
    }

    const changes = (calls: string[]) => calls.filter((c) => !c.startsWith("GET"));

    it("routes new sessions away first, waits while media flows, then restores routing and stops", async () => {
        const range = { min: await freePortUdp(), max: 0 };
        range.max = range.min + 5;
        const api = await fakeManagementApi(usualState());
        const { name, child } = await agent();
        const session = await media(range.min + 2);
        const hook = drain(name, api.port, range);

        await waitUntil("the helper's routing changes", () => changes(api.calls).length >= 3);
        assert.deepStrictEqual(changes(api.calls), [
            "DELETE /api/bindings/%2F/e/rpcExchange/q/ErizoAgent_self/ErizoAgent_self",
            "DELETE /api/bindings/%2F/e/rpcExchange/q/ErizoAgent/ErizoAgent",
            'POST /api/bindings/%2F/e/rpcExchange/q/ErizoAgent_other {"routing_key":"ErizoAgent","arguments":{}}',
        ]);
        // As for the controller: held well past quietSeconds after counting the session.
        await waitUntil("the drain counting the session", () =>
            logSays(/media sessions: 1 in progress/),
        );
        await sleep((QUIET_SECONDS + 1.5) * 1000);
        assert.strictEqual(child.exitCode, null, "the agent keeps its sessions");
        const left = Date.now();
        session.close();
        udp.splice(udp.indexOf(session), 1);

        const run = await hook;
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(await ended(child), 0);
        assert.ok((Date.now() - left) / 1000 < 6, "stops soon after the last session");
        assert.deepStrictEqual(changes(api.calls).slice(3), [
            "DELETE /api/bindings/%2F/e/rpcExchange/q/ErizoAgent_other/ErizoAgent",
            'POST /api/bindings/%2F/e/rpcExchange/q/ErizoAgent {"routing_key":"ErizoAgent","arguments":{}}',
        ]);
        const text = fs.readFileSync(log, "utf8");
        assert.match(text, /ErizoAgent_self draining: new sessions go to ErizoAgent_other/);
        assert.match(text, /media sessions: 1 in progress[\s\S]*nothing in progress for 2 s/);
        assert.match(text, /ErizoAgent_self released: new sessions go to every agent/);
    });

    it("leaves the routing to another agent that still drains", async () => {
        const range = { min: await freePortUdp(), max: 0 };
        range.max = range.min + 5;
        const state = usualState();
        state.queues.push({ name: "ErizoAgent_third", consumers: 1 });
        state.peers.ErizoAgent_third = "10.9.9.10"; // draining: it has no binding of its own
        const api = await fakeManagementApi(state);
        const { name, child } = await agent();
        const run = await drain(name, api.port, range);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(await ended(child), 0);
        const bound = api.state.bindings.filter((b: any) => b.routing_key === "ErizoAgent");
        assert.deepStrictEqual(
            bound.map((b: any) => b.destination),
            ["ErizoAgent_other"],
            "ErizoAgent_third still drains, so new sessions keep avoiding it",
        );
    });

    it("says so, and still drains, when it is the only agent", async () => {
        const range = { min: await freePortUdp(), max: 0 };
        range.max = range.min + 5;
        const state = usualState();
        state.queues = state.queues.filter((q) => q.name !== "ErizoAgent_other");
        const api = await fakeManagementApi(state);
        const { name, child } = await agent();
        const run = await drain(name, api.port, range);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(await ended(child), 0);
        assert.match(fs.readFileSync(log, "utf8"), /no other agent can take new sessions/);
    });

    it("gives up at the end of its time, and still restores routing", async () => {
        const range = { min: await freePortUdp(), max: 0 };
        range.max = range.min + 5;
        const api = await fakeManagementApi(usualState());
        const { name, child } = await agent();
        await media(range.max);
        const run = await drain(name, api.port, range, 4);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.ok(run.seconds >= 3 && run.seconds < 9, `took ${run.seconds} s`);
        assert.strictEqual(await ended(child), 0);
        assert.match(fs.readFileSync(log, "utf8"), /grace period ends with 1 media sessions/);
        assert.deepStrictEqual(
            api.state.bindings
                .filter((b: any) => b.routing_key === "ErizoAgent")
                .map((b: any) => b.destination),
            ["ErizoAgent"],
        );
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
