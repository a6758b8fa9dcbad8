#!/usr/bin/env bash
# Benchmark of the weekly push (benches/push.rs): one release to BENCH_FOLLOWERS followers, sent
# by BENCH_INSTANCES Homeward worker processes sharing one fresh PostgreSQL database, through a
# WeChat stand-in that answers each template message after BENCH_STANDIN_MS milliseconds and
# counts every message per follower.
#
# Prints: messages per second (first to last message), time from the release to the first and
# the last message, duplicates (must be 0), messages before the release (must be none), and the
# database's load (transactions, rows inserted and updated, blocks, from pg_stat_database).
# The send rate is HOMEWARD_PUSH_RATE (BENCH_RATE): the figures show whether Homeward reaches it.
# The database is dropped at the end, also on failure.
#
# Usage: scripts/bench-push.sh
# Settings (environment):
#   BENCH_FOLLOWERS=100000   learners of the series (all following)
#   BENCH_RATE=2000          HOMEWARD_PUSH_RATE, messages per second for all instances together
#   BENCH_INSTANCES=2        worker processes
#   BENCH_STANDIN_MS=5       the stand-in's answer time per message
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL server (no database name)
#   BENCH_TIMEOUT=900        give up after this many seconds
# Needs: cargo, jq, a PostgreSQL server.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

BENCH_FOLLOWERS="${BENCH_FOLLOWERS:-100000}"
BENCH_RATE="${BENCH_RATE:-2000}"
BENCH_INSTANCES="${BENCH_INSTANCES:-2}"
BENCH_STANDIN_MS="${BENCH_STANDIN_MS:-5}"
BENCH_PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-900}"

echo "== building: cargo build --release --bench push"
BENCH_BIN="$(cargo build --release --quiet --bench push --message-format=json-render-diagnostics \
  | jq -r 'select(.reason == "compiler-artifact" and .target.name == "push" and .executable != null) | .executable' \
  | tail -n 1)"
[[ -n "$BENCH_BIN" && -x "$BENCH_BIN" ]] || { echo "bench-push: the push bench executable was not found" >&2; exit 1; }
echo "== running $BENCH_FOLLOWERS followers, $BENCH_INSTANCES instances, rate $BENCH_RATE/s"
"$BENCH_BIN" run --pg "$BENCH_PG_URL" --followers "$BENCH_FOLLOWERS" \
  --rate "$BENCH_RATE" --instances "$BENCH_INSTANCES" --standin-ms "$BENCH_STANDIN_MS" \
  --timeout "$BENCH_TIMEOUT"
echo
echo "reproduce: BENCH_FOLLOWERS=$BENCH_FOLLOWERS BENCH_RATE=$BENCH_RATE BENCH_INSTANCES=$BENCH_INSTANCES BENCH_STANDIN_MS=$BENCH_STANDIN_MS scripts/bench-push.sh"
