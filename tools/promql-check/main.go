// Command promql-check parses PromQL expressions with Prometheus's own parser
// (github.com/prometheus/prometheus/promql/parser, the version pinned in go.mod) and checks the
// type of what each one yields.
//
// Input, on stdin: a JSON array of {"name": string, "expr": string, "kind": "alert" | "query"}.
// kind is optional:
//
//   - "alert": an alerting rule's expr. It must yield an instant vector: Prometheus fires one
//     alert per sample of that vector. (Prometheus would also accept a scalar, turning it into a
//     one-sample vector with no labels, i.e. an alert that never resolves: almost always a bug.)
//   - "query" (the default): a dashboard query. It must yield an instant vector or a scalar, the
//     only types Prometheus's query_range API (Grafana's range queries) accepts.
//
// The parser runs with its default options, as a Prometheus server without feature flags does: no
// experimental functions, no binop fill modifiers, no unquoted UTF-8 names.
//
// Output: one line per problem, "name: error", and exit status 1; or "N expressions parse" and
// exit status 0. Exit status 2 when the input itself is unusable (not JSON, not an array, empty).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// entry is one expression to check.
type entry struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
	Kind string `json:"kind,omitempty"`
}

const (
	kindAlert = "alert"
	kindQuery = "query"
)

// allowed lists the result types each kind of expression may have.
var allowed = map[string][]parser.ValueType{
	kindAlert: {parser.ValueTypeVector},
	kindQuery: {parser.ValueTypeVector, parser.ValueTypeScalar},
}

// checkEntry returns what is wrong with one expression, or "" when nothing is.
func checkEntry(p parser.Parser, e entry) string {
	kind := e.Kind
	if kind == "" {
		kind = kindQuery
	}
	want, ok := allowed[kind]
	if !ok {
		return fmt.Sprintf("unknown kind %q (want %q or %q)", e.Kind, kindAlert, kindQuery)
	}
	if strings.TrimSpace(e.Expr) == "" {
		return "empty expression"
	}
	expr, err := p.ParseExpr(e.Expr)
	if err != nil {
		return parseError(err)
	}
	got := expr.Type()
	for _, t := range want {
		if got == t {
			return ""
		}
	}
	names := make([]string, len(want))
	for i, t := range want {
		names[i] = parser.DocumentedType(t)
	}
	return fmt.Sprintf("%s yields %s, not %s: %s",
		kind, parser.DocumentedType(got), strings.Join(names, " or "), expr)
}

// parseError renders every error the parser reported (its own Error() keeps only the first) on
// one line.
func parseError(err error) string {
	var msg string
	var list parser.ParseErrors
	if errors.As(err, &list) && len(list) > 1 {
		parts := make([]string, len(list))
		for i := range list {
			parts[i] = list[i].Error()
		}
		msg = strings.Join(parts, "; ")
	} else {
		msg = err.Error()
	}
	return strings.Join(strings.Fields(msg), " ")
}

// check returns one "name: error" line per problem, in input order.
func check(entries []entry) []string {
	p := parser.NewParser(parser.Options{})
	var problems []string
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		name := e.Name
		if strings.TrimSpace(name) == "" {
			name = fmt.Sprintf("#%d", i)
			problems = append(problems, name+": entry has no name")
		} else if seen[name] {
			problems = append(problems, name+": name used by an earlier entry")
		}
		seen[name] = true
		if msg := checkEntry(p, e); msg != "" {
			problems = append(problems, name+": "+msg)
		}
	}
	return problems
}

// readEntries decodes the input: a non-empty JSON array of entries, nothing after it, no unknown
// fields.
func readEntries(r io.Reader) ([]entry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var entries []entry
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("input is not a JSON array of {name, expr, kind}: %w", err)
	}
	if dec.More() {
		return nil, errors.New("input has data after the JSON array")
	}
	if len(entries) == 0 {
		return nil, errors.New("input holds no expressions")
	}
	return entries, nil
}

func run(stdin io.Reader, stdout, stderr io.Writer) int {
	entries, err := readEntries(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "promql-check: %v\n", err)
		return 2
	}
	problems := check(entries)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "promql-check: %d problem(s) in %d expressions\n", len(problems), len(entries))
		return 1
	}
	fmt.Fprintf(stdout, "%d expressions parse\n", len(entries))
	return 0
}

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr))
}
