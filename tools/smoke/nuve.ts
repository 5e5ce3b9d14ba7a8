/**
 * Nuve's REST API as the smoke client uses it, each request signed with the service's credentials (mauth.ts).
 * Routes: nuve/nuveAPI/nuve.js 58-82; answers: resource/roomsResource.js 15-84, roomResource.js 25-171,
 * tokensResource.js 140-185.
 */
import { randomInt } from "crypto";
import { ServiceCredentials, mauthHeader } from "./mauth";

/** A room as Nuve returns it. */
export interface NuveRoom {
    readonly _id: string;
    readonly name: string;
    readonly [key: string]: unknown;
}

/** An HTTP answer other than 2xx, with Nuve's own words. */
export class NuveError extends Error {
    constructor(
        readonly status: number,
        readonly body: string,
        what: string,
    ) {
        super(
            `${what}: Nuve answered HTTP ${status}${body === "" ? "" : ` ${JSON.stringify(body.slice(0, 200))}`}`,
        );
    }
}

export class NuveClient {
    private readonly base: string;
    /** Nuve refuses a request older than the service's previous one (nuveAuthenticator.js 14-33). */
    private lastTimestamp = 0;

    constructor(
        url: string,
        private readonly credentials: ServiceCredentials,
        private readonly timeoutMs: number,
    ) {
        let parsed: URL;
        try {
            parsed = new URL(url);
        } catch {
            throw new Error(
                `Nuve URL ${JSON.stringify(url)} is not a URL (e.g. http://nuve.example.com:3000/)`,
            );
        }
        if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
            throw new Error(`Nuve URL ${JSON.stringify(url)} must be http:// or https://`);
        }
        this.base = parsed.href.endsWith("/") ? parsed.href : `${parsed.href}/`;
    }

    /** POST /rooms: creates a room. */
    async createRoom(name: string): Promise<NuveRoom> {
        const text = await this.request("POST", "rooms", "create the room", { name, options: {} });
        const room = JSON.parse(text) as NuveRoom;
        if (typeof room._id !== "string" || room._id === "") {
            throw new Error(
                `create the room: Nuve answered without a room ID: ${text.slice(0, 200)}`,
            );
        }
        return room;
    }

    /** GET /rooms/:room. */
    async getRoom(roomId: string): Promise<NuveRoom> {
        return JSON.parse(
            await this.request("GET", `rooms/${roomId}`, "read the room"),
        ) as NuveRoom;
    }

    /** POST /rooms/:room/tokens: a token for `user` with `role`; the text is the encoded token. */
    createToken(roomId: string, user: string, role: string): Promise<string> {
        return this.request("POST", `rooms/${roomId}/tokens`, "create a token", undefined, {
            name: user,
            role,
        });
    }

    /**
     * A token for a room just created. Nuve answers the room's creation before the room is in its
     * service's record (roomsResource.js 73-78: addRoomToService is not waited for,
     * serviceRegistry.js 72-78), and looks the room up in that record for a token (tokensResource.js
     * 17-20, 149-151: 404 "Room does not exist"), so a token asked for at once can be refused for a
     * moment: asked again until the room is there, for up to `waitMs`. Any other refusal is final.
     */
    async createTokenOnceRegistered(
        roomId: string,
        user: string,
        role: string,
        waitMs: number,
    ): Promise<{ token: string; refusals: number }> {
        const deadline = Date.now() + waitMs;
        for (let refusals = 0; ; refusals++) {
            try {
                return { token: await this.createToken(roomId, user, role), refusals };
            } catch (error) {
                const notYet =
                    error instanceof NuveError &&
                    error.status === 404 &&
                    /Room does not exist/.test(error.body);
                if (!notYet || Date.now() > deadline) {
                    throw error;
                }
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
    }

    /** DELETE /rooms/:room: Nuve deletes it and tells its controller to close it (roomResource.js 143-171). */
    deleteRoom(roomId: string): Promise<string> {
        return this.request("DELETE", `rooms/${roomId}`, "delete the room");
    }

    private async request(
        method: string,
        path: string,
        what: string,
        body?: unknown,
        user?: { readonly name: string; readonly role: string },
    ): Promise<string> {
        const timestamp = Math.max(Date.now(), this.lastTimestamp);
        this.lastTimestamp = timestamp;
        const headers: Record<string, string> = {
            Authorization: mauthHeader(this.credentials, {
                timestamp,
                cnonce: randomInt(0, 99999),
                user,
            }),
        };
        if (body !== undefined) {
            headers["Content-Type"] = "application/json";
        }
        let response: Response;
        try {
            response = await fetch(new URL(path, this.base), {
                method,
                headers,
                body: body === undefined ? undefined : JSON.stringify(body),
                signal: AbortSignal.timeout(this.timeoutMs),
            });
        } catch (error) {
            const cause = (error as { cause?: { message?: string } }).cause?.message;
            throw new Error(
                `${what}: cannot reach Nuve at ${this.base}: ${cause ?? (error as Error).message}`,
                { cause: error },
            );
        }
        const text = await response.text();
        if (!response.ok) {
            throw new NuveError(response.status, text, what);
        }
        return text;
    }
}
