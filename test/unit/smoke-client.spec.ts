/**
 * The pure parts of the smoke client (tools/smoke/): Nuve's MAuth header and signature, Licode's room tokens,
 * the SDP it offers and answers and its checks of ErizoJS's, and its command line. Expected signatures and
 * tokens were computed with Python's hmac/hashlib/base64, not with the code under test.
 */
import * as assert from "assert";
import { parseArgs } from "../../tools/smoke/cli";
import {
    mauthHeader,
    mauthSignature,
    mauthUserName,
    parseMAuthHeader,
} from "../../tools/smoke/mauth";
import {
    attribute,
    buildPublishOffer,
    buildSubscribeAnswer,
    checkSubscribeOffer,
    codecsOf,
    directionOf,
    newClientTransport,
    newPublishOffer,
    parseSdp,
    publishAnswerProblems,
} from "../../tools/smoke/sdp";
import { controllerUrl, decodeToken, tokenSignedWith } from "../../tools/smoke/token";

const KEY = "k3y-of-the-superservice";
const CREDENTIALS = { serviceId: "65a1b2c3d4e5f60718293a4c", serviceKey: KEY };

describe("smoke client: Nuve's MAuth (N.API.js 96-184, mauthParser.js)", () => {
    it("signs timestamp,cnonce with the service key: base64 of the HMAC-SHA1 hex", () => {
        assert.strictEqual(
            mauthSignature("1700000000000,4242", KEY),
            "MDUxZDc0NTU4NWJkNGE4ODZkMmZiN2E4Y2Y5MGZkMzlhZDNjZTJlNQ==",
        );
    });

    it("writes a header that Nuve's parser reads back field by field", () => {
        const header = mauthHeader(CREDENTIALS, { timestamp: 1700000000000, cnonce: 4242 });
        assert.match(
            header,
            /^MAuth realm=http:\/\/marte3\.dit\.upm\.es,mauth_signature_method=HMAC_SHA1,/,
        );
        assert.deepStrictEqual(parseMAuthHeader(header), {
            realm: "http://marte3.dit.upm.es",
            signature_method: "HMAC_SHA1",
            serviceid: CREDENTIALS.serviceId,
            cnonce: "4242",
            timestamp: "1700000000000",
            signature: "MDUxZDc0NTU4NWJkNGE4ODZkMmZiN2E4Y2Y5MGZkMzlhZDNjZTJlNQ==",
        });
    });

    it("adds the user and role to a token request, and signs them too", () => {
        const params = parseMAuthHeader(
            mauthHeader(CREDENTIALS, {
                timestamp: 1700000000000,
                cnonce: 4242,
                user: { name: "Smoke-Publisher", role: "presenter" },
            }),
        );
        assert.strictEqual(params.username, "smoke-publisher");
        assert.strictEqual(params.role, "presenter");
        assert.strictEqual(
            params.signature,
            "ZjBiYjc4ODZiOGNkMGNmM2I4NTMxYTJkZWUzNmU3YjYyNzMzNTkwNA==",
        );
    });

    it("folds user names as N.API.js does and refuses those Nuve's parser would split", () => {
        assert.strictEqual(mauthUserName("Ñandú Çedille"), "nandu cedille");
        assert.throws(() => mauthUserName("a,b"), /hold no "," or "="/);
        assert.throws(() => mauthUserName("a=b"), /hold no "," or "="/);
        assert.throws(() => mauthUserName(""), /non-empty/);
    });
});

describe("smoke client: room tokens (tokensResource.js 26-40, tokenAuthenticator.js 24-38)", () => {
    const TOKEN =
        "eyJ0b2tlbklkIjoiNjVhMWIyYzNkNGU1ZjYwNzE4MjkzYTRiIiwiaG9zdCI6IjE5Mi4wLjIuNzo4MDgwIiwic2VjdXJlIjpmYWxzZSwic2lnbmF0dXJlIjoiWVRBNE56UXlaRGRpTXpRek5UWmpOMkZpTWpobVpqUmtOVE15TURKaU9EYzFNalptWm1Nd01nPT0ifQ==";

    it("decodes Nuve's base64 JSON and checks the signature with the superservice key", () => {
        const token = decodeToken(`${TOKEN}\n`);
        assert.deepStrictEqual(token, {
            tokenId: "65a1b2c3d4e5f60718293a4b",
            host: "192.0.2.7:8080",
            secure: false,
            signature: "YTA4NzQyZDdiMzQzNTZjN2FiMjhmZjRkNTMyMDJiODc1MjZmZmMwMg==",
        });
        assert.strictEqual(tokenSignedWith(token, KEY), true);
        assert.strictEqual(tokenSignedWith(token, "another key"), false);
        assert.strictEqual(controllerUrl(token), "ws://192.0.2.7:8080");
        assert.strictEqual(controllerUrl({ ...token, secure: true }), "wss://192.0.2.7:8080");
    });

    it("refuses what is not a token, naming what is wrong", () => {
        assert.throws(() => decodeToken("Error: no ErizoController available"), /not base64/);
        assert.throws(() => decodeToken(Buffer.from("not json").toString("base64")), /not JSON/);
        const noHost = Buffer.from(
            JSON.stringify({ tokenId: "a", secure: false, signature: "s" }),
        ).toString("base64");
        assert.throws(() => decodeToken(noHost), /host undefined is not <address>:<port>/);
    });
});

describe("smoke client: SDP", () => {
    const transport = newClientTransport("192.0.2.10", 50000);
    const offer = newPublishOffer(transport);
    const offerSdp = buildPublishOffer(offer);

    /** ErizoJS's answer as it is shaped (SessionDescription.js 56-264): recvonly m-lines, setup active. */
    function erizoAnswer(
        changes: { direction?: string; fingerprint?: boolean; codec?: string } = {},
    ): string {
        const lines = [
            "v=0",
            "o=- 0 0 IN IP4 127.0.0.1",
            "s=LicodeMCU",
            "t=0 0",
            "a=group:BUNDLE 0 1",
        ];
        for (const [mid, kind, rtpmap] of [
            ["0", "audio", changes.codec ?? "111 opus/48000/2"],
            ["1", "video", "96 VP8/90000"],
        ]) {
            lines.push(
                `m=${kind} 9 UDP/TLS/RTP/SAVPF ${rtpmap.split(" ")[0]}`,
                "c=IN IP4 0.0.0.0",
                "a=candidate:1 1 udp 2130706431 192.0.2.2 30001 typ host",
                "a=ice-ufrag:Ab12",
                "a=ice-pwd:abcdefghijklmnopqrstuvwx",
                ...(changes.fingerprint === false
                    ? []
                    : [`a=fingerprint:sha-256 ${Array(32).fill("AB").join(":")}`]),
                "a=setup:active",
                `a=mid:${mid}`,
                `a=${changes.direction ?? "recvonly"}`,
                `a=rtpmap:${rtpmap}`,
            );
        }
        return `${lines.join("\r\n")}\r\n`;
    }

    it("offers one bundled sendonly audio and video track of the stream's label, as a browser does", () => {
        const sdp = parseSdp(offerSdp);
        assert.deepStrictEqual(
            sdp.media.map((m) => [
                m.kind,
                attribute(sdp, m, "mid"),
                directionOf(m),
                attribute(sdp, m, "msid"),
            ]),
            [
                ["audio", "0", "sendonly", `${offer.label} ${offer.label}-audio`],
                ["video", "1", "sendonly", `${offer.label} ${offer.label}-video`],
            ],
        );
        assert.deepStrictEqual([...codecsOf(sdp.media[1]).values()], ["VP8", "rtx", "H264"]);
        assert.strictEqual(attribute(sdp, sdp.media[0], "setup"), "actpass");
        assert.match(offerSdp, new RegExp(`a=ssrc:${offer.audioSsrc} msid:${offer.label} `));
        assert.match(offerSdp, /a=candidate:1 1 udp \d+ 192\.0\.2\.10 50000 typ host/);
        assert.ok(offerSdp.endsWith("\r\n"));
    });

    it("accepts an answer shaped like ErizoJS's", () => {
        assert.deepStrictEqual(publishAnswerProblems(offerSdp, erizoAnswer()), []);
    });

    it("names each fault of a bad answer", () => {
        assert.deepStrictEqual(
            publishAnswerProblems(offerSdp, erizoAnswer({ direction: "sendrecv" })),
            [
                "m-line 0 (audio): sendrecv, not recvonly",
                "m-line 1 (video): sendrecv, not recvonly",
            ],
        );
        assert.match(
            publishAnswerProblems(offerSdp, erizoAnswer({ fingerprint: false })).join("\n"),
            /m-line 0 \(audio\): no sha-256 DTLS fingerprint/,
        );
        assert.deepStrictEqual(
            publishAnswerProblems(offerSdp, erizoAnswer({ codec: "9 G722/8000" })),
            ["m-line 0 (audio): answered G722/9, which the offer did not list"],
        );
        assert.deepStrictEqual(publishAnswerProblems(offerSdp, ""), [
            'not an SDP: it starts with ""',
        ]);
    });

    /** ErizoJS's offer to a subscriber: sendrecv (ConnectionDescription.cc 331-333), actpass, the SSRCs. */
    const subscribeOffer = [
        "v=0",
        "o=- 0 0 IN IP4 127.0.0.1",
        "s=LicodeMCU",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=candidate:1 1 udp 2130706431 192.0.2.2 30002 typ host",
        "a=ice-ufrag:Cd34",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        `a=fingerprint:sha-256 ${Array(32).fill("CD").join(":")}`,
        "a=setup:actpass",
        "a=mid:0",
        "a=sendrecv",
        "a=rtpmap:111 opus/48000/2",
        `a=ssrc:1234 msid:${offer.label} 0`,
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
        "c=IN IP4 0.0.0.0",
        "a=candidate:1 1 udp 2130706431 192.0.2.2 30002 typ host",
        "a=ice-ufrag:Cd34",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        `a=fingerprint:sha-256 ${Array(32).fill("CD").join(":")}`,
        "a=setup:actpass",
        "a=mid:1",
        "a=sendrecv",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp-fb:96 nack",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        `a=ssrc:5678 msid:${offer.label} 1`,
        "",
    ].join("\r\n");

    it("checks ErizoJS's offer to a subscriber and answers every m-line recvonly with its codecs", () => {
        const checked = checkSubscribeOffer(subscribeOffer, offer.label);
        assert.deepStrictEqual(checked.problems, []);
        const answer = parseSdp(buildSubscribeAnswer(checked.sdp, newClientTransport()));
        assert.deepStrictEqual(
            answer.media.map((m) => [
                m.kind,
                attribute(answer, m, "mid"),
                directionOf(m),
                m.payloadTypes,
            ]),
            [
                ["audio", "0", "recvonly", [111]],
                ["video", "1", "recvonly", [96, 97]],
            ],
        );
        assert.strictEqual(attribute(answer, answer.media[1], "setup"), "active");
        assert.deepStrictEqual(
            answer.media[1].attributes.filter(([n]) => n === "fmtp"),
            [["fmtp", "97 apt=96"]],
        );
    });

    it("refuses an offer that does not send the published stream", () => {
        assert.deepStrictEqual(checkSubscribeOffer(subscribeOffer, "another-label").problems, [
            "audio m-line: no SSRC of stream another-label",
            "video m-line: no SSRC of stream another-label",
        ]);
        const recvonly = subscribeOffer.replace(/a=sendrecv/g, "a=recvonly");
        assert.match(
            checkSubscribeOffer(recvonly, offer.label).problems.join("\n"),
            /recvonly, so nothing is sent/,
        );
    });
});

describe("smoke client: command line", () => {
    it("takes a stack and flags, the key also from the environment", () => {
        const args = parseArgs(
            ["prod", "--timeout", "5", "--expect-ready", "--nuve-url=http://n:3000/"],
            {
                LICODE_SMOKE_SERVICE_KEY: "from-env",
            },
        );
        assert.strictEqual(args.stack, "prod");
        assert.strictEqual(args.timeoutSeconds, 5);
        assert.strictEqual(args.expectReady, true);
        assert.strictEqual(args.nuveUrl, "http://n:3000/");
        assert.strictEqual(args.serviceKey, "from-env");
    });

    it("names the flag and the fix for bad input", () => {
        assert.throws(() => parseArgs(["--nuve-url"], {}), /--nuve-url needs a value/);
        assert.throws(
            () => parseArgs(["--timeout", "soon"], {}),
            /--timeout must be a positive number/,
        );
        assert.throws(
            () => parseArgs(["--service-id", "xyz"], {}),
            /--service-id must be a MongoDB ObjectId/,
        );
        assert.throws(() => parseArgs(["--bogus"], {}), /unknown option --bogus/);
        assert.throws(() => parseArgs(["dev", "prod"], {}), /one stack only/);
    });
});
