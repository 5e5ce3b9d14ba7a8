//go:build tools

// Package tools pins the Pulumi CLI main package into this module's build list.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
