/**
 * The GitHub Actions gate (.github/workflows/pulumi.yml) runs the commands the README documents,
 * with the flags tools/preview.sh uses, on the stacks this repository has; it cannot drift from
 * them unnoticed. actionlint checks the workflow itself (npm run lint:workflows, in .ci/run).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const workflow = parse(read(".github/workflows/pulumi.yml"));
const jobs = Object.entries(workflow.jobs as Record<string, any>);
const steps = (job: any): any[] => job.steps;
const pulumiStep = (job: any) =>
    steps(job).find((s) => String(s.uses).startsWith("pulumi/actions@"));

describe("the GitHub Actions workflow", () => {
    it("pins every action by commit", () => {
        for (const [name, job] of jobs) {
            for (const step of steps(job).filter((s) => s.uses !== undefined)) {
                assert.match(step.uses, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${name}: ${step.uses}`);
            }
        }
    });

    it("installs from both lock files, as the README and .ci/run do", () => {
        for (const [name, job] of jobs) {
            const install = steps(job).find((s) => s.name === "Install from the lock files");
            assert.strictEqual(
                install?.run,
                "npm ci --ignore-scripts && (cd policy && npm ci --ignore-scripts)",
                name,
            );
        }
        assert.match(read("README.md"), /\(cd policy && npm ci --ignore-scripts\)/);
        assert.match(read(".ci/run"), /npm ci --ignore-scripts/);
    });

    it("runs each stack with the policy pack and that stack's config, as tools/preview.sh does", () => {
        const preview = read("tools/preview.sh");
        assert.match(preview, /--policy-pack "\$ROOT\/policy"/);
        assert.match(preview, /--policy-pack-config "\$ROOT\/policy\/config\/\$stack\.json"/);
        const stacks: string[] = [];
        for (const [name, job] of jobs) {
            const step = pulumiStep(job);
            assert.ok(step, `${name} runs pulumi`);
            const stackNames: string[] =
                step.with["stack-name"] === "${{ matrix.stack }}"
                    ? job.strategy.matrix.stack
                    : [step.with["stack-name"]];
            assert.strictEqual(step.with.policyPacks, "policy", name);
            for (const stack of stackNames) {
                stacks.push(stack);
                const config = step.with.policyPackConfigs.replace("${{ matrix.stack }}", stack);
                assert.strictEqual(config, `policy/config/${stack}.json`, name);
                assert.ok(fs.existsSync(path.join(ROOT, config)), config);
                assert.ok(fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`)), stack);
            }
        }
        assert.deepStrictEqual([...new Set(stacks)].sort(), ["dev", "prod"]);
    });

    it("previews on pull requests, and updates prod only after dev, behind an approval", () => {
        const byName = Object.fromEntries(jobs);
        assert.strictEqual(pulumiStep(byName.preview).with.command, "preview");
        assert.strictEqual(pulumiStep(byName.preview).with["comment-on-pr"], true);
        assert.strictEqual(pulumiStep(byName["up-prod"]).with.command, "up");
        assert.strictEqual(byName["up-prod"].environment, "production");
        assert.strictEqual(byName["up-prod"].needs, "up-dev");
    });

    it("uses the CLI version the toolchain builds", () => {
        const pinned = /^PULUMI_VERSION=(\S+)$/m.exec(read("tools/versions.env"))?.[1];
        assert.strictEqual(workflow.env.PULUMI_VERSION, pinned);
    });

    it("takes credentials from the secret store only, never printing them", () => {
        const text = read(".github/workflows/pulumi.yml");
        for (const [name, job] of jobs) {
            for (const step of steps(job).filter((s) => s.run !== undefined)) {
                assert.doesNotMatch(
                    step.run,
                    /secrets\./,
                    `${name}: a secret expanded into a script`,
                );
                assert.doesNotMatch(
                    step.run,
                    /echo[^\n]*KUBECONFIG_DATA/,
                    `${name}: prints the kubeconfig`,
                );
            }
        }
        assert.doesNotMatch(text, /passphrase: |PULUMI_CONFIG_PASSPHRASE: "[^$]/);
    });
});
