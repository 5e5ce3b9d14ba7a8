/**
 * A client's socket.io connection to an ErizoController, on Licode v10's protocol:
 * - connect with the decoded token's fields as the query (erizoClient/src/Socket.js 37-77), websocket only;
 *   the controller redeems the token with Nuve and answers `connected` (erizoController.js 329-378,
 *   tokenAuthenticator.js 40-88), or fails the handshake with an `error` "token: <reason>" (13-22);
 * - every message goes through ReliableSocket (common/ReliableSocket.js): sent as
 *   `{socketgd: <id>, msg}` and acknowledged with `socketgd_ack {id}`; requests carry a socket.io ack that
 *   the controller answers with its result (models/Client.js 37-56 lists the requests).
 */
import io from "socket.io-client";
import { RoomToken, controllerUrl } from "./token";

/** socket.io-client 2.4.0 (erizo_controller v10 runs socket.io ~2.4.0); typed by @types/socket.io-client. */
type Socket = SocketIOClient.Socket;

/** A message the controller pushed to this client. */
export interface ControllerEvent {
    readonly type: string;
    readonly body: unknown;
}

/** What `connected` carries (erizoController.js 355-366). */
export interface ConnectedInfo {
    readonly id: string;
    readonly clientId: string;
    readonly streams: ReadonlyArray<{ readonly id: number; readonly label?: string }>;
    readonly p2p?: boolean;
}

/** The pushes the smoke client listens to (erizoClient/src/Socket.js 89-118). */
const PUSHED_EVENTS = [
    "connected",
    "onAddStream",
    "onRemoveStream",
    "stream_message_erizo",
    "connection_message_erizo",
    "connection_failed",
    "onBandwidthAlert",
];

export class ControllerConnection {
    private readonly socket: Socket;
    private nextId = 0;
    private lastAcked = -1;
    private readonly events: ControllerEvent[] = [];
    private readonly waiters: Array<() => void> = [];
    private closedReason: string | undefined;

    private constructor(socket: Socket) {
        this.socket = socket;
        for (const type of PUSHED_EVENTS) {
            socket.on(type, (payload: unknown) => this.receive(type, payload));
        }
        socket.on("disconnect", (reason: unknown) => {
            this.closedReason = `disconnected (${String(reason)})`;
            this.wake();
        });
    }

    /**
     * Connects with a token and resolves with the controller's `connected` answer, or rejects with the
     * controller's reason ("token: Invalid host", ...) or the transport's error.
     */
    static async connect(
        token: RoomToken,
        options: { readonly timeoutMs: number; readonly insecureTls?: boolean },
    ): Promise<{ connection: ControllerConnection; connected: ConnectedInfo }> {
        const socket = io(controllerUrl(token), {
            forceNew: true,
            reconnection: false,
            transports: ["websocket"],
            timeout: options.timeoutMs,
            rejectUnauthorized: !(options.insecureTls ?? false),
            query: {
                tokenId: token.tokenId,
                host: token.host,
                secure: String(token.secure),
                signature: token.signature,
                singlePC: "false",
            },
        });
        const connection = new ControllerConnection(socket);
        const failure = new Promise<never>((_, reject) => {
            socket.once("error", (error: unknown) =>
                reject(new Error(`the controller refused: ${String(error)}`)),
            );
            socket.once("connect_error", (error: unknown) =>
                reject(
                    new Error(
                        `cannot reach ${controllerUrl(token)}: ${(error as Error).message ?? error}`,
                    ),
                ),
            );
            socket.once("connect_timeout", () =>
                reject(
                    new Error(
                        `no connection to ${controllerUrl(token)} within ${options.timeoutMs} ms`,
                    ),
                ),
            );
        });
        try {
            const connected = await Promise.race([
                connection.next("connected", () => true, options.timeoutMs),
                failure,
            ]);
            return { connection, connected: connected.body as ConnectedInfo };
        } catch (error) {
            connection.close();
            throw error;
        }
    }

    /** Sends a request and resolves with the arguments of the controller's answer. */
    request(event: string, message: unknown, timeoutMs: number): Promise<unknown[]> {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new Error(`no answer to ${event} within ${timeoutMs} ms`)),
                timeoutMs,
            );
            this.socket.emit(
                event,
                { socketgd: this.nextId++, msg: message },
                (...answer: unknown[]) => {
                    clearTimeout(timer);
                    resolve(answer);
                },
            );
        });
    }

    /** Sends a message that gets no answer (the controller acks it with nothing). */
    send(event: string, message?: unknown): void {
        this.socket.emit(event, { socketgd: this.nextId++, msg: message });
    }

    /**
     * Resolves with the first pushed event of `type` (received before or after the call) that `matches`,
     * removing it from the queue; rejects after `timeoutMs` or when the socket closes first.
     */
    next(
        type: string,
        matches: (body: unknown) => boolean,
        timeoutMs: number,
    ): Promise<ControllerEvent> {
        return new Promise((resolve, reject) => {
            const deadline = setTimeout(() => {
                remove();
                reject(new Error(`no ${type} within ${timeoutMs} ms`));
            }, timeoutMs);
            const check = () => {
                const index = this.events.findIndex((e) => e.type === type && matches(e.body));
                if (index !== -1) {
                    clearTimeout(deadline);
                    remove();
                    resolve(this.events.splice(index, 1)[0]);
                } else if (this.closedReason !== undefined) {
                    clearTimeout(deadline);
                    remove();
                    reject(new Error(`${this.closedReason} before ${type}`));
                }
            };
            const remove = () => {
                const at = this.waiters.indexOf(check);
                if (at !== -1) {
                    this.waiters.splice(at, 1);
                }
            };
            this.waiters.push(check);
            check();
        });
    }

    /** Says goodbye as the browser client does (Socket.js 225-233), then closes the socket. */
    disconnect(): void {
        if (this.socket.connected) {
            this.send("clientDisconnection");
        }
        this.close();
    }

    close(): void {
        this.socket.close();
    }

    private receive(type: string, payload: unknown): void {
        let body = payload;
        if (payload !== null && typeof payload === "object" && "socketgd" in payload) {
            const { socketgd, msg } = payload as { socketgd: number; msg: unknown };
            if (socketgd <= this.lastAcked) {
                return;
            }
            this.lastAcked = socketgd;
            this.socket.emit("socketgd_ack", { id: socketgd });
            body = msg;
        }
        this.events.push({ type, body });
        this.wake();
    }

    private wake(): void {
        for (const waiter of [...this.waiters]) {
            waiter();
        }
    }
}
