/** Operators' own Secrets (`existingSecret`): how the config names them and their keys. */
import { z } from "zod";
import { DNS_1123_SUBDOMAIN } from "./common";

/**
 * The Secrets the stack itself makes are autonamed `<name>-<7 hex>`; naming one of them (or the
 * name they start from) as an operator's Secret would tie the stack to an object it replaces.
 */
export const GENERATED_SECRET =
    /^(licode-config|superservice|mongodb-credentials|rabbitmq-credentials|rabbitmq-drain-credentials|rabbitmq-definitions|turn-credentials)(-[0-9a-f]{7,8})?$/;

/** A key inside a Secret; `what` names it in the message. */
export const secretKey = (what: string) =>
    z
        .string()
        .regex(
            /^[-._a-zA-Z0-9]+$/,
            `${what} must be a Secret key: letters, digits, '-', '_' or '.'`,
        );

/** `{ name, <field>Key... }`: an operator's Secret in the stack's namespace, and its keys. */
export const existingSecret = <F extends string>(fields: Record<F, string>) =>
    z.strictObject({
        name: z
            .string()
            .max(253)
            .regex(DNS_1123_SUBDOMAIN, "a Secret name is a DNS-1123 subdomain, e.g. mongodb-root")
            .refine((name) => !GENERATED_SECRET.test(name), {
                message:
                    "this is the name of a Secret the stack generates (and replaces); give your own Secret another name",
            }),
        ...(Object.fromEntries(
            Object.entries(fields).map(([field, key]) => [
                `${field}Key`,
                secretKey(`${field}Key`).default(key as string),
            ]),
        ) as Record<`${F}Key`, z.ZodDefault<z.ZodString>>),
    });

/** An operator's Secret with a username and a password. */
export const userSecret = existingSecret({ username: "username", password: "password" });

/** An operator's Secret and the keys that hold each value. */
export interface ExistingSecretConfig<F extends string> {
    readonly name: string;
    readonly keys: Readonly<Record<F, string>>;
    /** The config key that names it, for messages. */
    readonly configKey: string;
}

/** The resolved form of a username/password `existingSecret`, with the key that named it. */
export function userSecretConfig(
    parsed: z.output<typeof userSecret> | undefined,
    configKey: string,
): ExistingSecretConfig<"username" | "password"> | undefined {
    return parsed === undefined
        ? undefined
        : {
              name: parsed.name,
              keys: { username: parsed.usernameKey, password: parsed.passwordKey },
              configKey,
          };
}
