# A throw-away PostgreSQL cluster on 127.0.0.1 for tests and benchmarks (sourced, not executed).
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
PG_PORT=${PG_PORT:-54329}

pg_cluster_start() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_DIR=$(mktemp -d /tmp/tepat-pg-XXXXXX)
  local run=()
  if [[ $(id -u) == 0 ]]; then
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bindir/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${run[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE DATABASE tepat" >/dev/null
  PG_BINDIR=$bindir
  echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

pg_cluster_stop() {
  [[ -n ${PG_DIR:-} ]] || return 0
  local run=()
  [[ $(id -u) == 0 ]] && run=(runuser -u postgres --)
  "${run[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
