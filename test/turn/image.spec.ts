/**
 * The local coturn image (tools/images/coturn/build.sh: Debian's coturn 4.6.1, laid out like
 * coturn/coturn) run with runc as the Turn component's host-network pod runs it: the start script as
 * the init container (root, no capabilities, read-only root), then turnserver as PID 1 with the
 * pod's command, as root with only NET_BIND_SERVICE, SETUID and SETGID and no privilege escalation,
 * read-only root, the template, run, data and TLS volumes at the pod's own paths. Differs from a pod:
 * its network namespace has only loopback (the address is 127.0.0.1), and no seccomp profile
 * (test/images/runc.ts).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { COTURN } from "../../components/images";
import { turnArgsOf, turnCommand, turnFiles, turnProbeCommand } from "../../components/turn";
import { TURN_ENV, TURN_FILES, TURN_PATHS } from "../../components/turnserver-conf";
import { Container, NetNs, UnpackedImage, buildImage, unpackImage } from "../images/runc";
import { labPrerequisites } from "./lab";

const ROOT = path.resolve(__dirname, "..", "..");
const ID = `lkturn-img-${randomBytes(3).toString("hex")}`;

describe("the local coturn image, run as the TURN pod runs it (runc)", function () {
    this.timeout(900000);
    let dir: string;
    let image: UnpackedImage;
    let netns: NetNs | undefined;
    let turn: Container | undefined;
    const password = randomBytes(16).toString("hex");
    const volumes = { template: "", run: "", data: "", tls: "" };

    before(async function () {
        const missing = labPrerequisites(["runc", "openssl", "mmdebstrap"]);
        if (missing !== undefined) {
            throw new Error(missing);
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "lkturn-img-"));
        image = await unpackImage(
            (await buildImage(path.join(ROOT, "tools/images/coturn/build.sh"))).archive,
            path.join(dir, "image"),
        );
        for (const name of Object.keys(volumes) as (keyof typeof volumes)[]) {
            volumes[name] = path.join(dir, name);
            fs.mkdirSync(volumes[name]);
            // emptyDirs are 0777; the ConfigMap and Secret volumes readable by all (defaultMode 0644).
            fs.chmodSync(volumes[name], 0o777);
        }
        const stack = parseStackConfig({
            createNamespace: false,
            networkPolicy: { nodeCidrs: ["10.200.0.0/24"] },
            turn: { enabled: true, host: "turn.example.test", tls: { secretName: "turn-tls" } },
        });
        const files = turnFiles(
            turnArgsOf(
                stack.turn,
                { namespace: "licode", instance: "t" },
                { secretName: "turn-tls" },
                {
                    networkPolicy: true,
                },
            ),
            false,
        );
        for (const [name, text] of Object.entries(files)) {
            fs.writeFileSync(path.join(volumes.template, name), text, { mode: 0o644 });
        }
        const openssl = spawnSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=turn.example.test",
                "-keyout",
                "tls.key",
                "-out",
                "tls.crt",
            ],
            { cwd: volumes.tls, encoding: "utf8" },
        );
        assert.equal(openssl.status, 0, openssl.stderr);
        fs.chmodSync(path.join(volumes.tls, "tls.key"), 0o644);
        netns = await NetNs.create(ID);
    });

    after(async () => {
        await turn?.stop(10000);
        await netns?.destroy();
        if (dir !== undefined) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    const env = {
        [TURN_ENV.address]: "127.0.0.1",
        [TURN_ENV.username]: "licode",
        [TURN_ENV.password]: password,
    };

    /** Runs a container to its end; one that ends before runc reports it running fails its start with its exit code. */
    async function runToEnd(
        spec: Parameters<typeof Container.start>[0],
    ): Promise<{ code: number | null; logs: string }> {
        let container: Container;
        try {
            container = await Container.start(spec);
        } catch (error) {
            const message = (error as Error).message;
            const code = /exited with (\d+) at start/.exec(message)?.[1];
            if (code === undefined) {
                throw error;
            }
            return { code: Number(code), logs: message };
        }
        const code = await container.waitForExit(60000);
        const logs = container.logs;
        await container.stop(0);
        return { code, logs };
    }

    it("writes the private config in the init container, as root without capabilities", async () => {
        const prepare = await runToEnd({
            id: `${ID}-prep`,
            image,
            command: ["/bin/sh", `${TURN_PATHS.templateDir}/${TURN_FILES.prepare}`],
            env,
            user: { uid: 0, gid: 0 },
            readOnlyRootFilesystem: true,
            mounts: [
                { destination: TURN_PATHS.templateDir, source: volumes.template, readOnly: true },
                { destination: TURN_PATHS.runDir, source: volumes.run },
            ],
            netns: netns as NetNs,
        });
        assert.equal(prepare.code, 0, prepare.logs);
        const copy = fs.readFileSync(path.join(volumes.run, TURN_FILES.conf), "utf8");
        assert.match(copy, new RegExp(`^user=licode:${password}$`, "m"));
    });

    it("answers the pod's probe, listens for TLS on 443, and runs as nobody once it has bound its ports", async () => {
        turn = await Container.start({
            id: `${ID}-turn`,
            image,
            command: turnCommand(),
            env: { [TURN_ENV.address]: "127.0.0.1" },
            user: { uid: 0, gid: 0 },
            capabilities: ["CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"],
            noNewPrivileges: true,
            readOnlyRootFilesystem: true,
            mounts: [
                { destination: TURN_PATHS.runDir, source: volumes.run },
                { destination: COTURN.dataDir, source: volumes.data },
                { destination: TURN_PATHS.certDir, source: volumes.tls, readOnly: true },
            ],
            netns: netns as NetNs,
        });
        const probe = () =>
            turn!.exec(turnProbeCommand(), {
                env: { [TURN_ENV.address]: "127.0.0.1" },
                timeoutMs: 10000,
            });
        await turn.waitFor(
            async () => (await probe()).code === 0,
            60000,
            "a STUN answer to the probe",
        );
        assert.ok(await (netns as NetNs).tcpOpen(443), "TLS listener on 443");
        const status = await turn.exec(["/bin/sh", "-c", "grep '^Uid:' /proc/1/status"]);
        assert.match(status.stdout, /^Uid:\s+65534\s+65534\s+65534\s+65534/, status.stdout);
        assert.doesNotMatch(turn.logs, /cannot start TLS/);
    });

    it("ignores SIGTERM as PID 1 (coturn 4.6.1 installs no handler), so the pod ends at its grace period", async () => {
        // coturn 4.17, the coturn/coturn image, ends at SIGTERM (images.ts COTURN.signals);
        // 4.6.1's mainrelay.c handles only SIGUSR2, and the kernel drops a signal PID 1 does not
        // handle: the kubelet's SIGKILL at the end of turn.gracePeriodSeconds stops it.
        const started = Date.now();
        const code = await turn!.stop(3000);
        assert.equal(code, 137, turn!.logs.slice(-2000));
        assert.ok(Date.now() - started >= 3000);
        turn = undefined;
    });
});
