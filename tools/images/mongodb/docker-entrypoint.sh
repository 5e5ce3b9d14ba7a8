#!/usr/bin/env bash
# Entrypoint of localhost/mongo-standin (tools/images/mongodb/build.sh), a MongoDB-wire STAND-IN: FerretDB 1.24
# with its SQLite backend in place of mongod. It keeps the parts of the official mongo image's entrypoint
# contract that the licode program uses (docker-library/mongo 7.0/docker-entrypoint.sh, commit 2c69a57b; line
# numbers below are upstream's), and refuses what it cannot honour instead of ignoring it:
#   - arguments starting with "-" are mongod's (4-6): `--wiredTigerCacheSizeGB 0.25` starts the server;
#   - started as root for mongod, hand /data/db and /data/configdb to UID 999 and drop to it (12-23);
#   - MONGO_INITDB_ROOT_USERNAME and _PASSWORD (or their _FILE forms, 71-87) must come together (258-271);
#     with both, authentication is on (--auth, 258-261) and the root user is created on the first start only
#     (285-299, 371-380): FerretDB's --setup-* creates it only while the `admin` database does not exist
#     (FerretDB internal/handler/handler.go, setup), which is the stand-in's "already initialised";
#   - without them, no authentication, as mongod without --auth;
#   - the server listens on every address unless --bind_ip says otherwise (403-413), on 27017 or --port;
#   - MONGO_INITDB_* are removed from the server's environment (415), and the server is PID 1 (420);
#   - any other command runs as given (420).
# Not supported, refused with an error: /docker-entrypoint-initdb.d scripts (274-283, 383-393), --config
# files, and every mongod option without a FerretDB equivalent (see README.md "Local images").
set -euo pipefail

MONGODB_UID=999
DB_PATH=/data/db

die() { printf 'mongo-standin: error: %s\n' "$*" >&2; exit 1; }

[ $# -gt 0 ] || die "no command: give mongod's arguments, or a command to run"
if [ "${1:0:1}" = '-' ]; then
  set -- mongod "$@"
fi

if [ "$1" = mongod ] && [ "$(id -u)" = 0 ]; then
  find -L /data/configdb /data/db \! -user "$MONGODB_UID" -exec chown "$MONGODB_UID" '{}' +
  exec setpriv --reuid="$MONGODB_UID" --regid="$MONGODB_UID" --init-groups -- "$BASH_SOURCE" "$@"
fi

[ "$1" = mongod ] || exec "$@"
shift

# file_env VAR: VAR from itself or from the file named by VAR_FILE, never both (upstream 71-87).
file_env() {
  local var="$1" file_var="${1}_FILE"
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    die "both $var and $file_var are set; set one of them"
  fi
  if [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || die "$file_var names '${!file_var}', which is not a readable file"
    export "$var"="$(<"${!file_var}")"
  fi
  unset "$file_var"
}
file_env MONGO_INITDB_ROOT_USERNAME
file_env MONGO_INITDB_ROOT_PASSWORD
root_user="${MONGO_INITDB_ROOT_USERNAME:-}"
root_password="${MONGO_INITDB_ROOT_PASSWORD:-}"
if { [ -n "$root_user" ] && [ -z "$root_password" ]; } || { [ -z "$root_user" ] && [ -n "$root_password" ]; }; then
  die "set both MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD for a root user to be created, or neither"
fi

for script in /docker-entrypoint-initdb.d/*; do
  case "$script" in
    *.sh | *.js) die "$script: the stand-in runs no /docker-entrypoint-initdb.d scripts; remove them or use the real mongo image" ;;
  esac
done

# mongod's options, translated; every option the stand-in cannot honour is an error naming it.
auth=0
bind_address=""
port=27017
# take_value REMAINING_ARGS...: the current option's value, from "--name=value" or the next argument.
take_value() {
  [ "$value_given" = 1 ] && return 0
  [ $# -ge 1 ] || die "mongod option $option needs a value"
  value="$1"
  value_given=2
}
while [ $# -gt 0 ]; do
  option="$1"
  shift
  # "--name=value" or "--name value"
  value_given=0
  case "$option" in
    --*=*) value="${option#*=}"; option="${option%%=*}"; value_given=1 ;;
  esac
  case "$option" in
    --wiredTigerCacheSizeGB)
      take_value "$@"
      # FerretDB has no WiredTiger cache: its SQLite backend reads through the kernel's page cache.
      echo "mongo-standin: --wiredTigerCacheSizeGB $value has no effect on FerretDB's SQLite backend" >&2 ;;
    --auth) auth=1 ;;
    --bind_ip_all) bind_address="" ;;
    --bind_ip)
      take_value "$@"
      [[ "$value" != *,* ]] || die "--bind_ip $value: the stand-in listens on one address only"
      bind_address="$value"
      [[ "$value" != *:* ]] || bind_address="[$value]" ;;
    --port)
      take_value "$@"
      [[ "$value" =~ ^[0-9]+$ ]] || die "--port $value is not a port number"
      port="$value" ;;
    --dbpath)
      take_value "$@"
      DB_PATH="$value" ;;
    *) die "mongod option '$option' has no equivalent in the FerretDB stand-in (accepted: --wiredTigerCacheSizeGB, --auth, --bind_ip, --bind_ip_all, --port, --dbpath)" ;;
  esac
  # a value taken from the next argument is consumed here
  if [ "$value_given" = 2 ]; then shift; fi
done

[ -d "$DB_PATH" ] && [ -w "$DB_PATH" ] || die "the data directory $DB_PATH is not a writable directory for UID $(id -u)"

server=(
  /usr/local/bin/ferretdb
  --handler=sqlite
  "--sqlite-url=file:$DB_PATH/"
  "--state-dir=$DB_PATH"
  "--listen-addr=$bind_address:$port"
  --telemetry=disable
  --debug-addr=-
)
if [ -n "$root_user" ]; then
  auth=1
  # Through the environment (FerretDB reads FERRETDB_<FLAG>), so the password is not on the command line.
  export FERRETDB_SETUP_USERNAME="$root_user" FERRETDB_SETUP_PASSWORD="$root_password"
  server+=(--setup-database=admin)
fi
if [ "$auth" = 1 ]; then
  # FerretDB 1.24's SCRAM-SHA-1/-256 authentication with users in admin.system.users (an experimental flag
  # upstream). Without it the SQLite backend checks nothing: anonymous clients get every command, and a client
  # that sends credentials is refused, as FerretDB then offers PLAIN only (internal/handler/msg_saslstart.go).
  server+=(--test-enable-new-auth)
fi
unset "${!MONGO_INITDB_@}"
echo "mongo-standin: FerretDB (not mongod) on ${bind_address:-*}:$port, data in $DB_PATH, authentication $([ "$auth" = 1 ] && echo on || echo off)" >&2
exec "${server[@]}"
