#!/usr/bin/env bash
# `npm run preview -- <stack> [pulumi preview flags...]`: the gate. Runs `pulumi preview` on <stack> with the
# policy pack and its per-stack config (policy/config/<stack>.json), in the offline environment of
# tools/pulumi-env.sh, against a temporary copy of the project (the tracked Pulumi.<stack>.yaml is never written).
# Creates the stack in the backend (default file://<repo>/.pulumi-state) on first use. Exit status is pulumi's:
# non-zero on any mandatory policy violation or program error.
#
# No cluster is needed: with KUBECONFIG unset (or pointing at an unreachable cluster) the kubernetes provider
# previews from the inputs alone; with a reachable cluster it also asks the API server (server-side dry run).
# Passphrase: dev and local have a default; prod needs PULUMI_CONFIG_PASSPHRASE (see tools/README.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
if [ $# -lt 1 ] || [ -z "$1" ] || [ "${1#-}" != "$1" ]; then
  echo "usage: npm run preview -- <stack> [pulumi preview flags...]   (stacks: $(cd "$ROOT" && ls Pulumi.*.yaml | sed 's/^Pulumi\.\(.*\)\.yaml$/\1/' | tr '\n' ' '))" >&2
  exit 2
fi
stack="$1"
shift

# shellcheck source=tools/pulumi-env.sh
. "$ROOT/tools/pulumi-env.sh" || exit 1
licode_passphrase "$stack" || exit 1

[ -d "$ROOT/policy/node_modules" ] || { echo "preview: policy/node_modules is missing. Run: npm run setup" >&2; exit 1; }
policy_args=(--policy-pack "$ROOT/policy")
if [ -f "$ROOT/policy/config/$stack.json" ]; then
  policy_args+=(--policy-pack-config "$ROOT/policy/config/$stack.json")
else
  echo "preview: no policy/config/$stack.json; using the pack's default levels (every policy mandatory)" >&2
fi

ws="$(licode_workspace "$stack")" || exit 1
trap 'rm -rf "$ws"' EXIT
cd "$ws"
licode_ensure_stack "$stack"
pulumi preview --stack "$stack" --non-interactive "${policy_args[@]}" "$@"
