// The pack runs compiled (policy/pack.js), and that changes nothing the gate relies on: a type error
// in the pack still fails the preview, naming the error, and an edited pack is compiled again rather
// than served from the cache. Runs a copy of the pack (with its own node_modules/.cache) against the
// fixture program, in temporary copies with a temporary backend.

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    ROOT,
    THROWAWAY_PASSPHRASE,
    explain,
    keepsWorkingTreeUnchanged,
    pulumiEnv,
    run,
    tempDir,
} from "./engine";

const FIXTURE = path.join(ROOT, "test", "engine", "fixtures", "missing-limits-and-probes");
const PACK = path.join(ROOT, "policy");

/** A copy of the pack whose node_modules links every installed package, so its cache is its own. */
function copyPack(into: string): string {
    const dir = path.join(into, "pack");
    fs.cpSync(PACK, dir, {
        recursive: true,
        filter: (src) => path.relative(PACK, src).split(path.sep)[0] !== "node_modules",
    });
    fs.mkdirSync(path.join(dir, "node_modules"));
    for (const entry of fs.readdirSync(path.join(PACK, "node_modules"))) {
        if (entry !== ".cache") {
            fs.symlinkSync(
                path.join(PACK, "node_modules", entry),
                path.join(dir, "node_modules", entry),
            );
        }
    }
    return dir;
}

/** `pulumi preview` of the fixture with the pack in `pack`. */
function previewWith(state: string, pack: string) {
    const env = pulumiEnv({
        PULUMI_BACKEND_URL: `file://${state}/state`,
        PULUMI_CONFIG_PASSPHRASE: THROWAWAY_PASSPHRASE,
    });
    delete env.KUBECONFIG;
    const script = [
        "set -e",
        `ws="$(licode_workspace fixture "${FIXTURE}")"`,
        `trap 'rm -rf "$ws"' EXIT`,
        `mkdir -p "${state}/state"`,
        'cd "$ws"',
        "pulumi stack init fixture --no-select --non-interactive >/dev/null 2>&1 || true",
        `pulumi preview --stack fixture --non-interactive --policy-pack "${pack}"`,
    ].join("\n");
    return run("bash", ["-c", `. tools/pulumi-env.sh\n${script}`], { env });
}

describe("engine: the compiled policy pack", function () {
    keepsWorkingTreeUnchanged();

    it("fails the preview on a type error in the pack, naming it", async () => {
        const tmp = tempDir("pack-type-error");
        try {
            const pack = copyPack(tmp.path);
            fs.appendFileSync(
                path.join(pack, "index.ts"),
                'export const notANumber: number = "text";\n',
            );
            const result = await previewWith(tmp.path, pack);
            assert.notStrictEqual(result.status, 0, explain("preview", result));
            assert.match(result.output, /the policy pack does not compile/, explain("", result));
            assert.match(result.output, /index\.ts\(\d+,\d+\): error TS2322/, explain("", result));
            const cache = path.join(pack, "node_modules", ".cache", "licode-policy-pack");
            assert.deepStrictEqual(
                fs.existsSync(cache) ? fs.readdirSync(cache) : [],
                [],
                "a pack that does not compile leaves nothing in the cache",
            );
        } finally {
            tmp.remove();
        }
    });

    it("compiles an edited pack again instead of running the cached one", async () => {
        const tmp = tempDir("pack-edited");
        try {
            const pack = copyPack(tmp.path);
            const first = await previewWith(tmp.path, pack);
            assert.match(first.output, /licode@v\d/, explain("first preview", first));

            const index = path.join(pack, "index.ts");
            const source = fs.readFileSync(index, "utf8");
            assert.match(source, /new PolicyPack\("licode",/);
            fs.writeFileSync(
                index,
                source.replace('new PolicyPack("licode",', 'new PolicyPack("licode-edited",'),
            );
            const second = await previewWith(tmp.path, pack);
            assert.match(
                second.output,
                /licode-edited@v\d/,
                explain("preview after the edit", second),
            );

            const compiled = fs
                .readdirSync(path.join(pack, "node_modules", ".cache", "licode-policy-pack"))
                .filter((name) => !name.startsWith("."));
            assert.strictEqual(compiled.length, 2, `compiled packs: ${compiled.join(", ")}`);
        } finally {
            tmp.remove();
        }
    });
});
