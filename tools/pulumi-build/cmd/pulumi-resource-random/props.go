package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// plain strips secret markers (and known output-value wrappers) from v and reports whether any was secret. An
// unknown output value comes back as a computed value.
func plain(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for {
		switch {
		case v.IsSecret():
			secret = true
			v = v.SecretValue().Element
		case v.IsOutput():
			o := v.OutputValue()
			secret = secret || o.Secret
			if !o.Known {
				return resource.MakeComputed(resource.NewStringProperty("")), secret
			}
			v = o.Element
		default:
			return v, secret
		}
	}
}

// isUnknown reports whether v is (or contains) a value not known yet (a preview with computed inputs).
func isUnknown(v resource.PropertyValue) bool {
	p, _ := plain(v)
	return p.IsComputed() || p.ContainsUnknowns()
}

// withSecret marks v secret when secret is true.
func withSecret(v resource.PropertyValue, secret bool) resource.PropertyValue {
	if secret && !v.IsSecret() {
		return resource.MakeSecret(v)
	}
	return v
}

// deepPlain returns v with every secret marker removed, at any depth, for comparisons.
func deepPlain(v resource.PropertyValue) resource.PropertyValue {
	v, _ = plain(v)
	switch {
	case v.IsObject():
		m := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			m[k] = deepPlain(e)
		}
		return resource.NewObjectProperty(m)
	case v.IsArray():
		a := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			a[i] = deepPlain(e)
		}
		return resource.NewArrayProperty(a)
	}
	return v
}

// checker validates one resource's inputs, collecting the normalised inputs (defaults applied) and the failures.
type checker struct {
	in       resource.PropertyMap
	out      resource.PropertyMap
	failures []*pulumirpc.CheckFailure
}

func newChecker(in resource.PropertyMap, known []string) *checker {
	c := &checker{in: in, out: resource.PropertyMap{}}
	allowed := map[string]bool{}
	for _, k := range known {
		allowed[k] = true
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		// Internal keys (the bridge's "__defaults", "__meta") are dropped silently.
		if !allowed[k] && !strings.HasPrefix(k, "__") {
			c.fail(k, "unknown property %q (this provider supports: %s)", k, strings.Join(known, ", "))
		}
	}
	return c
}

func (c *checker) fail(prop, format string, args ...any) {
	c.failures = append(c.failures, &pulumirpc.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, args...)})
}

// get returns the input value of key, or ok=false when it is absent or null.
func (c *checker) get(key string) (resource.PropertyValue, bool) {
	v, ok := c.in[resource.PropertyKey(key)]
	if !ok {
		return v, false
	}
	if p, _ := plain(v); p.IsNull() {
		return v, false
	}
	return v, true
}

// intField checks an integer input. def (if non-nil) is used when the input is absent; min is the smallest value
// allowed. known is false when the value is absent without a default, unknown, or invalid.
func (c *checker) intField(key string, required bool, def *int64, min int64) (value int64, known bool) {
	raw, ok := c.get(key)
	if !ok {
		if required {
			c.fail(key, "Missing required property '%s'", key)
			return 0, false
		}
		if def != nil {
			c.out[resource.PropertyKey(key)] = resource.NewNumberProperty(float64(*def))
			return *def, true
		}
		return 0, false
	}
	if isUnknown(raw) {
		c.out[resource.PropertyKey(key)] = raw
		return 0, false
	}
	v, secret := plain(raw)
	if !v.IsNumber() {
		c.fail(key, "%s must be an integer, got %s", key, v.TypeString())
		return 0, false
	}
	n := v.NumberValue()
	if n != math.Trunc(n) || math.IsInf(n, 0) || math.Abs(n) > 1<<53 {
		c.fail(key, "%s must be an integer, got %v", key, n)
		return 0, false
	}
	if int64(n) < min {
		c.fail(key, "Attribute %s value must be at least %d, got: %d", key, min, int64(n))
		return 0, false
	}
	c.out[resource.PropertyKey(key)] = withSecret(resource.NewNumberProperty(n), secret)
	return int64(n), true
}

// boolField checks a boolean input. set reports whether the program configured it (known or not).
func (c *checker) boolField(key string) (value, known, set bool) {
	raw, ok := c.get(key)
	if !ok {
		return false, false, false
	}
	if isUnknown(raw) {
		return false, false, true
	}
	v, _ := plain(raw)
	if !v.IsBool() {
		c.fail(key, "%s must be a boolean, got %s", key, v.TypeString())
		return false, false, true
	}
	return v.BoolValue(), true, true
}

// boolWithDefault checks a boolean input and records it (or def when absent) in the normalised inputs.
func (c *checker) boolWithDefault(key string, def bool) (value, known bool) {
	v, known, set := c.boolField(key)
	switch {
	case !set:
		c.out[resource.PropertyKey(key)] = resource.NewBoolProperty(def)
		return def, true
	case known:
		_, secret := plain(c.in[resource.PropertyKey(key)])
		c.out[resource.PropertyKey(key)] = withSecret(resource.NewBoolProperty(v), secret)
		return v, true
	default:
		if raw := c.in[resource.PropertyKey(key)]; isUnknown(raw) {
			c.out[resource.PropertyKey(key)] = raw
		}
		return false, false
	}
}

// stringField checks an optional string input. An empty string is a value, kept as given: the official provider
// stores "" (not null) and replaces the resource when it goes from null to "" (see official.go).
func (c *checker) stringField(key string) (value string, known bool) {
	raw, ok := c.get(key)
	if !ok {
		return "", true
	}
	if isUnknown(raw) {
		c.out[resource.PropertyKey(key)] = raw
		return "", false
	}
	v, secret := plain(raw)
	if !v.IsString() {
		c.fail(key, "%s must be a string, got %s", key, v.TypeString())
		return "", false
	}
	c.out[resource.PropertyKey(key)] = withSecret(v, secret)
	return v.StringValue(), true
}

// keepersField checks the keepers map: string values (numbers and booleans are converted, as Terraform's
// map(string) does), null entries dropped, an empty map treated as absent. Secret markers are kept.
func (c *checker) keepersField() {
	const key = "keepers"
	raw, ok := c.get(key)
	if !ok {
		return
	}
	if isUnknown(raw) && !func() bool { p, _ := plain(raw); return p.IsObject() }() {
		c.out[key] = raw
		return
	}
	v, secret := plain(raw)
	if !v.IsObject() {
		c.fail(key, "keepers must be a map of strings, got %s", v.TypeString())
		return
	}
	m := resource.PropertyMap{}
	for k, e := range v.ObjectValue() {
		if isUnknown(e) {
			m[k] = e
			continue
		}
		p, esecret := plain(e)
		switch {
		case p.IsNull():
			continue
		case p.IsString():
			m[k] = withSecret(p, esecret)
		case p.IsBool():
			m[k] = withSecret(resource.NewStringProperty(strconv.FormatBool(p.BoolValue())), esecret)
		case p.IsNumber():
			m[k] = withSecret(resource.NewStringProperty(strconv.FormatFloat(p.NumberValue(), 'f', -1, 64)), esecret)
		default:
			c.fail("keepers."+string(k), "keepers values must be strings, got %s for %q", p.TypeString(), k)
		}
	}
	if len(m) == 0 {
		return
	}
	c.out[key] = withSecret(resource.NewObjectProperty(m), secret)
}

func int64Ptr(v int64) *int64 { return &v }
