"use strict";
/**
 * Checks one media node from the node itself: is the address Licode announces the one the outside
 * sees, and does UDP sent to that address on ports of the node's range arrive here?
 *
 *   node probe.js            reads the check from $MEDIA_CHECK (JSON, below), prints one JSON line
 *
 * It runs with the Licode image's own node (Node.js 12, components/images.ts LICODE.nodeBinary) on
 * the node's network (a host-network pod), so it uses no module of its own and no syntax newer than
 * ES2019. The check:
 *   {
 *     node: "media-0",                      the node's name, for the report
 *     publicAddress: { from: "interface", interface: "eth0" } | { from: "nodeIP" } |
 *                    { from: "static", ip },  as the stack sets it
 *     nodeIp: "10.0.0.5",                   the node's InternalIP (status.hostIP), for nodeIP
 *     portRange: { min, max },              the node's media range
 *     stun: { host, port },                 a STUN server outside the node's NAT
 *     turn: { host, port, username, password } | undefined   a TURN server to send from
 *     samplePorts: 5                        how many ports of the range to try
 *   }
 * In a pod, values the check leaves out come from the environment: the TURN username and password
 * from $MEDIA_CHECK_TURN_USERNAME and $MEDIA_CHECK_TURN_PASSWORD (a Secret's keys), the node's
 * InternalIP from $MEDIA_CHECK_NODE_IP (the downward API's status.hostIP, as PUBLIC_IP is given),
 * the node's name from $MEDIA_CHECK_NODE (spec.nodeName).
 *
 * The address Licode announces (Licode v10): with an interface, the first non-internal IPv4
 * address of that interface (erizo_controller/erizoAgent/erizoAgent.js 250-269); otherwise
 * PUBLIC_IP, which the entrypoint writes into config.erizoAgent.publicIP
 * (extras/docker/initDockerLicode.sh 174-176; erizoAgent.js 290-291): the node's InternalIP for
 * nodeIP, the static address for static. ErizoJS gives clients host candidates with that address
 * and the port it bound, so the outside must see both unchanged.
 *
 * STUN and TURN messages follow RFC 5389 and RFC 5766 (long-term credentials: MESSAGE-INTEGRITY is
 * HMAC-SHA1 keyed with MD5(username:realm:password), 15.4 and 10.2 of RFC 5389).
 */
const crypto = require("crypto");
const dgram = require("dgram");
const os = require("os");

const MAGIC = 0x2112a442;
const TYPE = {
    bindingRequest: 0x0001,
    bindingSuccess: 0x0101,
    allocateRequest: 0x0003,
    allocateSuccess: 0x0103,
    allocateError: 0x0113,
    permissionRequest: 0x0008,
    permissionSuccess: 0x0108,
    permissionError: 0x0118,
    refreshRequest: 0x0004,
    sendIndication: 0x0016,
};
const ATTR = {
    mappedAddress: 0x0001,
    username: 0x0006,
    messageIntegrity: 0x0008,
    errorCode: 0x0009,
    lifetime: 0x000d,
    xorPeerAddress: 0x0012,
    data: 0x0013,
    realm: 0x0014,
    nonce: 0x0015,
    xorRelayedAddress: 0x0016,
    requestedTransport: 0x0019,
    xorMappedAddress: 0x0020,
};

/** The address Licode announces on this node, and how it was found. */
function announcedAddress(check, interfaces) {
    const from = check.publicAddress.from;
    if (from === "static") {
        return { address: check.publicAddress.ip, how: "the static address (publicAddress.ip)" };
    }
    if (from === "nodeIP") {
        return {
            address: check.nodeIp || process.env.MEDIA_CHECK_NODE_IP,
            how: "the node's InternalIP (publicAddress nodeIP)",
        };
    }
    const name = check.publicAddress.interface;
    const found = (interfaces[name] || []).filter((a) => a.family === "IPv4" && !a.internal);
    return {
        address: found.length > 0 ? found[0].address : undefined,
        how: `the first IPv4 address of ${name} (publicAddress interface)`,
    };
}

function attribute(type, value) {
    const padded = Buffer.alloc(Math.ceil(value.length / 4) * 4);
    value.copy(padded);
    const header = Buffer.alloc(4);
    header.writeUInt16BE(type, 0);
    header.writeUInt16BE(value.length, 2);
    return Buffer.concat([header, padded]);
}

function xorAddress(address, port) {
    const value = Buffer.alloc(8);
    value.writeUInt8(0x01, 1);
    value.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
    const octets = address.split(".").map(Number);
    const magic = Buffer.alloc(4);
    magic.writeUInt32BE(MAGIC, 0);
    octets.forEach((octet, i) => value.writeUInt8(octet ^ magic[i], 4 + i));
    return value;
}

function readXorAddress(value) {
    const port = value.readUInt16BE(2) ^ (MAGIC >>> 16);
    const magic = Buffer.alloc(4);
    magic.writeUInt32BE(MAGIC, 0);
    const octets = [0, 1, 2, 3].map((i) => value[4 + i] ^ magic[i]);
    return { address: octets.join("."), port };
}

/** A STUN message; with `key`, MESSAGE-INTEGRITY over everything before it (RFC 5389 15.4). */
function message(type, transactionId, attributes, key) {
    let body = Buffer.concat(attributes);
    const header = Buffer.alloc(20);
    header.writeUInt16BE(type, 0);
    header.writeUInt32BE(MAGIC, 4);
    transactionId.copy(header, 8);
    if (key !== undefined) {
        header.writeUInt16BE(body.length + 24, 2);
        const hmac = crypto
            .createHmac("sha1", key)
            .update(Buffer.concat([header, body]))
            .digest();
        body = Buffer.concat([body, attribute(ATTR.messageIntegrity, hmac)]);
    }
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
}

function parse(buffer) {
    if (buffer.length < 20 || buffer.readUInt32BE(4) !== MAGIC) {
        return undefined;
    }
    const attributes = {};
    let offset = 20;
    const end = 20 + buffer.readUInt16BE(2);
    while (offset + 4 <= end && offset + 4 <= buffer.length) {
        const type = buffer.readUInt16BE(offset);
        const length = buffer.readUInt16BE(offset + 2);
        attributes[type] = buffer.slice(offset + 4, offset + 4 + length);
        offset += 4 + Math.ceil(length / 4) * 4;
    }
    return {
        type: buffer.readUInt16BE(0),
        transactionId: buffer.slice(8, 20),
        attributes,
    };
}

function errorOf(parsed) {
    const value = parsed.attributes[ATTR.errorCode];
    if (value === undefined) {
        return { code: 0, reason: "" };
    }
    return {
        code: (value[2] & 0x7) * 100 + value[3],
        reason: value.slice(4).toString("utf8"),
    };
}

/** Sends a request and resolves with the matching answer, retransmitting as RFC 5389 7.2.1 does. */
function transact(socket, host, port, request, timeoutMs) {
    const transactionId = request.slice(8, 20);
    return new Promise((resolve, reject) => {
        let interval = 250;
        let timer;
        const deadline = setTimeout(() => {
            finish();
            reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
        }, timeoutMs);
        const onMessage = (buffer) => {
            const parsed = parse(buffer);
            if (parsed !== undefined && parsed.transactionId.equals(transactionId)) {
                finish();
                resolve(parsed);
            }
        };
        const send = () => {
            socket.send(request, port, host);
            timer = setTimeout(send, interval);
            interval = Math.min(interval * 2, 1600);
        };
        const finish = () => {
            clearTimeout(deadline);
            clearTimeout(timer);
            socket.removeListener("message", onMessage);
        };
        socket.on("message", onMessage);
        send();
    });
}

function bind(port) {
    return new Promise((resolve, reject) => {
        const socket = dgram.createSocket("udp4");
        socket.once("error", reject);
        socket.bind(port, () => {
            socket.removeListener("error", reject);
            resolve(socket);
        });
    });
}

/**
 * `count` ports spread evenly over the range, both ends included, that this node can bind now; a
 * port in use (by ErizoJS, most likely) gives way to the next free one above it.
 */
async function bindSamples(range, count) {
    const span = range.max - range.min;
    const targets = [];
    for (let i = 0; i < count; i++) {
        targets.push(count === 1 ? range.min : range.min + Math.round((span * i) / (count - 1)));
    }
    const sockets = [];
    const taken = new Set();
    for (const target of targets) {
        for (let port = target; port <= Math.min(range.max, target + 10); port++) {
            if (taken.has(port)) {
                continue;
            }
            try {
                sockets.push(await bind(port));
                taken.add(port);
                break;
            } catch {
                continue;
            }
        }
    }
    return sockets;
}

/** Allocates a relay on the TURN server with long-term credentials. */
async function allocate(socket, turn, timeoutMs) {
    const transport = Buffer.from([17, 0, 0, 0]);
    const first = await transact(
        socket,
        turn.host,
        turn.port,
        message(TYPE.allocateRequest, crypto.randomBytes(12), [
            attribute(ATTR.requestedTransport, transport),
        ]),
        timeoutMs,
    );
    if (first.type !== TYPE.allocateError || errorOf(first).code !== 401) {
        throw new Error(
            `TURN answered the first Allocate with ${errorOf(first).code || first.type}`,
        );
    }
    const realm = first.attributes[ATTR.realm];
    const nonce = first.attributes[ATTR.nonce];
    const key = crypto
        .createHash("md5")
        .update(`${turn.username}:${realm.toString("utf8")}:${turn.password}`)
        .digest();
    const auth = [
        attribute(ATTR.username, Buffer.from(turn.username, "utf8")),
        attribute(ATTR.realm, realm),
        attribute(ATTR.nonce, nonce),
    ];
    const second = await transact(
        socket,
        turn.host,
        turn.port,
        message(
            TYPE.allocateRequest,
            crypto.randomBytes(12),
            [attribute(ATTR.requestedTransport, transport)].concat(auth),
            key,
        ),
        timeoutMs,
    );
    if (second.type !== TYPE.allocateSuccess) {
        const error = errorOf(second);
        throw new Error(`TURN refused the allocation: ${error.code} ${error.reason}`);
    }
    return { key, auth, relayed: readXorAddress(second.attributes[ATTR.xorRelayedAddress]) };
}

/** Runs the check; resolves with the report (never rejects). */
async function runCheck(check, interfaces) {
    const checks = [];
    const add = (name, ok, detail) => checks.push({ name, ok, detail });
    const announced = announcedAddress(check, interfaces);
    const timeoutMs = check.timeoutMs || 3000;
    const node = check.node || process.env.MEDIA_CHECK_NODE;
    const report = () => ({
        node,
        announced: announced.address,
        pass: checks.length > 0 && checks.every((c) => c.ok !== false),
        checks,
    });
    if (announced.address === undefined) {
        add("announced address", false, `no address: ${announced.how} has none on this node`);
        return report();
    }
    add("announced address", true, `${announced.address}, ${announced.how}`);

    const sockets = await bindSamples(check.portRange, check.samplePorts || 5);
    if (sockets.length === 0) {
        add(
            "media ports",
            false,
            `no port of ${check.portRange.min}-${check.portRange.max} could be bound on this node`,
        );
        return report();
    }
    try {
        // The binding goes out of a port of the media range, as ErizoJS's packets do.
        const probe = sockets[0];
        const local = probe.address().port;
        try {
            const answer = await transact(
                probe,
                check.stun.host,
                check.stun.port,
                message(TYPE.bindingRequest, crypto.randomBytes(12), []),
                timeoutMs,
            );
            const value = answer.attributes[ATTR.xorMappedAddress];
            const seen = value === undefined ? undefined : readXorAddress(value);
            if (seen === undefined) {
                add("address seen by STUN", false, "the STUN answer carried no XOR-MAPPED-ADDRESS");
            } else if (seen.address !== announced.address) {
                add(
                    "address seen by STUN",
                    false,
                    `Licode announces ${announced.address}, but ${check.stun.host}:${check.stun.port} sees this node as ${seen.address}: clients would send media to an address that is not this node's`,
                );
            } else if (seen.port !== local) {
                add(
                    "address seen by STUN",
                    false,
                    `${seen.address} is right, but port ${local} leaves as ${seen.port}: the NAT rewrites ports, and ErizoJS announces the ports it bound`,
                );
            } else {
                add("address seen by STUN", true, `${seen.address}:${seen.port} as announced`);
            }
        } catch (error) {
            add(
                "address seen by STUN",
                false,
                `${error.message}: UDP out of the media range is blocked, or the STUN server is down`,
            );
        }

        if (check.turn === undefined) {
            add(
                "UDP arrives on the media ports",
                null,
                "not tested: the stack runs no TURN server to send from",
            );
            return report();
        }
        const turn = Object.assign({}, check.turn, {
            username: check.turn.username || process.env.MEDIA_CHECK_TURN_USERNAME,
            password: check.turn.password || process.env.MEDIA_CHECK_TURN_PASSWORD,
        });
        const control = await bind(0);
        try {
            const allocation = await allocate(control, turn, timeoutMs);
            const permission = await transact(
                control,
                turn.host,
                turn.port,
                message(
                    TYPE.permissionRequest,
                    crypto.randomBytes(12),
                    [attribute(ATTR.xorPeerAddress, xorAddress(announced.address, 0))].concat(
                        allocation.auth,
                    ),
                    allocation.key,
                ),
                timeoutMs,
            );
            if (permission.type !== TYPE.permissionSuccess) {
                const error = errorOf(permission);
                add(
                    "UDP arrives on the media ports",
                    false,
                    `TURN refuses ${announced.address} as a peer (${error.code} ${error.reason}): clients relayed through TURN cannot reach this node; add it to turn.allowedPeers`,
                );
                return report();
            }
            const token = crypto.randomBytes(8).toString("hex");
            const arrived = sockets.map(
                (socket) =>
                    new Promise((resolve) => {
                        const timer = setTimeout(() => resolve(false), timeoutMs);
                        socket.on("message", (buffer) => {
                            if (buffer.toString("utf8") === `${token}:${socket.address().port}`) {
                                clearTimeout(timer);
                                resolve(true);
                            }
                        });
                    }),
            );
            for (const socket of sockets) {
                const port = socket.address().port;
                control.send(
                    message(TYPE.sendIndication, crypto.randomBytes(12), [
                        attribute(ATTR.xorPeerAddress, xorAddress(announced.address, port)),
                        attribute(ATTR.data, Buffer.from(`${token}:${port}`, "utf8")),
                    ]),
                    turn.port,
                    turn.host,
                );
            }
            const results = await Promise.all(arrived);
            const ports = sockets.map((socket) => socket.address().port);
            const lost = ports.filter((_, i) => !results[i]);
            const from = `${allocation.relayed.address}:${allocation.relayed.port}`;
            if (lost.length > 0) {
                add(
                    "UDP arrives on the media ports",
                    false,
                    `UDP sent from TURN (${from}) to ${announced.address} did not arrive on port${lost.length > 1 ? "s" : ""} ${lost.join(", ")} within ${timeoutMs} ms: open ${check.portRange.min}-${check.portRange.max}/udp to clients in the node's firewall`,
                );
            } else {
                add(
                    "UDP arrives on the media ports",
                    true,
                    `from TURN (${from}) to ${announced.address} on ${ports.join(", ")}`,
                );
            }
            // Give the relay back (Refresh with lifetime 0, RFC 5766 7); the answer is not awaited.
            control.send(
                message(
                    TYPE.refreshRequest,
                    crypto.randomBytes(12),
                    [attribute(ATTR.lifetime, Buffer.alloc(4))].concat(allocation.auth),
                    allocation.key,
                ),
                turn.port,
                turn.host,
            );
        } catch (error) {
            add(
                "UDP arrives on the media ports",
                false,
                `could not send through TURN: ${error.message}`,
            );
        } finally {
            control.close();
        }
    } finally {
        sockets.forEach((socket) => socket.close());
    }
    return report();
}

module.exports = { runCheck, announcedAddress, message, parse, readXorAddress, xorAddress };

if (require.main === module) {
    let check;
    try {
        check = JSON.parse(process.env.MEDIA_CHECK || "");
    } catch {
        process.stdout.write(
            `${JSON.stringify({ pass: false, error: "MEDIA_CHECK is not JSON" })}\n`,
        );
        process.exit(2);
    }
    runCheck(check, os.networkInterfaces()).then(
        (report) => {
            process.stdout.write(`${JSON.stringify(report)}\n`);
            process.exit(report.pass ? 0 : 1);
        },
        (error) => {
            process.stdout.write(
                `${JSON.stringify({ node: check.node, pass: false, error: error.message })}\n`,
            );
            process.exit(2);
        },
    );
}
