#!/usr/bin/env bash
# `npm run migrate:random -- <stack>`: once per stack deployed before the program used @pulumi/random.
# Exports the stack's state, moves its generated values (passwords, the superservice ID and key)
# from the old dynamic resources to @pulumi/random resources without changing a value
# (tools/migrate-random/migrate.ts), and imports the result. The next `pulumi up` then shows no
# change to them and rolls no pod. A backup of the exported state is kept next to it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
stack="${1:-}"
[ -n "$stack" ] || { echo "usage: npm run migrate:random -- <stack>" >&2; exit 2; }

. "$ROOT/tools/pulumi-env.sh" || exit 1
licode_passphrase "$stack" || exit 1
ws="$(licode_workspace "$stack")" || exit 1
trap 'rm -rf "$ws"' EXIT
cd "$ws"

backup="${LICODE_MIGRATE_BACKUP_DIR:-$ROOT/.pulumi-state}/$stack-before-random-$(date +%Y%m%d%H%M%S).json"
mkdir -p "$(dirname "$backup")"
pulumi stack export --stack "$stack" --file "$backup"
if ! grep -q '"pulumi-nodejs:dynamic:Resource"' "$backup"; then
  echo "[migrate-random] $stack has no generated value of the old kind: nothing to do" >&2
  exit 0
fi
npx --no-install ts-node --transpile-only "$ROOT/tools/migrate-random/migrate.ts" "$stack" \
  < "$backup" > "$ws/migrated.json"
pulumi stack import --stack "$stack" --file "$ws/migrated.json"
echo "[migrate-random] imported; the state before is kept in $backup. Next: pulumi up (no change to the generated values)" >&2
