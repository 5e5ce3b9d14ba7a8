// Accept-lists: the findings this program keeps on purpose, each with its reason.
//
// File (tools/manifest-lint/accepted/<tool>.json):
//   { "tool": "kube-score", "accepted": [ { "check": ..., "object": ..., "reason": ... }, ... ] }
// Entry fields:
//   check      required  the check: kube-score's check ID, or kubeconform's "invalid" / "error"      (pattern)
//   object     required  "Kind/name" of the object                                                   (pattern)
//   reason     required  why this finding is right for this program (at least MIN_REASON characters)
//   container  optional  only findings about this container (kube-score)                            (pattern)
//   path       optional  only findings at this field (kubeconform, a JSON pointer: /spec/replicas)   (pattern)
//   message    optional  only findings with this message                                             (pattern)
//   namespace  optional  only objects in this namespace                                              (pattern)
//   stacks     optional  only on these stacks (default: every stack)
// Patterns match the whole value; `*` matches any run of characters (autonamed objects: "Job/superservice-*").
// Unknown fields are errors: a misspelt "contianer" would otherwise widen the entry silently.
import { Finding, Tool, objectRef } from "./findings";

export const MIN_REASON = 20;

export interface AcceptEntry {
    check: string;
    object: string;
    reason: string;
    container?: string;
    path?: string;
    message?: string;
    namespace?: string;
    stacks?: string[];
    /** where the entry comes from, for messages: "accepted/kube-score.json entry 3" */
    source: string;
}

export interface ParsedAcceptList {
    entries: AcceptEntry[];
    errors: string[];
}

const PATTERN_FIELDS = ["check", "object", "container", "path", "message", "namespace"] as const;
const ENTRY_FIELDS = new Set<string>([...PATTERN_FIELDS, "reason", "stacks", "$comment"]);
const FILE_FIELDS = new Set<string>(["tool", "accepted", "$comment"]);

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses and validates an accept-list; every problem is reported, not just the first. */
export function parseAcceptList(text: string, file: string, tool: Tool): ParsedAcceptList {
    const errors: string[] = [];
    let data: unknown;
    try {
        data = JSON.parse(text);
    } catch (e) {
        return { entries: [], errors: [`${file}: not valid JSON: ${(e as Error).message}`] };
    }
    if (!isRecord(data)) {
        return { entries: [], errors: [`${file}: expected an object with "tool" and "accepted"`] };
    }
    for (const key of Object.keys(data)) {
        if (!FILE_FIELDS.has(key)) {
            errors.push(`${file}: unknown top-level field "${key}"`);
        }
    }
    if (data.tool !== tool) {
        errors.push(`${file}: "tool" is ${JSON.stringify(data.tool)}, expected "${tool}"`);
    }
    if (!Array.isArray(data.accepted)) {
        errors.push(`${file}: "accepted" must be a list`);
        return { entries: [], errors };
    }
    const entries: AcceptEntry[] = [];
    data.accepted.forEach((raw: unknown, i: number) => {
        const source = `${file} entry ${i + 1}`;
        if (!isRecord(raw)) {
            errors.push(`${source}: not an object`);
            return;
        }
        const what = `${source} (${String(raw.check)} ${String(raw.object)})`;
        const before = errors.length;
        for (const key of Object.keys(raw)) {
            if (!ENTRY_FIELDS.has(key)) {
                errors.push(`${what}: unknown field "${key}"`);
            }
        }
        for (const key of PATTERN_FIELDS) {
            const v = raw[key];
            if (v !== undefined && (typeof v !== "string" || v.trim() === "")) {
                errors.push(`${what}: "${key}" must be a non-empty string`);
            }
        }
        if (raw.check === undefined) {
            errors.push(`${what}: "check" is required`);
        }
        if (raw.object === undefined) {
            errors.push(`${what}: "object" is required`);
        } else if (typeof raw.object === "string" && !/^[^/]+\/[^/]+$/.test(raw.object)) {
            errors.push(`${what}: "object" must look like Kind/name (got "${raw.object}")`);
        }
        if (typeof raw.reason !== "string" || raw.reason.trim() === "") {
            errors.push(`${what}: no "reason": every accepted finding needs one`);
        } else if (raw.reason.trim().length < MIN_REASON) {
            errors.push(
                `${what}: the reason "${raw.reason.trim()}" is too short to explain anything (min ${MIN_REASON} characters)`,
            );
        }
        const stacks = raw.stacks;
        if (
            stacks !== undefined &&
            (!Array.isArray(stacks) ||
                stacks.length === 0 ||
                !stacks.every((s) => typeof s === "string" && s !== ""))
        ) {
            errors.push(`${what}: "stacks" must be a non-empty list of stack names`);
        }
        if (errors.length > before) {
            return;
        }
        entries.push({
            check: raw.check as string,
            object: raw.object as string,
            reason: (raw.reason as string).trim(),
            container: raw.container as string | undefined,
            path: raw.path as string | undefined,
            message: raw.message as string | undefined,
            namespace: raw.namespace as string | undefined,
            stacks: stacks as string[] | undefined,
            source,
        });
    });
    return { entries, errors };
}

/** A whole-value pattern: `*` matches any run of characters, everything else is literal. */
export function globToRegExp(pattern: string): RegExp {
    const body = pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*");
    return new RegExp(`^${body}$`, "s");
}

export function globMatch(pattern: string, value: string): boolean {
    return globToRegExp(pattern).test(value);
}

export function appliesToStack(entry: AcceptEntry, stack: string): boolean {
    return entry.stacks === undefined || entry.stacks.includes(stack);
}

/** Whether the entry accepts the finding (on this stack). Optional fields restrict; absent ones match anything. */
export function entryMatches(entry: AcceptEntry, finding: Finding, stack: string): boolean {
    if (!appliesToStack(entry, stack)) {
        return false;
    }
    if (!globMatch(entry.check, finding.check) || !globMatch(entry.object, objectRef(finding))) {
        return false;
    }
    const optional: [string | undefined, string | undefined][] = [
        [entry.container, finding.container],
        [entry.path, finding.path],
        [entry.message, finding.message],
        [entry.namespace, finding.namespace],
    ];
    return optional.every(
        ([pattern, value]) =>
            pattern === undefined || (value !== undefined && globMatch(pattern, value)),
    );
}

export interface Evaluation {
    /** every finding, with the first entry that accepts it (if any) */
    results: { finding: Finding; acceptedBy?: AcceptEntry }[];
    /** entries that apply to this stack but match no finding */
    stale: AcceptEntry[];
}

export function evaluate(findings: Finding[], entries: AcceptEntry[], stack: string): Evaluation {
    const used = new Set<AcceptEntry>();
    const results = findings.map((finding) => {
        const matching = entries.filter((e) => entryMatches(e, finding, stack));
        matching.forEach((e) => used.add(e));
        return { finding, acceptedBy: matching[0] };
    });
    const stale = entries.filter((e) => appliesToStack(e, stack) && !used.has(e));
    return { results, stale };
}
