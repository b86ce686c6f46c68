#!/usr/bin/env bash
# The whole test run: lint, types, migrations, then the suite on SQLite and on a throw-away PostgreSQL.
# Installs chromium and PostgreSQL from Debian's packages when they are missing and we are root (CI, fresh machines).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

need_apt=()
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if (( ${#need_apt[@]} )); then
  if [[ $(id -u) == 0 ]]; then
    echo "== installing ${need_apt[*]} from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing ${need_apt[*]}: install them (apt-get install ${need_apt[*]}) or run as root" >&2
    exit 1
  fi
fi

echo "== ruff"
$BIN/ruff check src tests bench scripts
$BIN/ruff format --check src tests bench scripts
echo "== mypy"
$BIN/mypy
echo "== migrations are up to date"
TEPAT_SQLITE=$(mktemp -u /tmp/tepat-mig-XXXX.sqlite3) $BIN/tepat makemigrations --check --dry-run >/dev/null

export TEPAT_REQUIRE_BROWSER=1
echo "== tests on SQLite"
$BIN/python -m pytest "$@"

echo "== tests on PostgreSQL"
source scripts/pg-cluster.sh
pg_cluster_start
trap pg_cluster_stop EXIT
DATABASE_URL="postgres://postgres@127.0.0.1:${PG_PORT}/tepat" $BIN/python -m pytest "$@"
