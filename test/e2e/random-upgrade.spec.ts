// End to end: a stack deployed with the random provider of an earlier commit, which wrote neither the `id` output
// nor `__meta` (EARLIER_PROVIDER_COMMIT), upgrades to this tree's provider: `pulumi preview --expect-no-changes`,
// an `up` that changes nothing, the same credentials and superservice ID, no pod rolled. A refresh with this tree's
// provider then writes the official plugin's shape (tools/pulumi-build/cmd/pulumi-resource-random/official.go)
// without changing a value, and a preview still shows no change.
//
// The earlier provider is built from that commit's tools/pulumi-build (`git archive`, as case 10 of licode.spec.ts
// takes an earlier program) with tools/pulumi-build/build-random.sh, and installed into a plugin home of the suite's
// own beside the project's kubernetes plugin. The suite brings its own control plane up and down (test/e2e/lib.ts).

import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    KObject,
    ROOT,
    RunResult,
    StackConfig,
    StateResource,
    Suite,
    clusterDown,
    clusterUp,
    createSuite,
    explain,
    exportStack,
    getJson,
    initStack,
    killLeftovers,
    markedProcesses,
    podsByTier,
    policyArgs,
    pulumi,
    readConfig,
    run,
    writeConfig,
} from "./lib";

/** The last commit whose random provider wrote no `id` output and no `__meta` (its sources as of fe28056d). */
const EARLIER_PROVIDER_COMMIT = "108695935797c4af585afc363dccf668d1253e46";
const STACK = "e2e-random-upgrade";
const NS = "licode-e2e-random-upgrade";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const RANDOM_ID = "random:index/randomId:RandomId";

const gitStatus = () =>
    spawnSync("git", ["status", "--porcelain", "--untracked-files=all"], {
        cwd: ROOT,
        encoding: "utf8",
    }).stdout;

/** A version from tools/versions.env. */
function version(key: string): string {
    const line = fs
        .readFileSync(path.join(ROOT, "tools", "versions.env"), "utf8")
        .split("\n")
        .find((l) => l.startsWith(`${key}=`));
    assert.ok(line, `${key} in tools/versions.env`);
    return line.slice(key.length + 1).trim();
}

describe("e2e: a stack deployed with the earlier random provider upgrades to this tree's", function () {
    let suite: Suite;
    /** The same suite, with the earlier provider as plugin `random` in its own plugin home. */
    let earlier: Suite;
    let gitBefore = "";
    let config: StackConfig;

    const must = (what: string, result: RunResult) => {
        assert.strictEqual(result.status, 0, explain(what, result));
        return result;
    };

    function up(s: Suite): Promise<RunResult> {
        writeConfig(s, STACK, config);
        return pulumi(s, [
            "up",
            "--yes",
            "--skip-preview",
            "--non-interactive",
            "--stack",
            STACK,
            ...policyArgs("local"),
        ]);
    }

    function previewNoChanges(s: Suite): Promise<RunResult> {
        writeConfig(s, STACK, config);
        return pulumi(s, [
            "preview",
            "--expect-no-changes",
            "--non-interactive",
            "--stack",
            STACK,
            ...policyArgs("local"),
        ]);
    }

    async function randomResources(): Promise<StateResource[]> {
        const state = await exportStack(suite, STACK, true);
        return (state.resources ?? []).filter((r) => r.type === PASSWORD || r.type === RANDOM_ID);
    }

    /** Each random resource's ID and generated values (secrets as the export shows them with --show-secrets). */
    const values = (resources: StateResource[]) =>
        Object.fromEntries(
            resources.map((r) => [
                r.urn,
                JSON.stringify({
                    id: r.id,
                    result: r.outputs.result,
                    bcryptHash: r.outputs.bcryptHash,
                    hex: r.outputs.hex,
                    b64Url: r.outputs.b64Url,
                }),
            ]),
        );

    const secretData = async () =>
        Object.fromEntries(
            (await getJson(suite, ["secrets", "-n", NS])).items.map((s: KObject) => [
                s.metadata.name,
                JSON.stringify(s.data),
            ]),
        );

    before(async function () {
        gitBefore = gitStatus();
        suite = createSuite();

        // The earlier provider, from that commit's sources.
        const tree = path.join(suite.dir, "earlier-tree");
        fs.mkdirSync(tree);
        const archive = spawnSync("git", [
            "-C",
            ROOT,
            "archive",
            EARLIER_PROVIDER_COMMIT,
            "tools/pulumi-build",
            "tools/versions.env",
        ]);
        assert.strictEqual(archive.status, 0, `git archive: ${archive.stderr}`);
        const untar = spawnSync("tar", ["-x", "-C", tree], { input: archive.stdout });
        assert.strictEqual(untar.status, 0, String(untar.stderr));
        const binary = path.join(suite.dir, "earlier-random", "pulumi-resource-random");
        must(
            "build the earlier random provider",
            await run(
                suite,
                "bash",
                [
                    path.join(ROOT, "tools", "pulumi-build", "build-random.sh"),
                    "--src",
                    path.join(tree, "tools", "pulumi-build"),
                    binary,
                ],
                { env: suite.pulumiEnv },
            ),
        );

        // Its plugin home: the project's kubernetes plugin, and the earlier build as random.
        const projectHome = suite.pulumiEnv.PULUMI_HOME ?? "";
        const home = path.join(suite.dir, "pulumi-home-earlier");
        fs.mkdirSync(path.join(home, "plugins"), { recursive: true });
        const kubernetes = `resource-kubernetes-v${version("KUBERNETES_VERSION")}`;
        // The engine takes only real directories as plugins (not symlinks): a directory with the binary hard-linked
        // (copied across file systems).
        fs.mkdirSync(path.join(home, "plugins", kubernetes));
        const k8sBinary = path.join("plugins", kubernetes, "pulumi-resource-kubernetes");
        try {
            fs.linkSync(path.join(projectHome, k8sBinary), path.join(home, k8sBinary));
        } catch {
            fs.copyFileSync(path.join(projectHome, k8sBinary), path.join(home, k8sBinary));
        }
        earlier = { ...suite, pulumiEnv: { ...suite.pulumiEnv, PULUMI_HOME: home } };
        const randomVersion = version("RANDOM_VERSION");
        must(
            "pulumi plugin install (earlier random)",
            await pulumi(earlier, [
                "plugin",
                "install",
                "resource",
                "random",
                randomVersion,
                "--file",
                binary,
            ]),
        );
        const current = path.join(
            projectHome,
            "plugins",
            `resource-random-v${randomVersion}`,
            "pulumi-resource-random",
        );
        assert.ok(
            !fs.readFileSync(current).equals(fs.readFileSync(binary)),
            `${current} is the earlier build: run npm run setup to install this tree's provider`,
        );

        const cluster = await clusterUp(suite);
        assert.strictEqual(cluster.status, 0, explain("cluster.sh up", cluster));
        fs.copyFileSync(`${ROOT}/Pulumi.local.yaml`, `${suite.workspace}/Pulumi.${STACK}.yaml`);
        await initStack(suite, STACK);
        config = { ...(await readConfig(suite, STACK)), "licode:namespace": NS };
    });

    after(async function () {
        if (suite === undefined) {
            return;
        }
        await killLeftovers(suite);
        const down = await clusterDown(suite);
        const left = markedProcesses(suite.marker);
        if (process.env.LICODE_E2E_KEEP) {
            console.log(`    e2e files kept in ${suite.dir}`);
        } else {
            fs.rmSync(suite.dir, { recursive: true, force: true });
        }
        assert.strictEqual(down.status, 0, explain("cluster.sh down", down));
        assert.deepStrictEqual(left, [], "processes left running");
        assert.strictEqual(gitStatus(), gitBefore, "the suite changed the working tree");
    });

    it("previews no change, ups with no change, keeps every credential; a refresh writes the official shape", async () => {
        must("pulumi up (earlier random provider)", await up(earlier));
        const deployed = await randomResources();
        const types = new Set(deployed.map((r) => r.type));
        assert.ok(
            types.has(PASSWORD) && types.has(RANDOM_ID),
            `the program's generated values (credentials, the superservice key and ID): ${[...types].join(", ")}`,
        );
        for (const r of deployed) {
            assert.ok(
                r.outputs.id === undefined && r.outputs.__meta === undefined,
                `${r.urn}: the earlier provider wrote neither id nor __meta: ${JSON.stringify(Object.keys(r.outputs))}`,
            );
        }
        const valuesBefore = values(deployed);
        const secretsBefore = await secretData();
        const podsBefore = await podsByTier(suite, NS);

        // This tree's provider (the project's plugin home).
        const p = await previewNoChanges(suite);
        assert.strictEqual(
            p.status,
            0,
            explain("preview --expect-no-changes after the upgrade", p),
        );
        must("pulumi up (this tree's random provider)", await up(suite));
        assert.deepStrictEqual(values(await randomResources()), valuesBefore, "the same values");
        assert.deepStrictEqual(await secretData(), secretsBefore, "the same credentials");
        assert.deepStrictEqual(await podsByTier(suite, NS), podsBefore, "no pod rolled");

        // A refresh of the generated values writes the official shape and changes no value.
        must(
            "pulumi refresh (random resources)",
            await pulumi(suite, [
                "refresh",
                "--yes",
                "--skip-preview",
                "--non-interactive",
                "--stack",
                STACK,
                ...deployed.flatMap((r) => ["--target", r.urn]),
            ]),
        );
        const refreshed = await randomResources();
        assert.deepStrictEqual(values(refreshed), valuesBefore, "no value changed on refresh");
        for (const r of refreshed) {
            if (r.type === PASSWORD) {
                assert.strictEqual(r.outputs.id, "none", r.urn);
                assert.strictEqual(r.outputs.__meta, '{"schema_version":"3"}', r.urn);
            } else {
                assert.strictEqual(r.outputs.id, r.id, r.urn);
                assert.strictEqual(r.outputs.__meta, undefined, `${r.urn}: schema version 0`);
            }
        }
        const again = await previewNoChanges(suite);
        assert.strictEqual(
            again.status,
            0,
            explain("preview --expect-no-changes after the refresh", again),
        );
        assert.deepStrictEqual(await secretData(), secretsBefore, "the same credentials");

        must(
            `pulumi destroy ${STACK}`,
            await pulumi(suite, [
                "destroy",
                "--yes",
                "--skip-preview",
                "--non-interactive",
                "--stack",
                STACK,
            ]),
        );
    });
});
