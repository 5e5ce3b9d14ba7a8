import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    AcceptEntry,
    entryMatches,
    evaluate,
    globMatch,
    parseAcceptList,
} from "../../tools/manifest-lint/accept-list";
import { report } from "../../tools/manifest-lint/check";
import { Finding, Tool } from "../../tools/manifest-lint/findings";

const REASON = "a reason long enough to say something specific";

function finding(over: Partial<Finding> = {}): Finding {
    return {
        tool: "kube-score",
        check: "container-security-context-user-group-id",
        kind: "DaemonSet",
        name: "licode-erizo-agent-primary",
        namespace: "licode",
        container: "erizo-agent",
        severity: "CRITICAL",
        message: "The container is running with a low user ID",
        ...over,
    };
}

function entry(over: Partial<AcceptEntry> = {}): AcceptEntry {
    return {
        check: "container-security-context-user-group-id",
        object: "DaemonSet/licode-erizo-agent-*",
        reason: REASON,
        source: "test entry",
        ...over,
    };
}

function parse(accepted: unknown[], extra: Record<string, unknown> = {}) {
    return parseAcceptList(
        JSON.stringify({ tool: "kube-score", accepted, ...extra }),
        "list.json",
        "kube-score",
    );
}

describe("manifest-lint accept-lists", () => {
    describe("parsing", () => {
        it("accepts a well-formed list", () => {
            const r = parse([
                { check: "a", object: "Deployment/x", reason: REASON },
                {
                    check: "b",
                    object: "Job/y-*",
                    container: "c",
                    stacks: ["dev"],
                    reason: REASON,
                    $comment: "n",
                },
            ]);
            assert.deepStrictEqual(r.errors, []);
            assert.strictEqual(r.entries.length, 2);
            assert.strictEqual(r.entries[1].source, "list.json entry 2");
            assert.deepStrictEqual(r.entries[1].stacks, ["dev"]);
        });

        it("rejects an entry without a reason, or with an empty or token one", () => {
            const r = parse([
                { check: "a", object: "Deployment/x" },
                { check: "a", object: "Deployment/x", reason: "   " },
                { check: "a", object: "Deployment/x", reason: "ok" },
            ]);
            assert.strictEqual(r.entries.length, 0);
            assert.strictEqual(r.errors.length, 3);
            assert.match(r.errors[0], /entry 1 .*no "reason"/);
            assert.match(r.errors[1], /entry 2 .*no "reason"/);
            assert.match(r.errors[2], /entry 3 .*too short/);
        });

        it("rejects unknown fields (a misspelt field would widen the entry), bad objects and stacks", () => {
            const r = parse([
                { check: "a", object: "Deployment/x", contianer: "c", reason: REASON },
                { check: "a", object: "licode-nuve", reason: REASON },
                { object: "Deployment/x", reason: REASON },
                { check: "a", object: "Deployment/x", stacks: [], reason: REASON },
                { check: "a", object: "Deployment/x", container: "", reason: REASON },
                "not an object",
            ]);
            assert.strictEqual(r.entries.length, 0);
            assert.match(r.errors.join("\n"), /unknown field "contianer"/);
            assert.match(r.errors.join("\n"), /must look like Kind\/name/);
            assert.match(r.errors.join("\n"), /"check" is required/);
            assert.match(r.errors.join("\n"), /"stacks" must be a non-empty list/);
            assert.match(r.errors.join("\n"), /"container" must be a non-empty string/);
            assert.match(r.errors.join("\n"), /entry 6: not an object/);
        });

        it("rejects a list for another tool, unknown top-level fields and invalid JSON", () => {
            assert.match(parse([], { tool: "kubeconform" }).errors.join(), /expected "kube-score"/);
            assert.match(parse([], { extra: 1 }).errors.join(), /unknown top-level field "extra"/);
            assert.match(
                parseAcceptList("{", "f.json", "kube-score").errors.join(),
                /not valid JSON/,
            );
            assert.match(
                parseAcceptList('{"tool":"kube-score"}', "f.json", "kube-score").errors.join(),
                /"accepted" must be a list/,
            );
        });

        for (const tool of ["kube-score", "kubeconform"] as Tool[]) {
            it(`the checked-in accepted/${tool}.json is valid (every entry has a reason)`, () => {
                const file = path.join(
                    __dirname,
                    "../../tools/manifest-lint/accepted",
                    `${tool}.json`,
                );
                const r = parseAcceptList(fs.readFileSync(file, "utf8"), file, tool);
                assert.deepStrictEqual(r.errors, []);
            });
        }
    });

    describe("matching", () => {
        it("patterns match whole values; * is the only wildcard", () => {
            assert.ok(globMatch("Job/superservice-*", "Job/superservice-a8ee120e"));
            assert.ok(!globMatch("Job/superservice-*", "CronJob/superservice-a8ee120e"));
            assert.ok(globMatch("*/*", "Deployment/licode-nuve"));
            assert.ok(!globMatch("licode.nuve", "licode-nuve"), ". is literal");
            assert.ok(!globMatch("nuve", "licode-nuve"), "no substring match");
            assert.ok(globMatch("/spec/template/*", "/spec/template/spec/containers/0"));
        });

        it("check and object must match; container, path, message and namespace only restrict when set", () => {
            assert.ok(entryMatches(entry(), finding(), "prod"));
            assert.ok(!entryMatches(entry({ check: "other" }), finding(), "prod"));
            assert.ok(
                !entryMatches(
                    entry({ object: "Deployment/licode-erizo-agent-*" }),
                    finding(),
                    "prod",
                ),
            );
            assert.ok(entryMatches(entry({ container: "erizo-agent" }), finding(), "prod"));
            assert.ok(!entryMatches(entry({ container: "nuve" }), finding(), "prod"));
            assert.ok(
                !entryMatches(
                    entry({ container: "erizo-agent" }),
                    finding({ container: undefined }),
                    "prod",
                ),
                "a container-specific entry does not accept a pod-level finding",
            );
            assert.ok(entryMatches(entry({ message: "*low user ID" }), finding(), "prod"));
            assert.ok(!entryMatches(entry({ message: "*low group ID" }), finding(), "prod"));
            assert.ok(entryMatches(entry({ namespace: "licode" }), finding(), "prod"));
            assert.ok(!entryMatches(entry({ namespace: "licode-dev" }), finding(), "prod"));
            const kc = finding({
                tool: "kubeconform",
                check: "invalid",
                container: undefined,
                path: "/spec/replicas",
            });
            assert.ok(entryMatches(entry({ check: "invalid", path: "/spec/*" }), kc, "prod"));
            assert.ok(!entryMatches(entry({ check: "invalid", path: "/metadata/*" }), kc, "prod"));
        });

        it("stacks restrict an entry to those stacks", () => {
            assert.ok(entryMatches(entry({ stacks: ["dev", "local"] }), finding(), "dev"));
            assert.ok(!entryMatches(entry({ stacks: ["dev", "local"] }), finding(), "prod"));
        });

        it("evaluate: accepted, not accepted, and stale entries (only for the stacks they apply to)", () => {
            const findings = [
                finding(),
                finding({ check: "pod-networkpolicy", container: undefined }),
            ];
            const used = entry();
            const unused = entry({
                check: "deployment-replicas",
                object: "Deployment/licode-nuve",
            });
            const otherStack = entry({
                check: "service-type",
                object: "Service/licode-nuve",
                stacks: ["dev"],
            });
            const ev = evaluate(findings, [used, unused, otherStack], "prod");
            assert.strictEqual(ev.results[0].acceptedBy, used);
            assert.strictEqual(ev.results[1].acceptedBy, undefined);
            assert.deepStrictEqual(ev.stale, [unused]);
            assert.deepStrictEqual(evaluate(findings, [otherStack], "dev").stale, [otherStack]);
        });
    });

    describe("report", () => {
        const perTool = (findings: Finding[]) =>
            new Map<Tool, Finding[]>([["kube-score", findings]]);

        it("exit 0 when everything is accepted, listing stale entries as a warning", () => {
            const stale = entry({
                check: "deployment-replicas",
                object: "Deployment/licode-nuve",
                source: "e2",
            });
            const r = report(
                "prod",
                perTool([finding()]),
                new Map([["kube-score", [entry(), stale]]]),
                false,
            );
            assert.strictEqual(r.exitCode, 0);
            assert.match(
                r.text,
                /1 \(CRITICAL 1\) findings before acceptance; 1 accepted, 0 not accepted/,
            );
            assert.match(
                r.text,
                /WARNING: 1 stale accept entry .*\n\s+e2\s+deployment-replicas\s+Deployment\/licode-nuve/,
            );
            assert.match(r.text, /OK: every finding on stack prod is accepted/);
        });

        it("exit 1 with a readable list of what is not accepted", () => {
            const r = report("dev", perTool([finding()]), new Map([["kube-score", []]]), false);
            assert.strictEqual(r.exitCode, 1);
            assert.match(r.text, /NOT ACCEPTED on stack dev \(1\)/);
            assert.match(
                r.text,
                /kube-score\s+container-security-context-user-group-id\s+DaemonSet\/licode-erizo-agent-primary\s+erizo-agent\s+The container is running with a low user ID \(CRITICAL\)/,
            );
            assert.match(r.text, /FAILED: 1 finding\(s\) on stack dev not accepted/);
        });

        it("no findings at all is a pass", () => {
            const r = report("local", perTool([]), new Map(), false);
            assert.strictEqual(r.exitCode, 0);
        });
    });
});
