// tools/images/oci-pack.js: the OCI archive it writes is the layout `ctr images import` reads (the
// real-node suite imports one and runs it): blobs named by their sha256, the layer's diff_id is the
// digest of the uncompressed tar, the index names the image for containerd, and the same tree packs
// to the same digest. Needs tar and node only.

import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";

const PACK = path.resolve(__dirname, "..", "..", "tools", "images", "oci-pack.js");

function sha256(data: Buffer): string {
    return `sha256:${crypto.createHash("sha256").update(data).digest("hex")}`;
}

function pack(
    rootfs: string,
    config: object,
    out: string,
    ref: string,
    env: NodeJS.ProcessEnv = {},
) {
    const configFile = `${out}.config.json`;
    fs.writeFileSync(configFile, JSON.stringify(config));
    return spawnSync("node", [PACK, rootfs, configFile, out, ref], {
        encoding: "utf8",
        env: { ...process.env, ...env },
    });
}

describe("tools/images/oci-pack.js", function () {
    this.timeout(60_000);
    let work: string;
    let rootfs: string;

    before(function () {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "oci-pack-test-"));
        rootfs = path.join(work, "rootfs");
        fs.mkdirSync(path.join(rootfs, "bin"), { recursive: true });
        fs.mkdirSync(path.join(rootfs, "etc"));
        fs.writeFileSync(path.join(rootfs, "etc", "greeting"), "hello\n");
        fs.writeFileSync(path.join(rootfs, "bin", "tool"), "#!/bin/sh\necho tool\n", {
            mode: 0o755,
        });
        fs.symlinkSync("tool", path.join(rootfs, "bin", "alias"));
    });

    after(function () {
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("writes an OCI layout whose blobs, diff_id and index annotations are consistent", function () {
        const out = path.join(work, "a.tar");
        const runtime = {
            Entrypoint: ["/bin/tool"],
            Env: ["A=1"],
            User: "65534:65534",
            WorkingDir: "/etc",
        };
        const result = pack(rootfs, runtime, out, "localhost/oci-pack-spec:1.0");
        assert.strictEqual(result.status, 0, result.stderr);
        const digest = result.stdout.trim();
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);

        const layout = path.join(work, "a");
        fs.mkdirSync(layout);
        assert.strictEqual(spawnSync("tar", ["-xf", out, "-C", layout]).status, 0);
        assert.deepStrictEqual(
            JSON.parse(fs.readFileSync(path.join(layout, "oci-layout"), "utf8")),
            {
                imageLayoutVersion: "1.0.0",
            },
        );
        const blob = (d: string) => fs.readFileSync(path.join(layout, "blobs", ...d.split(":")));
        // Every blob is named by its own sha256.
        for (const name of fs.readdirSync(path.join(layout, "blobs", "sha256"))) {
            assert.strictEqual(sha256(blob(`sha256:${name}`)), `sha256:${name}`);
        }
        const index = JSON.parse(fs.readFileSync(path.join(layout, "index.json"), "utf8"));
        assert.strictEqual(index.manifests.length, 1);
        const entry = index.manifests[0];
        assert.strictEqual(entry.digest, digest, "the printed digest is the manifest's");
        assert.strictEqual(entry.size, blob(digest).length);
        assert.deepStrictEqual(entry.annotations, {
            "io.containerd.image.name": "localhost/oci-pack-spec:1.0",
            "org.opencontainers.image.ref.name": "1.0",
        });
        const manifest = JSON.parse(blob(digest).toString());
        assert.strictEqual(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
        assert.strictEqual(manifest.config.size, blob(manifest.config.digest).length);
        const config = JSON.parse(blob(manifest.config.digest).toString());
        assert.deepStrictEqual(config.config, runtime);
        assert.strictEqual(config.os, "linux");
        assert.strictEqual(config.architecture, "amd64");
        const [layer] = manifest.layers;
        assert.strictEqual(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
        assert.strictEqual(layer.size, blob(layer.digest).length);
        const tar = zlib.gunzipSync(blob(layer.digest));
        assert.deepStrictEqual(config.rootfs, { type: "layers", diff_ids: [sha256(tar)] });

        // The layer holds the tree, with numeric root ownership and clamped times.
        const tarFile = path.join(work, "layer.tar");
        fs.writeFileSync(tarFile, tar);
        const listing = spawnSync("tar", ["-tvf", tarFile, "--numeric-owner", "--full-time"], {
            encoding: "utf8",
        });
        assert.strictEqual(listing.status, 0, listing.stderr);
        for (const entryName of ["./etc/greeting", "./bin/tool", "./bin/alias -> tool"]) {
            assert.match(
                listing.stdout,
                new RegExp(` ${entryName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"),
            );
        }
        assert.match(listing.stdout, /^-rwxr-xr-x \d+\/\d+ .* 1970-01-01 00:00:00 \.\/bin\/tool$/m);
    });

    it("packs the same tree to the same digest, and a changed file to another", function () {
        const first = pack(
            rootfs,
            { Cmd: ["/bin/tool"] },
            path.join(work, "b1.tar"),
            "localhost/same:1",
        );
        const second = pack(
            rootfs,
            { Cmd: ["/bin/tool"] },
            path.join(work, "b2.tar"),
            "localhost/same:1",
        );
        assert.strictEqual(first.status, 0, first.stderr);
        assert.strictEqual(second.status, 0, second.stderr);
        assert.strictEqual(first.stdout, second.stdout);
        assert.ok(
            fs
                .readFileSync(path.join(work, "b1.tar"))
                .equals(fs.readFileSync(path.join(work, "b2.tar"))),
        );
        fs.writeFileSync(path.join(rootfs, "etc", "greeting"), "changed\n");
        const third = pack(
            rootfs,
            { Cmd: ["/bin/tool"] },
            path.join(work, "b3.tar"),
            "localhost/same:1",
        );
        fs.writeFileSync(path.join(rootfs, "etc", "greeting"), "hello\n");
        assert.strictEqual(third.status, 0, third.stderr);
        assert.notStrictEqual(third.stdout, first.stdout);
    });

    it("refuses a reference without a tag, an unknown config key and a bad SOURCE_DATE_EPOCH", function () {
        const cases: [object, string, NodeJS.ProcessEnv, RegExp][] = [
            [{}, "localhost/no-tag", {}, /must be <name>:<tag>/],
            [{ Entrypiont: ["/x"] }, "localhost/x:1", {}, /unknown image config keys Entrypiont/],
            [
                {},
                "localhost/x:1",
                { SOURCE_DATE_EPOCH: "-1" },
                /SOURCE_DATE_EPOCH must be a non-negative integer/,
            ],
        ];
        for (const [config, ref, env, message] of cases) {
            const result = pack(rootfs, config, path.join(work, "bad.tar"), ref, env);
            assert.strictEqual(
                result.status,
                2,
                `${ref} ${JSON.stringify(config)}: ${result.stderr}`,
            );
            assert.match(result.stderr, message);
            assert.ok(
                !fs.existsSync(path.join(work, "bad.tar")),
                "a refused pack wrote an archive",
            );
        }
    });
});
