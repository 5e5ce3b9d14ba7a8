#!/usr/bin/env bash
# gofmt, go vet and go test for one of our plugins in cmd/ (pulumi-language-nodejs, pulumi-resource-random),
# the way tools/build-toolchain.sh builds them: in a scratch copy of tools/pulumi-build (the repo keeps no
# go.sum), with the Pulumi modules pinned to PULUMI_VERSION from tools/versions.env, GOTOOLCHAIN=local,
# CGO_ENABLED=0, GOFLAGS=-mod=mod, GONOSUMDB=github.com/pulumi. Needs only the Go module proxy (and is offline
# once the module cache is warm, e.g. after `npm run setup`).
#
#   bash tools/pulumi-build/test.sh <command> [go test flags, e.g. -v -run TestDiff]
set -euo pipefail

BUILD="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
cmd="${1:-}"
if [ -z "$cmd" ] || [ ! -d "$BUILD/cmd/$cmd" ]; then
  echo "usage: test.sh <command> [go test flags]; commands: $(ls "$BUILD/cmd" | tr '\n' ' ')" >&2
  exit 2
fi
shift
VERSIONS_FILE="$(cd "$BUILD/.." && pwd -P)/versions.env"
PULUMI_VERSION="$(sed -n 's/^PULUMI_VERSION=//p' "$VERSIONS_FILE")"
[ -n "$PULUMI_VERSION" ] || { echo "test.sh: no PULUMI_VERSION in $VERSIONS_FILE" >&2; exit 1; }

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
case ",${GONOSUMDB:-}," in
  *,github.com/pulumi,*) ;;
  *) export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi" ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/$cmd-test.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cp -R "$BUILD" "$tmp/src"
chmod -R u+w "$tmp/src"
rm -f "$tmp/src/go.sum"
cd "$tmp/src"
go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
            -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"

unformatted="$(gofmt -l "cmd/$cmd")"
if [ -n "$unformatted" ]; then
  echo "test.sh: not gofmt-ed: $unformatted" >&2
  exit 1
fi
go vet "./cmd/$cmd"
go test -count=1 "$@" "./cmd/$cmd"
