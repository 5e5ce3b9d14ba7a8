// Command pulumi-language-nodejs is a small, self-written Node.js language host for the Pulumi CLI.
//
// Why it exists: the official host (module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// has no version tags and none of its pseudo-versions is served by the Go module proxy this project can reach,
// so it cannot be built here. This host implements the part of the LanguageRuntime gRPC protocol that the CLI
// needs to run a Node.js/TypeScript program and a Node.js policy pack; the real work is done by the scripts that
// ship in the @pulumi/pulumi npm package (cmd/run, cmd/run-policy-pack, cmd/run-plugin), exactly as with the
// official host. It reports its own version (see tools/README.md), never the CLI's.
//
// Not implemented (the CLI treats them as "unsupported" and carries on, or the command fails with a clear
// "unimplemented" error): InstallDependencies (run `npm ci` yourself), GetProgramDependencies (`pulumi about`),
// Pack/Link/Generate* (codegen), Template, RuntimeOptionsPrompts.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

// exitCodeLoggedError is what @pulumi/pulumi/cmd/run exits with after it has already reported the error to
// the engine (nodeJSProcessExitedAfterLoggingUserActionableMessage).
const exitCodeLoggedError = 32

func main() {
	flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint (ignored)")
	flag.String("root", "", "Project root path (ignored; taken from the requests)")
	flag.Parse()

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[len(args)-1]
	}

	host := &nodeHost{engineAddress: engineAddress}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start RPC server: %v\n", err)
		os.Exit(1)
	}
	// The spawner reads the port from our first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	warm          warmPool
}

func (h *nodeHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *nodeHost) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// ---------------------------------------------------------------------------------------------------------------
// Required plugins: every package under node_modules whose package.json has "pulumi": {"resource": true}.

type pulumiPackageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	if fallback != "" {
		return fallback
	}
	wd, _ := os.Getwd()
	return wd
}

// findNodeModules returns the nearest node_modules directory at or above dir.
func findNodeModules(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		nm := filepath.Join(d, "node_modules")
		if st, err := os.Stat(nm); err == nil && st.IsDir() {
			return nm
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func readPulumiPackage(dir string) (*pulumirpc.PackageDependency, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, false
	}
	var p pulumiPackageJSON
	if json.Unmarshal(b, &p) != nil || !p.Pulumi.Resource {
		return nil, false
	}
	name := p.Pulumi.Name
	if name == "" {
		name = strings.TrimPrefix(strings.TrimPrefix(p.Name, "@pulumi/"), "@")
	}
	ver := p.Pulumi.Version
	if ver == "" {
		ver = p.Version
	}
	if ver != "" && !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	return &pulumirpc.PackageDependency{Kind: "resource", Name: name, Version: ver, Server: p.Pulumi.Server}, true
}

func requiredPackages(dir string) []*pulumirpc.PackageDependency {
	nm := findNodeModules(dir)
	if nm == "" {
		return nil
	}
	seen := map[string]bool{}
	var out []*pulumirpc.PackageDependency
	add := func(pkgDir string) {
		if dep, ok := readPulumiPackage(pkgDir); ok {
			key := dep.Name + "@" + dep.Version
			if !seen[key] {
				seen[key] = true
				out = append(out, dep)
			}
		}
	}
	entries, _ := os.ReadDir(nm)
	for _, e := range entries {
		p := filepath.Join(nm, e.Name())
		if strings.HasPrefix(e.Name(), "@") {
			scoped, _ := os.ReadDir(p)
			for _, s := range scoped {
				add(filepath.Join(p, s.Name()))
			}
			continue
		}
		add(p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name+out[i].Version < out[j].Name+out[j].Version })
	return out
}

func (h *nodeHost) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{Packages: requiredPackages(programDir(req.GetInfo(), ""))}, nil
}

func (h *nodeHost) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	var plugins []*pulumirpc.PluginDependency
	for _, p := range requiredPackages(programDir(req.GetInfo(), req.GetProgram())) {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// ---------------------------------------------------------------------------------------------------------------
// Running programs.

func nodeBinary() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("could not find `node` on $PATH")
	}
	return node, nil
}

// resolveScript returns where @pulumi/pulumi/<script> lives as seen from dir, the path Node's require.resolve
// gives (handles hoisting/workspaces). The common case is answered without starting node (findPulumiScript);
// anything else is asked of node itself.
func resolveScript(node, dir, script string) (string, error) {
	if p, ok := findPulumiScript(dir, script); ok {
		return p, nil
	}
	cmd := exec.Command(node, "-e", "process.stdout.write(require.resolve(process.argv[1]))", "@pulumi/pulumi/"+script)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("could not find @pulumi/pulumi/%s from %s (have you run `npm ci`?): %v %s",
			script, dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// findPulumiScript resolves @pulumi/pulumi/<script> from dir the way Node does for a package without an
// "exports" map whose <script> is a directory with an index.js (as @pulumi/pulumi ships cmd/run,
// cmd/run-policy-pack and cmd/run-plugin): the nearest node_modules/@pulumi/pulumi above dir, symlinks resolved.
// ok is false for any other layout, which is left to node (a package with "exports", a <script>.js file or a
// package.json next to index.js, a package found only through NODE_PATH or a global folder).
func findPulumiScript(dir, script string) (string, bool) {
	// node starts from its working directory, which the kernel reports with symlinks resolved.
	start, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", false
	}
	if start, err = filepath.Abs(start); err != nil {
		return "", false
	}
	for d := start; ; d = filepath.Dir(d) {
		// Node never looks in node_modules/node_modules.
		if filepath.Base(d) != "node_modules" {
			pkg := filepath.Join(d, "node_modules", "@pulumi", "pulumi")
			if b, err := os.ReadFile(filepath.Join(pkg, "package.json")); err == nil {
				var meta struct {
					Exports json.RawMessage `json:"exports"`
				}
				if json.Unmarshal(b, &meta) != nil || len(meta.Exports) > 0 {
					return "", false
				}
				base := filepath.Join(pkg, filepath.FromSlash(script))
				if st, err := os.Stat(base); err != nil || !st.IsDir() {
					return "", false
				}
				// Node would take any of these before <script>/index.js.
				for _, first := range []string{base + ".js", base + ".json", base + ".node",
					filepath.Join(base, "package.json")} {
					if _, err := os.Stat(first); err == nil {
						return "", false
					}
				}
				index, err := filepath.EvalSymlinks(filepath.Join(base, "index.js"))
				if err != nil {
					return "", false
				}
				return index, true
			}
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// options are the Pulumi.yaml `runtime.options` the official host understands that matter here.
type options struct {
	typescript    bool
	tsconfig      string
	nodeargs      []string
	transpileOnly *bool
}

func parseOptions(info *pulumirpc.ProgramInfo) options {
	o := options{typescript: true}
	if info == nil || info.GetOptions() == nil {
		return o
	}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"].(bool); ok {
		o.typescript = v
	}
	if v, ok := m["tsconfig"].(string); ok {
		o.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok && strings.TrimSpace(v) != "" {
		o.nodeargs = strings.Fields(v)
	}
	if v, ok := m["transpileOnly"].(bool); ok {
		o.transpileOnly = &v
	}
	return o
}

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	node, err := nodeBinary()
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	dir := programDir(req.GetInfo(), req.GetPwd())
	runScript, err := resolveScript(node, dir, "cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	opts := parseOptions(req.GetInfo())

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runScript)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	if req.GetInfo() != nil {
		add("root-directory", req.GetInfo().GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		add("parallel", strconv.Itoa(int(req.GetParallel())))
	}
	program := req.GetProgram()
	if req.GetInfo() != nil && req.GetInfo().GetEntryPoint() != "" {
		program = req.GetInfo().GetEntryPoint()
	}
	if program == "" {
		program = "."
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing config secret keys: %w", err)
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secrets),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(opts.typescript),
	)
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	if opts.transpileOnly != nil {
		env = append(env, "PULUMI_NODEJS_TRANSPILE_ONLY="+strconv.FormatBool(*opts.transpileOnly))
	}

	err = nil
	handedOver := false
	if wn := h.warm.take(dir, runScript, opts.nodeargs); wn != nil {
		// args holds no node arguments here (take checked opts.nodeargs): it is cmd/run's script and its arguments.
		handedOver, err = wn.run(ctx, args[1:], env)
	}
	if !handedOver && err == nil {
		cmd := exec.CommandContext(ctx, node, args...)
		cmd.Dir = dir
		cmd.Env = env
		cmd.Stdout = os.Stdout
		cmd.Stderr = os.Stderr
		err = cmd.Run()
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeLoggedError {
				// The program already reported the error through the engine.
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a Node.js plugin (a policy pack or a Node.js resource provider) through @pulumi/pulumi.
func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest,
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	node, err := nodeBinary()
	if err != nil {
		return err
	}
	dir := programDir(req.GetInfo(), req.GetPwd())
	script := "cmd/run-plugin"
	if req.GetKind() == "analyzer" {
		script = "cmd/run-policy-pack"
	}
	runScript, err := resolveScript(node, dir, script)
	if err != nil {
		return err
	}
	opts := parseOptions(req.GetInfo())
	// The engine passes only its address; the scripts expect `<engine-address> <program>`.
	entry := "."
	if req.GetInfo() != nil && req.GetInfo().GetEntryPoint() != "" {
		entry = req.GetInfo().GetEntryPoint()
	}
	args := append([]string{}, opts.nodeargs...)
	args = append(args, runScript)
	args = append(args, req.GetArgs()...)
	args = append(args, filepath.Join(dir, entry))

	// Run from the plugin's own directory: a policy pack reads ./package.json and its own node_modules.
	cmd := exec.CommandContext(server.Context(), node, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(opts.typescript))
	if opts.tsconfig != "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start node: %w", err)
	}
	if req.GetKind() == "analyzer" {
		// The engine asks for the program only once the pack answers: start the program's node meanwhile.
		if wd, err := os.Getwd(); err == nil {
			go h.warm.prepare(wd)
		}
	}

	var sendMu sync.Mutex
	send := func(r *pulumirpc.RunPluginResponse) {
		sendMu.Lock()
		defer sendMu.Unlock()
		_ = server.Send(r)
	}
	pump := func(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse, wg *sync.WaitGroup) {
		defer wg.Done()
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				send(wrap(line))
			}
			if err != nil {
				return
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go pump(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	}, &wg)
	go pump(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}, &wg)
	wg.Wait()

	code := 0
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return err
		}
		code = exitErr.ExitCode()
	}
	send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
	return nil
}

func (h *nodeHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := nodeBinary()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
		Metadata:   map[string]string{"languageHost": "licode pulumi-language-nodejs " + version},
	}, nil
}
