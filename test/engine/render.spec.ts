// Render mode: `npm run render -- <stack>` (tools/render.sh) writes the stack's manifests into
// rendered/<stack>/1-manifest with the real provider and no cluster, reports the Secrets written in
// plain text, and (dev, --verify) a second `preview --expect-no-changes` of the rendered stack passes.
// render.sh uses a throwaway backend it removes itself; rendered/ is gitignored output.

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { StackConfig, parseStackConfig } from "../../components/config";
import { stackConfig } from "../harness/program";
import { ROOT, RunResult, explain, keepsWorkingTreeUnchanged, pulumiEnv, run } from "./engine";

/**
 * The objects the program creates for a stack, by kind (see the README's tier table): every tier's
 * fixed objects, plus what the config switches on (media pools, ingress mode, PDBs for replicated
 * workloads, NetworkPolicies, the storage kind).
 */
function expectedKinds(config: StackConfig): Record<string, number> {
    const mongo = config.storage.kind !== "external";
    // ROV: a Deployment, its Service, config Secret and NetworkPolicy; the dashboard ConfigMap. In
    // render mode `auto` asks no cluster, so only `true` renders the Prometheus Operator's objects.
    const rov = config.metrics.enabled ? 1 : 0;
    // TURN: its config ConfigMap, credentials Secret (unless the operator's), PDB, and a DaemonSet
    // (host network) or a Deployment of one behind its LoadBalancer Service and NetworkPolicy; the
    // metrics Service with metrics; a Certificate only with certManager.create true (render mode
    // asks no cluster, so `auto` declares none).
    const turn = config.turn.enabled ? 1 : 0;
    const turnLb = turn === 1 && config.turn.placement.mode === "loadBalancer" ? 1 : 0;
    const turnMetrics = turn === 1 && config.metrics.enabled && config.turn.metrics ? 1 : 0;
    const counts: Record<string, number> = {
        Namespace: 1,
        Deployment: 2 + rov + turnLb, // Nuve, ErizoController
        DaemonSet: config.media.pools.length + turn - turnLb, // ErizoAgent, one per media pool
        StatefulSet: mongo ? 2 : 1, // RabbitMQ, MongoDB
        Job: 1, // superservice bootstrap
        // Nuve; RabbitMQ and its headless Service; MongoDB's headless Service
        Service: 3 + (mongo ? 1 : 0) + rov + turnLb + turnMetrics,
        Ingress: config.ingress.mode === "ingress" ? 1 : 0,
        // RabbitMQ, Nuve, the bootstrap Job, MongoDB
        NetworkPolicy: config.networkPolicy.enabled ? 3 + (mongo ? 1 : 0) + rov + turnLb : 0,
        PodDisruptionBudget:
            (config.nuve.replicas > 1 ? 1 : 0) +
            (config.erizoController.replicas > 1 ? 1 : 0) +
            turn,
        PersistentVolume:
            config.storage.kind === "nfs" || config.storage.kind === "hostPath" ? 1 : 0,
        PersistentVolumeClaim: mongo ? 1 : 0,
        // licode_config.js, the superservice, RabbitMQ's two users and definitions, MongoDB's
        // credentials
        Secret: 5 + (mongo ? 1 : 0) + rov + (turn === 1 && !config.turn.existingSecret ? 1 : 0),
        // RabbitMQ's config file; the drain helpers of ErizoController and ErizoAgent
        ConfigMap: 3 + (config.metrics.enabled && config.metrics.dashboard ? 1 : 0) + turn,
        Certificate: turn === 1 && config.turn.tls?.certManager?.create === true ? 1 : 0,
        ServiceMonitor: config.metrics.enabled && config.metrics.serviceMonitor === true ? 2 : 0,
        PrometheusRule: config.metrics.enabled && config.metrics.prometheusRule === true ? 1 : 0,
    };
    return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

/** Kind -> number of rendered files, read from each file's top-level `kind:`. */
function renderedKinds(dir: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const file of fs.readdirSync(dir)) {
        const kind = /^kind: (\S+)$/m.exec(fs.readFileSync(path.join(dir, file), "utf8"))?.[1];
        assert.ok(kind !== undefined, `${file} has no top-level kind`);
        counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(counts).sort());
}

describe("engine: render", function () {
    keepsWorkingTreeUnchanged();

    for (const stack of ["dev", "prod"]) {
        // dev also checks idempotency; prod only renders (each render is a full `pulumi up`).
        const verify = stack === "dev";
        describe(stack, () => {
            const manifests = path.join(ROOT, "rendered", stack, "1-manifest");
            let result: RunResult;

            before(async () => {
                const env = pulumiEnv();
                delete env.KUBECONFIG;
                const args = ["tools/render.sh", stack, ...(verify ? ["--verify"] : [])];
                result = await run("bash", args, { env });
            });

            it("writes the expected kinds and counts into rendered/<stack>/1-manifest", () => {
                assert.ok(fs.existsSync(manifests), explain(`render ${stack}`, result));
                const expected = expectedKinds(parseStackConfig(stackConfig(stack)));
                const sorted = Object.fromEntries(Object.entries(expected).sort());
                assert.deepStrictEqual(renderedKinds(manifests), sorted);
                assert.ok(fs.existsSync(path.join(ROOT, "rendered", stack, "0-crd")));
            });

            it("reports the Secrets written in plain text", () => {
                const secrets = fs.readdirSync(manifests).filter((f) => f.startsWith("v1-secret-"));
                assert.ok(secrets.length > 0);
                assert.match(
                    result.output,
                    new RegExp(
                        `WARNING: ${secrets.length} rendered files hold secret values in PLAIN TEXT`,
                    ),
                    explain(`render ${stack}`, result),
                );
                for (const file of secrets) {
                    assert.ok(
                        result.output.includes(
                            `rendered file ${path.join(manifests, file)} contains a secret value in plaintext`,
                        ),
                        `no plain-text warning for ${file}`,
                    );
                }
            });

            if (verify) {
                it("is idempotent: after up, preview --expect-no-changes passes", () => {
                    assert.strictEqual(
                        result.status,
                        0,
                        explain(`render ${stack} --verify`, result),
                    );
                    const preview = result.output.slice(
                        result.output.indexOf("[render] verifying"),
                    );
                    assert.match(preview, /Resources:\s+\d+ unchanged\s*$/m);
                    assert.doesNotMatch(preview, /to (create|update|replace|delete)/);
                });
            } else {
                it("exits 0", () => {
                    assert.strictEqual(result.status, 0, explain(`render ${stack}`, result));
                });
            }
        });
    }
});
