/**
 * localhost/rabbitmq:4.0.5-management (tools/images/rabbitmq/build.sh), run with runc as the local stack's
 * StatefulSet runs it: its user, groups, read-only root, dropped capabilities, volumes (emptyDirs, the
 * program's conf.d file and definitions as subPath mounts), memory and CPU limits, and its own probes.
 * The broker gets a network namespace of its own, so its default ports collide with nothing on this host.
 */
import * as assert from "assert";
import * as amqp from "amqp";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONFIG_FILE, DEFINITIONS_PATH } from "../../components/rabbitmq";
import { LOCAL_IMAGES, RABBITMQ } from "../../components/images";
import { parseQuantity } from "../../components/quantity";
import { StackResource } from "../harness/program";
import { stackResources } from "../harness/stack";
import {
    PodVolumes,
    containerSpec,
    podContainer,
    probeOnce,
    resourceNamed,
    waitForProbe,
} from "./kube-pod";
import { Container, NetNs, UnpackedImage, buildImage, unpackImage } from "./runc";
import { requireRunc } from "./prerequisites";

const ROOT = path.resolve(__dirname, "..", "..");
const PREFIX = `lkimg-rmq-${process.pid}`;

interface User {
    readonly name: string;
    readonly password: string;
}

/** A user's name and password from a Secret of the program (keys `username`, `password`). */
function secretUser(resources: readonly StackResource[], logicalName: string): User {
    const secret = resourceNamed(resources, "kubernetes:core/v1:Secret", logicalName);
    return { name: secret.props.stringData.username, password: secret.props.stringData.password };
}

/** Opens an AMQP connection with node-amqp (Licode's client); rejects with the broker's refusal. */
function connect(port: number, user: User): Promise<amqp.Connection> {
    return new Promise((resolve, reject) => {
        const connection = amqp.createConnection(
            {
                host: "127.0.0.1",
                port,
                login: user.name,
                password: user.password,
                connectionTimeout: 10_000,
            },
            { reconnect: false },
        );
        connection.once("ready", () => resolve(connection));
        connection.once("error", (error: Error) => {
            connection.end();
            reject(error);
        });
        // A refused login may end in a bare close; after "ready" this rejection is a no-op.
        connection.once("close", () =>
            reject(new Error(`connection closed before it was ready (${user.name})`)),
        );
    });
}

async function httpGet(
    port: number,
    urlPath: string,
    user?: User,
): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
        headers:
            user === undefined
                ? {}
                : {
                      authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString("base64")}`,
                  },
        signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, body: await response.text() };
}

describe("image localhost/rabbitmq:4.0.5-management, run as the local stack runs it", function () {
    this.timeout(600_000);

    let workDir = "";
    let image: UnpackedImage | undefined;
    let resources: StackResource[] = [];
    let pod: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifest JSON
    let netns: NetNs | undefined;
    let broker: Container | undefined;
    const others: Container[] = [];

    before(async function () {
        this.timeout(3_600_000);
        await requireRunc();
        const built = await buildImage(path.join(ROOT, "tools/images/rabbitmq/build.sh"));
        assert.strictEqual(built.ref, LOCAL_IMAGES.rabbitmq.ref);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-`));
        image = await unpackImage(built.archive, path.join(workDir, "image"));
        resources = await stackResources("local");
        pod = resourceNamed(resources, "kubernetes:apps/v1:StatefulSet", "rabbitmq").props.spec
            .template.spec;
        netns = await NetNs.create(PREFIX);
        const volumes = new PodVolumes(resources, pod, path.join(workDir, "volumes"));
        broker = await Container.start(
            containerSpec({
                id: PREFIX,
                image,
                netns,
                volumes,
                container: "rabbitmq",
                hostname: "licode-rabbitmq-0",
            }),
        );
    });

    after(async function () {
        for (const c of [...others, ...(broker === undefined ? [] : [broker])]) {
            await c.stop();
        }
        await netns?.destroy();
        if (workDir !== "") {
            fs.rmSync(workDir, { recursive: true, force: true });
        }
    });

    it("passes the StatefulSet's startup, readiness and liveness probes (rabbitmq-diagnostics -q ping)", async () => {
        const spec = podContainer(pod, "rabbitmq");
        assert.deepStrictEqual(spec.livenessProbe.exec.command, [...RABBITMQ.livenessCommand]);
        await waitForProbe(broker!, spec, spec.startupProbe, "the startup probe");
        for (const probe of ["readinessProbe", "livenessProbe"]) {
            const outcome = await probeOnce(broker!, spec, spec[probe]);
            assert.ok(outcome.passed, `${probe}: ${outcome.detail}`);
        }
        // The liveness probe fails when the node is down: the CLI's answer is the broker's, not a constant.
        const wrongNode = await broker!.exec(
            ["rabbitmq-diagnostics", "-q", "-n", "rabbit@nowhere", "ping"],
            {
                timeoutMs: 60_000,
            },
        );
        assert.notStrictEqual(wrongNode.code, 0, "ping of a node that does not exist must fail");
    });

    it("runs beam.smp as PID 1 under UID/GID 999 with fsGroup, no capabilities, no_new_privs and a read-only root", async () => {
        const status = await broker!.exec(["cat", "/proc/1/status", "/proc/1/comm"]);
        assert.strictEqual(status.code, 0, status.stderr);
        assert.match(status.stdout, /^Uid:\s+999\s+999\s+999\s+999$/m);
        assert.match(status.stdout, /^Gid:\s+999\s+999\s+999\s+999$/m);
        assert.match(status.stdout, /^Groups:\s+999\s*$/m);
        assert.match(status.stdout, /^CapEff:\s+0+$/m);
        assert.match(status.stdout, /^CapBnd:\s+0+$/m);
        assert.match(status.stdout, /^NoNewPrivs:\s+1$/m);
        assert.match(
            status.stdout,
            /^beam\.smp$/m,
            "the entrypoint execs the broker, whose VM replaces the shell",
        );
        const write = await broker!.exec(["touch", "/etc/rabbitmq/written-by-test"]);
        assert.notStrictEqual(write.code, 0);
        assert.match(write.stderr, /Read-only file system/);
        // The broker's own files: the Erlang cookie in HOME (= the data directory), the node's data under it.
        const home = await broker!.exec([
            "bash",
            "-c",
            'echo "$HOME"; stat -c "%u:%g %a" "$HOME/.erlang.cookie"; ls "$HOME/mnesia"',
        ]);
        assert.strictEqual(home.code, 0, home.stderr);
        const [homeDir, cookie, nodeDirs] = home.stdout.split("\n");
        assert.strictEqual(homeDir, RABBITMQ.dataDir);
        assert.strictEqual(cookie, "999:999 400");
        assert.match(nodeDirs, /rabbit@licode-rabbitmq-0/);
    });

    it("reads conf.d in name order: the image's 10-defaults.conf, then the program's file", async () => {
        const files = await broker!.exec(["ls", RABBITMQ.confDir]);
        assert.deepStrictEqual(files.stdout.trim().split("\n"), ["10-defaults.conf", CONFIG_FILE]);
        const status = await broker!.exec(["rabbitmq-diagnostics", "-q", "status"], {
            timeoutMs: 60_000,
        });
        assert.strictEqual(status.code, 0, status.stderr);
        const listed = [...status.stdout.matchAll(/^ \* (\/etc\/rabbitmq\/conf\.d\/\S+)$/gm)].map(
            (m) => m[1],
        );
        assert.deepStrictEqual(listed, [
            `${RABBITMQ.confDir}/10-defaults.conf`,
            `${RABBITMQ.confDir}/${CONFIG_FILE}`,
        ]);
        // The program's memory override reached the node: the container limit, in bytes.
        const limit = podContainer(pod, "rabbitmq").resources.limits.memory as string;
        const expected = Math.floor(parseQuantity(limit) ?? NaN);
        const override = await broker!.exec(
            [
                "rabbitmqctl",
                "-q",
                "eval",
                `application:get_env(rabbit, ${RABBITMQ.memoryOverrideKey}).`,
            ],
            { timeoutMs: 60_000 },
        );
        assert.strictEqual(override.stdout.trim(), `{ok,${expected}}`);
        // log.console = true (10-defaults.conf): the log is the container's output.
        assert.match(broker!.logs, /Server startup complete/);
    });

    it("holds no memory alarm at idle under the stack's memory limit (else every publisher is blocked)", async () => {
        const alarms = await broker!.exec(["rabbitmq-diagnostics", "-q", "alarms"], {
            timeoutMs: 60_000,
        });
        assert.strictEqual(alarms.code, 0, alarms.stderr);
        if (!/reported no alarms/.test(alarms.stdout)) {
            const status = await broker!.exec(["rabbitmq-diagnostics", "-q", "status"], {
                timeoutMs: 60_000,
            });
            const memory = /^Total memory used: .*$/m.exec(status.stdout)?.[0] ?? "?";
            const watermark =
                /^Memory high watermark setting: .*$/m.exec(status.stdout)?.[0] ?? "?";
            const limit = podContainer(pod, "rabbitmq").resources.limits.memory as string;
            assert.fail(
                `${alarms.stdout.trim()} at idle: ${memory}; ${watermark} (memory limit ${limit}). The broker blocks every publisher until the alarm clears.`,
            );
        }
    });

    it("imports the program's definitions: guest does not exist, Licode's user logs in and round-trips a message", async () => {
        const port = await netns!.forward(RABBITMQ.amqpPort);
        // The Secret's file is root:999 0440 (defaultMode and fsGroup): the broker reads it through its group.
        const definitions = await broker!.exec(["stat", "-c", "%u:%g %a", DEFINITIONS_PATH]);
        assert.strictEqual(definitions.stdout.trim(), "0:999 440");
        const licode = secretUser(resources, "rabbitmq-credentials");
        // node-amqp reports a refused login as an ended connection; the broker's log says why.
        for (const user of [
            { name: "guest", password: "guest" },
            { name: licode.name, password: `${licode.password}x` },
        ]) {
            await assert.rejects(
                connect(port, user),
                /authentication failure|ACCESS_REFUSED|closed before/i,
            );
            await broker!.waitForOutput(new RegExp(`login refused: user '${user.name}'`), 30_000);
        }
        // Exactly the program's users: the definitions import created no guest.
        const users = await broker!.exec(
            ["rabbitmqctl", "-q", "list_users", "--no-table-headers"],
            { timeoutMs: 60_000 },
        );
        const drain = secretUser(resources, "rabbitmq-drain-credentials");
        assert.deepStrictEqual(
            users.stdout
                .trim()
                .split("\n")
                .map((line) => line.split("\t")[0])
                .sort(),
            [licode.name, drain.name].sort(),
        );
        const connection = await connect(port, licode);
        try {
            // Declared as Licode declares its queues (amqper.js 71: node-amqp's defaults, non-durable and
            // non-exclusive): the program's deprecated_features.permit key lets 4.0.5 accept them.
            const received = await new Promise<Record<string, unknown>>((resolve, reject) => {
                connection.once("error", reject);
                // A broker in resource alarm blocks the publish (see the alarm case above): bounded, not hung.
                const timer = setTimeout(
                    () =>
                        reject(
                            new Error(
                                "the message published to rpcExchange did not arrive within 30 s",
                            ),
                        ),
                    30_000,
                );
                connection.once("close", () => clearTimeout(timer));
                connection.exchange("rpcExchange", { type: "direct" }, (exchange) => {
                    const queue = connection.queue("lkimg_probe_queue", () => {
                        queue.subscribe((message) => {
                            clearTimeout(timer);
                            resolve(message);
                        });
                        queue.bind("rpcExchange", "lkimg_probe_queue", () =>
                            exchange.publish("lkimg_probe_queue", { hello: "licode" }),
                        );
                    });
                });
            });
            assert.deepStrictEqual(received, { hello: "licode" });
        } finally {
            connection.disconnect();
        }
    });

    it("knows the deprecated feature the program permits, and reads the program's permit key", async () => {
        // 4.0.5 lists transient_nonexcl_queues as permitted_by_default; 4.3 denies it by default (images.ts).
        const features = await broker!.exec(
            ["rabbitmq-diagnostics", "-q", "list_deprecated_features"],
            { timeoutMs: 60_000 },
        );
        assert.strictEqual(features.code, 0, features.stderr);
        assert.match(features.stdout, /^transient_nonexcl_queues\tpermitted_by_default$/m);
        const permits = await broker!.exec(
            [
                "rabbitmqctl",
                "-q",
                "eval",
                "application:get_env(rabbit, permit_deprecated_features).",
            ],
            { timeoutMs: 60_000 },
        );
        assert.strictEqual(permits.stdout.trim(), "{ok,#{transient_nonexcl_queues => true}}");
    });

    it("serves the management API on 15672 to the drain's monitoring user, and Prometheus metrics on 15692", async () => {
        const management = await netns!.forward(RABBITMQ.managementPort);
        const drain = secretUser(resources, "rabbitmq-drain-credentials");
        const overview = await httpGet(management, "/api/overview", drain);
        assert.strictEqual(overview.status, 200, overview.body);
        assert.strictEqual(JSON.parse(overview.body).rabbitmq_version, "4.0.5");
        assert.strictEqual((await httpGet(management, "/api/overview")).status, 401);
        const prometheus = await netns!.forward(RABBITMQ.prometheusPort);
        const metrics = await httpGet(prometheus, "/metrics");
        assert.strictEqual(metrics.status, 200);
        assert.match(metrics.body, /^rabbitmq_build_info\{.*rabbitmq_version="4\.0\.5".*\} 1$/m);
    });

    it("refuses the environment variables the official entrypoint refuses, naming them", async () => {
        const refused = await Container.start({
            id: `${PREFIX}-env`,
            image: image!,
            netns: netns!,
            user: { uid: 999, gid: 999 },
            readOnlyRootFilesystem: true,
            env: { RABBITMQ_VM_MEMORY_HIGH_WATERMARK: "0.4" },
        }).catch((error: Error) => error);
        if (refused instanceof Container) {
            others.push(refused);
            assert.strictEqual(await refused.waitForExit(60_000), 1);
            assert.match(refused.logs, /RABBITMQ_VM_MEMORY_HIGH_WATERMARK is set/);
        } else {
            // It may exit before runc reports it running; the error carries its output.
            assert.match(
                refused.message,
                /exited with 1[\s\S]*RABBITMQ_VM_MEMORY_HIGH_WATERMARK is set/,
            );
        }
    });

    it("stops cleanly on the kubelet's SIGTERM within the pod's grace period", async () => {
        const graceMs = (pod.terminationGracePeriodSeconds as number) * 1000;
        const started = Date.now();
        const code = await broker!.stop(graceMs);
        assert.strictEqual(
            code,
            0,
            `exit ${code} after ${Date.now() - started} ms:\n${broker!.logs.slice(-2000)}`,
        );
        assert.ok(Date.now() - started < graceMs);
        broker = undefined;
    });
});
