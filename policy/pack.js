// The pack's entry point (package.json "main"): runs the pack compiled to JavaScript instead of having
// ts-node type-check and compile it on every start.
//
// The compiled pack is kept in node_modules/.cache/licode-policy-pack/<key>/, where <key> is a hash of every
// TypeScript file of the pack, tsconfig.json, package.json and package-lock.json (so also of the TypeScript
// and type versions). A start whose key has no compiled pack yet compiles it first with the TypeScript
// compiler and this tsconfig.json, type-checking the whole pack as `tsc -p policy/tsconfig.json` does: a type
// error fails the pack's start (and so the preview or update), as ts-node's type-check did. Once compiled,
// a start only hashes the sources (a few milliseconds) and loads JavaScript.
//
//   node policy/pack.js        compiles the pack if needed and prints its directory (npm run setup does this)
//
// The pack must not read files relative to its own sources at run time: it runs from the cache directory.
/* global require, module, process, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain Node.js script, loaded without ts-node */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const PACK_DIR = __dirname;
const CACHE_DIR = path.join(PACK_DIR, "node_modules", ".cache", "licode-policy-pack");
// Compiled packs of earlier sources are removed once they are this old (a running pack may still use one).
const STALE_MS = 24 * 60 * 60 * 1000;

/** Every input of the compilation, as paths relative to the pack, sorted. */
function inputs() {
    const files = ["tsconfig.json", "package.json", "package-lock.json"];
    const walk = (rel) => {
        for (const entry of fs.readdirSync(path.join(PACK_DIR, rel), { withFileTypes: true })) {
            const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
            if (entry.isDirectory()) {
                if (entry.name !== "node_modules" && !entry.name.startsWith(".")) {
                    walk(child);
                }
            } else if (entry.name.endsWith(".ts")) {
                files.push(child);
            }
        }
    };
    walk("");
    return files.sort();
}

function sourceKey() {
    const hash = crypto.createHash("sha256");
    for (const file of inputs()) {
        hash.update(file)
            .update("\0")
            .update(fs.readFileSync(path.join(PACK_DIR, file)))
            .update("\0");
    }
    return hash.digest("hex").slice(0, 20);
}

/** Compiles the pack into a new directory and returns it; throws with the diagnostics on any error. */
function compile(outDir) {
    const ts = require("typescript");
    const formatHost = {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => PACK_DIR,
        getNewLine: () => "\n",
    };
    const fail = (diagnostics) => {
        const error = new Error(
            `the policy pack does not compile:\n${ts.formatDiagnostics(diagnostics, formatHost)}`,
        );
        // Named like ts-node's error for the same case, so the runner prints the diagnostics without a stack.
        error.name = "TSError";
        return error;
    };
    const configErrors = [];
    const parsed = ts.getParsedCommandLineOfConfigFile(
        path.join(PACK_DIR, "tsconfig.json"),
        {},
        {
            ...ts.sys,
            onUnRecoverableConfigFileDiagnostic: (d) => configErrors.push(d),
        },
    );
    if (parsed === undefined || configErrors.length > 0) {
        throw fail(configErrors);
    }
    const program = ts.createProgram({
        rootNames: parsed.fileNames,
        options: {
            ...parsed.options,
            outDir,
            rootDir: PACK_DIR,
            noEmit: false,
            noEmitOnError: true,
            sourceMap: true,
            declaration: false,
        },
        projectReferences: parsed.projectReferences,
    });
    const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
    if (diagnostics.length > 0) {
        throw fail(diagnostics);
    }
    const emitted = program.emit();
    if (emitted.emitSkipped || emitted.diagnostics.length > 0) {
        throw fail(emitted.diagnostics);
    }
}

/** Removes compiled packs of other sources that are older than STALE_MS; best effort. */
function prune(keep) {
    const now = Date.now();
    for (const name of fs.readdirSync(CACHE_DIR)) {
        const dir = path.join(CACHE_DIR, name);
        try {
            if (name !== keep && now - fs.statSync(dir).mtimeMs > STALE_MS) {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        } catch {
            // Another start removed it first.
        }
    }
}

/** The directory holding the compiled pack for the current sources, compiling it if needed. */
function compiledPack() {
    const key = sourceKey();
    const dir = path.join(CACHE_DIR, key);
    if (fs.existsSync(path.join(dir, "index.js"))) {
        return dir;
    }
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    // Compile next to the final place and rename: concurrent starts never see a half-written pack.
    const tmp = fs.mkdtempSync(path.join(CACHE_DIR, `.${key}-`));
    try {
        compile(tmp);
        fs.renameSync(tmp, dir);
    } catch (error) {
        fs.rmSync(tmp, { recursive: true, force: true });
        if (!fs.existsSync(path.join(dir, "index.js"))) {
            throw error;
        }
        // Another start compiled the same sources first.
    }
    prune(key);
    return dir;
}

if (require.main === module) {
    process.stdout.write(`${compiledPack()}\n`);
} else {
    module.exports = require(path.join(compiledPack(), "index.js"));
}
