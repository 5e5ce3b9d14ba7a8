package main

// The state shape of the official provider. `@pulumi/random` 4.21.2 asks for plugin `random` 4.21.2, and a machine
// that can download plugins gets the official one for that version (pulumi-random: pulumi-terraform-bridge's Plugin
// Framework bridge wrapping terraform-provider-random). State written here must therefore mean to the official
// plugin exactly what its own state means. Sources: terraform-provider-random f8d869dc98d9 (the commit that
// pulumi-random 4.21.x's provider/shim/go.mod pins), pulumi-terraform-bridge v3.137.0, and state the official
// plugin recorded (pulumi-random provider/testdata/recorded/TestProviderUpgrade/index_<kind>/4.16.0/stack.json).
//
//   - `id` is an output of every kind whose Terraform schema has an `id` attribute, equal to the resource ID:
//     random_password ("none": resource_password.go 742-748, ImportState 114-118), random_string (the result,
//     resource_string.go 528) and random_id (base64url of the bytes without the prefix, resource_id.go 115-121).
//     random_bytes has no `id` attribute (its model, resource_bytes.go 126-131): its ID is the value in standard
//     base64, set by pulumi-random's ComputeID for random_bytes (provider/resources.go, computeRandomBytesID; the
//     bridge takes the ID from it, or else from the `id` attribute: pkg/pf/tfbridge/ids.go 27-56, used by Read at
//     provider_read.go 192).
//   - `__meta` holds the Terraform schema version when it is not 0, as the JSON {"schema_version":"<n>"} (bridge
//     pkg/pf/tfbridge/resource_state.go 153-180, updateMeta): 3 for random_password (resource_password.go 557-559),
//     2 for random_string (resource_string.go 356-358); random_bytes is at version 0 (resource_bytes.go 133-135)
//     and random_id's schema sets none, so neither gets `__meta`. Without it the bridge takes version 0
//     (resource_state.go 106-148, parseMeta), rebuilds the Terraform state from the outputs (259-272) and runs
//     terraform-provider-random's upgrader from version 0, which hashes the password again (resource_password.go
//     148-278) and, without an `id` output, leaves the ID as the text of a null value on refresh.
//   - "" is a value (props.go stringField): override_special going from null to "" replaces the resource, from ""
//     to null updates it in place (resource_password.go 708-720, resource_string.go the same;
//     internal/planmodifiers/string RequiresReplaceUnlessEmptyStringToNull); prefix replaces either way
//     (resource_id.go 77-84).
//
// Not written: the bridge's `__pulumi_raw_state_delta` output (resource_state.go 182-200), which newer official
// plugins add so that they can rebuild the exact Terraform state. Without it they take the path that state from
// before that feature takes (resource_state.go 259-272); tools/pulumi-build/official-random runs that path on the
// state written here. In state the official plugin wrote, Update drops it, as it no longer matches.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// officialShape is what the official provider's state holds for one kind besides the inputs and the values.
type officialShape struct {
	// schemaVersion is the Terraform schema version, written into `__meta` when it is not 0.
	schemaVersion int
	// idOutput says that the Terraform schema has an `id` attribute: `id` is an output equal to the resource ID.
	idOutput bool
}

const (
	metaKey resource.PropertyKey = "__meta"
	// rawStateDeltaKey is the bridge's record of the exact Terraform state (resource_state.go 182-200).
	rawStateDeltaKey resource.PropertyKey = "__pulumi_raw_state_delta"
)

// withOfficialShape returns the resource ID for outputs and the outputs with `id` and `__meta` as the official
// provider writes them (other members of an existing `__meta`, e.g. the bridge's private_state, are kept).
func withOfficialShape(k kind, outputs resource.PropertyMap) (string, resource.PropertyMap, error) {
	id, err := k.stateID(outputs)
	if err != nil {
		return "", nil, err
	}
	shape := k.official()
	out := outputs.Copy()
	if shape.idOutput {
		out["id"] = resource.NewStringProperty(id)
	} else {
		delete(out, "id")
	}
	meta := map[string]any{}
	if old, ok := out[metaKey]; ok && old.IsString() && old.StringValue() != "" {
		if err := json.Unmarshal([]byte(old.StringValue()), &meta); err != nil {
			return "", nil, fmt.Errorf("the state's __meta %q is not a JSON object: %w", old.StringValue(), err)
		}
	}
	if shape.schemaVersion != 0 {
		meta["schema_version"] = strconv.Itoa(shape.schemaVersion)
	}
	if len(meta) == 0 {
		delete(out, metaKey)
		return id, out, nil
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return "", nil, err
	}
	out[metaKey] = resource.NewStringProperty(string(b))
	return id, out, nil
}

// isEarlierState says whether outputs were written by this provider's earlier build, which wrote neither `id` nor
// `__meta` and stored "" inputs as absent (a kind with an `id` output has none). RandomBytes has no such input.
func isEarlierState(k kind, outputs resource.PropertyMap) bool {
	return k.official().idOutput && !outputs.HasValue("id")
}

// isEmptyString reports whether v is the string "" (secret or not).
func isEmptyString(v resource.PropertyValue) bool {
	p, _ := plain(v)
	return p.IsString() && p.StringValue() == ""
}

// plainString returns the string output key of outputs, without its secret marker.
func plainString(outputs resource.PropertyMap, key resource.PropertyKey) (string, error) {
	p, _ := plain(outputs[key])
	if !p.IsString() {
		return "", errors.New("the state has no string " + string(key))
	}
	return p.StringValue(), nil
}
