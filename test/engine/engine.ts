/**
 * Helpers for the engine tests: the environment of tools/pulumi-env.sh (read from the script itself, so
 * tests and scripts can never drift apart), running commands with their output captured, temporary
 * backends and a check that the working tree is left as it was.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");

/** The passphrase tests use for stacks that have no default (prod), always with a temporary backend. */
export const THROWAWAY_PASSPHRASE = "licode-engine-test-throwaway";

/**
 * The environment every pulumi command runs in: the current one plus `extra`, after sourcing
 * tools/pulumi-env.sh. Throws with the script's message (e.g. "Run: npm run setup") when the
 * toolchain is not set up, so the tests fail rather than skip.
 */
export function pulumiEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const result = spawnSync("bash", ["-c", ". tools/pulumi-env.sh && env -0"], {
        cwd: ROOT,
        env: { ...process.env, ...extra },
        encoding: "utf8",
    });
    if (result.status !== 0) {
        throw new Error(
            `tools/pulumi-env.sh failed (the tests need \`npm run setup\` first):\n${result.stderr}`,
        );
    }
    const env: NodeJS.ProcessEnv = {};
    for (const entry of result.stdout.split("\0")) {
        const eq = entry.indexOf("=");
        if (eq > 0) {
            env[entry.slice(0, eq)] = entry.slice(eq + 1);
        }
    }
    return env;
}

/** What a command did. `output` is stdout and stderr interleaved as they arrived. */
export interface RunResult {
    readonly status: number | null;
    readonly output: string;
}

/** Runs a command to completion, capturing its output (printed too when ENGINE_TEST_VERBOSE is set). */
export function run(
    command: string,
    args: string[],
    options: { cwd?: string; env: NodeJS.ProcessEnv },
): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, {
            cwd: options.cwd ?? ROOT,
            env: options.env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        const collect = (chunk: Buffer) => {
            output += chunk.toString("utf8");
            if (process.env.ENGINE_TEST_VERBOSE) {
                process.stderr.write(chunk);
            }
        };
        child.stdout.on("data", collect);
        child.stderr.on("data", collect);
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, output }));
    });
}

/** Formats a failed command's output for an assertion message. */
export function explain(what: string, result: RunResult): string {
    return `${what} exited ${result.status}; output:\n${result.output.slice(-6000)}`;
}

/** A temporary directory, removed by `remove()`. */
export function tempDir(prefix: string): { path: string; remove(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `licode-${prefix}-`));
    return { path: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Registers hooks that fail the suite if it changes `git status` (tracked files modified, new
 * untracked files): the engine must only write into temporary copies and gitignored paths.
 */
export function keepsWorkingTreeUnchanged(): void {
    let initial = "";
    const status = () =>
        spawnSync("git", ["status", "--porcelain", "--untracked-files=all"], {
            cwd: ROOT,
            encoding: "utf8",
        }).stdout;
    before(() => {
        initial = status();
    });
    after("leaves git status unchanged", () => {
        assert.strictEqual(status(), initial, "the engine run changed the working tree");
    });
}

/** Policy violations at a level in pulumi's "Policies:" output, as "policy-name (resource)". */
export function violations(output: string, level: "mandatory" | "advisory"): string[] {
    const pattern = new RegExp(
        `- \\[${level}\\] \\[severity: \\w+\\]\\s+(\\S+)\\s+\\(([^)]*)\\)`,
        "g",
    );
    return [...output.matchAll(pattern)].map((m) => `${m[1]} (${m[2]})`);
}
