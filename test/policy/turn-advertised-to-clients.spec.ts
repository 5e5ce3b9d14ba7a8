import { turnAdvertisedToClients as policy } from "../../policy/policies/turn-advertised-to-clients";
import { HOST, licodeConfig, turnConf, turnConfigMap, turnEntry } from "./turn-fixtures";
import { Fixture, UNKNOWN, assertExplained, assertViolations, runStackPolicy } from "./util";

async function check(resources: Fixture[]): Promise<string[]> {
    const messages = (await runStackPolicy(policy, resources, {})).map((v) => v.message);
    assertExplained(messages);
    return messages;
}

const STUN = { urls: "stun:stun.l.google.com:19302" };

describe("turn-advertised-to-clients", () => {
    it("accepts the entry the program adds, over UDP, TCP and TLS, with credentials", async () => {
        assertViolations(
            await check([turnConfigMap(turnConf()), licodeConfig([STUN, turnEntry()])]),
            [],
        );
        assertViolations(
            await check([
                turnConfigMap(turnConf({ tls: undefined })),
                licodeConfig([turnEntry(false)]),
            ]),
            [],
        );
    });

    it("flags clients that are not told about TURN at all", async () => {
        assertViolations(await check([turnConfigMap(turnConf()), licodeConfig([STUN])]), [
            new RegExp(
                `^Secret "licode-config-9f8e7d6c" \\(licode_config\\.js\\): iceServers lists no turn:${HOST}:3478; iceServers lists no turns:${HOST}:443; the stack runs TURN \\(ConfigMap "turn-config-1a2b3c4d"\\)\\. Why: Clients learn of TURN only`,
            ),
        ]);
        assertViolations(await check([turnConfigMap(turnConf())]), [
            /^ConfigMap "turn-config-1a2b3c4d" \(turnserver\.conf\): no licode_config\.js of this stack names TURN at turn\.example\.com/,
        ]);
    });

    it("flags a TLS listener clients are not told about, and an entry without credentials", async () => {
        assertViolations(
            await check([turnConfigMap(turnConf()), licodeConfig([turnEntry(false)])]),
            [/iceServers lists no turns:turn\.example\.com:443;/],
        );
        const bare = {
            urls: [`turn:${HOST}:3478?transport=udp`, `turns:${HOST}:443?transport=tcp`],
        };
        assertViolations(await check([turnConfigMap(turnConf()), licodeConfig([bare])]), [
            /the iceServers entry for turn:turn\.example\.com:3478 has no username and credential; the iceServers entry for turns:turn\.example\.com:443 has no username and credential/,
        ]);
    });

    it("flags an entry for another host or port", async () => {
        const other = {
            ...(turnEntry() as object),
            urls: ["turn:other.example.com:3478", `turns:${HOST}:5349`],
        };
        assertViolations(await check([turnConfigMap(turnConf()), licodeConfig([other])]), [
            /lists no turn:turn\.example\.com:3478; iceServers lists no turns:turn\.example\.com:443/,
        ]);
    });

    it("holds while the config is unknown during preview, and ignores ROV's config", async () => {
        assertViolations(
            await check([
                turnConfigMap(turnConf()),
                licodeConfig(undefined, { "licode_config.js": UNKNOWN }),
            ]),
            [],
        );
        // A first preview: the Secret's whole stringData is unknown (generated credentials).
        assertViolations(
            await check([turnConfigMap(turnConf()), licodeConfig(undefined, UNKNOWN)]),
            [],
        );
        const rov = licodeConfig(undefined, {
            "licode_config.js": "var config = {};\nconfig.rov = {};\n",
        });
        assertViolations(
            await check([turnConfigMap(turnConf()), rov, licodeConfig([turnEntry()])]),
            [],
        );
        assertViolations(await check([licodeConfig([STUN])]), []);
    });
});
