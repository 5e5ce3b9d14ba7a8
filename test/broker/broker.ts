/**
 * Starts a real, private RabbitMQ broker for tests, from the Debian package `rabbitmq-server`
 * (`apt-get install rabbitmq-server`).
 *
 * Each broker gets its own node name, free AMQP, management and Erlang distribution ports, and a
 * private directory (made with mkdtemp) holding its config, mnesia, logs, Erlang cookie and pid
 * file, so several brokers can run side by side and none of them touches /etc/rabbitmq or
 * /var/lib/rabbitmq. Only epmd (port 4369) is shared: it is started if needed and never stopped.
 *
 * Layout of `dir`:
 *   etc/                 etcFiles; `{{ETC}}` in confFiles is replaced with this path
 *   etc/conf.d/          00-harness.conf (ports) and the confFiles (RABBITMQ_CONFIG_FILES)
 *   etc/enabled_plugins  [rabbitmq_management].
 *   home/.erlang.cookie  shared by the node and rabbitmqctl (HOME)
 *   mnesia/ log/         RABBITMQ_MNESIA_BASE, RABBITMQ_LOG_BASE
 *   server.out           stdout and stderr of rabbitmq-server
 */
import { ChildProcess, execFile, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface BrokerOptions {
    /** Extra config files to place in the broker's conf.d directory, by file name (e.g. "90-licode.conf"): their text. */
    readonly confFiles?: Record<string, string>;
    /** Files to write into the broker's private etc directory (e.g. a definitions JSON referenced from a conf file), by name; the harness substitutes the placeholder `{{ETC}}` in confFiles with that directory's absolute path. */
    readonly etcFiles?: Record<string, string>;
}

export interface Broker {
    readonly amqpPort: number;
    readonly managementPort: number;
    /** The private directory holding everything. */
    readonly dir: string;
    /** Runs rabbitmqctl against this node; resolves with stdout; rejects with stderr on failure. */
    rabbitmqctl(...args: string[]): Promise<string>;
    /**
     * Runs a CLI command (argv[0] one of the broker's scripts, e.g. rabbitmq-diagnostics) without
     * `-n`, as a probe runs it in the container: the target is RABBITMQ_NODENAME, this node unless
     * `nodeName` names another. Resolves with stdout; rejects with stderr on failure.
     */
    cli(argv: readonly string[], nodeName?: string): Promise<string>;
    /** Stops the node and removes its directory. */
    stop(): Promise<void>;
}

const DEBIAN_BIN = "/usr/lib/rabbitmq/bin";
const INSTALL_HINT =
    "RabbitMQ is not installed: install the Debian package with `apt-get install rabbitmq-server`";
const START_TIMEOUT_MS = 90_000;
const CTL_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const HARNESS_CONF = "00-harness.conf";
/** Names the harness writes into etc/ itself. */
const RESERVED_ETC_NAMES = new Set(["conf.d", "enabled_plugins", "rabbitmq-env.conf"]);
/** rabbitmqctl's own distribution ports (RABBITMQ_CTL_DIST_PORT_MIN..MAX): never hand them out. */
const CTL_DIST_PORTS = { min: 35672, max: 35682 };

/**
 * Finds a RabbitMQ script. The Debian scripts in /usr/lib/rabbitmq/bin come first: the ones on
 * PATH (/usr/sbin) are a wrapper that switches to the rabbitmq user and to /var/lib/rabbitmq.
 */
function findScript(name: string): string | undefined {
    const dirs = [DEBIAN_BIN, ...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean)];
    for (const dir of dirs) {
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (path.basename(fs.realpathSync(candidate)) === "rabbitmq-script-wrapper") {
                continue;
            }
            return candidate;
        } catch {
            // not here
        }
    }
    return undefined;
}

/** True when the Debian rabbitmq-server is installed (rabbitmq-server and rabbitmqctl on PATH or under /usr/lib/rabbitmq/bin). */
export function brokerInstalled(): boolean {
    return findScript("rabbitmq-server") !== undefined && findScript("rabbitmqctl") !== undefined;
}

function findEpmd(): string {
    for (const candidate of ["/usr/bin/epmd", "/usr/lib/erlang/bin/epmd"]) {
        if (fs.existsSync(candidate)) {
            return candidate;
        }
    }
    return "epmd";
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts epmd (shared by every Erlang node on this host) unless it already runs. */
async function ensureEpmd(env: NodeJS.ProcessEnv): Promise<void> {
    const epmd = findEpmd();
    const running = () => spawnSync(epmd, ["-names"], { env, stdio: "ignore" }).status === 0;
    if (running()) {
        return;
    }
    // `epmd -daemon` detaches itself (setsid), so it outlives us and is never in a broker's group.
    const started = spawnSync(epmd, ["-daemon"], { env, stdio: "ignore" });
    if (started.error) {
        throw new Error(`could not start epmd (${epmd}): ${started.error.message}`);
    }
    for (let i = 0; i < 50; i++) {
        if (running()) {
            return;
        }
        await sleep(100);
    }
    throw new Error("epmd -daemon did not come up on port 4369");
}

function listen(): Promise<net.Server> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.once("error", reject);
        // No host: binds the unspecified address, like the broker's listeners do.
        server.listen(0, () => resolve(server));
    });
}

/** Distinct free TCP ports, all held open together while they are picked. */
async function freePorts(count: number): Promise<number[]> {
    const servers: net.Server[] = [];
    const ports: number[] = [];
    try {
        while (ports.length < count) {
            const server = await listen();
            servers.push(server);
            const port = (server.address() as net.AddressInfo).port;
            if (port < CTL_DIST_PORTS.min || port > CTL_DIST_PORTS.max) {
                ports.push(port);
            }
        }
    } finally {
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
    return ports;
}

/** A plain file name: no directories, nothing hidden. */
function checkFileName(kind: string, name: string): void {
    if (name === "" || name !== path.basename(name) || name.startsWith(".")) {
        throw new Error(`${kind} name ${JSON.stringify(name)} must be a plain file name`);
    }
}

function tail(file: string, lines: number): string {
    try {
        const text = fs.readFileSync(file, "utf8").trimEnd();
        return text === "" ? "(empty)" : text.split("\n").slice(-lines).join("\n");
    } catch {
        return "(missing)";
    }
}

/** The process environment minus anything that would make the node or CLI look elsewhere. */
function baseEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    const dropped = new Set(["ERL_LIBS", "ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS"]);
    for (const [key, value] of Object.entries(process.env)) {
        if (!key.startsWith("RABBITMQ_") && !dropped.has(key)) {
            env[key] = value;
        }
    }
    return env;
}

/** Sends a signal to the whole process group of the broker (sh, beam.smp and its helpers). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pid, signal);
    } catch {
        // the group is empty
    }
}

/** Live (not zombie) processes in a process group, read from /proc. */
function groupMembers(pgid: number): number[] {
    const members: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
            const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            if (Number(pgrp) === pgid && state !== "Z" && state !== "X") {
                members.push(Number(entry));
            }
        } catch {
            // exited meanwhile
        }
    }
    return members;
}

/** Brokers still running, so that an exiting test process never leaves a beam.smp behind. */
const live = new Map<number, string>();
let exitHookInstalled = false;

/**
 * SIGKILLs beam.smp (every member of the group but the rabbitmq-server shell, which is its parent):
 * the shell then reaps it and exits, so no defunct beam.smp waits for init to reap it.
 */
function killBeam(pid: number): void {
    for (const member of groupMembers(pid)) {
        if (member !== pid) {
            try {
                process.kill(member, "SIGKILL");
            } catch {
                // gone already
            }
        }
    }
}

function killAllSync(): void {
    for (const [pid, dir] of live) {
        killBeam(pid);
        fs.rmSync(dir, { recursive: true, force: true });
    }
    live.clear();
}

function installExitHook(): void {
    if (exitHookInstalled) {
        return;
    }
    exitHookInstalled = true;
    process.on("exit", killAllSync);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        const onSignal = () => {
            killAllSync();
            process.removeListener(signal, onSignal);
            if (process.listenerCount(signal) === 0) {
                process.kill(process.pid, signal);
            }
        };
        process.on(signal, onSignal);
    }
}

function run(
    file: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    cwd: string,
    timeout: number,
): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            file,
            args,
            { env, cwd, timeout, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => {
                if (error) {
                    const detail = stderr.trim() || stdout.trim() || error.message;
                    reject(new Error(`${path.basename(file)} ${args.join(" ")} failed: ${detail}`));
                } else {
                    resolve(stdout);
                }
            },
        );
    });
}

/** Resolves when any HTTP answer comes back from the port (401 included). */
async function httpAnswers(port: number): Promise<boolean> {
    try {
        const response = await fetch(`http://127.0.0.1:${port}/api/overview`, {
            signal: AbortSignal.timeout(2_000),
        });
        await response.arrayBuffer();
        return true;
    } catch {
        return false;
    }
}

export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
    const server = findScript("rabbitmq-server");
    const ctl = findScript("rabbitmqctl");
    if (server === undefined || ctl === undefined) {
        throw new Error(INSTALL_HINT);
    }
    for (const name of Object.keys(options.confFiles ?? {})) {
        checkFileName("confFiles", name);
        if (name === HARNESS_CONF) {
            throw new Error(`confFiles must not replace the harness's own ${HARNESS_CONF}`);
        }
    }
    for (const name of Object.keys(options.etcFiles ?? {})) {
        checkFileName("etcFiles", name);
        if (RESERVED_ETC_NAMES.has(name)) {
            throw new Error(`etcFiles must not replace the harness's own ${name}`);
        }
    }

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "licode-rabbitmq-"));
    try {
        return await launch(server, ctl, dir, options);
    } catch (error) {
        // launch() stops a node that did not start; this also covers failures before the spawn.
        fs.rmSync(dir, { recursive: true, force: true });
        throw error;
    }
}

async function launch(
    server: string,
    ctl: string,
    dir: string,
    options: BrokerOptions,
): Promise<Broker> {
    const etc = path.join(dir, "etc");
    const confDir = path.join(etc, "conf.d");
    const home = path.join(dir, "home");
    const mnesia = path.join(dir, "mnesia");
    const logs = path.join(dir, "log");
    for (const d of [confDir, home, mnesia, logs]) {
        fs.mkdirSync(d, { recursive: true });
    }

    const node = `licode-test-${randomBytes(6).toString("hex")}@localhost`;
    const [amqpPort, managementPort, distPort] = await freePorts(3);

    fs.writeFileSync(path.join(home, ".erlang.cookie"), randomBytes(20).toString("hex"), {
        mode: 0o400,
    });
    fs.writeFileSync(path.join(etc, "enabled_plugins"), "[rabbitmq_management].\n");
    // Sourced by the scripts instead of /etc/rabbitmq/rabbitmq-env.conf.
    fs.writeFileSync(path.join(etc, "rabbitmq-env.conf"), "");
    fs.writeFileSync(
        path.join(confDir, HARNESS_CONF),
        `listeners.tcp.default = ${amqpPort}\nmanagement.tcp.port = ${managementPort}\n`,
    );
    for (const [name, text] of Object.entries(options.etcFiles ?? {})) {
        fs.writeFileSync(path.join(etc, name), text);
    }
    for (const [name, text] of Object.entries(options.confFiles ?? {})) {
        fs.writeFileSync(path.join(confDir, name), text.replaceAll("{{ETC}}", etc));
    }

    const env: NodeJS.ProcessEnv = {
        ...baseEnv(),
        HOME: home,
        RABBITMQ_NODENAME: node,
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_MNESIA_BASE: mnesia,
        RABBITMQ_LOG_BASE: logs,
        RABBITMQ_CONFIG_FILES: confDir,
        // Neither exists: keeps /etc/rabbitmq/{rabbitmq.conf,advanced.config,motd} out.
        RABBITMQ_CONFIG_FILE: path.join(etc, "rabbitmq"),
        RABBITMQ_ADVANCED_CONFIG_FILE: path.join(etc, "advanced.config"),
        RABBITMQ_MOTD_FILE: path.join(etc, "motd"),
        RABBITMQ_CONF_ENV_FILE: path.join(etc, "rabbitmq-env.conf"),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(etc, "enabled_plugins"),
        RABBITMQ_PID_FILE: path.join(dir, "rabbit.pid"),
    };
    const ctlRun = (...args: string[]) => run(ctl, ["-n", node, ...args], env, dir, CTL_TIMEOUT_MS);
    const cli = (argv: readonly string[], nodeName = node): Promise<string> => {
        const script = findScript(argv[0]);
        if (script === undefined) {
            return Promise.reject(new Error(`${argv[0]} is not one of the broker's scripts`));
        }
        const target = { ...env, RABBITMQ_NODENAME: nodeName };
        return run(script, argv.slice(1), target, dir, CTL_TIMEOUT_MS);
    };

    await ensureEpmd(env);

    installExitHook();
    const outFile = path.join(dir, "server.out");
    const out = fs.openSync(outFile, "w");
    let child: ChildProcess;
    try {
        // Its own process group (detached), so stop() can signal the shell and beam.smp at once.
        // (erl_child_setup and inet_gethost make their own sessions; they exit with beam.smp.)
        child = spawn(server, [], { env, cwd: dir, detached: true, stdio: ["ignore", out, out] });
    } finally {
        fs.closeSync(out);
    }
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    const pid = child.pid;
    if (pid === undefined) {
        throw new Error(`could not spawn ${server}: ${(await spawnError).message}`);
    }
    live.set(pid, dir);
    // Do not keep the test process alive for a forgotten broker: the exit hook kills it.
    child.unref();
    let exitStatus: string | undefined;
    const exited = new Promise<void>((resolve) => {
        child.once("exit", (code, signal) => {
            exitStatus = signal === null ? `exit code ${code}` : `signal ${signal}`;
            resolve();
        });
    });

    const logFile = path.join(logs, `${node}.log`);
    const diagnostics = () =>
        `--- ${logFile} (tail) ---\n${tail(logFile, 60)}\n--- ${outFile} (tail) ---\n${tail(outFile, 80)}`;

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
        stopping ??= (async () => {
            const waitExit = (ms: number) =>
                new Promise<boolean>((resolve) => {
                    const timer = setTimeout(() => resolve(false), ms);
                    void exited.then(() => {
                        clearTimeout(timer);
                        resolve(true);
                    });
                });
            if (exitStatus === undefined) {
                await ctlRun("stop").catch(() => undefined);
                if (!(await waitExit(STOP_TIMEOUT_MS))) {
                    signalGroup(pid, "SIGTERM");
                    if (!(await waitExit(5_000))) {
                        killBeam(pid);
                        if (!(await waitExit(5_000))) {
                            signalGroup(pid, "SIGKILL");
                            await waitExit(5_000);
                        }
                    }
                }
            }
            // Whatever is left in the group (e.g. a beam.smp whose shell was SIGKILLed).
            for (let i = 0; i < 50 && groupMembers(pid).length > 0; i++) {
                signalGroup(pid, i < 20 ? "SIGTERM" : "SIGKILL");
                await sleep(100);
            }
            live.delete(pid);
            fs.rmSync(dir, { recursive: true, force: true });
        })();
        return stopping;
    };

    const deadline = Date.now() + START_TIMEOUT_MS;
    try {
        let ready = false;
        let lastError = "";
        while (!ready) {
            if (exitStatus !== undefined) {
                throw new Error(`rabbitmq-server exited early (${exitStatus})`);
            }
            const remaining = deadline - Date.now();
            if (remaining <= 0) {
                throw new Error(`not ready within ${START_TIMEOUT_MS / 1000} s: ${lastError}`);
            }
            try {
                // Fails at once while the node is not yet registered with epmd, so retry.
                await run(
                    ctl,
                    ["-n", node, "await_startup", "--timeout", String(Math.ceil(remaining / 1000))],
                    env,
                    dir,
                    remaining + 5_000,
                );
                ready = await httpAnswers(managementPort);
                lastError = ready ? "" : `no HTTP answer on management port ${managementPort}`;
            } catch (error) {
                lastError = (error as Error).message.split("\n")[0];
            }
            if (!ready) {
                await sleep(250);
            }
        }
    } catch (error) {
        const message = `RabbitMQ node ${node} did not start: ${(error as Error).message}`;
        const details = diagnostics();
        await stop();
        throw new Error(`${message}\n${details}`, { cause: error });
    }

    return {
        amqpPort,
        managementPort,
        dir,
        rabbitmqctl: ctlRun,
        cli,
        stop,
    };
}
