#!/usr/bin/env bash
# `npm run lint:workflows`: checks .github/workflows with actionlint, built from its Go module and
# cached under ${LICODE_CACHE:-~/.cache/licode-k8s}/actionlint-<version> (seconds when warm).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VERSION=v1.7.12
CACHE="${LICODE_CACHE:-$HOME/.cache/licode-k8s}"
BIN="$CACHE/actionlint-$VERSION/actionlint"

if [ ! -x "$BIN" ]; then
  echo "[actionlint] building github.com/rhysd/actionlint@$VERSION (once)" >&2
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/.actionlint.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off GOBIN="$tmp" \
    go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
  mkdir -p "$(dirname "$BIN")"
  mv "$tmp/actionlint" "$BIN"
fi

cd "$ROOT"
# -shellcheck= and -pyflakes= : check the workflows themselves, without tools this machine may lack.
"$BIN" -shellcheck= -pyflakes= "$@"
echo "[actionlint] .github/workflows: no problems" >&2
