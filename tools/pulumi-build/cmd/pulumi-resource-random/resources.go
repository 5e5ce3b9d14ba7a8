package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// kind is one resource type of the provider.
type kind interface {
	// inputs lists the input property names (all of them force a replacement when they change).
	inputs() []string
	// check validates inputs and returns them normalised (defaults applied), with any failures.
	check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure)
	// create generates the values; inputs are normalised and fully known.
	create(inputs resource.PropertyMap) (id string, outputs resource.PropertyMap, err error)
	// computed lists the outputs that create generates (unknown during a preview).
	computed() []string
	// importID builds the state of an existing value from an import ID, as upstream documents it.
	importID(id string) (newID string, inputs, outputs resource.PropertyMap, err error)
	// official is what the official provider's state holds besides the inputs and the values (official.go).
	official() officialShape
	// stateID is the resource ID of a state, in the official provider's format.
	stateID(outputs resource.PropertyMap) (string, error)
}

const (
	tokenPassword = "random:index/randomPassword:RandomPassword"
	tokenString   = "random:index/randomString:RandomString"
	tokenID       = "random:index/randomId:RandomId"
	tokenBytes    = "random:index/randomBytes:RandomBytes"
)

var kinds = map[string]kind{
	tokenPassword: stringKind{secret: true},
	tokenString:   stringKind{secret: false},
	tokenID:       idKind{},
	tokenBytes:    bytesKind{},
}

func failuresError(failures []*pulumirpc.CheckFailure) error {
	msgs := make([]string, len(failures))
	for i, f := range failures {
		msgs[i] = f.GetReason()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// creatable says why checked inputs cannot be created from: Check's failures, or a value not yet known.
func creatable(known bool, failures []*pulumirpc.CheckFailure) error {
	if len(failures) > 0 {
		return failuresError(failures)
	}
	if !known {
		return errors.New("inputs are not fully known")
	}
	return nil
}

// withOutputs returns a copy of inputs plus the given outputs.
func withOutputs(inputs resource.PropertyMap, outs map[string]resource.PropertyValue) resource.PropertyMap {
	m := inputs.Copy()
	for k, v := range outs {
		m[resource.PropertyKey(k)] = v
	}
	return m
}

// state is a new resource's ID and outputs in the official shape: the inputs, the values, `id` and `__meta`.
func state(k kind, inputs resource.PropertyMap, values map[string]resource.PropertyValue) (string,
	resource.PropertyMap, error,
) {
	return withOfficialShape(k, withOutputs(inputs, values))
}

// ---------------------------------------------------------------------------------------------------------------
// RandomPassword (secret result + bcryptHash, ID "none") and RandomString (plain result, ID = result).

type stringKind struct{ secret bool }

func (k stringKind) official() officialShape {
	if k.secret {
		return officialShape{schemaVersion: 3, idOutput: true}
	}
	return officialShape{schemaVersion: 2, idOutput: true}
}

func (k stringKind) stateID(outputs resource.PropertyMap) (string, error) {
	if k.secret {
		// The password must never be the ID (IDs are stored and shown in plain text): upstream uses "none".
		return "none", nil
	}
	return plainString(outputs, "result")
}

func (stringKind) inputs() []string {
	return []string{
		"keepers", "length", "lower", "minLower", "minNumeric", "minSpecial", "minUpper",
		"number", "numeric", "overrideSpecial", "special", "upper",
	}
}

func (k stringKind) computed() []string {
	if k.secret {
		return []string{"result", "bcryptHash"}
	}
	return []string{"result"}
}

// checkParams validates and normalises; params is only meaningful when ok (every value known, no failure).
func (k stringKind) checkParams(news resource.PropertyMap) (resource.PropertyMap, stringParams, bool,
	[]*pulumirpc.CheckFailure,
) {
	c := newChecker(news, k.inputs())
	var p stringParams
	allKnown := true
	known := func(ok bool) {
		allKnown = allKnown && ok
	}

	length, lengthOK := c.intField("length", true, nil, 1)
	p.Length = length
	known(lengthOK)
	minsKnown := true
	for _, m := range []struct {
		key string
		dst *int64
	}{
		{"minUpper", &p.MinUpper}, {"minLower", &p.MinLower}, {"minNumeric", &p.MinNumeric}, {"minSpecial", &p.MinSpecial},
	} {
		v, ok := c.intField(m.key, false, int64Ptr(0), 0)
		*m.dst = v
		minsKnown = minsKnown && ok
	}
	known(minsKnown)
	if lengthOK && minsKnown {
		if sum := p.MinUpper + p.MinLower + p.MinNumeric + p.MinSpecial; p.Length < sum {
			c.fail("length", "Attribute length value must be at least sum of minUpper + minLower + minNumeric + "+
				"minSpecial, got: %d", p.Length)
		}
	}

	var specialOK, upperOK, lowerOK bool
	p.Special, specialOK = c.boolWithDefault("special", true)
	p.Upper, upperOK = c.boolWithDefault("upper", true)
	p.Lower, lowerOK = c.boolWithDefault("lower", true)
	known(specialOK && upperOK && lowerOK)

	// number is the deprecated alias of numeric: both end up with the same value (default true).
	number, numberKnown, numberSet := c.boolField("number")
	numeric, numericKnown, numericSet := c.boolField("numeric")
	numericOK := true
	switch {
	case (numberSet && !numberKnown) || (numericSet && !numericKnown):
		numericOK = false
		unknown := resource.MakeComputed(resource.NewStringProperty(""))
		c.out["number"], c.out["numeric"] = unknown, unknown
	case numberSet && numericSet && number != numeric:
		numericOK = false
		c.fail("numeric", "Number and numeric are both configured with different values: "+
			"number is deprecated, use numeric instead")
	default:
		p.Numeric = true
		if numericSet {
			p.Numeric = numeric
		} else if numberSet {
			p.Numeric = number
		}
		_, numberSecret := plain(news["number"])
		_, numericSecret := plain(news["numeric"])
		v := withSecret(resource.NewBoolProperty(p.Numeric), numberSecret || numericSecret)
		c.out["number"], c.out["numeric"] = v, v
	}
	known(numericOK)
	if specialOK && upperOK && lowerOK && numericOK && !p.Special && !p.Upper && !p.Lower && !p.Numeric {
		c.fail("numeric", "At least one attribute out of [special, upper, lower, numeric] must be specified as true")
	}

	var overrideOK bool
	p.OverrideSpecial, overrideOK = c.stringField("overrideSpecial")
	known(overrideOK)
	c.keepersField()
	return c.out, p, allKnown && len(c.failures) == 0, c.failures
}

func (k stringKind) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out, _, _, failures := k.checkParams(news)
	return out, failures
}

func (k stringKind) create(inputs resource.PropertyMap) (string, resource.PropertyMap, error) {
	checked, p, ok, failures := k.checkParams(inputs)
	if err := creatable(ok, failures); err != nil {
		return "", nil, err
	}
	result, err := generateString(p)
	if err != nil {
		return "", nil, err
	}
	return k.state(result, checked)
}

// state is the ID and outputs for a result: the inputs plus result (and bcryptHash for a password).
func (k stringKind) state(result string, inputs resource.PropertyMap) (string, resource.PropertyMap, error) {
	if !k.secret {
		return state(k, inputs, map[string]resource.PropertyValue{"result": resource.NewStringProperty(result)})
	}
	hash, err := bcryptHash(result)
	if err != nil {
		return "", nil, err
	}
	return state(k, inputs, map[string]resource.PropertyValue{
		"result":     resource.MakeSecret(resource.NewStringProperty(result)),
		"bcryptHash": resource.MakeSecret(resource.NewStringProperty(hash)),
	})
}

// importID: the ID is the value itself; the inputs are upstream's import defaults (length = its length).
func (k stringKind) importID(id string) (string, resource.PropertyMap, resource.PropertyMap, error) {
	if id == "" {
		return "", nil, nil, errors.New("the import ID must be the value to import, got an empty string")
	}
	inputs := resource.PropertyMap{
		"length":     resource.NewNumberProperty(float64(utf8.RuneCountInString(id))),
		"special":    resource.NewBoolProperty(true),
		"upper":      resource.NewBoolProperty(true),
		"lower":      resource.NewBoolProperty(true),
		"number":     resource.NewBoolProperty(true),
		"numeric":    resource.NewBoolProperty(true),
		"minSpecial": resource.NewNumberProperty(0),
		"minUpper":   resource.NewNumberProperty(0),
		"minLower":   resource.NewNumberProperty(0),
		"minNumeric": resource.NewNumberProperty(0),
	}
	newID, outputs, err := k.state(id, inputs)
	return newID, inputs, outputs, err
}

// ---------------------------------------------------------------------------------------------------------------
// RandomId: ID = base64url of the bytes (without prefix); outputs carry the prefix.

type idKind struct{}

func (idKind) inputs() []string   { return []string{"byteLength", "keepers", "prefix"} }
func (idKind) computed() []string { return []string{"b64Std", "b64Url", "dec", "hex"} }

func (idKind) official() officialShape { return officialShape{idOutput: true} }

// stateID: base64url of the bytes, without the prefix that b64Url carries.
func (idKind) stateID(outputs resource.PropertyMap) (string, error) {
	b64url, err := plainString(outputs, "b64Url")
	if err != nil {
		return "", err
	}
	prefix, _ := plainString(outputs, "prefix")
	if !strings.HasPrefix(b64url, prefix) {
		return "", fmt.Errorf("the state's b64Url %q does not start with its prefix %q", b64url, prefix)
	}
	return b64url[len(prefix):], nil
}

func (k idKind) checkParams(news resource.PropertyMap) (resource.PropertyMap, int64, string, bool,
	[]*pulumirpc.CheckFailure,
) {
	c := newChecker(news, k.inputs())
	n, nOK := c.intField("byteLength", true, nil, 1)
	prefix, prefixOK := c.stringField("prefix")
	c.keepersField()
	return c.out, n, prefix, nOK && prefixOK && len(c.failures) == 0, c.failures
}

func (k idKind) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out, _, _, _, failures := k.checkParams(news)
	return out, failures
}

func (k idKind) create(inputs resource.PropertyMap) (string, resource.PropertyMap, error) {
	checked, n, prefix, ok, failures := k.checkParams(inputs)
	if err := creatable(ok, failures); err != nil {
		return "", nil, err
	}
	b, err := randomBytes(n)
	if err != nil {
		return "", nil, err
	}
	return state(k, checked, idOutputs(b, prefix))
}

func idOutputs(b []byte, prefix string) map[string]resource.PropertyValue {
	id := base64.RawURLEncoding.EncodeToString(b)
	return map[string]resource.PropertyValue{
		"b64Url": resource.NewStringProperty(prefix + id),
		"b64Std": resource.NewStringProperty(prefix + base64.StdEncoding.EncodeToString(b)),
		"hex":    resource.NewStringProperty(prefix + hex.EncodeToString(b)),
		"dec":    resource.NewStringProperty(prefix + new(big.Int).SetBytes(b).String()),
	}
}

// importID: "b64url" or "prefix,b64url" (split at the last comma), as upstream.
func (k idKind) importID(id string) (string, resource.PropertyMap, resource.PropertyMap, error) {
	prefix, enc := "", id
	if i := strings.LastIndex(id, ","); i >= 0 {
		prefix, enc = id[:i], id[i+1:]
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", nil, nil, fmt.Errorf("while attempting to import a random id there was a decoding error "+
			"(expected base64url without padding, optionally prefixed by 'prefix,'): %w", err)
	}
	if len(b) == 0 {
		return "", nil, nil, errors.New("the import ID of a RandomId must encode at least one byte")
	}
	inputs := resource.PropertyMap{"byteLength": resource.NewNumberProperty(float64(len(b)))}
	if prefix != "" {
		inputs["prefix"] = resource.NewStringProperty(prefix)
	}
	newID, outputs, err := state(k, inputs, idOutputs(b, prefix))
	return newID, inputs, outputs, err
}

// ---------------------------------------------------------------------------------------------------------------
// RandomBytes: secret base64 and hex. The ID is the base64 value, as the official provider's (official.go): the
// secret is then also in the state's plain-text ID, as with the official plugin.

type bytesKind struct{}

func (bytesKind) inputs() []string   { return []string{"keepers", "length"} }
func (bytesKind) computed() []string { return []string{"base64", "hex"} }

func (bytesKind) official() officialShape { return officialShape{} }

func (bytesKind) stateID(outputs resource.PropertyMap) (string, error) {
	return plainString(outputs, "base64")
}

func (k bytesKind) checkParams(news resource.PropertyMap) (resource.PropertyMap, int64, bool,
	[]*pulumirpc.CheckFailure,
) {
	c := newChecker(news, k.inputs())
	n, nOK := c.intField("length", true, nil, 1)
	c.keepersField()
	return c.out, n, nOK && len(c.failures) == 0, c.failures
}

func (k bytesKind) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out, _, _, failures := k.checkParams(news)
	return out, failures
}

func (k bytesKind) create(inputs resource.PropertyMap) (string, resource.PropertyMap, error) {
	checked, n, ok, failures := k.checkParams(inputs)
	if err := creatable(ok, failures); err != nil {
		return "", nil, err
	}
	b, err := randomBytes(n)
	if err != nil {
		return "", nil, err
	}
	return state(k, checked, bytesOutputs(b))
}

func bytesOutputs(b []byte) map[string]resource.PropertyValue {
	return map[string]resource.PropertyValue{
		"base64": resource.MakeSecret(resource.NewStringProperty(base64.StdEncoding.EncodeToString(b))),
		"hex":    resource.MakeSecret(resource.NewStringProperty(hex.EncodeToString(b))),
	}
}

// importID: the ID is the value in standard base64, as upstream.
func (k bytesKind) importID(id string) (string, resource.PropertyMap, resource.PropertyMap, error) {
	b, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		return "", nil, nil, fmt.Errorf("there was an error during the parsing of the base64 string: %w", err)
	}
	if len(b) == 0 {
		return "", nil, nil, errors.New("the import ID of a RandomBytes must encode at least one byte")
	}
	inputs := resource.PropertyMap{"length": resource.NewNumberProperty(float64(len(b)))}
	newID, outputs, err := state(k, inputs, bytesOutputs(b))
	return newID, inputs, outputs, err
}
