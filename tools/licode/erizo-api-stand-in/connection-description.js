/* global module */
/*
 * STAND-IN for erizoAPI's ConnectionDescription (erizoAPI/ConnectionDescription.cc) and the part of Erizo's
 * C++ SdpInfo (erizo/src/erizo/SdpInfo.cpp) that ErizoJS reaches through it: the description of one side of
 * a WebRTC connection that ErizoJS builds from an SDP (models/SessionDescription.js 301-414) and turns back
 * into an SDP (56-190). No SDP text is parsed or written here; ErizoJS does that in JavaScript.
 *
 * Licode v10 = commit f9fca4e0. Line numbers below are of that commit. Runs on Node.js 12 (no `?.`, no `??`).
 * Part of the erizoAPI stand-in: see README.md in this directory for what it leaves untested.
 */

"use strict";

/** SdpInfo's StreamDirection, by the names ConnectionDescription.cc 388-444 reads and writes. */
const DIRECTIONS = ["sendonly", "recvonly", "sendrecv", "inactive"];
/** ConnectionDescription.cc 470-486: setup values. */
const DTLS_ROLES = ["actpass", "passive", "active"];

function mediaTypeOf(name) {
    // ConnectionDescription.cc getMediaType: "audio" and "video"; anything else is neither.
    if (name === "audio" || name === "video") {
        return name;
    }
    return "other";
}

function copyRtpMap(map) {
    return {
        payloadType: map.payloadType,
        encodingName: map.encodingName,
        clockRate: map.clockRate,
        channels: map.channels,
        mediaType: map.mediaType,
        formatParameters: Object.assign({}, map.formatParameters),
        feedbackTypes: map.feedbackTypes.slice(),
    };
}

function newRtpMap(payloadType) {
    return {
        payloadType,
        encodingName: "",
        clockRate: 0,
        channels: 1,
        mediaType: "other",
        formatParameters: {},
        feedbackTypes: [],
    };
}

function sameRtpMap(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The rtpMappings of a media configuration (rtp_media_config.js `codecConfigurations.<name>`), read as
 * ConnectionDescription.cc 137-196 and WebRtcConnection.cc 210-260 read them: entries without a numeric
 * payloadType, a string encodingName or an audio/video mediaType are skipped.
 */
function rtpMappingsOf(mediaConfig) {
    const mappings = [];
    const list = (mediaConfig && mediaConfig.rtpMappings) || {};
    Object.keys(list).forEach((key) => {
        const entry = list[key];
        if (typeof entry.payloadType !== "number" || typeof entry.encodingName !== "string") {
            return;
        }
        if (entry.mediaType !== "audio" && entry.mediaType !== "video") {
            return;
        }
        const map = newRtpMap(entry.payloadType);
        map.encodingName = entry.encodingName;
        map.mediaType = entry.mediaType;
        if (typeof entry.clockRate === "number") {
            map.clockRate = entry.clockRate;
        }
        if (map.mediaType === "audio" && typeof entry.channels === "number") {
            map.channels = entry.channels;
        }
        if (entry.formatParameters && typeof entry.formatParameters === "object") {
            Object.keys(entry.formatParameters).forEach((name) => {
                map.formatParameters[name] = String(entry.formatParameters[name]);
            });
        }
        if (Array.isArray(entry.feedbackTypes)) {
            map.feedbackTypes = entry.feedbackTypes.map(String);
        }
        mappings.push(map);
    });
    return mappings;
}

/** The model of erizo::SdpInfo (SdpInfo.h) the stand-in keeps behind each description. */
class SdpInfo {
    constructor(internalPayloads) {
        // SdpInfo.cpp 29-41: the defaults.
        this.internalPayloads = (internalPayloads || []).map(copyRtpMap);
        this.payloadParsed = new Map();
        this.payloads = [];
        this.extMaps = [];
        this.supportedExtensions = [];
        this.isBundle = false;
        this.isIceLite = false;
        this.isRtcpMux = false;
        this.isFingerprint = false;
        this.fingerprint = "";
        this.dtlsRole = "actpass";
        this.internalDtlsRole = "actpass";
        this.profile = "SAVPF";
        this.videoBandwidth = 0;
        this.googleConferenceFlag = "";
        this.videoSdpMLine = -1;
        this.audioSdpMLine = -1;
        this.audioDirection = "inactive";
        this.videoDirection = "inactive";
        this.bundleTags = [];
        this.audioSsrcs = new Map();
        this.videoSsrcs = new Map();
        this.medias = [];
        this.candidates = [];
        this.ice = { audio: { username: "", password: "" }, video: { username: "", password: "" } };
        this.rids = [];
    }

    /** A deep copy, as the C++ copy constructor the addon uses before handing a description over. */
    clone() {
        const copy = new SdpInfo(this.internalPayloads);
        Object.keys(this).forEach((key) => {
            copy[key] = cloneValue(this[key]);
        });
        return copy;
    }

    get hasAudio() {
        return this.medias.some((media) => media.kind === "audio");
    }

    get hasVideo() {
        return this.medias.some((media) => media.kind === "video");
    }

    /** SdpInfo.cpp 66-83. */
    setCredentials(username, password, mediaType) {
        if (mediaType === "video" || mediaType === "audio") {
            this.ice[mediaType] = { username, password };
        } else {
            this.ice.audio = { username, password };
            this.ice.video = { username, password };
        }
    }

    /** SdpInfo.cpp 140-159: an offer of everything this side supports. */
    createOfferSdp(videoEnabled, audioEnabled, bundle) {
        if (this.payloads.length === 0) {
            this.payloads = this.internalPayloads.map(copyRtpMap);
        }
        this.isBundle = bundle;
        this.isRtcpMux = true;
        if (videoEnabled) {
            this.videoSdpMLine = 0;
        }
        if (audioEnabled) {
            this.audioSdpMLine = 0;
        }
        this.videoDirection = "sendrecv";
        this.audioDirection = "sendrecv";
    }

    /** SdpInfo.cpp 161-188: adopts the other side's codecs and extensions this side does not list yet. */
    copyInfoFromSdp(other) {
        other.payloads.forEach((payload) => {
            if (!this.payloads.some((local) => sameRtpMap(local, payload))) {
                this.payloads.push(copyRtpMap(payload));
            }
        });
        other.extMaps.forEach((ext) => {
            if (
                !this.extMaps.some(
                    (local) =>
                        local.value === ext.value &&
                        local.uri === ext.uri &&
                        local.mediaType === ext.mediaType,
                )
            ) {
                this.extMaps.push(Object.assign({}, ext));
            }
        });
    }

    /** SdpInfo.cpp 190-240: this side answers `offer`: same bundle and profile, reversed directions. */
    setOfferSdp(offer) {
        const reverse = {
            sendonly: "recvonly",
            recvonly: "sendonly",
            sendrecv: "sendrecv",
            inactive: "inactive",
        };
        this.isBundle = offer.isBundle;
        this.profile = offer.profile;
        this.isRtcpMux = offer.isRtcpMux;
        this.videoSdpMLine = offer.videoSdpMLine;
        this.audioSdpMLine = offer.audioSdpMLine;
        this.bundleTags = cloneValue(offer.bundleTags);
        this.copyInfoFromSdp(offer);
        this.rids = offer.rids.map((rid) => ({
            id: rid.id,
            direction: rid.direction === "send" ? "recv" : "send",
        }));
        this.googleConferenceFlag = offer.googleConferenceFlag;
        this.videoDirection = reverse[offer.videoDirection] || "sendrecv";
        this.audioDirection = reverse[offer.audioDirection] || "sendrecv";
    }

    /**
     * SdpInfo.cpp 242-330: fills missing ICE credentials from the other medium, and keeps, of the codecs the
     * SDP listed, those this side supports (same name and clock rate; feedback and format parameters
     * intersected), then the rtx codecs whose associated payload type was kept.
     */
    postProcessInfo() {
        if (!this.ice.video.username && !this.ice.audio.username) {
            return false;
        }
        if (!this.ice.video.username) {
            this.ice.video = Object.assign({}, this.ice.audio);
        } else if (!this.ice.audio.username) {
            this.ice.audio = Object.assign({}, this.ice.video);
        }
        const outToIn = new Map();
        const rtxMaps = [];
        const parsed = Array.from(this.payloadParsed.keys())
            .sort((a, b) => a - b)
            .map((pt) => this.payloadParsed.get(pt));
        this.internalPayloads.forEach((internal) => {
            parsed.forEach((map) => {
                if (
                    internal.encodingName !== map.encodingName ||
                    internal.clockRate !== map.clockRate
                ) {
                    return;
                }
                if (map.encodingName === "rtx") {
                    rtxMaps.push(map);
                    return;
                }
                const negotiated = copyRtpMap(map);
                negotiated.channels = internal.channels;
                negotiated.feedbackTypes = internal.feedbackTypes.filter(
                    (fb) => map.feedbackTypes.indexOf(fb) !== -1,
                );
                negotiated.formatParameters = {};
                const parsedNames = Object.keys(map.formatParameters);
                const internalNames = Object.keys(internal.formatParameters);
                if (parsedNames.length === internalNames.length) {
                    internalNames.forEach((name) => {
                        if (map.formatParameters[name] === internal.formatParameters[name]) {
                            negotiated.formatParameters[name] = map.formatParameters[name];
                        }
                    });
                }
                if (
                    internalNames.length === 0 ||
                    parsedNames.length === Object.keys(negotiated.formatParameters).length
                ) {
                    this.payloads.push(negotiated);
                    outToIn.set(map.payloadType, internal.payloadType);
                }
            });
        });
        rtxMaps.forEach((rtx) => {
            this.internalPayloads.forEach((internal) => {
                if (internal.encodingName !== "rtx") {
                    return;
                }
                const parsedApt = rtx.formatParameters.apt;
                const internalApt = internal.formatParameters.apt;
                if (parsedApt === undefined || internalApt === undefined) {
                    return;
                }
                if (outToIn.get(Number(parsedApt)) === Number(internalApt)) {
                    outToIn.set(rtx.payloadType, internal.payloadType);
                    this.payloads.push(copyRtpMap(rtx));
                }
            });
        });
        return true;
    }

    /** SdpInfo.cpp 381-389: the extensions of one medium that this side supports. */
    extensionsOf(mediaType) {
        return this.extMaps.filter(
            (ext) =>
                ext.mediaType === mediaType && this.supportedExtensions.indexOf(ext.uri) !== -1,
        );
    }
}

function cloneValue(value) {
    if (value instanceof Map) {
        return new Map(Array.from(value.entries()).map(([k, v]) => [k, cloneValue(v)]));
    }
    if (Array.isArray(value)) {
        return value.map(cloneValue);
    }
    if (value && typeof value === "object") {
        const copy = {};
        Object.keys(value).forEach((key) => {
            copy[key] = cloneValue(value[key]);
        });
        return copy;
    }
    return value;
}

/** The JavaScript face of SdpInfo: the methods ConnectionDescription.cc 54-111 registers. */
class ConnectionDescription {
    /** ConnectionDescription.cc 123-202: `new ConnectionDescription([mediaConfigJson])`. */
    constructor(mediaConfigJson) {
        if (arguments.length > 1) {
            throw new Error("Wrong number of arguments");
        }
        const mappings =
            mediaConfigJson === undefined ? [] : rtpMappingsOf(JSON.parse(mediaConfigJson));
        this.sdp = new SdpInfo(mappings);
    }

    /** Wraps an SdpInfo the stand-in built (a local description). */
    static wrap(sdpInfo) {
        const description = new ConnectionDescription();
        description.sdp = sdpInfo;
        return description;
    }

    close() {
        this.sdp = new SdpInfo([]);
    }

    setProfile(profile) {
        if (profile === "SAVPF" || profile === "AVPF") {
            this.sdp.profile = profile;
        }
    }

    setBundle(bundle) {
        this.sdp.isBundle = !!bundle;
    }

    addBundleTag(id, mediaType) {
        this.sdp.bundleTags.push({ id: String(id), mediaType: mediaTypeOf(mediaType) });
    }

    setRtcpMux(rtcpMux) {
        this.sdp.isRtcpMux = !!rtcpMux;
    }

    getProfile() {
        return this.sdp.profile === "SAVPF" ? "UDP/TLS/RTP/SAVPF" : "RTP/AVPF";
    }

    isBundle() {
        return this.sdp.isBundle;
    }

    /** ConnectionDescription.cc 252-267: the bundle tag of that medium, else the medium's name. */
    getMediaId(mediaType) {
        const type = mediaTypeOf(mediaType);
        const tag = this.sdp.bundleTags.find((t) => t.mediaType === type);
        return tag ? tag.id : String(mediaType);
    }

    isRtcpMux() {
        return this.sdp.isRtcpMux;
    }

    setAudioSsrc(streamId, ssrc) {
        this.sdp.audioSsrcs.set(String(streamId), Number(ssrc) >>> 0);
    }

    getAudioSsrcMap() {
        const map = {};
        this.sdp.audioSsrcs.forEach((ssrc, streamId) => {
            map[streamId] = ssrc;
        });
        return map;
    }

    setVideoSsrcList(streamId, ssrcs) {
        this.sdp.videoSsrcs.set(
            String(streamId),
            Array.from(ssrcs).map((ssrc) => Number(ssrc) >>> 0),
        );
    }

    getVideoSsrcMap() {
        const map = {};
        this.sdp.videoSsrcs.forEach((ssrcs, streamId) => {
            map[streamId] = ssrcs.slice();
        });
        return map;
    }

    /** ConnectionDescription.cc 290-312. */
    addMediaInfo(senderStreamId, receiverStreamId, mid, direction, kind, ssrc, stopped) {
        this.sdp.medias.push({
            mid: String(mid),
            senderId: String(senderStreamId),
            receiverId: String(receiverStreamId),
            direction: DIRECTIONS.indexOf(direction) === -1 ? "inactive" : direction,
            kind: String(kind),
            ssrc: String(ssrc),
            justAdded: false,
            stopped: !!stopped,
        });
    }

    /**
     * ConnectionDescription.cc 314-357. A sendonly medium is reported as "sendrecv" there (lines 330-332):
     * kept, so the SDP ErizoJS writes from it is the one the real addon leads it to write.
     */
    getMediaInfos() {
        return this.sdp.medias.map((media, order) => ({
            mid: media.mid,
            order,
            senderStreamId: media.senderId,
            receiverStreamId: media.receiverId,
            direction:
                { sendonly: "sendrecv", recvonly: "recvonly", sendrecv: "sendrecv" }[
                    media.direction
                ] || "inactive",
            kind: media.kind,
            ssrc: media.ssrc,
            justAddedInOffer: media.justAdded,
            stopped: media.stopped,
        }));
    }

    setVideoDirection(direction) {
        if (DIRECTIONS.indexOf(direction) !== -1) {
            this.sdp.videoDirection = direction;
        }
    }

    setAudioDirection(direction) {
        if (DIRECTIONS.indexOf(direction) !== -1) {
            this.sdp.audioDirection = direction;
        }
    }

    /** ConnectionDescription.cc 418-444: unknown directions read as "recvonly". */
    getDirection(mediaType) {
        const direction = mediaType === "audio" ? this.sdp.audioDirection : this.sdp.videoDirection;
        return DIRECTIONS.indexOf(direction) === -1 ? "recvonly" : direction;
    }

    setFingerprint(fingerprint) {
        this.sdp.fingerprint = String(fingerprint);
        this.sdp.isFingerprint = true;
    }

    getFingerprint() {
        return this.sdp.fingerprint;
    }

    setDtlsRole(role) {
        if (DTLS_ROLES.indexOf(role) !== -1) {
            this.sdp.dtlsRole = role;
        }
    }

    getDtlsRole() {
        return this.sdp.dtlsRole;
    }

    setVideoBandwidth(bandwidth) {
        this.sdp.videoBandwidth = Number(bandwidth) >>> 0;
    }

    getVideoBandwidth() {
        return this.sdp.videoBandwidth;
    }

    setXGoogleFlag(flag) {
        this.sdp.googleConferenceFlag = String(flag);
    }

    getXGoogleFlag() {
        return this.sdp.googleConferenceFlag;
    }

    /** ConnectionDescription.cc 508-548: UDP candidates only (libnice has no TCP), true when kept. */
    addCandidate(
        mediaType,
        foundation,
        componentId,
        protocol,
        priority,
        address,
        port,
        type,
        relAddr,
        relPort,
        candidateSdp,
    ) {
        if (String(protocol).toLowerCase() !== "udp") {
            return false;
        }
        const hostType = ["host", "srflx", "prflx", "relay"].indexOf(type) === -1 ? "host" : type;
        const relayed = hostType === "srflx" || hostType === "relay";
        this.sdp.candidates.push({
            mediaType: mediaTypeOf(mediaType),
            foundation: String(foundation),
            componentId: Number(componentId) >>> 0,
            protocol: String(protocol),
            priority: Number(priority) >>> 0,
            hostIp: String(address),
            hostPort: Number(port) >>> 0,
            hostType,
            relayIp: relayed ? String(relAddr) : "",
            relayPort: relayed ? Number(relPort) >>> 0 : 0,
            sdp: String(candidateSdp),
            transport: "",
        });
        return true;
    }

    addCryptoInfo() {
        // SDES-SRTP crypto lines: the real addon stores them (550-558); nothing here reads them back.
    }

    setICECredentials(username, password, mediaType) {
        this.sdp.setCredentials(String(username), String(password), mediaTypeOf(mediaType));
    }

    /** ConnectionDescription.cc 583-604: video's for "video", audio's for anything else. */
    getICECredentials(mediaType) {
        const ice = mediaTypeOf(mediaType) === "video" ? this.sdp.ice.video : this.sdp.ice.audio;
        return [ice.username, ice.password];
    }

    /** ConnectionDescription.cc 606-668. */
    getCandidates() {
        return this.sdp.candidates.map((candidate) => {
            const ice = candidate.mediaType === "video" ? this.sdp.ice.video : this.sdp.ice.audio;
            return {
                bundle: this.sdp.isBundle,
                tag: 0,
                priority: candidate.priority,
                componentId: candidate.componentId,
                foundation: candidate.foundation,
                hostIp: candidate.hostIp,
                relayIp: candidate.relayIp,
                hostPort: candidate.hostPort,
                relayPort: candidate.relayPort,
                protocol: candidate.protocol,
                hostType: candidate.hostType,
                transport: candidate.transport,
                user: ice.username,
                pass: ice.password,
                mediaType: candidate.mediaType === "video" ? "video" : "audio",
            };
        });
    }

    /** ConnectionDescription.cc 670-710: the negotiated codecs of one medium. */
    getCodecs(mediaType) {
        const type = mediaTypeOf(mediaType);
        return this.sdp.payloads
            .filter((pt) => pt.mediaType === type)
            .map((pt) => ({
                type: pt.payloadType,
                name: pt.encodingName,
                rate: pt.clockRate,
                mediaType: String(mediaType),
                channels: pt.channels,
                feedbacks: pt.feedbackTypes.slice(),
                params: Object.assign({}, pt.formatParameters),
            }));
    }

    /** ConnectionDescription.cc 712-723: {id: uri} of the supported extensions of one medium. */
    getExtensions(mediaType) {
        const extensions = {};
        this.sdp.extensionsOf(mediaTypeOf(mediaType)).forEach((ext) => {
            extensions[ext.value] = ext.uri;
        });
        return extensions;
    }

    addRid(id, direction) {
        this.sdp.rids.push({ id: String(id), direction: direction === "recv" ? "recv" : "send" });
    }

    /** ConnectionDescription.cc 742-755. */
    addPt(payloadType, codecName, clockRate, mediaType) {
        const map = newRtpMap(Number(payloadType) >>> 0);
        map.encodingName = String(codecName);
        map.clockRate = Number(clockRate) >>> 0;
        map.mediaType = mediaTypeOf(mediaType);
        this.sdp.payloadParsed.set(map.payloadType, map);
    }

    addExtension(id, uri, mediaType) {
        this.sdp.extMaps.push({
            value: Number(id) >>> 0,
            uri: String(uri),
            mediaType: mediaTypeOf(mediaType),
        });
    }

    /** ConnectionDescription.cc 767-780: feedback of a payload type not added yet creates it. */
    addFeedback(payloadType, feedback) {
        const pt = Number(payloadType) >>> 0;
        if (!this.sdp.payloadParsed.has(pt)) {
            this.sdp.payloadParsed.set(pt, newRtpMap(pt));
        }
        this.sdp.payloadParsed.get(pt).feedbackTypes.push(String(feedback));
    }

    addParameter(payloadType, option, value) {
        const pt = Number(payloadType) >>> 0;
        if (!this.sdp.payloadParsed.has(pt)) {
            this.sdp.payloadParsed.set(pt, newRtpMap(pt));
        }
        this.sdp.payloadParsed.get(pt).formatParameters[String(option)] = String(value);
    }

    getRids() {
        const rids = {};
        this.sdp.rids.forEach((rid) => {
            rids[rid.id] = rid.direction;
        });
        return rids;
    }

    postProcessInfo() {
        return this.sdp.postProcessInfo();
    }

    setIceLite(iceLite) {
        this.sdp.isIceLite = !!iceLite;
    }

    isIceLite() {
        return this.sdp.isIceLite;
    }

    copyInfoFromSdp(source) {
        this.sdp.copyInfoFromSdp(source.sdp);
    }
}

module.exports = { ConnectionDescription, SdpInfo, rtpMappingsOf };
