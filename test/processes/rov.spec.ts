/**
 * ROV's container, run with bash against a real node process: the start script passes SIGTERM on
 * (node as PID 1 would ignore it), the rendered config is what a `require('../../licode_config')`
 * from ROV's directory loads, and the port it names is the one the probes and the Service use. A
 * stand-in replaces rovMetricsServer.js, reading the config the way it does (lines 15-17, 86).
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { forwardSignalsScript } from "../../components/bash";
import { LICODE } from "../../components/images";
import { log4jsPath, renderLog4js, renderRovConfig } from "../../components/licode-config-file";
import { ROV_METRICS } from "../../components/rov";
import { ended, freePort } from "./real-processes";

/** Stands in for rovMetricsServer.js: loads the config as it does and serves /metrics on its port. */
const FAKE_ROV = `
const fs = require("fs");
const config = require("../../licode_config");
const release = fs.readFileSync("../../RELEASE", "utf8").split("\\n")[0];
require("http").createServer((q, s) => {
    if (q.url !== "${ROV_METRICS.path}") { s.statusCode = 404; return s.end(); }
    s.end(config.rov.statsPrefix + 'release_info{commit="' + release + '"} 1\\n' +
        config.rov.statsPrefix + "stats_period_ms " + config.rov.statsPeriod + "\\n");
}).listen(config.rov.serverPort, "127.0.0.1", () => console.log("listening"));
if (process.env.FAKE_ROV_EXIT) setTimeout(() => process.exit(Number(process.env.FAKE_ROV_EXIT)), 200);
`;

/** An install tree laid out as the image's: <root>/licode_config.js, RELEASE, erizo_controller/ROV/. */
function installTree(port: number): { root: string; workingDir: string } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "licode-rov-"));
    const relative = path.relative(LICODE.installDir, LICODE.rov.workingDir);
    const workingDir = path.join(root, relative);
    fs.mkdirSync(workingDir, { recursive: true });
    fs.writeFileSync(
        path.join(root, path.relative(LICODE.installDir, LICODE.configFile)),
        renderRovConfig({
            rabbitUrl: "amqp://licode:pw@licode-rabbitmq.licode.svc:5672",
            installDir: root,
            statsPeriodMs: 30000,
            serverPort: port,
            statsPrefix: ROV_METRICS.prefix,
        }),
    );
    fs.writeFileSync(log4jsPath(root), renderLog4js("INFO"));
    fs.writeFileSync(path.join(root, "RELEASE"), "f9fca4e0\n2022-05-25 10:00:00+02:00\n");
    fs.writeFileSync(path.join(workingDir, LICODE.rov.script), FAKE_ROV);
    return { root, workingDir };
}

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: urlPath, agent: false }, (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => (body += chunk.toString()));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        }).on("error", reject);
    });
}

/** Starts the container's command (bash, forwarding signals to node on ROV's script). */
async function startRov(
    workingDir: string,
    env: NodeJS.ProcessEnv = {},
): Promise<{ shell: ChildProcess; output: () => string }> {
    const shell = spawn(
        "/bin/bash",
        ["-c", forwardSignalsScript([process.execPath, LICODE.rov.script])],
        // Its own process group, so a test can end bash and node together.
        {
            cwd: workingDir,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
            detached: true,
        },
    );
    let output = "";
    // Resolves once node says it listens, or the shell has ended (a test then sees why).
    await new Promise<void>((resolve) => {
        const onData = (chunk: Buffer) => {
            output += chunk.toString();
            if (output.includes("listening")) {
                resolve();
            }
        };
        shell.stdout?.on("data", onData);
        shell.stderr?.on("data", onData);
        shell.once("exit", () => resolve());
    });
    return { shell, output: () => output };
}

describe("ROV's container (run with bash against a real node)", function () {
    this.timeout(30000);
    const roots: string[] = [];
    const shells: ChildProcess[] = [];
    afterEach(async () => {
        // Killing bash alone would leave node holding this process's pipes open.
        for (const shell of shells.splice(0)) {
            const exit = ended(shell);
            try {
                process.kill(-(shell.pid as number), "SIGKILL");
            } catch {
                // The group is gone already.
            }
            await exit;
        }
        for (const root of roots.splice(0)) {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("loads the rendered config and RELEASE from its working directory and serves /metrics on the configured port", async () => {
        const port = await freePort();
        const { root, workingDir } = installTree(port);
        roots.push(root);
        const rov = await startRov(workingDir);
        shells.push(rov.shell);
        assert.match(rov.output(), /listening/);
        const metrics = await get(port, ROV_METRICS.path);
        assert.strictEqual(metrics.status, 200);
        assert.match(metrics.body, /^licode_release_info\{commit="f9fca4e0"\} 1$/m);
        assert.match(metrics.body, /^licode_stats_period_ms 30000$/m);
    });

    it("passes SIGTERM on to node, which ends at once, and exits with its status", async () => {
        const port = await freePort();
        const { root, workingDir } = installTree(port);
        roots.push(root);
        const rov = await startRov(workingDir);
        shells.push(rov.shell);
        const exit = ended(rov.shell);
        const started = Date.now();
        rov.shell.kill("SIGTERM");
        const status = await exit;
        assert.ok(Date.now() - started < 3000, "node did not stop within 3 s");
        // bash reports node's death by SIGTERM as 128 + 15.
        assert.strictEqual(status, 143);
        await assert.rejects(get(port, ROV_METRICS.path), "nothing listens any more");
    });

    it("exits with node's own status when node exits by itself", async () => {
        const port = await freePort();
        const { root, workingDir } = installTree(port);
        roots.push(root);
        const rov = await startRov(workingDir, { FAKE_ROV_EXIT: "3" });
        shells.push(rov.shell);
        assert.strictEqual(await ended(rov.shell), 3);
    });
});
