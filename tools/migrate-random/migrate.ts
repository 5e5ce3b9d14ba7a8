/**
 * Moves a stack's generated values from the dynamic resource the program used before
 * (`pulumi-nodejs:dynamic:Resource`, components/generated-secret.ts up to commit 84df9ee9) to
 * @pulumi/random resources, keeping every value: MongoDB's root password only applies when its
 * data is first initialised, and the superservice ID is in the kept data, so new values would lock
 * the program out.
 *
 * It rewrites the stack's exported deployment (`pulumi stack export`) and the result is imported
 * back (`pulumi stack import`); tools/migrate-random/migrate.sh runs the three steps. Each secret
 * value moves as the ciphertext it already is, so nothing is decrypted. Each new resource gets
 * exactly the inputs the program now declares, so the next `pulumi up` sees no change, and the
 * outputs the official random plugin writes (every default written out, `id`, `__meta`; see
 * tools/pulumi-build/cmd/pulumi-resource-random/official.go), so that plugin too reads the state as
 * its own, with no state upgrade. The one output it cannot write is RandomPassword's `bcryptHash`
 * (a hash of the password, which stays encrypted here); an absent hash is no change to either
 * provider (tools/pulumi-build/official-random checks the official one).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the checkpoint format is JSON */
import { randomUUID } from "crypto";

/** The @pulumi/random version the program pins, and the default provider's name for it. */
export const RANDOM_VERSION = "4.21.2";
const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const RANDOM_ID = "random:index/randomId:RandomId";

/**
 * RandomPassword's defaults, as the provider's Check writes them out and the official provider
 * stores them (terraform-provider-random resource_password.go 557-751, each `Default`).
 */
const PASSWORD_DEFAULTS = {
    special: true,
    upper: true,
    lower: true,
    number: true,
    numeric: true,
    minUpper: 0,
    minLower: 0,
    minNumeric: 0,
    minSpecial: 0,
};
/** The Terraform schema version of random_password in `__meta` (resource_password.go 557-559). */
const PASSWORD_META = JSON.stringify({ schema_version: "3" });

/** What the program declares for each generated value (components/tier.ts, superservice.ts). */
function target(resource: any): { type: string; inputs: Record<string, unknown> } | undefined {
    const old = resource.outputs ?? resource.inputs ?? {};
    const keepers = old.keepers && Object.keys(old.keepers).length > 0 ? old.keepers : undefined;
    if (old.format === "alphanumeric" && old.length === 32) {
        return {
            type: PASSWORD,
            inputs: { length: 32, special: false, ...(keepers ? { keepers } : {}) },
        };
    }
    if (old.format === "hex" && old.length === 24) {
        return { type: RANDOM_ID, inputs: { byteLength: 12, ...(keepers ? { keepers } : {}) } };
    }
    return undefined;
}

/**
 * RandomId's outputs, from the hex the dynamic resource held (an identifier: not a secret). `id` is
 * the resource ID, base64url of the bytes (random_id has schema version 0: no `__meta`).
 */
function idOutputs(hex: string): Record<string, string> {
    const bytes = Buffer.from(hex, "hex");
    return {
        hex,
        b64Std: bytes.toString("base64"),
        b64Url: bytes.toString("base64url"),
        dec: BigInt(`0x${hex}`).toString(10),
        id: bytes.toString("base64url"),
    };
}

/** What the migration did: each old URN and the new one. */
export interface Migration {
    readonly deployment: any;
    readonly moved: { readonly from: string; readonly to: string }[];
}

/**
 * Rewrites a deployment (the `deployment` member of `pulumi stack export`): every generated value
 * becomes a random resource with the same name and parent, under a default random provider;
 * references to the old URNs follow. Values that are not the program's are left alone.
 */
export function migrateDeployment(deployment: any, stack: string, project = "licode"): Migration {
    const resources: any[] = deployment.resources ?? [];
    const moved: { from: string; to: string }[] = [];
    const renamed = new Map<string, string>();
    const providerUrn = `urn:pulumi:${stack}::${project}::pulumi:providers:random::default_${RANDOM_VERSION.replace(/\./g, "_")}`;
    let provider = resources.find((r) => r.urn === providerUrn);
    const providerId: string = provider?.id ?? randomUUID();

    const out: any[] = [];
    for (const resource of resources) {
        if (resource.type !== DYNAMIC || resource.custom !== true) {
            out.push(resource);
            continue;
        }
        const goal = target(resource);
        if (goal === undefined) {
            out.push(resource);
            continue;
        }
        if (provider === undefined) {
            provider = {
                urn: providerUrn,
                custom: true,
                id: providerId,
                type: "pulumi:providers:random",
                inputs: { version: RANDOM_VERSION },
                outputs: { version: RANDOM_VERSION },
            };
            out.push(provider);
        }
        const urn = resource.urn
            .replace(`$${DYNAMIC}::`, `$${goal.type}::`)
            .replace(`::${DYNAMIC}::`, `::${goal.type}::`);
        renamed.set(resource.urn, urn);
        moved.push({ from: resource.urn, to: urn });
        const value = resource.outputs?.value;
        const outputs =
            goal.type === PASSWORD
                ? {
                      ...PASSWORD_DEFAULTS,
                      ...goal.inputs,
                      result: value,
                      id: "none",
                      __meta: PASSWORD_META,
                  }
                : { ...goal.inputs, ...idOutputs(String(value)) };
        const migrated: any = {
            ...resource,
            urn,
            type: goal.type,
            id: outputs.id,
            inputs: goal.inputs,
            outputs,
            provider: `${providerUrn}::${provider.id}`,
            additionalSecretOutputs: goal.type === PASSWORD ? ["bcryptHash", "result"] : undefined,
        };
        delete migrated.propertyDependencies;
        if (migrated.additionalSecretOutputs === undefined) {
            delete migrated.additionalSecretOutputs;
        }
        out.push(migrated);
    }

    const follow = (urn: string) => renamed.get(urn) ?? urn;
    for (const resource of out) {
        if (Array.isArray(resource.dependencies)) {
            resource.dependencies = resource.dependencies.map(follow);
        }
        if (resource.propertyDependencies) {
            for (const [key, urns] of Object.entries(resource.propertyDependencies)) {
                resource.propertyDependencies[key] = (urns as string[]).map(follow);
            }
        }
        if (typeof resource.parent === "string") {
            resource.parent = follow(resource.parent);
        }
    }
    return { deployment: { ...deployment, resources: out }, moved };
}

/** CLI: reads `pulumi stack export` JSON on stdin, writes the migrated export to stdout. */
if (require.main === module) {
    const stack = process.argv[2];
    if (stack === undefined) {
        console.error("usage: migrate.ts <stack> < export.json > migrated.json");
        process.exit(2);
    }
    const chunks: Buffer[] = [];
    process.stdin.on("data", (c: Buffer) => chunks.push(c));
    process.stdin.on("end", () => {
        const exported = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const { deployment, moved } = migrateDeployment(exported.deployment, stack);
        for (const m of moved) {
            console.error(`[migrate-random] ${m.from}\n                 -> ${m.to}`);
        }
        console.error(
            `[migrate-random] ${moved.length} generated value(s) moved, none regenerated`,
        );
        process.stdout.write(`${JSON.stringify({ ...exported, deployment }, null, 2)}\n`);
    });
}
