/**
 * Helpers for tests that run probe and hook scripts with bash against real processes and
 * sockets, standing in for what the containers show.
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as net from "net";

/** A script name no other process on the machine carries, like `fakeErizoJS-1a2b3c.js`. */
export function uniqueName(base: string): string {
    return `${base}-${randomBytes(4).toString("hex")}.js`;
}

/** The outcome of running a script with bash. */
export interface ScriptRun {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    readonly seconds: number;
}

/**
 * Runs `/bin/bash -c body` without blocking the event loop (so exited children are reaped
 * meanwhile) and reports its exit code, output and duration. `onStdout` sees the output so far
 * each time more arrives, for a test that waits for a line while the script still runs.
 */
export function runBash(
    body: string,
    options: {
        readonly timeoutMs?: number;
        readonly env?: NodeJS.ProcessEnv;
        readonly onStdout?: (soFar: string) => void;
    } = {},
): Promise<ScriptRun> {
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn("/bin/bash", ["-c", body], {
            stdio: ["ignore", "pipe", "pipe"],
            timeout: options.timeoutMs ?? 20000,
            env: options.env ?? process.env,
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
            options.onStdout?.(stdout);
        });
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("close", (code) =>
            resolve({ code: code ?? -1, stdout, stderr, seconds: (Date.now() - started) / 1000 }),
        );
    });
}

/**
 * Resolves once `check` holds, polling every `intervalMs`; fails naming `what` after `timeoutMs`
 * (below mocha's own timeout, so the failure says what never happened).
 */
export async function waitUntil(
    what: string,
    check: () => boolean | Promise<boolean>,
    timeoutMs = 20000,
    intervalMs = 50,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        }
        await sleep(intervalMs);
    }
}

/**
 * Resolves once `text` appears in what the child writes to stdout from now on; rejects if the
 * child exits first.
 */
export function waitForOutput(child: ChildProcess, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
        let seen = "";
        const onData = (chunk: Buffer) => {
            seen += chunk.toString();
            if (seen.includes(text)) {
                done();
                resolve();
            }
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
            done();
            reject(new Error(`the process exited (${signal ?? code}) before printing '${text}'`));
        };
        const done = () => {
            child.stdout?.off("data", onData);
            child.off("exit", onExit);
        };
        child.stdout?.on("data", onData);
        child.once("exit", onExit);
    });
}

/**
 * Starts node running `source`, with `marker` in its command line as a script name would be
 * (`node -e <source> <marker>`), and waits until it has started.
 */
export async function startNode(
    source: string,
    marker: string,
    env: NodeJS.ProcessEnv = {},
): Promise<ChildProcess> {
    const child = spawn(process.execPath, ["-e", source, marker], {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, ...env },
    });
    await new Promise<void>((resolve, reject) => {
        child.stdout?.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`${marker} exited early with ${code}`)));
    });
    return child;
}

/**
 * Starts `sleep seconds` under the name `marker` (its argv[0]): a process that starts within
 * milliseconds, for checks that look at process ages.
 */
export function startSleeper(marker: string, seconds = 600): ChildProcess {
    return spawn("sleep", [String(seconds)], { argv0: marker, stdio: "ignore" });
}

/** Resolves with how the process ended: its exit code, or the signal that ended it. */
export function ended(child: ChildProcess): Promise<number | NodeJS.Signals> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.resolve(child.signalCode ?? child.exitCode ?? -1);
    }
    return new Promise((resolve) =>
        child.once("exit", (code, signal) => resolve(signal ?? code ?? -1)),
    );
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
