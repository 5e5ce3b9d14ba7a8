// Package licodecheck runs the official random provider's code path in-process, for tests that feed it the state
// tools/pulumi-build/cmd/pulumi-resource-random writes.
//
// The official plugin `random` 4.21.2 is pulumi-random's provider: pulumi-terraform-bridge's Plugin Framework bridge
// (pkg/pf/tfbridge) wrapping terraform-provider-random's provider. Its own Go module
// (github.com/pulumi/pulumi-random/provider/v4) is not served by the Go module proxy (tools/README.md), but both
// parts are, so this package assembles the same thing:
//
//   - terraform-provider-random at f8d869dc98d9 (v1.3.2-0.20260513075824-f8d869dc98d9), the commit that
//     pulumi-random v4.21.0 and v4.21.1 pin in provider/shim/go.mod, as does its main branch at f64d8726
//     (2026-08-14). pulumi-random's shim module does nothing but return internal/provider.New().
//   - pulumi-terraform-bridge v3.137.0, the version pulumi-random's provider/go.mod has at f64d8726 ("Upgrade
//     pulumi-terraform-bridge to v3.137.0 (#2145)", its newest commit this project could read; v4.21.1 had
//     v3.135.0). v4.21.2 (tag commit 48ee6c47, 2026-09-17, per the proxy's record of
//     github.com/pulumi/pulumi-random@v4.21.2+incompatible) could not be read: whether it moved to a newer bridge is
//     unverified. v3.137.0 is also the newest bridge version the proxy serves (v3.138.0 is refused).
//   - the provider settings from pulumi-random's provider/resources.go (f64d8726), lines cited where they are set
//     below. Those that only shape the schema or the SDKs (docs, language settings, auto-aliases) are left out:
//     they do not touch Check, Diff, Create, Read or Update.
package licodecheck

import (
	"context"
	"errors"
	"fmt"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// Version is the plugin version that @pulumi/random 4.21.2 asks for, and that ours reports.
const Version = "4.21.2"

// Info is the bridge's description of the official provider.
func Info() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		// resources.go 49: the Plugin Framework provider, through the shim (shim.go returns provider.New()).
		P:       pfbridge.ShimProvider(provider.New()),
		Name:    "random",
		Version: Version,
		// resources.go 57 embeds bridge-metadata.json, which holds auto-alias history only; the bridge requires
		// the field to be set.
		MetadataInfo: tfbridge.NewProviderMetadata(nil),
		Resources: map[string]*tfbridge.ResourceInfo{
			// resources.go 64-76: state of random_string with no schema version is taken as version 1.
			"random_string": {PreStateUpgradeHook: func(args tfbridge.PreStateUpgradeHookArgs) (int64,
				resource.PropertyMap, error,
			) {
				if args.PriorStateSchemaVersion == 0 {
					return 1, args.PriorState, nil
				}
				return args.PriorStateSchemaVersion, args.PriorState, nil
			}},
			// resources.go 78-80 and 129-145: random_bytes has no `id` attribute; its ID is the base64 value.
			"random_bytes": {ComputeID: bytesID},
		},
		// resources.go 115-116.
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	// resources.go 119-123: random_<name> becomes random:index/random<Name>:Random<Name>.
	info.MustComputeTokens(tokens.SingleModule("random_", "index", func(module, name string) (string, error) {
		return tokens.MakeStandard("random")(module, "Random"+name)
	}))
	return info
}

// bytesID is RandomBytes' ID: the base64 output, without its secret marker.
func bytesID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes state has no base64")
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", fmt.Errorf("random_bytes base64 is %s, not a string", v.TypeString())
	}
	return resource.ID(v.StringValue()), nil
}

// Logf receives the bridge's log lines.
type Logf func(format string, args ...any)

// sink passes the bridge's diagnostics to a Logf (the methods of the bridge's logging sink).
type sink struct{ logf Logf }

func (s sink) Log(_ context.Context, sev diag.Severity, urn resource.URN, msg string) error {
	s.logf("[official %s] %s: %s", sev, urn, msg)
	return nil
}

func (s sink) LogStatus(_ context.Context, sev diag.Severity, urn resource.URN, msg string) error {
	s.logf("[official status %s] %s: %s", sev, urn, msg)
	return nil
}

// NewServer returns the official provider's gRPC service, as pfbridge.Main serves it (pkg/pf/tfbridge/serve.go
// 26-29 calls NewProviderServer), configured as the engine configures it: secrets accepted.
func NewServer(ctx context.Context, logf Logf) (pulumirpc.ResourceProviderServer, error) {
	// The package schema is only returned by GetSchema (pkg/pf/tfbridge/provider.go 186-190, 297-300).
	srv, err := pfbridge.NewProviderServer(ctx, sink{logf}, Info(),
		pfbridge.ProviderMetadata{PackageSchema: []byte(`{"name":"random"}`)})
	if err != nil {
		return nil, err
	}
	if _, err := srv.Configure(ctx, &pulumirpc.ConfigureRequest{
		AcceptSecrets: true, AcceptResources: true, Args: nil,
	}); err != nil {
		return nil, fmt.Errorf("configure: %w", err)
	}
	return srv, nil
}
