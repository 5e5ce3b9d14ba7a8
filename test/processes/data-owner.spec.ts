/** MongoDB's data-owner init container, run as the kubelet would against a real directory. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MONGO } from "../../components/images";
import { dataOwnerCommand, dataOwnerContainer } from "../../components/mongodb";
import { DEFAULT_RESOURCES } from "../../components/config";
import { runBash } from "./real-processes";

describe("MongoDB's data-owner init container (run against a real directory)", function () {
    this.timeout(20000);
    let dir: string;
    beforeEach(() => {
        assert.strictEqual(
            process.getuid?.(),
            0,
            "this test runs the init container's chown as root with only CAP_CHOWN: run it as root",
        );
        // What the kubelet creates for a hostPath volume of type DirectoryOrCreate: root-owned, 0755.
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostpath-"));
        fs.chmodSync(dir, 0o755);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs argv as `uid`, with the init container's capabilities (or none). */
    const as = (uid: number, argv: string[], caps: string[] = []) =>
        runBash(
            [
                "setpriv",
                `--reuid=${uid}`,
                `--regid=${uid}`,
                "--clear-groups",
                `--inh-caps=-all${caps.map((c) => `,+${c}`).join("")}`,
                `--bounding-set=-all${caps.map((c) => `,+${c}`).join("")}`,
                "--no-new-privs",
                "--",
                ...argv,
            ]
                .map((word) => `'${word}'`)
                .join(" "),
        );
    /** The init container's command, pointed at the test directory instead of /data/db. */
    const initCommand = () => [...dataOwnerCommand().slice(0, -1), dir];
    const capabilities = (): string[] => {
        const { capabilities: caps } = dataOwnerContainer(
            { repository: "mongo", tag: "7.0.41", pullPolicy: "IfNotPresent" },
            DEFAULT_RESOURCES.bootstrap,
        ).securityContext as { capabilities: { add: string[] } };
        return caps.add.map((c) => c.toLowerCase());
    };

    it("makes a root-owned directory writable by mongod's UID, with CAP_CHOWN alone", async () => {
        const before = await as(MONGO.uid, ["touch", `${dir}/mongod.lock`]);
        assert.notStrictEqual(before.code, 0, "UID 999 must not be able to write it yet");
        assert.match(before.stderr, /Permission denied/);

        const init = await as(0, initCommand(), capabilities());
        assert.strictEqual(init.code, 0, init.stderr);
        assert.strictEqual(fs.statSync(dir).uid, MONGO.uid);

        const after = await as(MONGO.uid, [
            "bash",
            "-c",
            `mkdir -m 700 ${dir}/journal && touch ${dir}/journal/WiredTigerLog.1`,
        ]);
        assert.strictEqual(after.code, 0, after.stderr);
    });

    it("runs again on a directory mongod already filled, without reading into it", async () => {
        assert.strictEqual((await as(0, initCommand(), capabilities())).code, 0);
        await as(MONGO.uid, ["bash", "-c", `mkdir -m 700 ${dir}/diagnostic.data`]);
        const again = await as(0, initCommand(), capabilities());
        assert.strictEqual(again.code, 0, again.stderr);
    });

    it("needs that capability: without it, root cannot hand the directory over", async () => {
        assert.strictEqual((await as(0, initCommand(), capabilities())).code, 0);
        const without = await as(0, initCommand(), []);
        assert.notStrictEqual(without.code, 0);
        assert.match(without.stderr, /Operation not permitted/);
    });
});
