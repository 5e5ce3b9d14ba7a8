/**
 * Fixtures for the TURN policies: the coturn ConfigMap, the TURN and media workloads and the
 * Licode config Secret, built with the program's own renderers so the passing case is exactly what
 * the program deploys; each test breaks one thing.
 */
import { PRIVATE_PEER_RANGES } from "../../components/config";
import { renderLicodeConfig } from "../../components/licode-config-file";
import { parseStackConfig } from "../../components/config";
import { renderTurnserverConf, turnIceServer } from "../../components/turnserver-conf";
import { Fixture, container, podSpec, workload } from "./util";

export const HOST = "turn.example.com";

/** The program's turnserver.conf, with TLS, every private range denied. */
export function turnConf(
    overrides: Partial<Parameters<typeof renderTurnserverConf>[0]> = {},
): string {
    return renderTurnserverConf({
        realm: HOST,
        relayPortRange: { min: 49152, max: 49999 },
        tls: { certFile: "/etc/licode-turn/tls/tls.crt", keyFile: "/etc/licode-turn/tls/tls.key" },
        deniedPeers: PRIVATE_PEER_RANGES.map((r) => r.cidr),
        allowedPeers: [],
        userQuota: 800,
        totalQuota: 800,
        maxBps: 250000,
        bpsCapacity: 125000000,
        prometheus: false,
        runDir: "/run/licode-turn",
        dataDir: "/var/lib/coturn",
        ...overrides,
    });
}

/** The ConfigMap holding a turnserver.conf. */
export function turnConfigMap(text: string, name = "turn-config-1a2b3c4d"): Fixture {
    return {
        type: "kubernetes:core/v1:ConfigMap",
        name: "turn-config",
        props: {
            metadata: {
                name,
                namespace: "licode",
                annotations: { "pulumi.com/autonamed": "true" },
            },
            data: { "turnserver.conf": text },
        },
    };
}

/** The TURN DaemonSet: the ConfigMap for its start script, the TLS Secret for coturn. */
export function turnWorkload(opts: { tlsMount?: string | null; configMap?: string } = {}): Fixture {
    const tlsMount = opts.tlsMount === undefined ? "/etc/licode-turn/tls" : opts.tlsMount;
    return workload(
        "kubernetes:apps/v1:DaemonSet",
        podSpec(
            [
                container("turn", {
                    volumeMounts: [
                        { name: "run", mountPath: "/run/licode-turn" },
                        ...(tlsMount === null ? [] : [{ name: "tls", mountPath: tlsMount }]),
                    ],
                }),
            ],
            {
                initContainers: [
                    container("prepare", {
                        volumeMounts: [{ name: "template", mountPath: "/etc/licode-turn" }],
                    }),
                ],
                volumes: [
                    {
                        name: "template",
                        configMap: { name: opts.configMap ?? "turn-config-1a2b3c4d" },
                    },
                    { name: "run", emptyDir: { medium: "Memory" } },
                    { name: "tls", secret: { secretName: "licode-turn-tls" } },
                ],
            },
        ),
        { name: "licode-turn", namespace: "licode", labels: { "app.kubernetes.io/name": "turn" } },
    );
}

/** A media DaemonSet taking MIN_PORT..MAX_PORT, as the program's ErizoAgent pools do. */
export function mediaWorkload(
    min: number,
    max: number,
    name = "licode-erizo-agent-default",
): Fixture {
    return workload(
        "kubernetes:apps/v1:DaemonSet",
        podSpec([
            container("erizo-agent", {
                env: [
                    { name: "MIN_PORT", value: String(min) },
                    { name: "MAX_PORT", value: String(max) },
                ],
            }),
        ]),
        { name, namespace: "licode", labels: { "app.kubernetes.io/name": "erizo-agent" } },
    );
}

/** The Licode config Secret with the given iceServers, rendered by the program. */
export function licodeConfig(iceServers: unknown[] | undefined, stringData?: unknown): Fixture {
    const stack = parseStackConfig({ networkPolicy: { enabled: false } });
    const text = renderLicodeConfig(
        { ...stack, iceServers: (iceServers ?? []) as typeof stack.iceServers },
        {
            rabbitUrl: "amqp://u:p@rabbit:5672",
            mongoUrl: "mongodb://m",
            superserviceId: "0123456789abcdef01234567",
            superserviceKey: "k",
            installDir: "/opt/licode",
        },
    );
    return {
        type: "kubernetes:core/v1:Secret",
        name: "licode-config",
        props: {
            metadata: { name: "licode-config-9f8e7d6c", namespace: "licode" },
            type: "Opaque",
            stringData: stringData ?? { "licode_config.js": text },
        },
    };
}

/** The entry the program adds for its TURN server. */
export function turnEntry(tls = true): unknown {
    return turnIceServer(HOST, "licode", "generated-password", tls);
}
