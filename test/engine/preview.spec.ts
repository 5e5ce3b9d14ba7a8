// The gate: `npm run preview -- <stack>` (tools/preview.sh) with the policy pack and the stack's
// policy config, on the real CLI and provider, without a cluster: exit 0 and no mandatory violation.
// Each stack runs against a temporary backend (prod with a throwaway passphrase), removed afterwards.

import * as assert from "assert";
import {
    THROWAWAY_PASSPHRASE,
    explain,
    keepsWorkingTreeUnchanged,
    pulumiEnv,
    run,
    tempDir,
    violations,
} from "./engine";

describe("engine: preview with the policy pack", function () {
    keepsWorkingTreeUnchanged();

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: exits 0 with zero mandatory violations`, async () => {
            const state = tempDir(`preview-${stack}`);
            try {
                const env = pulumiEnv({
                    PULUMI_BACKEND_URL: `file://${state.path}`,
                    PULUMI_CONFIG_PASSPHRASE: THROWAWAY_PASSPHRASE,
                });
                delete env.KUBECONFIG; // no cluster: the provider previews from the inputs alone
                const result = await run("bash", ["tools/preview.sh", stack], { env });
                assert.strictEqual(result.status, 0, explain(`preview ${stack}`, result));
                // The pack was loaded and evaluated, not silently skipped.
                assert.match(result.output, /Loading policy packs\.\.\.: done/);
                assert.match(result.output, /licode@v[\d.]+ \(local: .*policy\)/);
                assert.deepStrictEqual(violations(result.output, "mandatory"), []);
                assert.match(result.output, /Resources:\s+\+ \d+ to create/);
            } finally {
                state.remove();
            }
        });
    }
});
