package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// write creates dir/rel with content, making its parent directories.
func write(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeSDK lays out node_modules/@pulumi/pulumi in root with cmd/run, cmd/run-policy-pack and the given files.
func fakeSDK(t *testing.T, root string, packageJSON string, files map[string]string) string {
	t.Helper()
	pkg := filepath.Join(root, "node_modules", "@pulumi", "pulumi")
	write(t, pkg, "package.json", packageJSON)
	write(t, pkg, "cmd/run/index.js", "")
	write(t, pkg, "cmd/run-policy-pack/index.js", "")
	for rel, content := range files {
		write(t, pkg, rel, content)
	}
	return pkg
}

func realpath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFindPulumiScript(t *testing.T) {
	t.Run("nearest package above the directory", func(t *testing.T) {
		root := t.TempDir()
		pkg := fakeSDK(t, root, `{"name": "@pulumi/pulumi"}`, nil)
		sub := filepath.Join(root, "a", "b")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, script := range []string{"cmd/run", "cmd/run-policy-pack"} {
			got, ok := findPulumiScript(sub, script)
			want := realpath(t, filepath.Join(pkg, filepath.FromSlash(script), "index.js"))
			if !ok || got != want {
				t.Errorf("%s: got %q %v, want %q", script, got, ok, want)
			}
		}
	})

	t.Run("symlinked node_modules is resolved, as node does", func(t *testing.T) {
		real := t.TempDir()
		fakeSDK(t, real, `{}`, nil)
		ws := t.TempDir()
		if err := os.Symlink(filepath.Join(real, "node_modules"), filepath.Join(ws, "node_modules")); err != nil {
			t.Fatal(err)
		}
		got, ok := findPulumiScript(ws, "cmd/run")
		want := realpath(t, filepath.Join(real, "node_modules", "@pulumi", "pulumi", "cmd", "run", "index.js"))
		if !ok || got != want {
			t.Errorf("got %q %v, want %q", got, ok, want)
		}
	})

	t.Run("left to node: the nearest package lacks the script", func(t *testing.T) {
		outer := t.TempDir()
		fakeSDK(t, outer, `{}`, nil)
		inner := filepath.Join(outer, "inner")
		write(t, inner, "node_modules/@pulumi/pulumi/package.json", `{}`)
		if _, ok := findPulumiScript(inner, "cmd/run"); ok {
			t.Error("resolved although node would look further up")
		}
	})

	for name, files := range map[string]map[string]string{
		"exports map":            {"package.json": `{"exports": {"./cmd/run": "./x.js"}}`},
		"a file named like it":   {"cmd/run.js": ""},
		"a package.json in it":   {"cmd/run/package.json": `{"main": "other.js"}`},
		"unreadable packagejson": {"package.json": `{`},
	} {
		t.Run("left to node: "+name, func(t *testing.T) {
			root := t.TempDir()
			fakeSDK(t, root, `{}`, files)
			if got, ok := findPulumiScript(root, "cmd/run"); ok {
				t.Errorf("got %q, want node to resolve it", got)
			}
		})
	}

	t.Run("no package at all", func(t *testing.T) {
		if got, ok := findPulumiScript(t.TempDir(), "cmd/run"); ok {
			t.Errorf("got %q", got)
		}
	})
}

// The fake cmd/run script records how it was started, as JSON, into the file named by RECORD_TO.
const recordingRun = `"use strict";
require("fs").writeFileSync(process.env.RECORD_TO, JSON.stringify({
    argv: process.argv.slice(1),
    execArgv: process.execArgv,
    cwd: process.cwd(),
    isMain: require.main === module,
    config: process.env.PULUMI_CONFIG,
    removed: process.env.ONLY_IN_THE_HOST,
    preloadedBefore: global.preloadedBeforeRun === true,
}));
process.exitCode = Number(process.env.EXIT_CODE || "0");
`

type record struct {
	Argv            []string `json:"argv"`
	ExecArgv        []string `json:"execArgv"`
	Cwd             string   `json:"cwd"`
	IsMain          bool     `json:"isMain"`
	Config          string   `json:"config"`
	Removed         *string  `json:"removed"`
	PreloadedBefore bool     `json:"preloadedBefore"`
}

// warmProgram lays out a program directory whose cmd/run records its start, and returns it with the script.
func warmProgram(t *testing.T) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH")
	}
	dir := t.TempDir()
	pkg := fakeSDK(t, dir, `{}`, map[string]string{
		"cmd/run/index.js": recordingRun,
		// Stands for @pulumi/pulumi's index: loaded before the hand-over, it leaves a mark the run can see.
		"index.js": "global.preloadedBeforeRun = true;\n",
	})
	return dir, realpath(t, filepath.Join(pkg, "cmd", "run", "index.js"))
}

func TestWarmNodeRunsTheScriptAsFreshNodeWould(t *testing.T) {
	dir, script := warmProgram(t)
	node, _ := nodeBinary()
	out := filepath.Join(t.TempDir(), "record.json")
	t.Setenv("ONLY_IN_THE_HOST", "yes")
	wn, err := startWarmNode(node, dir, script)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let it preload and block, as it does while the pack starts

	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ONLY_IN_THE_HOST=") {
			env = append(env, kv)
		}
	}
	env = append(env, "RECORD_TO="+out, `PULUMI_CONFIG={"licode:x":"1"}`)
	args := []string{script, "--monitor", "127.0.0.1:1", "--dry-run", "."}
	handedOver, err := wn.run(context.Background(), args[1:], env)
	if !handedOver || err != nil {
		t.Fatalf("handedOver=%v err=%v", handedOver, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got record
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Argv, args) {
		t.Errorf("argv %q, want %q", got.Argv, args)
	}
	if len(got.ExecArgv) != 0 {
		t.Errorf("execArgv %q, want none", got.ExecArgv)
	}
	if got.Cwd != realpath(t, dir) {
		t.Errorf("cwd %q, want %q", got.Cwd, dir)
	}
	if !got.IsMain {
		t.Error("cmd/run is not the main module")
	}
	if got.Config != `{"licode:x":"1"}` {
		t.Errorf("PULUMI_CONFIG %q", got.Config)
	}
	if got.Removed != nil {
		t.Errorf("a variable Run's environment lacks is still set: %q", *got.Removed)
	}
	if !got.PreloadedBefore {
		t.Error("@pulumi/pulumi was not preloaded before the hand-over")
	}
}

func TestWarmNodeExitCodeAndCancellation(t *testing.T) {
	dir, script := warmProgram(t)
	node, _ := nodeBinary()
	out := filepath.Join(t.TempDir(), "record.json")

	wn, err := startWarmNode(node, dir, script)
	if err != nil {
		t.Fatal(err)
	}
	_, err = wn.run(context.Background(), []string{"."}, append(os.Environ(), "RECORD_TO="+out, "EXIT_CODE=32"))
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitCodeLoggedError {
		t.Errorf("got %v, want exit code %d", err, exitCodeLoggedError)
	}

	// A cancelled Run kills the program and reports the context's error, as exec.CommandContext does.
	write(t, filepath.Dir(script), "index.js", "setInterval(() => {}, 1000);\n")
	wn, err = startWarmNode(node, dir, script)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	handedOver, err := wn.run(ctx, []string{"."}, os.Environ())
	if !handedOver || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("handedOver=%v err=%v, want the context's error", handedOver, err)
	}
}

func TestWarmNodeDiscardedRunsNothing(t *testing.T) {
	dir, script := warmProgram(t)
	out := filepath.Join(t.TempDir(), "record.json")
	t.Setenv("RECORD_TO", out)

	var pool warmPool
	pool.prepare(dir)
	if pool.warm == nil {
		t.Fatal("no early process was started")
	}
	// Another directory, or node arguments, cannot use it: it is discarded and exits without running.
	wn := pool.warm
	if got := pool.take(t.TempDir(), script, nil); got != nil {
		t.Fatal("taken for another directory")
	}
	select {
	case <-wn.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the discarded process did not exit")
	}
	if wn.err != nil {
		t.Errorf("discarded process exited with %v", wn.err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("the discarded process ran cmd/run")
	}

	// Once Run has come, nothing more is started (it could never be used).
	pool.prepare(dir)
	if pool.warm != nil {
		t.Error("started after Run")
	}

	var fresh warmPool
	fresh.prepare(dir)
	if got := fresh.take(dir, script, []string{"--max-old-space-size=100"}); got != nil {
		t.Error("taken although Run has node arguments")
	}

	t.Setenv("LICODE_LANGHOST_PREWARM", "0")
	var off warmPool
	off.prepare(dir)
	if off.warm != nil {
		t.Error("started although prewarming is off")
	}
}
