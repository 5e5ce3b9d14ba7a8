/**
 * What the drain specs (test/licode/drain-*.spec.ts) share: the drain under test, Licode clients that join and
 * publish through the smoke client's pieces (tools/smoke/), a stand-in ErizoController that asks for ErizoJS at a
 * steady rate and records who answered, and readers of ROV's and the hook's output.
 *
 * LICODE_DRAIN_IMPL names another copy of the drain to run instead of this tree's (a directory holding hooks.ts,
 * its bash.ts and drain/): the specs then show how that copy fares against the same system.
 */
import * as amqp from "amqp";
import * as fs from "fs";
import * as path from "path";
import io from "socket.io-client";
import { NuveClient, NuveError } from "../../tools/smoke/nuve";
import {
    buildPublishOffer,
    newClientTransport,
    newPublishOffer,
    publishAnswerProblems,
} from "../../tools/smoke/sdp";
import { ControllerConnection } from "../../tools/smoke/signalling";
import { RoomToken, controllerUrl, decodeToken } from "../../tools/smoke/token";
import { LicodeCluster, LicodeProcess, httpGet, waitFor } from "./cluster";

/** The hooks module under test: this tree's, or LICODE_DRAIN_IMPL's. */
const IMPL = process.env.LICODE_DRAIN_IMPL ?? path.resolve(__dirname, "../../components");

/** The drain under test: its script builders and the directory of its helpers. */
export const drainUnderTest: {
    readonly hooks: typeof import("../../components/hooks");
    readonly helpers: string;
    readonly label: string;
} = {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    hooks: require(path.join(IMPL, "hooks")),
    helpers: path.join(IMPL, "drain"),
    label: process.env.LICODE_DRAIN_IMPL === undefined ? "this tree" : IMPL,
};

/** A Nuve client signed with the cluster's superservice. */
export function nuveOf(cluster: LicodeCluster, timeoutMs = 15_000): NuveClient {
    return new NuveClient(
        cluster.nuveUrl,
        { serviceId: cluster.superservice.id, serviceKey: cluster.superservice.key },
        timeoutMs,
    );
}

/**
 * A token for `user` in `roomId`, decoded. Nuve answers a new room before its service lists it
 * (roomsResource.js 73-79 do not wait for addRoomToService), so a 404 right after is retried.
 */
export async function tokenFor(nuve: NuveClient, roomId: string, user: string): Promise<RoomToken> {
    const deadline = Date.now() + 5000;
    for (;;) {
        try {
            return decodeToken(await nuve.createToken(roomId, user, "presenter"));
        } catch (error) {
            if (!(error instanceof NuveError && error.status === 404) || Date.now() > deadline) {
                throw error;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }
}

/** A client in a room. */
export interface Member {
    readonly token: RoomToken;
    /** The controller's port the client reached. */
    readonly port: number;
    close(): Promise<void>;
}

/**
 * Joins a room with a token through a controller at `url` (by default the address the token names; a test whose
 * controllers announce one address reaches each at its own port), and resolves once the controller says
 * `connected` (erizoController.js 351-360).
 */
export async function join(token: RoomToken, url = controllerUrl(token)): Promise<Member> {
    const socket = io(url, {
        forceNew: true,
        reconnection: false,
        transports: ["websocket"],
        query: {
            tokenId: token.tokenId,
            host: token.host,
            secure: String(token.secure),
            signature: token.signature,
            singlePC: "false",
        },
    });
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "connected" from ${url}`)), 15_000);
        socket.once("connected", (payload: { socketgd?: number }) => {
            clearTimeout(timer);
            if (payload?.socketgd !== undefined) {
                socket.emit("socketgd_ack", { id: payload.socketgd });
            }
            resolve();
        });
        socket.once("error", (error: unknown) => {
            clearTimeout(timer);
            reject(new Error(`${url} refused the client: ${String(error)}`));
        });
        socket.once("connect_error", (error: Error) => {
            clearTimeout(timer);
            reject(new Error(`cannot reach ${url}: ${error.message}`));
        });
    });
    return {
        token,
        port: Number(new URL(url).port),
        close: async () => {
            // Says goodbye (Socket.js 225-233) and waits for the controller's acknowledgement
            // (ReliableSocket.js), so the controller frees the seat at once instead of keeping it 30 s.
            if (socket.connected) {
                await new Promise<void>((resolve) => {
                    const timer = setTimeout(resolve, 2000);
                    socket.on("socketgd_ack", (ack: { id?: number }) => {
                        if (ack?.id === 0) {
                            clearTimeout(timer);
                            resolve();
                        }
                    });
                    socket.emit("clientDisconnection", { socketgd: 0, msg: undefined });
                });
            }
            socket.close();
        },
    };
}

/** A publisher: joined, published, its offer answered by ErizoJS (which binds its UDP socket). */
export interface Publisher {
    readonly connection: ControllerConnection;
    readonly streamId: number;
    readonly erizoId: string;
    /** Milliseconds from the publish request to the controller's answer naming an ErizoJS. */
    readonly publishMs: number;
    /** Unpublishes and leaves, as the smoke client does (a bare disconnect keeps the seat 30 s, Channel.js 32). */
    close(): Promise<void>;
}

/** Joins `roomId` as a new client and publishes a stream through it (the smoke session's publish steps). */
export async function publish(nuve: NuveClient, roomId: string, name: string): Promise<Publisher> {
    const token = await tokenFor(nuve, roomId, name);
    const { connection } = await ControllerConnection.connect(token, { timeoutMs: 20_000 });
    const offer = newPublishOffer(newClientTransport());
    const asked = Date.now();
    const answer = await connection.request(
        "publish",
        {
            options: {
                state: "erizo",
                data: false,
                audio: true,
                video: true,
                label: offer.label,
                screen: false,
                attributes: {},
                metadata: { drainTest: name },
                muteStream: { audio: false, video: false },
                encryptTransport: true,
            },
            sdp: undefined,
        },
        20_000,
    );
    const publishMs = Date.now() - asked;
    const [streamId, erizoId, connectionId] = answer as [number, string, string];
    if (typeof erizoId !== "string" || erizoId === "") {
        connection.close();
        throw new Error(`${name}: the controller gave no ErizoJS: ${JSON.stringify(answer)}`);
    }
    const sdp = buildPublishOffer(offer);
    await connection.request(
        "connectionMessage",
        {
            options: {
                connectionId,
                erizoId,
                msg: { type: "offer", sdp },
                browser: "chrome-stable",
            },
            sdp: undefined,
        },
        20_000,
    );
    const reply = await connection.next(
        "connection_message_erizo",
        (body) =>
            (body as { connectionId?: string; evt?: { type?: string } }).connectionId ===
                connectionId && (body as { evt?: { type?: string } }).evt?.type === "answer",
        20_000,
    );
    const problems = publishAnswerProblems(
        sdp,
        (reply.body as { evt: { sdp?: string } }).evt.sdp ?? "",
    );
    if (problems.length > 0) {
        connection.close();
        throw new Error(`${name}: ErizoJS's answer: ${problems.join("; ")}`);
    }
    return {
        connection,
        streamId,
        erizoId,
        publishMs,
        close: async () => {
            await connection.request("unpublish", streamId, 5000).catch(() => undefined);
            connection.disconnect();
        },
    };
}

/** One createErizoJS answer: who answered, and when it came. */
export interface ErizoAnswer {
    readonly corrID: number;
    readonly agentId: string;
    readonly erizoId: string;
    readonly at: number;
}

/**
 * Stands in for a controller asking for ErizoJS (ecCloudHandler.js 94-116): publishes createErizoJS to
 * `rpcExchange` under `ErizoAgent`, with a reply queue of its own, every `everyMs`, and keeps every answer.
 * Two answers to one request are the duplicate delivery the drain must never cause.
 */
export class ErizoRequester {
    readonly answers: ErizoAnswer[] = [];
    readonly asked = new Map<number, number>();
    private timer: NodeJS.Timeout | undefined;
    private corrID = 0;

    private constructor(
        private readonly connection: amqp.Connection,
        private readonly exchange: amqp.Exchange,
        private readonly replyTo: string,
    ) {}

    static async start(cluster: LicodeCluster): Promise<ErizoRequester> {
        const connection = await new Promise<amqp.Connection>((resolve, reject) => {
            const c = amqp.createConnection(
                {
                    host: "127.0.0.1",
                    port: cluster.broker.amqpPort,
                    login: "guest",
                    password: "guest",
                },
                { reconnect: false },
            );
            c.once("ready", () => resolve(c));
            c.once("error", reject);
        });
        const exchange = await new Promise<amqp.Exchange>((resolve) => {
            const e = connection.exchange("rpcExchange", { type: "direct" }, () => resolve(e));
        });
        const requester = await new Promise<ErizoRequester>((resolve) => {
            const queue = connection.queue("", () => {
                queue.bind("rpcExchange", queue.name, () => {
                    const made = new ErizoRequester(connection, exchange, queue.name);
                    queue.subscribe((message) => made.receive(message));
                    resolve(made);
                });
            });
        });
        return requester;
    }

    private receive(message: Record<string, unknown>): void {
        const data = message.data as { agentId?: string; erizoId?: string } | undefined;
        if (data?.agentId !== undefined) {
            this.answers.push({
                corrID: Number(message.corrID),
                agentId: String(data.agentId),
                erizoId: String(data.erizoId),
                at: Date.now(),
            });
        }
    }

    /** Sends one request now. */
    ask(): void {
        this.corrID += 1;
        this.asked.set(this.corrID, Date.now());
        this.exchange.publish("ErizoAgent", {
            method: "createErizoJS",
            args: [undefined],
            corrID: this.corrID,
            replyTo: this.replyTo,
        });
    }

    /** Sends a request every `everyMs` until stop(). */
    every(everyMs: number): void {
        this.stopAsking();
        this.timer = setInterval(() => this.ask(), everyMs);
    }

    stopAsking(): void {
        if (this.timer !== undefined) {
            clearInterval(this.timer);
            this.timer = undefined;
        }
    }

    /** Requests answered more than once. */
    duplicates(): number[] {
        const seen = new Map<number, number>();
        for (const answer of this.answers) {
            seen.set(answer.corrID, (seen.get(answer.corrID) ?? 0) + 1);
        }
        return [...seen].filter(([, n]) => n > 1).map(([corrID]) => corrID);
    }

    /** Answers by agent, among those that came between `from` and `to` (ms since the epoch). */
    byAgent(from = 0, to = Number.MAX_SAFE_INTEGER): Map<string, number> {
        const counts = new Map<string, number>();
        for (const answer of this.answers.filter((a) => a.at >= from && a.at <= to)) {
            counts.set(answer.agentId, (counts.get(answer.agentId) ?? 0) + 1);
        }
        return counts;
    }

    close(): void {
        this.stopAsking();
        this.connection.disconnect();
    }
}

/** The ErizoJS IDs an agent launched (erizoAgent.js 191 logs each). */
export function erizosOf(agent: LicodeProcess): string[] {
    return [...agent.log.matchAll(/launched new ErizoJS, erizoId: ([0-9a-f-]+)/g)].map((m) => m[1]);
}

/**
 * Each agent's ID (erizoAgent.js 130; it prints none): asks for ErizoJS until every agent has answered once, and
 * tells them apart by the ErizoJS each answer names, which the agent's log shows it launched.
 */
export async function agentIds(
    requester: ErizoRequester,
    agents: readonly LicodeProcess[],
): Promise<string[]> {
    const ids = new Map<LicodeProcess, string>();
    const from = Date.now();
    await waitFor(
        "every agent to answer a request",
        async () => {
            requester.ask();
            await new Promise((resolve) => setTimeout(resolve, 50));
            for (const answer of requester.answers.filter((a) => a.at >= from)) {
                const agent = agents.find((a) => erizosOf(a).includes(answer.erizoId));
                if (agent !== undefined) {
                    ids.set(agent, answer.agentId);
                }
            }
            return agents.every((a) => ids.has(a)) ? true : undefined;
        },
        30_000,
        () => agents.map((a) => a.tail(10)).join("\n"),
    );
    return agents.map((a) => ids.get(a)!);
}

/** A metric's value in Prometheus text, or undefined. */
export function metric(text: string, name: string): number | undefined {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(" ")[1]);
}

/** Waits until ROV's /metrics shows each of `expected` (metric name without prefix → value). */
export function rovShows(
    rovPort: number,
    expected: Record<string, number>,
    timeoutMs: number,
    details: () => string,
): Promise<string> {
    let last = "";
    return waitFor(
        `ROV to show ${JSON.stringify(expected)}`,
        async () => {
            last = (await httpGet(rovPort, "/metrics"))?.body ?? "";
            return Object.entries(expected).every(
                ([name, value]) => metric(last, `licode_${name}`) === value,
            )
                ? last
                : undefined;
        },
        timeoutMs,
        () =>
            `${Object.keys(expected)
                .map((name) => `licode_${name} = ${metric(last, `licode_${name}`)}`)
                .join(", ")}\n${details()}`,
    );
}

/** The text of a hook's log file ("" until it exists). */
export function hookLog(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return "";
    }
}
