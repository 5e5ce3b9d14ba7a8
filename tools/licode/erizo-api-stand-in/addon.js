/* global require, module, process, setImmediate */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS for Node.js 12, as ErizoJS requires it */
/*
 * STAND-IN for erizoAPI, Licode's native media addon (erizoAPI/addon.cc), installed as
 * erizoAPI/build/Release/addon.js so that ErizoJS's `require('./../../erizoAPI/build/Release/addon')`
 * (erizoJS.js 93; models/Publisher.js 8, SessionDescription.js 4, WebRtcConnection.js 6) finds it where the
 * native addon.node would be. The real addon needs Erizo's C++ core, which upstream builds with conan packages
 * and libav, OpenSSL, libnice and libsrtp sources from outside any package registry reachable here.
 *
 * It exports what addon.cc 17-28 exports, with the constructors, methods and callbacks of erizoAPI's classes,
 * so that ErizoJS starts, answers its RPCs, negotiates a publish and a subscribe (offer, answer, the connection
 * and stream events it waits for) and reports stats. MEDIA DOES NOT FLOW: no ICE connectivity check, no DTLS
 * handshake, no SRTP, no RTP/RTCP processing, no bandwidth estimation, no recording or external input, no
 * C++ worker threads (nor their crashes). README.md in this directory lists what that leaves untested.
 *
 * Licode v10 = commit f9fca4e0. Runs on Node.js 12, the version ErizoJS runs on.
 */

"use strict";

const { ConnectionDescription } = require("./connection-description");
const { DurationDistribution } = require("./distribution");
const { MediaStream } = require("./media-stream");
const { WebRtcConnection } = require("./web-rtc-connection");

/** ThreadPool.cc 41-98: Erizo's worker threads. Here a counter of the stand-in's own tasks. */
class ThreadPool {
    constructor(workers) {
        if (arguments.length < 1) {
            throw new Error("Wrong number of arguments");
        }
        this.workers = Number(workers) >>> 0;
        this.started = false;
        this.durations = new DurationDistribution();
        this.delays = new DurationDistribution();
    }

    start() {
        this.started = true;
    }

    close() {
        this.started = false;
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
}

/** IOThreadPool.cc 36-65: the I/O threads (libnice's glib loop when asked for). Nothing runs on them here. */
class IOThreadPool {
    constructor(workers, enableGlibLoop) {
        if (arguments.length < 1) {
            throw new Error("Wrong number of arguments");
        }
        this.workers = Number(workers) >>> 0;
        this.glibLoop = arguments.length === 2 ? !!enableGlibLoop : false;
        this.started = false;
    }

    start() {
        this.started = true;
    }

    close() {
        this.started = false;
    }
}

/** OneToManyProcessor.cc 74-220: the fan-out from a publisher to its subscribers (bookkeeping only here). */
class OneToManyProcessor {
    constructor() {
        this.publisher = undefined;
        this.subscribers = new Map();
        this.closed = false;
    }

    /** OneToManyProcessor.cc 96-111: the callback gets "OK" once the processor is gone. */
    close(callback) {
        this.closed = true;
        this.subscribers.clear();
        this.publisher = undefined;
        if (typeof callback === "function") {
            setImmediate(() => callback("OK"));
        }
    }

    setPublisher(stream) {
        if (!this.closed) this.publisher = stream;
    }

    setExternalPublisher(input) {
        if (!this.closed) this.publisher = input;
    }

    getPublisherState() {
        return this.publisher && this.publisher.getCurrentState
            ? this.publisher.getCurrentState()
            : 0;
    }

    hasPublisher() {
        return this.publisher !== undefined;
    }

    addSubscriber(sink, peerId) {
        if (!this.closed) this.subscribers.set(String(peerId), sink);
    }

    addExternalOutput(output, url) {
        if (!this.closed) this.subscribers.set(String(url), output);
    }

    removeSubscriber(peerId) {
        setImmediate(() => this.subscribers.delete(String(peerId)));
    }
}

/**
 * ExternalInput.cc: a publisher fed from a URL or a recording (libav). Not available in the stand-in: init()
 * answers -1, as a stream that cannot be opened does, so ErizoJS reports the failure (erizoJSController.js
 * 169-187) instead of a publisher that never sends.
 */
class ExternalInput {
    constructor(url) {
        this.url = String(url);
    }

    init() {
        process.stderr.write(
            `erizoAPI stand-in: external input ${this.url} is not supported (no libav)\n`,
        );
        return -1;
    }

    close(callback) {
        if (typeof callback === "function") setImmediate(() => callback("OK"));
    }

    setAudioReceiver() {}

    setVideoReceiver() {}

    generatePLIPacket() {}
}

/**
 * ExternalOutput.cc: a recording to a file (libav). Not available in the stand-in: nothing is written, and
 * init() answers -1 after saying so on stderr. ErizoJS ignores the answer (models/Publisher.js 101-112).
 */
class ExternalOutput {
    constructor(threadPool, url) {
        this.url = String(url);
    }

    init() {
        process.stderr.write(
            `erizoAPI stand-in: recording to ${this.url} is not supported (no libav): nothing is written\n`,
        );
        return -1;
    }

    close(callback) {
        if (typeof callback === "function") setImmediate(() => callback("OK"));
    }
}

/** SyntheticInput.cc: generated media for tests. Not used by ErizoJS v10; present because addon.cc exports it. */
class SyntheticInput {
    constructor() {
        this.closed = false;
    }

    init() {
        return -1;
    }

    close(callback) {
        this.closed = true;
        if (typeof callback === "function") setImmediate(() => callback("OK"));
    }

    setAudioReceiver() {}

    setVideoReceiver() {}

    setFeedbackSource() {}
}

process.stderr.write(
    "erizoAPI stand-in loaded (tools/licode/erizo-api-stand-in): signalling only, media does not flow\n",
);

module.exports = {
    WebRtcConnection,
    MediaStream,
    OneToManyProcessor,
    ExternalInput,
    ExternalOutput,
    SyntheticInput,
    ThreadPool,
    IOThreadPool,
    ConnectionDescription,
};
