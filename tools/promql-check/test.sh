#!/usr/bin/env bash
# gofmt, go vet and go test for the PromQL checker (tools/promql-check), with the pinned go.sum and
# the local Go toolchain. Needs only the Go module proxy (offline once the module cache is warm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "promql-check: not gofmt-formatted: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -count=1 ./...
