#!/usr/bin/env bash
# Apache Superset for the crm_priority dashboards, in an environment of its own.
#
#   scripts/superset.sh install   create Superset's venv from dashboards/superset/requirements.txt (once)
#   scripts/superset.sh import    set up its metadata database and import the three dashboards
#   scripts/superset.sh serve     serve it on 127.0.0.1:$CRM_PRIORITY_SUPERSET_PORT in the background
#   scripts/superset.sh stop      stop that server
#   scripts/superset.sh capture DIR   screenshot every dashboard as the viewer into DIR (headless chromium)
#
# Superset pins SQLAlchemy 1.4 and duckdb<2, so it never shares the project's .venv. Its venv is
# cached per version ($CRM_PRIORITY_SUPERSET_VENV); its metadata database (SQLite), logs and
# secrets live in $CRM_PRIORITY_SUPERSET_HOME, never in the repo. The dashboards read the published
# snapshot ($CRM_PRIORITY_SNAPSHOT) read-only, a new DuckDB connection per query.
#
# Secrets come from the environment: SUPERSET_SECRET_KEY, SUPERSET_ADMIN_PASSWORD and
# SUPERSET_VIEWER_PASSWORD. Any that is unset is generated once and kept in
# $CRM_PRIORITY_SUPERSET_HOME/secrets.env (mode 600).
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
SUPERSET_DIR="$PROJECT_DIR/dashboards/superset"
SUPERSET_VERSION=6.1.0
VENV="${CRM_PRIORITY_SUPERSET_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/crm_priority/superset-$SUPERSET_VERSION}"
HOME_DIR="${CRM_PRIORITY_SUPERSET_HOME:-${TMPDIR:-/tmp}/crm_priority_superset}"
HOST=127.0.0.1
PORT="${CRM_PRIORITY_SUPERSET_PORT:-8088}"
PUBLISH_DIR="${CRM_PRIORITY_PUBLISH_DIR:-$PROJECT_DIR/data/published}"
SNAPSHOT="${CRM_PRIORITY_SNAPSHOT:-$PUBLISH_DIR/crm_priority.duckdb}"
ADMIN_USER="${SUPERSET_ADMIN_USER:-admin}"
VIEWER_USER="${SUPERSET_VIEWER_USER:-viewer}"
CHROMIUM="${CRM_PRIORITY_CHROMIUM:-/usr/bin/chromium}"
PID_FILE="$HOME_DIR/gunicorn.pid"
LOG_FILE="$HOME_DIR/superset.log"

export CRM_PRIORITY_SUPERSET_HOME="$HOME_DIR"
export SUPERSET_CONFIG_PATH="$SUPERSET_DIR/superset_config.py"
export SUPERSET_HOME="$HOME_DIR"
export FLASK_APP="superset.app:create_app()"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"

load_secrets() {
    mkdir -p "$HOME_DIR"
    chmod 700 "$HOME_DIR"
    local secrets="$HOME_DIR/secrets.env"
    if [[ ! -f "$secrets" ]]; then
        (
            umask 077
            for name in SUPERSET_SECRET_KEY SUPERSET_ADMIN_PASSWORD SUPERSET_VIEWER_PASSWORD; do
                echo "$name=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
            done >"$secrets"
        )
    fi
    local name value
    while IFS='=' read -r name value; do
        if [[ -z "${!name:-}" ]]; then
            export "$name=$value"
        fi
    done <"$secrets"
}

superset() {
    "$VENV/bin/superset" "$@"
}

install() {
    local stamp="$VENV/.installed" wanted
    wanted="$(sha256sum "$SUPERSET_DIR/requirements.txt" | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
        return 0
    fi
    echo "Installing Superset $SUPERSET_VERSION into $VENV (about a minute, 900 MB)" >&2
    rm -f "$VENV/metadata-template.db"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$SUPERSET_DIR/requirements.txt"
    echo "$wanted" >"$stamp"
}

# Superset's metadata database, migrated and with its roles: from the template cached beside the venv
# when this home has none yet (about a minute saved), else migrated and initialised in place.
prepare_metadata() {
    local template="$VENV/metadata-template.db" fresh=0
    if [[ ! -f "$HOME_DIR/superset.db" ]]; then
        if [[ -f "$template" ]]; then
            cp "$template" "$HOME_DIR/superset.db"
            return 0
        fi
        fresh=1
    fi
    superset db upgrade >>"$LOG_FILE" 2>&1 || { tail -n 40 "$LOG_FILE" >&2; exit 1; }
    superset init >>"$LOG_FILE" 2>&1 || { tail -n 40 "$LOG_FILE" >&2; exit 1; }
    if [[ "$fresh" == 1 ]]; then  # migrated and initialised, no account yet: the template for the next home
        cp "$HOME_DIR/superset.db" "$template.$$" && mv "$template.$$" "$template"
    fi
}

import_dashboards() {
    install
    load_secrets
    if [[ ! -f "$SNAPSHOT" ]]; then
        echo "No published snapshot at $SNAPSHOT: run 'make build' first (or set CRM_PRIORITY_SNAPSHOT)." >&2
        exit 1
    fi
    local snapshot bundle
    snapshot="$(cd "$(dirname "$SNAPSHOT")" && pwd)/$(basename "$SNAPSHOT")"  # absolute; not resolved, so a symlink stays one
    prepare_metadata

    # The bundle in the repo names no path: write the snapshot's into a copy, zip it, import it.
    bundle="$HOME_DIR/bundle"
    rm -rf "$bundle" "$HOME_DIR/crm_priority_dashboards.zip"
    mkdir -p "$bundle"
    cp -R "$SUPERSET_DIR/bundle" "$bundle/crm_priority_dashboards"
    CRM_PRIORITY_SNAPSHOT="$snapshot" "$VENV/bin/python" - "$bundle/crm_priority_dashboards/databases" <<'PY'
import os, pathlib, sys
for path in pathlib.Path(sys.argv[1]).glob("*.yaml"):
    path.write_text(path.read_text().replace("${CRM_PRIORITY_SNAPSHOT}", os.environ["CRM_PRIORITY_SNAPSHOT"]))
PY
    (cd "$bundle" && "$VENV/bin/python" -m zipfile -c "$HOME_DIR/crm_priority_dashboards.zip" crm_priority_dashboards)
    # Accounts, roles and the import in one start of Superset (see setup_superset.py); the same zip
    # imports with `superset import-dashboards --path ... --username admin` too.
    "$VENV/bin/python" "$SUPERSET_DIR/setup_superset.py" "$HOME_DIR/crm_priority_dashboards.zip" \
        "$ADMIN_USER" "$VIEWER_USER" >>"$LOG_FILE" 2>&1 || { tail -n 40 "$LOG_FILE" >&2; exit 1; }
    echo "Imported the dashboards into $HOME_DIR; they read $snapshot" >&2
}

serve() {
    install
    load_secrets
    if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        echo "Superset is already running (pid $(cat "$PID_FILE")); stop it with: scripts/superset.sh stop" >&2
        exit 1
    fi
    if "$VENV/bin/python" -c "import socket,sys; socket.create_connection(('$HOST', int(sys.argv[1])), 1)" "$PORT" 2>/dev/null; then
        echo "Port $PORT on $HOST is taken; set CRM_PRIORITY_SUPERSET_PORT to another one." >&2
        exit 1
    fi
    # One worker process (two cores are shared), a few threads for the dashboard's parallel chart queries.
    "$VENV/bin/gunicorn" --bind "$HOST:$PORT" --workers 1 --worker-class gthread --threads 4 --timeout 120 \
        --pid "$PID_FILE" --daemon --access-logfile "$HOME_DIR/access.log" --error-logfile "$LOG_FILE" \
        "superset.app:create_app()"
    local url="http://$HOST:$PORT"
    for _ in $(seq 1 120); do
        if "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
            "$url/health" 2>/dev/null; then
            echo "Superset is serving the dashboards at $url/dashboard/list/"
            echo "  log in as '$ADMIN_USER' (or the read-only '$VIEWER_USER'); passwords: \$SUPERSET_ADMIN_PASSWORD /"
            echo "  \$SUPERSET_VIEWER_PASSWORD, else $HOME_DIR/secrets.env. Stop it with: scripts/superset.sh stop"
            return 0
        fi
        sleep 1
    done
    echo "Superset did not answer on $url/health within 120 s; its log:" >&2
    tail -n 60 "$LOG_FILE" >&2
    stop
    exit 1
}

stop() {
    if [[ -f "$PID_FILE" ]]; then
        local pid
        pid="$(cat "$PID_FILE")"
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 1 30); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.5
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$PID_FILE"
    fi
}

capture() {
    load_secrets
    if [[ ! -x "$CHROMIUM" ]]; then
        echo "No chromium at $CHROMIUM: install the Debian package 'chromium' (scripts/system_packages.sh does)." >&2
        exit 1
    fi
    "$VENV/bin/python" "$SUPERSET_DIR/capture.py" "http://$HOST:$PORT" "$VIEWER_USER" "$CHROMIUM" "$1"
}

case "${1:-}" in
    install) install ;;
    import) import_dashboards ;;
    serve) serve ;;
    stop) stop ;;
    capture) capture "${2:?usage: scripts/superset.sh capture OUT_DIR}" ;;
    *)
        echo "usage: $0 install|import|serve|stop|capture OUT_DIR" >&2
        exit 2
        ;;
esac
