package main

// The state each kind writes has the shape the official provider (pulumi-random 4.21.x: pulumi-terraform-bridge's
// Plugin Framework bridge wrapping terraform-provider-random) writes, so that the official plugin reads it as its
// own. The facts, from the upstream sources (terraform-provider-random f8d869dc98d9, the commit pulumi-random 4.21.x's
// provider/shim/go.mod pins; pulumi-terraform-bridge v3.137.0) and from state the official plugin recorded
// (pulumi-random provider/testdata/recorded/TestProviderUpgrade/index_<kind>/4.16.0/stack.json):
//
//   - `id` is an output of every kind whose Terraform schema has an `id` attribute: random_password ("none":
//     resource_password.go 742-748 and ImportState 114-118), random_string (the result, resource_string.go 528) and
//     random_id (base64url of the bytes without the prefix, resource_id.go 115-121). random_bytes has none (its
//     model, resource_bytes.go 126-131, and its recorded state): its ID is the value in standard base64, which
//     pulumi-random sets with ComputeID (provider/resources.go, computeRandomBytesID), not an output.
//   - `__meta` holds the Terraform schema version when it is not 0 (bridge pkg/pf/tfbridge/resource_state.go
//     153-180, updateMeta): {"schema_version":"3"} for random_password (resource_password.go 557-559) and
//     {"schema_version":"2"} for random_string (resource_string.go 356-358); random_bytes is at version 0
//     (resource_bytes.go 133-135) and random_id's schema sets no version: neither gets `__meta`. Without it the
//     bridge takes version 0 (resource_state.go 106-148, parseMeta) and runs terraform-provider-random's version-0
//     upgrader, which hashes the password again (resource_password.go 148-278).
//   - An empty string is a value: override_special and prefix keep "". override_special going from null to ""
//     replaces the resource, from "" to null does not (resource_password.go 708-720 and the same in
//     resource_string.go, internal/planmodifiers/string RequiresReplaceUnlessEmptyStringToNull); prefix replaces
//     either way (resource_id.go 77-84). "" means the default special characters (internal/random/string.go 33-35).
//
// tools/pulumi-build/official-random runs the official code path itself against the state this provider writes.

import (
	"encoding/base64"
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// stateShape is what one kind's state must hold besides the inputs and the generated values.
type stateShape struct {
	token string
	in    map[string]any
	// wantID gives the resource ID the official provider uses, from the outputs.
	wantID func(t *testing.T, out resource.PropertyMap) string
	// idOutput: whether `id` is an output (then equal to the ID, in plain text).
	idOutput bool
	// meta is the `__meta` output, "" for none.
	meta string
}

var officialShapes = []stateShape{
	{
		token: tokenPassword, in: map[string]any{"length": 16, "special": false},
		wantID:   func(*testing.T, resource.PropertyMap) string { return "none" },
		idOutput: true, meta: `{"schema_version":"3"}`,
	},
	{
		token: tokenString, in: map[string]any{"length": 12},
		wantID:   func(t *testing.T, out resource.PropertyMap) string { return str(t, out, "result", false) },
		idOutput: true, meta: `{"schema_version":"2"}`,
	},
	{
		token: tokenID, in: map[string]any{"byteLength": 8, "prefix": "srv-"},
		wantID: func(t *testing.T, out resource.PropertyMap) string {
			return str(t, out, "b64Url", false)[len("srv-"):]
		},
		idOutput: true,
	},
	{
		token: tokenBytes, in: map[string]any{"length": 16},
		wantID:   func(t *testing.T, out resource.PropertyMap) string { return str(t, out, "base64", true) },
		idOutput: false,
	},
}

// assertOfficialShape fails unless id and out have the official shape for s.
func assertOfficialShape(t *testing.T, s stateShape, id string, out resource.PropertyMap) {
	t.Helper()
	if want := s.wantID(t, out); id != want {
		t.Errorf("%s: ID %q, want %q", s.token, id, want)
	}
	idOut, hasID := out["id"]
	switch {
	case s.idOutput && !hasID:
		t.Errorf("%s: no `id` output: %v", s.token, out)
	case s.idOutput && (!idOut.IsString() || idOut.StringValue() != id):
		t.Errorf("%s: `id` output %v, want the ID %q in plain text", s.token, idOut, id)
	case !s.idOutput && hasID:
		t.Errorf("%s: `id` output %v, but the official state of this kind has none", s.token, idOut)
	}
	meta, hasMeta := out["__meta"]
	switch {
	case s.meta == "" && hasMeta:
		t.Errorf("%s: `__meta` %v, but the official state of a schema-version-0 kind has none", s.token, meta)
	case s.meta != "" && (!hasMeta || !meta.IsString() || meta.StringValue() != s.meta):
		t.Errorf("%s: `__meta` %v, want %q", s.token, meta, s.meta)
	}
}

func TestCreateWritesOfficialShape(t *testing.T) {
	for _, s := range officialShapes {
		id, out := create(t, s.token, props(s.in))
		assertOfficialShape(t, s, id, out)
	}
}

func TestImportWritesOfficialShape(t *testing.T) {
	importIDs := map[string]string{
		tokenPassword: "supersecret", tokenString: "myspecialdata", tokenID: "srv-,p-9hUg",
		tokenBytes: "8/fu3q+2DcgSJ19i0jZ5Cw==",
	}
	for _, s := range officialShapes {
		resp, err := read(t, s.token, importIDs[s.token])
		if err != nil {
			t.Fatal(err)
		}
		assertOfficialShape(t, s, resp.GetId(), fromStruct(t, resp.GetProperties()))
		if in := fromStruct(t, resp.GetInputs()); in.HasValue("id") || in.HasValue("__meta") {
			t.Errorf("%s: `id` and `__meta` are outputs, not inputs: %v", s.token, in)
		}
	}
}

// earlierState is a state as the earlier build of this provider wrote it: the inputs and values only, and "none"
// as RandomBytes' ID.
func earlierState(t *testing.T, s stateShape) (string, resource.PropertyMap, resource.PropertyMap) {
	t.Helper()
	id, out := create(t, s.token, props(s.in))
	delete(out, "id")
	delete(out, "__meta")
	if s.token == tokenBytes {
		id = "none"
	}
	inputs, _ := check(t, s.token, props(s.in))
	return id, inputs, out
}

// A refresh brings state written by the earlier build to the official shape, every value kept.
func TestReadBringsEarlierStateToOfficialShape(t *testing.T) {
	for _, s := range officialShapes {
		id, inputs, out := earlierState(t, s)
		resp, err := newProvider(testVersion).Read(ctx, &pulumirpc.ReadRequest{
			Id: id, Urn: urn(s.token, "r"), Type: s.token, Properties: toStruct(t, out), Inputs: toStruct(t, inputs),
		})
		if err != nil {
			t.Fatal(err)
		}
		got := fromStruct(t, resp.GetProperties())
		assertOfficialShape(t, s, resp.GetId(), got)
		for k, v := range out {
			if !got[k].DeepEquals(v) {
				t.Errorf("%s: %s changed on refresh: %v -> %v", s.token, k, v, got[k])
			}
		}
		if !fromStruct(t, resp.GetInputs()).DeepEquals(inputs) {
			t.Errorf("%s: inputs changed on refresh: %v", s.token, resp.GetInputs())
		}
	}
}

func TestCheckKeepsEmptyStrings(t *testing.T) {
	for token, in := range map[string]map[string]any{
		tokenPassword: {"length": 8, "overrideSpecial": ""},
		tokenString:   {"length": 8, "overrideSpecial": ""},
		tokenID:       {"byteLength": 4, "prefix": ""},
	} {
		got, failures := check(t, token, props(in))
		if len(failures) > 0 {
			t.Fatal(failures)
		}
		for k, v := range in {
			if v != "" {
				continue
			}
			if v, ok := got[resource.PropertyKey(k)]; !ok || !v.IsString() {
				t.Errorf("%s: %s: \"\" must be kept as given, got %v", token, k, got)
			}
		}
		_, out := create(t, token, props(in))
		for k, v := range in {
			if v != "" {
				continue
			}
			if v, ok := out[resource.PropertyKey(k)]; !ok || !v.IsString() || v.StringValue() != "" {
				t.Errorf("%s: %s: the state must hold \"\", got %v", token, k, out)
			}
		}
	}
	// overrideSpecial "" means the default special characters (internal/random/string.go 33-35).
	_, out := create(t, tokenPassword, props(map[string]any{"length": 64, "overrideSpecial": "", "minSpecial": 8}))
	if _, _, _, spec, other := classCounts(str(t, out, "result", true), defaultSpecialChars); spec < 8 || other != 0 {
		t.Fatalf("overrideSpecial \"\": want the default special characters, got %d special, %d other", spec, other)
	}
}

// diffState calls Diff the way the engine does: the recorded inputs and outputs against the checked new inputs.
func diffState(t *testing.T, token string, oldInputs, olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	t.Helper()
	resp, err := newProvider(testVersion).Diff(ctx, &pulumirpc.DiffRequest{
		Id: "x", Urn: urn(token, "r"), Type: token,
		OldInputs: toStruct(t, oldInputs), Olds: toStruct(t, olds), News: toStruct(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDiffEmptyStringAgainstNull(t *testing.T) {
	checked := func(token string, m map[string]any) resource.PropertyMap {
		c, f := check(t, token, props(m))
		if len(f) > 0 {
			t.Fatal(f)
		}
		return c
	}
	deployed := func(token string, m map[string]any) (resource.PropertyMap, resource.PropertyMap) {
		_, out := create(t, token, props(m))
		return checked(token, m), out
	}
	type want struct {
		changes  pulumirpc.DiffResponse_DiffChanges
		replaces []string
		kind     pulumirpc.PropertyDiff_Kind
	}
	for _, c := range []struct {
		name     string
		token    string
		old, new map[string]any
		key      string
		want     want
	}{
		{"overrideSpecial null to \"\" replaces", tokenPassword,
			map[string]any{"length": 8}, map[string]any{"length": 8, "overrideSpecial": ""}, "overrideSpecial",
			want{pulumirpc.DiffResponse_DIFF_SOME, []string{"overrideSpecial"}, pulumirpc.PropertyDiff_ADD_REPLACE}},
		{"overrideSpecial \"\" to null updates in place", tokenString,
			map[string]any{"length": 8, "overrideSpecial": ""}, map[string]any{"length": 8}, "overrideSpecial",
			want{pulumirpc.DiffResponse_DIFF_SOME, nil, pulumirpc.PropertyDiff_DELETE}},
		{"overrideSpecial \"\" to \"\"", tokenPassword,
			map[string]any{"length": 8, "overrideSpecial": ""}, map[string]any{"length": 8, "overrideSpecial": ""}, "",
			want{pulumirpc.DiffResponse_DIFF_NONE, nil, 0}},
		{"overrideSpecial \"\" to a value replaces", tokenPassword,
			map[string]any{"length": 8, "overrideSpecial": ""}, map[string]any{"length": 8, "overrideSpecial": "!"},
			"overrideSpecial",
			want{pulumirpc.DiffResponse_DIFF_SOME, []string{"overrideSpecial"}, pulumirpc.PropertyDiff_UPDATE_REPLACE}},
		{"prefix null to \"\" replaces", tokenID,
			map[string]any{"byteLength": 4}, map[string]any{"byteLength": 4, "prefix": ""}, "prefix",
			want{pulumirpc.DiffResponse_DIFF_SOME, []string{"prefix"}, pulumirpc.PropertyDiff_ADD_REPLACE}},
		{"prefix \"\" to null replaces", tokenID,
			map[string]any{"byteLength": 4, "prefix": ""}, map[string]any{"byteLength": 4}, "prefix",
			want{pulumirpc.DiffResponse_DIFF_SOME, []string{"prefix"}, pulumirpc.PropertyDiff_DELETE_REPLACE}},
	} {
		t.Run(c.name, func(t *testing.T) {
			oldInputs, olds := deployed(c.token, c.old)
			d := diffState(t, c.token, oldInputs, olds, checked(c.token, c.new))
			if d.GetChanges() != c.want.changes || !reflect.DeepEqual(d.GetReplaces(), c.want.replaces) {
				t.Fatalf("changes %v replaces %v, want %v %v (%v)", d.GetChanges(), d.GetReplaces(),
					c.want.changes, c.want.replaces, d)
			}
			if c.key != "" && d.GetDetailedDiff()[c.key].GetKind() != c.want.kind {
				t.Fatalf("%s: detailed diff %v, want %v", c.key, d.GetDetailedDiff(), c.want.kind)
			}
		})
	}

	// The earlier build dropped "" from the state: its state with no value against "" is no change (no value is
	// replaced by an upgrade), while the same inputs in official-shaped state are.
	for token, in := range map[string]map[string]any{
		tokenPassword: {"length": 8, "overrideSpecial": ""},
		tokenID:       {"byteLength": 4, "prefix": ""},
	} {
		bare := map[string]any{}
		for k, v := range in {
			if k != "overrideSpecial" && k != "prefix" {
				bare[k] = v
			}
		}
		s := stateShape{token: token, in: bare}
		_, oldInputs, olds := earlierState(t, s)
		if d := diffState(t, token, oldInputs, olds, checked(token, in)); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
			t.Errorf("%s: state of the earlier build against \"\": %v, want no change", token, d)
		}
	}
}

// The ID of RandomBytes decodes to the bytes (standard base64, as the official ComputeID).
func TestBytesIDIsTheValue(t *testing.T) {
	id, out := create(t, tokenBytes, props(map[string]any{"length": 24}))
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil || len(raw) != 24 || id != str(t, out, "base64", true) {
		t.Fatalf("ID %q: want the standard base64 of the 24 bytes (%v)", id, err)
	}
}

// An update in place (overrideSpecial "" to none) of state the official plugin wrote drops the bridge's record of
// the exact Terraform state, which no longer matches, and keeps the official shape.
func TestUpdateDropsTheStaleRawStateDelta(t *testing.T) {
	id, out := create(t, tokenString, props(map[string]any{"length": 8, "overrideSpecial": ""}))
	out[rawStateDeltaKey] = resource.NewObjectProperty(props(map[string]any{"obj": map[string]any{}}))
	news, _ := check(t, tokenString, props(map[string]any{"length": 8}))
	resp, err := newProvider(testVersion).Update(ctx, &pulumirpc.UpdateRequest{
		Id: id, Urn: urn(tokenString, "r"), Type: tokenString, Olds: toStruct(t, out), News: toStruct(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := fromStruct(t, resp.GetProperties())
	if got.HasValue(rawStateDeltaKey) || got.HasValue("overrideSpecial") {
		t.Fatalf("update: %v", got)
	}
	assertOfficialShape(t, officialShapes[1], id, got)
	if str(t, got, "result", false) != str(t, out, "result", false) {
		t.Fatal("the result must be kept")
	}
}

// A refresh of state from the earlier build takes a "" input that an up with this build recorded back into the
// outputs, where the official plugin reads it.
func TestReadTakesRecordedEmptyStringIntoEarlierState(t *testing.T) {
	s := stateShape{token: tokenPassword, in: map[string]any{"length": 8}}
	id, _, out := earlierState(t, s)
	recorded, _ := check(t, tokenPassword, props(map[string]any{"length": 8, "overrideSpecial": ""}))
	resp, err := newProvider(testVersion).Read(ctx, &pulumirpc.ReadRequest{
		Id: id, Urn: urn(tokenPassword, "r"), Type: tokenPassword, Properties: toStruct(t, out),
		Inputs: toStruct(t, recorded),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := fromStruct(t, resp.GetProperties())
	if v, ok := got["overrideSpecial"]; !ok || !isEmptyString(v) {
		t.Fatalf("overrideSpecial: want \"\" from the recorded inputs, got %v", got)
	}
	// Then the program's "" is no change, as with official-shaped state.
	if d := diffState(t, tokenPassword, recorded, got, recorded); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("after the refresh: %v", d)
	}
}
