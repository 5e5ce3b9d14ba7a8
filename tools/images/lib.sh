# shellcheck shell=bash
# What every image build under tools/images/<name>/build.sh shares: the cache layout, the key, the lock,
# and packing a root filesystem into an OCI archive (oci-pack.js). Sourced after the script defines
# `log` and `die`.
#
# Cache: ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/images/<name>/<key>/
#   image.oci.tar   the OCI archive (`ctr images import` reads it)
#   ref             <name:tag>, e.g. localhost/licode:v10
#   digest          the manifest digest, sha256:...
# <key> is a hash of the build's inputs (its scripts, versions and source checksums), so a change to any
# input builds a new image beside the old one, and a warm run only reads three small files.
#
# Every image build prints one line on stdout, last: "<archive>\t<ref>\t<digest>"; tools/node imports the
# archive into each node's runtime, and stacks reference the image as <ref-without-tag>@<digest>.

IMAGES_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
IMAGES_CACHE="${LICODE_CACHE:-$HOME/.cache/licode-k8s}/images"

# image_key FILE_OR_STRING...: sha256 (16 hex) over the contents of each existing file (named by its path
# relative to the repository, so a move changes the key) and each other argument taken as a literal string.
image_key() {
  local root item
  root="$(cd "$IMAGES_LIB_DIR/../.." && pwd -P)"
  for item in "$IMAGES_LIB_DIR/lib.sh" "$IMAGES_LIB_DIR/oci-pack.js" "$@"; do
    if [ -f "$item" ]; then
      printf 'file %s\n' "$(realpath --relative-to="$root" "$item")"
      sha256sum <"$item"
    else
      printf 'string %s\n' "$item"
    fi
  done | sha256sum | cut -c1-16
}

# image_dir NAME KEY: the cache directory of that build (may not exist yet).
image_dir() { printf '%s/%s/%s\n' "$IMAGES_CACHE" "$1" "$2"; }

# image_cached NAME KEY: succeeds and prints the result line when that build is complete in the cache.
image_cached() {
  local dir
  dir="$(image_dir "$1" "$2")"
  [ -s "$dir/image.oci.tar" ] && [ -s "$dir/ref" ] && [ -s "$dir/digest" ] || return 1
  printf '%s\t%s\t%s\n' "$dir/image.oci.tar" "$(cat "$dir/ref")" "$(cat "$dir/digest")"
}

# image_lock NAME: one build of an image at a time (another run waits, then finds the cache filled).
image_lock() {
  mkdir -p "$IMAGES_CACHE/$1"
  exec 8>"$IMAGES_CACHE/$1/.lock"
  if ! flock -n 8; then
    log "another build of image $1 is running; waiting for its lock"
    flock -w "${LICODE_IMAGE_LOCK_TIMEOUT:-3600}" 8 || die "timed out waiting for $IMAGES_CACHE/$1/.lock"
  fi
}

# image_scratch NAME: prints a fresh scratch directory beside the cache entry (same filesystem, so the
# publish is a rename); scratch dirs of killed builds are removed by the next build holding the lock.
image_scratch() {
  local d
  for d in "$IMAGES_CACHE/$1"/.tmp-*; do
    [ -e "$d" ] || continue
    chmod -R u+w "$d" 2>/dev/null || true
    rm -rf "$d"
  done
  mktemp -d "$IMAGES_CACHE/$1/.tmp-XXXXXX"
}

# image_publish NAME KEY ROOTFS CONFIG_JSON REF SCRATCH: pack ROOTFS into SCRATCH/out, then move it into the
# cache as NAME/KEY and print the result line.
image_publish() {
  local name="$1" key="$2" rootfs="$3" config="$4" ref="$5" scratch="$6" out digest dst
  out="$scratch/out"
  mkdir -p "$out"
  digest="$(node "$IMAGES_LIB_DIR/oci-pack.js" "$rootfs" "$config" "$out/image.oci.tar" "$ref")" || die "packing $ref failed"
  printf '%s\n' "$ref" >"$out/ref"
  printf '%s\n' "$digest" >"$out/digest"
  dst="$(image_dir "$name" "$key")"
  rm -rf "$dst"
  mv -T "$out" "$dst"
  log "$ref@$digest ($(du -h "$dst/image.oci.tar" | cut -f1)) in $dst"
  image_cached "$name" "$key"
}
