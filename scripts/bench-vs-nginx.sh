#!/usr/bin/env bash
# Homeward beside nginx serving the very same bytes with the same headers, for issue 13's goals:
#   goal 1  cached lesson page and API lesson JSON, no compression asked: Homeward / nginx
#   goal 2  the same page for a signed-in learner: Homeward signed-in / Homeward anonymous
#   goal 3  lesson page and CSS with `Accept-Encoding: gzip`: Homeward (compressed once) /
#           nginx compressing (`gzip on`, level 6), and the bytes each sends
# Rounds are interleaved (every target once per round, Homeward then its reference), 3 rounds;
# each figure is min / median / max over the rounds, with the load average during each round.
# The machine may be busy: read the ratios.
#
# Usage: scripts/bench-vs-nginx.sh            (builds the working tree with --release)
# Settings (environment):
#   BIN=target/release/homeward   a release binary to use instead of building
#   BENCH_SECONDS=5  wrk seconds per run    BENCH_ROUNDS=3   rounds
#   BENCH_THREADS=2  wrk threads            BENCH_CONNECTIONS=64   wrk connections
# Needs: curl, jq, wrk, nginx (installed with apt-get when missing).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO="$(pwd)"
BENCH_SECONDS="${BENCH_SECONDS:-5}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
BENCH_THREADS="${BENCH_THREADS:-2}"
BENCH_CONNECTIONS="${BENCH_CONNECTIONS:-64}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/homeward-vs-nginx.XXXXXX")"
PIDS=()

say() { printf '%s\n' "$*"; }
die() {
  printf 'bench: error: %s\n' "$*" >&2
  exit 1
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
need() { command -v "$1" >/dev/null 2>&1 || apt-get install -y -qq "$2" >/dev/null || die "could not install $2"; }
need curl curl
need jq jq
need wrk wrk
need nginx nginx
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port"
}

if [[ -z "${BIN:-}" ]]; then
  cargo build --release --quiet || die "release build failed"
  BIN="$REPO/target/release/homeward"
fi
[[ -x "$BIN" ]] || die "$BIN is not an executable"

# Homeward on embedded SQLite + the in-process cache.
HW_PORT="$(free_port)"
mkdir -p "$TMP/hw"
HW_ENV=(RUST_LOG=warn HOMEWARD_BIND="127.0.0.1:$HW_PORT" HOMEWARD_CONTENT_DIR="$REPO/content"
  DATABASE_URL="sqlite://$TMP/hw/hw.db?mode=rwc")
(cd "$TMP/hw" && exec env -u REDIS_URL -u HOMEWARD_PUBLIC_URL "${HW_ENV[@]}" "$BIN" serve) >"$TMP/hw.log" 2>&1 &
PIDS+=($!)
HW="http://127.0.0.1:$HW_PORT"
for _ in $(seq 1 600); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$HW/" || true)" == 200 ]] && break
  sleep 0.1
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$HW/")" == 200 ]] || die "Homeward did not start: $(tail -5 "$TMP/hw.log")"

PAGE="$(curl -s "$HW/api/v1/series/parents" | jq -r '.lessons[0].url')"
[[ "$PAGE" == /s/* ]] || die "no released lesson in the parents series"
API="/api/v1/series/parents/lessons/${PAGE##*/}"
CSS="$(curl -s "$HW$PAGE" | grep -oE 'href="/static/[^"]+\.css"' | head -n 1 | sed 's/^href="//; s/"$//')"

# A signed-in learner: a code from the CLI, joined through the API.
hw() { (cd "$TMP/hw" && env -u REDIS_URL "${HW_ENV[@]}" "$BIN" "$@"); }
FACTORY="$(hw factory add "基准测试厂" --name-en "Bench Factory" | tail -n 1)"
CODE="$(hw code create --factory "$FACTORY" --label bench | tail -n 1)"
POLICY="$(curl -s "$HW/api/v1/enrollments/${CODE##*/}" | jq -r '.policy_version')"
SESSION="$(curl -s -X POST -H 'content-type: application/json' \
  -d "{\"token\":\"${CODE##*/}\",\"audience\":\"parents\",\"accept_policy\":\"$POLICY\"}" \
  "$HW/api/v1/enrollments" | jq -r '.session_token')"
[[ -n "$SESSION" && "$SESSION" != null ]] || die "joining failed"

# nginx serving the same bytes with the same content types and cache headers.
NG_PORT="$(free_port)"
mkdir -p "$TMP/ng/root/api" "$TMP/ng/logs"
chmod 755 "$TMP" "$TMP/ng" "$TMP/ng/root" "$TMP/ng/root/api"  # nginx's worker runs as www-data when started as root
curl -s "$HW$PAGE" -o "$TMP/ng/root/page.html"
curl -s "$HW$API" -o "$TMP/ng/root/api/lesson.json"
curl -s "$HW$CSS" -o "$TMP/ng/root/app.css"
cat >"$TMP/ng/nginx.conf" <<CONF
worker_processes 1;
pid $TMP/ng/nginx.pid;
error_log $TMP/ng/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/ng/logs;
  proxy_temp_path $TMP/ng/logs;
  fastcgi_temp_path $TMP/ng/logs;
  uwsgi_temp_path $TMP/ng/logs;
  scgi_temp_path $TMP/ng/logs;
  server {
    listen 127.0.0.1:$NG_PORT;
    root $TMP/ng/root;
    gzip on;
    gzip_comp_level 6;
    gzip_types text/css application/json text/javascript image/svg+xml;
    gzip_vary on;
    location = /page { default_type "text/html; charset=utf-8"; add_header Cache-Control no-cache; try_files /page.html =404; }
    location = /api { default_type "application/json; charset=utf-8"; try_files /api/lesson.json =404; }
    location = /css { default_type "text/css; charset=utf-8"; add_header Cache-Control "public, max-age=31536000, immutable"; try_files /app.css =404; }
  }
}
CONF
nginx -c "$TMP/ng/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
NG="http://127.0.0.1:$NG_PORT"
for _ in $(seq 1 100); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$NG/page" || true)" == 200 ]] && break
  sleep 0.1
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$NG/page")" == 200 ]] || die "nginx did not start: $(tail -5 "$TMP/ng/logs/error.log" 2>/dev/null)"

bytes() { curl -s -o /dev/null -w '%{size_download}' "$@"; }
GZ=(-H 'Accept-Encoding: gzip')
say "bytes on the wire: page $(bytes "$HW$PAGE") (nginx $(bytes "$NG/page")); with gzip: Homeward $(bytes "${GZ[@]}" "$HW$PAGE"), nginx $(bytes "${GZ[@]}" "$NG/page")"
say "                   CSS with gzip: Homeward $(bytes "${GZ[@]}" "$HW$CSS"), nginx $(bytes "${GZ[@]}" "$NG/css"); API JSON $(bytes "$HW$API") (nginx $(bytes "$NG/api"))"

rps() { # wrk args... → requests per second
  wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" "$@" 2>&1 \
    | awk '/^Requests\/sec:/ { print $2 }'
}
declare -A R
LOADS=()
for round in $(seq 1 "$BENCH_ROUNDS"); do
  R[page_hw_$round]="$(rps "$HW$PAGE")"
  R[page_ng_$round]="$(rps "$NG/page")"
  R[api_hw_$round]="$(rps "$HW$API")"
  R[api_ng_$round]="$(rps "$NG/api")"
  R[learner_hw_$round]="$(rps -H "Cookie: hw_session=$SESSION" "$HW$PAGE")"
  R[anon_hw_$round]="$(rps "$HW$PAGE")"
  R[gzpage_hw_$round]="$(rps "${GZ[@]}" "$HW$PAGE")"
  R[gzpage_ng_$round]="$(rps "${GZ[@]}" "$NG/page")"
  R[gzcss_hw_$round]="$(rps "${GZ[@]}" "$HW$CSS")"
  R[gzcss_ng_$round]="$(rps "${GZ[@]}" "$NG/css")"
  LOADS+=("$(cut -d' ' -f1-3 /proc/loadavg)")
  say "round $round done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done

stats() { sort -g | awk '{ v[NR] = $1 } END { printf "%s / %s / %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
row() { # LABEL KEY_HOMEWARD KEY_REFERENCE REFERENCE_NAME
  local label="$1" a="$2" b="$3" ref="$4" hw ng ratio
  hw="$(for r in $(seq 1 "$BENCH_ROUNDS"); do echo "${R[${a}_$r]}"; done | stats)"
  ng="$(for r in $(seq 1 "$BENCH_ROUNDS"); do echo "${R[${b}_$r]}"; done | stats)"
  ratio="$(for r in $(seq 1 "$BENCH_ROUNDS"); do awk -v x="${R[${a}_$r]}" -v y="${R[${b}_$r]}" 'BEGIN { printf "%.2f\n", x / y }'; done | stats)"
  printf '| %s | %s | %s (%s) | %s |\n' "$label" "$hw" "$ng" "$ref" "$ratio"
}
cat <<EOT

Homeward vs nginx — $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD); $(nproc) cores shared by wrk, both servers and whatever else runs
wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s, $BENCH_ROUNDS interleaved rounds; requests/s as min / median / max; ratio per round, min / median / max
Load average after each round: ${LOADS[*]}

| goal: target (SQLite + in-process cache) | Homeward | reference | ratio |
|---|---|---|---|
EOT
row "1: lesson page \`$PAGE\`" page_hw page_ng "nginx, same bytes"
row "1: API lesson JSON" api_hw api_ng "nginx, same bytes"
row "2: lesson page, signed-in learner" learner_hw anon_hw "Homeward anonymous"
row "3: lesson page, Accept-Encoding: gzip" gzpage_hw gzpage_ng "nginx gzip on"
row "3: CSS, Accept-Encoding: gzip" gzcss_hw gzcss_ng "nginx gzip on"
say ""
say "Reproduce: scripts/bench-vs-nginx.sh (BENCH_SECONDS=$BENCH_SECONDS BENCH_ROUNDS=$BENCH_ROUNDS)"
