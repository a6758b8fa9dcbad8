#!/usr/bin/env bash
# Benchmark of the progress event endpoint (POST /api/v1/progress/events) on PostgreSQL, against
# pgbench inserting the same rows one per transaction with the same number of clients.
#
#   1. builds the release binary and the load generator (benches/progress_events.rs)
#   2. creates a fresh PostgreSQL database, `homeward migrate up`, `homeward content import`
#   3. starts `homeward serve` (release, RUST_LOG=warn, HOMEWARD_TRUST_PROXY=true) on PostgreSQL
#      and a flushed Redis database (BENCH_REDIS_DB; `none` runs it with the in-process cache)
#   4. adds a factory and enrollment code(s) and enrolls BENCH_LEARNERS learners through the API
#      (POST /api/v1/enrollments, a distinct X-Forwarded-For each, because joins are
#      rate-limited per address)
#   5. for each batch size in BENCH_BATCH: BENCH_LEARNERS learners send batches of fresh events
#      for BENCH_SECONDS seconds; then every acknowledged event id (answered `accepted` in a 200)
#      is looked up in progress_event with SQL — the number missing must be 0
#   6. pgbench -n -c BENCH_LEARNERS -j BENCH_PGBENCH_JOBS -T BENCH_SECONDS: one INSERT of a row
#      like the server's (into bench_event: same columns, foreign keys and unique constraint)
#      per transaction, random uuids (gen_random_uuid())
#   7. summary: server events/s, pgbench rows/s, their ratio (target ≥ 2), missing events.
#   The database is dropped (and the Redis database flushed) at the end, also on failure.
#
# Usage: scripts/bench-events.sh
# Settings (environment):
#   BENCH_LEARNERS=64        concurrent learners = pgbench clients
#   BENCH_SECONDS=15         duration of each load run and of the pgbench run
#   BENCH_BATCH=50           events per request; a list ("20 50 100") runs one load run per size
#                            on the same server and database, in that order
#   BENCH_SERIES=parents     series of the lessons the events are about
#   BENCH_LESSONS=           comma list of released lesson slugs (default: all released lessons)
#   BENCH_LESSONS_PER_BATCH=2  distinct lessons in one request
#   BENCH_GEN_THREADS=1      runtime threads of the load generator
#   BENCH_PGBENCH_JOBS=2     pgbench -j
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL server (no database name)
#   BENCH_PG_SSLMODE=        sslmode for every connection (server, psql, pgbench), e.g. `disable`;
#                            default: the clients' default (`prefer`: TLS when the server offers it)
#   BENCH_REDIS_URL=redis://127.0.0.1:6379            Redis server (no database number)
#   BENCH_REDIS_DB=5         Redis database used by the server (flushed before and after);
#                            `none`: no REDIS_URL, the server's in-process cache
#   BENCH_PORT=              port for the server (default: a free one)
#   BENCH_WAIT_QUIET=60      before each measured run, wait up to this many seconds for the
#                            machine to be idle (under 25% busy over 2 s); other processes (a
#                            cargo build…) share the cores and disturb the figures. 0: no wait
# Needs: cargo, curl, jq, psql, pgbench (postgresql-client), redis-cli unless BENCH_REDIS_DB=none.
set -Eeuo pipefail

cd "$(dirname "$0")/.."
REPO="$(pwd)"
BIN="$REPO/target/release/homeward"
CONTENT_DIR="$REPO/content"

BENCH_LEARNERS="${BENCH_LEARNERS:-64}"
BENCH_SECONDS="${BENCH_SECONDS:-15}"
BENCH_BATCH="${BENCH_BATCH:-50}"
BENCH_SERIES="${BENCH_SERIES:-parents}"
BENCH_LESSONS="${BENCH_LESSONS:-}"
BENCH_LESSONS_PER_BATCH="${BENCH_LESSONS_PER_BATCH:-2}"
BENCH_GEN_THREADS="${BENCH_GEN_THREADS:-1}"
BENCH_PGBENCH_JOBS="${BENCH_PGBENCH_JOBS:-2}"
BENCH_PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
BENCH_PG_SSLMODE="${BENCH_PG_SSLMODE:-}"
BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
BENCH_REDIS_DB="${BENCH_REDIS_DB:-5}"
BENCH_PORT="${BENCH_PORT:-}"
BENCH_WAIT_QUIET="${BENCH_WAIT_QUIET:-60}"
READY_TIMEOUT_S=60
JOINS_PER_CODE=250 # the server allows 300 joins per code per 10 minutes

PG_DB="hw_events_$$"
DB_URL="$BENCH_PG_URL/$PG_DB${BENCH_PG_SSLMODE:+?sslmode=$BENCH_PG_SSLMODE}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/homeward-bench-events.XXXXXX")"
SERVER_PID=""
SAMPLER_PID=""
PG_CREATED=0
REDIS_USED=0

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }
die() {
  printf 'bench-events: error: %s\n' "$*" >&2
  exit 1
}

stop_pid() { # PID: SIGTERM, wait up to 10 s, then SIGKILL
  local pid="$1" _
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
  stop_pid "$SAMPLER_PID"
  stop_pid "$SERVER_PID"
  if [[ "$PG_CREATED" == 1 ]]; then
    if psql "$BENCH_PG_URL/postgres" -X -q -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1; then
      say "dropped database $PG_DB"
    else
      say "bench-events: warning: could not drop database $PG_DB" >&2
    fi
  fi
  if [[ "$REDIS_USED" == 1 ]]; then
    redis-cli -u "$BENCH_REDIS_URL/$BENCH_REDIS_DB" FLUSHDB >/dev/null 2>&1 \
      || say "bench-events: warning: could not flush Redis db $BENCH_REDIS_DB" >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'say "bench-events: error: a command failed (line $LINENO, exit $?)" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found ($2)"; }

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

# CPU seconds used so far: of one process (cpu_of PID), of every `postgres` process (cpu_pg;
# with the children they reaped, so backends that ended are still counted).
CLK_TCK="$(getconf CLK_TCK 2>/dev/null || echo 100)"
cpu_of() {
  awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
cpu_pg() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v hz="$CLK_TCK" '$2 == "(postgres)" {
    line = $0; sub(/^.*\) /, "", line); split(line, f, " "); s += f[12] + f[13] + f[14] + f[15] } END { printf "%.2f\n", s / hz }'
}
cpu_comm() { # NAME: CPU seconds of every live process with that command name
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v hz="$CLK_TCK" -v name="($1)" '$2 == name {
    line = $0; sub(/^.*\) /, "", line); split(line, f, " "); s += f[12] + f[13] } END { printf "%.2f\n", s / hz }'
}
machine_ticks() { # "busy total" jiffies of all cores, from /proc/stat
  awk '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat
}
busy_seconds() { # "busy0 total0" "busy1 total1" → CPU seconds all cores were busy in between
  awk -v a="$1" -v b="$2" -v hz="$CLK_TCK" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.1f\n", (y[1] - x[1]) / hz }'
}
proc_ticks() { # "pid comm ticks" of every process
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '{ line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
    comm = $0; sub(/^[0-9]+ \(/, "", comm); sub(/\) .*$/, "", comm); gsub(/ /, "_", comm)
    print $1, comm, f[12] + f[13] }'
}
# wait_quiet WHAT: waits (up to BENCH_WAIT_QUIET s) until the machine is under 25% busy over 2 s;
# otherwise warns, naming the busiest other processes. Sets QUIET[WHAT] to the last busy %.
declare -A QUIET
wait_quiet() {
  local what="$1" deadline a b pct p0 p1 top
  deadline=$(($(date +%s) + BENCH_WAIT_QUIET))
  while :; do
    a="$(machine_ticks)"
    p0="$(proc_ticks)"
    sleep 2
    b="$(machine_ticks)"
    pct="$(busy_pct "$a" "$b")"
    QUIET[$what]="$pct"
    [[ "$pct" =~ ^[0-9]+$ ]] && ((pct < 25)) && return 0
    if (($(date +%s) >= deadline)); then
      p1="$(proc_ticks)"
      top="$(awk -v hz="$CLK_TCK" 'NR == FNR { t[$1] = $3; next } ($1 in t) && $3 > t[$1] { c[$2] += ($3 - t[$1]) / hz / 2 }
        END { for (n in c) if (c[n] >= 0.05) printf "%.0f%% %s\n", 100 * c[n], n }' <(printf '%s\n' "$p0") <(printf '%s\n' "$p1") \
        | sort -rn | head -n 5 | paste -sd, | sed 's/,/, /g')"
      say "   WARNING: the machine is still ${pct}% busy (of $CORES cores) after waiting ${BENCH_WAIT_QUIET}s; busiest (% of one core): ${top:-?}."
      say "            The figures below are disturbed by those processes."
      return 0
    fi
  done
}
busy_pct() { # "busy0 total0" "busy1 total1" → % of all cores busy in between
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
    if (y[2] > x[2]) printf "%.0f\n", 100 * (y[1] - x[1]) / (y[2] - x[2]); else print "n/a" }'
}
redis_commands() { # commands processed by the whole Redis server so far (empty without Redis)
  [[ -n "${REDIS:-}" ]] || return 0
  redis-cli -u "$REDIS" INFO stats 2>/dev/null | tr -d '\r' | awk -F: '$1 == "total_commands_processed" { print $2 }'
}
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", a - b }'; }

psql_db() { psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }

# Samples what the server's PostgreSQL sessions are doing every 0.5 s (state, wait event and the
# start of the current or last statement of every non-idle session), one line per session, into
# FILE, until killed.
start_sampler() {
  local file="$1"
  : >"$file"
  (
    while :; do
      psql_db -At -c "SELECT state || ' / ' || COALESCE(wait_event_type || ':' || wait_event, 'on CPU')
                             || ' / ' || left(regexp_replace(query, '\s+', ' ', 'g'), 50)
                        FROM pg_stat_activity
                       WHERE datname = current_database() AND pid <> pg_backend_pid()
                         AND state <> 'idle' AND backend_type = 'client backend'" >>"$file" 2>/dev/null || true
      echo "--" >>"$file"
      sleep 0.5
    done
  ) &
  SAMPLER_PID=$!
}
stop_sampler() {
  stop_pid "$SAMPLER_PID"
  SAMPLER_PID=""
}
report_sampler() { # FILE: average number of sessions per state / wait event
  local file="$1" samples
  samples="$(grep -c '^--$' "$file" || true)"
  ((samples > 0)) || return 0
  say "   server's PostgreSQL sessions, average over $samples samples (state / wait event / statement):"
  grep -v '^--$' "$file" | sort | uniq -c | sort -rn | head -n 10 \
    | awk -v n="$samples" '{ c = $1; $1 = ""; printf "     %6.1f %s\n", c / n, $0 }'
}

metric_lines() { curl -s --max-time 5 "$1/metrics" | grep -E "$2" || true; }

# ---------------------------------------------------------------------------------------------
section "setup"
need cargo "install Rust"
need curl "apt-get install curl"
need jq "apt-get install jq"
need psql "apt-get install postgresql-client"
need pgbench "apt-get install postgresql-client"
[[ "$BENCH_REDIS_DB" == none ]] || need redis-cli "apt-get install redis-tools, or BENCH_REDIS_DB=none"
read -r -a BATCHES <<<"${BENCH_BATCH//,/ }"
((${#BATCHES[@]} > 0)) || die "BENCH_BATCH is empty"
for b in "${BATCHES[@]}"; do
  [[ "$b" =~ ^[0-9]+$ ]] && ((b >= 1 && b <= 100)) || die "BENCH_BATCH: '$b' is not a batch size from 1 to 100"
done
[[ "$BENCH_LEARNERS" =~ ^[0-9]+$ ]] && ((BENCH_LEARNERS >= 1)) || die "BENCH_LEARNERS must be a positive number"
[[ "$BENCH_SECONDS" =~ ^[0-9]+$ ]] && ((BENCH_SECONDS >= 1)) || die "BENCH_SECONDS must be a positive number"

say "building: cargo build --release --quiet; cargo build --release --bench progress_events"
cargo build --release --quiet || die "release build failed"
GEN="$(cargo build --release --quiet --bench progress_events --message-format=json-render-diagnostics \
  | jq -r 'select(.reason == "compiler-artifact" and .target.name == "progress_events" and .executable != null) | .executable' \
  | tail -n 1)"
[[ -x "$BIN" ]] || die "$BIN not found after the build"
[[ -n "$GEN" && -x "$GEN" ]] || die "the progress_events bench executable was not found after the build"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain -- src templates migrations Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
  COMMIT="$COMMIT + uncommitted changes"
fi
CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
CORES="$(nproc)"
say "machine: $CPU_MODEL, $CORES cores; commit $COMMIT"
say "server: $BIN; load generator: $GEN"

pg_isready -q -d "$BENCH_PG_URL/postgres" || die "PostgreSQL at $BENCH_PG_URL is not accepting connections"
PG_VERSION="$(psql "$BENCH_PG_URL/postgres" -X -At -c 'SHOW server_version')"
PG_SETTINGS="$(psql "$BENCH_PG_URL/postgres" -X -At -F= -c "SELECT name, setting FROM pg_settings
  WHERE name IN ('max_connections', 'shared_buffers', 'synchronous_commit', 'fsync', 'commit_delay', 'wal_level')
  ORDER BY name" | paste -sd' ')"
say "PostgreSQL $PG_VERSION at $BENCH_PG_URL: $PG_SETTINGS"
psql "$BENCH_PG_URL/postgres" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null \
  || die "could not create database $PG_DB"
PG_CREATED=1
say "database $DB_URL"

# A throw-away secret key (required on PostgreSQL: it signs CSRF tokens).
SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SERVER_ENV=(RUST_LOG=warn DATABASE_URL="$DB_URL" HOMEWARD_CONTENT_DIR="$CONTENT_DIR" HOMEWARD_TRUST_PROXY=true
  HOMEWARD_SECRET_KEY="$SECRET_KEY")
if [[ "$BENCH_REDIS_DB" == none ]]; then
  CACHE_DESC="in-process cache (no REDIS_URL)"
else
  REDIS="$BENCH_REDIS_URL/$BENCH_REDIS_DB"
  redis-cli -u "$REDIS" ping >/dev/null 2>&1 || die "Redis at $BENCH_REDIS_URL does not answer PING (or BENCH_REDIS_DB=none)"
  REDIS_USED=1
  say "Redis $REDIS had $(redis-cli -u "$REDIS" DBSIZE) keys; flushing"
  redis-cli -u "$REDIS" FLUSHDB >/dev/null
  SERVER_ENV+=(REDIS_URL="$REDIS")
  CACHE_DESC="Redis db $BENCH_REDIS_DB (flushed before and after)"
fi

# Every command runs in its own folder so no .env is read.
mkdir -p "$TMP/run"
hw() { (cd "$TMP/run" && env -u REDIS_URL -u DATABASE_URL -u HOMEWARD_PUBLIC_URL -u LOG_FORMAT -u HOMEWARD_SECRET_KEY \
  "${SERVER_ENV[@]}" HOMEWARD_BIND="127.0.0.1:$PORT" "$BIN" "$@"); }

PORT="${BENCH_PORT:-$(free_port)}"
BASE="http://127.0.0.1:$PORT"
hw migrate up 2>&1 | sed 's/^/   migrate up: /'
hw content import 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | tail -n 1 | sed 's/^/   content import: /'

section "server"
(cd "$TMP/run" && exec env -u REDIS_URL -u DATABASE_URL -u HOMEWARD_PUBLIC_URL -u LOG_FORMAT -u HOMEWARD_SECRET_KEY \
  "${SERVER_ENV[@]}" HOMEWARD_BIND="127.0.0.1:$PORT" "$BIN" serve) >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
deadline=$(($(date +%s) + READY_TIMEOUT_S))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/readyz" || true)" == 200 ]]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null || (($(date +%s) > deadline)); then
    tail -n 40 "$TMP/server.log" >&2
    die "the server did not become ready on $BASE (log above)"
  fi
  sleep 0.1
done
say "homeward serve on $BASE (pid $SERVER_PID): PostgreSQL $PG_DB, $CACHE_DESC, RUST_LOG=warn, HOMEWARD_TRUST_PROXY=true"

section "enrolling $BENCH_LEARNERS learners through POST /api/v1/enrollments"
FACTORY="$(hw factory add "压测工厂" --name-en "Bench factory" 2>&1 | tail -n 1)"
[[ "$FACTORY" =~ ^[0-9]+$ ]] || die "homeward factory add printed '$FACTORY' as its last line, not an id"
TOKENS=()
for ((c = 0; c * JOINS_PER_CODE < BENCH_LEARNERS; c++)); do
  url="$(hw code create --factory "$FACTORY" --label "bench $c" 2>&1 | tail -n 1)"
  [[ "$url" == */join/* ]] || die "homeward code create printed '$url' as its last line, not a join URL"
  TOKENS+=("${url##*/join/}")
done
say "factory $FACTORY, ${#TOKENS[@]} code(s)"
TOKENS_FILE="$TMP/tokens.csv"
: >"$TOKENS_FILE"
POLICY="$(curl -s "$BASE/api/v1/enrollments/${TOKENS[0]}" | jq -r '.policy_version')"
t0="$(date +%s%N)"
for ((i = 1; i <= BENCH_LEARNERS; i++)); do
  code_token="${TOKENS[$(((i - 1) / JOINS_PER_CODE))]}"
  ip="10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))"
  out="$TMP/join.json"
  status="$(curl -s -o "$out" -w '%{http_code}' --max-time 30 -X POST "$BASE/api/v1/enrollments" \
    -H 'content-type: application/json' -H "X-Forwarded-For: $ip" \
    -d "{\"token\": \"$code_token\", \"audience\": \"parents\", \"accept_policy\": \"$POLICY\", \"nickname\": \"bench $i\"}")" \
    || die "POST /api/v1/enrollments failed for learner $i"
  [[ "$status" == 201 ]] || die "POST /api/v1/enrollments for learner $i answered $status: $(head -c 300 "$out")"
  jq -r '"\(.learner_id),\(.session_token)"' "$out" >>"$TOKENS_FILE"
done
say "$(wc -l <"$TOKENS_FILE") learners enrolled in $((($(date +%s%N) - t0) / 1000000)) ms"

# ---------------------------------------------------------------------------------------------
declare -A EPS RPS P50 P99 ERRS MISSING ACKED SRV_CPU PG_CPU GEN_CPU BUSY OTHER_CPU TLS
for B in "${BATCHES[@]}"; do
  section "load: $BENCH_LEARNERS learners × batches of $B events for ${BENCH_SECONDS}s"
  wait_quiet "$B"
  ACKED_FILE="$TMP/acked-$B.csv"
  srv0="$(cpu_of "$SERVER_PID")"
  pg0="$(cpu_pg)"
  rs0="$(cpu_comm redis-server)"
  rc0="$(redis_commands)"
  m0="$(machine_ticks)"
  start_sampler "$TMP/activity-$B.txt"
  gen_args=(--url "$BASE" --learners "$BENCH_LEARNERS" --seconds "$BENCH_SECONDS" --batch "$B"
    --tokens-file "$TOKENS_FILE" --series "$BENCH_SERIES" --lessons-per-batch "$BENCH_LESSONS_PER_BATCH"
    --threads "$BENCH_GEN_THREADS" --acked-file "$ACKED_FILE")
  [[ -z "$BENCH_LESSONS" ]] || gen_args+=(--lessons "$BENCH_LESSONS")
  ( sleep 2; psql_db -At -c "SELECT t || ' (' || count(*) || ' connections)' FROM (
                               SELECT CASE WHEN s.ssl THEN 'TLS ' || s.version ELSE 'no TLS' END AS t
                                 FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                                WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
                                  AND a.backend_type = 'client backend' AND a.application_name <> 'psql') c
                              GROUP BY t ORDER BY t" >"$TMP/tls-$B.txt" 2>&1 || true ) &
  "$GEN" "${gen_args[@]}" 2>&1 | tee "$TMP/gen-$B.txt" | sed 's/^/   /' || die "the load generator failed"
  wait $! 2>/dev/null || true
  TLS[$B]="$(paste -sd, "$TMP/tls-$B.txt" | sed 's/,/, /g')"
  say "   server's PostgreSQL connections: ${TLS[$B]:-?}"
  stop_sampler
  m1="$(machine_ticks)"
  BUSY[$B]="$(busy_pct "$m0" "$m1")"
  busy_s="$(busy_seconds "$m0" "$m1")"
  SRV_CPU[$B]="$(sub "$(cpu_of "$SERVER_PID")" "$srv0")"
  PG_CPU[$B]="$(sub "$(cpu_pg)" "$pg0")"
  RS_CPU="$(sub "$(cpu_comm redis-server)" "$rs0")"
  rc1="$(redis_commands)"
  result="$(grep '^RESULT ' "$TMP/gen-$B.txt" | tail -n 1)"
  [[ -n "$result" ]] || die "the load generator printed no RESULT line"
  field() { tr ' ' '\n' <<<"$result" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
  EPS[$B]="$(field events_per_s)"
  RPS[$B]="$(field requests_per_s)"
  P50[$B]="$(field p50_ms)"
  P99[$B]="$(field p99_ms)"
  ERRS[$B]="$(field errors)"
  ACKED[$B]="$(field acked)"
  GEN_CPU[$B]="$(field cpu_s)"
  say "   CPU seconds during the run: server ${SRV_CPU[$B]}, PostgreSQL ${PG_CPU[$B]}, redis-server $RS_CPU, generator ${GEN_CPU[$B]} (of $((CORES * BENCH_SECONDS)) available); all cores ${BUSY[$B]}% busy"
  OTHER_CPU[$B]="$(awk -v t="$busy_s" -v a="${SRV_CPU[$B]}" -v b="${PG_CPU[$B]}" -v c="$RS_CPU" -v d="${GEN_CPU[$B]}" 'BEGIN { x = t - a - b - c - d; printf "%.1f\n", x < 0 ? 0 : x }')"
  say "   other processes used about ${OTHER_CPU[$B]} CPU seconds during the run (machine busy ${busy_s}s minus the above)"
  if [[ -n "$rc0" && -n "$rc1" ]]; then
    say "   Redis commands during the run: $((rc1 - rc0)) for $(field requests) requests ($(awk -v c=$((rc1 - rc0)) -v r="$(field requests)" 'BEGIN { if (r > 0) printf "%.1f", c / r; else print "n/a" }') per request; the whole Redis server is counted)"
  fi
  report_sampler "$TMP/activity-$B.txt"

  # Every acknowledged id must be stored.
  MISSING[$B]="$(psql_db -At <<SQL | tail -n 1
CREATE TEMP TABLE acked (learner_id BIGINT, client_id TEXT);
\copy acked FROM '$ACKED_FILE' WITH (FORMAT csv)
SELECT count(*) FROM acked a
 WHERE NOT EXISTS (SELECT 1 FROM progress_event p
                    WHERE p.client_id = a.client_id AND (a.learner_id IS NULL OR p.learner_id = a.learner_id));
SQL
  )"
  [[ "${MISSING[$B]}" =~ ^[0-9]+$ ]] || die "the acknowledged-events check printed '${MISSING[$B]}'"
  say "   acknowledged events: ${ACKED[$B]}; missing from progress_event: ${MISSING[$B]}"
done

STORED="$(psql_db -At -c 'SELECT count(*) FROM progress_event')"
ACKED_ALL=0
for B in "${BATCHES[@]}"; do ACKED_ALL=$((ACKED_ALL + ACKED[$B])); done
say ""
say "progress_event rows: $STORED; acknowledged over all runs: $ACKED_ALL (more rows than acknowledged = committed but never answered)"
say "lesson_progress rows: $(psql_db -At -c 'SELECT count(*) FROM lesson_progress')"

section "server-side problems"
BAD="$(metric_lines "$BASE" '^http_requests_total\{' | grep -v 'status="20[01]"' || true)"
if [[ -n "$BAD" ]]; then
  say "   non-2xx responses counted by the server (/metrics):"
  printf '%s\n' "$BAD" | sed 's/^/     /'
else
  say "   server counted only 200/201 responses (/metrics)"
fi
metric_lines "$BASE" '^db_pool_(idle_)?connections' | sed 's/^/   /'
NLOG="$(grep -c -E 'WARN|ERROR' "$TMP/server.log" || true)"
if [[ "$NLOG" != 0 ]]; then
  say "   $NLOG WARN/ERROR lines in the server log; first 10:"
  grep -E 'WARN|ERROR' "$TMP/server.log" | head -n 10 | cut -c1-400 | sed 's/^/     /'
else
  say "   server log: no WARN/ERROR lines"
fi
stop_pid "$SERVER_PID"
SERVER_PID=""

# ---------------------------------------------------------------------------------------------
section "pgbench: $BENCH_LEARNERS clients, one row a transaction, ${BENCH_SECONDS}s"
psql_db <<'SQL'
CREATE TABLE bench_event (
    id BIGSERIAL PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    lesson_id BIGINT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    payload TEXT NOT NULL,
    client_time TIMESTAMPTZ,
    received_at TIMESTAMPTZ NOT NULL,
    UNIQUE (learner_id, client_id)
);
SQL
read -r LMIN LMAX LCOUNT < <(psql_db -At -F' ' -c 'SELECT min(id), max(id), count(*) FROM learner')
if ((LMAX - LMIN + 1 != LCOUNT)); then LMAX="$LMIN"; fi # ids not contiguous: one learner
read -r SMIN SMAX SCOUNT < <(psql_db -At -F' ' -c \
  "SELECT min(l.id), max(l.id), count(*) FROM lesson l JOIN series s ON s.id = l.series_id WHERE s.slug = '$BENCH_SERIES'" 2>/dev/null \
  || psql_db -At -F' ' -c 'SELECT min(id), max(id), count(*) FROM lesson')
if ((SMAX - SMIN + 1 != SCOUNT)); then SMAX="$SMIN"; fi # ids not contiguous: one lesson
# A row like the server's: a payload and a SHA-256 hex of the same sizes.
cat >"$TMP/insert.sql" <<'SQL'
\set learner random(:lmin, :lmax)
\set lesson random(:smin, :smax)
\set panel random(0, 7)
INSERT INTO bench_event (learner_id, client_id, lesson_id, kind, payload_hash, payload, client_time, received_at)
VALUES (:learner, gen_random_uuid()::text, :lesson, 'panel_viewed',
        '9f2c0d6a4be1f3578c2a9e0d41b7c6e85f3a2d1c0b9e8f7a6d5c4b3a2f1e0d9c',
        '{"client_time":"2026-05-04T08:00:00.123Z","event":{"kind":"panel_viewed","panel":' || :panel || '},"lesson_id":' || :lesson || '}',
        now(), now())
ON CONFLICT (learner_id, client_id) DO NOTHING;
SQL
say "   script (learners $LMIN..$LMAX, lessons $SMIN..$SMAX):"
sed 's/^/     /' "$TMP/insert.sql"
sleep 1 # let the server's connections end
wait_quiet pgbench
pg0="$(cpu_pg)"
m0="$(machine_ticks)"
TIMEFORMAT='%U %S'
if ! { time pgbench -n -c "$BENCH_LEARNERS" -j "$BENCH_PGBENCH_JOBS" -T "$BENCH_SECONDS" -f "$TMP/insert.sql" \
  -D lmin="$LMIN" -D lmax="$LMAX" -D smin="$SMIN" -D smax="$SMAX" "$DB_URL" >"$TMP/pgbench.txt" 2>&1; } 2>"$TMP/pgbench.time"; then
  cat "$TMP/pgbench.txt"
  die "pgbench failed"
fi
m1="$(machine_ticks)"
PGB_BUSY="$(busy_pct "$m0" "$m1")"
PGB_PG_CPU="$(sub "$(cpu_pg)" "$pg0")"
PGB_CPU="$(awk '{ printf "%.1f\n", $1 + $2 }' "$TMP/pgbench.time")"
PGB_OTHER="$(awk -v t="$(busy_seconds "$m0" "$m1")" -v a="$PGB_PG_CPU" -v b="$PGB_CPU" 'BEGIN { x = t - a - b; printf "%.1f\n", x < 0 ? 0 : x }')"
sed 's/^/   /' "$TMP/pgbench.txt"
PGB_TPS="$(awk '/^tps = / { printf "%.1f\n", $3; exit }' "$TMP/pgbench.txt")"
[[ -n "$PGB_TPS" ]] || die "no tps line in pgbench's output"
PGB_FAILED="$(awk -F': ' '/^number of failed transactions/ { split($2, a, " "); print a[1] }' "$TMP/pgbench.txt")"
PGB_ROWS="$(psql_db -At -c 'SELECT count(*) FROM bench_event')"
PGB_LAT="$(awk '/^latency average/ { print $4 " " $5; exit }' "$TMP/pgbench.txt")"
say "   pgbench: $PGB_TPS tps = rows/s; bench_event rows: $PGB_ROWS ($(awk -v r="$PGB_ROWS" -v t="$BENCH_SECONDS" 'BEGIN { printf "%.1f", r / t }')/s over ${BENCH_SECONDS}s); CPU seconds: PostgreSQL $PGB_PG_CPU, pgbench $PGB_CPU, other processes $PGB_OTHER; all cores $PGB_BUSY% busy"

# ---------------------------------------------------------------------------------------------
section "summary"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cat <<EOF

Progress events benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT
Machine: $CPU_MODEL, $CORES cores (server, PostgreSQL $PG_VERSION, load generator and pgbench share them)
PostgreSQL: $PG_SETTINGS
Server: homeward serve (release), RUST_LOG=warn, $CACHE_DESC, pool of 20 connections (src/store/mod.rs)
Load: $BENCH_LEARNERS learners, ${BENCH_SECONDS}s per run, events over $BENCH_LESSONS_PER_BATCH lesson(s) of '$BENCH_SERIES' per request
Connections: sslmode ${BENCH_PG_SSLMODE:-default (prefer)}; server's during the load: ${TLS[${BATCHES[0]}]:-?}
pgbench: -n -c $BENCH_LEARNERS -j $BENCH_PGBENCH_JOBS -T $BENCH_SECONDS, one INSERT … ON CONFLICT DO NOTHING per transaction: $PGB_TPS rows/s (failed: ${PGB_FAILED:-0}, latency avg $PGB_LAT)

| batch | server events/s | requests/s | p50 ms | p99 ms | errors | acknowledged | missing | pgbench rows/s | ratio | ≥ 2× |
|---|---|---|---|---|---|---|---|---|---|---|
EOF
ALL_OK=1
for B in "${BATCHES[@]}"; do
  r="$(ratio "${EPS[$B]}" "$PGB_TPS")"
  ok="$(awk -v r="$r" 'BEGIN { print (r + 0 >= 2) ? "yes" : "no" }')"
  [[ "$ok" == yes && "${MISSING[$B]}" == 0 ]] || ALL_OK=0
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$B" "${EPS[$B]}" "${RPS[$B]}" "${P50[$B]}" \
    "${P99[$B]}" "${ERRS[$B]}" "${ACKED[$B]}" "${MISSING[$B]}" "$PGB_TPS" "$r" "$ok"
done
say ""
say "CPU seconds per run (server / PostgreSQL / generator / other processes; all cores busy): $(for B in "${BATCHES[@]}"; do printf 'batch %s: %s / %s / %s / %s, %s%%; ' "$B" "${SRV_CPU[$B]}" "${PG_CPU[$B]}" "${GEN_CPU[$B]}" "${OTHER_CPU[$B]}" "${BUSY[$B]}"; done)pgbench run (PostgreSQL / pgbench / other): $PGB_PG_CPU / $PGB_CPU / $PGB_OTHER, $PGB_BUSY%"
say "Machine busy just before each run (other processes; under 25% is quiet): $(for k in "${BATCHES[@]}" pgbench; do printf '%s: %s%%; ' "$k" "${QUIET[$k]:-?}"; done)"
say "Missing acknowledged events: $(for B in "${BATCHES[@]}"; do printf '%s ' "${MISSING[$B]}"; done)(must be 0)"
say "Reproduce: BENCH_LEARNERS=$BENCH_LEARNERS BENCH_SECONDS=$BENCH_SECONDS BENCH_BATCH=\"${BATCHES[*]}\"$([[ "$BENCH_REDIS_DB" == 5 ]] || printf ' BENCH_REDIS_DB=%s' "$BENCH_REDIS_DB")${BENCH_PG_SSLMODE:+ BENCH_PG_SSLMODE=$BENCH_PG_SSLMODE} scripts/bench-events.sh"
if [[ "$ALL_OK" == 1 ]]; then
  say "Target met: every run ≥ 2× pgbench with no acknowledged event missing."
else
  say "Target NOT met for every run (≥ 2× pgbench and 0 missing)."
fi
for B in "${BATCHES[@]}"; do
  [[ "${MISSING[$B]}" == 0 ]] || die "acknowledged events are missing from progress_event"
done
