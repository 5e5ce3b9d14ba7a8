// Findings of kube-score (`kube-score score -o json`, output version v2) and kubeconform (`-output json`),
// in one shape, so one accept-list matcher serves both.

export type Tool = "kube-score" | "kubeconform";

export interface Finding {
    tool: Tool;
    /** kube-score: the check ID (container-image-pull-policy); kubeconform: "invalid" or "error". */
    check: string;
    kind: string;
    name: string;
    namespace?: string;
    /** kube-score: the container the comment is about, when it names one. */
    container?: string;
    /** kubeconform: the JSON pointer of the invalid field (/spec/replicas). */
    path?: string;
    /** kube-score: CRITICAL or WARNING; kubeconform: ERROR. */
    severity: string;
    message: string;
    file?: string;
}

/** The string, or undefined when it is missing or empty. */
export function nonEmpty(s: string | undefined | null): string | undefined {
    return s === undefined || s === null || s === "" ? undefined : s;
}

/** "Kind/name", the object as accept entries name it. */
export function objectRef(f: Pick<Finding, "kind" | "name">): string {
    return `${f.kind}/${f.name}`;
}

// ---- kube-score ----------------------------------------------------------------------------------------------

interface KubeScoreComment {
    path?: string;
    summary?: string;
    description?: string;
}

interface KubeScoreCheck {
    check?: { id?: string; name?: string };
    grade?: number;
    skipped?: boolean;
    comments?: KubeScoreComment[] | null;
}

interface KubeScoreObject {
    object_name?: string;
    type_meta?: { kind?: string; apiVersion?: string };
    object_meta?: { name?: string; namespace?: string };
    checks?: KubeScoreCheck[] | null;
    file_name?: string;
}

/** kube-score grades (scorecard/scorecard.go): 1 critical, 5 warning, 7 almost OK, 10 all OK. */
export const KUBE_SCORE_GRADE = { critical: 1, warning: 5, almostOk: 7, allOk: 10 } as const;

function gradeName(grade: number): string {
    return grade <= KUBE_SCORE_GRADE.critical ? "CRITICAL" : "WARNING";
}

/**
 * Every check of grade WARNING or worse that was not skipped, one finding per comment (a comment's `path`
 * is the container it is about, or empty for the pod or object as a whole).
 */
export function parseKubeScore(json: string): Finding[] {
    const data = JSON.parse(json) as KubeScoreObject[] | null;
    if (data !== null && !Array.isArray(data)) {
        throw new Error(
            "kube-score output is not a JSON array (expected -o json, output version v2)",
        );
    }
    const out: Finding[] = [];
    for (const obj of data ?? []) {
        const kind = obj.type_meta?.kind ?? "?";
        const name = obj.object_meta?.name ?? obj.object_name ?? "?";
        const namespace = nonEmpty(obj.object_meta?.namespace);
        for (const c of obj.checks ?? []) {
            const grade = c.grade ?? KUBE_SCORE_GRADE.allOk;
            if (c.skipped === true || grade > KUBE_SCORE_GRADE.warning) {
                continue;
            }
            const check = c.check?.id ?? c.check?.name ?? "?";
            const comments = c.comments ?? [];
            const base = {
                tool: "kube-score" as const,
                check,
                kind,
                name,
                namespace,
                severity: gradeName(grade),
                file: obj.file_name,
            };
            if (comments.length === 0) {
                out.push({ ...base, message: c.check?.name ?? check });
            }
            for (const comment of comments) {
                out.push({
                    ...base,
                    container: nonEmpty(comment.path),
                    message: nonEmpty(comment.summary) ?? nonEmpty(comment.description) ?? check,
                });
            }
        }
    }
    return sortFindings(out);
}

// ---- kubeconform ---------------------------------------------------------------------------------------------

interface KubeconformResource {
    filename?: string;
    kind?: string;
    name?: string;
    version?: string;
    status?: string;
    msg?: string;
    validationErrors?: { path?: string; msg?: string }[] | null;
}

export interface KubeconformRun {
    findings: Finding[];
    /** resources per status (statusValid, statusInvalid, statusError, statusSkipped, statusEmpty) */
    statuses: Map<string, number>;
}

/**
 * The leaf errors of a kubeconform "invalid" message. kubeconform's validationErrors list only the first level
 * of causes (often just "/spec: validation failed"); the message holds the whole tree:
 *   "... - at '/spec': validation failed   - at '/spec/replicas': got string, want integer   - at ..."
 */
export function leafErrors(msg: string): { path: string; msg: string }[] {
    const out: { path: string; msg: string }[] = [];
    const re = /- at '([^']*)': (.*?)(?=\s+- at '|$)/g;
    for (let m = re.exec(msg); m !== null; m = re.exec(msg)) {
        const text = m[2].trim();
        if (text !== "validation failed" && text !== "") {
            out.push({ path: m[1], msg: text });
        }
    }
    return out;
}

/** kubeconform `-output json` (with or without -verbose/-summary): one finding per invalid field or error. */
export function parseKubeconform(json: string): KubeconformRun {
    const data = JSON.parse(json) as { resources?: KubeconformResource[] | null };
    if (typeof data !== "object" || data === null || !("resources" in data)) {
        throw new Error('kubeconform output has no "resources" (expected -output json)');
    }
    const findings: Finding[] = [];
    const statuses = new Map<string, number>();
    for (const r of data.resources ?? []) {
        const status = r.status ?? "statusUnknown";
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === "statusValid" || status === "statusEmpty") {
            continue;
        }
        const base = {
            tool: "kubeconform" as const,
            kind: nonEmpty(r.kind) ?? "?",
            name: nonEmpty(r.name) ?? "?",
            severity: "ERROR",
            file: r.filename,
        };
        if (status === "statusInvalid") {
            let leaves = leafErrors(r.msg ?? "");
            if (leaves.length === 0) {
                leaves = (r.validationErrors ?? []).map((e) => ({
                    path: e.path ?? "",
                    msg: e.msg ?? "",
                }));
            }
            if (leaves.length === 0) {
                leaves = [{ path: "", msg: r.msg ?? "invalid" }];
            }
            for (const leaf of leaves) {
                findings.push({
                    ...base,
                    check: "invalid",
                    path: nonEmpty(leaf.path),
                    message: leaf.msg,
                });
            }
        } else {
            // statusError (unparseable, no schema: e.g. a custom resource) and statusSkipped (never with our flags).
            findings.push({
                ...base,
                check: status === "statusSkipped" ? "skipped" : "error",
                message: r.msg ?? status,
            });
        }
    }
    return { findings: sortFindings(findings), statuses };
}

export function sortFindings(findings: Finding[]): Finding[] {
    const key = (f: Finding): string =>
        [f.tool, f.kind, f.name, f.check, f.container ?? "", f.path ?? "", f.message].join(
            "\u0000",
        );
    return [...findings].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
