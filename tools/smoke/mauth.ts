/**
 * Nuve's request signature (MAuth), as Licode v10's own REST client writes it and Nuve checks it:
 * nuve/nuveClient/src/N.API.js 96-143 (the header), 180-184 (the signature), 186-201 (user names);
 * nuve/nuveAPI/auth/mauthParser.js 9-32, 54-64 and auth/nuveAuthenticator.js 14-46, 53-95 (the check).
 */
import { createHmac } from "crypto";

/** A Nuve service: the superservice's ID (a MongoDB ObjectId) and key, as the stack stores them. */
export interface ServiceCredentials {
    readonly serviceId: string;
    readonly serviceKey: string;
}

/** What one signed request carries besides the credentials. */
export interface MAuthParams {
    /** Milliseconds since the epoch. Nuve refuses one older than the service's previous request. */
    readonly timestamp: number;
    /** A number that, with the timestamp, makes the request unique (N.API.js 115: 0-99998). */
    readonly cnonce: number;
    /** Token requests name a user and a role (N.API.js 121-131). */
    readonly user?: { readonly name: string; readonly role: string };
}

/**
 * The signature Nuve recomputes (mauthParser.js 54-64): HMAC-SHA1 of the signed string with the service
 * key, as lower-case hex, then that hex text in base64.
 */
export function mauthSignature(signed: string, key: string): string {
    const hex = createHmac("sha1", key).update(signed).digest("hex");
    return Buffer.from(hex).toString("base64");
}

/**
 * A user name as N.API.js 186-201 sends it: lower case, with the accented Latin letters it lists folded.
 * Nuve splits the header at "," and "=" (mauthParser.js 12-18), so a name holding either is refused here.
 */
export function mauthUserName(name: string): string {
    const folds: ReadonlyArray<readonly [string, RegExp]> = [
        ["a", /[àáâãäå]/g],
        ["ae", /æ/g],
        ["c", /ç/g],
        ["e", /[èéêë]/g],
        ["i", /[ìíîï]/g],
        ["n", /ñ/g],
        ["o", /[òóôõö]/g],
        ["oe", /œ/g],
        ["u", /[ùúûűü]/g],
        ["y", /[ýÿ]/g],
    ];
    let folded = name.toLowerCase();
    for (const [plain, accented] of folds) {
        folded = folded.replace(accented, plain);
    }
    if (folded === "" || /[,=]/.test(folded)) {
        throw new Error(
            `user name ${JSON.stringify(name)} must be non-empty and hold no "," or "=" (Nuve splits its header at them)`,
        );
    }
    return folded;
}

/** The `Authorization` header of one request (N.API.js 117-143). */
export function mauthHeader(credentials: ServiceCredentials, params: MAuthParams): string {
    let header = "MAuth realm=http://marte3.dit.upm.es,mauth_signature_method=HMAC_SHA1";
    let signed = `${params.timestamp},${params.cnonce}`;
    if (params.user !== undefined) {
        const name = mauthUserName(params.user.name);
        if (!/^[A-Za-z0-9_-]+$/.test(params.user.role)) {
            throw new Error(`role ${JSON.stringify(params.user.role)} must be a plain word`);
        }
        header += `,mauth_username=${name},mauth_role=${params.user.role}`;
        signed += `,${name},${params.user.role}`;
    }
    header += `,mauth_serviceid=${credentials.serviceId}`;
    header += `,mauth_cnonce=${params.cnonce}`;
    header += `,mauth_timestamp=${params.timestamp}`;
    header += `,mauth_signature=${mauthSignature(signed, credentials.serviceKey)}`;
    return header;
}

/**
 * Reads a header back as Nuve does (mauthParser.js 9-32): each `mauth_<name>=<value>` (and `realm`) by
 * name. Used by the tests to check what Nuve would see.
 */
export function parseMAuthHeader(header: string): Record<string, string> {
    const params: Record<string, string> = {};
    for (const part of header.split(",")) {
        const [name, ...rest] = part.split("=");
        params[name.slice(6)] = rest.map((piece) => (piece === "" ? "=" : piece)).join("");
    }
    return params;
}
