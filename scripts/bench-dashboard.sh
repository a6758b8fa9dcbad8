#!/usr/bin/env bash
# Benchmark of the manager dashboard (GET /manage/f/{factory} and its CSV export,
# GET /manage/f/{factory}/dashboard.csv, both computed by src/services/reports.rs) on a factory
# with BENCH_LEARNERS learners (default 20,000) and a year of progress, on PostgreSQL.
#
#   1. builds the release binary; creates a fresh PostgreSQL database; `homeward migrate up`;
#      `homeward content import` (the sample content: every lesson gets progress)
#   2. generates the data with set-based SQL (scripts/bench-dashboard-factory.sql and
#      scripts/bench-dashboard-progress.sql): one factory with BENCH_LINES lines and one
#      enrollment code per line; BENCH_LEARNERS learners spread unevenly over the lines, joined
#      at random times over the past 365 days; for every (learner, lesson) pair, BENCH_OPEN_PCT %
#      opened and BENCH_COMPLETE_PCT % completed (lesson_progress), quiz attempts (1–2 per
#      completed lesson, 1 failed one for 20 % of unfinished ones), BENCH_EVENTS progress events
#      per opened lesson. Optionally a second factory (BENCH_OTHER_LEARNERS) so that the measured
#      factory is not the whole database. Then VACUUM ANALYZE.
#   3. adds a manager of the factory (`homeward staff add`), sets the password through the
#      one-time setup link and signs in through /staff/login (curl, cookie jar)
#   4. for each of the two URLs: starts a fresh `homeward serve` (release, RUST_LOG=warn), times
#      the first request (cold: new process, empty caches and connection pool; PostgreSQL's own
#      caches are warm from the data generation), then BENCH_REQUESTS sequential requests
#      (min / median / p95 / max). Every response must be 200 with the expected content, and the
#      CSV must count exactly BENCH_LEARNERS learners for the whole factory.
#   5. EXPLAIN ANALYZE of each query the dashboard runs (copied from src/services/reports.rs —
#      keep them in step), then a summary and the command to reproduce.
#   The database is dropped (and the Redis database flushed) at the end, also on failure.
#
# Usage: scripts/bench-dashboard.sh
# Settings (environment):
#   BENCH_LEARNERS=20000     learners in the measured factory
#   BENCH_REQUESTS=20        sequential requests timed per URL after the cold one
#   BENCH_LINES=10           lines in the factory (one enrollment code each)
#   BENCH_OPEN_PCT=60        % of (learner, lesson) pairs opened
#   BENCH_COMPLETE_PCT=40    % of (learner, lesson) pairs completed (at most BENCH_OPEN_PCT)
#   BENCH_EVENTS=5           progress events per opened lesson (at least 2)
#   BENCH_OTHER_LEARNERS=0   learners (same activity) in a second factory, not measured
#   BENCH_EXPLAIN=1          EXPLAIN ANALYZE the dashboard's queries: 1 = times and the top of
#                            each plan, full = whole plans, 0 = skip
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL server (no database name)
#   BENCH_REDIS_DB=none      `none`: no REDIS_URL (the server's in-process cache); a number: that
#                            database of BENCH_REDIS_URL, flushed before and after
#   BENCH_REDIS_URL=redis://127.0.0.1:6379            Redis server (no database number)
#   BENCH_PORT=              port for the server (default: a free one)
#   BENCH_KEEP_DB=0          1: keep the database at the end (its URL is printed) for digging
#   BENCH_EXTRA_SQL=         a SQL file run on the database after the data is generated and
#                            before VACUUM ANALYZE, e.g. scripts/bench-dashboard-indexes.sql to
#                            try candidate indexes
# Needs: cargo, curl, psql (PostgreSQL ≥ 13 for gen_random_uuid), redis-cli with BENCH_REDIS_DB.
set -euo pipefail

BENCH_EXTRA_SQL="${BENCH_EXTRA_SQL:-}"
if [[ -n "$BENCH_EXTRA_SQL" ]]; then # relative to where the script is started from
  [[ -f "$BENCH_EXTRA_SQL" ]] || { echo "bench-dashboard: error: BENCH_EXTRA_SQL: no file $BENCH_EXTRA_SQL" >&2; exit 1; }
  BENCH_EXTRA_SQL_ARG="$BENCH_EXTRA_SQL"
  BENCH_EXTRA_SQL="$(cd "$(dirname "$BENCH_EXTRA_SQL")" && pwd)/$(basename "$BENCH_EXTRA_SQL")"
fi
cd "$(dirname "$0")/.."
REPO="$(pwd)"
BIN="$REPO/target/release/homeward"
CONTENT_DIR="$REPO/content"
SQL_FACTORY="$REPO/scripts/bench-dashboard-factory.sql"
SQL_PROGRESS="$REPO/scripts/bench-dashboard-progress.sql"

BENCH_LEARNERS="${BENCH_LEARNERS:-20000}"
BENCH_REQUESTS="${BENCH_REQUESTS:-20}"
BENCH_LINES="${BENCH_LINES:-10}"
BENCH_OPEN_PCT="${BENCH_OPEN_PCT:-60}"
BENCH_COMPLETE_PCT="${BENCH_COMPLETE_PCT:-40}"
BENCH_EVENTS="${BENCH_EVENTS:-5}"
BENCH_OTHER_LEARNERS="${BENCH_OTHER_LEARNERS:-0}"
BENCH_EXPLAIN="${BENCH_EXPLAIN:-1}"
BENCH_PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
BENCH_REDIS_DB="${BENCH_REDIS_DB:-none}"
BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
BENCH_PORT="${BENCH_PORT:-}"
BENCH_KEEP_DB="${BENCH_KEEP_DB:-0}"
READY_TIMEOUT_S=60
MANAGER_EMAIL="bench-manager@example.org"

PG_DB="hw_dashboard_$$"
DB_URL="$BENCH_PG_URL/$PG_DB"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/homeward-bench-dashboard.XXXXXX")"
JAR="$TMP/cookies.txt"
SERVER_PID=""
PG_CREATED=0
REDIS_USED=0

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }
die() {
  printf 'bench-dashboard: error: %s\n' "$*" >&2
  exit 1
}

stop_server() { # SIGTERM, wait up to 10 s, then SIGKILL
  local pid="$SERVER_PID" _
  SERVER_PID=""
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  stop_server
  if [[ "$PG_CREATED" == 1 ]]; then
    if [[ "$BENCH_KEEP_DB" == 1 ]]; then
      say "kept database $PG_DB: DATABASE_URL=$DB_URL (drop it with: psql $BENCH_PG_URL/postgres -c 'DROP DATABASE $PG_DB WITH (FORCE)')"
    elif psql "$BENCH_PG_URL/postgres" -X -q -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1; then
      say "dropped database $PG_DB"
    else
      say "bench-dashboard: warning: could not drop database $PG_DB" >&2
    fi
  fi
  if [[ "$REDIS_USED" == 1 ]]; then
    redis-cli -u "$BENCH_REDIS_URL/$BENCH_REDIS_DB" FLUSHDB >/dev/null 2>&1 \
      || say "bench-dashboard: warning: could not flush Redis db $BENCH_REDIS_DB" >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found ($2)"; }
number() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 must be a whole number (got '$2')"; }

free_port() {
  local port _
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

psql_db() { psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }

# homeward CLI on the bench database, from $TMP (so no .env is read)
hw() {
  (cd "$TMP" && env -u REDIS_URL -u HOMEWARD_PUBLIC_URL -u LOG_FORMAT -u HOMEWARD_BIND \
    DATABASE_URL="$DB_URL" HOMEWARD_SECRET_KEY="$SECRET" RUST_LOG=warn "$BIN" "$@")
}

log_tail() {
  say "---- last 40 lines of $TMP/server.log"
  tail -n 40 "$TMP/server.log" || true
  say "----"
}

# Starts `homeward serve` in $TMP on $PORT (log: $TMP/server.log, appended) and waits for
# GET /livez (which touches neither the database nor the cache).
start_server() {
  local deadline code
  {
    echo "---- serve started $(date -u +%FT%TZ)"
  } >>"$TMP/server.log"
  (
    cd "$TMP"
    exec env -u REDIS_URL -u HOMEWARD_PUBLIC_URL -u LOG_FORMAT -u HOMEWARD_TRUST_PROXY \
      DATABASE_URL="$DB_URL" HOMEWARD_SECRET_KEY="$SECRET" HOMEWARD_BIND="127.0.0.1:$PORT" \
      HOMEWARD_CONTENT_DIR="$CONTENT_DIR" RUST_LOG=warn ${REDIS:+REDIS_URL="$REDIS"} \
      "$BIN" serve
  ) >>"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  deadline=$(($(date +%s) + READY_TIMEOUT_S))
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/livez" 2>/dev/null || true)"
    [[ "$code" == 200 ]] && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log_tail
      die "the server exited before answering (see its log above)"
    fi
    if (($(date +%s) > deadline)); then
      log_tail
      die "the server did not answer GET /livez with 200 within ${READY_TIMEOUT_S}s (last status $code)"
    fi
    sleep 0.05
  done
}

# hidden_csrf FILE → the value of the form's hidden csrf field
hidden_csrf() {
  grep -o 'name="csrf" value="[^"]*"' "$1" | head -n 1 | sed 's/.*value="//; s/"$//'
}

# stats: milliseconds on stdin, one a line → "n min median p95 max mean" (p95: nearest rank)
stats() {
  sort -n | awk '{ v[NR] = $1; s += $1 } END {
    if (NR == 0) { print "0 - - - - -"; exit }
    med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    r = int(0.95 * NR); if (r < 0.95 * NR) r++; if (r < 1) r = 1
    printf "%d %.1f %.1f %.1f %.1f %.1f\n", NR, v[1], med, v[r], v[NR], s / NR }'
}

# timed_get NAME URL CHECK: GET with the manager's cookies; fails unless 200 and the body
# contains CHECK (a fixed string). Prints the time in ms; keeps the body in $TMP/NAME.body.
timed_get() {
  local name="$1" url="$2" check="$3" out code t
  out="$(curl -s -b "$JAR" -o "$TMP/$name.body" -w '%{http_code} %{time_total}' --max-time 120 "$url")" \
    || die "GET $url failed (curl exit $?)"
  read -r code t <<<"$out"
  [[ "$code" == 200 ]] || die "GET $url answered $code: $(head -c 300 "$TMP/$name.body")"
  grep -qF -- "$check" "$TMP/$name.body" \
    || die "GET $url answered 200 but without '$check': $(head -c 300 "$TMP/$name.body")"
  awk -v t="$t" 'BEGIN { printf "%.1f\n", t * 1000 }'
}

# ---------------------------------------------------------------------------------------------
section "setup"
need cargo "install Rust"
need curl "apt-get install curl"
need psql "apt-get install postgresql-client"
for v in BENCH_LEARNERS BENCH_REQUESTS BENCH_LINES BENCH_OPEN_PCT BENCH_COMPLETE_PCT BENCH_EVENTS \
  BENCH_OTHER_LEARNERS; do
  number "$v" "${!v}"
done
((BENCH_LEARNERS >= 1)) || die "BENCH_LEARNERS must be at least 1"
((BENCH_REQUESTS >= 1)) || die "BENCH_REQUESTS must be at least 1"
((BENCH_LINES >= 1)) || die "BENCH_LINES must be at least 1"
((BENCH_OPEN_PCT <= 100 && BENCH_COMPLETE_PCT <= BENCH_OPEN_PCT)) \
  || die "need BENCH_COMPLETE_PCT ≤ BENCH_OPEN_PCT ≤ 100"
((BENCH_EVENTS >= 2)) || die "BENCH_EVENTS must be at least 2"
[[ "$BENCH_EXPLAIN" =~ ^(0|1|full)$ ]] || die "BENCH_EXPLAIN must be 0, 1 or full"
REDIS=""
if [[ "$BENCH_REDIS_DB" != none ]]; then
  number BENCH_REDIS_DB "$BENCH_REDIS_DB"
  need redis-cli "apt-get install redis-tools, or BENCH_REDIS_DB=none"
  REDIS="$BENCH_REDIS_URL/$BENCH_REDIS_DB"
  redis-cli -u "$REDIS" FLUSHDB >/dev/null || die "cannot reach Redis at $REDIS"
  REDIS_USED=1
fi
psql "$BENCH_PG_URL/postgres" -X -q -At -c 'SELECT 1' >/dev/null \
  || die "cannot connect to PostgreSQL at $BENCH_PG_URL (set BENCH_PG_URL)"
SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
PORT="${BENCH_PORT:-$(free_port)}"
BASE="http://127.0.0.1:$PORT"

t0="$(now_ns)"
say "building: cargo build --release --quiet"
cargo build --release --quiet || die "the release build failed"
say "build took $(secs_since "$t0") s"
[[ -x "$BIN" ]] || die "$BIN not found after the build"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain -- src templates migrations Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
  COMMIT="$COMMIT + uncommitted changes"
fi
CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
PG_VERSION="$(psql "$BENCH_PG_URL/postgres" -X -q -At -c 'SHOW server_version')"
say "machine: $CPU, $(nproc) cores; PostgreSQL $PG_VERSION; commit $COMMIT"

# ---------------------------------------------------------------------------------------------
section "database $PG_DB"
psql "$BENCH_PG_URL/postgres" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" \
  || die "could not create database $PG_DB"
PG_CREATED=1
hw migrate up
hw content import "$CONTENT_DIR"
LESSONS="$(psql_db -At -c 'SELECT count(*) FROM lesson')"
((LESSONS > 0)) || die "no lessons after the import"

# ---------------------------------------------------------------------------------------------
section "data: $BENCH_LEARNERS learners on $BENCH_LINES lines, $LESSONS lessons, a year of progress"
t0="$(now_ns)"
add_factory() { # NAME_ZH NAME_EN LEARNERS TAG SEED → factory id
  local id
  id="$(psql_db -At -c "INSERT INTO factory (name_zh, name_en, city, created_at)
                        VALUES ('$1', '$2', '东莞', now() - interval '400 days') RETURNING id")"
  psql_db -1 -v factory_id="$id" -v lines="$BENCH_LINES" -v learners="$3" -v tag="$4" \
    -v seed="$5" -f "$SQL_FACTORY" >/dev/null
  echo "$id"
}
FACTORY="$(add_factory '基准电子厂' 'Benchmark Electronics' "$BENCH_LEARNERS" bench 0.42)"
say "factory $FACTORY: $BENCH_LEARNERS learners ($(secs_since "$t0") s)"
if ((BENCH_OTHER_LEARNERS > 0)); then
  OTHER="$(add_factory '另一家工厂' 'Another factory' "$BENCH_OTHER_LEARNERS" other 0.17)"
  say "factory $OTHER (not measured): $BENCH_OTHER_LEARNERS learners"
fi
t1="$(now_ns)"
psql_db -1 -v open_pct="$BENCH_OPEN_PCT" -v complete_pct="$BENCH_COMPLETE_PCT" \
  -v events="$BENCH_EVENTS" -v seed=0.43 -f "$SQL_PROGRESS" >/dev/null
say "progress for every learner ($(secs_since "$t1") s)"
if [[ -n "$BENCH_EXTRA_SQL" ]]; then
  t1="$(now_ns)"
  psql_db -1 -f "$BENCH_EXTRA_SQL" >/dev/null
  say "ran BENCH_EXTRA_SQL=$BENCH_EXTRA_SQL_ARG ($(secs_since "$t1") s)"
fi
t1="$(now_ns)"
psql_db -c 'VACUUM ANALYZE'
say "VACUUM ANALYZE ($(secs_since "$t1") s); data generation took $(secs_since "$t0") s in all"

ROWS="$TMP/rows.txt"
psql_db -At -F $'\t' >"$ROWS" <<SQL
SELECT 'learner', (SELECT count(*) FROM learner WHERE factory_id = $FACTORY), (SELECT count(*) FROM learner), pg_total_relation_size('learner')
UNION ALL SELECT 'lesson_progress', (SELECT count(*) FROM lesson_progress p JOIN learner l ON l.id = p.learner_id WHERE l.factory_id = $FACTORY), (SELECT count(*) FROM lesson_progress), pg_total_relation_size('lesson_progress')
UNION ALL SELECT '  of which completed', (SELECT count(*) FROM lesson_progress p JOIN learner l ON l.id = p.learner_id WHERE l.factory_id = $FACTORY AND p.completed_at IS NOT NULL), (SELECT count(*) FROM lesson_progress WHERE completed_at IS NOT NULL), NULL
UNION ALL SELECT 'quiz_attempt', (SELECT count(*) FROM quiz_attempt a JOIN learner l ON l.id = a.learner_id WHERE l.factory_id = $FACTORY), (SELECT count(*) FROM quiz_attempt), pg_total_relation_size('quiz_attempt')
UNION ALL SELECT 'progress_event', (SELECT count(*) FROM progress_event e JOIN learner l ON l.id = e.learner_id WHERE l.factory_id = $FACTORY), (SELECT count(*) FROM progress_event), pg_total_relation_size('progress_event')
UNION ALL SELECT 'line', (SELECT count(*) FROM line WHERE factory_id = $FACTORY), (SELECT count(*) FROM line), NULL
UNION ALL SELECT 'enrollment_code', (SELECT count(*) FROM enrollment_code WHERE factory_id = $FACTORY), (SELECT count(*) FROM enrollment_code), NULL
UNION ALL SELECT 'lesson', NULL, (SELECT count(*) FROM lesson), NULL
SQL
ROW_TABLE="$(awk -F'\t' 'BEGIN { printf "   %-22s %14s %12s %12s\n", "table", "this factory", "all rows", "size (MiB)" }
  { printf "   %-22s %14s %12s %12s\n", $1, $2 == "" ? "-" : $2, $3, $4 == "" ? "" : sprintf("%.1f", $4 / 1048576) }' "$ROWS")"
say "$ROW_TABLE"
say "   active learners (any lesson_progress.updated_at) in the last 7 days: $(psql_db -At -c \
  "SELECT count(DISTINCT p.learner_id) FROM lesson_progress p JOIN learner l ON l.id = p.learner_id
    WHERE l.factory_id = $FACTORY AND p.updated_at >= now() - interval '7 days'"), 30 days: $(psql_db -At -c \
  "SELECT count(DISTINCT p.learner_id) FROM lesson_progress p JOIN learner l ON l.id = p.learner_id
    WHERE l.factory_id = $FACTORY AND p.updated_at >= now() - interval '30 days'")"

# ---------------------------------------------------------------------------------------------
section "manager: staff add, set the password, sign in"
ADD_OUT="$(hw staff add --role manager --email "$MANAGER_EMAIL" --factory "$FACTORY")" \
  || die "homeward staff add failed: $ADD_OUT"
SETUP_TOKEN="$(printf '%s\n' "$ADD_OUT" | tail -n 1 | sed -n 's#.*/staff/setup/##p')"
[[ -n "$SETUP_TOKEN" ]] || die "no /staff/setup/ link in the output of staff add: $ADD_OUT"
PASSWORD="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

start_server
code="$(curl -s -c "$JAR" -b "$JAR" -o "$TMP/setup.html" -w '%{http_code}' "$BASE/staff/setup/$SETUP_TOKEN")"
[[ "$code" == 200 ]] || die "GET /staff/setup/… answered $code"
CSRF="$(hidden_csrf "$TMP/setup.html")"
[[ -n "$CSRF" ]] || die "no csrf field on the setup page"
code="$(curl -s -c "$JAR" -b "$JAR" -o "$TMP/setup-post.html" -w '%{http_code}' \
  --data-urlencode "csrf=$CSRF" --data-urlencode "password=$PASSWORD" "$BASE/staff/setup/$SETUP_TOKEN")"
[[ "$code" == 303 ]] || die "POST /staff/setup/… answered $code (expected 303): $(head -c 300 "$TMP/setup-post.html")"
code="$(curl -s -c "$JAR" -b "$JAR" -o "$TMP/login.html" -w '%{http_code}' "$BASE/staff/login")"
[[ "$code" == 200 ]] || die "GET /staff/login answered $code"
CSRF="$(hidden_csrf "$TMP/login.html")"
[[ -n "$CSRF" ]] || die "no csrf field on the sign-in page"
out="$(curl -s -c "$JAR" -b "$JAR" -o "$TMP/login-post.html" -w '%{http_code} %{redirect_url}' \
  --data-urlencode "csrf=$CSRF" --data-urlencode "email=$MANAGER_EMAIL" \
  --data-urlencode "password=$PASSWORD" --data-urlencode "next=" "$BASE/staff/login")"
[[ "${out%% *}" == 303 ]] || die "POST /staff/login answered ${out%% *} (expected 303): $(head -c 300 "$TMP/login-post.html")"
grep -q 'hw_staff' "$JAR" || die "no hw_staff cookie after signing in"
say "signed in as $MANAGER_EMAIL (manager of factory $FACTORY); redirected to ${out#* }"
stop_server

# ---------------------------------------------------------------------------------------------
HTML_URL="$BASE/manage/f/$FACTORY"
CSV_URL="$BASE/manage/f/$FACTORY/dashboard.csv"
CSV_TOTAL="line,\"whole factory\",$BENCH_LEARNERS,"
declare -A COLD STATS BYTES LOAD

bench_url() { # KEY URL CHECK
  local key="$1" url="$2" check="$3" _ ms
  section "GET ${url#"$BASE"}: a fresh server, 1 cold + $BENCH_REQUESTS sequential requests"
  start_server
  COLD[$key]="$(timed_get "$key" "$url" "$check")"
  BYTES[$key]="$(stat -c %s "$TMP/$key.body")"
  say "   cold (first request after start): ${COLD[$key]} ms, ${BYTES[$key]} bytes"
  : >"$TMP/$key.times"
  for _ in $(seq 1 "$BENCH_REQUESTS"); do
    ms="$(timed_get "$key" "$url" "$check")"
    echo "$ms" >>"$TMP/$key.times"
  done
  LOAD[$key]="$(cut -d' ' -f1-3 /proc/loadavg)"
  say "   each (ms): $(tr '\n' ' ' <"$TMP/$key.times")"
  STATS[$key]="$(stats <"$TMP/$key.times")"
  stop_server
}

bench_url html "$HTML_URL" "$BENCH_LINES 号线"
bench_url csv "$CSV_URL" "$CSV_TOTAL"
say "   CSV check: the whole factory counts $BENCH_LEARNERS learners; its first lines:"
head -n 3 "$TMP/csv.body" | sed 's/^/     /'
grep '^line,"whole factory"' "$TMP/csv.body" | sed 's/^/     /'
NLOG="$(grep -c -E 'WARN|ERROR' "$TMP/server.log" || true)"
if [[ "$NLOG" != 0 ]]; then
  say "   WARNING: $NLOG WARN/ERROR lines in the server log; first 10:"
  grep -E 'WARN|ERROR' "$TMP/server.log" | head -n 10 | sed 's/^/     /'
fi

# ---------------------------------------------------------------------------------------------
# The dashboard's queries, as src/services/reports.rs runs them (prepared, $1 = factory, $2 = a
# cut-off time). Keep in step with reports.rs.
QUERY_NAMES=(factory lines learners_by_line active_7_days active_30_days scores_by_line
  joins_learner_rows per_lesson lesson_scores)
declare -A QUERY_SQL QUERY_ARGS QUERY_MS
QUERY_SQL[factory]="SELECT name_zh, name_en FROM factory WHERE id = \$1"
QUERY_SQL[lines]="SELECT id, name FROM line WHERE factory_id = \$1 ORDER BY id"
QUERY_SQL[learners_by_line]="SELECT line_id, COUNT(*) AS n FROM learner WHERE factory_id = \$1 GROUP BY line_id"
QUERY_SQL[active_7_days]="SELECT l.line_id AS line_id, COUNT(DISTINCT p.learner_id) AS n FROM lesson_progress p JOIN learner l ON l.id = p.learner_id WHERE l.factory_id = \$1 AND p.updated_at >= \$2 GROUP BY l.line_id"
QUERY_SQL[active_30_days]="${QUERY_SQL[active_7_days]}"
QUERY_SQL[scores_by_line]="SELECT l.line_id AS line_id, AVG(CAST(a.score AS DOUBLE PRECISION) / a.total) AS avg, COUNT(DISTINCT a.learner_id) AS n FROM quiz_attempt a JOIN learner l ON l.id = a.learner_id WHERE l.factory_id = \$1 AND a.total > 0 GROUP BY l.line_id"
QUERY_SQL[joins_learner_rows]="SELECT line_id, created_at FROM learner WHERE factory_id = \$1"
QUERY_SQL[per_lesson]="SELECT p.lesson_id AS lesson_id, COUNT(p.first_opened_at) AS opened, COUNT(p.completed_at) AS completed, COUNT(p.quiz_best_score) AS takers FROM lesson_progress p JOIN learner l ON l.id = p.learner_id WHERE l.factory_id = \$1 GROUP BY p.lesson_id"
QUERY_SQL[lesson_scores]="SELECT a.lesson_id AS lesson_id, AVG(CAST(a.score AS DOUBLE PRECISION) / a.total) AS avg, COUNT(DISTINCT a.learner_id) AS n FROM quiz_attempt a JOIN learner l ON l.id = a.learner_id WHERE l.factory_id = \$1 AND a.total > 0 GROUP BY a.lesson_id"
for q in "${QUERY_NAMES[@]}"; do QUERY_ARGS[$q]="$FACTORY"; done
QUERY_ARGS[active_7_days]="$FACTORY, now() - interval '7 days'"
QUERY_ARGS[active_30_days]="$FACTORY, now() - interval '30 days'"

if [[ "$BENCH_EXPLAIN" != 0 ]]; then
  section "EXPLAIN (ANALYZE, BUFFERS) of the dashboard's queries (factory $FACTORY)"
  for q in "${QUERY_NAMES[@]}"; do
    # shellcheck disable=SC2016 # a literal $2
    if [[ "${QUERY_SQL[$q]}" == *'$2'* ]]; then types="bigint, timestamptz"; else types="bigint"; fi
    psql_db -At >"$TMP/plan-$q.txt" <<SQL
PREPARE q($types) AS ${QUERY_SQL[$q]};
EXECUTE q(${QUERY_ARGS[$q]}) \\g /dev/null
EXPLAIN (ANALYZE, BUFFERS) EXECUTE q(${QUERY_ARGS[$q]});
SQL
    QUERY_MS[$q]="$(sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' "$TMP/plan-$q.txt")"
    say "-- $q: ${QUERY_MS[$q]} ms"
    if [[ "$BENCH_EXPLAIN" == full ]]; then
      sed 's/^/   /' "$TMP/plan-$q.txt"
    else
      grep -v -E '^(Planning|Execution)|Buffers:|^ *Planning:' "$TMP/plan-$q.txt" | head -n 8 | sed 's/^/   /'
    fi
  done
fi

# ---------------------------------------------------------------------------------------------
section "summary"
say "Manager dashboard of factory $FACTORY: $BENCH_LEARNERS learners on $BENCH_LINES lines, joined over"
say "the past 365 days; $LESSONS lessons, each opened by $BENCH_OPEN_PCT % and completed by $BENCH_COMPLETE_PCT % of the learners."
say "Rows (this factory / whole database):"
say "$ROW_TABLE"
say "Server: release build, PostgreSQL $PG_VERSION (local), $(if [[ -n "$REDIS" ]]; then echo "Redis $REDIS (flushed before)"; else echo "in-process cache (no REDIS_URL)"; fi), RUST_LOG=warn;"
say "commit $COMMIT; $CPU, $(nproc) cores. Times are curl's time_total over loopback, sequential;"
if [[ -n "$BENCH_EXTRA_SQL" ]]; then say "extra SQL run before VACUUM ANALYZE: $BENCH_EXTRA_SQL_ARG"; fi
say "cold = first request to a freshly started server process (PostgreSQL's caches already warm)."
say "Load average (1/5/15 min) after the HTML run: ${LOAD[html]}; after the CSV run: ${LOAD[csv]}."
say ""
printf '   %-36s %9s %6s %9s %9s %9s %9s %9s %10s\n' "request" "cold ms" "n" "min ms" "median" "p95 ms" "max ms" "mean ms" "bytes"
for key in html csv; do
  read -r n mn med p95 mx mean <<<"${STATS[$key]}"
  if [[ "$key" == html ]]; then path="GET /manage/f/$FACTORY"; else path="GET /manage/f/$FACTORY/dashboard.csv"; fi
  printf '   %-36s %9s %6s %9s %9s %9s %9s %9s %10s\n' "$path" "${COLD[$key]}" "$n" "$mn" "$med" "$p95" "$mx" "$mean" "${BYTES[$key]}"
done
if [[ "$BENCH_EXPLAIN" != 0 ]]; then
  say ""
  say "PostgreSQL execution time of each dashboard query (EXPLAIN ANALYZE, warm, ms):"
  total=0
  for q in "${QUERY_NAMES[@]}"; do
    printf '   %-22s %9s\n' "$q" "${QUERY_MS[$q]:-?}"
    total="$(awk -v a="$total" -v b="${QUERY_MS[$q]:-0}" 'BEGIN { printf "%.3f", a + b }')"
  done
  printf '   %-22s %9s\n' "sum" "$total"
fi
SLOW="$(awk -v a="$(echo "${STATS[html]}" | cut -d' ' -f3)" -v b="$(echo "${STATS[csv]}" | cut -d' ' -f3)" \
  'BEGIN { print (a > 1000 || b > 1000) ? "yes" : "no" }')"
if [[ "$SLOW" == yes ]]; then
  say ""
  say "NOTE: a median over 1 s — see the EXPLAIN section above for the slow query."
fi
say ""
say "Reproduce (from the repository root; needs PostgreSQL at $BENCH_PG_URL, user postgres):"
repro="scripts/bench-dashboard.sh"
for v in BENCH_LEARNERS BENCH_REQUESTS BENCH_LINES BENCH_OPEN_PCT BENCH_COMPLETE_PCT BENCH_EVENTS \
  BENCH_OTHER_LEARNERS BENCH_REDIS_DB; do
  case "$v" in
    BENCH_LEARNERS) def=20000 ;; BENCH_REQUESTS) def=20 ;; BENCH_LINES) def=10 ;;
    BENCH_OPEN_PCT) def=60 ;; BENCH_COMPLETE_PCT) def=40 ;; BENCH_EVENTS) def=5 ;;
    BENCH_OTHER_LEARNERS) def=0 ;; BENCH_REDIS_DB) def=none ;;
  esac
  if [[ "${!v}" != "$def" ]]; then repro="$v=${!v} $repro"; fi
done
if [[ -n "$BENCH_EXTRA_SQL" ]]; then repro="BENCH_EXTRA_SQL=$BENCH_EXTRA_SQL_ARG $repro"; fi
if [[ "$BENCH_PG_URL" != postgres://postgres@127.0.0.1:5432 ]]; then
  repro="BENCH_PG_URL=$BENCH_PG_URL $repro"
fi
say "   $repro"
say "   (knobs: BENCH_LEARNERS=20000 BENCH_REQUESTS=20 BENCH_LINES=10 BENCH_OPEN_PCT=60 BENCH_COMPLETE_PCT=40"
say "    BENCH_EVENTS=5 BENCH_OTHER_LEARNERS=0 BENCH_REDIS_DB=none BENCH_EXPLAIN=1 BENCH_KEEP_DB=0 BENCH_EXTRA_SQL=)"
