#!/usr/bin/env bash
# Benchmarks for the README and issue notes:
#   1. HTML + CSS size of every released lesson page (zh and en): largest and median
#   2. time from `homeward serve` to the first answered request (GET / → 200) on an empty
#      data folder (SQLite: it migrates and imports content itself), 5 runs
#   3. requests per second of a cached lesson page (and of the API lesson JSON) under wrk, on
#      (a) embedded SQLite + in-process cache and (b) PostgreSQL + Redis
#
# Usage: scripts/bench.sh
# Settings (environment):
#   BENCH_SECONDS=10        wrk duration per run
#   BENCH_THREADS=2         wrk threads            BENCH_CONNECTIONS=64   wrk connections
#   BENCH_STARTUP_RUNS=5    start-up runs
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL server (no database name)
#   BENCH_REDIS_URL=redis://127.0.0.1:6379            Redis server (no database number)
#   BENCH_REDIS_DB=3        Redis database used (flushed before and after)
#   BENCH_SKIP_PG=1         skip the PostgreSQL + Redis run
#   BENCH_REV=HEAD          benchmark a git revision instead of the working tree: it is exported
#                           (git archive) to $BENCH_BUILD_DIR/src-<commit> and built there, with
#                           its own content/ (useful while the working tree does not build)
#   BENCH_BUILD_DIR=~/.cache/homeward-bench   where BENCH_REV builds (own cargo target dir)
# Needs: cargo, curl, jq, wrk (installed with apt-get when missing), gzip; psql and redis-cli
# for the PostgreSQL + Redis run.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO="$(pwd)"
BIN="$REPO/target/release/homeward"
CONTENT_DIR="$REPO/content"

BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_THREADS="${BENCH_THREADS:-2}"
BENCH_CONNECTIONS="${BENCH_CONNECTIONS:-64}"
BENCH_STARTUP_RUNS="${BENCH_STARTUP_RUNS:-5}"
BENCH_PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
BENCH_REDIS_DB="${BENCH_REDIS_DB:-3}"
BENCH_SKIP_PG="${BENCH_SKIP_PG:-0}"
BENCH_REV="${BENCH_REV:-}"
BENCH_BUILD_DIR="${BENCH_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homeward-bench}"
READY_TIMEOUT_S=120

PG_DB="hw_bench_$$"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/homeward-bench.XXXXXX")"
SERVER_PIDS=()
PG_CREATED=0
REDIS_USED=0

# ---------------------------------------------------------------------------------------------
# helpers

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }
die() {
  printf 'bench: error: %s\n' "$*" >&2
  exit 1
}

stop_server() { # PID: SIGTERM, wait up to 5 s, then SIGKILL
  local pid="$1" _
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  local pid
  for pid in "${SERVER_PIDS[@]}"; do stop_server "$pid"; done
  if [[ "$PG_CREATED" == 1 ]]; then
    psql "$BENCH_PG_URL/postgres" -q -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 \
      || say "bench: warning: could not drop database $PG_DB" >&2
  fi
  if [[ "$REDIS_USED" == 1 ]]; then
    redis-cli -u "$BENCH_REDIS_URL/$BENCH_REDIS_DB" FLUSHDB >/dev/null 2>&1 \
      || say "bench: warning: could not flush Redis db $BENCH_REDIS_DB" >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need() { command -v "$1" >/dev/null 2>&1; }

apt_install() { # PACKAGE...
  say "installing $* with apt-get"
  if ! apt-get install -y -qq "$@" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq "$@" >/dev/null || die "could not install $*"
  fi
}

free_port() { # a TCP port on 127.0.0.1 nobody listens on
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

http_code() { # URL → status code ("000" when nothing answers)
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true
}

median() { # numbers on stdin → median (mean of the two middle ones for an even count)
  sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

log_tail() { # LOG
  say "---- last 40 lines of $1"
  tail -n 40 "$1" || true
  say "----"
}

# start_server NAME PORT [VAR=VALUE...]: starts `homeward serve` in its own folder $TMP/NAME (so
# no .env is picked up), logging to $TMP/NAME.log. Sets SERVER_PID.
start_server() {
  local name="$1" port="$2"
  shift 2
  mkdir -p "$TMP/$name"
  (
    cd "$TMP/$name"
    exec env -u REDIS_URL -u DATABASE_URL -u HOMEWARD_PUBLIC_URL -u LOG_FORMAT \
      HOMEWARD_BIND="127.0.0.1:$port" HOMEWARD_CONTENT_DIR="$CONTENT_DIR" \
      "$@" "$BIN" serve
  ) >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
}

# wait_ready NAME PORT PID: polls GET / until 200; on timeout or exit shows the log and fails.
wait_ready() {
  local name="$1" port="$2" pid="$3" deadline code
  deadline=$(($(date +%s) + READY_TIMEOUT_S))
  while :; do
    code="$(http_code "http://127.0.0.1:$port/")"
    [[ "$code" == 200 ]] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail "$TMP/$name.log"
      die "server '$name' exited before answering (see its log above)"
    fi
    if (($(date +%s) > deadline)); then
      log_tail "$TMP/$name.log"
      die "server '$name' did not answer GET / with 200 within ${READY_TIMEOUT_S}s (last status $code)"
    fi
    sleep 0.05
  done
}

get_json() { # URL → body on stdout; fails unless 200
  local out="$TMP/get.json" code
  code="$(curl -s -o "$out" -w '%{http_code}' --max-time 10 "$1")" || die "GET $1 failed"
  [[ "$code" == 200 ]] || die "GET $1 answered $code: $(head -c 300 "$out")"
  cat "$out"
}

metric_lines() { # BASE REGEX → matching /metrics lines
  curl -s --max-time 5 "$1/metrics" | grep -E "$2" || true
}

counter() { # BASE NAME → value of an unlabelled counter (0 when absent)
  metric_lines "$1" "^$2(\{\})? " | awk '{ s += $2 } END { printf "%d\n", s }'
}

# ---------------------------------------------------------------------------------------------
# wrk

declare -A RPS P50 P99 NON2XX ERRS CACHE

redis_commands() { # total commands processed by the bench Redis so far (empty when not in use)
  [[ -n "${REDIS:-}" ]] || return 0
  redis-cli -u "$REDIS" INFO stats 2>/dev/null | tr -d '\r' \
    | awk -F: '$1 == "total_commands_processed" { print $2 }'
}

# run_wrk KEY BASE PATH: warms PATH once (must be 200), runs wrk, records the figures under KEY.
run_wrk() {
  local key="$1" base="$2" path="$3" url out code hits0 miss0 hits1 miss1 rcmd0 rcmd1
  url="$base$path"
  code="$(http_code "$url")"
  [[ "$code" == 200 ]] || die "warm-up GET $url answered $code"
  code="$(http_code "$url")" # second request: served from the cache
  [[ "$code" == 200 ]] || die "second GET $url answered $code"
  hits0="$(counter "$base" cache_hits_total)"
  miss0="$(counter "$base" cache_misses_total)"
  rcmd0="$(redis_commands)"
  out="$TMP/wrk-$key.txt"
  say "-- wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s --latency $url"
  wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" --latency "$url" >"$out" 2>&1 \
    || {
      cat "$out"
      die "wrk failed against $url"
    }
  sed 's/^/   /' "$out"
  hits1="$(counter "$base" cache_hits_total)"
  miss1="$(counter "$base" cache_misses_total)"
  RPS[$key]="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
  P50[$key]="$(awk '$1 == "50%" { print $2 }' "$out")"
  P99[$key]="$(awk '$1 == "99%" { print $2 }' "$out")"
  NON2XX[$key]="$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$out")"
  NON2XX[$key]="${NON2XX[$key]:-0}"
  ERRS[$key]="$(grep -E '^ *Socket errors' "$out" | sed 's/^ *Socket errors: *//' || true)"
  ERRS[$key]="${ERRS[$key]:-none}"
  rcmd1="$(redis_commands)"
  CACHE[$key]="$((hits1 - hits0)) hits / $((miss1 - miss0)) misses"
  say "   cache during the run: ${CACHE[$key]}"
  if [[ -n "$rcmd0" && -n "$rcmd1" ]]; then
    local reqs
    reqs="$(awk '/ requests in / { print $1 }' "$out")"
    say "   Redis commands during the run: $((rcmd1 - rcmd0)) for $reqs requests" \
      "($(awk -v c=$((rcmd1 - rcmd0)) -v r="$reqs" 'BEGIN { if (r > 0) printf "%.2f", c / r; else print "n/a" }') per request; the whole Redis server is counted)"
  fi
  if [[ "${NON2XX[$key]}" != 0 ]]; then
    say "   WARNING: ${NON2XX[$key]} non-2xx/3xx responses"
  fi
}

# report_server NAME BASE: non-200 statuses seen by the server, and warnings/errors in its log.
report_server() {
  local name="$1" base="$2" bad nlog
  bad="$(metric_lines "$base" '^http_requests_total\{' | grep -v 'status="200"' || true)"
  if [[ -n "$bad" ]]; then
    say "   non-200 responses counted by the server (/metrics):"
    printf '%s\n' "$bad" | sed 's/^/     /'
  else
    say "   server counted only 200 responses (/metrics)"
  fi
  nlog="$(grep -c -E 'WARN|ERROR' "$TMP/$name.log" || true)"
  if [[ "$nlog" != 0 ]]; then
    say "   $nlog WARN/ERROR lines in the server log; first 10:"
    grep -E 'WARN|ERROR' "$TMP/$name.log" | head -n 10 | sed 's/^/     /'
    LOG_PROBLEMS+=("$name: $nlog WARN/ERROR log lines")
  else
    say "   server log: no WARN/ERROR lines"
  fi
}
LOG_PROBLEMS=()

# ---------------------------------------------------------------------------------------------
# 0. tools and build

section "setup"
need curl || apt_install curl
need jq || apt_install jq
need wrk || apt_install wrk
need gzip || apt_install gzip
if [[ "$BENCH_SKIP_PG" != 1 ]]; then
  need psql || die "psql not found (install postgresql-client, or BENCH_SKIP_PG=1)"
  need redis-cli || die "redis-cli not found (install redis-tools, or BENCH_SKIP_PG=1)"
fi

t0="$(now_ns)"
if [[ -z "$BENCH_REV" ]]; then
  say "building the working tree: cargo build --release --quiet (not timed)"
  cargo build --release --quiet \
    || die "release build of the working tree failed; to benchmark the last commit instead: BENCH_REV=HEAD scripts/bench.sh"
  COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git status --porcelain -- src templates migrations Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
    COMMIT="$COMMIT + uncommitted changes"
  fi
else
  sha="$(git rev-parse --verify "$BENCH_REV^{commit}")" || die "BENCH_REV=$BENCH_REV is not a commit"
  src="$BENCH_BUILD_DIR/src-$sha"
  if [[ ! -f "$src/.complete" ]]; then
    rm -rf "$src"
    mkdir -p "$src"
    git archive "$sha" | tar -x -C "$src"
    touch "$src/.complete"
  fi
  say "building $BENCH_REV ($sha) in $src: cargo build --release --quiet (not timed)"
  (cd "$src" && CARGO_TARGET_DIR="$BENCH_BUILD_DIR/target" cargo build --release --quiet) \
    || die "release build of $BENCH_REV failed"
  BIN="$BENCH_BUILD_DIR/target/release/homeward"
  CONTENT_DIR="$src/content"
  COMMIT="$(git rev-parse --short "$sha") ($BENCH_REV)"
fi
say "build took $((($(now_ns) - t0) / 1000000000)) s"
[[ -x "$BIN" ]] || die "$BIN not found after the build"

CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
CORES="$(nproc)"
BIN_BYTES="$(stat -c %s "$BIN")"
say "machine: $CPU, $CORES cores; wrk $(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }'); commit $COMMIT"
say "binary: $BIN ($((BIN_BYTES / 1024 / 1024)) MiB)"

# ---------------------------------------------------------------------------------------------
# 1. page sizes, on a SQLite server that is also the wrk target (a)

section "1. HTML + CSS size of released lesson pages (SQLite server)"
SQ_PORT="$(free_port)"
start_server sqlite "$SQ_PORT" RUST_LOG=warn DATABASE_URL="sqlite://$TMP/sqlite/hw.db?mode=rwc"
SQ_PID="$SERVER_PID"
wait_ready sqlite "$SQ_PORT" "$SQ_PID"
SQ="http://127.0.0.1:$SQ_PORT"
say "server up on $SQ"

get_json "$SQ/api/v1/series" >"$TMP/series.json"
mapfile -t SERIES < <(jq -r '.[].slug' "$TMP/series.json")
((${#SERIES[@]} > 0)) || die "GET /api/v1/series listed no series"
LESSON_URLS=()
for s in "${SERIES[@]}"; do
  get_json "$SQ/api/v1/series/$s" >"$TMP/series-$s.json"
  mapfile -t -O "${#LESSON_URLS[@]}" LESSON_URLS < <(jq -r '.lessons[].url' "$TMP/series-$s.json")
done
((${#LESSON_URLS[@]} > 0)) || die "no released lessons"
say "${#SERIES[@]} series, ${#LESSON_URLS[@]} released lessons, each in zh and en"

declare -A CSS_BYTES CSS_GZ
SIZES="$TMP/sizes.tsv" # total  html  css  gz_total  page
: >"$SIZES"
mkdir -p "$TMP/pages"
for u in "${LESSON_URLS[@]}"; do
  for lang in zh en; do
    f="$TMP/pages/$(echo "$u" | tr '/' '_').$lang.html"
    code="$(curl -s -o "$f" -w '%{http_code}' --max-time 10 "$SQ$u?lang=$lang")"
    [[ "$code" == 200 ]] || die "GET $u?lang=$lang answered $code"
    html="$(stat -c %s "$f")"
    html_gz="$(gzip -9 -c "$f" | wc -c)"
    css=0
    css_gz=0
    mapfile -t hrefs < <(grep -oE 'href="/static/[^"]+\.css"' "$f" | sed 's/^href="//; s/"$//' | sort -u)
    ((${#hrefs[@]} > 0)) || die "no /static/*.css stylesheet linked from $u?lang=$lang"
    for h in "${hrefs[@]}"; do
      if [[ -z "${CSS_BYTES[$h]:-}" ]]; then
        cf="$TMP/pages/$(basename "$h")"
        code="$(curl -s -o "$cf" -w '%{http_code}' --max-time 10 "$SQ$h")"
        [[ "$code" == 200 ]] || die "GET $h answered $code"
        CSS_BYTES[$h]="$(stat -c %s "$cf")"
        CSS_GZ[$h]="$(gzip -9 -c "$cf" | wc -c)"
      fi
      css=$((css + CSS_BYTES[$h]))
      css_gz=$((css_gz + CSS_GZ[$h]))
    done
    printf '%d\t%d\t%d\t%d\t%s\n' $((html + css)) "$html" "$css" $((html_gz + css_gz)) \
      "$u?lang=$lang" >>"$SIZES"
  done
done
sort -n -r "$SIZES" -o "$SIZES"
say "stylesheet(s): $(for h in "${!CSS_BYTES[@]}"; do printf '%s %d B (gzip -9: %d B) ' "$h" "${CSS_BYTES[$h]}" "${CSS_GZ[$h]}"; done)"
say "pages, largest first (HTML + CSS = total bytes; gzip -9 of both, as a compressing proxy would send):"
awk -F'\t' '{ printf "   %7d B = %6d + %5d   gzip %6d B   %s\n", $1, $2, $3, $4, $5 }' "$SIZES"
read -r MAX_TOTAL MAX_HTML MAX_CSS MAX_GZ MAX_PAGE < <(head -n 1 "$SIZES")
MED_TOTAL="$(cut -f1 "$SIZES" | median)"
MED_GZ="$(cut -f4 "$SIZES" | median)"
N_PAGES="$(wc -l <"$SIZES")"
say "largest: $MAX_TOTAL B ($MAX_PAGE; HTML $MAX_HTML + CSS $MAX_CSS); median of $N_PAGES pages: $MED_TOTAL B"

# ---------------------------------------------------------------------------------------------
# 2. start-up time on an empty data folder

section "2. time from \`homeward serve\` to the first 200 on GET / (fresh SQLite folder, build excluded)"
STARTUP_MS=()
for run in $(seq 1 "$BENCH_STARTUP_RUNS"); do
  port="$(free_port)"
  name="startup$run"
  t0="$(now_ns)"
  start_server "$name" "$port" DATABASE_URL="sqlite://$TMP/$name/hw.db?mode=rwc"
  pid="$SERVER_PID"
  deadline=$(($(date +%s) + READY_TIMEOUT_S))
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/" 2>/dev/null || true)"
    if [[ "$code" == 200 ]]; then
      t1="$(now_ns)"
      break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail "$TMP/$name.log"
      die "start-up run $run: the server exited"
    fi
    if (($(date +%s) > deadline)); then
      log_tail "$TMP/$name.log"
      die "start-up run $run: no 200 on GET / within ${READY_TIMEOUT_S}s (last status $code)"
    fi
    sleep 0.01
  done
  ms=$(((t1 - t0) / 1000000))
  STARTUP_MS+=("$ms")
  imported="$(sed 's/\x1b\[[0-9;]*m//g' "$TMP/$name.log" | grep -o 'content imported.*' | head -n 1 | sed 's/ dir=.*//' || true)"
  say "   run $run: $ms ms   ${imported:+(log: $imported)}"
  stop_server "$pid"
  rm -rf "${TMP:?}/$name"
done
STARTUP_MED="$(printf '%s\n' "${STARTUP_MS[@]}" | median)"
say "median of ${#STARTUP_MS[@]}: $STARTUP_MED ms (polling every 10 ms; includes process start, migrations and content import)"

# ---------------------------------------------------------------------------------------------
# 3. wrk

PAGE_PATH="$(jq -r '.lessons[0].url // empty' "$TMP/series-parents.json" 2>/dev/null || true)"
[[ -n "$PAGE_PATH" ]] || die "the parents series has no released lesson"
LESSON_SLUG="${PAGE_PATH##*/}"
API_PATH="/api/v1/series/parents/lessons/$LESSON_SLUG"

section "3a. wrk: embedded SQLite + in-process cache (RUST_LOG=warn)"
say "NOTE: this machine has $CORES cores; wrk ($BENCH_THREADS threads) and the server share them."
run_wrk sqlite_page "$SQ" "$PAGE_PATH"
run_wrk sqlite_api "$SQ" "$API_PATH"
report_server sqlite "$SQ"
stop_server "$SQ_PID"

if [[ "$BENCH_SKIP_PG" != 1 ]]; then
  section "3b. wrk: PostgreSQL + Redis (RUST_LOG=warn)"
  pg_isready -q -d "$BENCH_PG_URL/postgres" || die "PostgreSQL at $BENCH_PG_URL is not accepting connections"
  redis-cli -u "$BENCH_REDIS_URL" ping >/dev/null 2>&1 || die "Redis at $BENCH_REDIS_URL does not answer PING"
  psql "$BENCH_PG_URL/postgres" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null \
    || die "could not create database $PG_DB"
  PG_CREATED=1
  REDIS="$BENCH_REDIS_URL/$BENCH_REDIS_DB"
  REDIS_USED=1
  say "database $BENCH_PG_URL/$PG_DB; Redis $REDIS (had $(redis-cli -u "$REDIS" DBSIZE) keys; flushing)"
  redis-cli -u "$REDIS" FLUSHDB >/dev/null
  PG_ENV=(RUST_LOG=warn DATABASE_URL="$BENCH_PG_URL/$PG_DB" REDIS_URL="$REDIS"
    HOMEWARD_CONTENT_DIR="$CONTENT_DIR")
  mkdir -p "$TMP/pg"
  (cd "$TMP/pg" && env "${PG_ENV[@]}" "$BIN" migrate up) 2>&1 | sed 's/^/   migrate up: /'
  (cd "$TMP/pg" && env "${PG_ENV[@]}" "$BIN" content import) 2>&1 | tr '\r' '\n' | grep -v '^\s*$' \
    | tail -n 3 | sed 's/^/   content import: /'
  PG_PORT="$(free_port)"
  start_server pg "$PG_PORT" "${PG_ENV[@]}"
  PG_PID="$SERVER_PID"
  wait_ready pg "$PG_PORT" "$PG_PID"
  PG="http://127.0.0.1:$PG_PORT"
  say "server up on $PG; /readyz: $(curl -s --max-time 5 "$PG/readyz")"
  say "NOTE: PostgreSQL and Redis also run on these $CORES cores."
  run_wrk pg_page "$PG" "$PAGE_PATH"
  run_wrk pg_api "$PG" "$API_PATH"
  report_server pg "$PG"
  say "   Redis db $BENCH_REDIS_DB keys after the run: $(redis-cli -u "$REDIS" DBSIZE)"
  stop_server "$PG_PID"
fi

# ---------------------------------------------------------------------------------------------
# summary

cell() { # KEY → "rps | p50 | p99 | non-2xx | socket errors"
  local k="$1"
  if [[ -z "${RPS[$k]:-}" ]]; then
    printf 'skipped | | | | '
  else
    printf '%s | %s | %s | %s | %s' "${RPS[$k]}" "${P50[$k]}" "${P99[$k]}" "${NON2XX[$k]}" "${ERRS[$k]}"
  fi
}

section "summary"
cat <<EOF

Homeward benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT
Machine: $CPU, $CORES cores (wrk, the server, PostgreSQL and Redis all share them).
Release binary: $((BIN_BYTES / 1024 / 1024)) MiB.

| measure | value |
|---|---|
| lesson pages measured | $N_PAGES ($((N_PAGES / 2)) released lessons × zh, en) |
| largest lesson page, HTML + CSS | $MAX_TOTAL B (HTML $MAX_HTML + CSS $MAX_CSS), \`$MAX_PAGE\` |
| median lesson page, HTML + CSS | $MED_TOTAL B |
| same after gzip -9: that largest page / median | $MAX_GZ B / $MED_GZ B (the server itself does not compress) |
| \`homeward serve\` → first 200 on \`GET /\`, empty folder (SQLite) | median $STARTUP_MED ms (runs: ${STARTUP_MS[*]} ms) |

wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s --latency, page warmed first, RUST_LOG=warn:

| backend | target | requests/s | p50 | p99 | non-2xx | socket errors |
|---|---|---|---|---|---|---|
| SQLite + in-process cache | lesson page \`$PAGE_PATH\` | $(cell sqlite_page) |
| SQLite + in-process cache | API \`$API_PATH\` | $(cell sqlite_api) |
| PostgreSQL + Redis | lesson page \`$PAGE_PATH\` | $(cell pg_page) |
| PostgreSQL + Redis | API \`$API_PATH\` | $(cell pg_api) |

Reproduce: \`${BENCH_REV:+BENCH_REV=$BENCH_REV }scripts/bench.sh\` (BENCH_SECONDS=$BENCH_SECONDS; needs PostgreSQL and Redis on 127.0.0.1, or BENCH_SKIP_PG=1).
EOF
if ((${#LOG_PROBLEMS[@]} > 0)); then
  say ""
  say "Server log problems: ${LOG_PROBLEMS[*]}"
fi
