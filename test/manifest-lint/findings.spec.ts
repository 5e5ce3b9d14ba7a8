import * as assert from "assert";
import { leafErrors, parseKubeconform, parseKubeScore } from "../../tools/manifest-lint/findings";

/** Trimmed from `kube-score score -o json` (v1.20.0) on rendered/dev. */
const KUBE_SCORE = JSON.stringify([
    {
        object_name: "Deployment/apps/v1/licode-dev/licode-nuve",
        type_meta: { kind: "Deployment", apiVersion: "apps/v1" },
        object_meta: { name: "licode-nuve", namespace: "licode-dev", creationTimestamp: null },
        file_name: "/x/apps_v1-deployment-licode-dev-licode-nuve.yaml",
        file_row: 1,
        checks: [
            {
                check: { name: "Container Image Pull Policy", id: "container-image-pull-policy" },
                grade: 1,
                skipped: false,
                comments: [
                    {
                        path: "wait-for-dependencies",
                        summary: "ImagePullPolicy is not set to Always",
                    },
                    { path: "nuve", summary: "ImagePullPolicy is not set to Always" },
                ],
            },
            {
                check: { name: "Deployment Replicas", id: "deployment-replicas" },
                grade: 5,
                skipped: false,
                comments: [{ path: "", summary: "Deployment few replicas" }],
            },
            {
                check: {
                    name: "Container CPU Requests Equal Limits",
                    id: "container-cpu-requests-equal-limits",
                },
                grade: 1,
                skipped: true,
                comments: [
                    {
                        path: "",
                        summary: "Skipped because container-cpu-requests-equal-limits is ignored",
                    },
                ],
            },
            {
                check: { name: "Stable version", id: "stable-version" },
                grade: 10,
                skipped: false,
                comments: null,
            },
            {
                check: { name: "Almost", id: "almost-ok" },
                grade: 7,
                skipped: false,
                comments: [{ path: "", summary: "fine" }],
            },
            {
                check: { name: "Pod Probes Identical", id: "pod-probes-identical" },
                grade: 1,
                skipped: false,
                comments: [],
            },
        ],
    },
]);

/** The shape of `kubeconform -output json -verbose -summary` (v0.8.0) with the message of a real run. */
const KUBECONFORM = JSON.stringify({
    resources: [
        {
            filename: "/x/ok.yaml",
            kind: "Service",
            name: "s",
            version: "v1",
            status: "statusValid",
            msg: "",
        },
        {
            filename: "/x/bad.yaml",
            kind: "Deployment",
            name: "bad",
            version: "apps/v1",
            status: "statusInvalid",
            msg:
                "problem validating schema. Check JSON formatting: jsonschema validation failed with " +
                "'file:///c/v1.36.3-standalone-strict/deployment-apps-v1.json#' - at '/spec': validation failed" +
                "   - at '/spec/replicas': got string, want integer" +
                "   - at '/spec/template/spec/containers/0': validation failed" +
                "     - at '/spec/template/spec/containers/0/ports/0/containerPort': got string, want integer" +
                "     - at '/spec/template/spec/containers/0': additional properties 'unknownField' not allowed" +
                "   - at '/spec': additional properties 'bogusField' not allowed",
            validationErrors: [{ path: "/spec", msg: "validation failed" }],
        },
        {
            filename: "/x/cr.yaml",
            kind: "Widget",
            name: "w",
            version: "example.com/v1",
            status: "statusError",
            msg: "could not find schema for Widget",
        },
    ],
    summary: { valid: 1, invalid: 1, errors: 1, skipped: 0 },
});

describe("manifest-lint findings", () => {
    it("kube-score: one finding per comment of each failed check, skipped and OK grades left out", () => {
        const f = parseKubeScore(KUBE_SCORE);
        assert.deepStrictEqual(
            f.map((x) => [x.check, `${x.kind}/${x.name}`, x.container, x.severity, x.message]),
            [
                [
                    "container-image-pull-policy",
                    "Deployment/licode-nuve",
                    "nuve",
                    "CRITICAL",
                    "ImagePullPolicy is not set to Always",
                ],
                [
                    "container-image-pull-policy",
                    "Deployment/licode-nuve",
                    "wait-for-dependencies",
                    "CRITICAL",
                    "ImagePullPolicy is not set to Always",
                ],
                [
                    "deployment-replicas",
                    "Deployment/licode-nuve",
                    undefined,
                    "WARNING",
                    "Deployment few replicas",
                ],
                [
                    "pod-probes-identical",
                    "Deployment/licode-nuve",
                    undefined,
                    "CRITICAL",
                    "Pod Probes Identical",
                ],
            ],
        );
        assert.strictEqual(f[0].namespace, "licode-dev");
    });

    it("kube-score: an empty run has no findings; a non-array is refused", () => {
        assert.deepStrictEqual(parseKubeScore("null"), []);
        assert.deepStrictEqual(parseKubeScore("[]"), []);
        assert.throws(() => parseKubeScore("{}"), /not a JSON array/);
    });

    it("kubeconform: every leaf error of the message, with its field path", () => {
        const run = parseKubeconform(KUBECONFORM);
        assert.deepStrictEqual(
            run.findings.map((x) => [x.check, `${x.kind}/${x.name}`, x.path, x.message]),
            [
                [
                    "invalid",
                    "Deployment/bad",
                    "/spec",
                    "additional properties 'bogusField' not allowed",
                ],
                ["invalid", "Deployment/bad", "/spec/replicas", "got string, want integer"],
                [
                    "invalid",
                    "Deployment/bad",
                    "/spec/template/spec/containers/0",
                    "additional properties 'unknownField' not allowed",
                ],
                [
                    "invalid",
                    "Deployment/bad",
                    "/spec/template/spec/containers/0/ports/0/containerPort",
                    "got string, want integer",
                ],
                ["error", "Widget/w", undefined, "could not find schema for Widget"],
            ],
        );
        assert.deepStrictEqual(
            [...run.statuses.entries()],
            [
                ["statusValid", 1],
                ["statusInvalid", 1],
                ["statusError", 1],
            ],
        );
    });

    it("kubeconform: falls back to validationErrors when the message has no tree", () => {
        const run = parseKubeconform(
            JSON.stringify({
                resources: [
                    {
                        kind: "Service",
                        name: "s",
                        status: "statusInvalid",
                        msg: "something else",
                        validationErrors: [
                            { path: "/spec/ports/0/port", msg: "got string, want integer" },
                        ],
                    },
                ],
            }),
        );
        assert.deepStrictEqual(
            run.findings.map((x) => [x.path, x.message]),
            [["/spec/ports/0/port", "got string, want integer"]],
        );
    });

    it("leafErrors ignores the 'validation failed' nodes", () => {
        assert.deepStrictEqual(
            leafErrors("x - at '/a': validation failed   - at '/a/b': got null, want string"),
            [{ path: "/a/b", msg: "got null, want string" }],
        );
        assert.deepStrictEqual(leafErrors("no tree"), []);
    });

    it("kubeconform: refuses output without resources", () => {
        assert.throws(() => parseKubeconform("{}"), /no "resources"/);
    });
});
