import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import { imageName, processAliveCommand, signalAndWaitCommand } from "../../components/pod";

/** Starts a process whose command line carries `marker`, as the node tiers do. */
function fakeTier(marker: string, trapTerm: boolean): ChildProcess {
    const script = trapTerm
        ? "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 300)); setInterval(() => {}, 1000);"
        : "setInterval(() => {}, 1000);";
    return spawn(process.execPath, ["-e", script, marker], { stdio: "ignore" });
}

/** Runs a command without blocking the event loop, so exited children are reaped meanwhile. */
function run(command: string[]): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn(command[0], command.slice(1), { stdio: "ignore", timeout: 10000 });
        child.on("exit", (code) => resolve(code ?? -1));
    });
}

describe("pod builders", () => {
    it("pulls by digest when one is set, else by tag", () => {
        assert.strictEqual(
            imageName({ repository: "r/i", tag: "v1", pullPolicy: "IfNotPresent" }),
            "r/i:v1",
        );
        const digest = `sha256:${"f".repeat(64)}`;
        assert.strictEqual(
            imageName({ repository: "r/i", tag: "v1", digest, pullPolicy: "IfNotPresent" }),
            `r/i@${digest}`,
        );
    });

    describe("process probe (run with bash against real processes)", function () {
        this.timeout(20000);
        let tier: ChildProcess | undefined;
        afterEach(() => tier?.kill("SIGKILL"));

        it("fails when no matching process runs, and does not match itself", async () => {
            // grep exits 1 for no match, or 2 when a process vanished mid-read: both fail the probe.
            assert.notStrictEqual(await run(processAliveCommand("noSuchWorker.js")), 0);
        });

        it("passes while a matching process runs", async () => {
            tier = fakeTier("fakeErizoJS.js", false);
            await new Promise((resolve) => setTimeout(resolve, 200));
            assert.strictEqual(await run(processAliveCommand("fakeErizoJS.js")), 0);
        });

        it("preStop signals the node process and returns once it has exited", async () => {
            tier = fakeTier("fakeAgent.js", true);
            await new Promise((resolve) => setTimeout(resolve, 200));
            const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
                tier?.on("exit", (code, signal) => resolve(signal ?? code)),
            );
            assert.strictEqual(await run(signalAndWaitCommand("fakeAgent.js")), 0);
            assert.strictEqual(
                await exited,
                0,
                "the process should have drained and exited by itself",
            );
            assert.notStrictEqual(await run(processAliveCommand("fakeAgent.js")), 0);
        });

        it("preStop succeeds at once when the process is already gone", async () => {
            assert.strictEqual(await run(signalAndWaitCommand("alreadyGone.js")), 0);
        });
    });
});
