#!/usr/bin/env bash
# gofmt, go vet and go test for our pulumi-language-nodejs, the way tools/build-toolchain.sh builds it: in a scratch
# copy of tools/pulumi-build (the repo keeps no go.sum), with the Pulumi modules pinned to PULUMI_VERSION from
# tools/versions.env, GOTOOLCHAIN=local, CGO_ENABLED=0, GOFLAGS=-mod=mod, GONOSUMDB=github.com/pulumi. Needs only
# the Go module proxy (and is offline once the module cache is warm, e.g. after `npm run setup`).
#
#   bash tools/pulumi-build/cmd/pulumi-language-nodejs/test.sh [go test flags, e.g. -v -run TestWarmNode]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BUILD="$(cd "$HERE/../.." && pwd -P)"
VERSIONS_FILE="$(cd "$BUILD/.." && pwd -P)/versions.env"
PULUMI_VERSION="$(sed -n 's/^PULUMI_VERSION=//p' "$VERSIONS_FILE")"
[ -n "$PULUMI_VERSION" ] || { echo "test.sh: no PULUMI_VERSION in $VERSIONS_FILE" >&2; exit 1; }

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
case ",${GONOSUMDB:-}," in
  *,github.com/pulumi,*) ;;
  *) export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi" ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-language-nodejs-test.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cp -R "$BUILD" "$tmp/src"
chmod -R u+w "$tmp/src"
rm -f "$tmp/src/go.sum"
cd "$tmp/src"
go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
            -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"

pkg=./cmd/pulumi-language-nodejs
unformatted="$(gofmt -l cmd/pulumi-language-nodejs)"
if [ -n "$unformatted" ]; then
  echo "test.sh: not gofmt-ed: $unformatted" >&2
  exit 1
fi
go vet "$pkg"
go test -count=1 "$@" "$pkg"
