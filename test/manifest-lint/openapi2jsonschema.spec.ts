import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    JsonValue,
    Schema,
    SwaggerSpec,
    convertSwagger,
    directRefs,
    kindSuffix,
    reachableDefinitions,
    schemaFileName,
    writeSchemas,
} from "../../tools/manifest-lint/openapi2jsonschema";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

/** A small swagger.json with the shapes the real one has (Kubernetes v1.36.3 api/openapi-spec). */
function spec(): SwaggerSpec {
    return {
        definitions: {
            [META]: {
                description: "ObjectMeta is metadata that all persisted resources must have",
                type: "object",
                properties: {
                    name: { type: "string" },
                    labels: { type: "object", additionalProperties: { type: "string" } },
                },
            },
            [QUANTITY]: { description: "Quantity ...", type: "string" },
            [INT_OR_STRING]: { type: "string", format: "int-or-string" },
            "io.k8s.api.apps.v1.Deployment": {
                description: "Deployment enables declarative updates for Pods and ReplicaSets.",
                type: "object",
                properties: {
                    apiVersion: { type: "string" },
                    kind: { type: "string" },
                    metadata: ref(META),
                    spec: ref("io.k8s.api.apps.v1.DeploymentSpec"),
                },
                "x-kubernetes-group-version-kind": [
                    { group: "apps", kind: "Deployment", version: "v1" },
                ],
            },
            "io.k8s.api.apps.v1.DeploymentSpec": {
                type: "object",
                required: ["selector"],
                properties: {
                    replicas: { type: "integer", format: "int32" },
                    maxUnavailable: ref(INT_OR_STRING),
                    cpu: ref(QUANTITY),
                    selector: { type: "object" },
                    raw: {
                        type: "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                        properties: {},
                    },
                },
            },
            "io.k8s.api.core.v1.Service": {
                type: "object",
                properties: { apiVersion: { type: "string" }, kind: { type: "string" } },
                "x-kubernetes-group-version-kind": [{ group: "", kind: "Service", version: "v1" }],
            },
            // Recursive, with properties named like JSON Schema keywords ($ref, properties, additionalProperties).
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps": {
                type: "object",
                properties: {
                    $ref: { type: "string" },
                    properties: {
                        type: "object",
                        additionalProperties: ref(
                            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
                        ),
                    },
                    additionalProperties: { type: "boolean" },
                },
                "x-kubernetes-group-version-kind": [
                    { group: "apiextensions.k8s.io", kind: "SchemaThing", version: "v1" },
                ],
            },
        },
    };
}

function allRefs(v: JsonValue): string[] {
    if (Array.isArray(v)) {
        return v.flatMap(allRefs);
    }
    if (typeof v === "object" && v !== null) {
        return Object.entries(v).flatMap(([k, c]) =>
            k === "$ref" && typeof c === "string" ? [c] : allRefs(c),
        );
    }
    return [];
}

describe("manifest-lint openapi2jsonschema", () => {
    describe("file names (kubeconform {{ .ResourceKind }}{{ .KindSuffix }}.json)", () => {
        for (const [kind, apiVersion, file] of [
            ["Deployment", "apps/v1", "deployment-apps-v1.json"],
            ["Service", "v1", "service-v1.json"],
            ["NetworkPolicy", "networking.k8s.io/v1", "networkpolicy-networking-v1.json"],
            ["PodDisruptionBudget", "policy/v1", "poddisruptionbudget-policy-v1.json"],
            [
                "HorizontalPodAutoscaler",
                "autoscaling/v2",
                "horizontalpodautoscaler-autoscaling-v2.json",
            ],
            [
                "CustomResourceDefinition",
                "apiextensions.k8s.io/v1",
                "customresourcedefinition-apiextensions-v1.json",
            ],
        ]) {
            it(`${apiVersion} ${kind} -> ${file}`, () => {
                assert.strictEqual(schemaFileName(kind, apiVersion), file);
            });
        }
        it("lower-cases the group label and version like kubeconform", () => {
            assert.strictEqual(kindSuffix("Example.com/V1Beta1"), "-example-v1beta1");
        });
    });

    describe("conversion", () => {
        const strict = convertSwagger(spec(), true);
        const lax = convertSwagger(spec(), false);
        const deployment = strict.files.get("deployment-apps-v1.json") as Schema;
        const defs = deployment.definitions as Record<string, Schema>;

        it("writes one file per group/version/kind", () => {
            assert.deepStrictEqual([...strict.files.keys()].sort(), [
                "deployment-apps-v1.json",
                "schemathing-apiextensions-v1.json",
                "service-v1.json",
            ]);
            assert.strictEqual(
                strict.index.get("service-v1.json"),
                "v1 Service (io.k8s.api.core.v1.Service)",
            );
        });

        it("is self-contained: every $ref points into the file's own definitions", () => {
            for (const [file, schema] of strict.files) {
                const local = schema.definitions as Record<string, Schema>;
                for (const r of allRefs(schema)) {
                    assert.match(r, /^#\/definitions\//, `${file}: ${r}`);
                    assert.ok(local[r.slice("#/definitions/".length)], `${file}: dangling ${r}`);
                }
            }
        });

        it("carries only the definitions the kind reaches", () => {
            assert.deepStrictEqual(
                Object.keys(defs).sort(),
                ["io.k8s.api.apps.v1.DeploymentSpec", QUANTITY, META, INT_OR_STRING].sort(),
            );
        });

        it("pins apiVersion and kind to the file's group/version and kind", () => {
            const props = deployment.properties as Record<string, Schema>;
            assert.deepStrictEqual(props.apiVersion.enum, ["apps/v1"]);
            assert.deepStrictEqual(props.kind.enum, ["Deployment"]);
            const svc = strict.files.get("service-v1.json") as Schema;
            assert.deepStrictEqual((svc.properties as Record<string, Schema>).apiVersion.enum, [
                "v1",
            ]);
        });

        it("strict: forbids unknown fields on objects with properties, not on maps or preserve-unknown-fields", () => {
            assert.strictEqual(deployment.additionalProperties, false);
            assert.strictEqual(
                defs["io.k8s.api.apps.v1.DeploymentSpec"].additionalProperties,
                false,
            );
            assert.strictEqual(defs[META].additionalProperties, false);
            const labels = (defs[META].properties as Record<string, Schema>).labels;
            assert.deepStrictEqual(labels.additionalProperties, { type: "string" });
            const raw = (
                defs["io.k8s.api.apps.v1.DeploymentSpec"].properties as Record<string, Schema>
            ).raw;
            assert.ok(!("additionalProperties" in raw));
            // `selector` has no properties: left open, as openapi2jsonschema does.
            const selector = (
                defs["io.k8s.api.apps.v1.DeploymentSpec"].properties as Record<string, Schema>
            ).selector;
            assert.ok(!("additionalProperties" in selector));
        });

        it("non-strict: adds no additionalProperties", () => {
            const d = lax.files.get("deployment-apps-v1.json") as Schema;
            assert.ok(!("additionalProperties" in d));
            const spec = (d.definitions as Record<string, Schema>)[
                "io.k8s.api.apps.v1.DeploymentSpec"
            ];
            assert.ok(!("additionalProperties" in spec));
        });

        it("makes IntOrString integer-or-string and Quantity string-or-number", () => {
            assert.deepStrictEqual(defs[INT_OR_STRING], { type: ["integer", "string"] });
            assert.deepStrictEqual(defs[QUANTITY], { type: ["string", "number"] });
        });

        it("drops descriptions and the group-version-kind extension", () => {
            assert.ok(!JSON.stringify(deployment).includes("description"));
            assert.ok(!JSON.stringify(deployment).includes("x-kubernetes-group-version-kind"));
        });

        it("keeps a recursive type finite, and treats keyword-named properties as fields", () => {
            const s = strict.files.get("schemathing-apiextensions-v1.json") as Schema;
            const name = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";
            // The root refers to itself, so it is also under definitions.
            assert.deepStrictEqual(Object.keys(s.definitions as object), [name]);
            const props = s.properties as Record<string, Schema>;
            assert.deepStrictEqual(props.$ref, { type: "string" });
            assert.deepStrictEqual(props.additionalProperties, { type: "boolean" });
            assert.deepStrictEqual(props.properties.additionalProperties, ref(name));
            assert.strictEqual(s.additionalProperties, false);
        });

        it("finds references only in schema positions", () => {
            const d = spec().definitions;
            assert.deepStrictEqual(
                [
                    ...directRefs(
                        d[
                            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
                        ],
                    ),
                ],
                ["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"],
            );
            assert.deepStrictEqual(reachableDefinitions(d, "io.k8s.api.core.v1.Service"), [
                "io.k8s.api.core.v1.Service",
            ]);
        });

        it("refuses a dangling $ref and two kinds that map to one file", () => {
            const broken = spec();
            broken.definitions["io.k8s.api.core.v1.Service"].properties = { x: ref("nope") };
            assert.throws(() => convertSwagger(broken, true), /missing definition nope/);
            const clash = spec();
            clash.definitions["io.k8s.api.apps.v1beta1.Other"] = {
                type: "object",
                "x-kubernetes-group-version-kind": [
                    { group: "apps.example.com", kind: "Deployment", version: "v1" },
                ],
            };
            assert.throws(
                () => convertSwagger(clash, true),
                /two kinds map to deployment-apps-v1.json/,
            );
        });
    });

    it("writes kubeconform's <version>-standalone[-strict]/ layout", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openapi2jsonschema-"));
        try {
            assert.strictEqual(writeSchemas(spec(), dir, "1.36.3"), 3);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), [
                "v1.36.3-standalone",
                "v1.36.3-standalone-strict",
            ]);
            const file = path.join(dir, "v1.36.3-standalone-strict", "deployment-apps-v1.json");
            const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Schema;
            assert.strictEqual(parsed.$schema, "http://json-schema.org/draft-04/schema#");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
