/**
 * The TURN tier: its config, the pure renderers (turnserver.conf, the start script, the clients'
 * iceServers and ErizoJS's relay), the TLS plan, and the objects the program makes under mocks.
 * test/turn/ runs what these render with Debian's coturn.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as vm from "vm";
import { coturnRange, parseCidr, rangeContains, rangesOverlap } from "../../components/cidr";
import {
    ConfigError,
    PRIVATE_PEER_RANGES,
    TURN_METRICS_PORT,
    parseStackConfig,
} from "../../components/config";
import { COTURN } from "../../components/images";
import { renderLicodeConfig } from "../../components/licode-config-file";
import { licodeAlertRules } from "../../components/monitoring/alerts";
import { dashboardMetricNames, licodeDashboard } from "../../components/monitoring/dashboard";
import { COTURN_METRICS } from "../../components/monitoring/metric-names";
import type { ApiDiscovery, ObjectLookup } from "../../components/monitoring/api-discovery";
import { TurnTlsContext, planTurnTls, turnListenerPorts, turnProbes } from "../../components/turn";
import {
    TURN_PATHS,
    erizoTurnSettings,
    renderTurnPrepareScript,
    renderTurnserverConf,
    turnIceServer,
} from "../../components/turnserver-conf";
import { ProgramRun, StackResource, runProgram, stackConfig } from "../harness/program";

const kindOf = (r: StackResource) => r.type.split(":").pop() ?? "";
const find = (run: ProgramRun, kind: string, name: string) => {
    const found = run.resources.find(
        (r) => r.type.startsWith("kubernetes:") && kindOf(r) === kind && r.name === name,
    );
    assert.ok(found, `no ${kind} ${name}`);
    return found;
};
const ofType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);
/** A value from another realm (a vm context) as plain data of this one. */
const plainJson = (value: any) => JSON.parse(JSON.stringify(value));

/** Problems of a config as "key: message" lines. */
function problems(raw: Record<string, unknown>): string[] {
    try {
        parseStackConfig(raw);
    } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        return error.problems.map((p) => `${p.key}: ${p.message}`);
    }
    return [];
}

const BASE = { networkPolicy: { nodeCidrs: ["10.0.0.0/16"] } };
const TURN = { enabled: true, host: "turn.example.com" };

describe("turn config", () => {
    it("is off by default, and on it denies the private ranges, the node ranges and nothing public", () => {
        assert.equal(parseStackConfig(BASE).turn.enabled, false);
        const turn = parseStackConfig({ ...BASE, turn: TURN }).turn;
        for (const range of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]) {
            assert.ok(turn.deniedPeers.includes(range), range);
        }
        for (const range of ["169.254.0.0/16", "127.0.0.0/8", "224.0.0.0/4", "0.0.0.0/8"]) {
            assert.ok(turn.deniedPeers.includes(range), range);
        }
        for (const range of ["fc00::/7", "fe80::/10", "::1/128", "ff00::/8"]) {
            assert.ok(turn.deniedPeers.includes(range), range);
        }
        assert.ok(turn.deniedPeers.includes("10.0.0.0/16"), "networkPolicy.nodeCidrs");
        const denied = turn.deniedPeers.map((r) => parseCidr(r)!);
        for (const address of ["203.0.113.5", "198.51.100.5", "8.8.8.8", "2001:db8::1"]) {
            assert.ok(!denied.some((r) => rangeContains(r, address)), address);
        }
        assert.deepEqual(turn.relayPortRange, { min: 49152, max: 49999 });
        assert.deepEqual([turn.userQuota, turn.totalQuota], [800, 800]);
        assert.equal(turn.image.repository, "coturn/coturn");
        assert.equal(turn.image.tag, "4.17.0-r0");
    });

    it("adds the pod, service and extra ranges, and drops node ranges on request", () => {
        const turn = parseStackConfig({
            ...BASE,
            turn: {
                ...TURN,
                deniedPeers: {
                    podCidrs: ["100.96.0.0/11"],
                    serviceCidrs: ["fd00:10:96::/112"],
                    nodeCidrs: false,
                    extra: ["198.51.100.0/24"],
                },
            },
        }).turn;
        for (const range of ["100.96.0.0/11", "fd00:10:96::/112", "198.51.100.0/24"]) {
            assert.ok(turn.deniedPeers.includes(range), range);
        }
        assert.ok(!turn.deniedPeers.includes("10.0.0.0/16"));
    });

    it("names the key and the fix for every problem at once", () => {
        assert.deepEqual(
            problems({
                ...BASE,
                turn: {
                    enabled: true,
                    userQuota: 900,
                    relayPortRange: { min: 3000, max: 3999 },
                    totalQuota: 800,
                    deniedPeers: { extra: ["10.0.0.1/8", "0.0.0.0/32"] },
                    erizoRelay: { enabled: true },
                },
            }),
            [
                "licode:turn.deniedPeers.extra[0]: a denied range must be an IPv4 or IPv6 range such as 10.0.0.0/8 or fd00::/8 (host bits zero), or one address",
                "licode:turn.deniedPeers.extra[1]: a denied range that is only the all-zero address (0.0.0.0 or ::) means every address to coturn; remove it",
                "licode:turn.host: TURN needs the name clients connect to: set turn.host, e.g. turn.example.com (a DNS record for every TURN node, or for the LoadBalancer's address)",
                "licode:turn.relayPortRange: holds 3478, a port coturn listens on; move the range, e.g. to 49152-49999",
                "licode:turn.userQuota: exceeds totalQuota (800); every client shares one TURN user, so the user quota is reached only under the total: set userQuota at most totalQuota",
                "licode:turn.erizoRelay.address: ErizoJS takes the TURN server as an IPv4 address (libnice resolves no names): set erizoRelay.address to a TURN node's address",
            ],
        );
    });

    it("refuses a relay range that overlaps a media pool, naming both keys", () => {
        assert.deepEqual(
            problems({
                ...BASE,
                media: {
                    pools: [
                        {
                            name: "a",
                            nodeSelector: { m: "a" },
                            portRange: { min: 40000, max: 40999 },
                        },
                        {
                            name: "b",
                            nodeSelector: { m: "b" },
                            portRange: { min: 49500, max: 49600 },
                        },
                    ],
                },
                turn: TURN,
            }),
            [
                "licode:turn.relayPortRange: overlaps licode:media.pools[1].portRange (49500-49600); a TURN node that is also a media node would have coturn and ErizoJS bind the same UDP ports, and firewall rules for one would open the other: give TURN its own range, e.g. 49152-49999",
            ],
        );
        assert.match(
            problems({ ...BASE, media: { portRange: { min: 49000, max: 49200 } }, turn: TURN })[0],
            /overlaps licode:media\.portRange \(49000-49200\)/,
        );
    });

    it("refuses TLS on an IP address", () => {
        assert.deepEqual(
            problems({ ...BASE, turn: { enabled: true, host: "203.0.113.5", tls: {} } }),
            [
                "licode:turn.host: TURN over TLS needs a DNS name: browsers check the certificate against the host they connect to; set turn.host to a DNS name, or remove turn.tls",
            ],
        );
    });

    it("needs an operator's certificate Secret before its namespace exists, not cert-manager's", () => {
        assert.deepEqual(problems({ ...BASE, turn: { ...TURN, tls: { secretName: "t" } } }), [
            'licode:turn.tls: the certificate Secret "t" is yours and TURN\'s pods need it from the start, so it must exist before the first up, and its namespace too: create "licode" with the Secret and set createNamespace: false, or let cert-manager issue it (turn.tls.certManager)',
        ]);
        assert.deepEqual(
            problems({
                ...BASE,
                createNamespace: false,
                turn: { ...TURN, tls: { secretName: "t" } },
            }),
            [],
        );
        assert.deepEqual(
            problems({
                ...BASE,
                turn: { ...TURN, tls: { certManager: { issuer: { name: "letsencrypt" } } } },
            }),
            [],
        );
    });

    it("refuses a static media address TURN would deny, unless it is allowed", () => {
        const raw = { ...BASE, publicAddress: { from: "static", ip: "10.0.5.5" }, turn: TURN };
        assert.match(
            problems(raw)[0],
            /^licode:turn\.allowedPeers: the media nodes announce 10\.0\.5\.5 \(publicAddress\.ip\), which TURN denies as a peer \(10\.0\.0\.0\/8\)/,
        );
        assert.deepEqual(
            problems({ ...raw, turn: { ...TURN, allowedPeers: ["10.0.5.5/32"] } }),
            [],
        );
    });

    it("keeps a LoadBalancer's relay range within what a Service can list", () => {
        assert.match(
            problems({
                ...BASE,
                turn: {
                    ...TURN,
                    totalQuota: 100,
                    userQuota: 100,
                    placement: { mode: "loadBalancer", loadBalancerIP: "203.0.113.9" },
                    relayPortRange: { min: 50000, max: 51500 },
                },
            })[0],
            /licode:turn\.relayPortRange: 1501 ports; behind a LoadBalancer each relay port is a Service port: keep at most 1000/,
        );
    });

    it("treats turn.existingSecret like the other operators' Secrets", () => {
        assert.match(
            problems({ ...BASE, turn: { ...TURN, existingSecret: { name: "turn-user" } } })[0],
            /^licode:createNamespace: your Secrets \(licode:turn\.existingSecret\) must exist before the first up/,
        );
        assert.match(
            problems({
                ...BASE,
                turn: { ...TURN, existingSecret: { name: "turn-credentials" } },
            })[0],
            /name of a Secret the stack generates/,
        );
    });

    it("needs a STUN server for the media check", () => {
        assert.deepEqual(problems({ ...BASE, iceServers: [], mediaCheck: { enabled: true } }), [
            "licode:mediaCheck.enabled: the check asks a STUN server what address each node has: enable turn, or list a stun: URL in iceServers",
        ]);
        assert.deepEqual(problems({ ...BASE, mediaCheck: { enabled: true } }), []);
    });
});

describe("CIDR ranges for coturn", () => {
    it("parses IPv4 and IPv6 ranges and writes them as coturn's first-last ranges", () => {
        assert.equal(coturnRange(parseCidr("10.0.0.0/8")!), "10.0.0.0-10.255.255.255");
        assert.equal(coturnRange(parseCidr("203.0.113.7")!), "203.0.113.7");
        assert.equal(
            coturnRange(parseCidr("fe80::/10")!),
            "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        );
        assert.equal(coturnRange(parseCidr("::ffff:0:0/96")!), "::ffff:0:0-::ffff:ffff:ffff");
        assert.equal(coturnRange(parseCidr("::1/128")!), "::1");
        assert.equal(parseCidr("10.0.0.1/8"), undefined, "host bits set");
        assert.equal(parseCidr("10.0.0.0/33"), undefined);
        assert.equal(parseCidr("nonsense"), undefined);
    });

    it("tells containment and overlap apart by family", () => {
        assert.ok(rangeContains(parseCidr("100.64.0.0/10")!, "100.100.1.1"));
        assert.ok(!rangeContains(parseCidr("100.64.0.0/10")!, "100.128.0.1"));
        assert.ok(rangesOverlap(parseCidr("10.0.0.0/8")!, parseCidr("10.1.0.0/16")!));
        assert.ok(!rangesOverlap(parseCidr("10.0.0.0/8")!, parseCidr("fc00::/7")!));
        assert.ok(rangeContains(parseCidr("::ffff:0:0/96")!, "::ffff:10.0.0.1"));
    });

    it("leaves out the unspecified address, which coturn would read as every address", () => {
        assert.ok(PRIVATE_PEER_RANGES.every((r) => parseCidr(r.cidr)!.last !== 0n));
        assert.throws(
            () => renderTurnserverConf({ ...SETTINGS, deniedPeers: ["::/128"] }),
            /would mean every address/,
        );
    });
});

const SETTINGS = {
    realm: "turn.example.com",
    relayPortRange: { min: 49152, max: 49999 },
    deniedPeers: ["10.0.0.0/8", "fc00::/7"],
    allowedPeers: ["10.1.2.3/32"],
    userQuota: 10,
    totalQuota: 20,
    maxBps: 250000,
    bpsCapacity: 125000000,
    prometheus: false,
    runDir: "/run/x",
    dataDir: "/var/lib/coturn",
};

describe("renderTurnserverConf", () => {
    const lines = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

    it("renders every limit, the peer ranges as coturn reads them, and no credentials", () => {
        assert.deepEqual(lines(renderTurnserverConf(SETTINGS)), [
            "listening-port=3478",
            "no-tls",
            "no-dtls",
            "min-port=49152",
            "max-port=49999",
            "lt-cred-mech",
            "realm=turn.example.com",
            "fingerprint",
            "stale-nonce=600",
            "no-tcp-relay",
            "no-multicast-peers",
            "denied-peer-ip=10.0.0.0-10.255.255.255",
            "denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "allowed-peer-ip=10.1.2.3",
            "user-quota=10",
            "total-quota=20",
            "max-bps=250000",
            "bps-capacity=125000000",
            "no-cli",
            "no-software-attribute",
            "log-file=stdout",
            "simple-log",
            "pidfile=/run/x/turnserver.pid",
            "userdb=/var/lib/coturn/turndb",
        ]);
    });

    it("listens with TLS on 443 with the Secret's files, drops privileges and serves metrics when asked", () => {
        const text = renderTurnserverConf({
            ...SETTINGS,
            tls: { certFile: "/c/tls.crt", keyFile: "/c/tls.key" },
            dropPrivilegesTo: { user: "nobody", group: "nogroup" },
            prometheus: true,
        });
        for (const line of [
            "tls-listening-port=443",
            "cert=/c/tls.crt",
            "pkey=/c/tls.key",
            "proc-user=nobody",
            "proc-group=nogroup",
            "prometheus",
            `prometheus-port=${TURN_METRICS_PORT}`,
        ]) {
            assert.ok(lines(text).includes(line), line);
        }
        assert.ok(!lines(text).includes("no-tls"));
        assert.ok(!/allow-loopback-peers/.test(lines(text).join("\n")));
    });

    it("writes a start script that carries the address and the user, not their values", () => {
        const script = renderTurnPrepareScript("/t", "/r");
        assert.match(script, /cat "\/t\/turnserver\.conf"/);
        assert.match(script, /printf 'user=%s:%s\\n' "\$TURN_USERNAME" "\$TURN_PASSWORD"/);
        assert.match(script, /0x\* \| 0X\*\)/);
        assert.match(script, /umask 077/);
    });
});

describe("what Licode hands out for TURN", () => {
    const load = (text: string) => {
        const module = { exports: {} as Record<string, any> };
        vm.runInNewContext(text, { module });
        return module.exports;
    };
    const values = {
        rabbitUrl: "amqp://u:p@rabbit:5672",
        mongoUrl: "mongodb://m",
        superserviceId: "0123456789abcdef01234567",
        superserviceKey: "k",
        installDir: "/opt/licode",
    };

    it("gives clients UDP, TCP and TLS on 443, with the credentials", () => {
        assert.deepEqual(turnIceServer("turn.example.com", "licode", "pw", true), {
            urls: [
                "turn:turn.example.com:3478?transport=udp",
                "turn:turn.example.com:3478?transport=tcp",
                "turns:turn.example.com:443?transport=tcp",
            ],
            username: "licode",
            credential: "pw",
        });
        assert.equal(turnIceServer("h", "u", "p", false).urls.length, 2);
    });

    it("appends TURN to the stack's iceServers, and sets ErizoJS's relay only when asked", () => {
        const stack = parseStackConfig({ ...BASE, turn: TURN });
        const iceServer = turnIceServer("turn.example.com", "licode", "pw", true);
        const plain = plainJson(
            load(renderLicodeConfig(stack, { ...values, turn: { iceServer } })),
        );
        assert.deepEqual(plain.erizoController.iceServers, [
            { urls: "stun:stun.l.google.com:19302" },
            iceServer,
        ]);
        assert.equal(plain.erizo.turnserver, "");
        const relayed = plainJson(
            load(
                renderLicodeConfig(stack, {
                    ...values,
                    turn: {
                        iceServer,
                        erizo: { address: "203.0.113.9", username: "licode", password: "pw" },
                    },
                }),
            ),
        );
        assert.deepEqual(
            {
                turnserver: relayed.erizo.turnserver,
                turnport: relayed.erizo.turnport,
                turnusername: relayed.erizo.turnusername,
                turnpass: relayed.erizo.turnpass,
            },
            erizoTurnSettings("203.0.113.9", "licode", "pw"),
        );
        assert.equal(relayed.erizo.turnport, 3478);
    });
});

describe("planTurnTls", () => {
    const issuer = { name: "le", kind: "ClusterIssuer" as const };
    const tls = (create?: "auto" | boolean) => ({
        secretName: "turn-tls",
        certManager: create === undefined ? undefined : { create, issuer },
    });
    const SERVER = "https://k8s";
    const served: ApiDiscovery = {
        status: "served",
        kinds: new Set(["Certificate", "Issuer"]),
        server: SERVER,
    };
    const absent: ApiDiscovery = { status: "absent", server: SERVER };
    const unknown: ApiDiscovery = { status: "unknown", reason: "no kubeconfig" };
    const found: ObjectLookup = { status: "found", server: SERVER };
    const missing: ObjectLookup = { status: "absent", server: SERVER };

    /** A run against a cluster that answers `discovery` and `secret`; `asked` records the questions. */
    function run(
        discovery: ApiDiscovery,
        secret: ObjectLookup,
        options: { dryRun?: boolean; renderMode?: boolean; createNamespace?: boolean } = {},
    ): { context: TurnTlsContext; asked: string[] } {
        const asked: string[] = [];
        const context: TurnTlsContext = {
            namespace: "licode",
            createNamespace: options.createNamespace ?? false,
            renderMode: options.renderMode ?? false,
            dryRun: options.dryRun ?? false,
            discover: () => {
                asked.push("discover");
                return discovery;
            },
            findSecret: (namespace, name) => {
                asked.push(`secret ${namespace}/${name}`);
                return secret;
            },
        };
        return { context, asked };
    }
    const CREATE =
        "kubectl -n licode create secret tls turn-tls --cert=<certificate chain for licode:turn.host> --key=<its private key>";
    /** The refusal of an update whose Secret is missing, for each reason nothing makes it. */
    const refusal = (why: string, alternative = "", namespaceAdvice = "") =>
        `licode:turn.tls.secretName: the Secret "turn-tls" does not exist in namespace "licode", and TURN's pods mount it to serve TLS on 443; ${why}. Create it (${CREATE})${alternative}.${namespaceAdvice}`;
    const NOT_SERVED =
        "licode:turn.tls.certManager.create is auto and the cluster (https://k8s) serves no cert-manager.io/v1 Certificate, so the stack declares none to issue it";
    const INSTALL =
        ", or install cert-manager: the next run declares the Certificate and waits for it";
    const throwsRunError = (plan: () => unknown, message: string) =>
        assert.throws(plan, (error: unknown) => {
            assert.ok(pulumi.RunError.isInstance(error), `not a RunError: ${String(error)}`);
            assert.equal((error as Error).message, `${message}\nNothing was deployed.`);
            return true;
        });

    it("asks for a Certificate where the cluster serves cert-manager, and reads the Secret", () => {
        const { context, asked } = run(served, found);
        const plan = planTurnTls(tls("auto"), context);
        assert.deepEqual(plan.tls, { secretName: "turn-tls", issuer, rollOnRenewal: true });
        assert.deepEqual(plan.warnings, []);
        assert.deepEqual(asked, ["discover", "secret licode/turn-tls"]);
    });

    it("lets the Certificate make a missing Secret: up reads it once issued, a preview leaves the checksum out", () => {
        const up = planTurnTls(tls("auto"), run(served, missing).context);
        assert.deepEqual(up.tls, { secretName: "turn-tls", issuer, rollOnRenewal: true });
        assert.deepEqual(up.warnings, []);
        const preview = planTurnTls(tls(true), run(absent, missing, { dryRun: true }).context);
        assert.deepEqual(preview.tls, { secretName: "turn-tls", issuer, rollOnRenewal: false });
        assert.deepEqual(preview.warnings, []);
    });

    it("uses the operator's Secret where cert-manager is absent, and reads it when it is there", () => {
        assert.deepEqual(planTurnTls(tls("auto"), run(absent, found).context).tls, {
            secretName: "turn-tls",
            issuer: undefined,
            rollOnRenewal: true,
        });
        assert.deepEqual(planTurnTls(tls(), run(served, found).context).tls, {
            secretName: "turn-tls",
            issuer: undefined,
            rollOnRenewal: true,
        });
    });

    it("stops an up whose Secret is missing with nothing to make it, naming the key, the namespace and the fix", () => {
        throwsRunError(
            () => planTurnTls(tls(), run(served, missing).context),
            refusal("the Secret is yours (licode:turn.tls has no certManager)"),
        );
        throwsRunError(
            () => planTurnTls(tls("auto"), run(absent, missing).context),
            refusal(NOT_SERVED, INSTALL),
        );
        throwsRunError(
            () => planTurnTls(tls("auto"), run(absent, missing, { createNamespace: true }).context),
            refusal(
                NOT_SERVED,
                INSTALL,
                ' The stack creates namespace "licode" itself (licode:createNamespace): to hold your Secret before the first up, create the namespace and the Secret first and set licode:createNamespace to false.',
            ),
        );
        throwsRunError(
            () => planTurnTls(tls(false), run(served, missing).context),
            refusal(
                "licode:turn.tls.certManager.create is false, so the stack declares no Certificate to issue it",
                ", or set licode:turn.tls.certManager.create to auto with cert-manager installed",
            ),
        );
    });

    it("only warns in a preview, which a change whose pipeline creates the Secret before up must pass", () => {
        const plan = planTurnTls(tls("auto"), run(absent, missing, { dryRun: true }).context);
        assert.deepEqual(plan.tls, {
            secretName: "turn-tls",
            issuer: undefined,
            rollOnRenewal: false,
        });
        assert.deepEqual(plan.warnings, [
            `${refusal(NOT_SERVED, INSTALL)} This preview goes on without it; \`pulumi up\` stops here unless the Secret exists by then.`,
        ]);
    });

    it("reads through the provider, as before, when the lookup cannot tell", () => {
        const cannotTell: ObjectLookup = {
            status: "unknown",
            reason: "the API server answered 403: forbidden",
        };
        const plan = planTurnTls(tls(), run(absent, cannotTell).context);
        assert.deepEqual(plan.tls, {
            secretName: "turn-tls",
            issuer: undefined,
            rollOnRenewal: true,
        });
        assert.deepEqual(plan.warnings, []);
    });

    it("says why when the cluster cannot be asked, and never reads in render mode", () => {
        const cannotAsk = run(unknown, missing);
        const plan = planTurnTls(tls("auto"), cannotAsk.context);
        assert.equal(plan.tls?.issuer, undefined);
        assert.equal(plan.tls?.rollOnRenewal, false);
        assert.equal(plan.warnings.length, 2);
        assert.match(
            plan.warnings[0],
            /certManager\.create is auto, but .* unknown \(no kubeconfig\)/,
        );
        assert.deepEqual(cannotAsk.asked, ["discover"], "no Secret lookup of a silent cluster");
        const rendering = run(served, missing, { renderMode: true });
        const rendered = planTurnTls(tls(true), rendering.context);
        assert.deepEqual(rendering.asked, []);
        assert.deepEqual(rendered.tls?.issuer, issuer);
        assert.equal(rendered.tls?.rollOnRenewal, false);
        const off = run(served, missing);
        assert.equal(planTurnTls(undefined, off.context).tls, undefined);
        assert.deepEqual(off.asked, []);
    });
});

describe("the TURN tier in the program", () => {
    const devTurn = (turn: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
        ...stackConfig("dev"),
        ...extra,
        turn: { enabled: true, host: "turn.dev.example.com", ...turn },
    });
    let hostNetwork: ProgramRun;
    let loadBalancer: ProgramRun;
    before(async () => {
        hostNetwork = await runProgram("dev", devTurn({}));
        loadBalancer = await runProgram(
            "dev",
            devTurn({
                placement: { mode: "loadBalancer", loadBalancerIP: "203.0.113.9" },
                relayPortRange: { min: 49152, max: 49251 },
                userQuota: 100,
                totalQuota: 100,
                erizoRelay: { enabled: true },
            }),
        );
    });

    it("runs one coturn per labelled node on the host network, rolling one node at a time", () => {
        const ds = find(hostNetwork, "DaemonSet", "turn").props;
        assert.equal(ds.metadata.name, "licode-turn");
        assert.deepEqual(ds.spec.updateStrategy.rollingUpdate, { maxUnavailable: 1, maxSurge: 0 });
        const spec = ds.spec.template.spec;
        assert.equal(spec.hostNetwork, true);
        assert.equal(spec.dnsPolicy, "ClusterFirstWithHostNet");
        assert.deepEqual(spec.nodeSelector, { "licode.io/turn": "true" });
        const [turn] = spec.containers;
        assert.equal(turn.image, "coturn/coturn:4.17.0-r0");
        assert.deepEqual(turn.command, [
            COTURN.binary,
            "-c",
            `${TURN_PATHS.runDir}/turnserver.conf`,
        ]);
        assert.equal(turn.securityContext.runAsUser, 0);
        assert.deepEqual(turn.securityContext.capabilities, {
            drop: ["ALL"],
            add: ["NET_BIND_SERVICE", "SETUID", "SETGID"],
        });
        assert.equal(turn.securityContext.allowPrivilegeEscalation, false);
        assert.equal(turn.securityContext.readOnlyRootFilesystem, true);
        assert.deepEqual(turn.env, [
            { name: "TURN_ADDRESS", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
        ]);
        for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
            assert.deepEqual(turn[probe], turnProbes()[probe]);
        }
        const find2 = (ports: any[], name: string) => ports.find((p) => p.name === name);
        assert.equal(find2(turn.ports, "turn-udp").protocol, "UDP");
        assert.equal(find2(turn.ports, "turn-tcp").containerPort, 3478);
        assert.equal(find2(turn.ports, "turns"), undefined, "no TLS listener without turn.tls");
        const pdb = find(hostNetwork, "PodDisruptionBudget", "turn-pdb").props;
        assert.equal(pdb.spec.maxUnavailable, 1);
    });

    it("renders turnserver.conf into a ConfigMap, the credentials into a Secret, and rolls on both", () => {
        const configMap = find(hostNetwork, "ConfigMap", "turn-config").props;
        const conf: string = configMap.data["turnserver.conf"];
        assert.match(conf, /^realm=turn\.dev\.example\.com$/m);
        assert.match(conf, /^proc-user=nobody$/m);
        assert.match(conf, /^denied-peer-ip=10\.0\.0\.0-10\.255\.255\.255$/m);
        const password = find(hostNetwork, "Secret", "turn-credentials").props.stringData.password;
        assert.ok(!conf.includes(password));
        const annotations = find(hostNetwork, "DaemonSet", "turn").props.spec.template.metadata
            .annotations;
        assert.ok(annotations["checksum/turn-config"]);
        assert.ok(annotations["checksum/turn-credentials"]);
        assert.ok(!JSON.stringify(annotations).includes(password));
        const [prepare] = find(hostNetwork, "DaemonSet", "turn").props.spec.template.spec
            .initContainers;
        const refs = prepare.env.filter((e: any) => e.valueFrom?.secretKeyRef);
        assert.deepEqual(
            refs.map((e: any) => e.name),
            ["TURN_USERNAME", "TURN_PASSWORD"],
        );
    });

    it("hands every client the TURN server with the generated credentials", () => {
        const password = find(hostNetwork, "Secret", "turn-credentials").props.stringData.password;
        const module = { exports: {} as Record<string, any> };
        vm.runInNewContext(
            find(hostNetwork, "Secret", "licode-config").props.stringData["licode_config.js"],
            { module, process: { env: {} } },
        );
        const [, turn] = plainJson(module.exports.erizoController.iceServers);
        assert.deepEqual(turn, turnIceServer("turn.dev.example.com", "licode", password, false));
        assert.equal(module.exports.erizo.turnserver, "");
        assert.deepEqual(hostNetwork.outputs.turnUrls, turn.urls);
    });

    it("behind a LoadBalancer: one nobody coturn, every relay port, and egress only to allowed peers", () => {
        const deployment = find(loadBalancer, "Deployment", "turn").props;
        assert.equal(deployment.spec.replicas, 1);
        assert.equal(deployment.spec.strategy.type, "Recreate");
        const spec = deployment.spec.template.spec;
        assert.equal(spec.hostNetwork, undefined);
        assert.deepEqual(spec.securityContext.sysctls, [
            { name: "net.ipv4.ip_unprivileged_port_start", value: "0" },
        ]);
        assert.equal(spec.containers[0].securityContext.runAsUser, COTURN.user.uid);
        assert.equal(spec.containers[0].securityContext.runAsNonRoot, true);
        assert.deepEqual(spec.initContainers[0].env[1], {
            name: "TURN_EXTERNAL_IP",
            value: "203.0.113.9",
        });
        const service = find(loadBalancer, "Service", "turn").props;
        assert.equal(service.spec.type, "LoadBalancer");
        assert.equal(service.spec.loadBalancerIP, "203.0.113.9");
        assert.equal(service.spec.externalTrafficPolicy, "Local");
        assert.equal(service.spec.ports.length, 2 + 100);
        assert.deepEqual(
            service.spec.ports.map((p: any) => p.targetPort),
            turnListenerPorts({
                placement: { mode: "loadBalancer", loadBalancerIP: "203.0.113.9" },
                relayPortRange: { min: 49152, max: 49251 },
            }).map((p) => p.name),
        );
        const conf = find(loadBalancer, "ConfigMap", "turn-config").props.data["turnserver.conf"];
        assert.doesNotMatch(conf, /proc-user/);
        const policy = find(loadBalancer, "NetworkPolicy", "turn").props.spec;
        assert.deepEqual(policy.ingress[0].ports.at(-1), {
            protocol: "UDP",
            port: 49152,
            endPort: 49251,
        });
        const [v4, v6] = policy.egress[0].to;
        assert.equal(v4.ipBlock.cidr, "0.0.0.0/0");
        assert.ok(v4.ipBlock.except.includes("10.0.0.0/8"));
        assert.ok(v4.ipBlock.except.includes("169.254.0.0/16"));
        assert.equal(v6.ipBlock.cidr, "::/0");
        assert.ok(v6.ipBlock.except.includes("fc00::/7"));
    });

    it("points ErizoJS at the LoadBalancer's address when media nodes relay through TURN", () => {
        const module = { exports: {} as Record<string, any> };
        vm.runInNewContext(
            find(loadBalancer, "Secret", "licode-config").props.stringData["licode_config.js"],
            { module, process: { env: {} } },
        );
        assert.equal(module.exports.erizo.turnserver, "203.0.113.9");
        assert.equal(module.exports.erizo.turnport, 3478);
        assert.equal(module.exports.erizo.turnusername, "licode");
    });

    it("serves TLS on 443 from the certificate cert-manager issues, and waits for it", async () => {
        const run = await runProgram(
            "dev",
            devTurn({
                tls: {
                    secretName: "turn-tls",
                    certManager: { create: true, issuer: { name: "letsencrypt" } },
                },
            }),
        );
        const certificate = find(run, "Certificate", "turn-certificate").props;
        assert.equal(certificate.apiVersion, "cert-manager.io/v1");
        assert.deepEqual(certificate.spec.dnsNames, ["turn.dev.example.com"]);
        assert.equal(certificate.spec.secretName, "turn-tls");
        assert.equal(certificate.metadata.annotations["pulumi.com/waitFor"], "condition=Ready");
        const spec = find(run, "DaemonSet", "turn").props.spec.template.spec;
        assert.deepEqual(spec.volumes.at(-1), { name: "tls", secret: { secretName: "turn-tls" } });
        assert.ok(
            spec.containers[0].ports.some(
                (p: any) => p.name === "turns" && p.containerPort === 443,
            ),
        );
        const conf = find(run, "ConfigMap", "turn-config").props.data["turnserver.conf"];
        assert.match(conf, new RegExp(`^cert=${TURN_PATHS.certDir}/tls\\.crt$`, "m"));
    });

    it("rolls only TURN when a TURN limit changes, and every Licode reader when TURN is switched on", async () => {
        const before = hostNetwork;
        const after = await runProgram("dev", devTurn({ userQuota: 500, totalQuota: 500 }));
        const templates = (run: ProgramRun) =>
            Object.fromEntries(
                run.resources
                    .filter((r) => ["Deployment", "StatefulSet", "DaemonSet"].includes(kindOf(r)))
                    .map((r) => [`${kindOf(r)}/${r.name}`, JSON.stringify(r.props.spec.template)]),
            );
        const changed = (a: ProgramRun, b: ProgramRun) => {
            const [x, y] = [templates(a), templates(b)];
            return Object.keys(x)
                .filter((k) => x[k] !== y[k])
                .sort();
        };
        assert.deepEqual(changed(before, after), ["DaemonSet/turn"]);
        const off = await runProgram("dev", stackConfig("dev"));
        const common = Object.keys(templates(off));
        assert.deepEqual(
            changed(off, before).filter((k) => common.includes(k)),
            ["DaemonSet/erizo-agent-default", "Deployment/erizo-controller", "Deployment/nuve"],
        );
    });
});

describe("TURN in monitoring", () => {
    const alertOptions = {
        namespace: "licode",
        nuveDeployment: "licode-nuve",
        erizoControllerDeployment: "licode-erizo-controller",
        mediaDaemonSets: ["licode-erizo-agent-default"],
        rovService: "licode-rov",
        statsPeriodSeconds: 20,
        failedConnectionsPerPeriod: 5,
        roomLimit: 20,
        roomsPerControllerRatio: 0.8,
    };

    it("alerts on no Ready coturn, and on challenges without allocations only with its metrics", () => {
        const names = (metrics: boolean) =>
            licodeAlertRules({
                ...alertOptions,
                turn: { workload: "licode-turn", kind: "daemonset", metrics, totalQuota: 800 },
            })
                .map((r) => r.alert)
                .filter((a) => a.startsWith("LicodeTurn"));
        assert.deepEqual(names(false), ["LicodeTurnDown"]);
        assert.deepEqual(names(true), [
            "LicodeTurnDown",
            "LicodeTurnAllocationsFailing",
            "LicodeTurnNearQuota",
        ]);
        const rules = licodeAlertRules({
            ...alertOptions,
            turn: { workload: "licode-turn", kind: "deployment", metrics: true, totalQuota: 100 },
        });
        const expr = (name: string) => rules.find((r) => r.alert === name)?.expr ?? "";
        assert.match(
            expr("LicodeTurnDown"),
            /kube_deployment_status_replicas_available\{namespace="licode",deployment="licode-turn"\} < 1/,
        );
        assert.match(
            expr("LicodeTurnAllocationsFailing"),
            /turn_unauthenticated_401_responses.* unless .*turn_total_allocations/,
        );
        assert.match(expr("LicodeTurnNearQuota"), /> 90$/);
    });

    it("draws TURN panels only from metrics coturn exports", () => {
        const options = { uid: "u", namespace: "licode", roomLimitPerController: 20 };
        const without = dashboardMetricNames(licodeDashboard(options));
        const names = dashboardMetricNames(licodeDashboard({ ...options, turn: true }));
        const added = names.filter((n) => !without.includes(n));
        assert.ok(added.length >= 3);
        assert.deepEqual(
            added.filter((n) => !(COTURN_METRICS as readonly string[]).includes(n)),
            [],
        );
        assert.ok(without.every((n) => !n.startsWith("turn_")));
    });
});

describe("the TURN tier's objects in prod", () => {
    it("is one more host-network tier on its own nodes, with the metrics Service its only Service", async () => {
        const prod = await runProgram("prod", stackConfig("prod"));
        const ds = find(prod, "DaemonSet", "turn").props;
        assert.deepEqual(ds.spec.template.spec.nodeSelector, { "licode.io/turn": "true" });
        const services = ofType(prod, "kubernetes:core/v1:Service").filter((s) =>
            Object.entries(s.props.spec.selector ?? {}).every(
                ([k, v]) => ds.spec.template.metadata.labels[k] === v,
            ),
        );
        assert.deepEqual(
            services.map((s) => [s.name, s.props.spec.clusterIP]),
            [["turn-metrics", "None"]],
        );
        const turn = ds.spec.template.spec.containers[0];
        assert.ok(
            turn.ports.some(
                (p: any) => p.name === "metrics" && p.containerPort === TURN_METRICS_PORT,
            ),
        );
        assert.ok(turn.ports.some((p: any) => p.name === "turns"));
    });
});

describe("the TURN certificate's checksum (Turn under mocks)", () => {
    it("reads the TLS Secret once the Certificate exists, and stamps its sha256 on the pod template", async () => {
        const created: { type: string; name: string; inputs: any }[] = [];
        const reads: string[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    if (args.id !== undefined && args.id !== "") {
                        reads.push(`${args.type} ${args.id}`);
                        return {
                            id: args.id,
                            state: { data: { "tls.crt": "Y2VydA==", "tls.key": "a2V5" } },
                        };
                    }
                    created.push({ type: args.type, name: args.name, inputs: args.inputs });
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: (args) => args.inputs,
            },
            "licode",
            "unit",
            false,
        );
        const { Turn } = await import("../../components/turn");
        const config = parseStackConfig({ ...BASE, turn: TURN }).turn;
        const { turnArgsOf } = await import("../../components/turn");
        new Turn(
            "turn",
            turnArgsOf(
                config,
                { namespace: "licode", instance: "licode-unit" },
                {
                    secretName: "turn-tls",
                    issuer: { name: "le", kind: "ClusterIssuer" },
                    rollOnRenewal: true,
                },
                { networkPolicy: true },
            ),
        );
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
        assert.deepEqual(reads, ["kubernetes:core/v1:Secret licode/turn-tls"]);
        const ds = created.find((r) => r.type === "kubernetes:apps/v1:DaemonSet");
        const sum = ds?.inputs.spec.template.metadata.annotations["checksum/turn-tls"];
        assert.match(sum, /^[0-9a-f]{64}$/);
        assert.ok(created.some((r) => r.type === "kubernetes:cert-manager.io/v1:Certificate"));
    });

    it("reads no Secret, and stamps no checksum, where the plan found none to read", async () => {
        const created: { type: string; inputs: any }[] = [];
        const reads: string[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    if (args.id !== undefined && args.id !== "") {
                        reads.push(`${args.type} ${args.id}`);
                        return { id: args.id, state: {} };
                    }
                    created.push({ type: args.type, inputs: args.inputs });
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: (args) => args.inputs,
            },
            "licode",
            "unit",
            true,
        );
        const { Turn, turnArgsOf } = await import("../../components/turn");
        const config = parseStackConfig({ ...BASE, turn: TURN }).turn;
        new Turn(
            "turn",
            turnArgsOf(
                config,
                { namespace: "licode", instance: "licode-unit" },
                { secretName: "turn-tls", rollOnRenewal: false },
                { networkPolicy: true },
            ),
        );
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
        assert.deepEqual(reads, []);
        const ds = created.find((r) => r.type === "kubernetes:apps/v1:DaemonSet");
        const annotations = ds?.inputs.spec.template.metadata.annotations;
        assert.ok(annotations?.["checksum/turn-config"], "the template is stamped otherwise");
        assert.equal(annotations["checksum/turn-tls"], undefined);
        const volumes = ds?.inputs.spec.template.spec.volumes;
        assert.deepEqual(volumes.at(-1), { name: "tls", secret: { secretName: "turn-tls" } });
    });
});
