/**
 * A small network of Linux network namespaces for tests that run coturn and the media check for
 * real: one bridge namespace, and one namespace per host with a veth into the bridge and the
 * addresses it is given. Every namespace and link is named with the `lkturn` prefix and a random
 * suffix, and `destroy` removes them with every process started in them.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";

/** One host of the lab. */
export interface HostSpec {
    /** Up to 5 letters or digits; the namespace is `<prefix>-<name>`. */
    readonly name: string;
    /** Addresses with prefix length, e.g. "203.0.113.10/24". */
    readonly addresses: readonly string[];
    /** Extra on-link routes, e.g. "10.99.0.0/24". */
    readonly routes?: readonly string[];
}

/** The outcome of a command run to its end. */
export interface CommandRun {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** A process running in a namespace, with everything it printed so far. */
export interface RunningProcess {
    readonly child: ChildProcess;
    /** stdout and stderr, interleaved as they arrived. */
    output(): string;
    /** Resolves once the output matches `pattern`; rejects when the process ends first or on timeout. */
    waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

function ip(...args: string[]): void {
    const result = spawnSync("ip", args, { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`ip ${args.join(" ")}: ${result.stderr.trim() || result.error?.message}`);
    }
}

/**
 * Whether this machine can run the lab: root (network namespaces) and the given programs. Returns
 * the reason when it cannot, so a test fails saying what to install rather than skipping.
 */
export function labPrerequisites(programs: readonly string[]): string | undefined {
    if (process.getuid?.() !== 0) {
        return "the TURN tests create network namespaces: run them as root";
    }
    for (const program of ["ip", ...programs]) {
        if (spawnSync("sh", ["-c", `command -v ${program}`]).status !== 0) {
            return `${program} is not installed: apt-get install -y coturn iproute2 iptables openssl (keep coturn's own service off: systemctl disable --now coturn where systemd runs)`;
        }
    }
    return undefined;
}

/** The lab: create it with the hosts, run things in them, destroy it. */
export class Lab {
    /** `lkturn` and 4 hex digits: names every namespace and link of this lab. */
    readonly prefix = `lkturn${randomBytes(2).toString("hex")}`;
    private readonly namespaces: string[] = [];
    private readonly processes: ChildProcess[] = [];

    /** The namespace of a host. */
    ns(host: string): string {
        return `${this.prefix}-${host}`;
    }

    /** Creates the bridge and every host, each with its addresses and routes. */
    create(hosts: readonly HostSpec[]): void {
        const bridge = this.ns("br");
        ip("netns", "add", bridge);
        this.namespaces.push(bridge);
        ip("-n", bridge, "link", "add", "br0", "type", "bridge");
        ip("-n", bridge, "link", "set", "br0", "up");
        for (const host of hosts) {
            if (!/^[a-z0-9]{1,5}$/.test(host.name)) {
                throw new Error(`host name "${host.name}": 1-5 lower-case letters or digits`);
            }
            const ns = this.ns(host.name);
            ip("netns", "add", ns);
            this.namespaces.push(ns);
            const outer = `${this.prefix}${host.name}`;
            ip("link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns);
            ip("link", "set", outer, "netns", bridge);
            ip("-n", bridge, "link", "set", outer, "master", "br0", "up");
            ip("-n", ns, "link", "set", "lo", "up");
            ip("-n", ns, "link", "set", "eth0", "up");
            for (const address of host.addresses) {
                ip("-n", ns, "addr", "add", address, "dev", "eth0");
            }
            for (const route of host.routes ?? []) {
                ip("-n", ns, "route", "add", route, "dev", "eth0");
            }
        }
    }

    /** Runs a command in a host's namespace to its end (or until `timeoutMs`, then SIGKILL). */
    run(
        host: string,
        argv: readonly string[],
        options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {},
    ): Promise<CommandRun> {
        return new Promise((resolve) => {
            const child = spawn("ip", ["netns", "exec", this.ns(host), ...argv], {
                env: { ...process.env, ...options.env },
                stdio: ["ignore", "pipe", "pipe"],
                timeout: options.timeoutMs ?? 30000,
                killSignal: "SIGKILL",
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.on("close", (code, signal) =>
                resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr }),
            );
        });
    }

    /** Starts a long-running command in a host's namespace; `destroy` ends it. */
    start(
        host: string,
        argv: readonly string[],
        options: { readonly env?: NodeJS.ProcessEnv } = {},
    ): RunningProcess {
        const child = spawn("ip", ["netns", "exec", this.ns(host), ...argv], {
            env: { ...process.env, ...options.env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        this.processes.push(child);
        let output = "";
        const listeners = new Set<() => void>();
        const append = (chunk: Buffer) => {
            output += chunk.toString();
            listeners.forEach((listener) => listener());
        };
        child.stdout?.on("data", append);
        child.stderr?.on("data", append);
        child.on("exit", () => listeners.forEach((listener) => listener()));
        return {
            child,
            output: () => output,
            waitForOutput: (pattern, timeoutMs = 30000) =>
                new Promise<void>((resolve, reject) => {
                    const check = () => {
                        if (pattern.test(output)) {
                            done();
                            resolve();
                        } else if (child.exitCode !== null || child.signalCode !== null) {
                            done();
                            reject(
                                new Error(
                                    `${argv[0]} ended (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output}`,
                                ),
                            );
                        }
                    };
                    const timer = setTimeout(() => {
                        done();
                        reject(
                            new Error(
                                `${argv[0]} printed no ${pattern} within ${timeoutMs} ms:\n${output}`,
                            ),
                        );
                    }, timeoutMs);
                    const done = () => {
                        clearTimeout(timer);
                        listeners.delete(check);
                    };
                    listeners.add(check);
                    check();
                }),
        };
    }

    /** Ends a started process and waits until it is gone. */
    async stop(process: RunningProcess): Promise<void> {
        const child = process.child;
        if (child.exitCode !== null || child.signalCode !== null) {
            return;
        }
        const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        await gone;
    }

    /** Ends every process it started, then removes every namespace (and with them the links). */
    async destroy(): Promise<void> {
        await Promise.all(
            this.processes.map(async (child) => {
                if (child.exitCode === null && child.signalCode === null) {
                    const gone = new Promise<void>((resolve) =>
                        child.once("exit", () => resolve()),
                    );
                    child.kill("SIGKILL");
                    await gone;
                }
            }),
        );
        for (const ns of this.namespaces.reverse()) {
            spawnSync("ip", ["netns", "del", ns]);
        }
        this.namespaces.length = 0;
    }
}

/**
 * Calls `check` until it returns true, `timeoutMs` at most: it waits for a state, not for a fixed
 * time. Each call is itself bounded (a probe with its own timeout); between calls it yields 100 ms,
 * so a check that fails at once does not spin a core.
 */
export async function waitUntil(
    what: string,
    check: () => Promise<boolean>,
    timeoutMs = 30000,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await check()) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}
