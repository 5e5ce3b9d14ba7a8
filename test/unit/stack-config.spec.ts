import * as assert from "assert";
import {
    ConfigError,
    ConfigProblem,
    DEFAULT_RESOURCES,
    parseStackConfig,
} from "../../components/config";

const VALID = { networkPolicy: { enabled: false } };

function problems(raw: Record<string, unknown>): readonly ConfigProblem[] {
    try {
        parseStackConfig(raw);
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        return error.problems;
    }
    assert.fail("the config was accepted");
}

function onlyProblem(raw: Record<string, unknown>): ConfigProblem {
    const found = problems(raw);
    assert.strictEqual(
        found.length,
        1,
        `expected one problem, got ${JSON.stringify(found, null, 1)}`,
    );
    return found[0];
}

describe("parseStackConfig", () => {
    it("applies the documented defaults to an almost empty config", () => {
        const config = parseStackConfig(VALID);
        assert.strictEqual(config.namespace, "licode");
        assert.deepStrictEqual(config.ingress, { mode: "nodePort" });
        assert.deepStrictEqual(config.publicAddress, { from: "interface", interface: "eth0" });
        assert.deepStrictEqual(config.media.pools, [
            {
                name: "default",
                nodeSelector: { "licode.io/media": "true" },
                portRange: { min: 40000, max: 40999 },
            },
        ]);
        assert.strictEqual(config.media.gracePeriodSeconds, 1800);
        assert.strictEqual(config.erizoController.gracePeriodSeconds, 1800);
        assert.deepStrictEqual(config.nuve.resources, DEFAULT_RESOURCES.nuve);
        assert.strictEqual(config.nuve.image.repository, "lynckia/licode");
        assert.strictEqual(config.mongodb.image.repository, "mongo");
    });

    it("applies the NFS defaults of the seed: /nfs_mongodb/mongodb, 10Gi, Retain", () => {
        const config = parseStackConfig({ ...VALID, storage: { kind: "nfs", server: "10.1.2.3" } });
        assert.deepStrictEqual(config.storage, {
            kind: "nfs",
            server: "10.1.2.3",
            path: "/nfs_mongodb/mongodb",
            size: "10Gi",
            reclaimPolicy: "Retain",
            dataProtection: "none",
        });
    });

    it("merges a partial resources override with the tier's defaults", () => {
        const config = parseStackConfig({
            ...VALID,
            nuve: { resources: { limits: { memory: "1Gi" } } },
        });
        assert.deepStrictEqual(config.nuve.resources.limits, {
            ...DEFAULT_RESOURCES.nuve.limits,
            memory: "1Gi",
        });
        assert.deepStrictEqual(config.nuve.resources.requests, DEFAULT_RESOURCES.nuve.requests);
    });

    it("keeps 0 replicas instead of replacing it with the default", () => {
        assert.strictEqual(parseStackConfig({ ...VALID, nuve: { replicas: 0 } }).nuve.replicas, 0);
    });

    it("accepts NFS servers given as IPv4, IPv6 or DNS names", () => {
        for (const server of ["192.168.94.40", "fd00::40", "nfs.example.com", "nfs"]) {
            const config = parseStackConfig({ ...VALID, storage: { kind: "nfs", server } });
            assert.strictEqual(config.storage.kind === "nfs" && config.storage.server, server);
        }
    });

    it("serves signalling TLS with wss:// for clients and a hostname per node", () => {
        const config = parseStackConfig({
            ...VALID,
            erizoController: {
                replicas: 2,
                hostname: "{nodeName}.signalling.example.com",
                tls: { secretName: "signalling-tls" },
            },
        });
        assert.strictEqual(config.erizoController.ssl, true);
        assert.deepStrictEqual(config.erizoController.tls, { secretName: "signalling-tls" });
        assert.strictEqual(parseStackConfig(VALID).erizoController.ssl, false);
    });

    it("lets a digest pin an image without the default tag", () => {
        const digest = `sha256:${"a".repeat(64)}`;
        const image = parseStackConfig({ ...VALID, nuve: { image: { digest } } }).nuve.image;
        assert.strictEqual(image.digest, digest);
        assert.strictEqual(image.tag, undefined);
    });

    const cases: {
        name: string;
        raw: Record<string, unknown>;
        key: string;
        value: unknown;
        says: RegExp;
    }[] = [
        {
            name: "a namespace that is not a DNS-1123 label",
            raw: { namespace: "Licode_Prod" },
            key: "licode:namespace",
            value: "Licode_Prod",
            says: /DNS-1123 label/,
        },
        {
            name: "an unknown ingress mode",
            raw: { ingress: { mode: "loadBalancer" } },
            key: "licode:ingress.mode",
            value: "loadBalancer",
            says: /"nodePort" or "ingress"/,
        },
        {
            name: "ingress mode without a host",
            raw: { ingress: { mode: "ingress", className: "nginx" } },
            key: "licode:ingress.host",
            value: undefined,
            says: /required/,
        },
        {
            name: "NFS without a server",
            raw: { storage: { kind: "nfs", path: "/exports/mongo" } },
            key: "licode:storage.server",
            value: undefined,
            says: /required/,
        },
        {
            name: "NFS with a relative path",
            raw: { storage: { kind: "nfs", server: "nfs.local", path: "exports/mongo" } },
            key: "licode:storage.path",
            value: "exports/mongo",
            says: /absolute path/,
        },
        {
            name: "a reversed port range",
            raw: { media: { portRange: { min: 41000, max: 40000 } } },
            key: "licode:media.portRange",
            value: { min: 41000, max: 40000 },
            says: /reversed.*swap/,
        },
        {
            name: "a port range starting below 1024",
            raw: { media: { portRange: { min: 500, max: 2000 } } },
            key: "licode:media.portRange.min",
            value: 500,
            says: /1024-65535/,
        },
        {
            name: "a port range ending above 65535",
            raw: { media: { portRange: { min: 60000, max: 70000 } } },
            key: "licode:media.portRange.max",
            value: 70000,
            says: /1024-65535/,
        },
        {
            name: "a port range inside the NodePort range",
            raw: { media: { portRange: { min: 30000, max: 30100 } } },
            key: "licode:media.portRange",
            value: { min: 30000, max: 30100 },
            says: /NodePort range/,
        },
        {
            name: "a media pool overlapping another",
            raw: {
                media: {
                    pools: [
                        {
                            name: "a",
                            nodeSelector: { pool: "a" },
                            portRange: { min: 40000, max: 40999 },
                        },
                        {
                            name: "b",
                            nodeSelector: { pool: "b" },
                            portRange: { min: 40500, max: 41500 },
                        },
                    ],
                },
            },
            key: "licode:media.pools[1].portRange",
            value: { min: 40500, max: 41500 },
            says: /overlaps media\.pools\[0\]/,
        },
        {
            name: "negative replicas",
            raw: { nuve: { replicas: -1 } },
            key: "licode:nuve.replicas",
            value: -1,
            says: /cannot be negative/,
        },
        {
            name: "a malformed quantity",
            raw: { erizoAgent: { resources: { requests: { memory: "2 gigs" } } } },
            key: "licode:erizoAgent.resources.requests.memory",
            value: "2 gigs",
            says: /not a Kubernetes quantity/,
        },
        {
            name: "a limit below its request",
            raw: {
                mongodb: { resources: { requests: { memory: "2Gi" }, limits: { memory: "1Gi" } } },
            },
            key: "licode:mongodb.resources.limits.memory",
            value: "1Gi",
            says: /below the request/,
        },
        {
            name: "a limit below the default request",
            raw: { rabbitmq: { resources: { limits: { cpu: "100m" } } } },
            key: "licode:rabbitmq.resources.limits.cpu",
            value: "100m",
            says: /below the request 250m/,
        },
        {
            name: "a missing image repository",
            raw: { nuve: { image: { repository: "" } } },
            key: "licode:nuve.image.repository",
            value: "",
            says: /must not be empty/,
        },
        {
            name: "an image tag that is not a tag",
            raw: { erizoController: { image: { tag: "" } } },
            key: "licode:erizoController.image.tag",
            value: "",
            says: /image tag/,
        },
        {
            name: "a misspelt key",
            raw: { ingres: { mode: "nodePort" } },
            key: "licode:ingres",
            value: { mode: "nodePort" },
            says: /unknown key/,
        },
        {
            name: "a second MongoDB member",
            raw: { mongodb: { replicas: 3 } },
            key: "licode:mongodb.replicas",
            value: 3,
            says: /single member/,
        },
        {
            name: "an NFS server that is no host",
            raw: { storage: { kind: "nfs", server: "not a host!" } },
            key: "licode:storage.server",
            value: "not a host!",
            says: /IPv4 address .* IPv6 address .* DNS name/,
        },
        {
            name: "an NFS server address out of range",
            raw: { storage: { kind: "nfs", server: "192.168.94.400" } },
            key: "licode:storage.server",
            value: "192.168.94.400",
            says: /IPv4 address/,
        },
        {
            name: "a hostPath without the node that holds it",
            raw: { storage: { kind: "hostPath", path: "/var/lib/licode/mongodb" } },
            key: "licode:storage.node",
            value: undefined,
            says: /required/,
        },
        {
            name: "no prerun ErizoJS",
            raw: { erizoAgent: { prerunProcesses: 0 } },
            key: "licode:erizoAgent.prerunProcesses",
            value: 0,
            says: /at least 1.*readiness probe/,
        },
        {
            name: "more prerun ErizoJS than the agent may run",
            raw: { erizoAgent: { maxProcesses: 2, prerunProcesses: 3 } },
            key: "licode:erizoAgent.prerunProcesses",
            value: 3,
            says: /at most 2/,
        },
        {
            name: "recordings that outgrow the agent's ephemeral storage",
            raw: { erizoAgent: { recordings: { kind: "emptyDir", sizeLimit: "8Gi" } } },
            key: "licode:erizoAgent.resources.limits.ephemeralStorage",
            value: "4Gi",
            says: /must exceed the recordings' sizeLimit \(8Gi\).*evicts/,
        },
        {
            name: "signalling TLS without the hostname on its certificate",
            raw: { erizoController: { tls: { secretName: "signalling-tls" } } },
            key: "licode:erizoController.hostname",
            value: undefined,
            says: /TLS needs the name on the certificate/,
        },
        {
            name: "signalling TLS while telling clients to use ws://",
            raw: {
                erizoController: {
                    tls: { secretName: "signalling-tls" },
                    hostname: "ec.example.com",
                    ssl: false,
                },
            },
            key: "licode:erizoController.ssl",
            value: false,
            says: /remove ssl or set it true/,
        },
        {
            name: "one hostname shared by several controllers",
            raw: { erizoController: { replicas: 2, hostname: "ec.example.com" } },
            key: "licode:erizoController.hostname",
            value: "ec.example.com",
            says: /\{nodeName\}/,
        },
        {
            name: "a signalling grace period too short to drain",
            raw: { erizoController: { gracePeriodSeconds: 30 } },
            key: "licode:erizoController.gracePeriodSeconds",
            value: 30,
            says: /signalling drain ends once no client has been connected for 35 s .* set at least 85/,
        },
        {
            name: "a media grace period too short to drain",
            raw: { media: { gracePeriodSeconds: 10 } },
            key: "licode:media.gracePeriodSeconds",
            value: 10,
            says: /media drain ends once no media session has been in progress for 40 s .* set at least 95/,
        },
        {
            name: "a media grace period whose deadline leaves no room for the quiet window after a call",
            raw: { media: { gracePeriodSeconds: 60 } },
            key: "licode:media.gracePeriodSeconds",
            value: 60,
            says: /set at least 95/,
        },
        {
            name: "a signalling grace period whose deadline leaves no room for the quiet window after a call",
            raw: { erizoController: { gracePeriodSeconds: 84 } },
            key: "licode:erizoController.gracePeriodSeconds",
            value: 84,
            says: /set at least 85/,
        },
        {
            name: "an unknown media update strategy",
            raw: { media: { updateStrategy: "Recreate" } },
            key: "licode:media.updateStrategy",
            value: "Recreate",
            says: /"RollingUpdate", "OnDelete"/,
        },
        {
            name: "a rollout that can never start",
            raw: { erizoController: { maxSurge: 0, maxUnavailable: 0 } },
            key: "licode:erizoController.maxSurge",
            value: 0,
            says: /cannot both be 0/,
        },
    ];
    for (const testCase of cases) {
        it(`rejects ${testCase.name}, naming the key, the value and the fix`, () => {
            const problem = onlyProblem({ ...VALID, ...testCase.raw });
            assert.strictEqual(problem.key, testCase.key);
            assert.deepStrictEqual(problem.value, testCase.value);
            assert.match(problem.message, testCase.says);
        });
    }

    it("requires node CIDRs when NetworkPolicies are on, because EC and EA use the host network", () => {
        const problem = onlyProblem({});
        assert.strictEqual(problem.key, "licode:networkPolicy.nodeCidrs");
        assert.match(problem.message, /host network/);
    });

    it("lists every problem at once, in one error message", () => {
        const raw = {
            ...VALID,
            namespace: "Bad",
            ingress: { mode: "ingress", className: "nginx" },
            storage: { kind: "nfs", path: "relative" },
            nuve: { replicas: -2 },
            media: { portRange: { min: 45000, max: 44000 } },
        };
        const found = problems(raw).map((p) => p.key);
        assert.deepStrictEqual([...found].sort(), [
            "licode:ingress.host",
            "licode:media.portRange",
            "licode:namespace",
            "licode:nuve.replicas",
            "licode:storage.path",
            "licode:storage.server",
        ]);
        assert.throws(
            () => parseStackConfig(raw),
            (error: Error) => {
                assert.match(error.message, /has 6 problems; nothing was deployed/);
                assert.match(error.message, /licode:namespace: .* \(got "Bad"\)/);
                return true;
            },
        );
    });
});
