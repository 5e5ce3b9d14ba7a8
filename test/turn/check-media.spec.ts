/**
 * The media check's probe (tools/check-media/probe.js) on a "media node" of a lab of network
 * namespaces, against Debian's coturn 4.6.1 as STUN and TURN server, running the configuration
 * the Turn component renders. The node's public address is 198.51.100.5 on eth0 (a documentation
 * range: TURN does not deny it); one case moves it to a private address TURN denies. Mismatches
 * are made the way they happen: a wrong static address, a firewall in the node that lets replies
 * in but drops new inbound UDP to the media range.
 */
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { TURN_ENV, TURN_FILES, TURN_PATHS } from "../../components/turnserver-conf";
import { turnArgsOf, turnCommand, turnFiles, turnProbeCommand } from "../../components/turn";
import { Lab, labPrerequisites, waitUntil } from "./lab";

const TURN_IP = "203.0.113.10";
const NODE_IP = "198.51.100.5";
const RANGE = { min: 40000, max: 40099 };
const PROBE = path.resolve(__dirname, "..", "..", "tools", "check-media", "probe.js");

interface Report {
    node: string;
    pass: boolean;
    announced?: string;
    checks: { name: string; ok: boolean | null; detail: string }[];
}

describe("the media check on a node (tools/check-media/probe.js, network namespaces)", function () {
    this.timeout(120000);
    const lab = new Lab();
    let dir: string;
    const password = randomBytes(16).toString("hex");

    function check(overrides: Record<string, unknown> = {}): Record<string, unknown> {
        return {
            node: "media-0",
            publicAddress: { from: "interface", interface: "eth0" },
            nodeIp: NODE_IP,
            portRange: RANGE,
            stun: { host: TURN_IP, port: 3478 },
            turn: { host: TURN_IP, port: 3478, username: "licode" },
            samplePorts: 4,
            ...overrides,
        };
    }

    /** Runs the probe in the node's namespace; the password comes in as a pod's secretKeyRef would. */
    async function probe(host: string, spec: Record<string, unknown>): Promise<Report> {
        const run = await lab.run(host, [process.execPath, PROBE], {
            env: { MEDIA_CHECK: JSON.stringify(spec), MEDIA_CHECK_TURN_PASSWORD: password },
        });
        const line = run.stdout.trim().split("\n").pop() ?? "";
        const report = JSON.parse(line) as Report;
        assert.equal(run.code, report.pass ? 0 : 1, `exit code against ${line}`);
        return report;
    }

    const detail = (report: Report, name: string) =>
        report.checks.find((c) => c.name === name) ?? assert.fail(`no check "${name}"`);

    before(async function () {
        const missing = labPrerequisites(["turnserver", "turnutils_stunclient", "iptables"]);
        if (missing !== undefined) {
            throw new Error(missing);
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "lkturn-"));
        fs.chmodSync(dir, 0o755);
        const paths = {
            templateDir: path.join(dir, "template"),
            runDir: path.join(dir, "run"),
            certDir: path.join(dir, "tls"),
            dataDir: path.join(dir, "data"),
        };
        for (const p of Object.values(paths)) {
            fs.mkdirSync(p);
            fs.chmodSync(p, 0o777);
        }
        lab.create([
            {
                name: "srv",
                addresses: [`${TURN_IP}/24`],
                routes: ["198.51.100.0/24", "10.99.0.0/24"],
            },
            { name: "node", addresses: [`${NODE_IP}/24`], routes: ["203.0.113.0/24"] },
            { name: "priv", addresses: ["10.99.0.5/24"], routes: ["203.0.113.0/24"] },
        ]);
        const turn = parseStackConfig({
            networkPolicy: { nodeCidrs: ["10.200.0.0/24"] },
            media: { portRange: RANGE },
            turn: { enabled: true, host: "turn.example.test" },
        }).turn;
        const files = turnFiles(
            turnArgsOf(turn, { namespace: "licode", instance: "t" }, undefined, {
                networkPolicy: true,
            }),
            false,
            paths,
        );
        for (const [name, text] of Object.entries(files)) {
            fs.writeFileSync(path.join(paths.templateDir, name), text);
        }
        const prepared = await lab.run(
            "srv",
            ["/bin/sh", path.join(paths.templateDir, TURN_FILES.prepare)],
            {
                env: {
                    [TURN_ENV.username]: "licode",
                    [TURN_ENV.password]: password,
                    [TURN_ENV.address]: TURN_IP,
                },
            },
        );
        assert.equal(prepared.code, 0, prepared.stderr);
        const [, ...args] = turnCommand().map((a) => a.replace(TURN_PATHS.runDir, paths.runDir));
        lab.start("srv", ["turnserver", ...args]);
        const command = turnProbeCommand();
        await waitUntil(
            "coturn to answer STUN",
            async () =>
                (
                    await lab.run("srv", command, {
                        env: { [TURN_ENV.address]: TURN_IP },
                        timeoutMs: 10000,
                    })
                ).code === 0,
        );
    });

    after(async () => {
        await lab.destroy();
        if (dir !== undefined) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("passes a node whose interface address is what STUN sees, and where UDP to the range arrives", async () => {
        const report = await probe("node", check());
        assert.ok(report.pass, JSON.stringify(report, null, 2));
        assert.equal(report.announced, NODE_IP);
        assert.match(
            detail(report, "address seen by STUN").detail,
            /198\.51\.100\.5:\d+ as announced/,
        );
        assert.match(
            detail(report, "UDP arrives on the media ports").detail,
            /from TURN \(203\.0\.113\.10:\d+\) to 198\.51\.100\.5 on 40000, 40033, 40066, 40099/,
        );
    });

    it("passes with nodeIP, taking the node's InternalIP", async () => {
        const report = await probe("node", check({ publicAddress: { from: "nodeIP" } }));
        assert.ok(report.pass, JSON.stringify(report, null, 2));
        assert.match(detail(report, "announced address").detail, /InternalIP/);
    });

    it("fails a wrong static address, naming the node and both addresses", async () => {
        const report = await probe(
            "node",
            check({ node: "media-7", publicAddress: { from: "static", ip: "198.51.100.99" } }),
        );
        assert.equal(report.pass, false);
        assert.equal(report.node, "media-7");
        assert.match(
            detail(report, "address seen by STUN").detail,
            /Licode announces 198\.51\.100\.99, but 203\.0\.113\.10:3478 sees this node as 198\.51\.100\.5/,
        );
    });

    it("fails an interface the node does not have", async () => {
        const report = await probe(
            "node",
            check({ publicAddress: { from: "interface", interface: "eth9" } }),
        );
        assert.equal(report.pass, false);
        assert.match(
            detail(report, "announced address").detail,
            /first IPv4 address of eth9 .* has none/,
        );
    });

    it("fails a range the node's firewall blocks, naming the ports, while replies still pass", async () => {
        const rule = [
            "-p",
            "udp",
            "--dport",
            `${RANGE.min}:${RANGE.max}`,
            "-m",
            "conntrack",
            "--ctstate",
            "NEW",
            "-j",
            "DROP",
        ];
        const added = await lab.run("node", ["iptables", "-I", "INPUT", ...rule]);
        assert.equal(added.code, 0, added.stderr);
        try {
            const report = await probe("node", check({ node: "media-3" }));
            assert.equal(report.pass, false);
            assert.equal(report.node, "media-3");
            assert.equal(detail(report, "address seen by STUN").ok, true);
            const udp = detail(report, "UDP arrives on the media ports");
            assert.equal(udp.ok, false);
            assert.match(udp.detail, /did not arrive on ports 40000, 40033, 40066, 40099/);
            assert.match(udp.detail, /open 40000-40099\/udp/);
        } finally {
            await lab.run("node", ["iptables", "-D", "INPUT", ...rule]);
        }
    });

    it("fails a node whose address TURN denies as a peer: relayed clients could not reach it", async () => {
        const report = await probe("priv", check({ node: "media-9" }));
        assert.equal(report.pass, false);
        assert.match(
            detail(report, "UDP arrives on the media ports").detail,
            /TURN refuses 10\.99\.0\.5 as a peer \(403/,
        );
    });

    it("says what it did not test when the stack has no TURN server", async () => {
        const report = await probe("node", check({ turn: undefined }));
        assert.ok(report.pass);
        const udp = detail(report, "UDP arrives on the media ports");
        assert.equal(udp.ok, null);
        assert.match(udp.detail, /not tested/);
    });

    it("fails when the STUN server does not answer", async () => {
        const report = await probe(
            "node",
            check({ stun: { host: TURN_IP, port: 3999 }, turn: undefined, timeoutMs: 1500 }),
        );
        assert.equal(report.pass, false);
        assert.match(
            detail(report, "address seen by STUN").detail,
            /no answer from 203\.0\.113\.10:3999/,
        );
    });
});
