// Usage: node tools/lib/node-modules-fresh.js DIR
// Exit 0 when DIR/node_modules holds exactly what DIR/package-lock.json describes (every locked package at its
// locked version, no top-level package the lock does not list); exit 1 (reason on stderr) otherwise. Used by
// tools/setup.sh to decide whether `npm ci` is needed. Reads only local files.
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain Node script, run without ts-node */
"use strict";
const fs = require("fs");
const path = require("path");

const dir = path.resolve(process.argv[2] || ".");
function stale(reason) {
    process.stderr.write(`[setup] ${path.join(dir, "node_modules")}: ${reason}\n`);
    process.exit(1);
}

let lock;
try {
    lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
} catch (e) {
    stale(`cannot read package-lock.json (${e.message})`);
}
if (!lock.packages) stale("package-lock.json has no `packages` (lockfileVersion >= 2 expected)");
if (!fs.existsSync(path.join(dir, "node_modules"))) stale("missing");

const locked = new Set();
for (const [key, meta] of Object.entries(lock.packages)) {
    if (key === "" || !key.startsWith("node_modules/")) continue;
    locked.add(key);
    if (meta.link) continue;
    let installed;
    try {
        installed = JSON.parse(
            fs.readFileSync(path.join(dir, key, "package.json"), "utf8"),
        ).version;
    } catch {
        if (meta.optional) continue; // e.g. a platform-specific package npm skipped
        stale(`${key.slice("node_modules/".length)} is not installed`);
    }
    // Some packages (e.g. @pulumi/policy) write "v1.2.3" in their package.json.
    if (
        meta.version !== undefined &&
        String(installed).replace(/^v/, "") !== meta.version.replace(/^v/, "")
    ) {
        stale(
            `${key.slice("node_modules/".length)} is ${installed}, the lock says ${meta.version}`,
        );
    }
}

const nm = path.join(dir, "node_modules");
for (const entry of fs.readdirSync(nm)) {
    if (entry.startsWith(".")) continue;
    const names = entry.startsWith("@")
        ? fs.readdirSync(path.join(nm, entry)).map((s) => `${entry}/${s}`)
        : [entry];
    for (const name of names) {
        if (!locked.has(`node_modules/${name}`))
            stale(`${name} is installed but not in package-lock.json`);
    }
}
