// Wrapper module used by tools/build-toolchain.sh to build the Pulumi CLI (from the
// github.com/pulumi/pulumi/pkg/v3 module) and our own pulumi-language-nodejs host.
// The script rewrites the pulumi requirements to the versions in tools/versions.env;
// no go.sum is kept in the repo (the build runs in a scratch copy with GOFLAGS=-mod=mod).
module licode.local/pulumi-build

go 1.25.11

require (
	github.com/pulumi/pulumi/pkg/v3 v3.248.0
	github.com/pulumi/pulumi/sdk/v3 v3.248.0
)

// Copied from pkg/go.mod at v3.248.0 (its only non-local replace).
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
