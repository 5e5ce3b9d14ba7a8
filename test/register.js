// Mocha's --require for `npm test` (.mocharc.json): ts-node transpile-only, as before, plus one memo of
// its output per file. test/harness runs the program under mocks again for every stack config a test
// needs, dropping the program's modules from require.cache each time; without the memo ts-node
// transpiled index.ts and components/ again on every run (about a third of `npm test`). The memo is
// keyed by the file's current text, so an edited file is transpiled again; the output for the same
// text is the same, so nothing else changes. Types are checked by `npm run typecheck`, not here.
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain Node.js script, run before ts-node */
"use strict";
const fs = require("fs");

require("ts-node").register({ transpileOnly: true });

const transpile = require.extensions[".ts"];
const memo = new Map();
require.extensions[".ts"] = function (module, filename) {
    const source = fs.readFileSync(filename, "utf8");
    const known = memo.get(filename);
    if (known !== undefined && known.source === source) {
        return module._compile(known.output, filename);
    }
    // ts-node's handler hands its output to module._compile: keep it on the way through.
    const compile = module._compile;
    module._compile = function (output, name) {
        memo.set(filename, { source, output });
        return compile.call(this, output, name);
    };
    return transpile(module, filename);
};
