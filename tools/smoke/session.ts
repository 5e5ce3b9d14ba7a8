/**
 * The smoke session: what a Licode application and two browsers do, step by step, against a deployed stack.
 * A room and tokens from Nuve (signed with the superservice's credentials), a publisher that joins and
 * publishes (its SDP offer answered by ErizoJS), a second client that joins and subscribes (ErizoJS's offer
 * answered), the stream's stats, then everything it made is removed, whatever failed before.
 *
 * The clients run no ICE agent and no DTLS (sdp.ts): against real media servers the connections are never
 * ready, so readiness is only required with `expectReady` (the erizoAPI stand-in reports it without media).
 */
import { ServiceCredentials } from "./mauth";
import { NuveClient, NuveError, NuveRoom } from "./nuve";
import {
    buildPublishOffer,
    buildSubscribeAnswer,
    checkSubscribeOffer,
    newClientTransport,
    newPublishOffer,
    publishAnswerProblems,
} from "./sdp";
import { ConnectedInfo, ControllerConnection } from "./signalling";
import { RoomToken, decodeToken, tokenSignedWith } from "./token";

export interface SmokeOptions {
    readonly nuveUrl: string;
    readonly credentials: ServiceCredentials;
    /** Most milliseconds any one step may take. */
    readonly timeoutMs: number;
    /** Require both connections to be reported ready (only media servers that need no ICE/DTLS do that). */
    readonly expectReady: boolean;
    /** Accept a controller's TLS certificate without checking it (wss:// with a self-signed certificate). */
    readonly insecureTls?: boolean;
    /** Where each step's line goes as it ends. */
    readonly report: (line: string) => void;
    /**
     * Extra checks while both clients are connected, before anything is removed (tests use it); run as a
     * step of its own, only when every step before passed.
     */
    readonly whileConnected?: (session: SmokeResult) => Promise<string>;
}

export type StepStatus = "pass" | "fail" | "skip";

export interface StepResult {
    readonly name: string;
    readonly status: StepStatus;
    readonly detail: string;
    readonly ms: number;
}

/** What the session did, for callers that check more than pass or fail (the tests). */
export interface SmokeResult {
    readonly steps: readonly StepResult[];
    readonly ok: boolean;
    readonly roomId?: string;
    readonly streamId?: number;
    readonly publisherErizoId?: string;
    readonly subscriberClientId?: string;
    readonly stats?: Record<string, unknown>;
}

/** Thrown by a step to fail with a reason. */
class StepFailure extends Error {}

class Steps {
    readonly results: StepResult[] = [];

    constructor(private readonly report: (line: string) => void) {}

    /** Runs a step unless a value it needs is missing; returns its value, or undefined when it failed. */
    async run<T>(
        name: string,
        needs: ReadonlyArray<readonly [string, unknown]>,
        step: () => Promise<{ value: T; detail: string }>,
    ): Promise<T | undefined> {
        const missing = needs.filter(([, value]) => value === undefined).map(([what]) => what);
        if (missing.length > 0) {
            this.record({ name, status: "skip", detail: `needs ${missing.join(", ")}`, ms: 0 });
            return undefined;
        }
        const started = Date.now();
        try {
            const { value, detail } = await step();
            this.record({ name, status: "pass", detail, ms: Date.now() - started });
            return value;
        } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            this.record({ name, status: "fail", detail: message, ms: Date.now() - started });
            return undefined;
        }
    }

    private record(result: StepResult): void {
        this.results.push(result);
        const label = { pass: "PASS", fail: "FAIL", skip: "SKIP" }[result.status];
        const time = result.status === "skip" ? "" : ` (${result.ms} ms)`;
        this.report(`${label} ${result.name}${time}: ${result.detail}`);
    }
}

function fail(reason: string): never {
    throw new StepFailure(reason);
}

/** The arguments the controller answers a request with: `(null, ..., error)` means refused. */
function refusal(answer: readonly unknown[]): string | undefined {
    if (answer[0] === null || answer[0] === undefined || answer[0] === false) {
        const reason = answer.slice(1).find((a) => typeof a === "string");
        return reason ?? `answered ${JSON.stringify(answer)}`;
    }
    return undefined;
}

interface ConnectionMessage {
    readonly connectionId: string;
    readonly info?: unknown;
    readonly evt: { readonly type: string; readonly sdp?: string };
}

function connectionMessage(connectionId: string, type: string) {
    return (body: unknown): boolean => {
        const message = body as ConnectionMessage;
        return message.connectionId === connectionId && message.evt?.type === type;
    };
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
    const steps = new Steps(options.report);
    const timeout = options.timeoutMs;
    const nuve = new NuveClient(options.nuveUrl, options.credentials, timeout);
    const connections: ControllerConnection[] = [];
    let room: NuveRoom | undefined;
    let streamId: number | undefined;
    let publisherErizoId: string | undefined;
    let subscribed: boolean | undefined;
    let subscriberClientId: string | undefined;
    let stats: Record<string, unknown> | undefined;

    const token = async (who: string): Promise<{ value: RoomToken; detail: string }> => {
        const { token: text, refusals } = await nuve.createTokenOnceRegistered(
            room!._id,
            `smoke-${who}`,
            "presenter",
            timeout,
        );
        const decoded = decodeToken(text);
        if (!tokenSignedWith(decoded, options.credentials.serviceKey)) {
            fail(
                `the token for ${decoded.host} is not signed with the superservice key: Nuve's configured ` +
                    "superserviceKey differs from the key in MongoDB, and the controller would refuse it",
            );
        }
        return {
            value: decoded,
            detail:
                `controller ${decoded.host}${decoded.secure ? " (wss)" : ""}` +
                (refusals > 0 ? ` (Nuve knew the new room after ${refusals} refusal(s))` : ""),
        };
    };
    const join = async (
        roomToken: RoomToken,
    ): Promise<{
        value: { connection: ControllerConnection; connected: ConnectedInfo };
        detail: string;
    }> => {
        const joined = await ControllerConnection.connect(roomToken, {
            timeoutMs: timeout,
            insecureTls: options.insecureTls,
        });
        connections.push(joined.connection);
        if (joined.connected.id !== room!._id) {
            fail(`joined room ${joined.connected.id}, not ${room!._id}`);
        }
        return {
            value: joined,
            detail: `client ${joined.connected.clientId} in room ${joined.connected.id}`,
        };
    };

    try {
        room = await steps.run("create room", [], async () => {
            const created = await nuve.createRoom(`smoke-${new Date().toISOString()}`);
            return { value: created, detail: `room ${created._id}` };
        });

        const publisherToken = await steps.run("token for the publisher", [["a room", room]], () =>
            token("publisher"),
        );
        const publisher = await steps.run(
            "publisher joins",
            [["the publisher's token", publisherToken]],
            () => join(publisherToken!),
        );

        const transport = newClientTransport();
        const offer = newPublishOffer(transport);
        const published = await steps.run(
            "publish (ErizoController asks an ErizoAgent for an ErizoJS)",
            [["the publisher's connection", publisher]],
            async () => {
                const answer = await publisher!.connection.request(
                    "publish",
                    {
                        options: {
                            state: "erizo",
                            data: false,
                            audio: true,
                            video: true,
                            label: offer.label,
                            screen: false,
                            attributes: { smoke: true },
                            metadata: { smoke: true },
                            muteStream: { audio: false, video: false },
                            encryptTransport: true,
                        },
                        sdp: undefined,
                    },
                    timeout,
                );
                const refused = refusal(answer);
                if (refused !== undefined) {
                    fail(`the controller refused: ${refused}`);
                }
                const [id, erizoId, connectionId] = answer;
                if (typeof id !== "number") {
                    fail(`the stream ID is ${JSON.stringify(id)}, not a number`);
                }
                if (typeof erizoId !== "string" || erizoId === "") {
                    fail("no ErizoJS ID: the controller got no ErizoJS from an agent");
                }
                if (typeof connectionId !== "string" || connectionId === "") {
                    fail("no connection ID for the offer");
                }
                return {
                    value: { id, erizoId, connectionId },
                    detail: `stream ${id} on ErizoJS ${erizoId}, connection ${connectionId}`,
                };
            },
        );
        streamId = published?.id;
        publisherErizoId = published?.erizoId;

        const offerSdp = buildPublishOffer(offer);
        const publishAnswered = await steps.run(
            "publish offer answered by ErizoJS",
            [["a published stream", published]],
            async () => {
                await publisher!.connection.request(
                    "connectionMessage",
                    {
                        options: {
                            connectionId: published!.connectionId,
                            erizoId: published!.erizoId,
                            msg: { type: "offer", sdp: offerSdp },
                            browser: "chrome-stable",
                        },
                        sdp: undefined,
                    },
                    timeout,
                );
                const answered = connectionMessage(published!.connectionId, "answer");
                const refused = connectionMessage(published!.connectionId, "error");
                const reply = await publisher!.connection.next(
                    "connection_message_erizo",
                    (body) => answered(body) || refused(body),
                    timeout,
                );
                if (refused(reply.body)) {
                    fail("ErizoJS could not process the offer (the controller relayed an error)");
                }
                const answer = (reply.body as ConnectionMessage).evt.sdp ?? "";
                const problems = publishAnswerProblems(offerSdp, answer);
                if (problems.length > 0) {
                    fail(`the answer is not usable: ${problems.join("; ")}`);
                }
                return {
                    value: true,
                    detail: "answer received and checked (m-lines, recvonly, DTLS, ICE, codecs)",
                };
            },
        );

        if (options.expectReady) {
            await steps.run(
                "publish connection ready",
                [["an answered publish", publishAnswered]],
                async () => {
                    await publisher!.connection.next(
                        "connection_message_erizo",
                        connectionMessage(published!.connectionId, "ready"),
                        timeout,
                    );
                    await publisher!.connection.next(
                        "onAddStream",
                        (body) => (body as { id?: number }).id === published!.id,
                        timeout,
                    );
                    return {
                        value: true,
                        detail: "ready, and the room was told of the stream (onAddStream)",
                    };
                },
            );
        }

        const subscriberToken = await steps.run(
            "token for the subscriber",
            [["a room", room]],
            () => token("subscriber"),
        );
        const subscriber = await steps.run(
            "subscriber joins",
            [["the subscriber's token", subscriberToken]],
            async () => {
                const joined = await join(subscriberToken!);
                const listed = joined.value.connected.streams.some((s) => s.id === streamId);
                return {
                    value: joined.value,
                    detail: `${joined.detail}${streamId === undefined ? "" : listed ? ", sees the stream" : ", stream not listed yet"}`,
                };
            },
        );
        subscriberClientId = subscriber?.connected.clientId;

        const subscription = await steps.run(
            "subscribe",
            [
                ["the subscriber's connection", subscriber],
                ["a published stream", published],
            ],
            async () => {
                const answer = await subscriber!.connection.request(
                    "subscribe",
                    {
                        options: {
                            streamId: published!.id,
                            audio: true,
                            video: true,
                            maxVideoBW: 300,
                            data: false,
                            browser: "chrome-stable",
                            metadata: { smoke: true },
                            encryptTransport: true,
                            slideShowMode: false,
                        },
                        sdp: undefined,
                    },
                    timeout,
                );
                const refused = refusal(answer);
                if (refused !== undefined) {
                    fail(`the controller refused: ${refused}`);
                }
                const [, erizoId, connectionId] = answer;
                if (typeof connectionId !== "string" || connectionId === "") {
                    fail("no connection ID for the subscription");
                }
                return {
                    value: { erizoId: String(erizoId), connectionId },
                    detail: `connection ${connectionId} on ErizoJS ${String(erizoId)}`,
                };
            },
        );

        const subscribeOffer = await steps.run(
            "subscribe offer from ErizoJS",
            [["a subscription", subscription]],
            async () => {
                const reply = await subscriber!.connection.next(
                    "connection_message_erizo",
                    connectionMessage(subscription!.connectionId, "offer"),
                    timeout,
                );
                const checked = checkSubscribeOffer(
                    (reply.body as ConnectionMessage).evt.sdp ?? "",
                    offer.label,
                );
                if (checked.problems.length > 0) {
                    fail(`the offer is not usable: ${checked.problems.join("; ")}`);
                }
                return {
                    value: checked.sdp,
                    detail: `offers stream ${offer.label} (audio and video)`,
                };
            },
        );

        subscribed = await steps.run(
            "subscribe answered",
            [["ErizoJS's offer", subscribeOffer]],
            async () => {
                await subscriber!.connection.request(
                    "connectionMessage",
                    {
                        options: {
                            connectionId: subscription!.connectionId,
                            erizoId: subscription!.erizoId,
                            msg: {
                                type: "answer",
                                sdp: buildSubscribeAnswer(subscribeOffer!, newClientTransport()),
                            },
                            browser: "chrome-stable",
                        },
                        sdp: undefined,
                    },
                    timeout,
                );
                if (!options.expectReady) {
                    return {
                        value: true,
                        detail: "answer sent (readiness needs ICE and DTLS: not checked)",
                    };
                }
                await subscriber!.connection.next(
                    "connection_message_erizo",
                    connectionMessage(subscription!.connectionId, "ready"),
                    timeout,
                );
                return {
                    value: true,
                    detail: "answer accepted: the subscribe connection is ready",
                };
            },
        );

        stats = await steps.run(
            "stream stats",
            [
                ["a published stream", published],
                ["a subscription", subscribed],
            ],
            async () => {
                const answer = await publisher!.connection.request(
                    "getStreamStats",
                    published!.id,
                    timeout,
                );
                const result = answer[0];
                if (result === null || typeof result !== "object") {
                    fail(`the controller answered ${JSON.stringify(answer)}`);
                }
                const byNode = result as Record<string, unknown>;
                if (!("publisher" in byNode)) {
                    fail("no stats of the publisher");
                }
                if (subscriberClientId !== undefined && !(subscriberClientId in byNode)) {
                    fail(
                        `no stats of the subscriber ${subscriberClientId}: ErizoJS holds no subscriber`,
                    );
                }
                return { value: byNode, detail: `stats of ${Object.keys(byNode).join(", ")}` };
            },
        );
        const whileConnected = options.whileConnected;
        if (whileConnected !== undefined) {
            const passedSoFar = steps.results.every((step) => step.status === "pass");
            await steps.run(
                "checks while connected",
                [["every step before", passedSoFar ? true : undefined]],
                async () => ({
                    value: true,
                    detail: await whileConnected({
                        steps: steps.results,
                        ok: passedSoFar,
                        roomId: room?._id,
                        streamId,
                        publisherErizoId,
                        subscriberClientId,
                        stats,
                    }),
                }),
            );
        }
    } finally {
        // Removing what was made: each step on its own, so one failure does not keep the rest.
        const subscriberConnection = connections[1];
        const publisherConnection = connections[0];
        if (
            subscribed !== undefined &&
            subscriberConnection !== undefined &&
            streamId !== undefined
        ) {
            await steps.run("unsubscribe", [], async () => {
                const answer = await subscriberConnection.request("unsubscribe", streamId, timeout);
                if (answer[0] !== true) {
                    fail(`the controller answered ${JSON.stringify(answer)}`);
                }
                return { value: true, detail: "done" };
            });
        }
        if (streamId !== undefined && publisherConnection !== undefined) {
            await steps.run("unpublish", [], async () => {
                const answer = await publisherConnection.request("unpublish", streamId, timeout);
                if (answer[0] !== true) {
                    fail(`the controller answered ${JSON.stringify(answer)}`);
                }
                return { value: true, detail: "done" };
            });
        }
        for (const connection of connections) {
            connection.disconnect();
        }
        if (room !== undefined) {
            const roomId = room._id;
            await steps.run("delete room", [], async () => {
                const answer = await nuve.deleteRoom(roomId);
                // Nuve answers before MongoDB has the change (roomResource.js 155-169 do not wait for
                // removeRoom and updateService), so the room is gone a moment later.
                const deadline = Date.now() + timeout;
                for (;;) {
                    try {
                        await nuve.getRoom(roomId);
                    } catch (error) {
                        if (error instanceof NuveError && error.status === 404) {
                            break;
                        }
                        throw error;
                    }
                    if (Date.now() > deadline) {
                        fail(
                            `Nuve answered "${answer}" but still has room ${roomId} after ${timeout} ms`,
                        );
                    }
                    await new Promise((resolve) => setTimeout(resolve, 200));
                }
                return {
                    value: true,
                    detail: `room ${roomId} deleted (Nuve now answers 404 for it)`,
                };
            });
        }
    }

    const ok = steps.results.length > 0 && steps.results.every((step) => step.status === "pass");
    return {
        steps: steps.results,
        ok,
        roomId: room?._id,
        streamId,
        publisherErizoId,
        subscriberClientId,
        stats,
    };
}
