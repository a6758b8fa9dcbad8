# shellcheck shell=bash
# A private PostgreSQL cluster for one script: initdb into a folder, started on a port of its
# own, stopped and gone with the folder. Sourced by scripts/cluster.sh and scripts/bench-backup.sh.
#
#   private_pg_start DIR PORT   sets PG_BIN and PRIVATE_PG_URL (postgres://postgres@127.0.0.1:PORT)
#   private_pg_stop             stops it (safe to call when it never started)
#
# As root, the cluster runs as the postgres user (initdb refuses root): DIR's parents must be
# traversable by it. Needs initdb and pg_ctl (postgresql-15, or CLUSTER_PG_BIN=<bin folder>).

PRIVATE_PG_DIR=""

private_pg_as_owner() { if [[ $EUID == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

private_pg_start() {
  local dir=$1 port=$2
  PG_BIN="${CLUSTER_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
  if [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl ]]; then
    echo "PostgreSQL server programs not found (apt-get install postgresql-15, or set CLUSTER_PG_BIN)" >&2
    return 1
  fi
  mkdir -p "$dir"
  if [[ $EUID == 0 ]]; then chown postgres: "$dir"; fi
  if ! private_pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    return 1
  fi
  PRIVATE_PG_DIR=$dir
  if ! private_pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir" start >/dev/null; then
    cat "$dir/postgres.log" >&2
    return 1
  fi
  PRIVATE_PG_URL="postgres://postgres@127.0.0.1:$port"
}

private_pg_stop() {
  [[ -n $PRIVATE_PG_DIR ]] || return 0
  private_pg_as_owner "$PG_BIN/pg_ctl" -D "$PRIVATE_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  PRIVATE_PG_DIR=""
}
