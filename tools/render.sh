#!/usr/bin/env bash
# `npm run render -- <stack> [options]`: writes the stack's manifests as plain YAML into rendered/<stack>/
# (gitignored), using the kubernetes provider's renderYamlToDirectory (stack config key
# licode:renderYamlToDirectory). Layout: rendered/<stack>/1-manifest/<apiVersion>-<kind>-<namespace>-<name>.yaml
# (and an empty 0-crd/). The directory is emptied first, so it holds exactly the current program's objects.
#
# It runs `pulumi up` on a throwaway stack of the same name in a temporary backend, so real stack state is never
# read or written. Every render therefore generates fresh credentials (the Secrets differ from the deployed ones).
# Secrets are written in PLAIN TEXT: the script lists the files that carry them. No cluster is used: KUBECONFIG is
# ignored (unset for the run); the provider refuses a kubeconfig in render mode.
#
# Options:
#   --out DIR      write there instead of rendered/<stack>
#   --verify       afterwards, run `pulumi preview --expect-no-changes` on the same throwaway stack (idempotency)
#   --state DIR    use DIR as the (file://) backend and keep it, instead of a temporary one
#   -h, --help     this text
# Passphrase: a throwaway one, unless Pulumi.<stack>.yaml holds `secure:` values; then the stack's own
# (tools/pulumi-env.sh: dev/local default, prod PULUMI_CONFIG_PASSPHRASE).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

stack=""
out=""
state=""
verify=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift ;;
    --state) state="${2:?--state needs a directory}"; shift ;;
    --verify) verify=1 ;;
    -h | --help) usage 0 ;;
    -*) echo "render: unknown option $1" >&2; usage ;;
    *) [ -z "$stack" ] || { echo "render: one stack only" >&2; usage; }; stack="$1" ;;
  esac
  shift
done
[ -n "$stack" ] || usage
[ -f "$ROOT/Pulumi.$stack.yaml" ] || {
  echo "render: no Pulumi.$stack.yaml (stacks: $(cd "$ROOT" && ls Pulumi.*.yaml | sed 's/^Pulumi\.\(.*\)\.yaml$/\1/' | tr '\n' ' '))" >&2
  exit 2
}

log() { printf '[render] %s\n' "$*" >&2; }

# Render mode must not see a cluster: the SDK would pass $KUBECONFIG to the provider, which rejects it.
if [ -n "${KUBECONFIG:-}" ]; then
  log "ignoring KUBECONFIG=$KUBECONFIG (render mode uses no cluster)"
fi
unset KUBECONFIG
if [ -f "$HOME/.kube/config" ]; then
  log "note: $HOME/.kube/config exists; if its cluster is reachable the provider asks it about API kinds"
fi

# shellcheck source=tools/pulumi-env.sh
. "$ROOT/tools/pulumi-env.sh" || exit 1

tmp="$(mktemp -d "${TMPDIR:-/tmp}/licode-render.XXXXXX")"
ws=""
cleanup() {
  [ -z "$ws" ] || rm -rf "$ws"
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -n "$state" ]; then
  mkdir -p "$state"
  state="$(cd "$state" && pwd -P)"
  export PULUMI_BACKEND_URL="file://$state"
else
  mkdir -p "$tmp/state"
  export PULUMI_BACKEND_URL="file://$tmp/state"
fi
if grep -q 'secure:' "$ROOT/Pulumi.$stack.yaml"; then
  licode_passphrase "$stack" || exit 1
else
  unset PULUMI_CONFIG_PASSPHRASE_FILE
  export PULUMI_CONFIG_PASSPHRASE="licode-render-throwaway"
fi

out="${out:-$ROOT/rendered/$stack}"
mkdir -p "$out"
out="$(cd "$out" && pwd -P)"
case "$out" in
  / | "$ROOT" | "$HOME") log "refusing to empty $out"; exit 2 ;;
esac
rm -rf "$out/0-crd" "$out/1-manifest"

ws="$(licode_workspace "$stack")" || exit 1
cd "$ws"
licode_ensure_stack "$stack"
pulumi config set --stack "$stack" licode:renderYamlToDirectory "$out" >&2

log "rendering stack $stack into $out"
t0=$(date +%s.%N)
set +e
pulumi up --stack "$stack" --yes --skip-preview --non-interactive --suppress-outputs 2>&1 | tee "$tmp/up.log"
rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)
[ "$rc" = 0 ] || { log "pulumi up failed (exit $rc)"; exit "$rc"; }

# Summary: what was written, and where secrets are in plain text.
n=$(find "$out/1-manifest" -name '*.yaml' | wc -l)
log "wrote $n manifests to $out/1-manifest in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s:"
find "$out/1-manifest" -name '*.yaml' -printf '%f\n' | sed 's/^\([^-]*\)-\([^-]*\)-.*/\1 \2/' | sort | uniq -c |
  awk '{ printf "[render]   %3d %s (%s)\n", $1, $3, $2 }' >&2
# The provider logs one warning per file; the line may be wrapped, so match on the file name.
secret_files="$(grep -o 'rendered file [^ ]* contains a secret value in plaintext' "$tmp/up.log" |
  awk '{ print $3 }' | sort -u || true)"
if [ -n "$secret_files" ]; then
  log "WARNING: $(printf '%s\n' "$secret_files" | wc -l) rendered files hold secret values in PLAIN TEXT" \
    "(credentials, the superservice key, licode_config.js); do not commit or share them:"
  printf '%s\n' "$secret_files" | sed 's/^/[render]   /' >&2
fi

if [ "$verify" = 1 ]; then
  log "verifying: pulumi preview --expect-no-changes on the rendered stack"
  pulumi preview --stack "$stack" --expect-no-changes --non-interactive --suppress-outputs
fi
