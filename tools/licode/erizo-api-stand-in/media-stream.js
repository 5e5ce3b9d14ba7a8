/* global require, module, setImmediate, setInterval, clearInterval */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS for Node.js 12, as ErizoJS requires it */
/*
 * STAND-IN for erizoAPI's MediaStream (erizoAPI/MediaStream.cc) and the state Erizo's C++ MediaStream
 * (erizo/src/erizo/MediaStream.cpp) shows ErizoJS: its SSRCs, the "ready" event once the remote description
 * names it, and its stats. No RTP or RTCP passes: the stats are zero and marked as the stand-in's, and the
 * periodic stats come from a timer while the connection is ready instead of from RTCP arrivals
 * (rtp/StatsHandler.cpp 192). Part of the erizoAPI stand-in: see README.md in this directory.
 *
 * Licode v10 = commit f9fca4e0. Runs on Node.js 12.
 */

"use strict";

const crypto = require("crypto");
const { DurationDistribution, timed } = require("./distribution");

/** WebRtcConnection.h 33-34: the SSRCs a publisher's stream uses towards Erizo. */
const DEFAULT_VIDEO_SINK_SSRC = 55543;
const DEFAULT_AUDIO_SINK_SSRC = 44444;
/** How often periodic stats are reported (no upstream value: the real ones follow RTCP). */
const PERIODIC_STATS_MS = 5000;

function randomSsrc() {
    // MediaStream.cpp 87-88: subscribers' streams get 1000000000 + a random value up to 999999999.
    return 1000000000 + (crypto.randomBytes(4).readUInt32BE(0) % 1000000000);
}

class MediaStream {
    /**
     * MediaStream.cc 167-236: (threadPool, connection, id, label, isPublisher, hasAudio, hasVideo
     * [, handlers (JSON strings), priority]).
     */
    constructor(
        threadPool,
        connection,
        id,
        label,
        isPublisher,
        hasAudio,
        hasVideo,
        handlers,
        priority,
    ) {
        if (arguments.length < 3) {
            throw new Error("Wrong number of arguments");
        }
        this.threadPool = threadPool;
        this.connection = connection;
        this.id = String(id);
        this.label = String(label);
        this.isPublisher = !!isPublisher;
        this.hasAudio = !!hasAudio;
        this.hasVideo = !!hasVideo;
        this.handlers = (handlers || []).map((handler) => JSON.parse(handler));
        this.disabledHandlers = new Set();
        this.priority =
            priority === undefined || priority === "undefined" || priority === ""
                ? "default"
                : String(priority);
        this.videoSinkSsrc = this.isPublisher ? DEFAULT_VIDEO_SINK_SSRC : randomSsrc();
        this.audioSinkSsrc = this.isPublisher ? DEFAULT_AUDIO_SINK_SSRC : randomSsrc();
        this.videoSourceSsrcs = [];
        this.audioSourceSsrc = 0;
        this.ready = false;
        this.pipelineInitialized = false;
        this.closed = false;
        this.metadataValues = {};
        this.settings = {
            maxVideoBW: 0,
            muted: { video: false, audio: false },
            slideShow: false,
            plis: 0,
        };
        this.eventCallback = undefined;
        this.statsCallback = undefined;
        this.statsTimer = undefined;
        this.durations = new DurationDistribution();
        this.delays = new DurationDistribution();
    }

    close() {
        return timed(this, () => {
            this.closed = true;
            this._stopPeriodicStats();
            this.eventCallback = undefined;
            this.statsCallback = undefined;
            return "";
        });
    }

    /** MediaStream.cpp 199-204. */
    configure(doNotWaitForRemoteSdp) {
        if (doNotWaitForRemoteSdp) {
            this.ready = true;
        }
        return true;
    }

    /**
     * MediaStream.cpp 214-289: a publisher's stream becomes ready once the remote description carries SSRCs
     * for its label; a subscriber's once it was configured for an offer. The first time, "ready" is reported.
     */
    setRemoteSdp(remote) {
        if (this.closed) {
            return;
        }
        const videoSsrcs = remote.videoSsrcs.get(this.label);
        const audioSsrc = remote.audioSsrcs.get(this.label);
        if (
            this.isPublisher &&
            !this.ready &&
            videoSsrcs === undefined &&
            audioSsrc === undefined
        ) {
            return;
        }
        if (!this.isPublisher && !this.ready) {
            return;
        }
        this.ready = true;
        if (this.pipelineInitialized) {
            return;
        }
        this.videoSourceSsrcs =
            videoSsrcs && videoSsrcs.length > 0 ? videoSsrcs.slice() : [DEFAULT_VIDEO_SINK_SSRC];
        this.audioSourceSsrc = audioSsrc || DEFAULT_AUDIO_SINK_SSRC;
        this.pipelineInitialized = true;
        this._event("ready", "");
    }

    onConnectionReady() {
        if (this.statsCallback && !this.statsTimer) {
            this.statsTimer = setInterval(() => this._sendPeriodicStats(), PERIODIC_STATS_MS);
            this.statsTimer.unref();
        }
    }

    setAudioReceiver(receiver) {
        this.audioReceiver = receiver;
    }

    setVideoReceiver(receiver) {
        this.videoReceiver = receiver;
    }

    getCurrentState() {
        return this.ready ? 1 : 0;
    }

    generatePLIPacket() {
        this.settings.plis += 1;
    }

    /** MediaStream.cc 512-523: the stream's stats as a JSON string, `{}` once closed. */
    getStats(callback) {
        setImmediate(() => callback(this.closed ? "{}" : JSON.stringify(this._stats())));
    }

    /** MediaStream.cc 525-533: registers the callback periodic stats go to. */
    getPeriodicStats(callback) {
        if (this.closed || arguments.length !== 1) {
            return;
        }
        this.statsCallback = callback;
        if (this.connection && this.connection.getCurrentState() === 104) {
            this.onConnectionReady();
        }
    }

    setFeedbackReports() {}

    setSlideShowMode(enabled) {
        this.settings.slideShow = !!enabled;
    }

    setPriority(priority) {
        this.priority = String(priority);
    }

    muteStream(muteVideo, muteAudio) {
        this.settings.muted = { video: !!muteVideo, audio: !!muteAudio };
    }

    setMaxVideoBW(maxVideoBW) {
        this.settings.maxVideoBW = Number(maxVideoBW) || 0;
    }

    setQualityLayer() {}

    enableSlideShowBelowSpatialLayer() {}

    /** MediaStream.cc 547-557: the callback of "ready" and other stream events (type, message). */
    onMediaStreamEvent(callback) {
        if (this.closed) {
            return;
        }
        this.eventCallback = callback;
    }

    setVideoConstraints() {}

    setMetadata(metadataJson) {
        const parsed = JSON.parse(metadataJson);
        Object.keys(parsed).forEach((key) => {
            const value = parsed[key];
            this.metadataValues[key] = typeof value === "string" ? value : JSON.stringify(value);
        });
    }

    setPeriodicKeyframeRequests(enabled, period) {
        this.settings.periodicKeyframes = enabled ? Number(period) || 0 : 0;
    }

    hasPeriodicKeyframeRequests() {
        return !!this.settings.periodicKeyframes;
    }

    enableHandler(name) {
        this.disabledHandlers.delete(String(name));
    }

    disableHandler(name) {
        this.disabledHandlers.add(String(name));
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

    _event(type, message) {
        setImmediate(() => {
            if (this.eventCallback && !this.closed) {
                this.eventCallback(type, message);
            }
        });
    }

    /** Zero counters per SSRC, in the shape of Erizo's StatNode tree (rtp/StatsHandler.cpp 21-58). */
    _stats() {
        const node = (type) => ({
            type,
            packetsLost: 0,
            fractionLost: 0,
            jitter: 0,
            bitrateCalculated: 0,
            packetsCalculated: 0,
        });
        const stats = {
            erizoApiStandIn: true,
            streamId: this.id,
            total: { bitrateCalculated: 0, packetsCalculated: 0 },
        };
        if (this.isPublisher) {
            if (this.hasAudio)
                stats[this.audioSourceSsrc || DEFAULT_AUDIO_SINK_SSRC] = node("audio");
            if (this.hasVideo) {
                (this.videoSourceSsrcs.length
                    ? this.videoSourceSsrcs
                    : [DEFAULT_VIDEO_SINK_SSRC]
                ).forEach((ssrc) => {
                    stats[ssrc] = node("video");
                });
            }
        } else {
            if (this.hasAudio) stats[this.audioSinkSsrc] = node("audio");
            if (this.hasVideo)
                stats[this.videoSinkSsrc] = Object.assign(node("video"), {
                    streamPriority: this.priority,
                });
        }
        return stats;
    }

    _sendPeriodicStats() {
        if (this.closed || !this.statsCallback) {
            this._stopPeriodicStats();
            return;
        }
        this.statsCallback(JSON.stringify(this._stats()));
    }

    _stopPeriodicStats() {
        if (this.statsTimer) {
            clearInterval(this.statsTimer);
            this.statsTimer = undefined;
        }
    }
}

module.exports = { MediaStream };
