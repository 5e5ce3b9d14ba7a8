"use strict";
/**
 * Keeps new ErizoJS sessions away from a draining ErizoAgent, through RabbitMQ's management API.
 *
 *   node media-routing.js drain     mark this agent draining and keep routing right until killed
 *   node media-routing.js release   restore the usual routing, unless another agent still drains
 *   node media-routing.js status    print where new sessions go and which agents drain
 *
 * It runs inside the ErizoAgent container with the image's own node (Node.js 12), so it needs no
 * module of its own and uses no syntax newer than ES2019.
 *
 * How Licode routes new sessions (github.com/lynckia/licode, tag v10): every agent consumes one
 * shared queue `ErizoAgent` and a queue of its own `ErizoAgent_<id>`, each bound to the direct
 * exchange `rpcExchange` under its own name (erizo_controller/erizoAgent/erizoAgent.js 299-305,
 * erizo_controller/common/amqper.js 50, 108-114). ErizoControllers send `createErizoJS` with the
 * routing key `ErizoAgent` (erizoController/ch_policies/default_policy.js 23-28,
 * ecCloudHandler.js 73-116), so RabbitMQ hands each new session to any agent in turn. Running
 * sessions talk to their ErizoJS over its own queue and never pass through these bindings.
 *
 * The lever: while an agent drains, the key `ErizoAgent` is bound to one other agent's own queue
 * (the survivor) instead of the shared queue, and the draining agent's own binding is removed, so
 * no new session reaches it. A draining agent is one whose own queue lacks its own binding, so
 * several agents can drain at once and each computes the same routing. Bindings are always
 * removed before one is added: a request published in between finds no queue and the controller
 * retries it after 5 s (ecCloudHandler.js 73-92), whereas two bindings at once would deliver it
 * twice.
 */
const http = require("http");
const os = require("os");

const EXCHANGE = "rpcExchange";
const SHARED_QUEUE = "ErizoAgent";
const AGENT_QUEUE = /^ErizoAgent_.+$/;

/**
 * What to change so new sessions avoid every draining agent. Pure: takes the broker's queues and
 * the bindings of `rpcExchange`, returns the actions in the order they must run.
 *
 * @param {{queues: {name: string, consumers: number}[],
 *          bindings: {destination: string, routing_key: string, properties_key: string}[]}} state
 * @param {string} self this agent's own queue, ErizoAgent_<id>
 * @param {'drain' | 'release'} mode
 */
function plan(state, self, mode) {
    const bound = (queue, key) =>
        state.bindings.some((b) => b.destination === queue && b.routing_key === key);
    const agents = state.queues
        .filter((q) => AGENT_QUEUE.test(q.name) && q.consumers > 0 && q.name !== self)
        .map((q) => q.name)
        .sort();
    const othersDraining = agents.filter((q) => !bound(q, q));
    const survivors = agents.filter((q) => bound(q, q));
    const swap = (mode === "drain" || othersDraining.length > 0) && survivors.length > 0;
    const current = state.bindings.filter((b) => b.routing_key === SHARED_QUEUE);
    let target = SHARED_QUEUE;
    if (swap) {
        const kept = current.find((b) => survivors.indexOf(b.destination) !== -1);
        target = kept ? kept.destination : survivors[0];
    }

    const actions = [];
    if (mode === "drain") {
        state.bindings
            .filter((b) => b.destination === self && b.routing_key === self)
            .forEach((b) => actions.push({ op: "unbind", queue: self, binding: b }));
    }
    current
        .filter((b) => b.destination !== target)
        .forEach((b) => actions.push({ op: "unbind", queue: b.destination, binding: b }));
    if (!current.some((b) => b.destination === target)) {
        actions.push({ op: "bind", queue: target, key: SHARED_QUEUE });
    }
    return {
        actions,
        target,
        draining: mode === "drain" ? othersDraining.concat([self]).sort() : othersDraining,
        survivors,
    };
}

/** A tiny client for the management API: JSON in and out, basic auth, a timeout. */
function managementApi(baseUrl, user, password, vhost) {
    const base = new URL(baseUrl);
    const auth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    const v = encodeURIComponent(vhost);
    const request = (method, path, body) =>
        new Promise((resolve, reject) => {
            const payload = body === undefined ? undefined : JSON.stringify(body);
            const req = http.request(
                {
                    host: base.hostname,
                    port: base.port || 15672,
                    method,
                    path,
                    timeout: 5000,
                    headers: Object.assign(
                        { authorization: auth, accept: "application/json" },
                        payload === undefined
                            ? {}
                            : {
                                  "content-type": "application/json",
                                  "content-length": Buffer.byteLength(payload),
                              },
                    ),
                },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8");
                    res.on("data", (chunk) => {
                        text += chunk;
                    });
                    res.on("end", () => {
                        if (res.statusCode >= 200 && res.statusCode < 300) {
                            resolve(text === "" ? undefined : JSON.parse(text));
                        } else if (method === "DELETE" && res.statusCode === 404) {
                            resolve(undefined); // already gone
                        } else {
                            reject(
                                new Error(
                                    `${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`,
                                ),
                            );
                        }
                    });
                },
            );
            req.on("timeout", () =>
                req.destroy(new Error(`${method} ${path}: no answer within 5 s`)),
            );
            req.on("error", reject);
            if (payload !== undefined) {
                req.write(payload);
            }
            req.end();
        });
    const q = (name) => encodeURIComponent(name);
    return {
        queues: () => request("GET", `/api/queues/${v}?columns=name,consumers`),
        queue: (name) => request("GET", `/api/queues/${v}/${q(name)}`),
        bindings: () => request("GET", `/api/exchanges/${v}/${EXCHANGE}/bindings/source`),
        unbind: (queue, propertiesKey) =>
            request("DELETE", `/api/bindings/${v}/e/${EXCHANGE}/q/${q(queue)}/${q(propertiesKey)}`),
        bind: (queue, key) =>
            request("POST", `/api/bindings/${v}/e/${EXCHANGE}/q/${q(queue)}`, {
                routing_key: key,
                arguments: {},
            }),
    };
}

/** The IPv4 addresses of this host: with the host network, the agent's AMQP connection comes from one. */
function localAddresses() {
    const found = [];
    const interfaces = os.networkInterfaces();
    Object.keys(interfaces).forEach((name) => {
        interfaces[name].forEach((a) => {
            if (a.family === "IPv4" || a.family === 4) {
                found.push(a.address);
            }
        });
    });
    return found;
}

/** This agent's own queue: the ErizoAgent_<id> queue consumed from one of this host's addresses. */
async function findSelf(api, addresses) {
    const queues = (await api.queues()).filter((q) => AGENT_QUEUE.test(q.name));
    const mine = [];
    for (let i = 0; i < queues.length; i += 1) {
        const details = await api.queue(queues[i].name);
        const hosts = (details.consumer_details || []).map(
            (c) => (c.channel_details || {}).peer_host,
        );
        if (hosts.some((h) => addresses.indexOf(h) !== -1)) {
            mine.push(queues[i].name);
        }
    }
    if (mine.length !== 1) {
        throw new Error(
            `expected one ErizoAgent_<id> queue consumed from ${addresses.join(", ")}, found ${mine.length} (${mine.join(", ")}); set LICODE_AGENT_QUEUE`,
        );
    }
    return mine[0];
}

async function state(api) {
    const [queues, bindings] = await Promise.all([api.queues(), api.bindings()]);
    return {
        queues,
        bindings: bindings.filter((b) => b.destination_type === "queue"),
    };
}

async function apply(api, actions) {
    for (let i = 0; i < actions.length; i += 1) {
        const a = actions[i];
        await (a.op === "unbind"
            ? api.unbind(a.queue, a.binding.properties_key)
            : api.bind(a.queue, a.key));
    }
}

function describe(result) {
    const where = result.target === SHARED_QUEUE ? "every agent (shared queue)" : result.target;
    return `new sessions go to ${where}; draining: ${result.draining.join(", ") || "none"}`;
}

async function main(argv, env, log) {
    const mode = argv[0];
    if (["drain", "release", "status"].indexOf(mode) === -1) {
        throw new Error("usage: media-routing.js drain|release|status");
    }
    const api = managementApi(
        env.RABBITMQ_MANAGEMENT_URL,
        env.RABBITMQ_DRAIN_USER,
        env.RABBITMQ_DRAIN_PASSWORD,
        env.RABBITMQ_VHOST || "/",
    );
    if (mode === "status") {
        const s = await state(api);
        const shared = s.bindings
            .filter((b) => b.routing_key === SHARED_QUEUE)
            .map((b) => b.destination);
        const draining = s.queues
            .filter((q) => AGENT_QUEUE.test(q.name) && q.consumers > 0)
            .filter(
                (q) =>
                    !s.bindings.some((b) => b.destination === q.name && b.routing_key === q.name),
            )
            .map((q) => q.name);
        log(
            `new sessions go to ${shared.join(", ") || "nowhere"}; draining: ${draining.join(", ") || "none"}`,
        );
        return;
    }
    const self = env.LICODE_AGENT_QUEUE || (await findSelf(api, localAddresses()));
    if (mode === "release") {
        const result = plan(await state(api), self, "release");
        await apply(api, result.actions);
        log(`${self} released: ${describe(result)}`);
        return;
    }
    const interval = Number(env.LICODE_ROUTING_INTERVAL_MS || 1000);
    let last = "";
    for (;;) {
        try {
            const result = plan(await state(api), self, "drain");
            await apply(api, result.actions);
            const line = `${self} draining: ${describe(result)}`;
            if (line !== last) {
                log(
                    result.survivors.length === 0
                        ? `${line}; no other agent can take new sessions, so they still reach this one`
                        : line,
                );
                last = line;
            }
        } catch (error) {
            log(`routing not updated, retrying: ${error.message}`);
            last = "";
        }
        await new Promise((resolve) => setTimeout(resolve, interval));
    }
}

module.exports = { plan, SHARED_QUEUE, EXCHANGE };

if (require.main === module) {
    process.on("SIGTERM", () => process.exit(0));
    main(process.argv.slice(2), process.env, (line) =>
        console.log(`[media-routing] ${line}`),
    ).catch((error) => {
        console.error(`[media-routing] ${error.message}`);
        process.exit(1);
    });
}
