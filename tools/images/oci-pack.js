#!/usr/bin/env node
// Packs a root filesystem directory into an OCI image archive (an OCI image layout in one tar, the
// format `ctr images import` and `skopeo copy oci-archive:` read), without a registry or a daemon.
//
//   node tools/images/oci-pack.js <rootfs-dir> <image-config.json> <out.tar> <name:tag>
//
// <image-config.json> holds the runtime part of the image config (OCI image-spec config.md
// "config" object: Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, Volumes, Labels).
// The layer is one tar of the whole rootfs: names sorted, owners numeric, mtimes clamped to
// SOURCE_DATE_EPOCH (default 0), gzip without a name or time, so the same tree packs to the same
// digest. Prints the manifest digest (sha256:...) on stdout; the image is referenced as
// <name>@<digest> (or <name:tag>@<digest>).
/* global require, process, Buffer */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain Node script, run without ts-node */
"use strict";

const { execFileSync, spawn } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const ALLOWED_CONFIG_KEYS = [
    "Env",
    "Entrypoint",
    "Cmd",
    "WorkingDir",
    "User",
    "ExposedPorts",
    "Volumes",
    "Labels",
    "StopSignal",
];

function fail(message) {
    process.stderr.write(`oci-pack: ${message}\n`);
    process.exit(2);
}

function sha256File(file) {
    const hash = crypto.createHash("sha256");
    const fd = fs.openSync(file, "r");
    const buffer = Buffer.alloc(1 << 20);
    let n;
    while ((n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0)
        hash.update(buffer.subarray(0, n));
    fs.closeSync(fd);
    return hash.digest("hex");
}

/** tar the rootfs into `uncompressed` while gzipping it into `compressed`, so the tree is read once. */
function packLayer(rootfs, uncompressed, compressed, epoch) {
    return new Promise((resolve, reject) => {
        const tar = spawn(
            "tar",
            [
                "--create",
                "--file=-",
                `--directory=${rootfs}`,
                "--sort=name",
                "--numeric-owner",
                "--xattrs",
                "--xattrs-include=security.capability",
                `--mtime=@${epoch}`,
                "--clamp-mtime",
                "--format=posix",
                "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
                ".",
            ],
            { stdio: ["ignore", "pipe", "inherit"] },
        );
        const raw = fs.createWriteStream(uncompressed);
        const gz = zlib.createGzip({ level: 6 });
        const out = fs.createWriteStream(compressed);
        let pending = 2;
        const done = () => (--pending === 0 ? resolve() : undefined);
        raw.on("finish", done).on("error", reject);
        out.on("finish", done).on("error", reject);
        tar.on("error", reject);
        tar.on("exit", (code) =>
            code === 0 ? undefined : reject(new Error(`tar exited with ${code}`)),
        );
        tar.stdout.pipe(raw);
        tar.stdout.pipe(gz).pipe(out);
    });
}

function writeBlob(dir, json) {
    const body = Buffer.from(JSON.stringify(json));
    const digest = crypto.createHash("sha256").update(body).digest("hex");
    fs.writeFileSync(path.join(dir, "blobs", "sha256", digest), body);
    return { digest: `sha256:${digest}`, size: body.length };
}

async function main() {
    const [rootfs, configFile, out, ref] = process.argv.slice(2);
    if (!rootfs || !configFile || !out || !ref)
        fail("usage: oci-pack.js <rootfs-dir> <image-config.json> <out.tar> <name:tag>");
    if (!fs.statSync(rootfs, { throwIfNoEntry: false })?.isDirectory())
        fail(`rootfs '${rootfs}' is not a directory`);
    if (!/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.test(ref)) {
        fail(
            `image reference '${ref}' must be <name>:<tag> in lower case, e.g. localhost/licode:v10`,
        );
    }
    const runtime = JSON.parse(fs.readFileSync(configFile, "utf8"));
    const unknown = Object.keys(runtime).filter((k) => !ALLOWED_CONFIG_KEYS.includes(k));
    if (unknown.length > 0)
        fail(
            `${configFile}: unknown image config keys ${unknown.join(", ")} (allowed: ${ALLOWED_CONFIG_KEYS.join(", ")})`,
        );
    const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? "0");
    if (!Number.isInteger(epoch) || epoch < 0)
        fail(
            `SOURCE_DATE_EPOCH must be a non-negative integer (got '${process.env.SOURCE_DATE_EPOCH}')`,
        );

    const work = fs.mkdtempSync(path.join(path.dirname(path.resolve(out)), ".oci-pack-"));
    try {
        const layout = path.join(work, "layout");
        fs.mkdirSync(path.join(layout, "blobs", "sha256"), { recursive: true });
        const rawLayer = path.join(work, "layer.tar");
        const gzLayer = path.join(work, "layer.tar.gz");
        await packLayer(rootfs, rawLayer, gzLayer, epoch);
        const diffId = `sha256:${sha256File(rawLayer)}`;
        const layerDigest = sha256File(gzLayer);
        const layerSize = fs.statSync(gzLayer).size;
        fs.renameSync(gzLayer, path.join(layout, "blobs", "sha256", layerDigest));
        fs.rmSync(rawLayer);

        const created = new Date(epoch * 1000).toISOString();
        const config = writeBlob(layout, {
            created,
            architecture: "amd64",
            os: "linux",
            config: runtime,
            rootfs: { type: "layers", diff_ids: [diffId] },
            history: [{ created, created_by: `tools/images/oci-pack.js ${ref}` }],
        });
        const manifest = writeBlob(layout, {
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
            layers: [
                {
                    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
                    digest: `sha256:${layerDigest}`,
                    size: layerSize,
                },
            ],
        });
        fs.writeFileSync(
            path.join(layout, "oci-layout"),
            JSON.stringify({ imageLayoutVersion: "1.0.0" }),
        );
        fs.writeFileSync(
            path.join(layout, "index.json"),
            JSON.stringify({
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.index.v1+json",
                manifests: [
                    {
                        mediaType: "application/vnd.oci.image.manifest.v1+json",
                        ...manifest,
                        // containerd names the imported image after this annotation; other tools read the OCI one.
                        annotations: {
                            "io.containerd.image.name": ref,
                            "org.opencontainers.image.ref.name": ref.slice(
                                ref.lastIndexOf(":") + 1,
                            ),
                        },
                    },
                ],
            }),
        );
        const partial = path.join(work, "image.tar");
        execFileSync("tar", [
            "--create",
            `--file=${partial}`,
            `--directory=${layout}`,
            "--sort=name",
            "--numeric-owner",
            "--owner=0",
            "--group=0",
            `--mtime=@${epoch}`,
            "oci-layout",
            "index.json",
            "blobs",
        ]);
        fs.renameSync(partial, out);
        process.stdout.write(`${manifest.digest}\n`);
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
