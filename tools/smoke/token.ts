/**
 * Licode's room tokens: what Nuve hands out and what a client presents to the ErizoController.
 * nuve/nuveAPI/resource/tokensResource.js 26-40 (the format), 114-135 (the host); the controller's check:
 * erizo_controller/erizoController/tokenAuthenticator.js 24-38; the client's use:
 * erizo_controller/erizoClient/src/Room.js 732-742 and Socket.js 37-77.
 */
import { mauthSignature } from "./mauth";

/** A decoded token. */
export interface RoomToken {
    /** The token's MongoDB ID; the controller redeems (deletes) it once. */
    readonly tokenId: string;
    /** `<host>:<port>` of the ErizoController Nuve chose for the room. */
    readonly host: string;
    /** Whether the client must use wss:// (the controller's `ssl`). */
    readonly secure: boolean;
    /** base64 of the hex HMAC-SHA1 of `<tokenId>,<host>` with Nuve's superservice key. */
    readonly signature: string;
}

/** Decodes Nuve's token text (base64 of a JSON object), refusing anything that is not one. */
export function decodeToken(text: string): RoomToken {
    const trimmed = text.trim();
    if (!/^[A-Za-z0-9+/]+=*$/.test(trimmed)) {
        throw new Error(
            `the token is not base64 (Nuve answered ${JSON.stringify(trimmed.slice(0, 80))})`,
        );
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(Buffer.from(trimmed, "base64").toString("utf8"));
    } catch {
        throw new Error("the token is base64 but not JSON");
    }
    const token = parsed as Partial<Record<keyof RoomToken, unknown>>;
    const problems: string[] = [];
    if (typeof token.tokenId !== "string" || token.tokenId === "") {
        problems.push("tokenId is missing");
    }
    if (typeof token.host !== "string" || !/^[^\s/:]+:\d{1,5}$/.test(token.host)) {
        problems.push(`host ${JSON.stringify(token.host)} is not <address>:<port>`);
    }
    if (typeof token.secure !== "boolean") {
        problems.push("secure is not a boolean");
    }
    if (typeof token.signature !== "string" || token.signature === "") {
        problems.push("signature is missing");
    }
    if (problems.length > 0) {
        throw new Error(`the token is malformed: ${problems.join("; ")}`);
    }
    return token as RoomToken;
}

/** The signature Nuve puts in a token and the controller checks (tokensResource.js 27-29). */
export function tokenSignature(tokenId: string, host: string, key: string): string {
    return mauthSignature(`${tokenId},${host}`, key);
}

/** True when the token was signed with `key`: the controller will accept it (tokenAuthenticator.js 30-38). */
export function tokenSignedWith(token: RoomToken, key: string): boolean {
    return tokenSignature(token.tokenId, token.host, key) === token.signature;
}

/** The controller's socket.io URL for a token (Socket.js 77-79). */
export function controllerUrl(token: RoomToken): string {
    return `${token.secure ? "wss" : "ws"}://${token.host}`;
}
