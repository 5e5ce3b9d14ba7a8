// Converts the Kubernetes OpenAPI v2 spec (api/openapi-spec/swagger.json of k8s.io/kubernetes) into the JSON
// schemas kubeconform reads from a local -schema-location, so it can validate offline:
//
//   <out>/<kubernetesVersion>-standalone-strict/<kind><kindSuffix>.json   (used with kubeconform -strict)
//   <out>/<kubernetesVersion>-standalone/<kind><kindSuffix>.json          (without -strict)
//
// which is the layout kubeconform's default template expects:
//   {{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json
// (kubeconform v0.8.0 pkg/registry/registry.go: ResourceKind is the lower-cased kind; KindSuffix is
// "-" + the first dot-separated label of the group + "-" + the version, or "-" + the version for the core
// group: deployment-apps-v1.json, networkpolicy-networking-v1.json, service-v1.json).
//
// It follows what instrumenta/openapi2jsonschema does for yannh/kubernetes-json-schema (the registry kubeconform
// downloads from by default: --expanded --kubernetes --stand-alone [--strict]), with these differences:
//   * "standalone" means self-contained: every $ref points into the file's own "definitions" (only the
//     definitions the kind reaches), instead of inlining them; recursive types stay finite and exact.
//   * strict mode adds additionalProperties: false to every object schema with "properties" (not to maps, not to
//     x-kubernetes-preserve-unknown-fields objects), walking schema positions only (openapi2jsonschema also walks
//     into "properties" maps, so it forbids a field named additionalProperties in JSONSchemaProps).
//   * apiVersion and kind get an enum of exactly the file's group/version and kind.
//   * IntOrString is integer or string; Quantity is string or number (the API server accepts both).
//   * optional fields do not accept null (openapi2jsonschema allows it); the renderer never writes null.
//   * descriptions are dropped (kubeconform does not use them; they would make the cache ~10x larger).
//
// CLI: ts-node tools/manifest-lint/openapi2jsonschema.ts --swagger <swagger.json> --out <dir>
//        --kubernetes-version v1.36.3
import * as fs from "fs";
import * as path from "path";

export type JsonValue =
    null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type Schema = { [key: string]: JsonValue };

export interface GroupVersionKind {
    group: string;
    version: string;
    kind: string;
}

export interface SwaggerSpec {
    definitions: { [name: string]: Schema };
}

const REF_PREFIX = "#/definitions/";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/** apiVersion of a group/version: "apps/v1", or "v1" for the core group. */
export function apiVersionOf(gvk: GroupVersionKind): string {
    return gvk.group === "" ? gvk.version : `${gvk.group}/${gvk.version}`;
}

/** kubeconform's {{ .KindSuffix }} for an apiVersion (same algorithm as registry.schemaPath). */
export function kindSuffix(apiVersion: string): string {
    const groupParts = apiVersion.split("/");
    const versionParts = groupParts[0].split(".");
    let suffix = "-" + versionParts[0].toLowerCase();
    if (groupParts.length > 1) {
        suffix += "-" + groupParts[1].toLowerCase();
    }
    return suffix;
}

/** The file name kubeconform looks up for a kind and apiVersion: {{ .ResourceKind }}{{ .KindSuffix }}.json */
export function schemaFileName(kind: string, apiVersion: string): string {
    return `${kind.toLowerCase()}${kindSuffix(apiVersion)}.json`;
}

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function gvksOf(def: Schema): GroupVersionKind[] {
    const raw = def["x-kubernetes-group-version-kind"];
    if (!Array.isArray(raw)) {
        return [];
    }
    return raw.filter(isObject).map((g) => ({
        group: String(g.group ?? ""),
        version: String(g.version ?? ""),
        kind: String(g.kind ?? ""),
    }));
}

function refTarget(ref: JsonValue): string {
    if (typeof ref !== "string" || !ref.startsWith(REF_PREFIX)) {
        throw new Error(
            `unsupported $ref ${JSON.stringify(ref)} (only ${REF_PREFIX}... is expected)`,
        );
    }
    return ref.slice(REF_PREFIX.length);
}

/** The subschemas of a schema node: the positions this converter walks (the ones swagger.json uses). */
export function childSchemas(schema: Schema): Schema[] {
    const out: Schema[] = [];
    for (const [k, v] of Object.entries(schema)) {
        if (k === "properties" && isObject(v)) {
            out.push(...Object.values(v).filter(isObject));
        } else if ((k === "items" || k === "additionalProperties" || k === "not") && isObject(v)) {
            out.push(v);
        } else if ((k === "allOf" || k === "anyOf" || k === "oneOf") && Array.isArray(v)) {
            out.push(...v.filter(isObject));
        }
    }
    return out;
}

/** Names of the definitions a schema refers to directly (in any of its subschemas, not through a $ref). */
export function directRefs(schema: Schema): Set<string> {
    const out = new Set<string>();
    const walk = (node: Schema): void => {
        if ("$ref" in node) {
            out.add(refTarget(node.$ref));
        }
        childSchemas(node).forEach(walk);
    };
    walk(schema);
    return out;
}

/** The transitive closure of definitions reachable from `root` (root included), sorted. */
export function reachableDefinitions(
    definitions: { [name: string]: Schema },
    root: string,
): string[] {
    const seen = new Set<string>([root]);
    const queue = [root];
    while (queue.length > 0) {
        const name = queue.shift() as string;
        const def = definitions[name];
        if (def === undefined) {
            throw new Error(`$ref to missing definition ${name}`);
        }
        for (const ref of directRefs(def)) {
            if (!seen.has(ref)) {
                seen.add(ref);
                queue.push(ref);
            }
        }
    }
    return [...seen].sort();
}

/**
 * One schema node, rewritten for kubeconform (recursively, schema positions only):
 * descriptions dropped, int-or-string made a type union, and in strict mode additionalProperties: false
 * on object schemas with properties.
 */
export function transformSchema(schema: Schema, strict: boolean): Schema {
    const out: Schema = {};
    for (const [k, v] of Object.entries(schema)) {
        if (k === "description") {
            continue;
        }
        if (k === "properties" && isObject(v)) {
            const props: Schema = {};
            for (const [name, sub] of Object.entries(v)) {
                props[name] = isObject(sub) ? transformSchema(sub, strict) : sub;
            }
            out[k] = props;
        } else if ((k === "items" || k === "additionalProperties" || k === "not") && isObject(v)) {
            out[k] = transformSchema(v, strict);
        } else if ((k === "allOf" || k === "anyOf" || k === "oneOf") && Array.isArray(v)) {
            out[k] = v.map((sub) => (isObject(sub) ? transformSchema(sub, strict) : sub));
        } else {
            out[k] = v;
        }
    }
    if (out.format === "int-or-string") {
        delete out.format;
        out.type = ["integer", "string"];
    }
    if (
        strict &&
        isObject(out.properties) &&
        !("additionalProperties" in out) &&
        out["x-kubernetes-preserve-unknown-fields"] !== true
    ) {
        out.additionalProperties = false;
    }
    return out;
}

function transformDefinition(name: string, def: Schema, strict: boolean): Schema {
    if (name === QUANTITY) {
        // resource.Quantity unmarshals from a JSON string or number ("500m", 1, 0.5).
        return { type: ["string", "number"] };
    }
    const out = transformSchema(def, strict);
    delete out["x-kubernetes-group-version-kind"];
    return out;
}

/** The self-contained schema of one kind at one group/version, rooted at definition `rootName`. */
export function kindSchema(
    definitions: { [name: string]: Schema },
    rootName: string,
    gvk: GroupVersionKind,
    strict: boolean,
): Schema {
    const root = transformDefinition(rootName, definitions[rootName], strict);
    const props = isObject(root.properties) ? { ...root.properties } : {};
    if (isObject(props.apiVersion)) {
        props.apiVersion = { ...props.apiVersion, enum: [apiVersionOf(gvk)] };
    }
    if (isObject(props.kind)) {
        props.kind = { ...props.kind, enum: [gvk.kind] };
    }
    root.properties = props;
    // The root's definition is repeated under "definitions" only when something refers back to it.
    const reachable = reachableDefinitions(definitions, rootName);
    const rootReferenced = reachable.some((name) => directRefs(definitions[name]).has(rootName));
    const defs: Schema = {};
    for (const name of reachable) {
        if (name !== rootName || rootReferenced) {
            defs[name] = transformDefinition(name, definitions[name], strict);
        }
    }
    return {
        $schema: "http://json-schema.org/draft-04/schema#",
        ...root,
        definitions: defs,
    };
}

export interface ConvertedSchemas {
    /** file name -> schema */
    files: Map<string, Schema>;
    /** file name -> "group/version Kind (definition)" for the index */
    index: Map<string, string>;
}

/** Every kind of the spec (definitions with x-kubernetes-group-version-kind) as kubeconform schema files. */
export function convertSwagger(spec: SwaggerSpec, strict: boolean): ConvertedSchemas {
    const files = new Map<string, Schema>();
    const index = new Map<string, string>();
    const names = Object.keys(spec.definitions).sort();
    for (const name of names) {
        for (const gvk of gvksOf(spec.definitions[name])) {
            const apiVersion = apiVersionOf(gvk);
            const file = schemaFileName(gvk.kind, apiVersion);
            const what = `${apiVersion} ${gvk.kind} (${name})`;
            const previous = index.get(file);
            if (previous !== undefined) {
                throw new Error(`two kinds map to ${file}: ${previous} and ${what}`);
            }
            index.set(file, what);
            files.set(file, kindSchema(spec.definitions, name, gvk, strict));
        }
    }
    return { files, index };
}

/** Writes <out>/<version>-standalone[-strict]/*.json; returns the number of files per variant. */
export function writeSchemas(spec: SwaggerSpec, outDir: string, kubernetesVersion: string): number {
    const version = kubernetesVersion.startsWith("v") ? kubernetesVersion : `v${kubernetesVersion}`;
    let count = 0;
    for (const strict of [true, false]) {
        const { files } = convertSwagger(spec, strict);
        const dir = path.join(outDir, `${version}-standalone${strict ? "-strict" : ""}`);
        fs.mkdirSync(dir, { recursive: true });
        for (const [file, schema] of files) {
            fs.writeFileSync(path.join(dir, file), JSON.stringify(schema) + "\n");
        }
        count = files.size;
    }
    return count;
}

function main(argv: string[]): void {
    const args = new Map<string, string>();
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i];
        const value = argv[i + 1];
        if (!key.startsWith("--") || value === undefined) {
            throw new Error(
                `usage: openapi2jsonschema.ts --swagger FILE --out DIR --kubernetes-version vX.Y.Z`,
            );
        }
        args.set(key.slice(2), value);
    }
    const swagger = args.get("swagger");
    const out = args.get("out");
    const version = args.get("kubernetes-version");
    if (swagger === undefined || out === undefined || version === undefined) {
        throw new Error(
            `usage: openapi2jsonschema.ts --swagger FILE --out DIR --kubernetes-version vX.Y.Z`,
        );
    }
    const spec = JSON.parse(fs.readFileSync(swagger, "utf8")) as SwaggerSpec;
    if (!isObject(spec.definitions as JsonValue)) {
        throw new Error(`${swagger} has no "definitions": not an OpenAPI v2 (swagger) document`);
    }
    const n = writeSchemas(spec, out, version);
    process.stderr.write(`[openapi2jsonschema] wrote ${n} kinds x 2 variants under ${out}\n`);
}

if (require.main === module) {
    try {
        main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`[openapi2jsonschema] ERROR: ${(e as Error).message}\n`);
        process.exit(1);
    }
}
