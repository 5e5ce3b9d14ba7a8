import { turnTlsHasCertificate as policy } from "../../policy/policies/turn-tls-has-certificate";
import { turnConf, turnConfigMap, turnWorkload } from "./turn-fixtures";
import { Fixture, UNKNOWN, assertExplained, assertViolations, runStackPolicy } from "./util";

async function check(resources: Fixture[]): Promise<string[]> {
    const messages = (await runStackPolicy(policy, resources, {})).map((v) => v.message);
    assertExplained(messages);
    return messages;
}

describe("turn-tls-has-certificate", () => {
    it("accepts the program's TLS listener with the Secret mounted where cert and pkey point", async () => {
        assertViolations(await check([turnConfigMap(turnConf()), turnWorkload()]), []);
    });

    it("accepts a configuration without a TLS listener (no-tls)", async () => {
        assertViolations(
            await check([
                turnConfigMap(turnConf({ tls: undefined })),
                turnWorkload({ tlsMount: null }),
            ]),
            [],
        );
    });

    it("flags a TLS listener without cert or pkey", async () => {
        const text = turnConf().replace(/^(cert|pkey)=.*$/gm, "");
        assertViolations(await check([turnConfigMap(text), turnWorkload()]), [
            /^ConfigMap "turn-config-1a2b3c4d" \(turnserver\.conf\): it keeps a TLS listener \(no no-tls\) but sets no cert and no pkey\. Why: Without a certificate coturn starts anyway/,
        ]);
        const noKey = turnConf().replace(/^pkey=.*$/m, "");
        assertViolations(await check([turnConfigMap(noKey)]), [/sets no pkey/]);
    });

    it("flags a workload that runs the listener without the Secret mounted there", async () => {
        assertViolations(
            await check([turnConfigMap(turnConf()), turnWorkload({ tlsMount: null })]),
            [
                /^DaemonSet "licode-turn": it runs the TLS listener of ConfigMap "turn-config-1a2b3c4d" \(turnserver\.conf\), but no container mounts a Secret at \/etc\/licode-turn\/tls, where cert and pkey point/,
            ],
        );
        assertViolations(
            await check([turnConfigMap(turnConf()), turnWorkload({ tlsMount: "/etc/other" })]),
            [/no container mounts a Secret at \/etc\/licode-turn\/tls/],
        );
    });

    it("holds while the mounts are unknown, and ignores workloads that do not run this file", async () => {
        assertViolations(
            await check([turnConfigMap(turnConf()), turnWorkload({ tlsMount: UNKNOWN })]),
            [],
        );
        assertViolations(
            await check([
                turnConfigMap(turnConf()),
                turnWorkload({ tlsMount: null, configMap: "other" }),
            ]),
            [],
        );
        assertViolations(
            await check([turnConfigMap(UNKNOWN), turnWorkload({ tlsMount: null })]),
            [],
        );
    });
});
