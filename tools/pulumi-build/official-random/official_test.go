package licodecheck

// The official plugin reads the state our pulumi-resource-random writes as its own. Both providers run as the engine
// runs them, over gRPC: ours is the binary in LICODE_RANDOM_PROVIDER (test.sh builds it from the working tree), the
// official one is this package's assembly of its code (official.go). For each kind the program uses (RandomPassword,
// RandomId) and the others ours implements (RandomString, RandomBytes), a value created by ours is then taken
// through what the engine asks of the official plugin after a switch of plugins:
//
//   - preview: Check with the recorded inputs as olds, then Diff of the recorded state against the checked inputs:
//     no change;
//   - refresh: Read of the recorded state: the same ID, every output the same, and a preview after it shows none;
//   - the state has the shape of the official plugin's own (the same outputs, secret markers, `__meta`, ID rule);
//   - a change of program inputs gets the same decision from both (no change, update, or replacement).
//
// LICODE_RANDOM_MIGRATED names the states tools/migrate-random writes (tools/migrate-random/sample.ts): the same
// preview and refresh checks run on them.

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/pkg/v3/resource/stack"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	tokenPassword = "random:index/randomPassword:RandomPassword"
	tokenString   = "random:index/randomString:RandomString"
	tokenID       = "random:index/randomId:RandomId"
	tokenBytes    = "random:index/randomBytes:RandomBytes"
	// rawStateDelta is the output the official plugin adds on Create and Read (bridge resource_state.go 182-200) and
	// ours does not write (see cmd/pulumi-resource-random/official.go).
	rawStateDelta = "__pulumi_raw_state_delta"
)

func urn(token, name string) string { return "urn:pulumi:test::licode::" + token + "::" + name }

// ---------------------------------------------------------------------------------------------------------------
// The two providers, as gRPC clients.

func dial(t *testing.T, port string) pulumirpc.ResourceProviderClient {
	t.Helper()
	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return pulumirpc.NewResourceProviderClient(conn)
}

// startOurs starts our provider binary as the engine starts a plugin and reads its port from its first line.
func startOurs(t *testing.T) pulumirpc.ResourceProviderClient {
	t.Helper()
	bin := os.Getenv("LICODE_RANDOM_PROVIDER")
	if bin == "" {
		t.Fatal("LICODE_RANDOM_PROVIDER must name the pulumi-resource-random binary to check " +
			"(bash tools/pulumi-build/official-random/test.sh builds it and sets it)")
	}
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("%s printed no port: %v", bin, err)
	}
	c := dial(t, strings.TrimSpace(port))
	if _, err := c.Configure(context.Background(), &pulumirpc.ConfigureRequest{
		AcceptSecrets: true, AcceptResources: true,
	}); err != nil {
		t.Fatalf("configure ours: %v", err)
	}
	return c
}

// startOfficial serves the official provider's code path on a local port.
func startOfficial(t *testing.T) pulumirpc.ResourceProviderClient {
	t.Helper()
	srv, err := NewServer(context.Background(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(s, srv)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(cancel)
		<-handle.Done
	})
	return dial(t, strconv.Itoa(handle.Port))
}

// ---------------------------------------------------------------------------------------------------------------
// Property maps as the engine sends them: secrets and unknowns kept.

var marshalOpts = plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true}

func toStruct(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, marshalOpts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fromStruct(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, marshalOpts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// plainValue strips secret markers at any depth.
func plainValue(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return plainValue(v.SecretValue().Element)
	case v.IsObject():
		m := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			m[k] = plainValue(e)
		}
		return resource.NewObjectProperty(m)
	case v.IsArray():
		a := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			a[i] = plainValue(e)
		}
		return resource.NewArrayProperty(a)
	}
	return v
}

func plainString(m resource.PropertyMap, key resource.PropertyKey) string {
	v := plainValue(m[key])
	if !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// withoutKey returns a copy of m without key.
func withoutKey(m resource.PropertyMap, key resource.PropertyKey) resource.PropertyMap {
	c := m.Copy()
	delete(c, key)
	return c
}

// sameState reports the differences between two output maps: a missing or extra key, a different value, a different
// secret marker.
func sameState(a, b resource.PropertyMap) []string {
	var diffs []string
	for k, av := range a {
		bv, ok := b[k]
		switch {
		case !ok:
			diffs = append(diffs, string(k)+" missing")
		case !plainValue(av).DeepEquals(plainValue(bv)):
			diffs = append(diffs, string(k)+": "+av.String()+" became "+bv.String())
		case av.ContainsSecrets() != bv.ContainsSecrets():
			diffs = append(diffs, string(k)+": secret marker changed")
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, string(k)+" added")
		}
	}
	sort.Strings(diffs)
	return diffs
}

// ---------------------------------------------------------------------------------------------------------------
// The engine's calls.

type state struct {
	id      string
	inputs  resource.PropertyMap
	outputs resource.PropertyMap
}

func check(t *testing.T, p pulumirpc.ResourceProviderClient, token string, olds, news resource.PropertyMap,
) resource.PropertyMap {
	t.Helper()
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: urn(token, "r"), Type: token, Olds: toStruct(t, olds), News: toStruct(t, news),
		RandomSeed: []byte("0123456789abcdef0123456789abcdef"),
	})
	if err != nil {
		t.Fatalf("Check %s: %v", token, err)
	}
	if len(resp.GetFailures()) > 0 {
		t.Fatalf("Check %s %v: %v", token, news, resp.GetFailures())
	}
	return fromStruct(t, resp.GetInputs())
}

func create(t *testing.T, p pulumirpc.ResourceProviderClient, token string, program resource.PropertyMap) state {
	t.Helper()
	inputs := check(t, p, token, nil, program)
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: urn(token, "r"), Type: token, Properties: toStruct(t, inputs),
	})
	if err != nil {
		t.Fatalf("Create %s: %v", token, err)
	}
	return state{id: resp.GetId(), inputs: inputs, outputs: fromStruct(t, resp.GetProperties())}
}

// preview is what `pulumi preview` asks of p for a resource in state s whose program now says program.
func preview(t *testing.T, p pulumirpc.ResourceProviderClient, token string, s state, program resource.PropertyMap,
) *pulumirpc.DiffResponse {
	t.Helper()
	news := check(t, p, token, s.inputs, program)
	resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{
		Id: s.id, Urn: urn(token, "r"), Type: token,
		Olds: toStruct(t, s.outputs), OldInputs: toStruct(t, s.inputs), News: toStruct(t, news),
	})
	if err != nil {
		t.Fatalf("Diff %s: %v", token, err)
	}
	return resp
}

// refresh is what `pulumi refresh` asks of p for a resource in state s.
func refresh(t *testing.T, p pulumirpc.ResourceProviderClient, token string, s state) state {
	t.Helper()
	resp, err := p.Read(context.Background(), &pulumirpc.ReadRequest{
		Id: s.id, Urn: urn(token, "r"), Type: token,
		Properties: toStruct(t, s.outputs), Inputs: toStruct(t, s.inputs),
	})
	if err != nil {
		t.Fatalf("Read %s: %v", token, err)
	}
	return state{id: resp.GetId(), inputs: fromStruct(t, resp.GetInputs()), outputs: fromStruct(t, resp.GetProperties())}
}

func noChange(d *pulumirpc.DiffResponse) bool {
	return d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME && len(d.GetReplaces()) == 0 && len(d.GetDiffs()) == 0
}

// ---------------------------------------------------------------------------------------------------------------
// The cases.

type kindCase struct {
	name    string
	token   string
	program map[string]any
	// generated lists the outputs that hold generated values (different in every Create).
	generated []string
	// idRule derives the resource ID from the outputs, as the official provider does (checked on both).
	idRule func(out resource.PropertyMap) string
}

// The official ID rules: official.go and cmd/pulumi-resource-random/official.go.
func passwordIDRule(resource.PropertyMap) string   { return "none" }
func stringIDRule(out resource.PropertyMap) string { return plainString(out, "result") }
func bytesIDRule(out resource.PropertyMap) string  { return plainString(out, "base64") }
func idIDRule(out resource.PropertyMap) string {
	return strings.TrimPrefix(plainString(out, "b64Url"), plainString(out, "prefix"))
}

var kindCases = []kindCase{
	// components/tier.ts generatedPassword: every credential.
	{"password as the program declares it", tokenPassword, map[string]any{"length": 32, "special": false},
		[]string{"result", "bcryptHash"}, passwordIDRule},
	// components/superservice.ts: the superservice key.
	{"password with keepers", tokenPassword, map[string]any{
		"length": 32, "special": false, "keepers": map[string]any{"generation": "1"},
	}, []string{"result", "bcryptHash"}, passwordIDRule},
	// components/superservice.ts: the superservice ID.
	{"id as the program declares it", tokenID, map[string]any{"byteLength": 12}, []string{
		"id", "b64Std", "b64Url", "hex", "dec",
	}, idIDRule},
	{"password with every option", tokenPassword, map[string]any{
		"length": 20, "minUpper": 2, "minLower": 2, "minNumeric": 2, "minSpecial": 2, "overrideSpecial": "!#",
		"number": true,
	}, []string{"result", "bcryptHash"}, passwordIDRule},
	{"password with overrideSpecial \"\"", tokenPassword, map[string]any{"length": 12, "overrideSpecial": ""},
		[]string{"result", "bcryptHash"}, passwordIDRule},
	{"string", tokenString, map[string]any{"length": 16, "upper": false, "numeric": false},
		[]string{"result", "id"}, stringIDRule},
	{"string with overrideSpecial \"\"", tokenString, map[string]any{"length": 16, "overrideSpecial": ""},
		[]string{"result", "id"}, stringIDRule},
	{"id with prefix", tokenID, map[string]any{"byteLength": 8, "prefix": "srv-"}, []string{
		"id", "b64Std", "b64Url", "hex", "dec",
	}, idIDRule},
	{"id with prefix \"\"", tokenID, map[string]any{"byteLength": 8, "prefix": ""}, []string{
		"id", "b64Std", "b64Url", "hex", "dec",
	}, idIDRule},
	{"bytes", tokenBytes, map[string]any{"length": 32}, []string{"base64", "hex"}, bytesIDRule},
	{"bytes with keepers", tokenBytes, map[string]any{"length": 16, "keepers": map[string]any{"k": "v"}},
		[]string{"base64", "hex"}, bytesIDRule},
}

func TestOfficialReadsOurStateAsItsOwn(t *testing.T) {
	ours, official := startOurs(t), startOfficial(t)
	for _, c := range kindCases {
		t.Run(c.name, func(t *testing.T) {
			program := resource.NewPropertyMapFromMap(c.program)
			s := create(t, ours, c.token, program)

			if d := preview(t, official, c.token, s, program); !noChange(d) {
				t.Errorf("preview under the official plugin: %v", d)
			}
			r := refresh(t, official, c.token, s)
			if r.id != s.id {
				t.Errorf("refresh under the official plugin changed the ID %q to %q", s.id, r.id)
			}
			if diffs := sameState(s.outputs, withoutKey(r.outputs, rawStateDelta)); len(diffs) > 0 {
				t.Errorf("refresh under the official plugin changed the state: %s", strings.Join(diffs, "; "))
			}
			if d := preview(t, official, c.token, r, program); !noChange(d) {
				t.Errorf("preview after the refresh: %v", d)
			}
		})
	}
}

func TestOurStateHasTheOfficialShape(t *testing.T) {
	ours, official := startOurs(t), startOfficial(t)
	for _, c := range kindCases {
		t.Run(c.name, func(t *testing.T) {
			program := resource.NewPropertyMapFromMap(c.program)
			o, theirs := create(t, ours, c.token, program), create(t, official, c.token, program)
			if got, want := c.idRule(o.outputs), o.id; got != want || want == "" {
				t.Errorf("ours: ID %q, want %q by the official rule", want, got)
			}
			if got, want := c.idRule(theirs.outputs), theirs.id; got != want || want == "" {
				t.Errorf("official: ID %q, but the rule gives %q: the rule is wrong", want, got)
			}
			// The generated values differ; everything else (inputs, `__meta`, the ID of a password) is equal, and
			// every output has the same secret marker.
			a, b := o.outputs.Copy(), withoutKey(theirs.outputs, rawStateDelta)
			for _, k := range c.generated {
				key := resource.PropertyKey(k)
				if _, ok := a[key]; !ok {
					t.Errorf("ours has no output %s", k)
				}
				if _, ok := b[key]; !ok {
					t.Errorf("official has no output %s: the case is wrong", k)
				}
				if a[key].ContainsSecrets() != b[key].ContainsSecrets() {
					t.Errorf("%s: secret %v in ours, %v in the official state", k, a[key].ContainsSecrets(),
						b[key].ContainsSecrets())
				}
				delete(a, key)
				delete(b, key)
			}
			if diffs := sameState(b, a); len(diffs) > 0 {
				t.Errorf("ours differs from the official state (official -> ours): %s", strings.Join(diffs, "; "))
			}
		})
	}
}

// transition is a change of program inputs on a deployed resource.
type transition struct {
	name     string
	token    string
	old, new map[string]any
}

var transitions = []transition{
	{"no change", tokenPassword, map[string]any{"length": 32, "special": false},
		map[string]any{"length": 32, "special": false}},
	{"a default written out", tokenPassword, map[string]any{"length": 32, "special": false},
		map[string]any{"length": 32, "special": false, "upper": true, "numeric": true}},
	{"keepers added", tokenPassword, map[string]any{"length": 32},
		map[string]any{"length": 32, "keepers": map[string]any{"generation": "1"}}},
	{"keepers changed", tokenPassword, map[string]any{"length": 32, "keepers": map[string]any{"generation": "1"}},
		map[string]any{"length": 32, "keepers": map[string]any{"generation": "2"}}},
	{"keepers removed", tokenPassword, map[string]any{"length": 32, "keepers": map[string]any{"generation": "1"}},
		map[string]any{"length": 32}},
	{"length changed", tokenPassword, map[string]any{"length": 32}, map[string]any{"length": 24}},
	{"special turned off", tokenString, map[string]any{"length": 8}, map[string]any{"length": 8, "special": false}},
	{"overrideSpecial null to \"\"", tokenPassword, map[string]any{"length": 12},
		map[string]any{"length": 12, "overrideSpecial": ""}},
	{"overrideSpecial \"\" to null", tokenPassword, map[string]any{"length": 12, "overrideSpecial": ""},
		map[string]any{"length": 12}},
	{"overrideSpecial \"\" to a value", tokenString, map[string]any{"length": 12, "overrideSpecial": ""},
		map[string]any{"length": 12, "overrideSpecial": "!"}},
	{"overrideSpecial \"\" kept", tokenString, map[string]any{"length": 12, "overrideSpecial": ""},
		map[string]any{"length": 12, "overrideSpecial": ""}},
	{"prefix null to \"\"", tokenID, map[string]any{"byteLength": 4}, map[string]any{"byteLength": 4, "prefix": ""}},
	{"prefix \"\" to null", tokenID, map[string]any{"byteLength": 4, "prefix": ""}, map[string]any{"byteLength": 4}},
	{"byteLength changed", tokenID, map[string]any{"byteLength": 12}, map[string]any{"byteLength": 16}},
	{"bytes length changed", tokenBytes, map[string]any{"length": 12}, map[string]any{"length": 16}},
	{"bytes keepers changed", tokenBytes, map[string]any{"length": 12, "keepers": map[string]any{"k": "1"}},
		map[string]any{"length": 12, "keepers": map[string]any{"k": "2"}}},
}

// decision is what a Diff means to the engine: nothing, an update in place, or a replacement, and of what.
func decision(d *pulumirpc.DiffResponse) string {
	if noChange(d) {
		return "no change"
	}
	props := map[string]bool{}
	for _, k := range d.GetDiffs() {
		props[topLevel(k)] = true
	}
	for k := range d.GetDetailedDiff() {
		props[topLevel(k)] = true
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	what := "update"
	if len(d.GetReplaces()) > 0 {
		what = "replace"
	}
	return what + " " + strings.Join(names, ",")
}

// topLevel is the property a diff path starts with ("keepers.generation" -> "keepers").
func topLevel(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

func TestDiffsAgreeWithTheOfficial(t *testing.T) {
	ours, official := startOurs(t), startOfficial(t)
	for _, c := range transitions {
		t.Run(c.name, func(t *testing.T) {
			s := create(t, ours, c.token, resource.NewPropertyMapFromMap(c.old))
			program := resource.NewPropertyMapFromMap(c.new)
			got, want := decision(preview(t, ours, c.token, s, program)), decision(preview(t, official, c.token, s, program))
			if got != want {
				t.Errorf("ours: %s; the official plugin: %s", got, want)
			}
		})
	}
}

// TestOfficialReadsMigratedState runs the preview and refresh checks on the states tools/migrate-random writes.
func TestOfficialReadsMigratedState(t *testing.T) {
	file := os.Getenv("LICODE_RANDOM_MIGRATED")
	if file == "" {
		t.Fatal("LICODE_RANDOM_MIGRATED must name the migration's sample states " +
			"(bash tools/pulumi-build/official-random/test.sh writes them with tools/migrate-random/sample.ts)")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var resources []struct {
		URN     string         `json:"urn"`
		Type    string         `json:"type"`
		ID      string         `json:"id"`
		Inputs  map[string]any `json:"inputs"`
		Outputs map[string]any `json:"outputs"`
	}
	if err := json.Unmarshal(raw, &resources); err != nil {
		t.Fatal(err)
	}
	official := startOfficial(t)
	seen := map[string]bool{}
	for _, r := range resources {
		t.Run(r.URN, func(t *testing.T) {
			inputs, err := stack.DeserializeProperties(r.Inputs, config.NopDecrypter)
			if err != nil {
				t.Fatal(err)
			}
			outputs, err := stack.DeserializeProperties(r.Outputs, config.NopDecrypter)
			if err != nil {
				t.Fatal(err)
			}
			seen[r.Type] = true
			s := state{id: r.ID, inputs: inputs, outputs: outputs}
			// The migration gives each resource the inputs the program declares.
			if d := preview(t, official, r.Type, s, inputs); !noChange(d) {
				t.Errorf("preview under the official plugin: %v", d)
			}
			got := refresh(t, official, r.Type, s)
			if got.id != s.id {
				t.Errorf("refresh under the official plugin changed the ID %q to %q", s.id, got.id)
			}
			if diffs := sameState(s.outputs, withoutKey(got.outputs, rawStateDelta)); len(diffs) > 0 {
				t.Errorf("refresh under the official plugin changed the state: %s", strings.Join(diffs, "; "))
			}
		})
	}
	if !seen[tokenPassword] || !seen[tokenID] {
		t.Fatalf("the sample must hold a RandomPassword and a RandomId, got %v", seen)
	}
}
