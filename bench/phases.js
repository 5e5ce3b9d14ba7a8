// Where the seconds of one pulumi command go, from its engine log:
//
//   pulumi preview|up ... --logflow -v=9 --logtostderr 2>LOG; node bench/phases.js LOG
//
// For each deployment in the log (a preview; an `up` has two, its preview and its update) it prints the
// phases between the engine's own events, in seconds from the first log line:
//   engine start        the CLI's first log line until it launches the pack or asks for the program
//   pack start          launching the policy pack until it answers (node, @pulumi/policy, the pack)
//   pack info           GetAnalyzerInfo and Configure, until the engine asks for the program (Run)
//   program start       Run until the program registers its Stack (node, @pulumi/pulumi, ts-node)
//   program load        until it registers its first provider (loading and transpiling the program,
//                       @pulumi/kubernetes, and running its top level)
//   resources           until the last resource is registered and its step done (the providers' Check
//                       and Diff, with a cluster its server-side dry runs and, in an update, its reads,
//                       and the pack's Remediate and Analyze)
//   end                 until Run returns (AnalyzeStack, outputs, the program's exit)
// and the totals of the analyzer and provider calls. The engine start of a later deployment is measured
// from the end of the one before. Plain Node.js, no dependencies.
/* global require, process, console */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain Node.js script */
"use strict";
const fs = require("fs");

const file = process.argv[2];
if (!file) {
    console.error(
        "usage: node bench/phases.js LOG (from pulumi ... --logflow -v=9 --logtostderr 2>LOG)",
    );
    process.exit(2);
}
const events = [];
for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.startsWith("{")) {
        continue;
    }
    try {
        const entry = JSON.parse(line);
        events.push({ t: Date.parse(entry.time) / 1000 + fractional(entry.time), msg: entry.msg });
    } catch {
        // Not a log entry.
    }
}
// Date.parse keeps milliseconds only; the log has nanoseconds.
function fractional(time) {
    const m = /\.(\d{3})(\d*)Z$/.exec(time);
    return m ? Number(`0.000${m[2]}`) : 0;
}
if (events.length === 0) {
    console.error(`${file}: no JSON log lines (run pulumi with --logflow -v=9 --logtostderr)`);
    process.exit(1);
}
const t0 = events[0].t;
const at = (e) => (e ? (e.t - t0).toFixed(2) : "-");

// Split into deployments at each Run request.
const runs = [];
events.forEach((e, i) => {
    if (/^langhost\[nodejs\]\.Run\(/.test(e.msg) && !/ success| failed/.test(e.msg)) {
        runs.push(i);
    }
});
let from = 0;
for (const [n, runIndex] of runs.entries()) {
    const returned = events.findIndex(
        (e, i) => i > runIndex && /^langhost\[nodejs\]\.Run\(.*\) (success|failed)/.test(e.msg),
    );
    // A run that never returned (the command was killed) ends with the log.
    const end = returned >= 0 ? returned : events.length - 1;
    const slice = events.slice(from, end + 1);
    const find = (re, after = 0) => slice.find((e, i) => i >= after && re.test(e.msg));
    const launch = find(/Launching plugin '.*\(analyzer\)'/);
    const info = find(/^Analyzer\[.*\]\.GetAnalyzerInfo\(\) executing/);
    const run = events[runIndex];
    const stack = slice.find(
        (e) => e.t >= run.t && /RegisterResource received: t=pulumi:pulumi:Stack/.test(e.msg),
    );
    const provider = slice.find(
        (e) => e.t >= run.t && /RegisterResource received: t=pulumi:providers:/.test(e.msg),
    );
    const finished = slice.filter((e) => /RegisterResource operation finished/.test(e.msg)).pop();
    const stop = events[end];
    const startOf = events[from];
    const dryRun = /dryrun=true/.test(run.msg) ? "preview" : "update";
    console.log(`deployment ${n + 1} (${dryRun}), seconds from the first log line`);
    const row = (name, a, b) =>
        console.log(
            `  ${name.padEnd(14)} ${at(a).padStart(6)} -> ${at(b).padStart(6)}  ${a && b ? (b.t - a.t).toFixed(2) : "-"}`,
        );
    row("engine start", startOf, launch ?? run);
    if (launch) {
        row("pack start", launch, info);
        row("pack info", info, run);
    }
    row("program start", run, stack);
    row("program load", stack, provider);
    row("resources", provider, finished);
    row("end", finished, stop);
    // Call totals: each "X executing" paired with the next "X success|failed".
    const totals = {};
    const open = new Map();
    for (const e of slice) {
        const m =
            /^(Analyzer|Provider)\[[^\]]*\]\.(\w+)\((.*?)\):? (executing|success|failed)/.exec(
                e.msg,
            );
        if (!m) {
            continue;
        }
        const key = `${m[1]}.${m[2]}`;
        const id = `${key}(${m[3].split(",")[0]})`;
        if (m[4] === "executing") {
            open.set(id, e.t);
        } else if (open.has(id)) {
            totals[key] = totals[key] ?? { n: 0, s: 0 };
            totals[key].n += 1;
            totals[key].s += e.t - open.get(id);
            open.delete(id);
        }
    }
    const calls = Object.entries(totals)
        .filter(([, v]) => v.s >= 0.01)
        .sort((a, b) => b[1].s - a[1].s)
        .map(([k, v]) => `${k} ${v.n}x ${v.s.toFixed(2)}s`);
    console.log(`  calls: ${calls.join(", ") || "-"}`);
    from = end + 1;
}
console.log(`last log line at ${at(events[events.length - 1])}`);
