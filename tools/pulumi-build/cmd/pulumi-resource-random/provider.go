package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// schemaJSON is the subset of upstream's provider/cmd/pulumi-resource-random/schema.json (pulumi-random v4.21.x)
// for the resources implemented here (no functions, no provider methods).
//
//go:embed schema.json
var schemaJSON []byte

type randomProvider struct {
	pulumirpc.UnimplementedResourceProviderServer

	version string

	mu            sync.Mutex
	engineAddress string
}

func newProvider(version string) *randomProvider {
	return &randomProvider{version: version}
}

func (p *randomProvider) setEngine(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if addr != "" {
		p.engineAddress = addr
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Property (un)marshalling: secrets and unknowns are kept both ways; resource references are not used here.

func unmarshal(s *structpb.Struct, label string) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{
		Label:        label,
		KeepUnknowns: true,
		KeepSecrets:  true,
	})
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s: %v", label, err)
	}
	return m, nil
}

func marshal(m resource.PropertyMap, label string) (*structpb.Struct, error) {
	s, err := plugin.MarshalProperties(m, plugin.MarshalOptions{
		Label:        label,
		KeepUnknowns: true,
		KeepSecrets:  true,
	})
	if err != nil {
		return nil, status.Errorf(codes.Internal, "%s: %v", label, err)
	}
	return s, nil
}

func lookup(typ, urn string) (kind, error) {
	if typ == "" {
		if u, err := resource.ParseURN(urn); err == nil {
			typ = string(u.Type())
		}
	}
	k, ok := kinds[typ]
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument,
			"unknown resource type %q: this pulumi-resource-random implements only %s (see tools/README.md)",
			typ, implementedTokens())
	}
	return k, nil
}

func implementedTokens() string {
	tokens := make([]string, 0, len(kinds))
	for t := range kinds {
		tokens = append(tokens, t)
	}
	sort.Strings(tokens)
	return fmt.Sprint(tokens)
}

// ---------------------------------------------------------------------------------------------------------------
// Plugin-level calls.

func (p *randomProvider) Handshake(_ context.Context, req *pulumirpc.ProviderHandshakeRequest,
) (*pulumirpc.ProviderHandshakeResponse, error) {
	p.setEngine(req.GetEngineAddress())
	// With a handshake the engine takes the protocol flags from here (not from Configure): without AcceptSecrets it
	// would strip secret markers from everything it sends and receives.
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *randomProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.version}, nil
}

func (p *randomProvider) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	p.setEngine(req.GetAddress())
	return &emptypb.Empty{}, nil
}

func (p *randomProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	// Every operation is local and short: nothing to cancel.
	return &emptypb.Empty{}, nil
}

func (p *randomProvider) GetSchema(_ context.Context, req *pulumirpc.GetSchemaRequest,
) (*pulumirpc.GetSchemaResponse, error) {
	if req.GetSubpackageName() != "" {
		return nil, status.Errorf(codes.InvalidArgument, "random has no subpackage %q", req.GetSubpackageName())
	}
	var spec map[string]any
	if err := json.Unmarshal(schemaJSON, &spec); err != nil {
		return nil, status.Errorf(codes.Internal, "embedded schema: %v", err)
	}
	spec["version"] = p.version
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "embedded schema: %v", err)
	}
	return &pulumirpc.GetSchemaResponse{Schema: string(b)}, nil
}

// GetMapping(s): no Terraform mappings (`pulumi convert` from Terraform is not supported).
func (p *randomProvider) GetMapping(context.Context, *pulumirpc.GetMappingRequest,
) (*pulumirpc.GetMappingResponse, error) {
	return &pulumirpc.GetMappingResponse{}, nil
}

func (p *randomProvider) GetMappings(context.Context, *pulumirpc.GetMappingsRequest,
) (*pulumirpc.GetMappingsResponse, error) {
	return &pulumirpc.GetMappingsResponse{}, nil
}

// ---------------------------------------------------------------------------------------------------------------
// Provider configuration: the random provider has none.

func (p *randomProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest,
) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *randomProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *randomProvider) Configure(context.Context, *pulumirpc.ConfigureRequest,
) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

// ---------------------------------------------------------------------------------------------------------------
// Resource lifecycle.

func (p *randomProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	k, err := lookup(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "check.news")
	if err != nil {
		return nil, err
	}
	checked, failures := k.check(news)
	inputs, err := marshal(checked, "check.inputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

// Diff: every input forces a replacement (upstream marks them all RequiresReplace), except overrideSpecial going
// from "" to none, which upstream updates in place (official.go). Both sides are normalised first, so defaults
// written out or left implicit (e.g. state from the upstream provider) and an empty vs no keepers map are not
// changes. Values are compared without their secret markers.
func (p *randomProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	k, err := lookup(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOldInputs(), "diff.oldInputs")
	if err != nil {
		return nil, err
	}
	oldState, err := unmarshal(req.GetOlds(), "diff.olds")
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		// No old inputs recorded: the inputs are echoed in the outputs.
		olds = oldState
	}
	news, err := unmarshal(req.GetNews(), "diff.news")
	if err != nil {
		return nil, err
	}
	return diffInputs(k, olds, news, req.GetIgnoreChanges(), isEarlierState(k, oldState)), nil
}

// diffInputs compares normalised inputs. earlier says that the old state comes from this provider's earlier build,
// which stored "" as no value: there, no value against "" is no change, so that an upgrade replaces nothing.
func diffInputs(k kind, olds, news resource.PropertyMap, ignore []string, earlier bool) *pulumirpc.DiffResponse {
	ignored := map[string]bool{}
	for _, i := range ignore {
		ignored[i] = true
	}
	oldN, _ := k.check(olds)
	newN, _ := k.check(news)
	var changed, replaces []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, key := range k.inputs() {
		if ignored[key] {
			continue
		}
		o, hasOld := oldN[resource.PropertyKey(key)]
		n, hasNew := newN[resource.PropertyKey(key)]
		switch {
		case !hasOld && !hasNew:
			continue
		case hasOld && hasNew && !isUnknown(n) && deepPlain(o).DeepEquals(deepPlain(n)):
			continue
		case earlier && !hasOld && isEmptyString(n):
			continue
		}
		changed = append(changed, key)
		if key == "overrideSpecial" && !hasNew && isEmptyString(o) {
			// RequiresReplaceUnlessEmptyStringToNull (official.go): an update in place.
			detailed[key] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_DELETE, InputDiff: true}
			continue
		}
		replaces = append(replaces, key)
		kindOfDiff := pulumirpc.PropertyDiff_UPDATE_REPLACE
		if !hasOld {
			kindOfDiff = pulumirpc.PropertyDiff_ADD_REPLACE
		} else if !hasNew {
			kindOfDiff = pulumirpc.PropertyDiff_DELETE_REPLACE
		}
		detailed[key] = &pulumirpc.PropertyDiff{Kind: kindOfDiff, InputDiff: true}
	}
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true}
	}
	return &pulumirpc.DiffResponse{
		Changes:             pulumirpc.DiffResponse_DIFF_SOME,
		Replaces:            replaces,
		Diffs:               changed,
		DetailedDiff:        detailed,
		HasDetailedDiff:     true,
		DeleteBeforeReplace: false,
	}
}

func (p *randomProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	k, err := lookup(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	props, err := unmarshal(req.GetProperties(), "create.properties")
	if err != nil {
		return nil, err
	}
	checked, failures := k.check(props)
	if len(failures) > 0 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid inputs: %v", failuresError(failures))
	}
	if req.GetPreview() || checked.ContainsUnknowns() {
		if !req.GetPreview() {
			return nil, status.Error(codes.InvalidArgument, "create: inputs contain unknown values outside a preview")
		}
		outs := map[string]resource.PropertyValue{}
		for _, c := range k.computed() {
			outs[c] = resource.MakeComputed(resource.NewStringProperty(""))
		}
		s, err := marshal(withOutputs(checked, outs), "create.preview")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.CreateResponse{Properties: s}, nil
	}
	id, outputs, err := k.create(checked)
	if err != nil {
		return nil, status.Errorf(codes.Unknown, "creating %s: %v", req.GetUrn(), err)
	}
	s, err := marshal(outputs, "create.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: s}, nil
}

// Read keeps every stored value (refresh never regenerates one) and writes the state in the official shape
// (official.go): state from this provider's earlier build gets `id` and `__meta`, and RandomBytes its base64 ID.
// With no state (`pulumi import`, or the `import` resource option) it builds the state from the ID the way
// upstream documents per resource.
func (p *randomProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	k, err := lookup(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	if len(req.GetProperties().GetFields()) > 0 {
		props, err := unmarshal(req.GetProperties(), "read.properties")
		if err != nil {
			return nil, err
		}
		inputs := req.GetInputs()
		recorded, err := unmarshal(inputs, "read.inputs")
		if err != nil {
			return nil, err
		}
		if len(recorded) == 0 {
			// Old state without recorded inputs: they are echoed in the outputs.
			for _, key := range k.inputs() {
				if v, ok := props[resource.PropertyKey(key)]; ok {
					recorded[resource.PropertyKey(key)] = v
				}
			}
			if inputs, err = marshal(recorded, "read.inputs"); err != nil {
				return nil, err
			}
		}
		if isEarlierState(k, props) {
			// The earlier build did not echo a "" input into the outputs; the recorded inputs hold it once an up
			// with this build has recorded them.
			for _, name := range k.inputs() {
				key := resource.PropertyKey(name)
				if v, ok := recorded[key]; ok && isEmptyString(v) && !props.HasValue(key) {
					props[key] = v
				}
			}
		}
		id, outputs, err := withOfficialShape(k, props)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "reading %s: %v", req.GetUrn(), err)
		}
		so, err := marshal(outputs, "read.outputs")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.ReadResponse{Id: id, Properties: so, Inputs: inputs}, nil
	}
	id, inputs, outputs, err := k.importID(req.GetId())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "importing %s: %v", req.GetUrn(), err)
	}
	si, err := marshal(inputs, "read.inputs")
	if err != nil {
		return nil, err
	}
	so, err := marshal(outputs, "read.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: id, Properties: so, Inputs: si}, nil
}

// Update is only reached when Diff reports no replacement, i.e. when nothing that matters changed (or overrideSpecial
// went from "" to none): the new inputs are recorded, the generated values kept, and the state written in the
// official shape.
func (p *randomProvider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	k, err := lookup(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "update.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "update.news")
	if err != nil {
		return nil, err
	}
	checked, failures := k.check(news)
	if len(failures) > 0 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid inputs: %v", failuresError(failures))
	}
	out := olds.Copy()
	for _, key := range k.inputs() {
		delete(out, resource.PropertyKey(key))
	}
	for key, v := range checked {
		out[key] = v
	}
	// State the official plugin wrote may carry the bridge's record of the exact Terraform state; it no longer
	// matches the new inputs, and without it the official plugin reads the outputs themselves (official.go).
	delete(out, rawStateDeltaKey)
	_, out, err = withOfficialShape(k, out)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "updating %s: %v", req.GetUrn(), err)
	}
	s, err := marshal(out, "update.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: s}, nil
}

func (p *randomProvider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if _, err := lookup(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	// The values live only in the state, which the engine drops.
	return &emptypb.Empty{}, nil
}
