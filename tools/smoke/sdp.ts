/**
 * The SDP the smoke client exchanges with ErizoJS: a browser-shaped offer to publish (one audio and one video
 * m-line, bundled, unified plan, as Chrome writes one), an answer to ErizoJS's offer to subscribe, and the
 * checks of what ErizoJS sends back. The client runs no ICE agent and no DTLS: its credentials, fingerprint
 * and candidate are well-formed but nothing answers on them, so media never flows.
 *
 * What ErizoJS does with these: erizoJS/models/SessionDescription.js 301-414 (reads an SDP), 56-190 (writes
 * one), Client.js 129-176 (offer/answer), WebRtcConnection.js 211-310.
 */
import { randomBytes } from "crypto";

/** One m-line of an SDP. */
export interface MediaSection {
    readonly kind: string;
    readonly port: number;
    readonly protocol: string;
    readonly payloadTypes: readonly number[];
    /** Each `a=` line: name, and the value after the first ":" ("" when none). */
    readonly attributes: ReadonlyArray<readonly [string, string]>;
}

/** A parsed SDP: the session attributes and the m-lines. */
export interface SessionDescription {
    readonly attributes: ReadonlyArray<readonly [string, string]>;
    readonly media: readonly MediaSection[];
}

/** Parses SDP text into sections. Throws when it is not SDP (no `v=0`). */
export function parseSdp(text: string): SessionDescription {
    const lines = text.split(/\r?\n/).filter((line) => line !== "");
    if (lines[0] !== "v=0") {
        throw new Error(`not an SDP: it starts with ${JSON.stringify(lines[0] ?? "")}`);
    }
    const session: Array<[string, string]> = [];
    const media: Array<{
        kind: string;
        port: number;
        protocol: string;
        payloadTypes: number[];
        attributes: Array<[string, string]>;
    }> = [];
    for (const line of lines) {
        if (line.startsWith("m=")) {
            const [kind, port, protocol, ...formats] = line.slice(2).split(" ");
            media.push({
                kind,
                port: Number(port),
                protocol,
                payloadTypes: formats.map(Number),
                attributes: [],
            });
        } else if (line.startsWith("a=")) {
            const body = line.slice(2);
            const colon = body.indexOf(":");
            const attribute: [string, string] =
                colon === -1 ? [body, ""] : [body.slice(0, colon), body.slice(colon + 1)];
            (media.length === 0 ? session : media[media.length - 1].attributes).push(attribute);
        }
    }
    return { attributes: session, media };
}

/** The first value of an attribute in a section, else in the session. */
export function attribute(
    sdp: SessionDescription,
    section: MediaSection,
    name: string,
): string | undefined {
    return (
        section.attributes.find(([n]) => n === name)?.[1] ??
        sdp.attributes.find(([n]) => n === name)?.[1]
    );
}

/** Every value of an attribute in a section. */
export function attributes(section: MediaSection, name: string): string[] {
    return section.attributes.filter(([n]) => n === name).map(([, value]) => value);
}

/** The direction of a section (sendrecv when none is written, RFC 4566 6). */
export function directionOf(section: MediaSection): string {
    const found = section.attributes.find(([n]) =>
        ["sendrecv", "sendonly", "recvonly", "inactive"].includes(n),
    );
    return found?.[0] ?? "sendrecv";
}

/** The codec names of a section, by payload type (`a=rtpmap`). */
export function codecsOf(section: MediaSection): Map<number, string> {
    const codecs = new Map<number, string>();
    for (const value of attributes(section, "rtpmap")) {
        const [pt, encoding] = value.split(" ");
        codecs.set(Number(pt), encoding.split("/")[0]);
    }
    return codecs;
}

/** The transport identity the client offers: made up, well-formed, answered by nobody. */
export interface ClientTransport {
    readonly ufrag: string;
    readonly pwd: string;
    readonly fingerprint: string;
    readonly address: string;
    readonly port: number;
}

const ICE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function iceString(length: number): string {
    return [...randomBytes(length)].map((byte) => ICE_CHARS[byte % ICE_CHARS.length]).join("");
}

/** A fresh transport identity (RFC 8839 5.4: ufrag >= 4 and pwd >= 22 ICE characters). */
export function newClientTransport(address = "192.0.2.10", port = 9): ClientTransport {
    return {
        ufrag: iceString(8),
        pwd: iceString(24),
        fingerprint: [...randomBytes(32)]
            .map((b) => b.toString(16).padStart(2, "0").toUpperCase())
            .join(":"),
        address,
        port,
    };
}

function transportLines(transport: ClientTransport, setup: string): string[] {
    return [
        `a=candidate:1 1 udp 2122260223 ${transport.address} ${transport.port} typ host generation 0`,
        `a=ice-ufrag:${transport.ufrag}`,
        `a=ice-pwd:${transport.pwd}`,
        "a=ice-options:trickle",
        `a=fingerprint:sha-256 ${transport.fingerprint}`,
        `a=setup:${setup}`,
    ];
}

/** What the publishing client's offer carries. */
export interface PublishOffer {
    /** The stream's label: Licode's client sends it as `options.label` and as the msid stream ID. */
    readonly label: string;
    readonly audioSsrc: number;
    readonly videoSsrc: number;
    readonly videoRtxSsrc: number;
    readonly transport: ClientTransport;
}

/** Random SSRCs and a label for one published stream. */
export function newPublishOffer(transport: ClientTransport): PublishOffer {
    // Not 0: Erizo reads SSRC 0 as "none" (MediaStream.cpp 265-276).
    const ssrc = () => Math.max(1, randomBytes(4).readUInt32BE(0));
    return {
        label: `smoke-${randomBytes(6).toString("hex")}`,
        audioSsrc: ssrc(),
        videoSsrc: ssrc(),
        videoRtxSsrc: ssrc(),
        transport,
    };
}

/**
 * A sendonly offer of one audio (opus, PCMU, PCMA) and one video track (VP8 with rtx, H264), bundled, with
 * rtcp-mux, in the shape Chrome writes (unified plan, `a=msid`, `a=ssrc ... msid:`).
 */
export function buildPublishOffer(offer: PublishOffer): string {
    const cname = `smoke${offer.label.slice(-6)}`;
    const audioTrack = `${offer.label}-audio`;
    const videoTrack = `${offer.label}-video`;
    const sessionId = BigInt(`0x${randomBytes(7).toString("hex")}`).toString();
    return [
        "v=0",
        `o=- ${sessionId} 2 IN IP4 127.0.0.1`,
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=extmap-allow-mixed",
        `a=msid-semantic: WMS ${offer.label}`,
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        ...transportLines(offer.transport, "actpass"),
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendonly",
        `a=msid:${offer.label} ${audioTrack}`,
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        `a=ssrc:${offer.audioSsrc} cname:${cname}`,
        `a=ssrc:${offer.audioSsrc} msid:${offer.label} ${audioTrack}`,
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        ...transportLines(offer.transport, "actpass"),
        "a=mid:1",
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendonly",
        `a=msid:${offer.label} ${videoTrack}`,
        "a=rtcp-mux",
        "a=rtcp-rsize",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp-fb:96 goog-remb",
        "a=rtcp-fb:96 transport-cc",
        "a=rtcp-fb:96 ccm fir",
        "a=rtcp-fb:96 nack",
        "a=rtcp-fb:96 nack pli",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        "a=rtpmap:102 H264/90000",
        "a=rtcp-fb:102 goog-remb",
        "a=rtcp-fb:102 ccm fir",
        "a=rtcp-fb:102 nack",
        "a=rtcp-fb:102 nack pli",
        "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        `a=ssrc-group:FID ${offer.videoSsrc} ${offer.videoRtxSsrc}`,
        `a=ssrc:${offer.videoSsrc} cname:${cname}`,
        `a=ssrc:${offer.videoSsrc} msid:${offer.label} ${videoTrack}`,
        `a=ssrc:${offer.videoRtxSsrc} cname:${cname}`,
        `a=ssrc:${offer.videoRtxSsrc} msid:${offer.label} ${videoTrack}`,
        "",
    ].join("\r\n");
}

/** What both sides of a negotiation must agree on for each m-line; problems as sentences. */
function transportProblems(
    sdp: SessionDescription,
    section: MediaSection,
    where: string,
): string[] {
    const problems: string[] = [];
    if (!attribute(sdp, section, "ice-ufrag") || !attribute(sdp, section, "ice-pwd")) {
        problems.push(`${where}: no ICE credentials`);
    }
    const fingerprint = attribute(sdp, section, "fingerprint") ?? "";
    if (!/^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/i.test(fingerprint)) {
        problems.push(`${where}: no sha-256 DTLS fingerprint (got ${JSON.stringify(fingerprint)})`);
    }
    if (attributes(section, "candidate").length === 0 && section.port !== 0) {
        problems.push(`${where}: no ICE candidate (ErizoJS sends its candidates in the SDP)`);
    }
    return problems;
}

/**
 * Checks ErizoJS's answer to the publish offer: the same m-lines in order, receiving only, an active or
 * passive DTLS role, ICE credentials, a fingerprint, a candidate, and only codecs the offer listed, with at
 * least one per m-line. Returns the problems, empty when the answer is good.
 */
export function publishAnswerProblems(offerText: string, answerText: string): string[] {
    const offer = parseSdp(offerText);
    let answer: SessionDescription;
    try {
        answer = parseSdp(answerText);
    } catch (error) {
        return [(error as Error).message];
    }
    if (answer.media.length !== offer.media.length) {
        return [`the answer has ${answer.media.length} m-lines, the offer ${offer.media.length}`];
    }
    const problems: string[] = [];
    offer.media.forEach((offered, index) => {
        const answered = answer.media[index];
        const where = `m-line ${index} (${offered.kind})`;
        if (answered.kind !== offered.kind) {
            problems.push(`${where}: answered as ${answered.kind}`);
            return;
        }
        const offeredMid = attribute(offer, offered, "mid");
        const answeredMid = attribute(answer, answered, "mid");
        if (answeredMid !== offeredMid) {
            problems.push(`${where}: mid ${answeredMid} instead of ${offeredMid}`);
        }
        if (directionOf(answered) !== "recvonly") {
            problems.push(`${where}: ${directionOf(answered)}, not recvonly`);
        }
        const setup = attribute(answer, answered, "setup");
        if (setup !== "active" && setup !== "passive") {
            problems.push(`${where}: DTLS setup ${setup}, not active or passive`);
        }
        problems.push(...transportProblems(answer, answered, where));
        const offeredCodecs = codecsOf(offered);
        const answeredCodecs = codecsOf(answered);
        if (answeredCodecs.size === 0) {
            problems.push(`${where}: no codec in the answer`);
        }
        for (const [pt, name] of answeredCodecs) {
            if (offeredCodecs.get(pt) !== name) {
                problems.push(`${where}: answered ${name}/${pt}, which the offer did not list`);
            }
        }
    });
    return problems;
}

/** What the subscriber learns from ErizoJS's offer. */
export interface SubscribeOffer {
    readonly sdp: SessionDescription;
    readonly problems: readonly string[];
}

/**
 * Checks ErizoJS's offer to a subscriber: an audio and a video m-line that send the publisher's stream
 * (msid `label`, SSRCs), offer a DTLS role (actpass), ICE credentials, a fingerprint, a candidate, and codecs.
 */
export function checkSubscribeOffer(offerText: string, label: string): SubscribeOffer {
    let sdp: SessionDescription;
    try {
        sdp = parseSdp(offerText);
    } catch (error) {
        return {
            sdp: { attributes: [], media: [] },
            problems: [(error as Error).message],
        };
    }
    const problems: string[] = [];
    for (const kind of ["audio", "video"]) {
        const section = sdp.media.find((m) => m.kind === kind && m.port !== 0);
        if (section === undefined) {
            problems.push(`no ${kind} m-line`);
            continue;
        }
        const where = `${kind} m-line`;
        const direction = directionOf(section);
        if (direction !== "sendonly" && direction !== "sendrecv") {
            problems.push(`${where}: ${direction}, so nothing is sent`);
        }
        const ssrcs = attributes(section, "ssrc");
        if (!ssrcs.some((value) => value.includes(`msid:${label} `))) {
            problems.push(`${where}: no SSRC of stream ${label}`);
        }
        if (attribute(sdp, section, "setup") !== "actpass") {
            problems.push(`${where}: DTLS setup ${attribute(sdp, section, "setup")}, not actpass`);
        }
        problems.push(...transportProblems(sdp, section, where));
        if (codecsOf(section).size === 0) {
            problems.push(`${where}: no codec`);
        }
    }
    return { sdp, problems };
}

/** The subscriber's answer: every offered m-line received (recvonly) with all its codecs, setup active. */
export function buildSubscribeAnswer(
    offer: SessionDescription,
    transport: ClientTransport,
): string {
    const mids = offer.media.map((section) => attribute(offer, section, "mid") ?? "");
    const lines = [
        "v=0",
        `o=- ${BigInt(`0x${randomBytes(7).toString("hex")}`).toString()} 2 IN IP4 127.0.0.1`,
        "s=-",
        "t=0 0",
        `a=group:BUNDLE ${mids.join(" ")}`,
        "a=msid-semantic: WMS",
    ];
    offer.media.forEach((section, index) => {
        lines.push(
            `m=${section.kind} ${section.port === 0 ? 0 : 9} ${section.protocol} ${section.payloadTypes.join(" ")}`,
            "c=IN IP4 0.0.0.0",
            "a=rtcp:9 IN IP4 0.0.0.0",
            ...transportLines(transport, "active"),
            `a=mid:${mids[index]}`,
            section.port === 0 ? "a=inactive" : "a=recvonly",
            "a=rtcp-mux",
        );
        for (const name of ["rtpmap", "fmtp", "rtcp-fb"]) {
            for (const value of attributes(section, name)) {
                lines.push(`a=${name}:${value}`);
            }
        }
    });
    lines.push("");
    return lines.join("\r\n");
}
