// The pack really gates: a fixture program (test/engine/fixtures/missing-limits-and-probes, a
// Deployment whose container has no resources and no probes) fails `pulumi preview --policy-pack
// policy`, and the output names both policies. Runs in a temporary copy with a temporary backend.

import * as assert from "assert";
import * as path from "path";
import {
    ROOT,
    THROWAWAY_PASSPHRASE,
    explain,
    keepsWorkingTreeUnchanged,
    pulumiEnv,
    run,
    tempDir,
    violations,
} from "./engine";

const FIXTURE = path.join(ROOT, "test", "engine", "fixtures", "missing-limits-and-probes");

describe("engine: policy pack rejects a non-compliant program", function () {
    keepsWorkingTreeUnchanged();

    it("preview exits non-zero naming resource-requests-and-limits and required-probes", async () => {
        const state = tempDir("policy-fixture");
        try {
            const env = pulumiEnv({
                PULUMI_BACKEND_URL: `file://${state.path}/state`,
                PULUMI_CONFIG_PASSPHRASE: THROWAWAY_PASSPHRASE,
            });
            delete env.KUBECONFIG;
            // The same temporary-copy helper the scripts use (node_modules linked to the repo's).
            const script = [
                "set -e",
                `ws="$(licode_workspace fixture "${FIXTURE}")"`,
                `trap 'rm -rf "$ws"' EXIT`,
                `mkdir -p "${state.path}/state"`,
                'cd "$ws"',
                "pulumi stack init fixture --no-select --non-interactive",
                `pulumi preview --stack fixture --non-interactive --policy-pack "${ROOT}/policy"`,
            ].join("\n");
            const result = await run("bash", ["-c", `. tools/pulumi-env.sh\n${script}`], { env });
            assert.notStrictEqual(result.status, 0, explain("preview of the fixture", result));
            const found = violations(result.output, "mandatory");
            assert.ok(
                found.includes(
                    "resource-requests-and-limits (kubernetes:apps/v1:Deployment: bare)",
                ),
                explain(
                    `no resource-requests-and-limits violation in ${JSON.stringify(found)}`,
                    result,
                ),
            );
            assert.ok(
                found.includes("required-probes (kubernetes:apps/v1:Deployment: bare)"),
                explain(`no required-probes violation in ${JSON.stringify(found)}`, result),
            );
        } finally {
            state.remove();
        }
    });
});
