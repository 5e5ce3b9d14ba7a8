#!/usr/bin/env bash
# Checks that the official random plugin reads the state our pulumi-resource-random writes as its own
# (official_test.go): builds our provider the way tools/build-toolchain.sh does (../build-random.sh), writes the
# states the migration writes (tools/migrate-random/sample.ts), then runs gofmt, go vet and go test in this module,
# which assembles the official provider from pulumi-terraform-bridge and terraform-provider-random (official.go;
# go.mod and go.sum pin every module). Needs the Go module proxy until the module cache is warm, and node_modules (npm run setup).
#
#   bash tools/pulumi-build/official-random/test.sh [go test flags, e.g. -v -run TestDiffs]
#
# Environment:
#   LICODE_RANDOM_PROVIDER   check this pulumi-resource-random binary instead of building one (e.g. an earlier build)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BUILD="$(dirname "$HERE")"
ROOT="$(cd "$BUILD/../.." && pwd -P)"
[ -d "$ROOT/node_modules/ts-node" ] || { echo "official-random/test.sh: no node_modules. Run: npm run setup" >&2; exit 1; }

export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
case ",${GONOSUMDB:-}," in
  *,github.com/pulumi,*) ;;
  *) export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi" ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/official-random-test.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT

if [ -z "${LICODE_RANDOM_PROVIDER:-}" ]; then
  bash "$BUILD/build-random.sh" "$tmp/pulumi-resource-random"
  export LICODE_RANDOM_PROVIDER="$tmp/pulumi-resource-random"
fi
[ -x "$LICODE_RANDOM_PROVIDER" ] || { echo "official-random/test.sh: $LICODE_RANDOM_PROVIDER is not executable" >&2; exit 1; }

(cd "$ROOT" && npx --no-install ts-node --transpile-only tools/migrate-random/sample.ts) >"$tmp/migrated.json"
export LICODE_RANDOM_MIGRATED="$tmp/migrated.json"

cd "$HERE"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "official-random/test.sh: not gofmt-ed: $unformatted" >&2
  exit 1
fi
export GOFLAGS=-mod=readonly
go vet .
go test -count=1 "$@" .
