/**
 * The schema self-test of tools/manifest-lint/build.sh (`--selftest KUBECONFORM SCHEMA_ROOT`), driven
 * with a stand-in for kubeconform: a bash script that answers each self-test manifest as kubeconform
 * does (the finding first, then more output), so the check's reading of that output is tested
 * without a Go build. It leaves the real kubeconform and schemas to the build itself, which runs the
 * same check on every cold build.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const BUILD = path.resolve(__dirname, "..", "..", "tools", "manifest-lint", "build.sh");

/** What the stand-in prints for one self-test manifest, and its exit status. */
interface Answer {
    readonly text: string;
    readonly status: number;
}

/** kubeconform's findings for the self-test manifests (tools/manifest-lint/selftest/). */
const FINDINGS: Record<string, Answer> = {
    "valid.yaml": {
        text: "Summary: 1 resource found in 1 file - Valid: 1, Invalid: 0, Errors: 0, Skipped: 0",
        status: 0,
    },
    "unknown-field.yaml": {
        text: "unknown-field.yaml - Deployment selftest-unknown-field is invalid: problem validating schema. Check JSON formatting: jsonschema validation failed - at '/spec/template/spec/containers/0': additional properties 'imagePullPolicyy' not allowed",
        status: 1,
    },
    "wrong-type.yaml": {
        text: "wrong-type.yaml - Deployment selftest-wrong-type is invalid: problem validating schema. Check JSON formatting: jsonschema validation failed - at '/spec/replicas': got string, want integer",
        status: 1,
    },
    "unknown-kind.yaml": {
        text: "unknown-kind.yaml - Widget selftest-widget failed validation: could not find schema for Widget",
        status: 1,
    },
};

/**
 * Writes the stand-in: for the manifest named last on its command line it prints `answers[name]`,
 * then `trailingLines` lines of summary-like output, and exits with the answer's status.
 */
function standIn(dir: string, answers: Record<string, Answer>, trailingLines: number): string {
    const file = path.join(dir, "kubeconform");
    const cases = Object.entries(answers)
        .map(
            ([name, answer]) =>
                `  ${name}) printf '%s\\n' ${shellWord(answer.text)}; status=${answer.status} ;;`,
        )
        .join("\n");
    fs.writeFileSync(
        file,
        [
            "#!/usr/bin/env bash",
            'name=$(basename "${!#}")',
            'case "$name" in',
            cases,
            '  *) echo "stand-in: no answer for $name" >&2; exit 2 ;;',
            "esac",
            `for ((i = 0; i < ${trailingLines}; i++)); do echo "Summary: 1 resource found in 1 file (line $i of the stand-in's trailing output)"; done`,
            'exit "$status"',
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    return file;
}

function shellWord(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

function selftest(kubeconform: string, schemas: string): { status: number | null; stderr: string } {
    const run = spawnSync("bash", [BUILD, "--selftest", kubeconform, schemas], {
        encoding: "utf8",
        timeout: 60000,
    });
    return { status: run.status, stderr: run.stderr };
}

describe("manifest-lint build: the schema self-test's check", function () {
    this.timeout(60000);
    let dir: string;
    let schemas: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "manifest-lint-selftest-"));
        schemas = path.join(dir, "schemas");
        fs.mkdirSync(schemas);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("passes when each rejection names its finding, however long the output after it", () => {
        // 4000 lines (about 300 KB) after the finding: more than a pipe holds, so a reader that
        // stops at the first match (grep -q) is gone while the output is still being written.
        const run = selftest(standIn(dir, FINDINGS, 4000), schemas);
        assert.strictEqual(run.status, 0, run.stderr);
        assert.match(
            run.stderr,
            /self-test: valid.yaml passes; unknown field, wrong type and unknown kind are rejected/,
        );
    });

    it("passes with kubeconform's usual two lines (the finding, then the summary)", () => {
        const run = selftest(standIn(dir, FINDINGS, 1), schemas);
        assert.strictEqual(run.status, 0, run.stderr);
    });

    it("fails when a rejection does not name the expected finding", () => {
        const answers = {
            ...FINDINGS,
            "wrong-type.yaml": {
                text: "wrong-type.yaml - Deployment is invalid: something else",
                status: 1,
            },
        };
        const run = selftest(standIn(dir, answers, 4000), schemas);
        assert.strictEqual(run.status, 1);
        assert.match(
            run.stderr,
            /wrong-type.yaml was rejected, but not with 'got string, want integer'/,
        );
        assert.match(run.stderr, /fail the self-test/);
    });

    it("fails when a manifest that must be rejected is accepted", () => {
        const answers = { ...FINDINGS, "unknown-field.yaml": FINDINGS["valid.yaml"] };
        const run = selftest(standIn(dir, answers, 1), schemas);
        assert.strictEqual(run.status, 1);
        assert.match(run.stderr, /unknown-field.yaml was accepted/);
    });

    it("fails when the valid manifest is rejected", () => {
        const answers = { ...FINDINGS, "valid.yaml": { text: "valid.yaml - broken", status: 1 } };
        const run = selftest(standIn(dir, answers, 1), schemas);
        assert.strictEqual(run.status, 1);
        assert.match(run.stderr, /valid.yaml was rejected/);
    });

    it("names the flag when its arguments are missing or wrong", () => {
        const missing = spawnSync("bash", [BUILD, "--selftest", "only-one"], { encoding: "utf8" });
        assert.strictEqual(missing.status, 1);
        assert.match(missing.stderr, /--selftest needs two arguments/);
        const notExecutable = selftest(path.join(dir, "absent"), schemas);
        assert.strictEqual(notExecutable.status, 1);
        assert.match(
            notExecutable.stderr,
            /--selftest: '.*absent' is not an executable kubeconform/,
        );
    });
});
