/**
 * The local Licode image (tools/images/licode/build.sh, `localhost/licode:v10`), run as containers with runc
 * and no container engine: the OCI archive is unpacked into a root filesystem, each container gets an
 * overlay of it as its bundle (the entrypoint writes licode_config.js into /opt/licode), host networking
 * (the tiers then reach the test's RabbitMQ and FerretDB on 127.0.0.1, as host-network pods reach their
 * Services), and the rendered config mounted where the stack mounts it (components/images.ts
 * LICODE.defaultConfigFile, log4js beside it). Upstream's entrypoint then runs unmodified.
 *
 * Needs root, runc (`apt-get install runc`), mmdebstrap for the first build, and RabbitMQ (test/broker).
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { LICODE, LOCAL_LICODE } from "../../components/images";
import {
    defaultConfigPath,
    log4jsPath,
    renderLicodeConfig,
    renderLog4js,
} from "../../components/licode-config-file";
import { runSmoke } from "../../tools/smoke/session";
import { LicodeCluster, freePorts, httpGet, waitFor } from "../licode/cluster";
import { requireRunc } from "./prerequisites";
import { BuiltImage, UnpackedImage, buildImage, unpackImage } from "./runc";

const ROOT = path.resolve(__dirname, "../..");
const BUILD_SCRIPT = path.join(ROOT, "tools/images/licode/build.sh");
const BUILD_TIMEOUT_MS = 60 * 60_000;
const START_TIMEOUT_MS = 90_000;

/** One running container: runc in the foreground, its output collected. */
class Container {
    output = "";
    private status: string | undefined;

    constructor(
        readonly id: string,
        readonly rootfs: string,
        readonly child: ChildProcess,
    ) {
        child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
        child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
        child.once("exit", (code, signal) => (this.status = signal ?? String(code)));
    }

    get ended(): string | undefined {
        return this.status;
    }

    waitForLine(pattern: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<string> {
        return waitFor(
            `container ${this.id} to print ${pattern}`,
            () => {
                const line = this.output.split("\n").find((l) => pattern.test(l));
                if (line === undefined && this.status !== undefined) {
                    throw new Error(
                        `container ${this.id} ended (${this.status}):\n${this.output.slice(-4000)}`,
                    );
                }
                return line;
            },
            timeoutMs,
            () => this.output.slice(-4000),
        );
    }
}

describe("the local Licode image (localhost/licode:v10) under runc", function () {
    this.timeout(BUILD_TIMEOUT_MS);

    const work = fs.mkdtempSync(path.join(os.tmpdir(), "licode-image-test-"));
    const runcRoot = path.join(work, "runc");
    const containers: Container[] = [];
    const mounts: string[] = [];
    let built: BuiltImage;
    let image: UnpackedImage;
    let cluster: LicodeCluster | undefined;
    let nuve: Container;
    let nuvePort: number;

    before(async () => {
        await requireRunc();
        built = await buildImage(BUILD_SCRIPT, { timeoutMs: BUILD_TIMEOUT_MS });
        // test/images/runc.ts checks every blob against its digest while it unpacks the layer.
        image = await unpackImage(built.archive, path.join(work, "image"));
        assert.strictEqual(image.digest, built.digest);
        assert.strictEqual(built.ref, LOCAL_LICODE.ref);
        fs.mkdirSync(runcRoot);
        cluster = await LicodeCluster.start();
        [nuvePort] = await freePorts(1);
        nuve = run("nuve", [LICODE.flags.nuve], licodeConfig({ controllerPort: 8080, nuvePort }));
    });

    after(async () => {
        for (const container of containers) {
            try {
                execFileSync("runc", ["--root", runcRoot, "kill", container.id, "KILL"], {
                    stdio: "ignore",
                });
            } catch {
                // already stopped
            }
        }
        await Promise.all(
            containers.map((c) =>
                waitFor(`container ${c.id} to end`, () => c.ended, 30_000).catch(() => undefined),
            ),
        );
        for (const container of containers) {
            try {
                execFileSync("runc", ["--root", runcRoot, "delete", "--force", container.id], {
                    stdio: "ignore",
                });
            } catch {
                // never created
            }
        }
        for (const mount of mounts.reverse()) {
            try {
                execFileSync("umount", [mount]);
            } catch {
                // not mounted
            }
        }
        await cluster?.stop();
        fs.rmSync(work, { recursive: true, force: true });
    });

    /** The config a tier container gets: rendered as the stack does, with the test's ports appended. */
    function licodeConfig(settings: { controllerPort: number; nuvePort: number }): string {
        const parsed = parseStackConfig({
            networkPolicy: { enabled: false },
            publicAddress: { from: "static", ip: "127.0.0.1" },
            iceServers: [],
            erizoController: { port: settings.controllerPort },
        });
        return [
            renderLicodeConfig(parsed, {
                rabbitUrl: cluster!.rabbitUrl,
                mongoUrl: cluster!.mongoUrl,
                superserviceId: cluster!.superservice.id,
                superserviceKey: cluster!.superservice.key,
                installDir: LICODE.installDir,
            }),
            `config.nuve.port = ${settings.nuvePort};`,
            "",
        ].join("\n");
    }

    /** Starts a container of the image with `args` (the entrypoint's flags) and extra environment. */
    function run(
        name: string,
        args: readonly string[],
        config: string,
        env: readonly string[] = [],
    ): Container {
        const id = `licode-img-test-${name}-${randomBytes(3).toString("hex")}`;
        const bundle = path.join(work, id);
        const rootfs = path.join(bundle, "rootfs");
        for (const dir of ["upper", "work", "rootfs", "files"]) {
            fs.mkdirSync(path.join(bundle, dir), { recursive: true });
        }
        execFileSync("mount", [
            "-t",
            "overlay",
            "overlay",
            "-o",
            `lowerdir=${image.rootfs},upperdir=${bundle}/upper,workdir=${bundle}/work`,
            rootfs,
        ]);
        mounts.push(rootfs);
        const files = {
            [defaultConfigPath(LICODE.installDir)]: config,
            [log4jsPath(LICODE.installDir)]: renderLog4js("INFO"),
        };
        const bindMounts = Object.entries(files).map(([target, text], index) => {
            const source = path.join(bundle, "files", `${index}`);
            fs.writeFileSync(source, text);
            return { destination: target, type: "bind", source, options: ["rbind", "ro"] };
        });
        execFileSync("runc", ["spec", "--bundle", bundle]);
        const spec = JSON.parse(fs.readFileSync(path.join(bundle, "config.json"), "utf8"));
        spec.process.terminal = false;
        spec.process.args = [...(image.config.Entrypoint ?? []), ...args];
        spec.process.cwd = image.config.WorkingDir ?? "/";
        spec.process.env = [...(image.config.Env ?? []), ...env];
        spec.root = { path: "rootfs", readonly: false };
        spec.hostname = name;
        spec.mounts.push(...bindMounts);
        // Host networking, as the signalling and media tiers run (components/erizo-*.ts hostNetwork).
        spec.linux.namespaces = spec.linux.namespaces.filter(
            (ns: { type: string }) => ns.type !== "network",
        );
        fs.writeFileSync(path.join(bundle, "config.json"), JSON.stringify(spec));
        const child = spawn("runc", ["--root", runcRoot, "run", "--bundle", bundle, id], {
            stdio: ["ignore", "pipe", "pipe"],
        });
        const container = new Container(id, rootfs, child);
        containers.push(container);
        return container;
    }

    /** Host PIDs of the container's processes whose command line is exactly `argv`. */
    function processes(container: Container, argv: readonly string[]): number[] {
        const state = JSON.parse(
            execFileSync("runc", ["--root", runcRoot, "state", container.id]).toString(),
        );
        const ns = fs.readlinkSync(`/proc/${state.pid}/ns/pid`);
        return fs
            .readdirSync("/proc")
            .filter((entry) => /^\d+$/.test(entry))
            .filter((pid) => {
                try {
                    return (
                        fs.readlinkSync(`/proc/${pid}/ns/pid`) === ns &&
                        fs
                            .readFileSync(`/proc/${pid}/cmdline`, "utf8")
                            .split("\0")
                            .slice(0, -1)
                            .join(" ") === argv.join(" ")
                    );
                } catch {
                    return false;
                }
            })
            .map(Number);
    }

    it("is configured as upstream's Dockerfile: entrypoint, working directory, TZ, root, RELEASE", () => {
        const config = image.config;
        assert.deepStrictEqual(config.Entrypoint, ["./licode/extras/docker/initDockerLicode.sh"]);
        assert.strictEqual(config.WorkingDir, "/opt");
        assert.ok((config.Env ?? []).includes("TZ=Europe/Madrid"));
        assert.strictEqual(config.User ?? "", "");
        assert.strictEqual(
            fs.readlinkSync(path.join(image.rootfs, "etc/localtime")),
            "/usr/share/zoneinfo/Europe/Madrid",
        );
        const release = fs
            .readFileSync(path.join(image.rootfs, "opt/licode/RELEASE"), "utf8")
            .split("\n");
        assert.strictEqual(release[0], "f9fca4e0cd04dcce481e359c0647baea62fe9f0c");
        assert.match(release[1], /^2022-05-25 \d\d:\d\d:\d\d\+02:00$/);
        assert.ok(fs.statSync(path.join(image.rootfs, LICODE.nodeBinary.slice(1))).mode & 0o111);
        assert.ok(fs.existsSync(path.join(image.rootfs, LOCAL_LICODE.erizoApiStandIn.path)));
        assert.ok(
            !fs.existsSync(path.join(image.rootfs, LICODE.configFile.slice(1))),
            "the image ships no licode_config.js",
        );
    });

    it("--nuve: the unmodified entrypoint puts node 12.13.0 on PATH with the nvm stand-in and starts Nuve", async () => {
        await nuve.waitForLine(/nvm \(stand-in\): now using node v12\.13\.0/);
        await waitFor(
            `Nuve's OPTIONS answer on port ${nuvePort}`,
            async () =>
                (await httpGet(nuvePort, "/", "OPTIONS"))?.status === 200 ? true : undefined,
            START_TIMEOUT_MS,
            () => nuve.output.slice(-4000),
        );
        const [pid] = processes(nuve, ["node", LICODE.processes.nuve]);
        assert.ok(pid !== undefined, `no "node nuve.js" in the container:\n${nuve.output}`);
        // The image's node (LICODE.nodeBinary) and Nuve's directory, as the container sees its own root.
        assert.strictEqual(fs.readlinkSync(`/proc/${pid}/exe`), LICODE.nodeBinary);
        assert.strictEqual(
            fs.readlinkSync(`/proc/${pid}/cwd`),
            `${LICODE.installDir}/nuve/nuveAPI`,
        );
        // PID 1 is the entrypoint's bash (LICODE.pid1DropsSigterm).
        const state = JSON.parse(
            execFileSync("runc", ["--root", runcRoot, "state", nuve.id]).toString(),
        );
        assert.match(
            fs.readFileSync(`/proc/${state.pid}/cmdline`, "utf8"),
            /initDockerLicode\.sh\0--nuve\0$/,
        );
        // initDockerLicode.sh 156-158: licode_config.js copied from the mounted default.
        const written = fs.readFileSync(path.join(nuve.rootfs, LICODE.configFile.slice(1)), "utf8");
        assert.match(written, new RegExp(`config\\.nuve\\.port = ${nuvePort};`));
    });

    it("--erizoController and --erizoAgent: a client session goes through Nuve, a controller and an agent in containers", async () => {
        const [controllerPort] = await freePorts(1);
        await waitFor(
            "Nuve's container to answer",
            async () =>
                (await httpGet(nuvePort, "/", "OPTIONS"))?.status === 200 ? true : undefined,
            START_TIMEOUT_MS,
            () => nuve.output.slice(-4000),
        );
        const config = licodeConfig({ controllerPort, nuvePort });
        const controller = run("ec", [LICODE.flags.erizoController], config, [
            `${LICODE.env.publicIp}=127.0.0.1`,
        ]);
        await controller.waitForLine(/succesfully added to cloudHandler/);
        const agent = run("ea", [LICODE.flags.erizoAgent], config, [
            `${LICODE.env.publicIp}=127.0.0.1`,
            `${LICODE.env.minPort}=47300`,
            `${LICODE.env.maxPort}=47349`,
        ]);
        await agent.waitForLine(/ErizoJS - message: Started, erizoId: /);
        // initDockerLicode.sh 169-182: the per-pod values appended to the copied config.
        const agentConfig = fs.readFileSync(
            path.join(agent.rootfs, LICODE.configFile.slice(1)),
            "utf8",
        );
        assert.match(agentConfig, /^config\.erizo\.minport = '47300';$/m);
        assert.match(agentConfig, /^config\.erizoAgent\.publicIP = '127\.0\.0\.1';$/m);

        const lines: string[] = [];
        const result = await runSmoke({
            nuveUrl: `http://127.0.0.1:${nuvePort}/`,
            credentials: {
                serviceId: cluster!.superservice.id,
                serviceKey: cluster!.superservice.key,
            },
            timeoutMs: 30_000,
            expectReady: true,
            report: (line) => lines.push(line),
        });
        assert.ok(
            result.ok,
            `${lines.join("\n")}\n--- ec ---\n${controller.output.slice(-3000)}\n--- ea ---\n${agent.output.slice(-3000)}`,
        );
        assert.match(
            agent.output,
            new RegExp(`launched new ErizoJS, erizoId: ${result.publisherErizoId}`),
        );
    });
});
