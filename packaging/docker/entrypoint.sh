#!/bin/sh
# Container entrypoint for FitBridge (packaging/docker/Dockerfile).
#
# As root (the default) it:
#   - applies UMASK, checks PUID/PGID (the owner of /config on the NAS);
#   - creates the state directory and gives /config and the state to PUID:PGID;
#   - seeds /config/fitbridge.yaml from the packaged example on first start;
#   - builds a credentials directory from /run/secrets/* and the
#     FITBRIDGE_<NAME>_FILE variables, so that `api_key_file: <name>` in the
#     config resolves (relative *_file names resolve under CREDENTIALS_DIRECTORY);
#   - drops to PUID:PGID with setpriv (no capabilities, no_new_privs) and execs
#     the command, so the daemon is PID 1 and receives SIGTERM itself.
# Started as another user (docker run --user), it skips what needs root.
set -eu

PUID="${PUID:-1000}"
PGID="${PGID:-1000}"
UMASK="${UMASK:-0077}"
FITBRIDGE_CONFIG="${FITBRIDGE_CONFIG:-/config/fitbridge.yaml}"
FITBRIDGE_STATE_DIR="${FITBRIDGE_STATE_DIR:-/config/state}"
export FITBRIDGE_CONFIG FITBRIDGE_STATE_DIR

say() { printf 'fitbridge-entrypoint: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 78 # EX_CONFIG, like the daemon: the container setup is wrong
}

case "$PUID" in '' | *[!0-9]*) die "PUID must be a number, not '$PUID'" ;; esac
case "$PGID" in '' | *[!0-9]*) die "PGID must be a number, not '$PGID'" ;; esac
case "$UMASK" in
    [0-7][0-7][0-7] | [0-7][0-7][0-7][0-7]) ;;
    *) die "UMASK must be octal (for example 0077 or 0027), not '$UMASK'" ;;
esac
umask "$UMASK"

if [ "$#" -eq 0 ]; then
    set -- fitbridge serve
fi

is_root=false
if [ "$(id -u)" -eq 0 ]; then
    is_root=true
fi

config_dir=$(dirname "$FITBRIDGE_CONFIG")
mkdir -p "$config_dir" "$FITBRIDGE_STATE_DIR"

# First start: give the user a config file to edit (it starts out equal to
# the embedded defaults' documentation, every key commented).
if [ ! -e "$FITBRIDGE_CONFIG" ] && [ -f /etc/fitbridge/fitbridge.yaml ]; then
    cp /etc/fitbridge/fitbridge.yaml "$FITBRIDGE_CONFIG"
    say "wrote $FITBRIDGE_CONFIG from the example; edit it and restart the container"
fi

if $is_root; then
    chown "$PUID:$PGID" "$config_dir" "$FITBRIDGE_CONFIG" 2>/dev/null || true
    # The state belongs to the daemon: re-own it all when PUID/PGID changed.
    if [ "$(stat -c %u:%g "$FITBRIDGE_STATE_DIR")" != "$PUID:$PGID" ]; then
        chown -R "$PUID:$PGID" "$FITBRIDGE_STATE_DIR"
    fi
    chmod 0700 "$FITBRIDGE_STATE_DIR"
fi

# Secrets. Docker and compose mount secrets as /run/secrets/<name>; any
# FITBRIDGE_<NAME>_FILE=/path adds one more named <name> (lower case). Both
# become entries of one directory, so the config names them the same way it
# does under systemd's LoadCredential=.
if [ -z "${CREDENTIALS_DIRECTORY:-}" ]; then
    if $is_root; then
        cred_dir=/run/fitbridge/credentials
        rm -rf "$cred_dir"
        mkdir -p /run/fitbridge
        chmod 0755 /run/fitbridge
        mkdir -m 0700 "$cred_dir"
    else
        cred_dir=$(mktemp -d "${TMPDIR:-/tmp}/fitbridge-credentials.XXXXXX")
    fi
    if [ -d /run/secrets ]; then
        for secret in /run/secrets/*; do
            [ -e "$secret" ] || continue
            ln -s "$secret" "$cred_dir/$(basename "$secret")"
        done
    fi
    for var in $(env | sed -n 's/^\(FITBRIDGE_[A-Z0-9_]*_FILE\)=.*/\1/p'); do
        eval "path=\${$var}"
        # shellcheck disable=SC2154 # assigned by the eval above
        if [ ! -f "$path" ]; then
            die "$var=$path: no such file"
        fi
        name=$(printf '%s' "$var" | sed 's/^FITBRIDGE_//; s/_FILE$//' | tr '[:upper:]' '[:lower:]')
        ln -sfn "$path" "$cred_dir/$name"
    done
    if $is_root; then
        chown -h "$PUID:$PGID" "$cred_dir" "$cred_dir"/* 2>/dev/null || true
        chmod 0500 "$cred_dir"
    fi
    CREDENTIALS_DIRECTORY=$cred_dir
    export CREDENTIALS_DIRECTORY
fi

if ! $is_root; then
    exec "$@"
fi
exec setpriv --reuid="$PUID" --regid="$PGID" --clear-groups \
    --inh-caps=-all --no-new-privs -- "$@"
