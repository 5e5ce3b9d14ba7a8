/**
 * A Licode deployment as processes on this machine, for tests: upstream Licode v10's own code from the cached
 * tree (tools/licode/build-tree.sh) on its Node.js 12, a real RabbitMQ (test/broker/broker.ts), a
 * MongoDB-wire stand-in (FerretDB, tools/images/mongodb/build-ferretdb.sh), and the erizoAPI stand-in the tree
 * carries instead of the native media addon (media does not flow; tools/licode/erizo-api-stand-in/).
 *
 *   const cluster = await LicodeCluster.start();
 *   await cluster.startNuve();
 *   const ec = await cluster.startController("ec-1");
 *   await cluster.startAgent("ea-1");
 *   ... ec.waitForLine(/.../), ec.signal("SIGTERM"), cluster.startController("ec-2") ...
 *   await cluster.stop();
 *
 * A tier may also run as its container does (`container: true`): bash as PID 1 of a PID namespace of its own,
 * running node in the background and waiting for it as the image's entrypoint does (initDockerLicode.sh 121-131,
 * 194), so that node's exit ends the "container" and every process in it, as on a node. preStop() then runs a
 * hook script there the way the kubelet does: `bash -c <script>` inside the container while it runs, then the
 * container's stop (SIGTERM to PID 1, SIGKILL at the end of the grace period), and reports how the hook ended.
 *
 * Every tier process gets its own copy of the tree's code (node_modules and the node binary linked, not
 * copied) with its own licode_config.js, rendered by the stack's renderer (components/licode-config-file.ts),
 * so controllers and agents can run side by side with their own ports, and each keeps its output in
 * <dir>/<name>.log. Processes are started as the image's entrypoint starts them (initDockerLicode.sh 112-131:
 * `cd <tier dir>; node <script>` with nvm's node first on PATH). stop() ends every process whose working
 * directory is in the cluster's directory (ErizoJS workers included: the agent starts them detached), then
 * the broker, and removes the directory.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { LICODE } from "../../components/images";
import {
    log4jsPath,
    renderLicodeConfig,
    renderLog4js,
    renderRovConfig,
} from "../../components/licode-config-file";
import { Broker, startBroker } from "../broker/broker";

const ROOT = path.resolve(__dirname, "../..");
const BUILD_TIMEOUT_MS = 40 * 60_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

/** Runs a build script and returns the last line of its stdout (the contract of the cache builders). */
function lastLine(script: string): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            "bash",
            [path.join(ROOT, script)],
            { cwd: ROOT, timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => {
                const line = stdout.trim().split("\n").pop() ?? "";
                if (error || line === "") {
                    reject(
                        new Error(
                            `${script} failed: ${stderr.trim().split("\n").slice(-20).join("\n")}`,
                        ),
                    );
                } else {
                    resolve(line);
                }
            },
        );
    });
}

/** The cached Licode tree (built on first use: several minutes). */
export function licodeTree(): Promise<string> {
    return lastLine("tools/licode/build-tree.sh");
}

/** The cached FerretDB binary. */
export function ferretdbBinary(): Promise<string> {
    return lastLine("tools/images/mongodb/build-ferretdb.sh");
}

/** Free TCP ports on the loopback address, held together while picked so they differ. */
export async function freePorts(count: number): Promise<number[]> {
    const servers = await Promise.all(
        Array.from(
            { length: count },
            () =>
                new Promise<net.Server>((resolve, reject) => {
                    const server = net.createServer();
                    server.once("error", reject);
                    server.listen(0, "127.0.0.1", () => resolve(server));
                }),
        ),
    );
    const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    return ports;
}

/** Polls `check` until it returns a value (not undefined), or fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
    what: string,
    check: () => Promise<T | undefined> | T | undefined,
    timeoutMs: number,
    details: () => string = () => "",
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline) {
            const more = details();
            throw new Error(
                `timed out after ${timeoutMs} ms waiting for ${what}${more === "" ? "" : `\n${more}`}`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/** An HTTP answer (status and body) from a local port, or undefined when nothing answers. */
export function httpGet(
    port: number,
    urlPath: string,
    method = "GET",
): Promise<{ status: number; body: string } | undefined> {
    return new Promise((resolve) => {
        const request = http.request(
            { host: "127.0.0.1", port, path: urlPath, method, agent: false, timeout: 2000 },
            (response) => {
                let body = "";
                response.on("data", (chunk: Buffer) => (body += chunk.toString()));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
            },
        );
        request.on("error", () => resolve(undefined));
        request.on("timeout", () => request.destroy());
        request.end();
    });
}

/** One process of the cluster, with its output kept in a file and in memory. */
export class LicodeProcess {
    private output = "";
    private exitStatus: string | undefined;
    private readonly exited: Promise<string>;

    constructor(
        readonly name: string,
        readonly child: ChildProcess,
        readonly logFile: string,
        /** The process's copy of the tree (its LICODE_DIR), when it runs Licode's code. */
        readonly runDir?: string,
    ) {
        const log = fs.createWriteStream(logFile);
        const collect = (chunk: Buffer) => {
            this.output += chunk.toString();
            log.write(chunk);
        };
        child.stdout?.on("data", collect);
        child.stderr?.on("data", collect);
        this.exited = new Promise((resolve) => {
            child.once("exit", (code, signal) => {
                this.exitStatus = signal === null ? `exit code ${code}` : `signal ${signal}`;
                log.end();
                resolve(this.exitStatus);
            });
        });
    }

    get pid(): number {
        return this.child.pid as number;
    }

    /** Everything the process printed so far. */
    get log(): string {
        return this.output;
    }

    /** How it ended, or undefined while it runs. */
    get ended(): string | undefined {
        return this.exitStatus;
    }

    /** The last lines of its output, for failure messages. */
    tail(lines = 40): string {
        return `--- ${this.name} (${this.logFile}) ---\n${this.output.trimEnd().split("\n").slice(-lines).join("\n")}`;
    }

    /** Waits for a line of output matching `pattern`, counting only those after `from` characters. */
    waitForLine(pattern: RegExp, timeoutMs = START_TIMEOUT_MS, from = 0): Promise<string> {
        return waitFor(
            `${this.name} to print ${pattern}`,
            () => {
                const match = this.output
                    .slice(from)
                    .split("\n")
                    .find((line) => pattern.test(line));
                if (match !== undefined) {
                    return match;
                }
                if (this.exitStatus !== undefined) {
                    throw new Error(
                        `${this.name} ended (${this.exitStatus}) before printing ${pattern}\n${this.tail()}`,
                    );
                }
                return undefined;
            },
            timeoutMs,
            () => this.tail(),
        );
    }

    /** Sends a signal to the process (node itself: the tiers run without the entrypoint's bash). */
    signal(signal: NodeJS.Signals): void {
        if (this.exitStatus === undefined) {
            this.child.kill(signal);
        }
    }

    /** Resolves with how the process ended, or rejects after `timeoutMs`. */
    async waitForExit(timeoutMs = STOP_TIMEOUT_MS): Promise<string> {
        return waitFor(
            `${this.name} to exit`,
            () => this.exitStatus,
            timeoutMs,
            () => this.tail(),
        );
    }

    /** SIGTERM, then SIGKILL if it is still there after `timeoutMs`. */
    async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<string> {
        this.signal("SIGTERM");
        const ended = await Promise.race([
            this.exited,
            new Promise<undefined>((resolve) =>
                setTimeout(() => resolve(undefined), timeoutMs).unref(),
            ),
        ]);
        if (ended !== undefined) {
            return ended;
        }
        this.signal("SIGKILL");
        return this.exited;
    }
}

/** What a tier process may change in the rendered config (per process: each has its own copy). */
export interface TierSettings {
    /** The controller's client port (config.erizoController.port and listen_port). */
    readonly controllerPort?: number;
    /** The agent's ErizoJS UDP range (config.erizo.minport/maxport). */
    readonly mediaPorts?: { readonly min: number; readonly max: number };
    /** config.erizoAgent.maxProcesses / prerunProcesses. */
    readonly maxProcesses?: number;
    readonly prerunProcesses?: number;
    /**
     * The port the controller registers with Nuve and tokens name (config.erizoController.port), when it
     * differs from the one it listens on: two controllers on this one machine can then announce the same
     * static address and port, as controllers on two nodes behind one address do.
     */
    readonly advertisedPort?: number;
    /** config.erizoController.hostname: what tokens name instead of the address. */
    readonly hostname?: string;
    /** config.erizoController.maxErizosUsedByRoom: a room's ErizoJS slots (roomController.js 15-17). */
    readonly maxErizosUsedByRoom?: number;
    /** Run as a container: bash as PID 1 of its own PID namespace (see the header). Needs root. */
    readonly container?: boolean;
}

/** How a preStop hook ended, and what happened to its container after it. */
export interface PreStopRun {
    /** The hook's exit code, or undefined when a signal ended it. */
    readonly code: number | undefined;
    /** The signal that ended the hook (SIGKILL: killed with its container), or undefined. */
    readonly signal: string | undefined;
    /** Milliseconds the hook ran. */
    readonly ms: number;
    /** Milliseconds from the hook's end until the container ended (by itself, or killed at the grace period). */
    readonly stoppedAfterMs: number;
    /** True when the container was still there at the end of the grace period and was killed. */
    readonly killedAtGracePeriod: boolean;
}

export interface ClusterOptions {
    /** The log level of every tier (log4js). Defaults to INFO, which the waits below rely on. */
    readonly logLevel?: "DEBUG" | "INFO";
}

export class LicodeCluster {
    private readonly processes = new Map<string, LicodeProcess>();
    private stopped = false;

    private constructor(
        readonly dir: string,
        readonly tree: string,
        readonly broker: Broker,
        private readonly mongo: LicodeProcess,
        readonly mongoPort: number,
        readonly nuvePort: number,
        readonly superservice: { readonly id: string; readonly key: string },
        private readonly logLevel: "DEBUG" | "INFO",
    ) {}

    /** The node of the tree (the image's, LICODE.nodeBinary) and its directory, first on PATH as `nvm use` does. */
    get nodeBinDir(): string {
        return path.join(
            this.tree,
            path.relative(LICODE.installDir, path.dirname(LICODE.nodeBinary)),
        );
    }

    get rabbitUrl(): string {
        return `amqp://guest:guest@127.0.0.1:${this.broker.amqpPort}`;
    }

    get mongoUrl(): string {
        return `mongodb://127.0.0.1:${this.mongoPort}/nuvedb`;
    }

    get nuveUrl(): string {
        return `http://127.0.0.1:${this.nuvePort}/`;
    }

    /**
     * Builds or reuses the tree and FerretDB, starts RabbitMQ and FerretDB, and writes the superservice to
     * nuvedb.services as the stack's bootstrap Job does (components/superservice.ts BOOTSTRAP_SCRIPT: an upsert
     * by _id of {name: "superService", key}, with rooms: [] on insert).
     */
    static async start(options: ClusterOptions = {}): Promise<LicodeCluster> {
        const [tree, ferretdb] = await Promise.all([licodeTree(), ferretdbBinary()]);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "licode-cluster-"));
        let broker: Broker | undefined;
        let mongo: LicodeProcess | undefined;
        try {
            broker = await startBroker();
            const [mongoPort, nuvePort] = await freePorts(2);
            fs.mkdirSync(path.join(dir, "ferretdb"));
            const child = spawn(
                ferretdb,
                [
                    "--handler=sqlite",
                    `--sqlite-url=file:${path.join(dir, "ferretdb")}/`,
                    `--listen-addr=127.0.0.1:${mongoPort}`,
                    "--telemetry=disable",
                    "--log-level=warn",
                ],
                { cwd: dir, stdio: ["ignore", "pipe", "pipe"], detached: true },
            );
            mongo = new LicodeProcess("ferretdb", child, path.join(dir, "ferretdb.log"));
            const mongoProcess = mongo;
            await waitFor(
                `FerretDB on port ${mongoPort}`,
                () =>
                    mongoProcess.ended === undefined
                        ? new Promise<true | undefined>((resolve) => {
                              const socket = net.connect(mongoPort, "127.0.0.1");
                              socket.once("connect", () => {
                                  socket.destroy();
                                  resolve(true);
                              });
                              socket.once("error", () => resolve(undefined));
                          })
                        : Promise.reject(
                              new Error(
                                  `FerretDB ended (${mongoProcess.ended})\n${mongoProcess.tail()}`,
                              ),
                          ),
                START_TIMEOUT_MS,
            );
            const superservice = { id: randomHex(12), key: randomHex(16) };
            const cluster = new LicodeCluster(
                dir,
                tree,
                broker,
                mongo,
                mongoPort,
                nuvePort,
                superservice,
                options.logLevel ?? "INFO",
            );
            await cluster.upsertSuperservice();
            return cluster;
        } catch (error) {
            mongo?.signal("SIGKILL");
            await broker?.stop();
            fs.rmSync(dir, { recursive: true, force: true });
            throw error;
        }
    }

    /** Runs a script with the tree's node (Node.js 12) in `cwd`, resolving with its stdout. */
    runNode(script: string, args: readonly string[], cwd: string): Promise<string> {
        return new Promise((resolve, reject) => {
            execFile(
                path.join(this.nodeBinDir, "node"),
                ["-e", script, ...args],
                { cwd, timeout: START_TIMEOUT_MS, env: this.env() },
                (error, stdout, stderr) =>
                    error ? reject(new Error(`${stderr}${error.message}`)) : resolve(stdout),
            );
        });
    }

    /** The upsert of components/superservice.ts, with Nuve's own MongoDB driver (mongosh is not here). */
    private async upsertSuperservice(): Promise<void> {
        const script = `
const { MongoClient, ObjectId } = require("./nuve/node_modules/mongodb");
const [url, id, key] = process.argv.slice(1);
MongoClient.connect(url, { useUnifiedTopology: true }).then(async (client) => {
    const result = await client.db("nuvedb").collection("services").updateOne(
        { _id: new ObjectId(id) },
        { $set: { name: "superService", key }, $setOnInsert: { rooms: [] } },
        { upsert: true });
    console.log(result.upsertedCount === 1 ? "superservice created" : "superservice up to date");
    await client.close();
}).catch((error) => { console.error(error); process.exit(1); });`;
        const out = await this.runNode(
            script,
            [this.mongoUrl, this.superservice.id, this.superservice.key],
            this.tree,
        );
        if (!/superservice (created|up to date)/.test(out)) {
            throw new Error(`the superservice upsert printed ${JSON.stringify(out)}`);
        }
    }

    /** The environment of every tier: nvm's node first on PATH, nothing of the test runner's node. */
    env(): NodeJS.ProcessEnv {
        const env: NodeJS.ProcessEnv = {};
        for (const [key, value] of Object.entries(process.env)) {
            if (!key.startsWith("npm_") && key !== "NODE_OPTIONS" && !key.startsWith("TS_NODE")) {
                env[key] = value;
            }
        }
        env.PATH = `${this.nodeBinDir}${path.delimiter}${process.env.PATH ?? ""}`;
        return env;
    }

    /**
     * A private copy of the tree's code for one process: everything but node_modules directories and build/
     * (linked to the read-only tree), plus its own licode_config.js and log4js configuration.
     */
    private runTree(name: string, config: string): string {
        const run = path.join(this.dir, name);
        fs.mkdirSync(run);
        const linked: string[] = [];
        const copy = (from: string, to: string) => {
            for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
                const source = path.join(from, entry.name);
                const target = path.join(to, entry.name);
                if (
                    entry.isDirectory() &&
                    (entry.name === "node_modules" ||
                        (from === this.tree && entry.name === "build"))
                ) {
                    fs.symlinkSync(source, target);
                    linked.push(target);
                } else if (entry.isDirectory()) {
                    fs.mkdirSync(target);
                    copy(source, target);
                } else if (entry.isSymbolicLink()) {
                    fs.symlinkSync(fs.readlinkSync(source), target);
                } else {
                    fs.copyFileSync(source, target);
                    fs.chmodSync(target, fs.statSync(source).mode | 0o200);
                }
            }
        };
        copy(this.tree, run);
        fs.writeFileSync(
            path.join(run, path.relative(LICODE.installDir, LICODE.configFile)),
            config,
        );
        fs.writeFileSync(log4jsPath(run), renderLog4js(this.logLevel));
        return run;
    }

    /** licode_config.js for one tier process, rendered as the stack renders it, plus the test's ports. */
    private licodeConfig(run: string, settings: TierSettings): string {
        const media = settings.mediaPorts ?? { min: 0, max: 0 };
        const parsed = parseStackConfig({
            networkPolicy: { enabled: false },
            logLevel: this.logLevel,
            // The clients of the tests are on this machine: the controller and ErizoJS announce loopback.
            publicAddress: { from: "static", ip: "127.0.0.1" },
            iceServers: [],
            erizoController: { port: settings.controllerPort ?? 8080 },
            erizoAgent: {
                maxProcesses: settings.maxProcesses ?? 1,
                prerunProcesses: settings.prerunProcesses ?? 1,
            },
            media: media.min > 0 ? { portRange: media } : {},
        });
        const rendered = renderLicodeConfig(parsed, {
            rabbitUrl: this.rabbitUrl,
            mongoUrl: this.mongoUrl,
            superserviceId: this.superservice.id,
            superserviceKey: this.superservice.key,
            installDir: run,
        });
        // Appended as the image's entrypoint appends its per-pod values (initDockerLicode.sh 169-185):
        // Nuve's port is fixed at 3000 in the rendered file, and 0/0 lets ErizoJS take any UDP port.
        const extra: string[] = [];
        if (settings.advertisedPort !== undefined) {
            extra.push(`config.erizoController.port = ${settings.advertisedPort};`);
        }
        if (settings.hostname !== undefined) {
            extra.push(`config.erizoController.hostname = ${JSON.stringify(settings.hostname)};`);
        }
        if (settings.maxErizosUsedByRoom !== undefined) {
            extra.push(
                `config.erizoController.maxErizosUsedByRoom = ${settings.maxErizosUsedByRoom};`,
            );
        }
        return [
            rendered,
            ...extra,
            `config.nuve.port = ${this.nuvePort};`,
            `config.nuve.testErizoController = "127.0.0.1:${settings.controllerPort ?? 8080}";`,
            media.min > 0 ? "" : "config.erizo.minport = 0;\nconfig.erizo.maxport = 0;",
            "",
        ].join("\n");
    }

    private startTier(
        name: string,
        tierDir: string,
        script: string,
        settings: TierSettings,
        configText?: (run: string) => string,
    ): LicodeProcess {
        if (this.stopped) {
            throw new Error("the cluster is stopped");
        }
        if (this.processes.has(name)) {
            throw new Error(`a process named ${name} exists already`);
        }
        const run = path.join(this.dir, name);
        const runDir = this.runTree(
            name,
            configText ? configText(run) : this.licodeConfig(run, settings),
        );
        const cwd = path.join(runDir, tierDir);
        const child = settings.container
            ? // PID 1 is bash, node its background child, as initDockerLicode.sh 121-131 and 194 run it.
              spawn(
                  "unshare",
                  [
                      "--pid",
                      "--fork",
                      "--mount-proc",
                      "--kill-child",
                      "bash",
                      "-c",
                      // The script's name reaches bash through the environment, so that only node's command
                      // line carries it, as in the image (PID 1 runs initDockerLicode.sh).
                      'node "$LICODE_TIER_SCRIPT" &\nwait',
                  ],
                  {
                      cwd,
                      env: { ...this.env(), LICODE_TIER_SCRIPT: script },
                      stdio: ["ignore", "pipe", "pipe"],
                      detached: true,
                  },
              )
            : spawn("node", [script], {
                  cwd,
                  env: this.env(),
                  stdio: ["ignore", "pipe", "pipe"],
                  detached: true,
              });
        const tier = new LicodeProcess(name, child, path.join(this.dir, `${name}.log`), runDir);
        this.processes.set(name, tier);
        return tier;
    }

    /** Nuve (initDockerLicode.sh 112-117), ready once its RPC queue is open and it answers HTTP. */
    async startNuve(name = "nuve"): Promise<LicodeProcess> {
        const nuve = this.startTier(name, "nuve/nuveAPI", "nuve.js", {});
        await nuve.waitForLine(/queue open, queueName: nuveQueue/);
        await waitFor(
            `Nuve's OPTIONS answer on port ${this.nuvePort}`,
            async () =>
                (await httpGet(this.nuvePort, "/", "OPTIONS"))?.status === 200 ? true : undefined,
            START_TIMEOUT_MS,
            () => nuve.tail(),
        );
        return nuve;
    }

    /** An ErizoController (initDockerLicode.sh 118-124), ready once registered with Nuve and listening. */
    async startController(
        name = "erizo-controller",
        settings: TierSettings = {},
    ): Promise<LicodeProcess> {
        const port = settings.controllerPort ?? (await freePorts(1))[0];
        const controller = this.startTier(
            name,
            "erizo_controller/erizoController",
            "erizoController.js",
            {
                ...settings,
                controllerPort: port,
            },
        );
        await controller.waitForLine(/succesfully added to cloudHandler/);
        await waitFor(
            `${name} listening on port ${port}`,
            () =>
                new Promise<true | undefined>((resolve) => {
                    const socket = net.connect(port, "127.0.0.1");
                    socket.once("connect", () => {
                        socket.destroy();
                        resolve(true);
                    });
                    socket.once("error", () => resolve(undefined));
                }),
            START_TIMEOUT_MS,
            () => controller.tail(),
        );
        return controller;
    }

    /** An ErizoAgent (initDockerLicode.sh 125-131), ready once its first ErizoJS has started. */
    async startAgent(name = "erizo-agent", settings: TierSettings = {}): Promise<LicodeProcess> {
        const agent = this.startTier(
            name,
            "erizo_controller/erizoAgent",
            "erizoAgent.js",
            settings,
        );
        if ((settings.prerunProcesses ?? 1) > 0) {
            await agent.waitForLine(/launched new ErizoJS/);
            // The agent prints each chunk of ErizoJS output behind one "[erizo-<id>]" (erizoAgent.js 156-164).
            await agent.waitForLine(/ErizoJS - message: Started, erizoId: /);
        }
        return agent;
    }

    /**
     * ROV, Licode's Prometheus exporter, as the stack runs it (components/rov.ts: rovMetricsServer.js in
     * erizo_controller/ROV with its own config), ready once /metrics answers.
     */
    async startRov(
        name = "rov",
        statsPeriodMs = 1000,
    ): Promise<{ process: LicodeProcess; port: number }> {
        const [port] = await freePorts(1);
        const rov = this.startTier(name, "erizo_controller/ROV", LICODE.rov.script, {}, (run) =>
            renderRovConfig({
                rabbitUrl: this.rabbitUrl,
                installDir: run,
                statsPeriodMs,
                serverPort: port,
                statsPrefix: LICODE.rov.defaults.statsPrefix,
            }),
        );
        await waitFor(
            `ROV's /metrics on port ${port}`,
            async () =>
                (await httpGet(port, LICODE.rov.metricsPath))?.status === 200 ? true : undefined,
            START_TIMEOUT_MS,
            () => rov.tail(),
        );
        return { process: rov, port };
    }

    /** The host PID of a container's PID 1 (the bash unshare started), once it runs. */
    async containerInit(tier: LicodeProcess): Promise<number> {
        return waitFor(
            `${tier.name}'s PID 1`,
            () => {
                try {
                    const children = fs
                        .readFileSync(`/proc/${tier.pid}/task/${tier.pid}/children`, "utf8")
                        .trim();
                    return children === "" ? undefined : Number(children.split(" ")[0]);
                } catch {
                    return undefined;
                }
            },
            START_TIMEOUT_MS,
            () => tier.tail(),
        );
    }

    /**
     * Runs a preStop hook as the kubelet does (pkg/kubelet/kuberuntime/kuberuntime_container.go
     * executePreStopHook, killContainer): `bash -c <script>` inside the running container, with the container's
     * environment plus `env`, waiting for it up to the grace period; then the container's stop: SIGTERM to its PID
     * 1, and SIGKILL once the grace period has passed. The tier must run with `container: true`.
     */
    async preStop(
        tier: LicodeProcess,
        body: string,
        options: { readonly env?: NodeJS.ProcessEnv; readonly graceSeconds: number },
    ): Promise<PreStopRun> {
        const init = await this.containerInit(tier);
        const started = Date.now();
        const graceEnd = started + options.graceSeconds * 1000;
        const hook = spawn(
            "nsenter",
            ["--target", String(init), "--pid", "--mount", "--", "/bin/bash", "-c", body],
            {
                cwd: this.dir,
                env: {
                    ...this.env(),
                    TMPDIR: this.dir,
                    ...(tier.runDir === undefined ? {} : { LICODE_DIR: tier.runDir }),
                    ...options.env,
                },
                stdio: ["ignore", "ignore", "ignore"],
            },
        );
        const ended = await new Promise<{ code: number | null; signal: string | null }>(
            (resolve) => {
                const timer = setTimeout(() => hook.kill("SIGKILL"), graceEnd - Date.now());
                hook.once("exit", (code, signal) => {
                    clearTimeout(timer);
                    resolve({ code, signal });
                });
            },
        );
        const hookEnd = Date.now();
        // The container's stop after the hook: bash as PID 1 of its namespace has no SIGTERM handler, so the
        // kernel drops the signal (pid_namespaces(7)), as for the image's entrypoint.
        try {
            process.kill(init, "SIGTERM");
        } catch {
            // already gone
        }
        let killed = false;
        while (tier.ended === undefined) {
            if (Date.now() >= graceEnd) {
                killed = true;
                tier.signal("SIGKILL");
                await tier.waitForExit();
                break;
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return {
            code: ended.code ?? undefined,
            signal: ended.signal ?? undefined,
            ms: hookEnd - started,
            stoppedAfterMs: Date.now() - hookEnd,
            killedAtGracePeriod: killed,
        };
    }

    /** A process started by name. */
    process(name: string): LicodeProcess {
        const found = this.processes.get(name);
        if (found === undefined) {
            throw new Error(
                `no process named ${name} (have ${[...this.processes.keys()].join(", ")})`,
            );
        }
        return found;
    }

    /** The last lines of every process's output, for failure messages. */
    tails(lines = 30): string {
        return [...this.processes.values(), this.mongo].map((p) => p.tail(lines)).join("\n");
    }

    /** PIDs of live processes whose working directory is in the cluster's directory (ErizoJS workers too). */
    processesInDir(): number[] {
        const found: number[] = [];
        for (const entry of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(entry)) {
                continue;
            }
            try {
                const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
                const state = fs.readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.[0];
                if ((cwd === this.dir || cwd.startsWith(`${this.dir}/`)) && state !== "Z") {
                    found.push(Number(entry));
                }
            } catch {
                // gone, or not ours to read
            }
        }
        return found;
    }

    /** Ends every process of the cluster and the broker, and removes the cluster's directory. */
    async stop(): Promise<void> {
        if (this.stopped) {
            return;
        }
        this.stopped = true;
        await Promise.all([...this.processes.values()].map((p) => p.stop()));
        await waitFor(
            "the cluster's leftover processes to end",
            () => {
                const left = this.processesInDir();
                for (const pid of left) {
                    try {
                        process.kill(pid, "SIGKILL");
                    } catch {
                        // already gone
                    }
                }
                return left.length === 0 ? true : undefined;
            },
            STOP_TIMEOUT_MS,
        );
        await this.mongo.stop();
        await this.broker.stop();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

function randomHex(bytes: number): string {
    return randomBytes(bytes).toString("hex");
}
