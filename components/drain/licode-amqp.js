"use strict";
/**
 * The drain helpers' link to RabbitMQ: Licode's own RPC conventions, spoken with the image's own
 * AMQP client (node-amqp 0.2.7, erizo_controller/package-lock.json) and the credentials in the
 * pod's licode_config.js, so the helpers need no module and no access of their own. It runs on the
 * image's Node.js 12: no syntax newer than ES2019.
 *
 * What it speaks (github.com/lynckia/licode, tag v10, erizo_controller/common/amqper.js):
 * - an RPC is `{method, args, corrID, replyTo}` published to the direct exchange `rpcExchange`
 *   under the callee's queue name; the callee answers `{data, corrID, type}` to `replyTo`, a
 *   queue bound to `rpcExchange` under its own name (45-60, 108-136, 206-212);
 * - a broadcast is `{message, corrID, replyTo}` published to the topic exchange
 *   `broadcastExchange`; every queue bound to the topic answers the same way (139-175, 188-201);
 * - ROV's sessions: `rovMessage` with `{action: open|command|close}` runs a line in a REPL of the
 *   component (common/ROV/rovReplManager.js 16-79; ROV/rovClient.js 64-96 is upstream's client).
 *
 * Unlike amqper, a lost connection does not end the process: the helpers retry (their callers
 * decide until when).
 */
const fs = require("fs");

const RPC_TIMEOUT_MS = 5000;

/** The config a Licode tier reads (what erizoController.js 7, 15 and erizoAgent.js 9, 14 do). */
function loadConfig(licodeDir) {
    return require(`${licodeDir}/licode_config.js`);
}

/** The image's AMQP client and its protocol tables (node-amqp 0.2.7). */
function amqpLibrary(licodeDir) {
    const base = `${licodeDir}/erizo_controller/node_modules/amqp`;
    return { amqp: require(base), methods: require(`${base}/lib/definitions`).methods };
}

/** Where amqper.js 30-39 connects: `rabbit.url`, else host and port; with its heartbeat. */
function connectionOptions(config) {
    const rabbit = config.rabbit || {};
    const options =
        rabbit.url !== undefined
            ? { url: rabbit.url }
            : { host: rabbit.host || "localhost", port: rabbit.port || 5672 };
    if (rabbit.heartbeat !== undefined) {
        options.heartbeat = rabbit.heartbeat;
    }
    return options;
}

/** What this process is, as any process of the same container sees it: kernel boot, PID namespace, PID. */
function identityOf(pid) {
    return JSON.stringify([
        fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(),
        fs.readlinkSync(`/proc/${pid}/ns/pid`),
        Number(pid),
    ]);
}

/**
 * The line run in a component's ROV session to learn the same of that component: identityOf's
 * answer for `process.pid`, printed (the session returns what the line prints, rpcDuplexStream.js
 * 13-40). PIDs are per namespace and namespaces per kernel, hence all three.
 */
const WHOAMI_COMMAND =
    "console.log(JSON.stringify([require('fs').readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), " +
    "require('fs').readlinkSync('/proc/self/ns/pid'), process.pid]))";

/** The last line of a ROV answer that parses as JSON, or undefined. */
function lastJsonLine(text) {
    const lines = String(text).trim().split("\n").reverse();
    for (let i = 0; i < lines.length; i += 1) {
        try {
            return JSON.parse(lines[i]);
        } catch {
            // not this line
        }
    }
    return undefined;
}

/** A connection to the broker speaking Licode's RPCs. Open with `Link.open`. */
class Link {
    constructor(lib, connection) {
        this.lib = lib;
        this.connection = connection;
        this.pending = new Map(); // corrID -> {resolve, reject, timer, replies}
        this.nextId = 0;
        this.lost = undefined;
        this.lostHandlers = [];
        connection.on("error", (error) => this.fail(error));
        connection.on("close", () => this.fail(new Error("the broker closed the connection")));
    }

    /** Connects, declares the exchanges as amqper.js 50 and 94-95 do, and opens a reply queue. */
    static open(config, licodeDir, timeoutMs) {
        const lib = amqpLibrary(licodeDir);
        return new Promise((resolve, reject) => {
            let settled = false;
            const give = (error) => {
                if (!settled) {
                    settled = true;
                    clearTimeout(timer);
                    try {
                        connection.disconnect();
                    } catch {
                        // not connected
                    }
                    reject(error);
                }
            };
            const timer = setTimeout(
                () => give(new Error(`no AMQP connection within ${timeoutMs} ms`)),
                timeoutMs,
            );
            const connection = lib.amqp.createConnection(connectionOptions(config), {
                reconnect: false,
            });
            connection.once("error", (error) => give(error));
            connection.once("ready", () => {
                const link = new Link(lib, connection);
                link.rpcExchange = connection.exchange("rpcExchange", { type: "direct" }, () => {
                    link.broadcastExchange = connection.exchange(
                        "broadcastExchange",
                        { type: "topic", autoDelete: false },
                        () => {
                            const queue = connection.queue("", { exclusive: true }, (q) => {
                                q.bind("rpcExchange", q.name, () => {
                                    link.replyQueue = q.name;
                                    q.subscribe((message) => link.answer(message));
                                    if (!settled) {
                                        settled = true;
                                        clearTimeout(timer);
                                        resolve(link);
                                    }
                                });
                            });
                            queue.on("error", give);
                        },
                    );
                });
            });
        });
    }

    fail(error) {
        if (this.lost !== undefined) {
            return;
        }
        this.lost = error || new Error("the AMQP connection was lost");
        this.pending.forEach((call) => {
            clearTimeout(call.timer);
            call.reject(this.lost);
        });
        this.pending.clear();
        this.lostHandlers.forEach((handler) => handler(this.lost));
    }

    /** Runs `handler(error)` once the connection is lost. */
    onLost(handler) {
        if (this.lost !== undefined) {
            handler(this.lost);
        } else {
            this.lostHandlers.push(handler);
        }
    }

    answer(message) {
        const call = this.pending.get(message.corrID);
        if (call === undefined) {
            return;
        }
        if (call.replies !== undefined) {
            call.replies.push(message.data);
            return;
        }
        clearTimeout(call.timer);
        this.pending.delete(message.corrID);
        if (message.data === "timeout" || message.data === "error") {
            call.reject(new Error(`answered ${message.data}`));
        } else {
            call.resolve(message.data);
        }
    }

    ensureOpen() {
        if (this.lost !== undefined) {
            throw this.lost;
        }
    }

    /** An RPC to the queue `to`, resolving with the callee's answer (amqper.js 206-212). */
    rpc(to, method, args, timeoutMs) {
        this.ensureOpen();
        const limit = timeoutMs === undefined ? RPC_TIMEOUT_MS : timeoutMs;
        return new Promise((resolve, reject) => {
            this.nextId += 1;
            const corrID = `drain-${process.pid}-${this.nextId}`;
            const timer = setTimeout(() => {
                this.pending.delete(corrID);
                reject(new Error(`${to} did not answer ${method} within ${limit} ms`));
            }, limit);
            this.pending.set(corrID, { resolve, reject, timer });
            this.rpcExchange.publish(to, { method, args, corrID, replyTo: this.replyQueue });
        });
    }

    /** A broadcast to `topic`, resolving with every answer received within `windowMs` (amqper.js 188-201). */
    broadcast(topic, message, windowMs) {
        this.ensureOpen();
        return new Promise((resolve, reject) => {
            this.nextId += 1;
            const corrID = `drain-${process.pid}-${this.nextId}`;
            const call = { resolve, reject, replies: [] };
            call.timer = setTimeout(() => {
                this.pending.delete(corrID);
                resolve(call.replies);
            }, windowMs);
            this.pending.set(corrID, call);
            this.broadcastExchange.publish(topic, {
                message,
                corrID,
                replyTo: this.replyQueue,
            });
        });
    }

    /**
     * Answers broadcasts to `topic` with `handler(message)`'s value, as a component bound with
     * amqper.bindBroadcast does (amqper.js 139-175).
     */
    answerBroadcasts(topic, handler) {
        this.ensureOpen();
        return new Promise((resolve, reject) => {
            const queue = this.connection.queue("", { exclusive: true }, (q) => {
                q.bind("broadcastExchange", topic, () => resolve());
                q.subscribe((body) => {
                    if (body && body.replyTo) {
                        this.rpcExchange.publish(body.replyTo, {
                            data: handler(body.message),
                            corrID: body.corrID,
                            type: "callback",
                        });
                    }
                });
            });
            queue.on("error", reject);
        });
    }

    /**
     * A passive queue.declare: the queue's consumer count as the broker knows it at this moment, or
     * undefined when there is no such queue (AMQP 0-9-1 queue.declare-ok carries consumer-count).
     */
    consumerCount(name) {
        this.ensureOpen();
        return new Promise((resolve, reject) => {
            const queue = this.connection.queue(
                name,
                { passive: true },
                (q, messages, consumers) => {
                    q.close();
                    resolve(consumers);
                },
            );
            queue.on("error", (error) => {
                // The broker closed this channel (404): node-amqp keeps its slot, so free it.
                delete this.connection.channels[queue.channel];
                if (error && error.code === 404) {
                    resolve(undefined);
                } else {
                    reject(error);
                }
            });
        });
    }

    /** Runs `command` in a ROV session of the component behind queue `rpcId`; resolves with what it printed. */
    async rov(rpcId, command, timeoutMs) {
        const session = await this.rpc(rpcId, "rovMessage", [{ action: "open" }], timeoutMs);
        try {
            return await this.rpc(
                rpcId,
                "rovMessage",
                [{ action: "command", id: session, message: command }],
                timeoutMs,
            );
        } finally {
            this.rpc(rpcId, "rovMessage", [{ action: "close", id: session }], timeoutMs).catch(
                () => undefined,
            );
        }
    }

    /** identityOf's answer for the component behind `rpcId`, or undefined when it answers nothing usable. */
    async whoami(rpcId, timeoutMs) {
        const answer = lastJsonLine(await this.rov(rpcId, WHOAMI_COMMAND, timeoutMs));
        return Array.isArray(answer) ? JSON.stringify(answer) : undefined;
    }

    /**
     * Consumes `queueName` (which must exist) ahead of every consumer of a lower priority: RabbitMQ
     * delivers to the highest-priority consumers that are not at their prefetch limit. node-amqp's
     * subscribe sends no consumer arguments (lib/queue.js 73-83), so basic.consume is sent here with
     * `x-priority`, through the same channel machinery. `handler(body, done)` gets each message's
     * JSON; `done()` acknowledges it. Resolves with a function that cancels the consumer.
     */
    consumeFirst(queueName, priority, prefetch, handler) {
        this.ensureOpen();
        const methods = this.lib.methods;
        return new Promise((resolve, reject) => {
            const queue = this.connection.queue(queueName, { passive: true }, (q) => {
                const tag = `licode-drain-${process.pid}-${Date.now()}`;
                q.consumerTagListeners[tag] = (message) => {
                    const chunks = [];
                    message.on("data", (chunk) => chunks.push(chunk));
                    message.on("end", () => {
                        let body;
                        try {
                            body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
                        } catch {
                            body = undefined;
                        }
                        handler(body, () => message.acknowledge(false));
                    });
                };
                q.consumerTagOptions[tag] = { state: "open" };
                this.connection._sendMethod(q.channel, methods.basicQos, {
                    reserved1: 0,
                    prefetchSize: 0,
                    prefetchCount: prefetch,
                    global: false,
                });
                q._taskPush(methods.basicConsumeOk, () =>
                    this.connection._sendMethod(q.channel, methods.basicConsume, {
                        reserved1: 0,
                        queue: queueName,
                        consumerTag: tag,
                        noLocal: false,
                        noAck: false,
                        exclusive: false,
                        noWait: false,
                        arguments: { "x-priority": priority },
                    }),
                ).addCallback(() =>
                    resolve(
                        () =>
                            new Promise((done) => {
                                q.unsubscribe(tag).addCallback(() => done());
                            }),
                    ),
                );
            });
            queue.on("error", reject);
        });
    }

    /** Publishes `body` (JSON) to `rpcExchange` under `key`, as an RPC caller does. */
    publishRpc(key, body) {
        this.ensureOpen();
        this.rpcExchange.publish(key, body);
    }

    /** Removes the binding of `queueName` to `rpcExchange` under `key`. */
    unbindRpc(queueName, key) {
        this.ensureOpen();
        return new Promise((resolve, reject) => {
            const queue = this.connection.queue(queueName, { passive: true }, (q) => {
                q.unbind("rpcExchange", key);
                // node-amqp 0.2.7 emits queueUnbindOk on the queue (lib/queue.js _onMethod: emit(method.name)).
                q.once("queueUnbindOk", () => {
                    q.close();
                    resolve();
                });
            });
            queue.on("error", (error) => {
                delete this.connection.channels[queue.channel];
                reject(error);
            });
        });
    }

    /** Declares a queue with `options` (node-amqp's), resolving with the queue object. */
    declare(name, options) {
        this.ensureOpen();
        return new Promise((resolve, reject) => {
            const queue = this.connection.queue(name, options, (q) => resolve(q));
            queue.on("error", reject);
        });
    }

    /** Publishes `body` to the queue `name` through the default exchange. */
    publishToQueue(name, body) {
        this.ensureOpen();
        this.connection.publish(name, body);
    }

    close() {
        this.lost = this.lost || new Error("closed");
        try {
            this.connection.disconnect();
        } catch {
            // already gone
        }
    }
}

/**
 * Opens a Link, retrying every `retryMs` until `deadline` (ms since the epoch). Each failure is
 * logged once while it stays the same; resolves undefined when the deadline passes.
 */
async function openUntil(config, licodeDir, deadline, retryMs, log) {
    let said = "";
    for (;;) {
        try {
            return await Link.open(
                config,
                licodeDir,
                Math.max(1000, Math.min(10000, deadline - Date.now())),
            );
        } catch (error) {
            const line = `cannot reach the broker, retrying: ${error.message}`;
            if (line !== said) {
                log(line);
                said = line;
            }
        }
        if (Date.now() + retryMs >= deadline) {
            return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
}

/**
 * The queues that hold the drains' figures for Prometheus (RabbitMQ's per-queue metrics, see
 * components/monitoring/metric-names.ts): per tier, one queue whose consumers are the drains
 * running, one whose messages are the sessions cut at a deadline and one whose messages are the
 * drains' give-ups (both kept a week), and per drain an exclusive queue whose messages are the
 * sessions it still waits for (deleted with its connection, so a drain that dies leaves nothing).
 */
const REPORT_TTL_MS = 7 * 24 * 3600 * 1000;
const REPORT_MAX_LENGTH = 100000;
function reportQueues(tier) {
    return {
        running: `licode-drain.running.${tier}`,
        cut: `licode-drain.cut.${tier}`,
        giveUps: `licode-drain.give-ups.${tier}`,
        left: (id) => `licode-drain.left.${tier}.${id}`,
    };
}
const KEPT = {
    durable: true,
    autoDelete: false,
    arguments: { "x-message-ttl": REPORT_TTL_MS, "x-max-length": REPORT_MAX_LENGTH },
};

/**
 * A drain's figures at the broker. Every method swallows its own errors (the figures must never
 * stop a drain) and says so through `log` once.
 */
class Report {
    constructor(tier, log) {
        this.tier = tier;
        this.log = log;
        this.queues = reportQueues(tier);
        this.link = undefined;
        this.leftQueue = undefined;
        this.left = undefined;
        this.id = `${require("os").hostname()}-${process.pid}`;
        this.failed = false;
        this.pendingGiveUps = [];
    }

    problem(what, error) {
        if (!this.failed) {
            this.failed = true;
            this.log(`drain figures not reported (${what}): ${error.message}`);
        }
    }

    /** Starts reporting through `link`: this drain counts as running from now on. */
    async attach(link, id) {
        this.link = link;
        if (id !== undefined) {
            this.id = id.replace(/[^A-Za-z0-9_.-]/g, "_");
        }
        try {
            const running = await link.declare(this.queues.running, {
                durable: true,
                autoDelete: false,
            });
            running.subscribe(() => undefined);
            await link.declare(this.queues.cut, KEPT);
            await link.declare(this.queues.giveUps, KEPT);
            this.leftQueue = await link.declare(this.queues.left(this.id), {
                exclusive: true,
                autoDelete: true,
            });
            if (this.left !== undefined) {
                const left = this.left;
                this.left = undefined;
                this.sessionsLeft(left);
            }
            this.pendingGiveUps.splice(0).forEach((reason) => this.giveUp(reason));
        } catch (error) {
            this.problem("declaring its queues", error);
        }
    }

    /** The sessions the drain still waits for: the exclusive queue holds that many messages. */
    sessionsLeft(count) {
        if (count === this.left) {
            return;
        }
        this.left = count;
        if (this.leftQueue === undefined) {
            return;
        }
        try {
            this.leftQueue.purge();
            for (let i = 0; i < count; i += 1) {
                this.link.publishToQueue(this.leftQueue.name, { at: Date.now() });
            }
        } catch (error) {
            this.problem("sessions left", error);
        }
    }

    /** `count` sessions cut at the deadline: one kept message each. */
    cut(count, detail) {
        try {
            for (let i = 0; i < count; i += 1) {
                this.link.publishToQueue(this.queues.cut, {
                    at: Date.now(),
                    drain: this.id,
                    detail,
                });
            }
        } catch (error) {
            this.problem("sessions cut", error);
        }
    }

    /** A give-up of the drain, with its reason: one kept message. */
    giveUp(reason) {
        if (this.link === undefined || this.link.lost !== undefined) {
            // Counted once the drain reaches the broker, if it does.
            this.pendingGiveUps.push(reason);
            return;
        }
        try {
            this.link.publishToQueue(this.queues.giveUps, {
                at: Date.now(),
                drain: this.id,
                reason,
            });
        } catch (error) {
            this.problem("give-ups", error);
        }
    }
}

module.exports = {
    Link,
    Report,
    identityOf,
    lastJsonLine,
    loadConfig,
    openUntil,
    reportQueues,
    WHOAMI_COMMAND,
    RPC_TIMEOUT_MS,
};
