#!/usr/bin/env bash
# Builds our pulumi-resource-random from a tools/pulumi-build tree into OUT, the way tools/build-toolchain.sh builds
# it: in a scratch copy of the tree (no go.sum is kept), the Pulumi modules pinned to PULUMI_VERSION and the version
# stamped from RANDOM_VERSION of the tools/versions.env beside the tree, GOTOOLCHAIN=local, CGO_ENABLED=0. Used by
# tools/pulumi-build/official-random/test.sh (this tree) and test/e2e/random-upgrade.spec.ts (an earlier commit's
# tree, from `git archive`). The toolchain cache is not touched.
#
#   bash tools/pulumi-build/build-random.sh [--src DIR] OUT
#     --src DIR   the tools/pulumi-build tree to build (default: the one holding this script); DIR/../versions.env
#                 must exist
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --src) src="${2:?--src needs a directory}"; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build-random.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) out="$1" ;;
  esac
  shift
done
[ -n "$out" ] || { echo "build-random.sh: usage: build-random.sh [--src DIR] OUT (see --help)" >&2; exit 2; }
[ -d "$src/cmd/pulumi-resource-random" ] || { echo "build-random.sh: $src has no cmd/pulumi-resource-random" >&2; exit 1; }
versions="$src/../versions.env"
[ -f "$versions" ] || { echo "build-random.sh: no $versions beside the tree $src" >&2; exit 1; }
PULUMI_VERSION="$(sed -n 's/^PULUMI_VERSION=//p' "$versions")"
RANDOM_VERSION="$(sed -n 's/^RANDOM_VERSION=//p' "$versions")"
[ -n "$PULUMI_VERSION" ] && [ -n "$RANDOM_VERSION" ] ||
  { echo "build-random.sh: PULUMI_VERSION or RANDOM_VERSION missing in $versions" >&2; exit 1; }

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
case ",${GONOSUMDB:-}," in
  *,github.com/pulumi,*) ;;
  *) export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi" ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/build-random.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cp -R "$src" "$tmp/src"
chmod -R u+w "$tmp/src"
rm -rf "$tmp/src/go.sum" "$tmp/src/official-random"
mkdir -p "$(dirname "$out")"
cd "$tmp/src"
go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
            -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
go build -trimpath -ldflags "-s -w -X main.version=$RANDOM_VERSION" -o "$tmp/pulumi-resource-random" \
  ./cmd/pulumi-resource-random
mv -f "$tmp/pulumi-resource-random" "$out"
