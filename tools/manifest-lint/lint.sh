#!/usr/bin/env bash
# `npm run lint:manifests -- <stack> [options]`: renders the stack's manifests and lints them offline with
# kubeconform (schema validation, strict) and kube-score (best practices), then compares the findings with the
# accept-lists tools/manifest-lint/accepted/{kubeconform,kube-score}.json. Exit 0 only when every finding is
# accepted. Findings that are not accepted are listed (tool, check, object, container/path, message); accepted
# entries that match nothing are reported as stale (a warning).
#
#   1. tools/manifest-lint/build.sh   builds/reuses kube-score, kubeconform and the offline schemas (cache)
#   2. tools/render.sh <stack>        writes rendered/<stack>/{0-crd,1-manifest} (plain-text Secrets: gitignored)
#   3. kubeconform -strict            every object against the Kubernetes $KUBERNETES_SCHEMA_VERSION schemas,
#                                     no network; a kind without a schema (a custom resource) is an error
#   4. kube-score score               every file of the stack, -o json, kube-score/ignore annotations disabled
#   5. check.ts                       the verdict
#
# Options:
#   --out DIR        render into DIR instead of rendered/<stack> (e.g. a private temp dir)
#   --no-render      lint what is already in the output directory (rendered/<stack> or --out DIR)
#   --json FILE      also write every finding (with the entry that accepts it) as JSON
#   --verbose        also list the accepted findings
#   -h, --help       this text
# Exit status: 0 all accepted; 1 findings not accepted; 2 usage, build, render or accept-list error.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd -P)"
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}
log() { printf '[manifest-lint] %s\n' "$*" >&2; }
die() { printf '[manifest-lint] ERROR: %s\n' "$*" >&2; exit 2; }

stack=""
out=""
render=1
json=""
verbose=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift ;;
    --no-render) render=0 ;;
    --json) json="${2:?--json needs a file}"; shift ;;
    --verbose) verbose=(--verbose) ;;
    -h | --help) usage 0 ;;
    -*) echo "lint:manifests: unknown option $1" >&2; usage ;;
    *) [ -z "$stack" ] || { echo "lint:manifests: one stack only" >&2; usage; }; stack="$1" ;;
  esac
  shift
done
[ -n "$stack" ] || usage
[ -f "$ROOT/Pulumi.$stack.yaml" ] || die "no Pulumi.$stack.yaml"

# shellcheck source-path=SCRIPTDIR source=versions.env
. "$SCRIPT_DIR/versions.env"

t0=$(date +%s.%N)
bin="$("$SCRIPT_DIR/build.sh" | tail -n1)" || die "tools/manifest-lint/build.sh failed"
[ -x "$bin/kube-score" ] && [ -x "$bin/kubeconform" ] && [ -d "$bin/schemas" ] ||
  die "build.sh did not print a usable bin dir (got '$bin')"

out="${out:-$ROOT/rendered/$stack}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/licode-manifest-lint.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if [ "$render" = 1 ]; then
  log "rendering stack $stack into $out (tools/render.sh; log: shown on failure)"
  if ! bash "$ROOT/tools/render.sh" "$stack" --out "$out" >"$tmp/render.log" 2>&1; then
    tail -n 40 "$tmp/render.log" >&2
    die "tools/render.sh $stack failed"
  fi
fi
out="$(cd "$out" 2>/dev/null && pwd -P)" || die "no rendered manifests in $out (run without --no-render)"
mapfile -t files < <(find "$out" -type f \( -name '*.yaml' -o -name '*.yml' \) | LC_ALL=C sort)
[ "${#files[@]}" -gt 0 ] || die "no YAML files under $out"
crds="$(find "$out/0-crd" -type f 2>/dev/null | wc -l)"
[ "$crds" = 0 ] || log "note: $crds file(s) in $out/0-crd; this program is expected to have no CRDs"
log "linting ${#files[@]} files of stack $stack"

# kubeconform: exit 1 means invalid resources, which check.ts reports; anything else without JSON is a failure.
schema_location="$bin/schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
set +e
"$bin/kubeconform" -strict -summary -verbose -output json \
  -kubernetes-version "${KUBERNETES_SCHEMA_VERSION#v}" -schema-location "$schema_location" \
  "${files[@]}" >"$tmp/kubeconform.json" 2>"$tmp/kubeconform.err"
kc_rc=$?
"$bin/kube-score" score -o json --kubernetes-version "$KUBE_SCORE_KUBERNETES_VERSION" \
  --enable-optional-test container-seccomp-profile --enable-optional-test container-ports-check \
  --disable-ignore-checks-annotations --disable-optional-checks-annotations \
  "${files[@]}" >"$tmp/kube-score.json" 2>"$tmp/kube-score.err"
ks_rc=$?
set -e
[ "$kc_rc" -le 1 ] && [ -s "$tmp/kubeconform.json" ] || {
  cat "$tmp/kubeconform.err" >&2
  die "kubeconform failed (exit $kc_rc)"
}
[ "$ks_rc" -le 1 ] && [ -s "$tmp/kube-score.json" ] || {
  cat "$tmp/kube-score.err" >&2
  die "kube-score failed (exit $ks_rc)"
}

check_args=(--stack "$stack" --kubeconform "$tmp/kubeconform.json" --kube-score "$tmp/kube-score.json")
[ -z "$json" ] || check_args+=(--json "$json")
set +e
(cd "$ROOT" && node_modules/.bin/ts-node --transpile-only tools/manifest-lint/check.ts \
  "${check_args[@]}" "${verbose[@]+"${verbose[@]}"}")
rc=$?
set -e
log "done in $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s (exit $rc)"
exit "$rc"
