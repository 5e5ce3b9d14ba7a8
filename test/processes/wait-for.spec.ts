/**
 * The wait-for init container (Nuve waits for MongoDB and RabbitMQ, ROV for RabbitMQ), its command
 * run with bash as the container's user and capabilities against real listening and closed ports.
 */
import * as assert from "assert";
import * as net from "net";
import { NOBODY, waitForContainer } from "../../components/pod";
import { DEFAULT_RESOURCES } from "../../components/config";
import { freePort, runBash } from "./real-processes";

/** The container's argv, run as its user with no capabilities and no new privileges. */
function asContainerUser(argv: readonly string[]): string {
    return [
        "setpriv",
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
        ...argv,
    ]
        .map((word) => `'${word.replace(/'/g, `'\\''`)}'`)
        .join(" ");
}

function listen(port: number): Promise<net.Server> {
    return new Promise((resolve) => {
        const server = net.createServer((socket) => socket.end());
        server.listen(port, "127.0.0.1", () => resolve(server));
    });
}

describe("wait-for init container (run against real ports)", function () {
    this.timeout(30000);
    const servers: net.Server[] = [];
    afterEach(() => {
        for (const server of servers.splice(0)) {
            server.close();
        }
    });

    const container = (ports: readonly number[]) =>
        waitForContainer(
            "wait-for",
            { repository: "lynckia/licode", tag: "v10", pullPolicy: "IfNotPresent" },
            ports.map((port) => ({ host: "127.0.0.1", port })),
            DEFAULT_RESOURCES.bootstrap,
        );

    it("runs as the unprivileged user its securityContext names", () => {
        const security = container([1]).securityContext as {
            runAsUser: number;
            capabilities: unknown;
        };
        assert.strictEqual(security.runAsUser, NOBODY);
        assert.deepStrictEqual(security.capabilities, { drop: ["ALL"] });
    });

    it("exits 0 at once when every target accepts", async () => {
        // Each port is taken before the next is asked for, so the two differ.
        const a = await freePort();
        servers.push(await listen(a));
        const b = await freePort();
        servers.push(await listen(b));
        const run = await runBash(asContainerUser(container([a, b]).command as string[]));
        assert.strictEqual(run.code, 0, run.stderr);
        // Each retry says so before its 2 s sleep: no line, no retry.
        assert.strictEqual(run.stdout, "", "it retried although every target accepted");
    });

    it("keeps waiting while a target is closed and ends within its 2 s retry once it opens", async () => {
        const open = await freePort();
        servers.push(await listen(open));
        const late = await freePort();
        // The port opens once the command has found it closed twice (two retries announced).
        const waiting = `waiting for 127.0.0.1:${late}\n`;
        let opened: Promise<number> | undefined;
        const result = await runBash(asContainerUser(container([open, late]).command as string[]), {
            onStdout: (soFar) => {
                if (opened === undefined && soFar.split(waiting).length > 2) {
                    opened = listen(late).then((server) => {
                        servers.push(server);
                        return Date.now();
                    });
                }
            },
        });
        assert.strictEqual(result.code, 0, result.stderr);
        assert.ok(opened !== undefined, `ended before it waited twice: ${result.stdout}`);
        const after = (Date.now() - (await opened)) / 1000;
        assert.ok(after < 3, `ended ${after} s after the port opened, not within its 2 s retry`);
        assert.ok(
            !result.stdout.includes(`waiting for 127.0.0.1:${open}`),
            "it waited for the open port",
        );
    });

    it("keeps waiting for as long as nothing listens", async () => {
        const closed = await freePort();
        const run = await runBash(asContainerUser(container([closed]).command as string[]), {
            timeoutMs: 4000,
        });
        assert.notStrictEqual(run.code, 0, "ended although nothing listened");
        assert.ok(run.seconds >= 3.9, `ended after ${run.seconds} s`);
    });
});
