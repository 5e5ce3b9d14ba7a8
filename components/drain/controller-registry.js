"use strict";
/**
 * Keeps new rooms and new joins away from a draining ErizoController:
 *
 *   node controller-registry.js hold-full
 *
 * Started by the controller's preStop hook (components/hooks.ts) with the image's own node
 * (Node.js 12: no syntax newer than ES2019) and the credentials the controller already has (its
 * licode_config.js: the broker URL and the superservice). It runs until the controller is gone.
 *
 * How Licode places rooms (github.com/lynckia/licode, tag v10):
 * - Nuve keeps each controller in nuvedb.erizoControllers with a state, 2 available, 1 warning,
 *   0 full, and gives a room without a controller to an available one, then a warning one, and to
 *   a full one only when nothing else is left (nuve/nuveAPI/cloudHandler.js 24-64, 196-222).
 * - A room keeps the controller it was given (its `erizoControllerId` in nuvedb.rooms,
 *   mdb/roomRegistry.js 56-98) for as long as that controller is registered, whatever its state,
 *   and every token for the room names that controller (cloudHandler.js 178-193,
 *   resource/tokensResource.js 114-127). Only checkKA clears it, once the controller stopped
 *   answering for 10 s (cloudHandler.js 70-96). The controller itself forgets a room when its last
 *   client leaves (erizoController/models/Room.js 53-58, 119).
 *
 * The levers, each Licode's own:
 * 1. State 0 with the controller's own `setInfo` RPC (erizoController/nuveProxy.js 30, Nuve's
 *    rpc/rpcPublic.js 72-75), set again every interval: the controller resets it only when its
 *    room count crosses warning_n_rooms or limit_n_rooms (erizoController.js 285-311).
 * 2. A room that is pinned to this controller and has no client here is released with Nuve's REST
 *    API: `PUT /rooms/<id>` with the room's own name (resource/roomResource.js 43-90) replaces the
 *    room's document with the copy its service keeps (roomRegistry.js 105-110, replaceOne), and
 *    that copy never carries `erizoControllerId`: it is the document as created
 *    (roomsResource.js 73-79), while the pin is set on nuvedb.rooms alone (roomRegistry.js 83-88).
 *    The next token for the room then goes to an available controller. Which rooms are pinned here
 *    is read the only way Nuve tells it, from the host a token for the room names
 *    (tokensResource.js 114-127); who is in a room here, from this controller's `getUsersInRoom`
 *    RPC (erizoController/rpc/rpcPublic.js 9-17, erizoController.js 374-387). Rooms of every
 *    service are read with the superservice (resource/servicesResource.js 41-52 lists them with
 *    their keys) and changed as their own service (nuveAuthenticator.js 53-95).
 * 3. This controller's own registry entry is found by asking each entry's controller, in a ROV
 *    session (erizoController/rpc/rpcPublic.js 37-42), which kernel, PID namespace and PID it runs
 *    as, and comparing with the controller process of this container: address and port cannot
 *    tell two controllers that announce the same static address apart.
 *
 * When the hook ends the drain it sends SIGUSR2: every room still pinned here is released (the
 * ones with clients are about to be cut), the sessions cut are counted, and `done` is written in
 * LICODE_DRAIN_RUN; the controller stays full until it is gone.
 *
 * Environment: LICODE_DIR (/opt/licode), LICODE_DRAIN_PID (the controller's PID here),
 * LICODE_DRAIN_RUN (the hook's directory: `busy`, `end`, `done`), LICODE_DRAIN_DEADLINE (seconds
 * since the epoch when the drain stops waiting), LICODE_NUVE_URL (Nuve's REST API; without it
 * rooms are not released), LICODE_REGISTRY_INTERVAL_MS (2000).
 */
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");
const licodeAmqp = require("./licode-amqp");

const FULL = 0;
/** The hook waits 10 s for the last step (components/drain/timing.ts DRAIN_FINISH_SECONDS): keep within it. */
const FINISH_MS = 8000;
const DRAIN_USER = "licode-drain";

/**
 * The registry entry of this controller: the one whose controller reports `identity`. Pure.
 *
 * @param {{_id: string}[]} entries Nuve's registry (getErizoControllers)
 * @param {Record<string, string | undefined>} identities each entry's answer, by _id
 */
function findSelf(entries, identities, identity) {
    const mine = entries.filter((e) => identities[String(e._id)] === identity);
    return mine.length === 1 ? mine[0] : undefined;
}

/** The host a token names for a controller entry (tokensResource.js 120-127). Pure. */
function tokenHost(entry) {
    const name = entry.hostname !== undefined && entry.hostname !== "" ? entry.hostname : entry.ip;
    return `${name}:${entry.port}`;
}

/** A token's fields (tokensResource.js 26-40: base64 of JSON). Pure. */
function decodeToken(text) {
    return JSON.parse(Buffer.from(String(text), "base64").toString("utf8"));
}

/**
 * Nuve's MAuth header for one request, as Nuve checks it (auth/mauthParser.js 9-32, 54-64;
 * nuveAuthenticator.js 35-46): HMAC-SHA1 of `timestamp,cnonce[,user,role]` with the service key,
 * hex, then base64. Pure.
 */
function mauthHeader(service, timestamp, cnonce, user) {
    let signed = `${timestamp},${cnonce}`;
    let header = "MAuth realm=http://marte3.dit.upm.es,mauth_signature_method=HMAC_SHA1";
    if (user !== undefined) {
        header += `,mauth_username=${user.name},mauth_role=${user.role}`;
        signed += `,${user.name},${user.role}`;
    }
    const hex = crypto.createHmac("sha1", service.key).update(signed).digest("hex");
    header += `,mauth_serviceid=${service.id},mauth_cnonce=${cnonce},mauth_timestamp=${timestamp}`;
    return `${header},mauth_signature=${Buffer.from(hex).toString("base64")}`;
}

/**
 * Nuve refuses a request signed earlier than the last one it accepted for the same service
 * (nuveAuthenticator.js 14-33, one timestamp per service for every client). The application signs
 * with the time it sends; the drain signs this much earlier, so that a request of the application
 * that is on its way when the drain's arrives is still newer and accepted: when the two meet, the
 * drain's request is the one refused, and it tries again.
 */
const SIGNED_EARLIER_MS = 50;
const REFUSED_RETRIES = 8;

/** Nuve's REST API, signed per service (see SIGNED_EARLIER_MS). */
function nuveApi(baseUrl) {
    const base = new URL(baseUrl);
    const last = {};
    const once = (service, method, path, body, user) =>
        new Promise((resolve, reject) => {
            const timestamp = Math.max(Date.now() - SIGNED_EARLIER_MS, (last[service.id] || 0) + 1);
            last[service.id] = timestamp;
            const payload = body === undefined ? undefined : JSON.stringify(body);
            const headers = {
                authorization: mauthHeader(
                    service,
                    timestamp,
                    crypto.randomBytes(4).readUInt32BE(0) % 99999,
                    user,
                ),
            };
            if (payload !== undefined) {
                headers["content-type"] = "application/json";
                headers["content-length"] = Buffer.byteLength(payload);
            }
            const transport = base.protocol === "https:" ? https : http;
            const req = transport.request(
                {
                    host: base.hostname,
                    port: base.port || (base.protocol === "https:" ? 443 : 80),
                    method,
                    path: `${base.pathname.replace(/\/$/, "")}/${path}`,
                    headers,
                    timeout: 10000,
                },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8");
                    res.on("data", (chunk) => {
                        text += chunk;
                    });
                    res.on("end", () => {
                        if (res.statusCode >= 200 && res.statusCode < 300) {
                            resolve(text);
                        } else {
                            const error = new Error(
                                `${method} /${path}: HTTP ${res.statusCode} ${text.slice(0, 120)}`,
                            );
                            error.status = res.statusCode;
                            reject(error);
                        }
                    });
                },
            );
            req.on("timeout", () =>
                req.destroy(new Error(`${method} /${path}: no answer within 10 s`)),
            );
            req.on("error", reject);
            if (payload !== undefined) {
                req.write(payload);
            }
            req.end();
        });
    const request = async (service, method, path, body, user) => {
        for (let attempt = 0; ; attempt += 1) {
            try {
                return await once(service, method, path, body, user);
            } catch (error) {
                if (error.status !== 401 || attempt >= REFUSED_RETRIES) {
                    throw error;
                }
                await sleep(20 + crypto.randomBytes(1).readUInt8(0));
            }
        }
    };
    return {
        services: (superservice) => request(superservice, "GET", "services").then(JSON.parse),
        token: (service, roomId) =>
            request(service, "POST", `rooms/${roomId}/tokens`, undefined, {
                name: DRAIN_USER,
                role: "presenter",
            }).then(decodeToken),
        release: (service, room) =>
            request(service, "PUT", `rooms/${room._id}`, { name: room.name, options: {} }),
    };
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

async function holdFull(env, log) {
    const licodeDir = env.LICODE_DIR || "/opt/licode";
    const interval = Number(env.LICODE_REGISTRY_INTERVAL_MS || 2000);
    const pid = env.LICODE_DRAIN_PID;
    const run = env.LICODE_DRAIN_RUN;
    const deadline = Number(env.LICODE_DRAIN_DEADLINE || 0) * 1000 || Date.now() + 3600 * 1000;
    const config = licodeAmqp.loadConfig(licodeDir);
    const report = new licodeAmqp.Report("erizo-controller", log);
    const nuve = env.LICODE_NUVE_URL ? nuveApi(env.LICODE_NUVE_URL) : undefined;
    const superservice = {
        id: (config.nuve || {}).superserviceID,
        key: (config.nuve || {}).superserviceKey,
    };
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
    let self;
    let hostAmbiguous = false;
    const mine = new Map(); // room id -> {service, room, idleSince}
    const notMine = new Set();
    let released = 0;

    const connect = async () => {
        link = await licodeAmqp.openUntil(config, licodeDir, deadline, interval, log);
        if (link === undefined) {
            return false;
        }
        await report.attach(link, self === undefined ? undefined : String(self._id));
        return true;
    };

    const locate = async () => {
        const entries = (await link.rpc("nuve", "getErizoControllers", {})) || [];
        const port = String((config.erizoController || {}).port);
        const candidates = entries.filter((e) => String(e.port) === port);
        const identities = {};
        for (let i = 0; i < candidates.length; i += 1) {
            const id = String(candidates[i]._id);
            identities[id] = await link
                .whoami(`erizoController_${id}`, 3000)
                .catch(() => undefined);
        }
        const found = findSelf(candidates, identities, identity);
        if (found !== undefined) {
            const host = tokenHost(found);
            hostAmbiguous = entries.some(
                (e) => String(e._id) !== String(found._id) && tokenHost(e) === host,
            );
        }
        return found;
    };

    const markFull = () => link.rpc("nuve", "setInfo", { id: String(self._id), state: FULL });

    /** Classifies new rooms by the host their token names, and releases idle ones pinned here. */
    const sweepRooms = async (final) => {
        if (nuve === undefined || hostAmbiguous) {
            return;
        }
        const host = tokenHost(self);
        const services = await nuve.services(superservice);
        for (let s = 0; s < services.length; s += 1) {
            const service = { id: String(services[s]._id), key: services[s].key };
            const testRoom = services[s].testRoom ? String(services[s].testRoom._id) : undefined;
            const rooms = services[s].rooms || [];
            for (let r = 0; r < rooms.length; r += 1) {
                const roomId = String(rooms[r]._id);
                if (roomId === testRoom || notMine.has(roomId) || mine.has(roomId)) {
                    continue;
                }
                const token = await nuve.token(service, roomId);
                if (token.host === host) {
                    mine.set(roomId, { service, room: rooms[r], idleSince: undefined });
                } else {
                    notMine.add(roomId);
                }
            }
        }
        const now = Date.now();
        const ids = Array.from(mine.keys());
        for (let i = 0; i < ids.length; i += 1) {
            const entry = mine.get(ids[i]);
            let release = final;
            if (!final) {
                const users = await link.rpc(`erizoController_${self._id}`, "getUsersInRoom", [
                    ids[i],
                ]);
                if (Array.isArray(users) && users.length === 0) {
                    // Idle at two checks an interval apart: a client that just got a token for
                    // the room has had that long to join.
                    if (entry.idleSince === undefined) {
                        entry.idleSince = now;
                    } else if (now - entry.idleSince >= interval) {
                        release = true;
                    }
                } else {
                    entry.idleSince = undefined;
                }
            }
            if (release) {
                await nuve.release(entry.service, entry.room);
                mine.delete(ids[i]);
                released += 1;
                log(
                    `room ${ids[i]} released: ${final ? "the drain ends" : "no client here"}; its next token names an available controller`,
                );
            }
        }
    };

    const finish = async () => {
        const end = (readRun(run, "end") || "").split(" ");
        const count = Number(end[1] || 0);
        if (link !== undefined && self !== undefined) {
            // Retried within the time the hook waits for this step (DRAIN_FINISH_SECONDS).
            const until = Date.now() + FINISH_MS;
            for (;;) {
                try {
                    await sweepRooms(true);
                    break;
                } catch (error) {
                    if (Date.now() + interval / 2 >= until) {
                        giveUp(
                            `${mine.size} rooms still pinned here at the end, so their tokens name this controller until Nuve forgets it: ${error.message}`,
                        );
                        break;
                    }
                    log(`could not release the rooms pinned here, retrying: ${error.message}`);
                    await sleep(interval / 2);
                }
            }
        } else {
            giveUp("the drain ended before this controller was found in Nuve's registry");
        }
        if (end[0] === "deadline" && count > 0) {
            report.cut(count, "clients connected at the deadline");
        }
        report.sessionsLeft(0);
        const summary = `${released} rooms released; ${mine.size} still pinned here`;
        log(`last step done: ${summary}`);
        if (run !== undefined) {
            fs.writeFileSync(`${run}/done`, `${summary}\n`);
        }
        ended = true;
    };

    let lateSaid = false;
    while (pid === undefined || alive(pid)) {
        const early = Date.now() < deadline;
        try {
            if (link === undefined || link.lost !== undefined) {
                if (early && !(await connect())) {
                    giveUp("the broker was unreachable until the deadline");
                }
            }
            if (link !== undefined && link.lost === undefined && self === undefined && early) {
                self = await locate();
                if (self === undefined) {
                    say("this controller is not in Nuve's registry yet, or does not answer ROV");
                } else {
                    log(
                        `this controller is ${self._id} (${tokenHost(self)}); it takes no new rooms`,
                    );
                    if (hostAmbiguous) {
                        giveUp(
                            `another controller gives clients the same host ${tokenHost(self)}, so tokens cannot tell which rooms are pinned here: none is released (set erizoController.hostname with {nodeName})`,
                        );
                    }
                    report.id = String(self._id);
                }
            }
            if (self === undefined && !early && !lateSaid) {
                lateSaid = true;
                giveUp("this controller was not found in Nuve's registry before the deadline");
            }
            if (self !== undefined && link !== undefined && link.lost === undefined) {
                await markFull();
                if (!ending && !ended) {
                    await sweepRooms(false);
                    say(
                        `controller ${self._id} takes no new rooms; ${mine.size} rooms pinned here`,
                    );
                }
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

module.exports = { decodeToken, findSelf, mauthHeader, tokenHost };

if (require.main === module) {
    process.on("SIGTERM", () => process.exit(0));
    const mode = process.argv[2];
    const log = (line) => console.log(`[controller-registry] ${line}`);
    if (mode !== "hold-full" || !process.env.LICODE_DRAIN_PID) {
        console.error(
            "usage: LICODE_DRAIN_PID=<the controller's PID> controller-registry.js hold-full",
        );
        process.exit(2);
    }
    holdFull(process.env, log).then(
        () => process.exit(0),
        (error) => {
            log(`stopped: ${error.stack || error.message}`);
            process.exit(1);
        },
    );
}
