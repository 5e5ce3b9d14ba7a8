"use strict";
/**
 * Keeps new ErizoJS sessions away from a draining ErizoAgent:
 *
 *   node media-routing.js drain     route new sessions to the other agents until this agent is gone
 *   node media-routing.js status    print the agents, their load, and which of them drain
 *
 * Started by the agent's preStop hook (components/hooks.ts) with the image's own node (Node.js
 * 12: no syntax newer than ES2019) and the credentials in the agent's licode_config.js.
 *
 * How Licode hands out new sessions (github.com/lynckia/licode, tag v10): every agent consumes
 * one shared queue `ErizoAgent` and a queue of its own `ErizoAgent_<id>`, each bound to the direct
 * exchange `rpcExchange` under its own name (erizo_controller/erizoAgent/erizoAgent.js 299-305,
 * common/amqper.js 108-136). A controller sends `createErizoJS` for a new session to `ErizoAgent`,
 * so RabbitMQ hands it to any agent of any pool in turn, and to `ErizoAgent_<id>` when the room
 * reuses a slot it already has on that agent (erizoController/roomController.js 87-116,
 * ecCloudHandler.js 94-116, ch_policies/default_policy.js 23-28). ROV and the slot reuse need
 * every listed agent to keep answering on `ErizoAgent_<id>` (ROV/rovClient.js 178-240).
 *
 * The lever: while this agent drains, this helper consumes the shared queue itself, at a higher
 * consumer priority than the agents' own consumers (they pass none, amqper.js 115), so RabbitMQ
 * gives it every new session while it keeps up (it acknowledges each as it takes it). It
 * passes each request on to one agent that does not drain, through that agent's own queue, the
 * least loaded first: load is the CPU figure each agent reports to the controllers' broadcast
 * `getErizoAgents` (erizoAgentReporter.js 18-61), plus a share for each session sent to it since
 * its last report, so a burst between two reports spreads. No binding changes while the agent
 * drains: an agent that starts meanwhile binds the shared queue as always and only adds a consumer,
 * so no request is delivered twice, and it takes sessions as soon as it answers the broadcast and
 * its own queue has a consumer (a passive queue.declare returns the consumer count at once, and
 * needs any one right on the queue: deps/rabbit/src/rabbit_channel.erl 2554-2571 at RabbitMQ v4.3.5).
 * Sessions go to every agent that does not drain, in every pool, as the shared queue does outside
 * a drain: the helper takes the whole queue over, so keeping to one pool would pile every new
 * session of the cluster on that pool. Draining agents are known to each other by answering a
 * broadcast of their own (`licode-drain.agents`), so several can drain at once. With no other
 * agent, requests go to this agent's own queue: new sessions still reach it.
 *
 * When the hook ends the drain it sends SIGUSR2: this agent's own binding is removed (a room that
 * would reuse a slot here is retried by its controller on the shared queue after 5 s,
 * ecCloudHandler.js 73-92, instead of getting a worker about to be killed), the sessions cut are
 * counted and `done` is written in LICODE_DRAIN_RUN. The routing goes on until the agent is gone:
 * the agent's consumers end with its connection, this helper's with the container a moment later.
 *
 * Environment: LICODE_DIR (/opt/licode), LICODE_DRAIN_PID (the agent's PID here), LICODE_DRAIN_RUN
 * (the hook's directory: `busy`, `end`, `done`), LICODE_DRAIN_DEADLINE (seconds since the epoch
 * when the drain stops waiting), LICODE_ROUTING_INTERVAL_MS (1000).
 */
const fs = require("fs");
const licodeAmqp = require("./licode-amqp");

const SHARED_QUEUE = "ErizoAgent";
const DRAINING_TOPIC = "licode-drain.agents";
/** Above the agents' consumers, which pass no priority (0). */
const PRIORITY = 10;
/** Requests in flight before RabbitMQ passes the next ones to the agents themselves. */
const PREFETCH = 200;
/** Replies to a broadcast arrive within milliseconds; this bounds each round. */
const BROADCAST_WINDOW_MS = 500;
/** The hook waits 10 s for the last step (components/drain/timing.ts DRAIN_FINISH_SECONDS): keep within it. */
const FINISH_MS = 8000;
/** What one session sent since an agent's last report adds to its CPU figure (0..1). */
const SESSION_SHARE = 0.05;

/**
 * The agent to give the next session: the agents that do not drain, the least loaded first. Pure.
 *
 * @param {{id: string, cpu: number}[]} agents the agents that answer, each with its last CPU figure
 * @param {string[]} draining the agents that drain (this one included)
 * @param {Record<string, number>} sent sessions sent to each since its last report
 * @returns {string | undefined} the agent's id, or undefined when none is left
 */
function chooseAgent(agents, draining, sent) {
    const load = (a) => (Number(a.cpu) || 0) + SESSION_SHARE * (sent[a.id] || 0);
    const eligible = agents.filter((a) => draining.indexOf(a.id) === -1);
    eligible.sort(
        (a, b) =>
            load(a) - load(b) || (sent[a.id] || 0) - (sent[b.id] || 0) || (a.id < b.id ? -1 : 1),
    );
    return eligible.length === 0 ? undefined : eligible[0].id;
}

/** Reads a small file of the hook's directory, or undefined. */
function readRun(run, name) {
    try {
        return fs.readFileSync(`${run}/${name}`, "utf8").trim();
    } catch {
        return undefined;
    }
}

function alive(pid) {
    try {
        process.kill(Number(pid), 0);
        return true;
    } catch (error) {
        return error.code === "EPERM";
    }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every agent that answers the broadcast the controllers use (ecCloudHandler.js 28-62). */
async function listAgents(link) {
    const replies = await link.broadcast(
        SHARED_QUEUE,
        { method: "getErizoAgents", args: [] },
        BROADCAST_WINDOW_MS,
    );
    const agents = new Map();
    replies.forEach((reply) => {
        if (reply && reply.info && reply.info.id !== undefined) {
            agents.set(String(reply.info.id), {
                id: String(reply.info.id),
                cpu: reply.stats ? Number(reply.stats.perc_cpu) : 0,
            });
        }
    });
    return Array.from(agents.values());
}

async function listDraining(link) {
    const replies = await link.broadcast(
        DRAINING_TOPIC,
        { method: "drainingAgents", args: [] },
        BROADCAST_WINDOW_MS,
    );
    return replies.filter((r) => r && r.agent !== undefined).map((r) => String(r.agent));
}

async function drain(env, log) {
    const licodeDir = env.LICODE_DIR || "/opt/licode";
    const interval = Number(env.LICODE_ROUTING_INTERVAL_MS || 1000);
    const pid = env.LICODE_DRAIN_PID;
    const run = env.LICODE_DRAIN_RUN;
    const deadline = Number(env.LICODE_DRAIN_DEADLINE || 0) * 1000 || Date.now() + 3600 * 1000;
    const config = licodeAmqp.loadConfig(licodeDir);
    const report = new licodeAmqp.Report("erizo-agent", log);
    const identity = licodeAmqp.identityOf(pid);
    const giveUps = new Set();
    const giveUp = (reason) => {
        if (!giveUps.has(reason)) {
            giveUps.add(reason);
            log(`gave up: ${reason}`);
            report.giveUp(reason);
        }
    };
    let said = "";
    const say = (line) => {
        if (line !== said) {
            log(line);
            said = line;
        }
    };

    let ending = false;
    let ended = false;
    process.on("SIGUSR2", () => {
        ending = true;
    });

    let link;
    let self; // this agent's id
    let stopRouting; // cancels the consumer on the shared queue
    const verified = new Set(); // agents seen consuming their own queue
    let agents = []; // agents that do not drain and consume their own queue
    let draining = [];
    let sent = {};
    let routed = 0;

    const route = (body, done) => {
        // Acknowledged before it is passed on: this helper ends with its container, maybe between
        // the two steps, and a request acknowledged but not passed on is retried by its controller
        // after 5 s (ecCloudHandler.js 73-92), while one passed on but not acknowledged would go
        // back to the queue and be answered twice.
        done();
        const target = chooseAgent(agents, draining, sent) || self;
        if (body !== undefined) {
            try {
                link.publishRpc(`ErizoAgent_${target}`, body);
                sent[target] = (sent[target] || 0) + 1;
                routed += 1;
            } catch (error) {
                say(`a request was not passed on (its controller retries it): ${error.message}`);
            }
        }
    };

    const locate = async () => {
        const listed = await listAgents(link);
        for (let i = 0; i < listed.length; i += 1) {
            const answer = await link
                .whoami(`ErizoAgent_${listed[i].id}`, 3000)
                .catch(() => undefined);
            if (answer === identity) {
                return listed[i].id;
            }
        }
        return undefined;
    };

    const round = async () => {
        const listed = await listAgents(link);
        draining = await listDraining(link);
        if (draining.indexOf(self) === -1) {
            draining.push(self);
        }
        for (let i = 0; i < listed.length; i += 1) {
            const id = listed[i].id;
            if (!verified.has(id) && draining.indexOf(id) === -1) {
                const consumers = await link.consumerCount(`ErizoAgent_${id}`);
                if (consumers !== undefined && consumers > 0) {
                    verified.add(id);
                }
            }
        }
        agents = listed.filter((a) => verified.has(a.id) && draining.indexOf(a.id) === -1);
        sent = {};
        const others = agents
            .map((a) => `ErizoAgent_${a.id}`)
            .sort()
            .join(", ");
        say(
            others === ""
                ? `ErizoAgent_${self} draining: no other agent can take new sessions, so they still reach this one`
                : `ErizoAgent_${self} draining: new sessions go to ${others} (the least loaded first); draining: ${draining
                      .map((d) => `ErizoAgent_${d}`)
                      .sort()
                      .join(", ")}`,
        );
    };

    const finish = async () => {
        const end = (readRun(run, "end") || "").split(" ");
        const count = Number(end[1] || 0);
        if (self !== undefined) {
            // Retried within the time the hook waits for this step (DRAIN_FINISH_SECONDS).
            const until = Date.now() + FINISH_MS;
            for (;;) {
                try {
                    if (link === undefined || link.lost !== undefined) {
                        link = await licodeAmqp.Link.open(config, licodeDir, 2000);
                        // The consumer went with the old connection: the main loop starts a new one.
                        stopRouting = undefined;
                    }
                    await link.unbindRpc(`ErizoAgent_${self}`, `ErizoAgent_${self}`);
                    break;
                } catch (error) {
                    if (Date.now() + 500 >= until) {
                        giveUp(
                            `ErizoAgent_${self} still takes requests of its own (a room reusing a slot here gets a worker that stops with the agent): ${error.message}`,
                        );
                        break;
                    }
                    log(`could not remove this agent's own binding, retrying: ${error.message}`);
                    await sleep(500);
                }
            }
        }
        if (self === undefined) {
            giveUp("the drain ended before this agent was found among the agents");
        }
        if (end[0] === "deadline" && count > 0) {
            report.cut(count, "media sockets bound at the deadline");
        }
        report.sessionsLeft(0);
        const summary = `${routed} new sessions routed to other agents${self === undefined ? "" : `; ErizoAgent_${self} takes no more requests of its own`}`;
        log(`last step done: ${summary}`);
        if (run !== undefined) {
            fs.writeFileSync(`${run}/done`, `${summary}\n`);
        }
        ended = true;
    };

    let lateSaid = false;
    let goneAt;
    for (;;) {
        if (pid !== undefined && !alive(pid)) {
            // The agent's consumers went with its connection; route a moment longer for
            // requests the broker had already handed out, then go.
            goneAt = goneAt || Date.now();
            if (Date.now() - goneAt > 2000) {
                break;
            }
        }
        const early = Date.now() < deadline;
        try {
            if (link === undefined || link.lost !== undefined) {
                stopRouting = undefined;
                if (early) {
                    link = await licodeAmqp.openUntil(config, licodeDir, deadline, interval, log);
                    if (link === undefined) {
                        giveUp("the broker was unreachable until the deadline");
                    } else {
                        await report.attach(link, self);
                        if (self !== undefined) {
                            await link.answerBroadcasts(DRAINING_TOPIC, () => ({ agent: self }));
                        }
                    }
                }
            }
            if (link !== undefined && link.lost === undefined) {
                if (self === undefined && early) {
                    self = await locate();
                    if (self === undefined) {
                        say("this agent does not answer the agents' broadcast or ROV yet");
                    } else {
                        log(`this agent is ErizoAgent_${self}`);
                        report.id = self;
                        await link.answerBroadcasts(DRAINING_TOPIC, () => ({ agent: self }));
                    }
                }
                if (self !== undefined) {
                    await round();
                    if (stopRouting === undefined) {
                        stopRouting = await link.consumeFirst(
                            SHARED_QUEUE,
                            PRIORITY,
                            PREFETCH,
                            route,
                        );
                    }
                }
            }
            if (self === undefined && !early && !lateSaid) {
                lateSaid = true;
                giveUp("this agent was not found among the agents before the deadline");
            }
        } catch (error) {
            say(`retrying: ${error.message}`);
        }
        if (ending && !ended) {
            await finish().catch((error) => {
                log(`could not finish: ${error.message}`);
                ended = true;
            });
        }
        const busy = readRun(run, "busy");
        if (!ended && busy !== undefined && busy !== "") {
            report.sessionsLeft(Number(busy));
        }
        await sleep(ending && !ended ? 200 : interval);
    }
    if (link !== undefined) {
        link.close();
    }
}

/** Prints the agents, their load and which drain, for an operator (`kubectl exec`). */
async function status(env, log) {
    const licodeDir = env.LICODE_DIR || "/opt/licode";
    const link = await licodeAmqp.Link.open(licodeAmqp.loadConfig(licodeDir), licodeDir, 10000);
    try {
        const listed = await listAgents(link);
        const draining = await listDraining(link);
        listed.forEach((a) =>
            log(
                `ErizoAgent_${a.id}: cpu ${(a.cpu * 100).toFixed(0)}%${draining.indexOf(a.id) === -1 ? "" : ", draining"}`,
            ),
        );
        log(
            `${listed.length} agents answer; draining: ${draining.map((d) => `ErizoAgent_${d}`).join(", ") || "none"}`,
        );
    } finally {
        link.close();
    }
}

module.exports = { chooseAgent, SHARED_QUEUE, DRAINING_TOPIC, PRIORITY };

if (require.main === module) {
    process.on("SIGTERM", () => process.exit(0));
    const mode = process.argv[2];
    const log = (line) => console.log(`[media-routing] ${line}`);
    if (mode === "status") {
        status(process.env, log).then(
            () => process.exit(0),
            (error) => {
                console.error(`[media-routing] ${error.message}`);
                process.exit(1);
            },
        );
    } else if (mode === "drain" && process.env.LICODE_DRAIN_PID) {
        drain(process.env, log).then(
            () => process.exit(0),
            (error) => {
                log(`stopped: ${error.stack || error.message}`);
                process.exit(1);
            },
        );
    } else {
        console.error(
            "usage: media-routing.js status | LICODE_DRAIN_PID=<the agent's PID> media-routing.js drain",
        );
        process.exit(2);
    }
}
