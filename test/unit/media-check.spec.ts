/**
 * The media check's builders (components/media-check.ts), the CLI's pure parts
 * (tools/check-media/report.ts) and the checkers the program keeps with `mediaCheck.enabled`.
 * test/turn/check-media.spec.ts runs the probe itself against coturn.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { LICODE } from "../../components/images";
import {
    PROBE_DIR,
    checkerCommand,
    mediaCheckSpec,
    probeCommand,
    stunServerOf,
} from "../../components/media-check";
import {
    checkPod,
    formatReports,
    nodesOf,
    passed,
    reportOf,
    selectorArg,
    stackFileConfig,
    turnSecretOf,
} from "../../tools/check-media/report";
import { ProgramRun, StackResource, runProgram, stackConfig } from "../harness/program";

const BASE = { networkPolicy: { nodeCidrs: ["10.0.0.0/16"] } };
const kindOf = (r: StackResource) => r.type.split(":").pop() ?? "";

describe("the media check's builders", () => {
    it("asks the stack's TURN server for the address, else the first stun: URL", () => {
        assert.deepEqual(stunServerOf(parseStackConfig(BASE)), {
            host: "stun.l.google.com",
            port: 19302,
        });
        assert.deepEqual(
            stunServerOf(
                parseStackConfig({ ...BASE, turn: { enabled: true, host: "turn.example.com" } }),
            ),
            { host: "turn.example.com", port: 3478 },
        );
        assert.deepEqual(
            stunServerOf(
                parseStackConfig({
                    ...BASE,
                    iceServers: [{ urls: ["turn:t.example.com", "stun:s.example.com"] }],
                }),
            ),
            { host: "s.example.com", port: 3478 },
        );
        assert.equal(stunServerOf(parseStackConfig({ ...BASE, iceServers: [] })), undefined);
    });

    it("checks each pool's own range with the stack's public address", () => {
        const config = parseStackConfig({ ...BASE, publicAddress: { from: "nodeIP" } });
        const spec = mediaCheckSpec(
            config.publicAddress,
            config.media.pools[0],
            { stun: { host: "s", port: 3478 } },
            { samplePorts: 5, timeoutSeconds: 3 },
        );
        assert.deepEqual(spec, {
            pool: "default",
            publicAddress: { from: "nodeIP" },
            portRange: { min: 40000, max: 40999 },
            stun: { host: "s", port: 3478 },
            samplePorts: 5,
            timeoutMs: 3000,
        });
    });

    it("starts one pod per node on the node's network, with the image's node and the TURN user from its Secret", () => {
        const config = parseStackConfig(BASE);
        const target = {
            stun: { host: "turn.example.com", port: 3478 },
            turn: {
                host: "turn.example.com",
                port: 3478,
                secret: {
                    name: "turn-credentials-abc",
                    usernameKey: "username",
                    passwordKey: "password",
                },
            },
        };
        const pod: any = checkPod({
            name: "licode-media-check-1-0",
            namespace: "licode",
            node: { name: "media-0", pool: "default" },
            image: config.erizoAgent.image,
            resources: config.bootstrap.resources,
            spec: { pool: "default" },
            target,
            configMap: "licode-media-check-1",
        });
        assert.equal(pod.spec.nodeName, "media-0");
        assert.equal(pod.spec.hostNetwork, true);
        assert.equal(pod.spec.restartPolicy, "Never");
        assert.equal(pod.spec.automountServiceAccountToken, false);
        const [container] = pod.spec.containers;
        assert.deepEqual(container.command, [LICODE.nodeBinary, `${PROBE_DIR}/probe.js`]);
        assert.deepEqual(probeCommand(), container.command);
        assert.deepEqual(JSON.parse(container.env[0].value), { pool: "default", node: "media-0" });
        assert.deepEqual(container.env[1].valueFrom.fieldRef, { fieldPath: "status.hostIP" });
        assert.deepEqual(
            container.env.slice(2).map((e: any) => [e.name, e.valueFrom.secretKeyRef]),
            [
                ["MEDIA_CHECK_TURN_USERNAME", { name: "turn-credentials-abc", key: "username" }],
                ["MEDIA_CHECK_TURN_PASSWORD", { name: "turn-credentials-abc", key: "password" }],
            ],
        );
        assert.equal(container.securityContext.runAsNonRoot, true);
        assert.deepEqual(pod.spec.volumes, [
            { name: "probe", configMap: { name: "licode-media-check-1" } },
        ]);
    });
});

describe("check:media's reading and reporting", () => {
    it("reads the licode: keys of a stack file", () => {
        const raw = stackFileConfig(
            fs.readFileSync(path.resolve(__dirname, "../../Pulumi.prod.yaml"), "utf8"),
        );
        assert.equal(parseStackConfig(raw).turn.host, "turn.licode.example.com");
        assert.deepEqual(raw, stackConfig("prod"));
    });

    it("lists nodes with their InternalIP, and writes selectors as kubectl takes them", () => {
        const nodes = nodesOf(
            {
                items: [
                    {
                        metadata: { name: "media-0" },
                        status: {
                            addresses: [
                                { type: "Hostname", address: "media-0" },
                                { type: "InternalIP", address: "10.0.0.5" },
                            ],
                        },
                    },
                ],
            },
            "primary",
        );
        assert.deepEqual(nodes, [{ name: "media-0", pool: "primary", internalIp: "10.0.0.5" }]);
        assert.equal(
            selectorArg({ "licode.io/media": "true", zone: "a" }),
            "licode.io/media=true,zone=a",
        );
    });

    it("finds the TURN user's Secret in the TURN workload's start script", () => {
        const ref = (name: string, key: string) => ({ valueFrom: { secretKeyRef: { name, key } } });
        const workload = {
            spec: {
                template: {
                    spec: {
                        initContainers: [
                            {
                                env: [
                                    { name: "TURN_ADDRESS", valueFrom: { fieldRef: {} } },
                                    {
                                        name: "TURN_USERNAME",
                                        ...ref("turn-credentials-x", "username"),
                                    },
                                    {
                                        name: "TURN_PASSWORD",
                                        ...ref("turn-credentials-x", "password"),
                                    },
                                ],
                            },
                        ],
                    },
                },
            },
        };
        assert.deepEqual(turnSecretOf(workload), {
            name: "turn-credentials-x",
            usernameKey: "username",
            passwordKey: "password",
        });
        assert.equal(turnSecretOf({ spec: { template: { spec: {} } } }), undefined);
    });

    it("reports each node with its verdict and reasons, and fails nodes without a report", () => {
        const node = { name: "media-0", pool: "default" };
        const good = reportOf(
            node,
            'noise\n{"node":"media-0","announced":"203.0.113.5","pass":true,"checks":[{"name":"address seen by STUN","ok":true,"detail":"203.0.113.5:40000 as announced"}]}',
        );
        const bad = reportOf(
            { name: "media-1", pool: "default" },
            '{"node":"media-1","announced":"203.0.113.6","pass":false,"checks":[{"name":"UDP arrives on the media ports","ok":false,"detail":"did not arrive on port 40000"},{"name":"x","ok":null,"detail":"not tested"}]}',
        );
        const silent = reportOf({ name: "media-2", pool: "b" }, "", "the check pod did not finish");
        assert.equal(silent.pass, false);
        assert.equal(passed([good]), true);
        assert.equal(passed([good, bad]), false);
        assert.equal(passed([]), false, "no node checked is no pass");
        assert.equal(
            formatReports([good, bad, silent]),
            [
                "PASS  media-0  (pool default, announces 203.0.113.5)",
                "     ok address seen by STUN: 203.0.113.5:40000 as announced",
                "FAIL  media-1  (pool default, announces 203.0.113.6)",
                "      x UDP arrives on the media ports: did not arrive on port 40000",
                "      - x: not tested",
                "FAIL  media-2  (pool b)",
                "      x the check pod did not finish",
                "2 of 3 media nodes failed",
            ].join("\n"),
        );
        assert.match(formatReports([]), /no media node matched/);
    });
});

describe("the checkers the program keeps (mediaCheck.enabled)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("prod", { ...stackConfig("prod"), mediaCheck: { enabled: true } });
    });

    it("puts one checker DaemonSet on each pool's nodes, ready only once the probe passed", () => {
        const checkers = run.resources.filter(
            (r) => kindOf(r) === "DaemonSet" && r.name.startsWith("media-check-"),
        );
        assert.deepEqual(checkers.map((c) => c.name).sort(), [
            "media-check-overflow",
            "media-check-primary",
        ]);
        for (const checker of checkers) {
            const spec = checker.props.spec.template.spec;
            const pool = checker.name.replace("media-check-", "");
            assert.deepEqual(spec.nodeSelector, { "licode.io/media-pool": pool });
            assert.equal(spec.hostNetwork, true);
            const [container] = spec.containers;
            assert.deepEqual(container.command, checkerCommand());
            assert.match(
                container.command[2],
                /then touch .*passed; exec sleep infinity; fi; exit 1$/,
            );
            const check = JSON.parse(container.env[0].value);
            assert.equal(check.pool, pool);
            assert.deepEqual(check.stun, { host: "turn.licode.example.com", port: 3478 });
            assert.ok(container.env.some((e: any) => e.name === "MEDIA_CHECK_TURN_PASSWORD"));
            assert.match(container.readinessProbe.exec.command.join(" "), /test -f/);
            assert.equal(checker.updateTimeout, "5m");
        }
        const off = run.resources.filter((r) => r.name.startsWith("media-check"));
        assert.ok(off.some((r) => kindOf(r) === "ConfigMap"));
    });
});
