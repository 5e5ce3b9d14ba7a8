/**
 * Licode's log lines as a node log collector sees them: the log4js configuration the program
 * renders, run by log4js 6.4.0 (the version erizo_controller/package-lock.json 482-485 pins) in
 * the image's time zone, and the Fluent Bit parser and multiline rules of docs/logging/.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { LOG4JS_PATTERN, renderLog4js } from "../../components/licode-config-file";

const DOC = path.resolve(__dirname, "..", "..", "docs", "logging", "fluent-bit.yaml");

interface FluentBitDoc {
    parsers: { name: string; regex: string }[];
    multiline_parsers: { name: string; rules: { state: string; regex: string }[] }[];
}

/** A Fluent Bit rule regex `/.../` as a JavaScript RegExp (Onigmo and JS agree on what we use). */
function ruleRegex(text: string): RegExp {
    const match = /^\/(.*)\/$/.exec(text);
    assert.ok(match, `rule regex ${text} is not /.../`);
    return new RegExp(match[1]);
}

/** Runs log4js with the rendered configuration in a child node, as a Licode tier would. */
function log4jsLines(level: "DEBUG" | "INFO", events: [string, string][], tz: string): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "licode-log4js-"));
    try {
        const configFile = path.join(dir, "log4js_configuration.json");
        fs.writeFileSync(configFile, renderLog4js(level));
        const source = [
            `const log4js = require(${JSON.stringify(require.resolve("log4js"))});`,
            `log4js.configure(${JSON.stringify(configFile)});`,
            `for (const [logger, message] of ${JSON.stringify(events)}) log4js.getLogger(logger).info(message);`,
            "log4js.shutdown(() => {});",
        ].join("\n");
        const run = spawnSync(process.execPath, ["-e", source], {
            env: { ...process.env, TZ: tz },
            encoding: "utf8",
            timeout: 10000,
        });
        assert.strictEqual(run.status, 0, run.stderr);
        return run.stdout.split("\n").filter((line) => line !== "");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Joins lines into events as the multiline rules do: a start line opens an event. */
function joinEvents(lines: readonly string[], start: RegExp): string[] {
    const events: string[] = [];
    for (const line of lines) {
        if (start.test(line) || events.length === 0) {
            events.push(line);
        } else {
            events[events.length - 1] += `\n${line}`;
        }
    }
    return events;
}

describe("Licode's log lines and the Fluent Bit configuration", () => {
    const doc = YAML.parse(fs.readFileSync(DOC, "utf8")) as FluentBitDoc;
    const parser = new RegExp(doc.parsers.find((p) => p.name === "licode")?.regex ?? "^$");
    const rules = doc.multiline_parsers.find((p) => p.name === "multiline_licode")?.rules ?? [];
    const start = ruleRegex(rules.find((r) => r.state === "start_state")?.regex ?? "");
    const cont = ruleRegex(rules.find((r) => r.state === "cont")?.regex ?? "");

    it("log4js writes the time with its UTC offset, so the image's TZ=Europe/Madrid reads right", () => {
        const before = Date.now();
        const [line] = log4jsLines("INFO", [["ErizoController", "started"]], "Europe/Madrid");
        const fields = parser.exec(line)?.groups;
        assert.ok(fields, `the parser does not match ${JSON.stringify(line)}`);
        assert.match(fields.licode_time, /[+-]0[12]:00$/);
        // The offset makes the local time an instant: within seconds of now, in any zone.
        const instant = Date.parse(fields.licode_time);
        assert.ok(Math.abs(instant - before) < 60_000, `${fields.licode_time} is not now`);
        assert.strictEqual(fields.level, "INFO");
        assert.strictEqual(fields.logger, "ErizoController");
        assert.strictEqual(fields.message, "started");
        assert.match(LOG4JS_PATTERN, /ISO8601_WITH_TZ_OFFSET/);
    });

    it("keeps a multi-line message (a stack trace) in one event", () => {
        const message =
            "message: error processing call, error: TypeError: x\n    at a (b.js:1:2)\n    at c (d.js:3:4)";
        const lines = log4jsLines(
            "INFO",
            [
                ["AMQPER", message],
                ["Nuve", "next"],
            ],
            "UTC",
        );
        assert.strictEqual(lines.length, 4);
        assert.ok(start.test(lines[0]) && !start.test(lines[1]) && !start.test(lines[2]));
        assert.ok(cont.test(lines[1]) && !cont.test(lines[3]));
        const events = joinEvents(lines, start);
        assert.strictEqual(events.length, 2);
        const fields = parser.exec(events[0])?.groups;
        assert.ok(fields);
        assert.strictEqual(fields.logger, "AMQPER");
        assert.strictEqual(fields.message, message);
        assert.strictEqual(parser.exec(events[1])?.groups?.message, "next");
    });

    it("reads ErizoJS's lines through its agent, log4js and log4cxx alike", () => {
        // erizoAgent.js 125-128, 156-163: the agent prints each chunk of a worker's output after
        // `[erizo-<id>]`; the worker logs with the same log4js configuration, and its native code
        // with log4cxx (erizoAgent/log4cxx.properties 10: `%d  - %p [%t] %c - %m`, %d ISO 8601).
        const [js] = log4jsLines("INFO", [["ErizoJSController", "message: addPublisher"]], "UTC");
        const agentLine = `[erizo-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab] ${js}`;
        const native =
            "[erizo-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab] 2026-11-28 10:00:00,123  - INFO [0x7f3a2c1f9700] WebRtcConnection - id: 1, message: Started";
        for (const [line, logger, thread] of [
            [agentLine, "ErizoJSController", undefined],
            [native, "WebRtcConnection", "0x7f3a2c1f9700"],
        ] as const) {
            assert.ok(start.test(line), line);
            const fields = parser.exec(line)?.groups;
            assert.ok(fields, `the parser does not match ${line}`);
            assert.strictEqual(fields.erizo, "erizo-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab");
            assert.strictEqual(fields.logger, logger);
            assert.strictEqual(fields.thread, thread);
            assert.strictEqual(fields.level, "INFO");
        }
    });

    it("leaves MongoDB's JSON and RabbitMQ's text lines to their own parsers", () => {
        const mongo =
            '{"t":{"$date":"2026-11-28T10:00:00.000+00:00"},"s":"I","c":"NETWORK","msg":"Waiting for connections"}';
        const rabbit = "2026-11-28 10:00:00.123456+00:00 [info] <0.230.0> Server startup complete";
        assert.strictEqual(parser.exec(mongo), null);
        assert.strictEqual(parser.exec(rabbit), null);
        assert.ok(!start.test(mongo));
    });
});
