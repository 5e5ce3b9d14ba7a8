/**
 * Secrets the engine generates once and keeps in state, without a provider plugin: a dynamic
 * resource that draws from Node's crypto. The value is stored encrypted, survives updates, and
 * changes only when its format, length or keepers change.
 */
import * as pulumi from "@pulumi/pulumi";

/** How a generated value is written. */
export type SecretFormat = "alphanumeric" | "hex";

/** Arguments of GeneratedSecret. */
export interface GeneratedSecretArgs {
    /** Characters of the value: letters and digits, or lower-case hex. Required. */
    readonly format: SecretFormat;
    /** Length of the value in characters (hex: even). Required. */
    readonly length: number;
    /** Arbitrary values; changing any of them generates a new value. Defaults to none. */
    readonly keepers?: Record<string, string>;
    /** Whether the value is a secret (an identifier need not be). Defaults to true. */
    readonly secret?: boolean;
}

interface State {
    readonly format: SecretFormat;
    readonly length: number;
    readonly keepers: Record<string, string>;
}

// The provider is serialized into the engine's dynamic-provider host, so it must be self-contained:
// it requires what it needs inside its functions.
export const generatedSecretProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: State) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const crypto = require("crypto");
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let value = "";
        if (inputs.format === "hex") {
            value = crypto
                .randomBytes(Math.ceil(inputs.length / 2))
                .toString("hex")
                .slice(0, inputs.length);
        } else {
            for (let i = 0; i < inputs.length; i++) {
                value += alphabet[crypto.randomInt(alphabet.length)];
            }
        }
        return { id: crypto.randomUUID(), outs: { ...inputs, value } };
    },
    async diff(_id: string, olds: State, news: State) {
        const replaces = ["format", "length", "keepers"].filter(
            (key) =>
                JSON.stringify(olds[key as keyof State]) !==
                JSON.stringify(news[key as keyof State]),
        );
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
    },
};

/** A random value generated once by the engine and kept in the stack's encrypted state. */
export class GeneratedSecret extends pulumi.dynamic.Resource {
    /** The generated value. */
    declare public readonly value: pulumi.Output<string>;

    constructor(name: string, args: GeneratedSecretArgs, opts?: pulumi.CustomResourceOptions) {
        if (args.format === "hex" && args.length % 2 !== 0) {
            throw new Error(
                `GeneratedSecret ${name}: a hex length must be even, got ${args.length}`,
            );
        }
        super(
            generatedSecretProvider,
            name,
            {
                value: undefined,
                format: args.format,
                length: args.length,
                keepers: args.keepers ?? {},
            },
            {
                ...opts,
                additionalSecretOutputs: args.secret === false ? [] : ["value"],
            },
        );
    }
}
