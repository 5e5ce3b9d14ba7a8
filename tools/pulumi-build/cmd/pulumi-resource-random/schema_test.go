package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The schema GetSchema returns binds with Pulumi's own schema package (the code `pulumi import` and SDK generation
// use), validated against the package metaschema.
func TestSchemaBindsWithPulumiCodegen(t *testing.T) {
	resp, err := newProvider(testVersion).GetSchema(ctx, &pulumirpc.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(resp.GetSchema()), &spec); err != nil {
		t.Fatal(err)
	}
	pkg, diags, err := schema.BindSpec(spec, noLoader{}, schema.ValidationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Fatalf("schema does not bind: %v", diags)
	}
	if pkg.Name != "random" || pkg.Version == nil || pkg.Version.String() != testVersion {
		t.Fatalf("bound package: name=%q version=%v", pkg.Name, pkg.Version)
	}
	for token := range kinds {
		r, ok := pkg.GetResource(token)
		if !ok {
			t.Fatalf("bound schema lacks %s", token)
		}
		for _, p := range r.InputProperties {
			if p.DeprecationMessage != "" && p.Name != "number" {
				t.Fatalf("%s: unexpected deprecated input %s", token, p.Name)
			}
		}
	}
}

// noLoader: the random schema references no other package.
type noLoader struct{}

func (noLoader) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, errors.New("unexpected reference to package " + pkg)
}

func (noLoader) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errors.New("unexpected reference to package " + d.Name)
}
