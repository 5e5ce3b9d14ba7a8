/* global require, module, process, setImmediate */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS for Node.js 12, as ErizoJS requires it */
/*
 * STAND-IN for erizoAPI's WebRtcConnection (erizoAPI/WebRtcConnection.cc) and the signalling half of Erizo's
 * C++ WebRtcConnection (erizo/src/erizo/WebRtcConnection.cpp): transceivers, the local description it answers
 * or offers with, and the connection events ErizoJS waits for (erizoJS/models/WebRtcConnection.js 74-115).
 *
 * What happens instead of ICE and DTLS: when the connection first needs a transport (a remote description
 * with a fingerprint, or an offer of its own; WebRtcConnection.cpp 213-316, 786-897), the stand-in binds one
 * UDP socket in [minport, maxport] on the first IPv4 address of the configured interface, as libnice binds one
 * per component (so port accounting such as the agent drain's sees a live connection), takes that address as
 * its only host candidate, makes up ICE credentials and a DTLS fingerprint, and reports the candidates
 * gathered. As soon as it has gathered, holds a remote description and knows a remote candidate, it reports
 * the connection ready. Nothing is ever sent or read on the socket: no connectivity check, no handshake, no
 * SRTP, no RTP or RTCP. See README.md in this directory for what that leaves untested.
 *
 * Licode v10 = commit f9fca4e0. Runs on Node.js 12.
 */

"use strict";

const crypto = require("crypto");
const dgram = require("dgram");
const os = require("os");
const { ConnectionDescription, SdpInfo, rtpMappingsOf } = require("./connection-description");
const { DurationDistribution, timed } = require("./distribution");

/** erizo::WebRTCEvent, as erizoJS/models/WebRtcConnection.js 17-27 numbers them. */
const CONN_INITIAL = 101;
const CONN_GATHERED = 103;
const CONN_READY = 104;
const CONN_FINISHED = 105;
const CONN_CANDIDATE = 201;
const CONN_FAILED = 500;

/** WebRtcConnection.h 42-46: the quality levels; with no media there is nothing to degrade. */
const QUALITY_GOOD = 2;

/** RFC 8445 5.1.2.1 host candidate priority for component 1: type 126, local preference 65535. */
const HOST_PRIORITY = 126 * 2 ** 24 + 65535 * 2 ** 8 + (256 - 1);
const ICE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function iceToken(length) {
    const bytes = crypto.randomBytes(length);
    let token = "";
    for (let i = 0; i < length; i += 1) {
        token += ICE_CHARS[bytes[i] % ICE_CHARS.length];
    }
    return token;
}

/** A sha-256 fingerprint in SDP form; made up: no certificate is behind it (DTLS is not run). */
function madeUpFingerprint() {
    return crypto.randomBytes(32).toString("hex").toUpperCase().match(/../g).join(":");
}

/** The first non-internal IPv4 address of `interfaceName` (any interface when empty), as libnice gathers. */
function hostAddress(interfaceName) {
    const interfaces = os.networkInterfaces();
    const names = interfaceName ? [interfaceName] : Object.keys(interfaces);
    for (const name of names) {
        for (const address of interfaces[name] || []) {
            if (address.family === "IPv4" && !address.internal) {
                return address.address;
            }
        }
    }
    return "127.0.0.1";
}

/** Binds a UDP socket on `address` at a free port of [min, max] (any port when both are 0). */
function bindInRange(address, min, max) {
    const low = Number(min) || 0;
    const high = Number(max) || 0;
    const ports = [];
    if (low > 0 && high >= low) {
        const start = low + (crypto.randomBytes(2).readUInt16BE(0) % (high - low + 1));
        for (let port = start; port <= high; port += 1) ports.push(port);
        for (let port = low; port < start; port += 1) ports.push(port);
    } else {
        ports.push(0);
    }
    return new Promise((resolve, reject) => {
        const next = (index) => {
            if (index >= ports.length) {
                reject(new Error(`no free UDP port in ${low}-${high} on ${address}`));
                return;
            }
            const socket = dgram.createSocket("udp4");
            socket.once("error", () => {
                socket.close();
                next(index + 1);
            });
            socket.bind(ports[index], address, () => {
                socket.removeAllListeners("error");
                // Datagrams (a browser's connectivity checks) are dropped: the stand-in runs no ICE agent.
                socket.on("message", () => {});
                socket.on("error", () => {});
                resolve(socket);
            });
        };
        next(0);
    });
}

class Transceiver {
    constructor(id, kind) {
        this.id = String(id);
        this.kind = kind;
        this.sender = undefined;
        this.receiver = undefined;
        this.addedToSdp = false;
        this.stopped = false;
    }

    /** Transceiver.cpp 32-45: the SSRC a sender sends with. */
    get ssrc() {
        if (!this.sender) {
            return "";
        }
        return String(
            this.kind === "video" ? this.sender.videoSinkSsrc : this.sender.audioSinkSsrc,
        );
    }

    get inactive() {
        return !this.sender && !this.receiver;
    }
}

class WebRtcConnection {
    /**
     * WebRtcConnection.cc 184-320: (threadPool, ioThreadPool, id, stunServer, stunPort, minPort, maxPort,
     * trickle, mediaConfigJson, distributionJson, qualityCheck, encryptTransport, iceLite, useNicer
     * [, turnServer, turnPort, turnUsername, turnPassword, networkInterface]).
     */
    constructor(
        threadPool,
        ioThreadPool,
        id,
        stunServer,
        stunPort,
        minPort,
        maxPort,
        trickle,
        mediaConfigJson,
        distributionJson,
        qualityCheck,
        encryptTransport,
        iceLite,
        useNicer,
        turnServer,
        turnPort,
        turnUsername,
        turnPassword,
        networkInterface,
    ) {
        if (arguments.length < 9) {
            throw new Error("Wrong number of arguments");
        }
        const mediaConfig = JSON.parse(mediaConfigJson);
        this.id = String(id);
        this.threadPool = threadPool;
        this.minPort = minPort;
        this.maxPort = maxPort;
        this.trickle = !!trickle;
        this.encrypt = !!encryptTransport;
        this.networkInterface = arguments.length === 19 ? String(networkInterface) : "";
        this.internalPayloads = rtpMappingsOf(mediaConfig);
        // WebRtcConnection.cc 266-272: extension ids are the positions in extMappings.
        this.supportedExtensions = Array.isArray(mediaConfig.extMappings)
            ? mediaConfig.extMappings.map(String)
            : [];
        this.distribution = distributionJson;
        this.targetBandwidth = 0;
        this.metadata = {};
        this.localSdp = new SdpInfo(this.internalPayloads);
        this.localSdp.isIceLite = !!iceLite;
        this.localSdp.supportedExtensions = this.supportedExtensions;
        this.remoteSdp = new SdpInfo(this.internalPayloads);
        this.state = CONN_INITIAL;
        this.transport = undefined;
        this.remoteCandidates = 0;
        this.firstRemoteProcessed = false;
        this.bundle = false;
        this.transceivers = [];
        this.streams = [];
        this.latestMid = 0;
        this.closed = false;
        this.eventCallback = undefined;
        this.pendingEvents = [];
        this.durations = new DurationDistribution();
        this.delays = new DurationDistribution();
    }

    toString() {
        return `WebRtcConnection(stand-in) ${this.id}`;
    }

    _timed(task) {
        return timed(this, task);
    }

    /** WebRtcConnection.cc 703-730: events reach JavaScript asynchronously, through the event callback. */
    _notify(event, message) {
        if (this.closed) {
            return;
        }
        this.pendingEvents.push([event, message]);
        setImmediate(() => this._flushEvents());
    }

    _flushEvents() {
        if (!this.eventCallback) {
            return;
        }
        while (this.pendingEvents.length > 0 && !this.closed) {
            const [event, message] = this.pendingEvents.shift();
            this.eventCallback(event, message);
        }
    }

    _setState(state, message) {
        if (this.state === CONN_FAILED || this.state === state) {
            return;
        }
        this.state = state;
        this._notify(state, message);
    }

    /** WebRtcConnection.cpp 117-124: the initial state is reported once the connection starts. */
    init(callback) {
        this.eventCallback = callback;
        this._notify(this.state, "");
        return true;
    }

    /** WebRtcConnection.cpp 67-115. */
    close() {
        return this._timed(() => {
            if (this.transport && this.transport.socket) {
                this.transport.socket.close();
                this.transport.socket = undefined;
            }
            this.transceivers = [];
            this.streams = [];
            this.state = CONN_FINISHED;
            this.closed = true;
            this.eventCallback = undefined;
            return "";
        });
    }

    /** WebRtcConnection.cpp 213-316: an offer of this side's streams, from a transport it starts if needed. */
    createOffer(bundle) {
        if (arguments.length < 1) {
            throw new Error("Wrong number of arguments");
        }
        return this._timed(() => {
            this.bundle = !!bundle;
            this.localSdp.createOfferSdp(true, true, this.bundle);
            this.localSdp.dtlsRole = "actpass";
            if (this.localSdp.internalDtlsRole === "actpass") {
                this.localSdp.internalDtlsRole = "passive";
            } else {
                this.localSdp.dtlsRole = this.localSdp.internalDtlsRole;
            }
            this.streams.forEach((stream) => {
                if (stream.isPublisher) {
                    return;
                }
                if (!stream.ready) {
                    this._associateToSender(stream);
                    stream.configure(true);
                }
                this._recordSinkSsrcs(stream);
            });
            this.transceivers.forEach((transceiver) => {
                if (transceiver.receiver && this.streams.indexOf(transceiver.receiver) === -1) {
                    transceiver.receiver = undefined;
                }
            });
            this.localSdp.profile = this.encrypt ? "SAVPF" : "AVPF";
            // WebRtcConnection.cpp 258-313: a DtlsTransport when encrypting, else an UnencryptedTransport.
            this._startTransport(this.encrypt);
            this._notify(this.state, "");
        });
    }

    setMetadata(metadataJson) {
        const parsed = JSON.parse(metadataJson);
        Object.keys(parsed).forEach((key) => {
            const value = parsed[key];
            this.metadata[key] = typeof value === "string" ? value : JSON.stringify(value);
        });
        return true;
    }

    /** WebRtcConnection.cc 410-433 and WebRtcConnection.cpp 515-538, 786-897. */
    setRemoteDescription(description) {
        const remote = description.sdp.clone();
        return this._timed(() => {
            if (this.closed) {
                return;
            }
            this.remoteSdp = remote;
            if (!this.firstRemoteProcessed && this.localSdp.internalDtlsRole === "actpass") {
                this.localSdp.internalDtlsRole = "active";
            }
            this.localSdp.dtlsRole = this.localSdp.internalDtlsRole;
            this._detectNewTransceivers();
            this.localSdp.setOfferSdp(remote);
            this.localSdp.supportedExtensions = this.supportedExtensions;
            if (!this.firstRemoteProcessed) {
                this.bundle = remote.isBundle;
                // Encrypted transports start only with the remote fingerprint (WebRtcConnection.cpp 807-810).
                if (remote.profile !== "SAVPF" || remote.isFingerprint) {
                    this._startTransport(remote.profile === "SAVPF");
                }
            }
            this.remoteCandidates += remote.candidates.length;
            this.firstRemoteProcessed = true;
            this.streams.forEach((stream) => stream.setRemoteSdp(remote));
            this._maybeReady();
        });
    }

    /** WebRtcConnection.cpp 549-688: the local description, with the transport's credentials and candidates. */
    getLocalDescription() {
        return this._timed(() => {
            if (this.closed) {
                return "";
            }
            this.streams.forEach((stream) => {
                if (stream.ready && !stream.isPublisher) {
                    this._recordSinkSsrcs(stream);
                }
            });
            this._associateTransceiversToSdp();
            const local = this.localSdp;
            const receivingAudio = this.remoteSdp.audioSsrcs.size > 0;
            const receivingVideo = Array.from(this.remoteSdp.videoSsrcs.values()).some(
                (list) => list.length > 0,
            );
            local.audioDirection = direction(local.audioSsrcs.size > 0, receivingAudio);
            local.videoDirection = direction(local.videoSsrcs.size > 0, receivingVideo);
            if (this.transport) {
                // DtlsTransport.cpp 385-399 sets the fingerprint and the credentials;
                // UnencryptedTransport.cpp 149-160 clears isFingerprint and sets the credentials.
                local.isFingerprint = this.transport.encrypted;
                if (this.transport.encrypted) {
                    local.fingerprint = this.transport.fingerprint;
                }
                local.setCredentials(this.transport.username, this.transport.password, "video");
                local.setCredentials(this.transport.username, this.transport.password, "audio");
            }
            local.profile = this.remoteSdp.profile;
            return ConnectionDescription.wrap(local.clone());
        });
    }

    /** WebRtcConnection.cpp 540-547: a subscriber starts from its publisher's codecs and extensions. */
    copySdpToLocalDescription(description) {
        const source = description.sdp;
        setImmediate(() => {
            if (!this.closed) {
                this.localSdp.copyInfoFromSdp(source);
                this.localSdp.supportedExtensions = this.supportedExtensions;
            }
        });
    }

    setBwDistributionConfig(distributionJson) {
        JSON.parse(distributionJson);
        this.distribution = distributionJson;
    }

    setConnectionTargetBw(bandwidth) {
        this.targetBandwidth = Number(bandwidth) || 0;
    }

    /**
     * WebRtcConnection.cc 501-566: a trickled remote candidate. Like the real addon, it answers true (the
     * promise it builds is overwritten by `true`, line 565).
     */
    addRemoteCandidate(
        mid,
        mLineIndex,
        foundation,
        componentId,
        priority,
        protocol,
        address,
        port,
    ) {
        setImmediate(() => {
            if (this.closed || !address || !port) {
                return;
            }
            this.remoteCandidates += 1;
            this._maybeReady();
        });
        return true;
    }

    getCurrentState() {
        return this.state;
    }

    getConnectionQualityLevel() {
        return QUALITY_GOOD;
    }

    addMediaStream(stream) {
        return this._timed(() => {
            if (this.streams.indexOf(stream) === -1) {
                this.streams.push(stream);
            }
        });
    }

    /** WebRtcConnection.cpp 443-475. */
    removeMediaStream(streamId) {
        const id = String(streamId);
        return this._timed(() => {
            const stream = this.streams.find((s) => s.id === id);
            if (!stream) {
                return;
            }
            this.localSdp.videoSsrcs.delete(stream.label);
            this.localSdp.audioSsrcs.delete(stream.label);
            this.streams.splice(this.streams.indexOf(stream), 1);
            if (!stream.isPublisher) {
                this.transceivers.forEach((transceiver) => {
                    if (transceiver.sender === stream) {
                        transceiver.sender = undefined;
                    }
                });
            }
        });
    }

    /** The connection's own numbers (WebRtcConnection.cpp 1295-1300), marked as coming from the stand-in. */
    getStats(callback) {
        const stats = {
            erizoApiStandIn: true,
            state: this.state,
            localCandidate:
                this.transport && this.transport.candidate
                    ? `${this.transport.candidate.address}:${this.transport.candidate.port}`
                    : "",
            remoteCandidates: this.remoteCandidates,
            targetBandwidth: this.targetBandwidth,
            packetsReceived: 0,
            packetsSent: 0,
        };
        setImmediate(() => callback(this.closed ? "{}" : JSON.stringify(stats)));
    }

    /** WebRtcConnection.cpp 957-963: new remote credentials restart ICE, which gathers again. */
    maybeRestartIce(username, password) {
        setImmediate(() => {
            if (this.closed || !this.transport) {
                return;
            }
            if (
                username === this.transport.remoteUsername &&
                password === this.transport.remotePassword
            ) {
                return;
            }
            this.transport.remoteUsername = username;
            this.transport.remotePassword = password;
            this.transport.username = iceToken(4);
            this.transport.password = iceToken(24);
            this.state = CONN_INITIAL;
            this._reportGathered();
        });
    }

    getDurationDistribution() {
        return this.durations.toArray();
    }

    getDelayDistribution() {
        return this.delays.toArray();
    }

    resetStats() {
        this.durations.reset();
        this.delays.reset();
    }

    _recordSinkSsrcs(stream) {
        if (stream.videoSinkSsrc) {
            this.localSdp.videoSsrcs.set(stream.label, [stream.videoSinkSsrc]);
        }
        if (stream.audioSinkSsrc) {
            this.localSdp.audioSsrcs.set(stream.label, stream.audioSinkSsrc);
        }
    }

    /** WebRtcConnection.cpp 716-784: one transceiver per remote m-line; publishers receive on theirs. */
    _detectNewTransceivers() {
        this.remoteSdp.medias.forEach((media, index) => {
            const mid = parseInt(media.mid, 10);
            let transceiver = this.transceivers[index];
            if (!transceiver || transceiver.id !== media.mid) {
                const replacement = new Transceiver(media.mid, media.kind);
                replacement.addedToSdp = true;
                if (transceiver) {
                    this.transceivers[index] = replacement;
                } else {
                    this.transceivers.push(replacement);
                }
                transceiver = replacement;
            }
            if (mid > this.latestMid) {
                this.latestMid = mid + 1;
            }
            if (media.senderId) {
                const stream = this.streams.find((s) => s.label === media.senderId);
                if (stream) {
                    this._associate(stream, transceiver);
                }
            }
            if (media.stopped) {
                transceiver.stopped = true;
            }
        });
    }

    /** WebRtcConnection.cpp 325-351. */
    _associate(stream, transceiver) {
        if (
            (transceiver.kind === "audio" && !stream.hasAudio) ||
            (transceiver.kind === "video" && !stream.hasVideo)
        ) {
            return;
        }
        if (stream.isPublisher) {
            transceiver.receiver = stream;
        } else {
            transceiver.sender = stream;
        }
    }

    /** WebRtcConnection.cpp 353-422: new (or reused, stopped) transceivers for a subscriber's tracks. */
    _associateToSender(stream) {
        if (stream.isPublisher) {
            return;
        }
        const stopped = this.transceivers.filter((t) => t.stopped);
        const kinds = [];
        if (stream.hasAudio) kinds.push("audio");
        if (stream.hasVideo) kinds.push("video");
        kinds.forEach((kind) => {
            const transceiver = new Transceiver(this.latestMid, kind);
            this.latestMid += 1;
            const reused = stopped.shift();
            if (reused) {
                this.transceivers[this.transceivers.indexOf(reused)] = transceiver;
            } else {
                this.transceivers.push(transceiver);
            }
            this._associate(stream, transceiver);
        });
    }

    /** WebRtcConnection.cpp 564-615: the local m-lines, one per transceiver. */
    _associateTransceiversToSdp() {
        this.localSdp.medias = this.transceivers.map((transceiver, index) => {
            let dir = "inactive";
            let senderId = "";
            let receiverId = "";
            const justAdded = !transceiver.addedToSdp;
            transceiver.addedToSdp = true;
            if (transceiver.sender) {
                senderId = transceiver.sender.label;
                dir = "sendonly";
            }
            if (transceiver.receiver) {
                if (this.streams.indexOf(transceiver.receiver) !== -1) {
                    receiverId = transceiver.receiver.label;
                    dir = dir === "sendonly" ? "sendrecv" : "recvonly";
                } else {
                    transceiver.receiver = undefined;
                }
            }
            if (transceiver.inactive && index !== 0) {
                transceiver.stopped = true;
            }
            return {
                mid: transceiver.id,
                senderId,
                receiverId,
                direction: dir,
                kind: transceiver.kind,
                ssrc: transceiver.ssrc,
                justAdded,
                stopped: transceiver.stopped,
            };
        });
    }

    /** Stands in for DtlsTransport/IceConnection start-up: bind, make up credentials, gather one candidate. */
    _startTransport(encrypted) {
        if (this.transport) {
            return;
        }
        const address = hostAddress(this.networkInterface);
        this.transport = {
            username: iceToken(4),
            password: iceToken(24),
            encrypted: !!encrypted,
            fingerprint: madeUpFingerprint(),
            remoteUsername: "",
            remotePassword: "",
            candidate: undefined,
            socket: undefined,
            gathered: false,
        };
        const transport = this.transport;
        bindInRange(address, this.minPort, this.maxPort).then(
            (socket) => {
                if (this.closed || this.transport !== transport) {
                    socket.close();
                    return;
                }
                transport.socket = socket;
                transport.candidate = { address, port: socket.address().port };
                this._reportGathered();
            },
            (error) => {
                // IceConnection fails when it cannot gather: the connection fails (WebRtcConnection.cpp 1172-1177).
                process.stderr.write(`erizoAPI stand-in: ${this.id}: ${error.message}\n`);
                this._setState(CONN_FAILED, "");
            },
        );
    }

    _reportGathered() {
        const transport = this.transport;
        const candidate = transport.candidate;
        const sdp = `a=candidate:1 1 udp ${HOST_PRIORITY} ${candidate.address} ${candidate.port} typ host`;
        this.localSdp.candidates = [
            {
                mediaType: "video",
                foundation: "1",
                componentId: 1,
                protocol: "udp",
                priority: HOST_PRIORITY,
                hostIp: candidate.address,
                hostPort: candidate.port,
                hostType: "host",
                relayIp: "",
                relayPort: 0,
                sdp,
                transport: "udp",
            },
        ];
        transport.gathered = true;
        if (this.trickle) {
            // WebRtcConnection.cpp 965-984, 937-955: each candidate as JSON, per medium of the remote description.
            const kinds = [];
            if (!this.remoteSdp.medias.length || this.remoteSdp.hasAudio) kinds.push("audio");
            if (!this.remoteSdp.medias.length || this.remoteSdp.hasVideo) kinds.push("video");
            kinds.forEach((kind) => {
                const mLine =
                    kind === "video" ? this.localSdp.videoSdpMLine : this.localSdp.audioSdpMLine;
                this._notify(
                    CONN_CANDIDATE,
                    JSON.stringify({ candidate: sdp, sdpMLineIndex: String(mLine), sdpMid: kind }),
                );
            });
        } else {
            this._setState(CONN_GATHERED, "");
        }
        this._maybeReady();
    }

    /** Ready without checks: gathered, with a remote description and a remote candidate. */
    _maybeReady() {
        if (
            this.closed ||
            !this.transport ||
            !this.transport.gathered ||
            !this.firstRemoteProcessed
        ) {
            return;
        }
        if (this.remoteCandidates === 0 || this.state === CONN_READY) {
            return;
        }
        this._setState(CONN_READY, "");
        this.streams.forEach((stream) => stream.onConnectionReady());
    }
}

function direction(sending, receiving) {
    if (sending && receiving) return "sendrecv";
    if (sending) return "sendonly";
    if (receiving) return "recvonly";
    return "inactive";
}

module.exports = { WebRtcConnection };
