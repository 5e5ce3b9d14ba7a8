package main

import (
	"bytes"
	"strings"
	"testing"
)

func runWith(t *testing.T, input string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(strings.NewReader(input), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestValidExpressions(t *testing.T) {
	code, out, errOut := runWith(t, `[
		{"name": "RoomsHigh", "kind": "alert",
		 "expr": "max by (namespace) (licode_active_rooms{namespace=\"licode\"}) / scalar(sum(kube_deployment_status_replicas_available{namespace=\"licode\"})) > 16"},
		{"name": "AgentsDown", "kind": "alert",
		 "expr": "kube_daemonset_status_number_ready{namespace=\"licode\",daemonset=~\"a|b\\\\.c\"} < 1"},
		{"name": "Rooms per controller", "expr": "max(licode_active_rooms{namespace=\"licode\"}) / 2"},
		{"name": "Scalar query", "kind": "query", "expr": "scalar(max(up))"}
	]`)
	if code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if out != "4 expressions parse\n" {
		t.Fatalf("stdout %q", out)
	}
}

func TestInvalidExpressions(t *testing.T) {
	code, out, _ := runWith(t, `[
		{"name": "Good", "expr": "up"},
		{"name": "Unbalanced", "kind": "alert", "expr": "max by (namespace) (up{namespace=\"licode\"} > 0"},
		{"name": "Grafana variable left in", "expr": "max(up{namespace=\"licode\"}) / $controllers"},
		{"name": "Range vector alert", "kind": "alert", "expr": "up{namespace=\"licode\"}[5m]"},
		{"name": "Scalar alert", "kind": "alert", "expr": "scalar(up) > bool 0"},
		{"name": "String query", "expr": "\"licode\""},
		{"name": "Unknown function", "expr": "rate_of_change(up[5m])"},
		{"name": "Odd kind", "kind": "recording", "expr": "up"}
	]`)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout %q", code, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	wantPrefixes := []string{
		"Unbalanced: 1:",
		"Grafana variable left in: 1:",
		"Range vector alert: alert yields range vector, not instant vector",
		"Scalar alert: alert yields scalar, not instant vector",
		"String query: query yields string, not instant vector or scalar",
		"Unknown function: 1:",
		`Odd kind: unknown kind "recording"`,
	}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("got %d problem lines, want %d:\n%s", len(lines), len(wantPrefixes), out)
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want)
		}
	}
	if !strings.Contains(out, "parse error") {
		t.Errorf("no parser error in the output:\n%s", out)
	}
}

func TestUnusableInput(t *testing.T) {
	for _, input := range []string{"", "[]", "{}", `[{"name": "a", "expr": "up", "typo": 1}]`, `[] []`} {
		if code, out, _ := runWith(t, input); code != 2 {
			t.Errorf("input %q: exit %d, want 2 (stdout %q)", input, code, out)
		}
	}
}

func TestNamesMustBeUniqueAndPresent(t *testing.T) {
	code, out, _ := runWith(t, `[{"name": "a", "expr": "up"}, {"name": "a", "expr": "up"}, {"expr": "up"}]`)
	if code != 1 ||
		!strings.Contains(out, "a: name used by an earlier entry") ||
		!strings.Contains(out, "#2: entry has no name") {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
}
