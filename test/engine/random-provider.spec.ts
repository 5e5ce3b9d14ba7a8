// Our own random provider (tools/pulumi-build/cmd/pulumi-resource-random, installed by `npm run setup` as resource
// plugin random v$RANDOM_VERSION) under the real CLI, with @pulumi/random: the fixture
// test/engine/fixtures/random-provider (a RandomPassword and a RandomId with one keeper each) goes through up, a
// no-op up, a keeper change, refresh and `pulumi import`, in a temporary copy with a temporary backend.

import * as assert from "assert";
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import {
    ROOT,
    THROWAWAY_PASSPHRASE,
    explain,
    keepsWorkingTreeUnchanged,
    pulumiEnv,
    run,
    tempDir,
} from "./engine";

const FIXTURE = path.join(ROOT, "test", "engine", "fixtures", "random-provider");
const PASSWORD = "random:index/randomPassword:RandomPassword";
const ID = "random:index/randomId:RandomId";
/** The marker pulumi puts on a secret value in the state (and in `stack export`). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

const execFileAsync = promisify(execFile);

interface StateResource {
    urn: string;
    type: string;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** A value from `stack export`: secrets come back as {sig, plaintext} (--show-secrets) or {sig, ciphertext}. */
function reveal(value: unknown): { secret: boolean; value: unknown } {
    if (value !== null && typeof value === "object" && SECRET_SIG in value) {
        const v = value as { plaintext?: string };
        return {
            secret: true,
            value: v.plaintext === undefined ? undefined : JSON.parse(v.plaintext),
        };
    }
    return { secret: false, value };
}

describe("engine: our random provider with @pulumi/random", function () {
    let state: ReturnType<typeof tempDir> | undefined;
    let env: NodeJS.ProcessEnv = {};
    let ws = "";

    // Registered before the git-status check so that it runs first: mocha skips the remaining `after` hooks of a
    // suite once one fails.
    after("removes the workspace and the backend", function () {
        if (ws) {
            fs.rmSync(ws, { recursive: true, force: true });
        }
        state?.remove();
    });
    keepsWorkingTreeUnchanged();

    async function pulumi(...args: string[]) {
        return run("pulumi", [...args, "--non-interactive"], { cwd: ws, env });
    }

    async function ok(...args: string[]) {
        const result = await pulumi(...args);
        assert.strictEqual(result.status, 0, explain(`pulumi ${args.join(" ")}`, result));
        return result;
    }

    /** stdout of a pulumi command that prints JSON. */
    async function json<T>(...args: string[]): Promise<T> {
        const { stdout } = await execFileAsync("pulumi", [...args, "--non-interactive"], {
            cwd: ws,
            env,
            maxBuffer: 64 * 1024 * 1024,
        });
        return JSON.parse(stdout) as T;
    }

    async function resources(): Promise<StateResource[]> {
        const exported = await json<{ deployment: { resources?: StateResource[] } }>(
            "stack",
            "export",
            "--show-secrets",
        );
        return exported.deployment.resources ?? [];
    }

    async function byName(name: string): Promise<StateResource> {
        const r = (await resources()).find((res) => res.urn.endsWith(`::${name}`));
        assert.ok(r, `no resource named ${name} in the state`);
        return r;
    }

    /** A password's result and bcryptHash, revealed. */
    async function revealed(name: string): Promise<{ result: string; bcryptHash: string }> {
        const r = await byName(name);
        return {
            result: reveal(r.outputs?.result).value as string,
            bcryptHash: reveal(r.outputs?.bcryptHash).value as string,
        };
    }

    /** The generated (and echoed) outputs of the random resources, secrets revealed, keyed by URN. */
    async function randomValues(): Promise<Record<string, unknown>> {
        const values: Record<string, unknown> = {};
        for (const r of await resources()) {
            if (r.type.startsWith("random:index/")) {
                values[r.urn] = Object.fromEntries(
                    Object.entries(r.outputs ?? {}).map(([k, v]) => [k, reveal(v).value]),
                );
            }
        }
        return values;
    }

    before(async function () {
        assert.ok(
            fs.existsSync(path.join(ROOT, "node_modules", "@pulumi", "random", "package.json")),
            "@pulumi/random is not installed: it must be a dependency in package.json (then npm ci)",
        );
        state = tempDir("random-provider");
        env = pulumiEnv({
            PULUMI_BACKEND_URL: `file://${state.path}/state`,
            PULUMI_CONFIG_PASSPHRASE: THROWAWAY_PASSPHRASE,
        });
        fs.mkdirSync(path.join(state.path, "state"), { recursive: true });
        // The same temporary-copy helper the scripts use (node_modules linked to the repo's).
        const { stdout } = await execFileAsync(
            "bash",
            ["-c", `. tools/pulumi-env.sh && licode_workspace fixture "${FIXTURE}"`],
            { cwd: ROOT, env },
        );
        ws = stdout.trim();
        assert.ok(ws && fs.existsSync(path.join(ws, "Pulumi.yaml")), `no workspace: ${stdout}`);
        await ok("stack", "init", "test");
        await ok("config", "set", "passwordKeeper", "one");
        await ok("config", "set", "idKeeper", "one");
    });

    it("up creates a RandomPassword and a RandomId with plugin random 4.21.2", async () => {
        await ok("up", "--yes", "--skip-preview");
        const all = await resources();
        const provider = all.find((r) => r.type === "pulumi:providers:random");
        assert.ok(provider, "no default random provider in the state");
        assert.strictEqual(provider.inputs?.version, "4.21.2");
        assert.deepStrictEqual(
            all
                .filter((r) => r.type.startsWith("random:"))
                .map((r) => `${r.type}::${r.urn.split("::").pop()}`)
                .sort(),
            [`${ID}::id`, `${PASSWORD}::password`],
        );
    });

    it("stack export holds random:index resources, the password's result and bcryptHash secret", async () => {
        const exported = await json<{ deployment: { resources: StateResource[] } }>(
            "stack",
            "export",
        );
        const password = exported.deployment.resources.find((r) => r.type === PASSWORD);
        assert.ok(password?.outputs);
        assert.strictEqual(password.id, "none", "the password must not be its ID");
        for (const key of ["result", "bcryptHash"]) {
            const v = password.outputs[key] as Record<string, unknown>;
            assert.ok(v && typeof v.ciphertext === "string", `${key} is not an encrypted secret`);
        }
        const pw = await revealed("password");
        assert.ok(
            !JSON.stringify(exported).includes(pw.result),
            "the password is in the state in plain text",
        );
        assert.strictEqual([...pw.result].length, 20);
        for (const [cls, re] of [
            ["upper", /[A-Z]/g],
            ["lower", /[a-z]/g],
            ["numeric", /[0-9]/g],
            ["special", /[!#%+\-_=]/g],
        ] as const) {
            assert.ok(
                (pw.result.match(re) ?? []).length >= 2,
                `fewer than 2 ${cls} in ${pw.result}`,
            );
        }
        assert.match(pw.result, /^[A-Za-z0-9!#%+\-_=]+$/);
        assert.match(pw.bcryptHash, /^\$2a\$10\$/);

        const id = exported.deployment.resources.find((r) => r.type === ID);
        assert.ok(id?.outputs);
        assert.match(String(id.outputs.hex), /^fx-[0-9a-f]{16}$/);
        assert.strictEqual(id.outputs.b64Url, `fx-${id.id}`);
        assert.strictEqual(reveal(id.outputs.hex).secret, false);
    });

    it("a second up changes nothing", async () => {
        const before = await randomValues();
        await ok("up", "--yes", "--expect-no-changes");
        assert.deepStrictEqual(await randomValues(), before);
    });

    it("changing a keeper replaces exactly that resource", async () => {
        const before = await randomValues();
        await ok("config", "set", "passwordKeeper", "two");
        const preview = await json<{
            steps?: { op: string; urn: string }[];
            changeSummary?: Record<string, number>;
        }>("preview", "--json");
        const changed = (preview.steps ?? []).filter((s) => s.op !== "same");
        assert.deepStrictEqual(
            changed.map((s) => `${s.op} ${s.urn.split("::").pop()}`),
            ["replace password"],
            `preview: ${JSON.stringify(preview.changeSummary)}`,
        );
        await ok("up", "--yes", "--skip-preview");
        const after = await randomValues();
        const passwordUrn = Object.keys(before).find((u) => u.endsWith("::password"))!;
        const idUrn = Object.keys(before).find((u) => u.endsWith("::id"))!;
        assert.deepStrictEqual(after[idUrn], before[idUrn], "the RandomId must be kept");
        const [oldPw, newPw] = [before[passwordUrn], after[passwordUrn]] as Record<
            string,
            unknown
        >[];
        assert.notStrictEqual(newPw.result, oldPw.result, "the password must be regenerated");
        assert.deepStrictEqual(newPw.keepers, { rotation: "two" });
    });

    it("refresh keeps the values", async () => {
        const before = await randomValues();
        await ok("refresh", "--yes", "--skip-preview");
        assert.deepStrictEqual(await randomValues(), before);
        await ok("preview", "--expect-no-changes");
    });

    it("import adopts an existing password; declaring it then changes nothing", async () => {
        const value = `Imp0rted-${crypto.randomBytes(6).toString("hex")}`;
        await ok(
            "import",
            PASSWORD,
            "imported",
            value,
            "--yes",
            "--protect=false",
            "--generate-code=false",
        );
        const imported = await byName("imported");
        assert.strictEqual(imported.type, PASSWORD);
        assert.strictEqual(imported.id, "none");
        assert.strictEqual(imported.inputs?.length, value.length);
        const { result, bcryptHash } = await revealed("imported");
        assert.strictEqual(result, value);
        assert.match(bcryptHash, /^\$2a\$10\$/);
        const exported = JSON.stringify(await json<unknown>("stack", "export"));
        assert.ok(!exported.includes(value), "the imported password is in the state in plain text");

        // The program now declares it with the code an import suggests (just the length): same, value kept.
        await ok("config", "set", "importedLength", String(value.length));
        await ok("up", "--yes", "--expect-no-changes");
        assert.strictEqual((await revealed("imported")).result, value);
    });
});
