package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const testVersion = "4.21.2"

var ctx = context.Background()

func urn(token, name string) string {
	return "urn:pulumi:test::proj::" + token + "::" + name
}

func toStruct(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := marshal(m, "test")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fromStruct(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := unmarshal(s, "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func props(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

func check(t *testing.T, token string, news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	t.Helper()
	resp, err := newProvider(testVersion).Check(ctx, &pulumirpc.CheckRequest{
		Urn: urn(token, "r"), Type: token, News: toStruct(t, news),
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return fromStruct(t, resp.GetInputs()), resp.GetFailures()
}

func create(t *testing.T, token string, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	t.Helper()
	p := newProvider(testVersion)
	checked, failures := check(t, token, inputs)
	if len(failures) > 0 {
		t.Fatalf("unexpected check failures: %v", failures)
	}
	resp, err := p.Create(ctx, &pulumirpc.CreateRequest{
		Urn: urn(token, "r"), Type: token, Properties: toStruct(t, checked),
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return resp.GetId(), fromStruct(t, resp.GetProperties())
}

// str returns a string output, failing unless its secret marking is as expected.
func str(t *testing.T, m resource.PropertyMap, key string, wantSecret bool) string {
	t.Helper()
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		t.Fatalf("output %q missing in %v", key, m)
	}
	if v.IsSecret() != wantSecret {
		t.Fatalf("output %q: secret=%v, want %v", key, v.IsSecret(), wantSecret)
	}
	p, _ := plain(v)
	if !p.IsString() {
		t.Fatalf("output %q is %s, want a string", key, p.TypeString())
	}
	return p.StringValue()
}

func failureFor(failures []*pulumirpc.CheckFailure, prop, contains string) bool {
	for _, f := range failures {
		if f.GetProperty() == prop && strings.Contains(f.GetReason(), contains) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------------------------------------------
// Check

func TestCheckStringErrors(t *testing.T) {
	for _, token := range []string{tokenPassword, tokenString} {
		cases := []struct {
			name     string
			in       map[string]any
			prop     string
			contains string
		}{
			{"missing length", map[string]any{}, "length", "Missing required property 'length'"},
			{"length 0", map[string]any{"length": 0}, "length", "must be at least 1, got: 0"},
			{"length not integer", map[string]any{"length": 2.5}, "length", "must be an integer"},
			{"length a string", map[string]any{"length": "8"}, "length", "must be an integer, got string"},
			{"sum of minimums", map[string]any{"length": 3, "minUpper": 2, "minLower": 2}, "length",
				"must be at least sum of minUpper + minLower + minNumeric + minSpecial, got: 3"},
			{"negative minimum", map[string]any{"length": 3, "minSpecial": -1}, "minSpecial", "at least 0"},
			{"number vs numeric", map[string]any{"length": 3, "number": true, "numeric": false}, "numeric",
				"Number and numeric are both configured with different values"},
			{"empty character set", map[string]any{
				"length": 3, "special": false, "upper": false, "lower": false, "numeric": false,
			}, "numeric", "At least one attribute out of [special, upper, lower, numeric] must be specified as true"},
			{"special not a bool", map[string]any{"length": 3, "special": "yes"}, "special", "must be a boolean"},
			{"keepers not a map", map[string]any{"length": 3, "keepers": "x"}, "keepers", "map of strings"},
			{"unknown property", map[string]any{"length": 3, "lenght": 4}, "lenght", "unknown property"},
		}
		for _, c := range cases {
			t.Run(token+"/"+c.name, func(t *testing.T) {
				_, failures := check(t, token, props(c.in))
				if !failureFor(failures, c.prop, c.contains) {
					t.Fatalf("want a failure on %q containing %q, got %v", c.prop, c.contains, failures)
				}
			})
		}
	}
}

func TestCheckIDAndBytesErrors(t *testing.T) {
	cases := []struct {
		token, name string
		in          map[string]any
		prop, want  string
	}{
		{tokenID, "missing byteLength", map[string]any{}, "byteLength", "Missing required property 'byteLength'"},
		{tokenID, "byteLength 0", map[string]any{"byteLength": 0}, "byteLength", "must be at least 1, got: 0"},
		{tokenID, "prefix not a string", map[string]any{"byteLength": 4, "prefix": 3}, "prefix", "must be a string"},
		{tokenBytes, "missing length", map[string]any{}, "length", "Missing required property 'length'"},
		{tokenBytes, "length 0", map[string]any{"length": 0}, "length", "must be at least 1, got: 0"},
		{tokenBytes, "keepers with an object", map[string]any{"length": 1, "keepers": map[string]any{
			"a": map[string]any{"b": "c"},
		}}, "keepers.a", "keepers values must be strings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, failures := check(t, c.token, props(c.in))
			if !failureFor(failures, c.prop, c.want) {
				t.Fatalf("want a failure on %q containing %q, got %v", c.prop, c.want, failures)
			}
		})
	}
}

func TestCheckDefaults(t *testing.T) {
	got, failures := check(t, tokenPassword, props(map[string]any{"length": 16}))
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	want := props(map[string]any{
		"length": 16, "special": true, "upper": true, "lower": true, "number": true, "numeric": true,
		"minUpper": 0, "minLower": 0, "minNumeric": 0, "minSpecial": 0,
	})
	if !got.DeepEquals(want) {
		t.Fatalf("defaults: got %v, want %v", got, want)
	}

	// The deprecated alias and its replacement are kept in step; {} keepers are no input ("" overrideSpecial is one:
	// official_shape_test.go).
	got, _ = check(t, tokenString, props(map[string]any{
		"length": 4, "number": false, "keepers": map[string]any{},
	}))
	if got["numeric"].BoolValue() || got["number"].BoolValue() {
		t.Fatalf("number=false must give numeric=false: %v", got)
	}
	if got.HasValue("keepers") {
		t.Fatalf("empty keepers must be dropped: %v", got)
	}
	got, _ = check(t, tokenString, props(map[string]any{"length": 4, "numeric": false}))
	if got["number"].BoolValue() {
		t.Fatalf("numeric=false must give number=false: %v", got)
	}

	// Keepers: numbers and booleans become strings, nulls are dropped.
	got, failures = check(t, tokenID, props(map[string]any{
		"byteLength": 4, "keepers": map[string]any{"n": 3, "b": true, "s": "x", "z": nil},
	}))
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	wantKeepers := props(map[string]any{"n": "3", "b": "true", "s": "x"})
	if !got["keepers"].ObjectValue().DeepEquals(wantKeepers) {
		t.Fatalf("keepers: got %v", got["keepers"])
	}
	if got.HasValue("prefix") {
		t.Fatalf("no prefix expected: %v", got)
	}
}

func TestCheckUnknownsAndSecrets(t *testing.T) {
	in := props(map[string]any{"length": 8})
	in["keepers"] = resource.NewObjectProperty(resource.PropertyMap{
		"k": resource.MakeComputed(resource.NewStringProperty("")),
	})
	in["minUpper"] = resource.MakeComputed(resource.NewStringProperty(""))
	got, failures := check(t, tokenPassword, in)
	if len(failures) > 0 {
		t.Fatalf("unknown inputs must not fail Check: %v", failures)
	}
	if !got["minUpper"].IsComputed() || !got["keepers"].ContainsUnknowns() {
		t.Fatalf("unknowns must be kept: %v", got)
	}

	in = props(map[string]any{"byteLength": 4})
	in["keepers"] = resource.NewObjectProperty(resource.PropertyMap{
		"k": resource.MakeSecret(resource.NewStringProperty("s")),
	})
	got, _ = check(t, tokenID, in)
	if !got["keepers"].ObjectValue()["k"].IsSecret() {
		t.Fatalf("secret keeper must stay secret: %v", got)
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Create: values, character sets and minimum counts

func classCounts(s string, special string) (upper, lower, numeric, spec, other int) {
	for _, r := range s {
		switch {
		case strings.ContainsRune(upperChars, r):
			upper++
		case strings.ContainsRune(lowerChars, r):
			lower++
		case strings.ContainsRune(numericChars, r):
			numeric++
		case strings.ContainsRune(special, r):
			spec++
		default:
			other++
		}
	}
	return
}

func TestCreatePassword(t *testing.T) {
	id, out := create(t, tokenPassword, props(map[string]any{
		"length": 24, "keepers": map[string]any{"rotation": "1"},
	}))
	if id != "none" {
		t.Fatalf("a password's ID must not be the password; got %q", id)
	}
	result := str(t, out, "result", true)
	if utf8.RuneCountInString(result) != 24 {
		t.Fatalf("result %q: want 24 characters", result)
	}
	hash := str(t, out, "bcryptHash", true)
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(result)); err != nil {
		t.Fatalf("bcryptHash does not match result: %v", err)
	}
	for _, k := range []string{"length", "special", "upper", "lower", "number", "numeric", "minUpper", "keepers"} {
		if !out.HasValue(resource.PropertyKey(k)) {
			t.Fatalf("input %q must be echoed in the outputs: %v", k, out)
		}
	}
	if out["keepers"].ObjectValue()["rotation"].StringValue() != "1" {
		t.Fatalf("keepers: %v", out["keepers"])
	}

	// Distinct values from crypto/rand.
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s, err := generateString(stringParams{Length: 16, Upper: true, Lower: true, Numeric: true, Special: true})
		if err != nil {
			t.Fatal(err)
		}
		if seen[s] {
			t.Fatalf("duplicate value %q", s)
		}
		seen[s] = true
	}
}

func TestCreateStringIsPlain(t *testing.T) {
	id, out := create(t, tokenString, props(map[string]any{"length": 12, "special": false}))
	result := str(t, out, "result", false)
	if id != result {
		t.Fatalf("RandomString ID must be its result (upstream): id=%q result=%q", id, result)
	}
	if _, hasHash := out["bcryptHash"]; hasHash {
		t.Fatal("RandomString has no bcryptHash")
	}
	if _, _, _, spec, other := classCounts(result, defaultSpecialChars); spec+other != 0 {
		t.Fatalf("special=false but %q has special characters", result)
	}
}

func TestCharacterSets(t *testing.T) {
	const runs = 300
	cases := []struct {
		name  string
		p     stringParams
		check func(u, l, n, s, o int) bool
	}{
		{"upper only", stringParams{Length: 20, Upper: true}, func(u, l, n, s, o int) bool { return u == 20 }},
		{"lower only", stringParams{Length: 20, Lower: true}, func(u, l, n, s, o int) bool { return l == 20 }},
		{"numeric only", stringParams{Length: 20, Numeric: true}, func(u, l, n, s, o int) bool { return n == 20 }},
		{"special only", stringParams{Length: 20, Special: true}, func(u, l, n, s, o int) bool { return s == 20 }},
		{"no special", stringParams{Length: 20, Upper: true, Lower: true, Numeric: true},
			func(u, l, n, s, o int) bool { return s == 0 && o == 0 }},
		{"minimums", stringParams{
			Length: 8, Upper: true, Lower: true, Numeric: true, Special: true,
			MinUpper: 2, MinLower: 2, MinNumeric: 2, MinSpecial: 2,
		}, func(u, l, n, s, o int) bool { return u == 2 && l == 2 && n == 2 && s == 2 }},
		{"minimums above the pool", stringParams{Length: 10, Lower: true, MinNumeric: 3, MinUpper: 1},
			func(u, l, n, s, o int) bool { return n >= 3 && u >= 1 && l == 10-n-u }},
		// Upstream: a minimum applies even when its class is off.
		{"minSpecial with special off", stringParams{Length: 6, Lower: true, MinSpecial: 2},
			func(u, l, n, s, o int) bool { return s == 2 && l == 4 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := 0; i < runs; i++ {
				s, err := generateString(c.p)
				if err != nil {
					t.Fatal(err)
				}
				if got := utf8.RuneCountInString(s); int64(got) != c.p.Length {
					t.Fatalf("%q has %d characters, want %d", s, got, c.p.Length)
				}
				if u, l, n, sp, o := classCounts(s, c.p.specialChars()); !c.check(u, l, n, sp, o) {
					t.Fatalf("%q: upper=%d lower=%d numeric=%d special=%d other=%d", s, u, l, n, sp, o)
				}
			}
		})
	}

	t.Run("overrideSpecial (multi-byte)", func(t *testing.T) {
		p := stringParams{Length: 30, Special: true, OverrideSpecial: "£€"}
		for i := 0; i < runs; i++ {
			s, err := generateString(p)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Trim(s, "£€") != "" || utf8.RuneCountInString(s) != 30 {
				t.Fatalf("%q: want 30 characters from £€", s)
			}
		}
	})

	// Statistical: every character of the pool shows up with about its expected frequency, and the characters
	// placed for a minimum count land at every position (the result is shuffled).
	t.Run("uniform and shuffled", func(t *testing.T) {
		p := stringParams{Length: 10, Lower: true, Numeric: true, MinNumeric: 1}
		freq := map[rune]int{}
		digitAt := make([]int, p.Length)
		total := 0
		for i := 0; i < 4000; i++ {
			s, _ := generateString(p)
			for j, r := range []rune(s) {
				freq[r]++
				total++
				if r >= '0' && r <= '9' {
					digitAt[j]++
				}
			}
		}
		if len(freq) != 36 {
			t.Fatalf("want all 36 characters of [a-z0-9], got %d", len(freq))
		}
		for pos, n := range digitAt {
			// Each position holds a digit with probability 0.35 (1 + 9*10/36 digits in 10): ~1400 +- 30.
			if n < 1000 || n > 1800 {
				t.Fatalf("position %d holds a digit %d times out of 4000: not shuffled uniformly (%v)", pos, n, digitAt)
			}
		}
		for r, n := range freq {
			// Expected ~ total/36 (digits a bit more because of the minimum); allow a wide margin.
			if exp := float64(total) / 36; float64(n) < 0.6*exp || float64(n) > 1.8*exp {
				t.Fatalf("character %q appears %d times, expected about %.0f", r, n, exp)
			}
		}
	})
}

func TestCreateID(t *testing.T) {
	id, out := create(t, tokenID, props(map[string]any{"byteLength": 8, "prefix": "srv-"}))
	b64url := str(t, out, "b64Url", false)
	if b64url != "srv-"+id {
		t.Fatalf("b64Url %q must be prefix + ID %q", b64url, id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != 8 {
		t.Fatalf("ID %q is not 8 bytes of base64url: %v", id, err)
	}
	if got := str(t, out, "hex", false); got != "srv-"+hex.EncodeToString(raw) {
		t.Fatalf("hex %q", got)
	}
	if got := str(t, out, "b64Std", false); got != "srv-"+base64.StdEncoding.EncodeToString(raw) {
		t.Fatalf("b64Std %q", got)
	}
	if got := str(t, out, "dec", false); got != "srv-"+new(big.Int).SetBytes(raw).String() {
		t.Fatalf("dec %q", got)
	}
}

func TestCreateBytes(t *testing.T) {
	id, out := create(t, tokenBytes, props(map[string]any{"length": 32}))
	b64 := str(t, out, "base64", true)
	h := str(t, out, "hex", true)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 || hex.EncodeToString(raw) != h {
		t.Fatalf("base64 %q / hex %q inconsistent (%v)", b64, h, err)
	}
	if id != b64 {
		t.Fatalf("ID %q: want the base64 value, as the official provider's", id)
	}
}

// Each kind's create refuses what its Check refuses and what is not yet known, whoever calls it.
func TestKindCreateRefusesBadAndUnknownInputs(t *testing.T) {
	sizeKey := map[string]string{tokenPassword: "length", tokenString: "length", tokenID: "byteLength", tokenBytes: "length"}
	for token, key := range sizeKey {
		k := kinds[token]
		if _, _, err := k.create(props(map[string]any{key: 0})); err == nil ||
			!strings.Contains(err.Error(), "must be at least 1, got: 0") {
			t.Errorf("%s: %s 0 must be refused with Check's reason, got %v", token, key, err)
		}
		unknown := resource.PropertyMap{resource.PropertyKey(key): resource.MakeComputed(resource.NewStringProperty(""))}
		if _, _, err := k.create(unknown); err == nil || !strings.Contains(err.Error(), "not fully known") {
			t.Errorf("%s: an unknown %s must be refused, got %v", token, key, err)
		}
	}
}

func TestCreatePreview(t *testing.T) {
	p := newProvider(testVersion)
	checked, _ := check(t, tokenPassword, props(map[string]any{"length": 8}))
	resp, err := p.Create(ctx, &pulumirpc.CreateRequest{
		Urn: urn(tokenPassword, "r"), Type: tokenPassword, Properties: toStruct(t, checked), Preview: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := fromStruct(t, resp.GetProperties())
	if !out["result"].IsComputed() || !out["bcryptHash"].IsComputed() || out["length"].NumberValue() != 8 {
		t.Fatalf("preview: want computed result/bcryptHash and the inputs, got %v", out)
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Diff

func diff(t *testing.T, token string, olds, news resource.PropertyMap, ignore ...string) *pulumirpc.DiffResponse {
	t.Helper()
	resp, err := newProvider(testVersion).Diff(ctx, &pulumirpc.DiffRequest{
		Id: "x", Urn: urn(token, "r"), Type: token,
		OldInputs: toStruct(t, olds), Olds: toStruct(t, olds), News: toStruct(t, news), IgnoreChanges: ignore,
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDiff(t *testing.T) {
	checked := func(token string, m map[string]any) resource.PropertyMap {
		c, f := check(t, token, props(m))
		if len(f) > 0 {
			t.Fatal(f)
		}
		return c
	}
	base := map[string]any{"length": 16, "keepers": map[string]any{"k": "1"}}

	if d := diff(t, tokenPassword, checked(tokenPassword, base), checked(tokenPassword, base)); d.GetChanges() !=
		pulumirpc.DiffResponse_DIFF_NONE || len(d.GetReplaces()) != 0 {
		t.Fatalf("identical inputs: %v", d)
	}

	changed := map[string]any{"length": 16, "keepers": map[string]any{"k": "2"}}
	d := diff(t, tokenPassword, checked(tokenPassword, base), checked(tokenPassword, changed))
	if d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || !reflect.DeepEqual(d.GetReplaces(), []string{"keepers"}) ||
		d.GetDeleteBeforeReplace() || !d.GetHasDetailedDiff() ||
		d.GetDetailedDiff()["keepers"].GetKind() != pulumirpc.PropertyDiff_UPDATE_REPLACE {
		t.Fatalf("keepers change must replace (keepers only, create before delete): %v", d)
	}

	d = diff(t, tokenPassword, checked(tokenPassword, base), checked(tokenPassword, map[string]any{
		"length": 20, "keepers": map[string]any{"k": "1"}, "special": false,
	}))
	got := d.GetReplaces()
	sort.Strings(got)
	if !reflect.DeepEqual(got, []string{"length", "special"}) {
		t.Fatalf("length+special change: replaces %v", got)
	}

	// Keepers added (ADD_REPLACE) and removed (DELETE_REPLACE).
	d = diff(t, tokenID, checked(tokenID, map[string]any{"byteLength": 4}),
		checked(tokenID, map[string]any{"byteLength": 4, "keepers": map[string]any{"a": "b"}}))
	if d.GetDetailedDiff()["keepers"].GetKind() != pulumirpc.PropertyDiff_ADD_REPLACE {
		t.Fatalf("keepers added: %v", d)
	}
	d = diff(t, tokenID, checked(tokenID, map[string]any{"byteLength": 4, "prefix": "p-"}),
		checked(tokenID, map[string]any{"byteLength": 4}))
	if d.GetDetailedDiff()["prefix"].GetKind() != pulumirpc.PropertyDiff_DELETE_REPLACE {
		t.Fatalf("prefix removed: %v", d)
	}

	// State written by the upstream provider holds the inputs without defaults: not a change.
	if d := diff(t, tokenPassword, props(map[string]any{"length": 16, "__defaults": []any{}}),
		checked(tokenPassword, map[string]any{"length": 16})); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("implicit vs explicit defaults: %v", d)
	}

	// An unknown new value may differ: replace.
	news := checked(tokenBytes, map[string]any{"length": 4})
	news["keepers"] = resource.MakeComputed(resource.NewStringProperty(""))
	if d := diff(t, tokenBytes, checked(tokenBytes, map[string]any{"length": 4, "keepers": map[string]any{"a": "b"}}),
		news); !reflect.DeepEqual(d.GetReplaces(), []string{"keepers"}) {
		t.Fatalf("unknown keepers: %v", d)
	}

	// Only the secret marker changed: same value, no replacement.
	secretNews := checked(tokenBytes, map[string]any{"length": 4})
	secretNews["keepers"] = resource.MakeSecret(resource.NewObjectProperty(props(map[string]any{"a": "b"})))
	if d := diff(t, tokenBytes, checked(tokenBytes, map[string]any{"length": 4, "keepers": map[string]any{"a": "b"}}),
		secretNews); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("secret marker only: %v", d)
	}

	// ignoreChanges.
	if d := diff(t, tokenPassword, checked(tokenPassword, base), checked(tokenPassword, changed), "keepers"); d.GetChanges() !=
		pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("ignored keepers: %v", d)
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Read (refresh and import), Update, Delete

func TestReadKeepsState(t *testing.T) {
	for _, c := range []struct {
		token string
		in    map[string]any
	}{
		{tokenPassword, map[string]any{"length": 10}},
		{tokenString, map[string]any{"length": 10}},
		{tokenID, map[string]any{"byteLength": 6}},
		{tokenBytes, map[string]any{"length": 6}},
	} {
		id, out := create(t, c.token, props(c.in))
		inputs, _ := check(t, c.token, props(c.in))
		state, in := toStruct(t, out), toStruct(t, inputs)
		resp, err := newProvider(testVersion).Read(ctx, &pulumirpc.ReadRequest{
			Id: id, Urn: urn(c.token, "r"), Type: c.token, Properties: state, Inputs: in,
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetId() != id || !proto.Equal(resp.GetProperties(), state) || !proto.Equal(resp.GetInputs(), in) {
			t.Fatalf("%s: Read must return the state unchanged:\n got %v\nwant %v", c.token, resp, state)
		}
	}
}

func read(t *testing.T, token, id string) (*pulumirpc.ReadResponse, error) {
	return newProvider(testVersion).Read(ctx, &pulumirpc.ReadRequest{Id: id, Urn: urn(token, "imported"), Type: token})
}

func TestImportPassword(t *testing.T) {
	resp, err := read(t, tokenPassword, "supersecret")
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetId() != "none" {
		t.Fatalf("imported password ID %q, want none", resp.GetId())
	}
	out := fromStruct(t, resp.GetProperties())
	if got := str(t, out, "result", true); got != "supersecret" {
		t.Fatalf("result %q", got)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(str(t, out, "bcryptHash", true)), []byte("supersecret")); err != nil {
		t.Fatal(err)
	}
	in := fromStruct(t, resp.GetInputs())
	if in["length"].NumberValue() != 11 || !in["special"].BoolValue() || in["minUpper"].NumberValue() != 0 {
		t.Fatalf("imported inputs: %v", in)
	}
	// The imported inputs are what Check makes of a program that says only `length: 11`: no diff afterwards.
	programInputs, _ := check(t, tokenPassword, props(map[string]any{"length": 11}))
	if d := diff(t, tokenPassword, in, programInputs); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("import then same program: %v", d)
	}

	if _, err := read(t, tokenPassword, ""); err == nil {
		t.Fatal("an empty import ID must fail")
	}
}

func TestImportString(t *testing.T) {
	resp, err := read(t, tokenString, "myspecialdata")
	if err != nil {
		t.Fatal(err)
	}
	out := fromStruct(t, resp.GetProperties())
	if resp.GetId() != "myspecialdata" || str(t, out, "result", false) != "myspecialdata" {
		t.Fatalf("string import: %v", resp)
	}
}

func TestImportID(t *testing.T) {
	resp, err := read(t, tokenID, "p-9hUg")
	if err != nil {
		t.Fatal(err)
	}
	out := fromStruct(t, resp.GetProperties())
	if resp.GetId() != "p-9hUg" || str(t, out, "b64Url", false) != "p-9hUg" || str(t, out, "hex", false) != "a7ef6152" ||
		str(t, out, "dec", false) != "2817483090" || str(t, out, "b64Std", false) != "p+9hUg==" ||
		out["byteLength"].NumberValue() != 4 || out.HasValue("prefix") {
		t.Fatalf("id import without prefix: %v", out)
	}

	resp, err = read(t, tokenID, "my-prefix-,p-9hUg")
	if err != nil {
		t.Fatal(err)
	}
	out = fromStruct(t, resp.GetProperties())
	in := fromStruct(t, resp.GetInputs())
	if resp.GetId() != "p-9hUg" || str(t, out, "b64Url", false) != "my-prefix-p-9hUg" ||
		str(t, out, "hex", false) != "my-prefix-a7ef6152" || in["prefix"].StringValue() != "my-prefix-" {
		t.Fatalf("id import with prefix: id=%q %v", resp.GetId(), out)
	}

	if _, err := read(t, tokenID, "not base64!"); err == nil || !strings.Contains(err.Error(), "decoding error") {
		t.Fatalf("bad import ID: %v", err)
	}
}

func TestImportBytes(t *testing.T) {
	resp, err := read(t, tokenBytes, "8/fu3q+2DcgSJ19i0jZ5Cw==")
	if err != nil {
		t.Fatal(err)
	}
	out := fromStruct(t, resp.GetProperties())
	if resp.GetId() != "8/fu3q+2DcgSJ19i0jZ5Cw==" || str(t, out, "base64", true) != "8/fu3q+2DcgSJ19i0jZ5Cw==" ||
		str(t, out, "hex", true) != "f3f7eedeafb60dc812275f62d236790b" || out["length"].NumberValue() != 16 {
		t.Fatalf("bytes import: %v", resp)
	}
	if _, err := read(t, tokenBytes, "%%%"); err == nil {
		t.Fatal("bad base64 must fail")
	}
}

func TestUpdateKeepsValuesAndDelete(t *testing.T) {
	p := newProvider(testVersion)
	id, out := create(t, tokenPassword, props(map[string]any{"length": 10, "overrideSpecial": ""}))
	news, _ := check(t, tokenPassword, props(map[string]any{"length": 10}))
	resp, err := p.Update(ctx, &pulumirpc.UpdateRequest{
		Id: id, Urn: urn(tokenPassword, "r"), Type: tokenPassword, Olds: toStruct(t, out), News: toStruct(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := fromStruct(t, resp.GetProperties())
	if str(t, got, "result", true) != str(t, out, "result", true) {
		t.Fatal("Update must keep the generated result")
	}
	if _, err := p.Delete(ctx, &pulumirpc.DeleteRequest{
		Id: id, Urn: urn(tokenPassword, "r"), Type: tokenPassword, Properties: toStruct(t, out),
	}); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownType(t *testing.T) {
	_, err := newProvider(testVersion).Check(ctx, &pulumirpc.CheckRequest{
		Urn: urn("random:index/randomPet:RandomPet", "r"), Type: "random:index/randomPet:RandomPet",
	})
	if err == nil || !strings.Contains(err.Error(), "implements only") {
		t.Fatalf("unknown type: %v", err)
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Schema and the plugin protocol over real gRPC

func TestGetSchema(t *testing.T) {
	resp, err := newProvider(testVersion).GetSchema(ctx, &pulumirpc.GetSchemaRequest{Version: 0})
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Resources map[string]struct {
			Properties      map[string]struct{ Secret bool } `json:"properties"`
			InputProperties map[string]json.RawMessage       `json:"inputProperties"`
			RequiredInputs  []string                         `json:"requiredInputs"`
		} `json:"resources"`
		Functions map[string]any `json:"functions"`
	}
	if err := json.Unmarshal([]byte(resp.GetSchema()), &spec); err != nil {
		t.Fatalf("schema does not parse: %v", err)
	}
	if spec.Name != "random" || spec.Version != testVersion || len(spec.Functions) != 0 {
		t.Fatalf("schema header: name=%q version=%q functions=%d", spec.Name, spec.Version, len(spec.Functions))
	}
	if len(spec.Resources) != len(kinds) {
		t.Fatalf("schema has %d resources, the provider implements %d", len(spec.Resources), len(kinds))
	}
	secretOutputs := map[string][]string{
		tokenPassword: {"bcryptHash", "result"}, tokenBytes: {"base64", "hex"}, tokenString: nil, tokenID: nil,
	}
	for token, k := range kinds {
		r, ok := spec.Resources[token]
		if !ok {
			t.Fatalf("schema lacks %s", token)
		}
		var inputs []string
		for name := range r.InputProperties {
			inputs = append(inputs, name)
		}
		sort.Strings(inputs)
		want := append([]string(nil), k.inputs()...)
		sort.Strings(want)
		if !reflect.DeepEqual(inputs, want) {
			t.Fatalf("%s: schema inputs %v, provider inputs %v", token, inputs, want)
		}
		var secrets []string
		for name, p := range r.Properties {
			if p.Secret {
				secrets = append(secrets, name)
			}
		}
		sort.Strings(secrets)
		if !reflect.DeepEqual(secrets, secretOutputs[token]) {
			t.Fatalf("%s: schema secret outputs %v, want %v", token, secrets, secretOutputs[token])
		}
		for _, c := range k.computed() {
			if _, ok := r.Properties[c]; !ok {
				t.Fatalf("%s: computed output %q not in the schema", token, c)
			}
		}
	}
}

func TestGRPCProtocol(t *testing.T) {
	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, newProvider(testVersion))
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel <- true; <-handle.Done }()
	conn, err := grpc.NewClient("127.0.0.1:"+itoa(handle.Port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pulumirpc.NewResourceProviderClient(conn)

	hs, err := client.Handshake(ctx, &pulumirpc.ProviderHandshakeRequest{EngineAddress: "127.0.0.1:1"})
	if err != nil || !hs.GetAcceptSecrets() {
		t.Fatalf("Handshake must accept secrets: %v %v", hs, err)
	}
	info, err := client.GetPluginInfo(ctx, &emptypb.Empty{})
	if err != nil || info.GetVersion() != testVersion {
		t.Fatalf("GetPluginInfo: %v %v", info, err)
	}
	cfg, err := client.Configure(ctx, &pulumirpc.ConfigureRequest{AcceptSecrets: true})
	if err != nil || !cfg.GetAcceptSecrets() || !cfg.GetSupportsPreview() {
		t.Fatalf("Configure: %v %v", cfg, err)
	}
	if _, err := client.Cancel(ctx, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Attach(ctx, &pulumirpc.PluginAttach{Address: "127.0.0.1:2"}); err != nil {
		t.Fatal(err)
	}
	news, _ := structpb.NewStruct(map[string]any{"length": 12})
	chk, err := client.Check(ctx, &pulumirpc.CheckRequest{Urn: urn(tokenPassword, "p"), News: news})
	if err != nil || len(chk.GetFailures()) != 0 {
		t.Fatalf("Check over gRPC: %v %v", chk, err)
	}
	cr, err := client.Create(ctx, &pulumirpc.CreateRequest{Urn: urn(tokenPassword, "p"), Properties: chk.GetInputs()})
	if err != nil {
		t.Fatal(err)
	}
	// Over the wire a secret is an object with the secret signature.
	result := cr.GetProperties().GetFields()["result"].GetStructValue().GetFields()
	if result[resource.SigKey].GetStringValue() != resource.SecretSig || utf8.RuneCountInString(result["value"].GetStringValue()) != 12 {
		t.Fatalf("result on the wire: %v", cr.GetProperties().GetFields()["result"])
	}
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }
