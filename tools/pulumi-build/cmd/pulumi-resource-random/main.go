// Command pulumi-resource-random is a small, self-written resource provider for the `random` package, serving the
// @pulumi/random SDK (tokens random:index/...).
//
// Why it exists: the official provider (module github.com/pulumi/pulumi-random/provider/v4) is not served by the Go
// module proxy this project can reach at any version, so it cannot be built here. This provider speaks the
// ResourceProvider gRPC protocol of github.com/pulumi/pulumi/sdk/v3 directly and implements, with upstream's tokens,
// property names, defaults, secret marking, replace-on-change semantics and import IDs:
//
//	random:index/randomPassword:RandomPassword
//	random:index/randomString:RandomString
//	random:index/randomId:RandomId
//	random:index/randomBytes:RandomBytes
//
// The state it writes has the official plugin's shape (official.go), so that the official plugin reads it as its own
// (tools/pulumi-build/official-random checks it against the official code).
//
// Not implemented (see tools/README.md): RandomInteger, RandomPet, RandomShuffle, RandomUuid, RandomUuid4,
// RandomUuid7, the provider method terraformConfig, state upgrades of very old upstream schema versions.
//
// The engine starts it with its own address as the only argument and reads the port from our first line of stdout.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// version is set with -ldflags "-X main.version=..." to the @pulumi/random version this provider serves.
var version = "0.0.0-dev"

func main() {
	var engineAddress string
	for _, a := range os.Args[1:] {
		// The engine passes its address last; flags such as --logtostderr or -v=N may come first.
		if len(a) > 0 && a[0] != '-' {
			engineAddress = a
		}
	}

	prov := newProvider(version)
	prov.setEngine(engineAddress)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, prov)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-random: could not start RPC server: %v\n", err)
		os.Exit(1)
	}
	// The plugin host reads the port from our first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-random: RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}
