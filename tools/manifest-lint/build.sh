#!/usr/bin/env bash
# Build (or reuse) the manifest linters and kubeconform's offline schemas, and print a bin dir on the last
# stdout line:
#
#   bin="$(tools/manifest-lint/build.sh | tail -1)"   # $bin/kube-score, $bin/kubeconform, $bin/schemas/
#
# Cached under ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/manifest-lint/, keyed by version:
#   kube-score-<v>/kube-score      go install github.com/zegl/kube-score/cmd/kube-score@v<v>
#   kubeconform-<v>/kubeconform    go install github.com/yannh/kubeconform/cmd/kubeconform@v<v>
#   schemas-<k8s>-<hash>/          JSON schemas generated from k8s.io/kubernetes@<k8s> api/openapi-spec/swagger.json
#                                  by tools/manifest-lint/openapi2jsonschema.ts (<hash>: of that converter):
#                                  <k8s>-standalone-strict/*.json and <k8s>-standalone/*.json
#   bin-<hash>/                    hard links to both binaries + `schemas` -> ../schemas-...; `bin` -> newest
# Versions come from tools/manifest-lint/versions.env. A warm run only checks the cache (well under a second).
#
# Options:
#   --force                        rebuild everything (ignore the cache)
#   --selftest KUBECONFORM SCHEMA_ROOT
#                                  only run the schema self-test (tools/manifest-lint/selftest/) with that
#                                  kubeconform against SCHEMA_ROOT (e.g. a cached schemas-* dir), and exit
#   -h, --help                     this text
# Environment:
#   LICODE_CACHE                     cache root (default $HOME/.cache/licode-k8s)
#   LICODE_MANIFEST_LINT_LOCK_TIMEOUT  seconds to wait for another build's lock (default 3600)
# All progress goes to stderr; stdout carries only the bin dir. Needs go (>= 1.26 for kubeconform 0.8), flock,
# sha256sum, and the project's node_modules (ts-node; `npm run setup`) for the schema converter.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd -P)"
VERSIONS_FILE="$SCRIPT_DIR/versions.env"

log() { printf '[manifest-lint] %s\n' "$*" >&2; }
die() { printf '[manifest-lint] ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
SELFTEST_ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --selftest)
      [ $# -ge 3 ] || die "--selftest needs two arguments: a kubeconform binary and a schema root (see --help)"
      SELFTEST_ONLY=("$2" "$3")
      shift 2
      ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

[ -f "$VERSIONS_FILE" ] || die "missing $VERSIONS_FILE"
# shellcheck source-path=SCRIPTDIR source=versions.env
. "$VERSIONS_FILE"
: "${KUBE_SCORE_VERSION:?KUBE_SCORE_VERSION must be set in $VERSIONS_FILE}"
: "${KUBECONFORM_VERSION:?KUBECONFORM_VERSION must be set in $VERSIONS_FILE}"
: "${KUBERNETES_SCHEMA_VERSION:?KUBERNETES_SCHEMA_VERSION must be set in $VERSIONS_FILE}"

# selftest KUBECONFORM SCHEMA_ROOT: the schemas accept tools/manifest-lint/selftest/valid.yaml and reject the
# unknown field, the wrong type and the unknown kind (so a too-lax or broken schema set is never cached).
selftest() {
  local kc="$1" root="$2" dir="$SCRIPT_DIR/selftest" f outp ok=1
  local loc="$root/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
  run_kc() { "$kc" -strict -summary -kubernetes-version "${KUBERNETES_SCHEMA_VERSION#v}" -schema-location "$loc" "$1" 2>&1; }
  if ! outp="$(run_kc "$dir/valid.yaml")"; then
    log "self-test: valid.yaml was rejected:"; printf '%s\n' "$outp" >&2; ok=0
  fi
  for f in "unknown-field.yaml:additional properties 'imagePullPolicyy' not allowed" \
           "wrong-type.yaml:got string, want integer" \
           "unknown-kind.yaml:could not find schema for Widget"; do
    # The output is matched in bash, not piped to `grep -q`: grep exits at its first match, and with
    # pipefail the writer's SIGPIPE (bash writes a builtin printf's output line by line) failed the check.
    if outp="$(run_kc "$dir/${f%%:*}")"; then
      log "self-test: ${f%%:*} was accepted"; ok=0
    elif [[ "$outp" != *"${f#*:}"* ]]; then
      log "self-test: ${f%%:*} was rejected, but not with '${f#*:}':"; printf '%s\n' "$outp" >&2; ok=0
    fi
  done
  [ "$ok" = 1 ] && log "self-test: valid.yaml passes; unknown field, wrong type and unknown kind are rejected"
}

if [ ${#SELFTEST_ONLY[@]} -gt 0 ]; then
  [ -x "${SELFTEST_ONLY[0]}" ] || die "--selftest: '${SELFTEST_ONLY[0]}' is not an executable kubeconform"
  [ -d "${SELFTEST_ONLY[1]}" ] || die "--selftest: '${SELFTEST_ONLY[1]}' is not a directory of schemas"
  selftest "${SELFTEST_ONLY[@]}" || die "the schemas in ${SELFTEST_ONLY[1]} fail the self-test"
  exit 0
fi

# The schemas should describe the cluster the program is tested against.
cluster_k8s="$(sed -n 's/^K8S_VERSION=//p' "$ROOT/tools/cluster/versions.env" 2>/dev/null || true)"
if [ -n "$cluster_k8s" ] && [ "$cluster_k8s" != "$KUBERNETES_SCHEMA_VERSION" ]; then
  log "WARNING: KUBERNETES_SCHEMA_VERSION=$KUBERNETES_SCHEMA_VERSION but tools/cluster/versions.env has K8S_VERSION=$cluster_k8s"
fi

for tool in go flock sha256sum node; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH"
done

CACHE_ROOT="${LICODE_CACHE:-$HOME/.cache/licode-k8s}"
CACHE="$CACHE_ROOT/manifest-lint"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"

# ---- Go environment: only the module proxy, never a newer toolchain download, static binaries. ----
# GOFLAGS is cleared: `go install pkg@version` builds the module exactly as its go.mod says (no -mod=mod).
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS=

sha12() { sha256sum | cut -c1-12; }

KS_DIR="$CACHE/kube-score-$KUBE_SCORE_VERSION"
KC_DIR="$CACHE/kubeconform-$KUBECONFORM_VERSION"
converter_hash="$(sha12 <"$SCRIPT_DIR/openapi2jsonschema.ts")"
SCHEMA_DIR="$CACHE/schemas-$KUBERNETES_SCHEMA_VERSION-$converter_hash"
BIN_DIR="$CACHE/bin-$(printf '%s\n' "$KS_DIR" "$KC_DIR" "$SCHEMA_DIR" | sha12)"

# component_ok DIR FILE...: the cached component exists and holds every listed file (executables: -x).
component_ok() {
  local dir="$1" f
  shift
  [ "$FORCE" = 0 ] || return 1
  [ -d "$dir" ] || return 1
  for f in "$@"; do [ -e "$dir/$f" ] || return 1; done
}
schemas_ok() {
  component_ok "$SCHEMA_DIR" "$KUBERNETES_SCHEMA_VERSION-standalone-strict/deployment-apps-v1.json" \
    "$KUBERNETES_SCHEMA_VERSION-standalone/deployment-apps-v1.json" SOURCE
}
all_ok() {
  component_ok "$KS_DIR" kube-score && component_ok "$KC_DIR" kubeconform && schemas_ok &&
    component_ok "$BIN_DIR" kube-score kubeconform schemas/SOURCE
}

# Fast path: everything cached, no lock needed (published directories are complete by construction).
if all_ok; then
  log "kube-score $KUBE_SCORE_VERSION, kubeconform $KUBECONFORM_VERSION, schemas $KUBERNETES_SCHEMA_VERSION: cached"
  printf '%s\n' "$BIN_DIR"
  exit 0
fi

# ---- One build at a time per cache (tools/lib/cache-build.sh: lock, scratch dirs, publish, mod_dir). ----
# shellcheck source-path=SCRIPTDIR source=../lib/cache-build.sh
. "$ROOT/tools/lib/cache-build.sh"
cache_lock "${LICODE_MANIFEST_LINT_LOCK_TIMEOUT:-3600}"

go_install() { # go_install OUTDIR PKG@VERSION LDFLAGS
  local out="$1" pkg="$2" ldflags="$3" t0
  t0=$(date +%s)
  (cd "$CACHE" && GOBIN="$out" go install -trimpath -ldflags "$ldflags" "$pkg" >&2) ||
    die "go install $pkg failed (see the Go output above)"
  log "  go install $pkg: $(($(date +%s) - t0)) s"
}

# ---- 1. kube-score ----
if component_ok "$KS_DIR" kube-score; then
  log "kube-score $KUBE_SCORE_VERSION: cached"
else
  log "building kube-score $KUBE_SCORE_VERSION"
  new_tmp kube-score
  out="$NEW_TMP/out"
  mkdir -p "$out"
  go_install "$out" "github.com/zegl/kube-score/cmd/kube-score@v$KUBE_SCORE_VERSION" \
    "-s -w -X main.version=$KUBE_SCORE_VERSION -X main.commit=go-module -X main.date=v$KUBE_SCORE_VERSION"
  got="$("$out/kube-score" version)"
  case "$got" in
    "kube-score version: $KUBE_SCORE_VERSION,"*) ;;
    *) die "built kube-score reports '$got', expected version $KUBE_SCORE_VERSION" ;;
  esac
  printf 'github.com/zegl/kube-score/cmd/kube-score@v%s\n' "$KUBE_SCORE_VERSION" >"$out/SOURCE"
  publish "$out" "$KS_DIR"
  log "kube-score $KUBE_SCORE_VERSION: built"
fi

# ---- 2. kubeconform ----
if component_ok "$KC_DIR" kubeconform; then
  log "kubeconform $KUBECONFORM_VERSION: cached"
else
  log "building kubeconform $KUBECONFORM_VERSION"
  new_tmp kubeconform
  out="$NEW_TMP/out"
  mkdir -p "$out"
  go_install "$out" "github.com/yannh/kubeconform/cmd/kubeconform@v$KUBECONFORM_VERSION" \
    "-s -w -X main.version=v$KUBECONFORM_VERSION"
  got="$("$out/kubeconform" -v)"
  [ "$got" = "v$KUBECONFORM_VERSION" ] || die "built kubeconform reports '$got', expected v$KUBECONFORM_VERSION"
  printf 'github.com/yannh/kubeconform/cmd/kubeconform@v%s\n' "$KUBECONFORM_VERSION" >"$out/SOURCE"
  publish "$out" "$KC_DIR"
  log "kubeconform $KUBECONFORM_VERSION: built"
fi

# ---- 3. Offline schemas for kubeconform ----
if schemas_ok; then
  log "schemas for Kubernetes $KUBERNETES_SCHEMA_VERSION: cached"
else
  log "generating kubeconform schemas from k8s.io/kubernetes@$KUBERNETES_SCHEMA_VERSION api/openapi-spec/swagger.json"
  [ -x "$ROOT/node_modules/.bin/ts-node" ] || die "node_modules/.bin/ts-node is missing: run npm run setup"
  k8s_mod="$(mod_dir "k8s.io/kubernetes@$KUBERNETES_SCHEMA_VERSION")"
  swagger="$k8s_mod/api/openapi-spec/swagger.json"
  [ -f "$swagger" ] || die "$swagger not found"
  new_tmp schemas
  out="$NEW_TMP/out"
  mkdir -p "$out"
  (cd "$ROOT" && node_modules/.bin/ts-node --transpile-only tools/manifest-lint/openapi2jsonschema.ts \
    --swagger "$swagger" --out "$out" --kubernetes-version "$KUBERNETES_SCHEMA_VERSION") ||
    die "schema generation failed"
  selftest "$KC_DIR/kubeconform" "$out" || die "the generated schemas fail the self-test; not cached"
  {
    printf 'k8s.io/kubernetes@%s api/openapi-spec/swagger.json (sha256 %s)\n' \
      "$KUBERNETES_SCHEMA_VERSION" "$(sha256sum "$swagger" | cut -d' ' -f1)"
    printf 'converted by tools/manifest-lint/openapi2jsonschema.ts (sha256 %s)\n' "$converter_hash"
  } >"$out/SOURCE"
  publish "$out" "$SCHEMA_DIR"
  log "schemas for Kubernetes $KUBERNETES_SCHEMA_VERSION: generated ($(find "$SCHEMA_DIR/$KUBERNETES_SCHEMA_VERSION-standalone-strict" -name '*.json' | wc -l) kinds)"
fi

# ---- 4. bin dir ----
if ! component_ok "$BIN_DIR" kube-score kubeconform schemas/SOURCE; then
  new_tmp bin
  out="$NEW_TMP/bin"
  mkdir -p "$out"
  for f in "$KS_DIR/kube-score" "$KC_DIR/kubeconform"; do
    ln "$f" "$out/$(basename "$f")" 2>/dev/null || cp -p "$f" "$out/$(basename "$f")"
  done
  ln -s "../$(basename "$SCHEMA_DIR")" "$out/schemas"
  publish "$out" "$BIN_DIR"
fi
ln -sfn "$(basename "$BIN_DIR")" "$CACHE/bin.tmp.$$" && mv -T "$CACHE/bin.tmp.$$" "$CACHE/bin"

log "ready: $BIN_DIR"
printf '%s\n' "$BIN_DIR"
