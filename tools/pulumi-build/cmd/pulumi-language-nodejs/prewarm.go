package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Prewarming. With a policy pack, the engine starts the pack (RunPlugin) and waits until it answers before it
// asks for the program (Run): the pack's start (node, @pulumi/pulumi, the pack) and the program's start (node,
// @pulumi/pulumi, TypeScript) run one after the other although neither needs the other. So when a pack is
// started, the host also starts the node process the program will most likely run in: it loads what
// @pulumi/pulumi's cmd/run loads before it reads its arguments (source-map-support, @pulumi/pulumi, the
// closure hooks, TypeScript and ts-node) and then blocks on a pipe. When Run comes, for the same directory and
// the same cmd/run script and with no node arguments, the host writes Run's arguments and environment to that
// pipe, and the process runs cmd/run as its main module exactly as a freshly started `node <cmd/run> <args>`
// would. Otherwise (or if the process has died) the host closes the pipe, the process exits without running
// anything, and Run starts node as usual.
//
// Nothing of the program and nothing that reads the stack's configuration is loaded early: @pulumi/pulumi's
// settings store is created lazily, and the packages that register resource modules at load time (e.g.
// @pulumi/kubernetes), which would create it, are not preloaded. The environment of the early process is the
// host's own, which is also the base of Run's environment; Run only adds the config and runtime variables,
// which are read after the hand-over. LICODE_LANGHOST_PREWARM=0 turns prewarming off.

// prewarmLauncher is the script the early node process runs (node -e <script> <cmd/run script>).
const prewarmLauncher = `"use strict";
const fs = require("fs");
const Module = require("module");
const script = process.argv[1];
const fromRun = Module.createRequire(script);
const preload = (load) => {
    try {
        return load();
    } catch {
        // Missing or broken: the real run loads it again and reports the error there.
        return undefined;
    }
};
// What cmd/run/index.js loads before it reads its arguments, in its order (the tracing instrumentation must
// come before anything that loads @grpc/grpc-js), then the closure hooks its main() awaits, then what its run.js
// and the program load first: @pulumi/pulumi, cmd/run's tracing and error modules, TypeScript and ts-node (from
// where cmd/run's tsutils finds them). run.js itself is not loaded: it loads cmd/run/index.js, which would start.
preload(() => fromRun("./instrumentation"));
preload(() => fromRun("source-map-support/register"));
preload(() => fromRun("../../log"));
preload(() => fromRun("../../runtime/settings"));
const hooks = preload(() => fromRun("../../runtime/closure/v8Hooks"));
const handOver = () => {
    // Blocks until the host writes Run's request and closes the pipe; empty means "not needed".
    const text = fs.readFileSync(3, "utf8");
    fs.closeSync(3);
    if (text === "") {
        process.exit(0);
    }
    const request = JSON.parse(text);
    for (const key of Object.keys(process.env)) {
        if (!Object.prototype.hasOwnProperty.call(request.env, key)) {
            delete process.env[key];
        }
    }
    Object.assign(process.env, request.env);
    process.execArgv.length = 0;
    process.argv = [process.argv[0], script, ...request.args];
    Module.runMain();
};
(hooks ? hooks.isInitializedAsync().catch(() => undefined) : Promise.resolve()).then(() => {
    preload(() => fromRun("../../index.js"));
    preload(() => fromRun("./tracing"));
    preload(() => fromRun("./error"));
    const tsutils = preload(() => fromRun.resolve("../../tsutils.js"));
    if (tsutils) {
        const fromPulumi = Module.createRequire(tsutils);
        preload(() => fromPulumi("typescript"));
        preload(() => fromPulumi("ts-node"));
    }
    // From a macrotask, so that the main module runs outside any promise callback, as it does at start-up.
    setImmediate(handOver);
});
`

// warmNode is a node process started ahead of Run, waiting for Run's arguments on its fd 3.
type warmNode struct {
	dir    string
	script string
	cmd    *exec.Cmd
	input  *os.File      // write end of the pipe that is the process's fd 3
	done   chan struct{} // closed once the process has exited
	err    error         // cmd.Wait's result, valid once done is closed
}

func prewarmEnabled() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("LICODE_LANGHOST_PREWARM")))
	return v != "0" && v != "false" && v != "no"
}

// startWarmNode starts node with the launcher for the cmd/run script of dir, with the host's environment and
// output, as Run would start it.
func startWarmNode(node, dir, script string) (*warmNode, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(node, "-e", prewarmLauncher, script)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = []*os.File{r}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	wn := &warmNode{dir: dir, script: script, cmd: cmd, input: w, done: make(chan struct{})}
	go func() {
		wn.err = cmd.Wait()
		close(wn.done)
	}()
	return wn, nil
}

// discard lets the process exit without running anything (it reads an empty request) and reaps it.
func (wn *warmNode) discard() {
	wn.input.Close()
}

// exited reports whether the process has already ended.
func (wn *warmNode) exited() bool {
	select {
	case <-wn.done:
		return true
	default:
		return false
	}
}

// run hands Run's arguments and environment over and waits for the program to end, killing it if ctx ends
// first, like exec.CommandContext. handedOver is false when the process could not take the request (it had
// already exited); nothing of the program has run then.
func (wn *warmNode) run(ctx context.Context, args, env []string) (handedOver bool, err error) {
	if wn.exited() {
		wn.discard()
		return false, nil
	}
	envMap := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			envMap[k] = v // later entries win, as in exec.Cmd.Env
		}
	}
	payload, err := json.Marshal(struct {
		Args []string          `json:"args"`
		Env  map[string]string `json:"env"`
	}{args, envMap})
	if err != nil {
		// Cannot happen with strings only; start node as usual rather than fail.
		wn.discard()
		return false, nil
	}
	if _, err := wn.input.Write(payload); err != nil {
		// The process is gone (broken pipe): it never read a request.
		wn.discard()
		<-wn.done
		return false, nil
	}
	wn.input.Close()
	select {
	case <-wn.done:
		return true, wn.err
	case <-ctx.Done():
		// As exec.CommandContext does: kill the process and report the context's error.
		_ = wn.cmd.Process.Kill()
		<-wn.done
		return true, ctx.Err()
	}
}

// warmPool holds at most one early process, the one for the program directory the host was started in.
type warmPool struct {
	mu    sync.Mutex
	warm  *warmNode
	taken bool // Run has come: an early process started now would never be used
}

// prepare starts the early process for dir unless one exists or prewarming is off. Failures are ignored:
// Run then starts node as usual.
func (p *warmPool) prepare(dir string) {
	if !prewarmEnabled() || dir == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.warm != nil || p.taken {
		return
	}
	script, ok := findPulumiScript(dir, "cmd/run")
	if !ok {
		return
	}
	node, err := nodeBinary()
	if err != nil {
		return
	}
	if wn, err := startWarmNode(node, dir, script); err == nil {
		p.warm = wn
	}
}

// take returns the early process if it suits a run of script in dir with nodeargs, and discards it otherwise.
func (p *warmPool) take(dir, script string, nodeargs []string) *warmNode {
	p.mu.Lock()
	wn := p.warm
	p.warm = nil
	p.taken = true
	p.mu.Unlock()
	if wn == nil {
		return nil
	}
	if wn.dir != dir || wn.script != script || len(nodeargs) > 0 {
		wn.discard()
		return nil
	}
	return wn
}
