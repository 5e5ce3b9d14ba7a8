// Our own random provider (tools/pulumi-build/cmd/pulumi-resource-random, installed by `npm run setup` as resource
// plugin random v$RANDOM_VERSION) under the real CLI, with @pulumi/random: the fixture
// test/engine/fixtures/random-provider (a RandomPassword and a RandomId with one keeper each) goes through up, a
// no-op up, a keeper change, refresh and `pulumi import`, in a temporary copy with a temporary backend. Then
// tools/build-toolchain.sh's plugin install: only into a plugin home of the project's, never over a random plugin
// it did not build (tools/README.md), run against a fake user home whose ~/.pulumi holds a foreign plugin.

import * as assert from "assert";
import { execFile, spawnSync } from "child_process";
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

        // The official plugin's shape, through the engine (cmd/pulumi-resource-random/official.go).
        assert.strictEqual(password.outputs.id, "none");
        assert.strictEqual(password.outputs.__meta, '{"schema_version":"3"}');
        assert.strictEqual(id.outputs.id, id.id);
        assert.strictEqual(id.outputs.__meta, undefined, "random_id is at schema version 0");
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

/** A value of tools/versions.env. */
function versionOf(key: string): string {
    const line = fs
        .readFileSync(path.join(ROOT, "tools", "versions.env"), "utf8")
        .split("\n")
        .find((l) => l.startsWith(`${key}=`));
    assert.ok(line, `${key} in tools/versions.env`);
    return line.slice(key.length + 1).trim();
}

describe("engine: build-toolchain.sh installs our random plugin only into a plugin home of the project's", function () {
    const version = versionOf("RANDOM_VERSION");
    const plugin = (home: string) =>
        path.join(home, "plugins", `resource-random-v${version}`, "pulumi-resource-random");
    /** Stands in for the official plugin: any binary the toolchain did not build. */
    const FOREIGN = "#!/bin/sh\n# a random plugin this toolchain did not build\nexit 3\n";
    let dir: ReturnType<typeof tempDir> | undefined;
    let base: NodeJS.ProcessEnv = {};
    let projectHome = "";

    after("removes the temporary homes", () => dir?.remove());
    keepsWorkingTreeUnchanged();

    before(function () {
        dir = tempDir("plugin-home");
        const env = pulumiEnv();
        projectHome = env.PULUMI_HOME ?? "";
        assert.ok(projectHome, "tools/pulumi-env.sh sets PULUMI_HOME");
        // The real caches stay in use under a fake HOME (the toolchain is already built: nothing compiles).
        const goEnv = spawnSync("go", ["env", "GOCACHE", "GOMODCACHE", "GOPATH"], {
            encoding: "utf8",
        });
        assert.strictEqual(goEnv.status, 0, goEnv.stderr);
        const [gocache, gomodcache, gopath] = goEnv.stdout.trim().split("\n");
        base = {
            ...env,
            LICODE_CACHE: path.dirname(projectHome),
            GOCACHE: gocache,
            GOMODCACHE: gomodcache,
            GOPATH: gopath,
        };
        delete base.PULUMI_HOME;
    });

    /** A fake user home whose ~/.pulumi holds a foreign random plugin (and one other file). */
    function fakeUserHome(name: string): { home: string; global: string } {
        const home = path.join(dir!.path, name);
        const global = path.join(home, ".pulumi");
        fs.mkdirSync(path.dirname(plugin(global)), { recursive: true });
        fs.writeFileSync(plugin(global), FOREIGN, { mode: 0o755 });
        fs.writeFileSync(path.join(global, "credentials.json"), "{}\n");
        return { home, global };
    }

    /** Every file under dir with its content, to see that nothing changed. */
    function snapshot(root: string): Record<string, string> {
        const files: Record<string, string> = {};
        const walk = (d: string) => {
            for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                const p = path.join(d, e.name);
                if (e.isDirectory()) {
                    walk(p);
                } else {
                    files[path.relative(root, p)] = fs.readFileSync(p, "utf8");
                }
            }
        };
        walk(root);
        return files;
    }

    function toolchain(env: NodeJS.ProcessEnv) {
        return run("bash", [path.join(ROOT, "tools", "build-toolchain.sh")], { env });
    }

    /** The main package a Go binary's build info names (go version -m), "" for none. */
    function goMainPackage(binary: string): string {
        const info = spawnSync("go", ["version", "-m", binary], { encoding: "utf8" });
        return /^\s*path\s+(\S+)/m.exec(info.stdout)?.[1] ?? "";
    }

    it("refuses PULUMI_HOME=~/.pulumi, says how to proceed, and changes nothing there", async () => {
        const { home, global } = fakeUserHome("explicit");
        const before = snapshot(global);
        const result = await toolchain({ ...base, HOME: home, PULUMI_HOME: global });
        assert.notStrictEqual(result.status, 0, explain("build-toolchain.sh", result));
        assert.match(result.output, /is not this project's plugin home/);
        assert.ok(result.output.includes(projectHome), "names the project's plugin home");
        assert.match(result.output, /--no-plugin-install/);
        assert.deepStrictEqual(snapshot(global), before, "~/.pulumi untouched");
    });

    it("with PULUMI_HOME unset, installs into the project's home and leaves ~/.pulumi alone", async () => {
        const { home, global } = fakeUserHome("unset");
        const before = snapshot(global);
        const result = await toolchain({ ...base, HOME: home });
        assert.strictEqual(result.status, 0, explain("build-toolchain.sh", result));
        assert.deepStrictEqual(snapshot(global), before, "~/.pulumi untouched");
        assert.strictEqual(
            goMainPackage(plugin(projectHome)),
            "licode.local/pulumi-build/cmd/pulumi-resource-random",
            "our build in the project's home",
        );
    });

    it("claims an empty home, and there too never replaces a random plugin it did not build", async () => {
        const home = path.join(dir!.path, "empty-home");
        const first = await toolchain({ ...base, PULUMI_HOME: home });
        assert.strictEqual(first.status, 0, explain("build-toolchain.sh (empty home)", first));
        assert.ok(fs.existsSync(path.join(home, ".licode-k8s-plugin-home")), "the home is marked");
        assert.strictEqual(
            goMainPackage(plugin(home)),
            "licode.local/pulumi-build/cmd/pulumi-resource-random",
        );

        fs.rmSync(path.dirname(plugin(home)), { recursive: true });
        fs.mkdirSync(path.dirname(plugin(home)));
        fs.writeFileSync(plugin(home), FOREIGN, { mode: 0o755 });
        const second = await toolchain({ ...base, PULUMI_HOME: home });
        assert.notStrictEqual(
            second.status,
            0,
            explain("build-toolchain.sh (foreign plugin)", second),
        );
        assert.match(second.output, /was not built by this toolchain/);
        assert.match(second.output, /pulumi plugin rm resource random/);
        assert.strictEqual(
            fs.readFileSync(plugin(home), "utf8"),
            FOREIGN,
            "the foreign plugin kept",
        );
    });
});
