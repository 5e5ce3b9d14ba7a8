/**
 * Runs the OCI image archives that tools/images/<name>/build.sh produce (tools/images/oci-pack.js; any
 * single-platform OCI image layout in a tar works) with runc alone: no containerd, no registry, no daemon.
 *
 *   const image = await unpackImage((await buildImage("tools/images/rabbitmq/build.sh")).archive, dir);
 *   const netns = await NetNs.create("lkimg-rmq");
 *   const broker = await Container.start({ id: "lkimg-rmq", image, netns, user: { uid: 999, gid: 999 }, ... });
 *   await broker.exec(["rabbitmq-diagnostics", "-q", "ping"]);
 *   const port = await netns.forward(5672); // a loopback port of this host that reaches the container's 5672
 *
 * Each container gets an overlay of the unpacked image (the image directory is never written), the process
 * settings a kubelet would give it (user, supplementary groups, capabilities, no_new_privs, read-only root,
 * bind and tmpfs mounts, memory and CPU limits), and joins a network namespace of its own or a shared one, so
 * the default ports of several brokers never collide with each other or with the host's. It differs from a
 * kubelet with containerd in: no seccomp profile (RuntimeDefault is containerd's), no ephemeral-storage
 * limits, no pod sandbox (containers sharing a NetNs share only the network), and /etc/hosts, /etc/hostname
 * and /etc/resolv.conf written here.
 *
 * Needs root, runc, ip (iproute2), tar and overlayfs. Every name (container IDs, network namespaces) is the
 * caller's, so each suite can use its own prefix.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** What an image build script prints on its last stdout line (tools/images/lib.sh). */
export interface BuiltImage {
    readonly archive: string;
    readonly ref: string;
    readonly digest: string;
}

/** The part of an OCI image config the runtime uses. */
export interface ImageConfig {
    readonly Env?: string[];
    readonly Entrypoint?: string[];
    readonly Cmd?: string[];
    readonly WorkingDir?: string;
    readonly User?: string;
}

/** An image unpacked into a root filesystem. */
export interface UnpackedImage {
    /** The directory holding rootfs/ and the containers' bundles. */
    readonly dir: string;
    readonly rootfs: string;
    readonly config: ImageConfig;
    /** The manifest digest, sha256:... */
    readonly digest: string;
}

export interface CommandResult {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a command to its end and collects its output; never rejects on a non-zero exit. */
export function run(
    command: string,
    args: readonly string[],
    options: {
        readonly timeoutMs?: number;
        readonly env?: NodeJS.ProcessEnv;
        readonly input?: string;
    } = {},
): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            command,
            [...args],
            {
                timeout: options.timeoutMs ?? 120_000,
                maxBuffer: 64 * 1024 * 1024,
                env: options.env ?? process.env,
                encoding: "utf8",
            },
            (error, stdout, stderr) => {
                if (error !== null && typeof error.code === "string") {
                    reject(new Error(`${command}: ${error.message}`));
                    return;
                }
                resolve({
                    code: child.exitCode,
                    signal: child.signalCode,
                    stdout: String(stdout),
                    stderr: String(stderr),
                });
            },
        );
        // A command that exits before reading its input closes the pipe: that is no error here.
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(options.input ?? "");
    });
}

/** Runs a command that must succeed; rejects with its output otherwise. */
export async function runOk(
    command: string,
    args: readonly string[],
    options: { readonly timeoutMs?: number } = {},
): Promise<string> {
    const result = await run(command, args, options);
    if (result.code !== 0) {
        throw new Error(
            `${command} ${args.join(" ")} exited with ${result.code ?? result.signal}:\n${result.stderr}${result.stdout}`,
        );
    }
    return result.stdout;
}

/**
 * Runs an image build script and returns the image its last stdout line names. Its progress (stderr) goes
 * to `logFile`, which the error names when the build fails.
 */
export async function buildImage(
    script: string,
    options: { readonly timeoutMs?: number; readonly logFile?: string } = {},
): Promise<BuiltImage> {
    const logFile =
        options.logFile ??
        path.join(os.tmpdir(), `${path.basename(path.dirname(script))}-image-build.log`);
    const result = await run("bash", [script], { timeoutMs: options.timeoutMs ?? 3_600_000 });
    fs.writeFileSync(logFile, result.stderr);
    const last = result.stdout.trimEnd().split("\n").pop() ?? "";
    const [archive, ref, digest] = last.split("\t");
    if (result.code !== 0 || archive === undefined || ref === undefined || digest === undefined) {
        throw new Error(
            `${script} failed (exit ${result.code ?? result.signal}); its last stdout line was '${last}'; log: ${logFile}`,
        );
    }
    if (!fs.existsSync(archive) || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        throw new Error(`${script} printed '${last}', not "<archive>\\t<ref>\\t<digest>"`);
    }
    return { archive, ref, digest };
}

function sha256File(file: string): string {
    const hash = createHash("sha256");
    const fd = fs.openSync(file, "r");
    const buffer = Buffer.alloc(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) {
        hash.update(buffer.subarray(0, n));
    }
    fs.closeSync(fd);
    return `sha256:${hash.digest("hex")}`;
}

interface Descriptor {
    readonly mediaType: string;
    readonly digest: string;
    readonly platform?: { readonly os?: string; readonly architecture?: string };
}

/**
 * Unpacks an OCI image archive into `dir`/rootfs: checks every blob it reads against its digest, then
 * extracts the layers in order with their owners, modes and file capabilities, applying whiteouts.
 */
export async function unpackImage(archive: string, dir: string): Promise<UnpackedImage> {
    const layout = path.join(dir, "layout");
    const rootfs = path.join(dir, "rootfs");
    fs.mkdirSync(layout, { recursive: true });
    fs.mkdirSync(rootfs, { recursive: true });
    await runOk("tar", ["--extract", `--file=${archive}`, `--directory=${layout}`]);
    const blob = (digest: string): string => {
        const file = path.join(layout, "blobs", ...digest.split(":"));
        const actual = sha256File(file);
        if (actual !== digest) {
            throw new Error(`${archive}: blob ${digest} holds ${actual}`);
        }
        return file;
    };
    const readJson = <T>(digest: string): T =>
        JSON.parse(fs.readFileSync(blob(digest), "utf8")) as T;

    const index = JSON.parse(fs.readFileSync(path.join(layout, "index.json"), "utf8")) as {
        manifests: Descriptor[];
    };
    const manifests = index.manifests.filter(
        (m) =>
            m.platform === undefined ||
            (m.platform.os === "linux" && m.platform.architecture === "amd64"),
    );
    if (manifests.length !== 1) {
        throw new Error(
            `${archive}: index.json lists ${manifests.length} linux/amd64 manifests; expected one`,
        );
    }
    const manifestDigest = manifests[0].digest;
    const manifest = readJson<{ config: Descriptor; layers: Descriptor[] }>(manifestDigest);
    const imageConfig = readJson<{ config?: ImageConfig }>(manifest.config.digest).config ?? {};
    for (const layer of manifest.layers) {
        const file = blob(layer.digest);
        const gzip = layer.mediaType.endsWith("+gzip");
        if (!gzip && !layer.mediaType.endsWith(".tar")) {
            throw new Error(`${archive}: layer media type ${layer.mediaType} is not supported`);
        }
        const entries = (
            await runOk("tar", ["--list", gzip ? "--gzip" : "--no-auto-compress", `--file=${file}`])
        )
            .split("\n")
            .filter((e) => e !== "");
        // OCI whiteouts (image-spec layer.md): .wh..wh..opq empties its directory, .wh.<name> removes <name>.
        for (const entry of entries) {
            const base = path.posix.basename(entry);
            const parent = path.join(rootfs, path.posix.dirname(entry));
            if (base === ".wh..wh..opq") {
                for (const child of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
                    fs.rmSync(path.join(parent, child), { recursive: true, force: true });
                }
            } else if (base.startsWith(".wh.")) {
                fs.rmSync(path.join(parent, base.slice(".wh.".length)), {
                    recursive: true,
                    force: true,
                });
            }
        }
        await runOk("tar", [
            "--extract",
            gzip ? "--gzip" : "--no-auto-compress",
            `--file=${file}`,
            `--directory=${rootfs}`,
            "--numeric-owner",
            "--same-owner",
            "--same-permissions",
            "--xattrs",
            "--xattrs-include=security.capability",
            "--exclude=.wh.*",
            "--exclude=*/.wh.*",
        ]);
    }
    fs.rmSync(layout, { recursive: true, force: true });
    return { dir, rootfs, config: imageConfig, digest: manifestDigest };
}

/** A network namespace with only its loopback, reachable from this host through `forward`. */
export class NetNs {
    private readonly forwarders: { child: ChildProcess; server: net.Server }[] = [];

    private constructor(
        public readonly name: string,
        private readonly socketDir: string,
    ) {}

    /** The namespace's path, to join it (runc's linux.namespaces network path). */
    get path(): string {
        return `/var/run/netns/${this.name}`;
    }

    /** Creates `name` (it must not exist) with its loopback up. */
    static async create(name: string): Promise<NetNs> {
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,60}$/.test(name)) {
            throw new Error(
                `network namespace name '${name}' must be letters, digits, '.', '_' or '-'`,
            );
        }
        await runOk("ip", ["netns", "add", name]);
        try {
            await runOk("ip", ["-n", name, "link", "set", "lo", "up"]);
        } catch (error) {
            await run("ip", ["netns", "delete", name]);
            throw error;
        }
        return new NetNs(name, fs.mkdtempSync(path.join(os.tmpdir(), `${name}-sockets-`)));
    }

    /** Runs a command inside the namespace. */
    exec(
        argv: readonly string[],
        options: { readonly timeoutMs?: number } = {},
    ): Promise<CommandResult> {
        return run("ip", ["netns", "exec", this.name, ...argv], options);
    }

    /** Whether something accepts TCP connections on 127.0.0.1:`port` inside the namespace (a kubelet tcpSocket check). */
    async tcpOpen(port: number): Promise<boolean> {
        const result = await this.exec(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`], {
            timeoutMs: 10_000,
        });
        return result.code === 0;
    }

    /**
     * Makes 127.0.0.1:`port` of the namespace reachable on a free loopback port of this host, and returns
     * that port: a forwarder inside the namespace listens on a Unix socket (a path, so it crosses network
     * namespaces) and connects to the port; a server here pipes each connection to that socket.
     */
    async forward(port: number): Promise<number> {
        const socket = path.join(this.socketDir, `${port}.sock`);
        const program = [
            'const net = require("net");',
            "const [socket, port] = process.argv.slice(1);",
            "net.createServer((client) => {",
            '  const upstream = net.connect(Number(port), "127.0.0.1");',
            "  client.pipe(upstream).pipe(client);",
            '  client.on("error", () => upstream.destroy());',
            '  upstream.on("error", () => client.destroy());',
            '}).listen(socket, () => process.stdout.write("ready\\n"));',
        ].join("\n");
        const child = spawn(
            "ip",
            ["netns", "exec", this.name, process.execPath, "-e", program, socket, String(port)],
            {
                stdio: ["ignore", "pipe", "inherit"],
            },
        );
        await new Promise<void>((resolve, reject) => {
            child.once("exit", (code) =>
                reject(
                    new Error(`the forwarder to port ${port} in ${this.name} exited with ${code}`),
                ),
            );
            child.stdout?.once("data", () => resolve());
        });
        const server = net.createServer((client) => {
            const upstream = net.connect(socket);
            client.pipe(upstream).pipe(client);
            client.on("error", () => upstream.destroy());
            upstream.on("error", () => client.destroy());
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        this.forwarders.push({ child, server });
        return (server.address() as net.AddressInfo).port;
    }

    /** Stops the forwarders and deletes the namespace. */
    async destroy(): Promise<void> {
        for (const { child, server } of this.forwarders.splice(0)) {
            server.close();
            if (child.exitCode === null && child.signalCode === null) {
                const gone = new Promise((resolve) => child.once("exit", resolve));
                child.kill("SIGTERM");
                await gone;
            }
        }
        fs.rmSync(this.socketDir, { recursive: true, force: true });
        await run("ip", ["netns", "delete", this.name]);
    }
}

/** A mount in the container: a bind of a host path, or a tmpfs. */
export type MountSpec =
    | { readonly destination: string; readonly source: string; readonly readOnly?: boolean }
    | { readonly destination: string; readonly tmpfs: true; readonly options?: string[] };

/** How to run one container. */
export interface ContainerSpec {
    /** runc's container ID (also its cgroup name); unique on this host. */
    readonly id: string;
    readonly image: UnpackedImage;
    /** Replaces the image's Entrypoint, as a Kubernetes container's `command`. */
    readonly command?: readonly string[];
    /** Replaces the image's Cmd, as `args`. */
    readonly args?: readonly string[];
    /** Added to the image's Env; a name set here wins. */
    readonly env?: Readonly<Record<string, string>>;
    readonly user: {
        readonly uid: number;
        readonly gid: number;
        readonly additionalGids?: readonly number[];
    };
    readonly readOnlyRootFilesystem?: boolean;
    /** Capabilities the process keeps (e.g. "CAP_CHOWN"); none by default. */
    readonly capabilities?: readonly string[];
    /** Defaults to true (allowPrivilegeEscalation: false). */
    readonly noNewPrivileges?: boolean;
    readonly mounts?: readonly MountSpec[];
    readonly netns: NetNs;
    /** Defaults to the ID. */
    readonly hostname?: string;
    /** Extra /etc/hosts entries (a pod's hostAliases), name to address. */
    readonly hosts?: Readonly<Record<string, string>>;
    readonly memoryLimitBytes?: number;
    /** CPU limit in cores (0.25 for 250m). */
    readonly cpuLimit?: number;
    readonly workingDir?: string;
}

/** Runs `runc` with its state under `root`. */
function runc(root: string, args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
    return run("runc", ["--root", root, ...args], { timeoutMs });
}

/** The env of an image config plus overrides, as NAME=value lines, later names winning. */
function mergeEnv(image: readonly string[], extra: Readonly<Record<string, string>>): string[] {
    const merged = new Map<string, string>();
    for (const line of image) {
        const at = line.indexOf("=");
        merged.set(at < 0 ? line : line.slice(0, at), at < 0 ? "" : line.slice(at + 1));
    }
    for (const [name, value] of Object.entries(extra)) {
        merged.set(name, value);
    }
    return [...merged].map(([name, value]) => `${name}=${value}`);
}

/** The image's working directory; an empty or missing one means "/" (image-spec config.md WorkingDir). */
function imageWorkingDir(config: ImageConfig): string {
    const dir = config.WorkingDir ?? "";
    return dir === "" ? "/" : dir;
}

/** A running container (runc run in the foreground, its output collected). */
export class Container {
    private output = "";
    private readonly exit: Promise<number | null>;
    private exitCode: number | null | undefined;
    private readonly listeners: (() => void)[] = [];

    private constructor(
        public readonly spec: ContainerSpec,
        private readonly bundle: string,
        private readonly stateRoot: string,
        private readonly child: ChildProcess,
    ) {
        const collect = (chunk: Buffer) => {
            this.output += chunk.toString("utf8");
            for (const listener of this.listeners) {
                listener();
            }
        };
        child.stdout?.on("data", collect);
        child.stderr?.on("data", collect);
        this.exit = new Promise((resolve) => {
            child.once("exit", (code, signal) => {
                this.exitCode =
                    code ?? (signal === null ? null : 128 + (os.constants.signals[signal] ?? 0));
                for (const listener of this.listeners) {
                    listener();
                }
                resolve(this.exitCode);
            });
        });
    }

    /** Everything the container wrote to stdout and stderr so far. */
    get logs(): string {
        return this.output;
    }

    /** The exit code, or undefined while it runs. */
    get exited(): number | null | undefined {
        return this.exitCode;
    }

    /** Starts a container; resolves once runc has started its process. */
    static async start(
        spec: ContainerSpec,
        options: { readonly stateRoot?: string } = {},
    ): Promise<Container> {
        const stateRoot = options.stateRoot ?? "/run/runc";
        const bundle = path.join(spec.image.dir, "bundles", spec.id);
        if (fs.existsSync(bundle)) {
            throw new Error(`${bundle} exists: container ${spec.id} was not stopped`);
        }
        const rootfs = path.join(bundle, "rootfs");
        for (const d of [
            rootfs,
            path.join(bundle, "upper"),
            path.join(bundle, "work"),
            path.join(bundle, "etc"),
        ]) {
            fs.mkdirSync(d, { recursive: true });
        }
        // The image stays untouched: the container writes (and runc creates mount points) in the upper layer.
        await runOk("mount", [
            "-t",
            "overlay",
            "overlay",
            "-o",
            `lowerdir=${spec.image.rootfs},upperdir=${path.join(bundle, "upper")},workdir=${path.join(bundle, "work")}`,
            rootfs,
        ]);
        const hostname = spec.hostname ?? spec.id;
        const hostsLines = [
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            `127.0.0.1\t${hostname}`,
            ...Object.entries(spec.hosts ?? {}).map(([name, address]) => `${address}\t${name}`),
        ];
        fs.writeFileSync(path.join(bundle, "etc", "hosts"), `${hostsLines.join("\n")}\n`);
        fs.writeFileSync(path.join(bundle, "etc", "hostname"), `${hostname}\n`);
        fs.writeFileSync(path.join(bundle, "etc", "resolv.conf"), "");

        const args = [
            ...(spec.command ?? spec.image.config.Entrypoint ?? []),
            ...(spec.command !== undefined && spec.args === undefined
                ? []
                : (spec.args ?? spec.image.config.Cmd ?? [])),
        ];
        if (args.length === 0) {
            throw new Error(`container ${spec.id}: neither the spec nor the image names a command`);
        }
        const caps = [...(spec.capabilities ?? [])];
        const mounts = [
            { destination: "/proc", type: "proc", source: "proc" },
            {
                destination: "/dev",
                type: "tmpfs",
                source: "tmpfs",
                options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                destination: "/dev/pts",
                type: "devpts",
                source: "devpts",
                options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
            },
            {
                destination: "/dev/shm",
                type: "tmpfs",
                source: "shm",
                options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                destination: "/dev/mqueue",
                type: "mqueue",
                source: "mqueue",
                options: ["nosuid", "noexec", "nodev"],
            },
            {
                destination: "/sys",
                type: "sysfs",
                source: "sysfs",
                options: ["nosuid", "noexec", "nodev", "ro"],
            },
            {
                destination: "/sys/fs/cgroup",
                type: "cgroup",
                source: "cgroup",
                options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
            ...["hosts", "hostname", "resolv.conf"].map((name) => ({
                destination: `/etc/${name}`,
                type: "bind",
                source: path.join(bundle, "etc", name),
                options: ["rbind", "rprivate"],
            })),
            ...(spec.mounts ?? []).map((m) =>
                "tmpfs" in m
                    ? {
                          destination: m.destination,
                          type: "tmpfs",
                          source: "tmpfs",
                          options: m.options ?? ["nosuid", "nodev", "mode=1777"],
                      }
                    : {
                          destination: m.destination,
                          type: "bind",
                          source: m.source,
                          options: ["rbind", "rprivate", ...(m.readOnly === true ? ["ro"] : [])],
                      },
            ),
        ];
        const config = {
            ociVersion: "1.0.2-dev",
            process: {
                terminal: false,
                user: {
                    uid: spec.user.uid,
                    gid: spec.user.gid,
                    additionalGids: [...(spec.user.additionalGids ?? [])],
                },
                args,
                env: mergeEnv(spec.image.config.Env ?? [], spec.env ?? {}),
                cwd: spec.workingDir ?? imageWorkingDir(spec.image.config),
                capabilities: {
                    bounding: caps,
                    effective: caps,
                    permitted: caps,
                    inheritable: [],
                    ambient: [],
                },
                noNewPrivileges: spec.noNewPrivileges ?? true,
            },
            root: { path: "rootfs", readonly: spec.readOnlyRootFilesystem ?? false },
            hostname,
            mounts,
            linux: {
                resources: {
                    devices: [{ allow: false, access: "rwm" }],
                    ...(spec.memoryLimitBytes === undefined
                        ? {}
                        : { memory: { limit: spec.memoryLimitBytes } }),
                    ...(spec.cpuLimit === undefined
                        ? {}
                        : { cpu: { quota: Math.round(spec.cpuLimit * 100_000), period: 100_000 } }),
                },
                namespaces: [
                    { type: "pid" },
                    { type: "ipc" },
                    { type: "uts" },
                    { type: "mount" },
                    { type: "network", path: spec.netns.path },
                ],
                maskedPaths: [
                    "/proc/acpi",
                    "/proc/asound",
                    "/proc/kcore",
                    "/proc/keys",
                    "/proc/latency_stats",
                    "/proc/timer_list",
                    "/proc/timer_stats",
                    "/proc/sched_debug",
                    "/sys/firmware",
                    "/proc/scsi",
                ],
                readonlyPaths: [
                    "/proc/bus",
                    "/proc/fs",
                    "/proc/irq",
                    "/proc/sys",
                    "/proc/sysrq-trigger",
                ],
            },
        };
        fs.writeFileSync(path.join(bundle, "config.json"), JSON.stringify(config, null, 2));

        const child = spawn("runc", ["--root", stateRoot, "run", "--bundle", bundle, spec.id], {
            stdio: ["ignore", "pipe", "pipe"],
        });
        const container = new Container(spec, bundle, stateRoot, child);
        try {
            // Started once runc lists the container as running, or failed once runc run has exited.
            await container.waitFor(
                async () => {
                    if (container.exited !== undefined) {
                        throw new Error(
                            `container ${spec.id} exited with ${container.exited} at start:\n${container.logs}`,
                        );
                    }
                    const state = await runc(stateRoot, ["state", spec.id]);
                    return state.code === 0 && /"status":\s*"running"/.test(state.stdout);
                },
                60_000,
                "runc to start it",
            );
        } catch (error) {
            await container.stop(0);
            throw error;
        }
        return container;
    }

    /**
     * Waits until `check` holds, re-checking every `recheckMs` and, with `wakeOnOutput`, whenever the
     * container writes output or exits.
     */
    async waitFor(
        check: () => Promise<boolean> | boolean,
        timeoutMs: number,
        what: string,
        recheckMs = 500,
        wakeOnOutput = true,
    ): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            if (await check()) {
                return;
            }
            const left = deadline - Date.now();
            if (left <= 0) {
                throw new Error(
                    `container ${this.spec.id}: timed out after ${timeoutMs} ms waiting for ${what}; its output:\n${this.output.slice(-4000)}`,
                );
            }
            await new Promise<void>((resolve) => {
                const done = () => {
                    clearTimeout(timer);
                    const at = this.listeners.indexOf(done);
                    if (at >= 0) {
                        this.listeners.splice(at, 1);
                    }
                    resolve();
                };
                const timer = setTimeout(done, Math.min(recheckMs, left));
                if (wakeOnOutput) {
                    this.listeners.push(done);
                }
            });
        }
    }

    /** Waits until the container's output matches `pattern`; fails early if the container exits. */
    async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
        await this.waitFor(
            () => {
                if (pattern.test(this.output)) {
                    return true;
                }
                if (this.exited !== undefined) {
                    throw new Error(
                        `container ${this.spec.id} exited with ${this.exited} before printing ${pattern}:\n${this.output.slice(-4000)}`,
                    );
                }
                return false;
            },
            timeoutMs,
            `output matching ${pattern}`,
        );
    }

    /** Waits for the container to exit and returns its exit code. */
    async waitForExit(timeoutMs: number): Promise<number | null> {
        await this.waitFor(() => this.exited !== undefined, timeoutMs, "its exit");
        return this.exit;
    }

    /**
     * Runs a command in the container as the kubelet runs an exec probe: the container's user, env,
     * capabilities and working directory, with extra env if given.
     */
    async exec(
        argv: readonly string[],
        options: {
            readonly env?: Readonly<Record<string, string>>;
            readonly timeoutMs?: number;
        } = {},
    ): Promise<CommandResult> {
        const envArgs = Object.entries(options.env ?? {}).flatMap(([name, value]) => [
            "--env",
            `${name}=${value}`,
        ]);
        return runc(
            this.stateRoot,
            ["exec", ...envArgs, this.spec.id, ...argv],
            options.timeoutMs ?? 60_000,
        );
    }

    /**
     * Stops the container as a kubelet does (SIGTERM, then SIGKILL after `graceMs`), removes it from runc,
     * unmounts its overlay and deletes its bundle. Returns the exit code. Safe to call twice.
     */
    async stop(graceMs = 30_000): Promise<number | null> {
        const exitedWithin = async (ms: number): Promise<boolean> => {
            try {
                await this.waitFor(() => this.exited !== undefined, ms, "its exit");
                return true;
            } catch {
                return false;
            }
        };
        if (this.exited === undefined) {
            await runc(this.stateRoot, ["kill", this.spec.id, "TERM"]);
            if (!(await exitedWithin(graceMs))) {
                await runc(this.stateRoot, ["kill", "--all", this.spec.id, "KILL"]);
                // runc run itself, should it hang without its container.
                if (!(await exitedWithin(30_000))) {
                    this.child.kill("SIGKILL");
                    await exitedWithin(10_000);
                }
            }
        }
        await runc(this.stateRoot, ["delete", "--force", this.spec.id]);
        if (fs.existsSync(this.bundle)) {
            await run("umount", [path.join(this.bundle, "rootfs")]);
            fs.rmSync(this.bundle, { recursive: true, force: true });
        }
        return this.exit;
    }
}
