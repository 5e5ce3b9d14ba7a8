/**
 * Debian's coturn 4.6.1 runs with exactly the configuration the Turn component renders (its
 * turnserver.conf and start script, with the file paths moved out of the container's), in a lab of
 * network namespaces: a TURN host at 203.0.113.10, a client at 203.0.113.20, and a peer with a
 * public address (203.0.113.30) and a private one (10.99.0.30). The documentation range stands for
 * the public Internet because TURN does not deny it (config/turn.ts PRIVATE_PEER_RANGES says why).
 * turnutils_uclient, coturn's own client, allocates with the generated credentials over UDP, TCP
 * and TLS and sends data through the relay to turnutils_peer, which echoes it back.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TurnConfig, parseStackConfig } from "../../components/config";
import { TURN_PATHS, TURN_FILES, TURN_ENV } from "../../components/turnserver-conf";
import {
    TurnArgs,
    turnArgsOf,
    turnCommand,
    turnFiles,
    turnProbeCommand,
} from "../../components/turn";
import { COTURN } from "../../components/images";
import { Lab, RunningProcess, labPrerequisites, waitUntil } from "./lab";

const HOST = "turn.example.test";
const TURN_IP = "203.0.113.10";
const PEER_PUBLIC = "203.0.113.30";
const PEER_PRIVATE = "10.99.0.30";
const PEER_PORT = 3480;

/** The stack's turn config, parsed as the program parses it, with TLS from the operator's Secret. */
function stackTurn(overrides: Record<string, unknown> = {}): TurnConfig {
    return parseStackConfig({
        createNamespace: false,
        networkPolicy: { nodeCidrs: ["10.200.0.0/24"] },
        turn: { enabled: true, host: HOST, tls: { secretName: "turn-tls" }, ...overrides },
    }).turn;
}

function argsOf(turn: TurnConfig): TurnArgs {
    return turnArgsOf(
        turn,
        { namespace: "licode", instance: "licode-test" },
        { secretName: "turn-tls" },
        { networkPolicy: true },
    );
}

/** A CA and a certificate for HOST signed by it, as a kubernetes.io/tls Secret holds them. */
function makeCertificate(dir: string): { ca: string } {
    const openssl = (...args: string[]) => {
        const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
        assert.equal(result.status, 0, `openssl ${args.join(" ")}: ${result.stderr}`);
    };
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=lkturn test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    );
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        `/CN=${HOST}`,
        "-keyout",
        "tls.key",
        "-out",
        "tls.csr",
    );
    fs.writeFileSync(path.join(dir, "san.ext"), `subjectAltName=DNS:${HOST}\n`);
    openssl(
        "x509",
        "-req",
        "-in",
        "tls.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "tls.crt",
    );
    return { ca: path.join(dir, "ca.crt") };
}

describe("coturn with the rendered configuration (Debian's coturn, network namespaces)", function () {
    this.timeout(120000);
    const lab = new Lab();
    let dir: string;
    let paths: { [K in keyof typeof TURN_PATHS]: string };
    let ca: string;
    let turnserver: RunningProcess;
    const username = "licode";
    const password = randomBytes(16).toString("hex");

    /** Writes the rendered files where `paths` says, runs the start script, starts turnserver. */
    async function startTurn(turn: TurnConfig): Promise<RunningProcess> {
        const files = turnFiles(argsOf(turn), false, paths);
        for (const [name, text] of Object.entries(files)) {
            fs.writeFileSync(path.join(paths.templateDir, name), text);
        }
        const prepared = await lab.run(
            "srv",
            ["/bin/sh", path.join(paths.templateDir, TURN_FILES.prepare)],
            {
                env: {
                    [TURN_ENV.username]: username,
                    [TURN_ENV.password]: password,
                    [TURN_ENV.address]: TURN_IP,
                },
            },
        );
        assert.equal(prepared.code, 0, prepared.stderr);
        // The pod runs the image's turnserver with the same arguments (turnCommand).
        const [, ...args] = turnCommand().map((arg) =>
            arg.replace(TURN_PATHS.runDir, paths.runDir),
        );
        const started = lab.start("srv", ["turnserver", ...args]);
        await waitUntil(
            "coturn to answer STUN on 3478",
            async () => (await stunAnswer()).code === 0,
        );
        return started;
    }

    /** The probe command of the pod, run in the TURN host's namespace. */
    function stunAnswer() {
        const command = turnProbeCommand();
        return lab.run("srv", command, { env: { [TURN_ENV.address]: TURN_IP }, timeoutMs: 10000 });
    }

    /** One UDP datagram from `host` to the peer port of `address`; exit 0 once it is echoed. */
    function udpEcho(host: string, address: string) {
        return lab.run(host, [
            process.execPath,
            "-e",
            `const s = require("dgram").createSocket("udp4");
             s.on("message", () => process.exit(0));
             s.on("error", () => process.exit(2));
             s.send("ping", ${PEER_PORT}, ${JSON.stringify(address)});
             setTimeout(() => process.exit(1), 1000);`,
        ]);
    }

    /** turnutils_uclient from the client host: 10 messages to the peer through a relay. */
    function relay(
        peer: string,
        options: { transport?: "udp" | "tcp" | "tls"; password?: string } = {},
    ) {
        const transport = options.transport ?? "udp";
        const flags =
            transport === "udp"
                ? []
                : transport === "tcp"
                  ? ["-t"]
                  : ["-t", "-S", "-p", "443", "-E", ca];
        return lab.run("cli", [
            "turnutils_uclient",
            ...flags,
            "-c",
            "-n",
            "10",
            "-u",
            username,
            "-w",
            options.password ?? password,
            "-e",
            peer,
            "-r",
            String(PEER_PORT),
            TURN_IP,
        ]);
    }

    before(async function () {
        const missing = labPrerequisites([
            "turnserver",
            "turnutils_uclient",
            "turnutils_peer",
            "turnutils_stunclient",
            "openssl",
        ]);
        if (missing !== undefined) {
            throw new Error(missing);
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "lkturn-"));
        fs.chmodSync(dir, 0o755);
        paths = {
            templateDir: path.join(dir, "template"),
            runDir: path.join(dir, "run"),
            certDir: path.join(dir, "tls"),
            dataDir: path.join(dir, "data"),
        };
        for (const p of Object.values(paths)) {
            fs.mkdirSync(p);
            // As an emptyDir: writable by coturn once it has dropped to nobody.
            fs.chmodSync(p, 0o777);
        }
        ca = makeCertificate(paths.certDir).ca;
        // As a Secret volume mounts them (defaultMode 0644): readable after coturn drops to nobody.
        fs.chmodSync(path.join(paths.certDir, "tls.key"), 0o644);
        lab.create([
            { name: "srv", addresses: [`${TURN_IP}/24`], routes: ["10.99.0.0/24"] },
            { name: "cli", addresses: ["203.0.113.20/24"] },
            { name: "peer", addresses: [`${PEER_PUBLIC}/24`, `${PEER_PRIVATE}/24`] },
        ]);
        for (const address of [PEER_PUBLIC, PEER_PRIVATE]) {
            lab.start("peer", ["turnutils_peer", "-L", address, "-p", String(PEER_PORT)]);
            await waitUntil(
                `turnutils_peer to echo on ${address}`,
                async () => (await udpEcho("peer", address)).code === 0,
            );
        }
        turnserver = await startTurn(stackTurn());
    });

    after(async () => {
        await lab.destroy();
        if (dir !== undefined) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("runs the component's files, only moved: the same text with the container's paths", () => {
        const args = argsOf(stackTurn());
        const inPod = turnFiles(args, false);
        const moved = turnFiles(args, false, paths);
        for (const name of Object.keys(inPod)) {
            let text = moved[name];
            for (const key of Object.keys(paths) as (keyof typeof paths)[]) {
                text = text.split(paths[key]).join(TURN_PATHS[key]);
            }
            assert.equal(text, inPod[name], name);
        }
        assert.equal(turnCommand()[0], COTURN.binary);
    });

    it("writes the private copy with the address and the user, readable by its owner only", () => {
        const copy = path.join(paths.runDir, TURN_FILES.conf);
        const text = fs.readFileSync(copy, "utf8");
        assert.ok(
            text.startsWith(fs.readFileSync(path.join(paths.templateDir, TURN_FILES.conf), "utf8")),
        );
        assert.match(text, new RegExp(`^listening-ip=${TURN_IP}$`, "m"));
        assert.match(text, new RegExp(`^relay-ip=${TURN_IP}$`, "m"));
        assert.match(text, new RegExp(`^user=${username}:${password}$`, "m"));
        assert.equal(fs.statSync(copy).mode & 0o777, 0o600);
    });

    for (const transport of ["udp", "tcp", "tls"] as const) {
        it(`allocates over ${transport.toUpperCase()} with the credentials and relays data to an allowed peer and back`, async () => {
            const run = await relay(PEER_PUBLIC, { transport });
            assert.equal(run.code, 0, run.stdout + run.stderr);
            assert.match(run.stdout, /tot_send_msgs=10, tot_recv_msgs=10/);
        });
    }

    it("refuses an allocation with a wrong password, over UDP, TCP and TLS", async () => {
        for (const transport of ["udp", "tcp", "tls"] as const) {
            const run = await relay(PEER_PUBLIC, { transport, password: "not-the-password" });
            assert.notEqual(run.code, 0, run.stdout);
            assert.match(run.stdout, /Cannot complete Allocation/);
        }
    });

    it("refuses to relay to a private address, naming the denied range", async () => {
        const run = await relay(PEER_PRIVATE);
        assert.notEqual(run.code, 0, run.stdout);
        assert.match(run.stdout, /403 \(Forbidden IP\)/);
        await turnserver.waitForOutput(
            new RegExp(
                `peer IP ${PEER_PRIVATE.replace(/\./g, "\\.")} denied in the range: 10\\.0\\.0\\.0-10\\.255\\.255\\.255`,
            ),
        );
    });

    it("refuses loopback and multicast peers", async () => {
        for (const peer of ["127.0.0.1", "224.0.0.1"]) {
            const run = await relay(peer);
            assert.notEqual(run.code, 0, `${peer}: ${run.stdout}`);
            assert.match(run.stdout, /403/, peer);
        }
    });

    it("is refused by configuration, not by the network: the TURN host itself reaches the private peer", async () => {
        const echo = await udpEcho("srv", PEER_PRIVATE);
        assert.equal(echo.code, 0, echo.stderr);
    });

    it("fails the probe once coturn has stopped, and passes while it runs", async () => {
        assert.equal((await stunAnswer()).code, 0);
        await lab.stop(turnserver);
        const stopped = await stunAnswer();
        assert.notEqual(stopped.code, 0);
        assert.match(stopped.stderr, /no STUN Binding answer from 203\.0\.113\.10:3478/);
        turnserver = await startTurn(stackTurn());
        assert.equal((await stunAnswer()).code, 0);
    });

    it("stops at its user quota: a second concurrent allocation of the shared user fails", async () => {
        await lab.stop(turnserver);
        turnserver = await startTurn(stackTurn({ userQuota: 1, totalQuota: 1 }));
        // -m 2: two clients at once, each with its own allocation.
        const run = await lab.run("cli", [
            "turnutils_uclient",
            "-c",
            "-n",
            "50",
            "-m",
            "2",
            "-u",
            username,
            "-w",
            password,
            "-e",
            PEER_PUBLIC,
            "-r",
            String(PEER_PORT),
            TURN_IP,
        ]);
        assert.notEqual(run.code, 0, run.stdout);
        assert.match(run.stdout + turnserver.output(), /486|[Qq]uota/);
    });

    it("refuses credentials the file cannot carry, before coturn starts", async () => {
        for (const bad of ["two\nlines", "0xdeadbeef", "with space"]) {
            const run = await lab.run(
                "srv",
                ["/bin/sh", path.join(paths.templateDir, TURN_FILES.prepare)],
                {
                    env: {
                        [TURN_ENV.username]: username,
                        [TURN_ENV.password]: bad,
                        [TURN_ENV.address]: TURN_IP,
                    },
                },
            );
            assert.notEqual(run.code, 0, JSON.stringify(bad));
            assert.match(run.stderr, /prepare: /);
        }
    });
});
