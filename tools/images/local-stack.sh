#!/usr/bin/env bash
# Build (or reuse) every image the `local` stack runs, and print the stack config that pins each one by
# digest. Pulumi.local.yaml names the images by repository and tag only (a digest changes whenever an
# input does, e.g. a Debian security update), and the policy pack refuses the local stack without a
# digest (policy/config/local.json), so whatever deploys the local stack runs this first:
#
#   tools/images/local-stack.sh                  # build; print "<config key> <digest>" lines, e.g.
#                                                #   licode:image.digest sha256:5f92...
#   tools/images/local-stack.sh --import         # also import every archive into the running real nodes
#   tools/images/local-stack.sh --archives       # print the builders' result lines instead
#
# The images (each built by tools/images/<name>/build.sh, cached by its inputs; see tools/images/lib.sh):
#   licode:image             localhost/licode:v10                       Licode v10 from its source, stand-in media addon
#   licode:rabbitmq.image    localhost/rabbitmq:4.0.5-management        RabbitMQ from Debian trixie
#   licode:mongodb.image     localhost/mongo-standin:ferretdb-1.24.2    MongoDB-wire stand-in (FerretDB)
#   licode:turn.image        localhost/coturn:4.6.1-debian              coturn from Debian bookworm
# Each built reference must be the repository:tag Pulumi.local.yaml names; a mismatch stops the script
# with both names, so the stack never deploys an image other than the one it names.
#
# Options:
#   --import      import the archives into every real node of the running cluster (tools/cluster/cluster.sh import)
#   --archives    print "<archive>\t<ref>\t<digest>" per image instead of config lines
#   -h, --help    this text
# Needs root (the builds run mmdebstrap). Progress goes to stderr; stdout carries only the result lines.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
log() { printf '[local-images] %s\n' "$*" >&2; }
die() { printf '[local-images] ERROR: %s\n' "$*" >&2; exit 1; }

IMPORT=0
ARCHIVES=0
while [ $# -gt 0 ]; do
  case "$1" in
    --import) IMPORT=1 ;;
    --archives) ARCHIVES=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

# config key (under licode:) : the builder under tools/images
IMAGES=("image:licode" "rabbitmq.image:rabbitmq" "mongodb.image:mongodb" "turn.image:coturn")

# What Pulumi.local.yaml names for KEY: repository:tag (the file is YAML; read through the project's parser).
declared_refs="$(
  node -e '
    const fs = require("fs");
    const YAML = require(process.argv[1]);
    const config = (YAML.parse(fs.readFileSync(process.argv[2], "utf8")) || {}).config || {};
    for (const key of process.argv.slice(3)) {
      // "image" is licode:image; "rabbitmq.image" is licode:rabbitmq, then its image.
      const [top, ...rest] = key.split(".");
      const image = rest.reduce((o, k) => (o === undefined ? undefined : o[k]), config["licode:" + top]);
      const named = image !== undefined && image.repository !== undefined && image.tag !== undefined;
      console.log(`${key} ${named ? `${image.repository}:${image.tag}` : "-"}`);
    }
  ' "$ROOT/node_modules/yaml" "$ROOT/Pulumi.local.yaml" "${IMAGES[@]%%:*}"
)" || die "could not read Pulumi.local.yaml (run npm ci first)"

results=()
for item in "${IMAGES[@]}"; do
  key="${item%%:*}"
  builder="$ROOT/tools/images/${item#*:}/build.sh"
  log "building $key with ${builder#"$ROOT/"}"
  line="$(bash "$builder" | tail -n1)" || die "${builder#"$ROOT/"} failed"
  IFS=$'\t' read -r archive ref digest <<<"$line"
  [ -s "$archive" ] && [[ $digest == sha256:* ]] || die "${builder#"$ROOT/"} printed '$line', not '<archive>\t<ref>\t<digest>'"
  declared="$(awk -v k="$key" '$1 == k { print $2 }' <<<"$declared_refs")"
  [ "$declared" = "$ref" ] || die "Pulumi.local.yaml names ${declared/#-/no repository and tag} for licode:$key, but ${builder#"$ROOT/"} builds $ref: make them the same"
  results+=("$key"$'\t'"$line")
done

if [ "$IMPORT" = 1 ]; then
  for r in "${results[@]}"; do printf '%s\n' "${r#*$'\t'}"; done | bash "$ROOT/tools/cluster/cluster.sh" import - >&2 ||
    die "importing the images into the cluster's nodes failed"
fi

for r in "${results[@]}"; do
  key="${r%%$'\t'*}"
  line="${r#*$'\t'}"
  if [ "$ARCHIVES" = 1 ]; then
    printf '%s\n' "$line"
  else
    printf 'licode:%s.digest %s\n' "$key" "${line##*$'\t'}"
  fi
done
