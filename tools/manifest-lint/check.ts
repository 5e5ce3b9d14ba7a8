// Compares kube-score's and kubeconform's findings with the accept-lists and prints the verdict.
// Run by tools/manifest-lint/lint.sh; by hand:
//
//   ts-node tools/manifest-lint/check.ts --stack dev --kube-score ks.json --kubeconform kc.json \
//     [--accepted tools/manifest-lint/accepted] [--json report.json] [--verbose]
//
// Exit status: 0 every finding is accepted; 1 some finding is not; 2 bad input or an invalid accept-list
// (an entry without a reason, an unknown field, ...). Stale entries (they match nothing) are warnings.
import * as fs from "fs";
import * as path from "path";
import { AcceptEntry, Evaluation, evaluate, parseAcceptList } from "./accept-list";
import { Finding, Tool, objectRef, parseKubeconform, parseKubeScore } from "./findings";

interface Options {
    stack: string;
    kubeScore?: string;
    kubeconform?: string;
    accepted: string;
    json?: string;
    verbose: boolean;
}

const USAGE =
    "usage: check.ts --stack STACK [--kube-score FILE] [--kubeconform FILE] [--accepted DIR] [--json FILE] [--verbose]";

function parseArgs(argv: string[]): Options {
    const opts: Partial<Options> = {
        accepted: path.join(__dirname, "accepted"),
        verbose: false,
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = (): string => {
            const v = argv[++i];
            if (v === undefined) {
                throw new Error(`${arg} needs a value\n${USAGE}`);
            }
            return v;
        };
        switch (arg) {
            case "--stack":
                opts.stack = value();
                break;
            case "--kube-score":
                opts.kubeScore = value();
                break;
            case "--kubeconform":
                opts.kubeconform = value();
                break;
            case "--accepted":
                opts.accepted = value();
                break;
            case "--json":
                opts.json = value();
                break;
            case "--verbose":
                opts.verbose = true;
                break;
            default:
                throw new Error(`unknown argument ${arg}\n${USAGE}`);
        }
    }
    if (opts.stack === undefined) {
        throw new Error(USAGE);
    }
    return opts as Options;
}

/** Rows as aligned columns (the last column is not padded). */
export function table(rows: string[][], indent = "  "): string {
    const widths: number[] = [];
    for (const row of rows) {
        row.forEach((cell, i) => {
            widths[i] = Math.max(widths[i] ?? 0, cell.length);
        });
    }
    return rows
        .map(
            (row) =>
                indent +
                row
                    .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
                    .join("  ")
                    .trimEnd(),
        )
        .join("\n");
}

function findingRow(f: Finding): string[] {
    const where = f.container ?? f.path ?? "-";
    return [f.tool, f.check, objectRef(f), where, `${f.message} (${f.severity})`];
}

const HEADER = ["tool", "check", "object", "container/path", "message"];

export function summarize(findings: Finding[]): string {
    const bySeverity = new Map<string, number>();
    for (const f of findings) {
        bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
    }
    const parts = [...bySeverity.entries()].map(([s, n]) => `${s} ${n}`);
    return `${findings.length}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

/** The verdict for one stack: findings per tool, the ones not accepted, stale entries. */
export function report(
    stack: string,
    perTool: Map<Tool, Finding[]>,
    entries: Map<Tool, AcceptEntry[]>,
    verbose: boolean,
): { text: string; exitCode: number; evaluations: Map<Tool, Evaluation> } {
    const lines: string[] = [];
    const evaluations = new Map<Tool, Evaluation>();
    const notAccepted: Finding[] = [];
    const stale: AcceptEntry[] = [];
    for (const [tool, findings] of perTool) {
        const ev = evaluate(findings, entries.get(tool) ?? [], stack);
        evaluations.set(tool, ev);
        const open = ev.results.filter((r) => r.acceptedBy === undefined).map((r) => r.finding);
        notAccepted.push(...open);
        stale.push(...ev.stale);
        lines.push(
            `${tool}: ${summarize(findings)} findings before acceptance; ${findings.length - open.length} accepted, ${open.length} not accepted`,
        );
        if (verbose) {
            const accepted = ev.results.filter((r) => r.acceptedBy !== undefined);
            if (accepted.length > 0) {
                lines.push(`  accepted:`);
                lines.push(
                    table(
                        accepted.map((r) => [
                            ...findingRow(r.finding),
                            `<- ${(r.acceptedBy as AcceptEntry).source}`,
                        ]),
                        "    ",
                    ),
                );
            }
        }
    }
    if (notAccepted.length > 0) {
        lines.push("");
        lines.push(
            `NOT ACCEPTED on stack ${stack} (${notAccepted.length}): fix the program, or, if the finding is right for it, ` +
                `add an entry with a reason to tools/manifest-lint/accepted/<tool>.json`,
        );
        lines.push(table([HEADER, ...notAccepted.map(findingRow)]));
    }
    if (stale.length > 0) {
        lines.push("");
        lines.push(
            `WARNING: ${stale.length} stale accept entr${stale.length === 1 ? "y" : "ies"} (they match no finding on stack ${stack}; remove them or restrict "stacks"):`,
        );
        lines.push(
            table(
                stale.map((e) => [
                    e.source,
                    e.check,
                    e.object,
                    e.container ?? e.path ?? "-",
                    `"${e.reason.length > 70 ? e.reason.slice(0, 67) + "..." : e.reason}"`,
                ]),
            ),
        );
    }
    lines.push("");
    lines.push(
        notAccepted.length === 0
            ? `OK: every finding on stack ${stack} is accepted`
            : `FAILED: ${notAccepted.length} finding(s) on stack ${stack} not accepted`,
    );
    return { text: lines.join("\n"), exitCode: notAccepted.length === 0 ? 0 : 1, evaluations };
}

function main(argv: string[]): number {
    const opts = parseArgs(argv);
    const perTool = new Map<Tool, Finding[]>();
    const entries = new Map<Tool, AcceptEntry[]>();
    const errors: string[] = [];
    const header: string[] = [];
    const inputs: [Tool, string | undefined][] = [
        ["kubeconform", opts.kubeconform],
        ["kube-score", opts.kubeScore],
    ];
    for (const [tool, file] of inputs) {
        if (file === undefined) {
            continue;
        }
        const text = fs.readFileSync(file, "utf8");
        if (tool === "kubeconform") {
            const run = parseKubeconform(text);
            perTool.set(tool, run.findings);
            const total = [...run.statuses.values()].reduce((a, b) => a + b, 0);
            const counts = [...run.statuses.entries()]
                .map(([s, n]) => `${s.replace(/^status/, "").toLowerCase()} ${n}`)
                .join(", ");
            header.push(`kubeconform: ${total} objects (${counts})`);
        } else {
            perTool.set(tool, parseKubeScore(text));
            const objects = (JSON.parse(text) as unknown[] | null)?.length ?? 0;
            header.push(`kube-score: ${objects} objects scored (the kinds it has checks for)`);
        }
        const listFile = path.join(opts.accepted, `${tool}.json`);
        if (fs.existsSync(listFile)) {
            const rel = path.relative(process.cwd(), listFile).startsWith("..")
                ? path.resolve(listFile)
                : path.relative(process.cwd(), listFile);
            const parsed = parseAcceptList(fs.readFileSync(listFile, "utf8"), rel, tool);
            entries.set(tool, parsed.entries);
            errors.push(...parsed.errors);
        } else {
            entries.set(tool, []);
        }
    }
    const out = report(opts.stack, perTool, entries, opts.verbose);
    process.stdout.write(`stack ${opts.stack}: ${header.join("; ")}\n${out.text}\n`);
    if (opts.json !== undefined) {
        const json = {
            stack: opts.stack,
            tools: Object.fromEntries(
                [...out.evaluations].map(([tool, ev]) => [
                    tool,
                    {
                        findings: ev.results.map((r) => ({
                            ...r.finding,
                            acceptedBy: r.acceptedBy?.source,
                        })),
                        stale: ev.stale.map((e) => e.source),
                    },
                ]),
            ),
        };
        fs.writeFileSync(opts.json, JSON.stringify(json, null, 2) + "\n");
    }
    if (errors.length > 0) {
        process.stdout.write(
            `\nINVALID accept-list (${errors.length} problem${errors.length === 1 ? "" : "s"}):\n` +
                errors.map((e) => `  ${e}`).join("\n") +
                "\n",
        );
        return 2;
    }
    return out.exitCode;
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`[manifest-lint] ERROR: ${(e as Error).message}\n`);
        process.exitCode = 2;
    }
}
