#!/usr/bin/env bash
# Homeward scaled out on one machine, and a smoke test through the real proxy.
#
#   1. builds homeward (debug by default: CI has just built it for the tests, so this costs
#      seconds; CLUSTER_PROFILE=release for a release build, several minutes the first time)
#   2. starts a private PostgreSQL cluster (initdb into a temporary folder), a private Redis and,
#      on free ports, `homeward migrate up` + `homeward content import`, two `homeward serve`
#      instances sharing them (HOMEWARD_TRUST_PROXY=true), and nginx in front with
#      deploy/nginx/homeward.conf (only its paths and ports swapped, by deploy/nginx/local-site.sh)
#      on a self-signed certificate for homeward.test, which curl is told to trust
#   3. checks through the proxy: TLS and the http→https redirect, readiness, a worker joining
#      with a code made by the CLI, opening a lesson, failing and passing its quiz, an editor's
#      unpublish and publish through the staff API on one instance seen through the other within
#      a second, rate limits counted by the address nginx passes (and shared by both instances)
#      whatever X-Forwarded-For a client forges, body limits, the static cache and compression,
#      /metrics hidden, and requests still answered while one instance is stopped
#   4. stops everything and deletes the folder, also on failure or Ctrl-C
#
# Usage: scripts/cluster.sh        (exit 0 when every check passed; each check prints "ok")
# Settings (environment):
#   CLUSTER_PROFILE=debug    debug | release
#   CLUSTER_KEEP_LOGS=0      1: copy the logs to ./cluster-logs/ before cleaning up
# Needs: cargo, curl, jq, openssl, nginx, redis-server + redis-cli, PostgreSQL server binaries
# (initdb, pg_ctl: postgresql-15) and psql. As root, PostgreSQL runs as the postgres user and
# nginx's workers as nobody.
set -Eeuo pipefail
umask 077

cd "$(dirname "$0")/.."
REPO="$(pwd)"
PROFILE="${CLUSTER_PROFILE:-debug}"
KEEP_LOGS="${CLUSTER_KEEP_LOGS:-0}"
HOST=homeward.test
EDITOR_EMAIL=editor@cluster.test

TMP="$(mktemp -d "${TMPDIR:-/tmp}/homeward-cluster.XXXXXX")"
chmod 711 "$TMP" # PostgreSQL (as postgres) and nginx's workers need to reach their folders
PIDS=() # homeward instances
REDIS_STARTED=0 NGINX_STARTED=0 CHECKS=0
# shellcheck source=scripts/lib/private-postgres.sh
source "$REPO/scripts/lib/private-postgres.sh"

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }
die() { printf 'cluster: FAILED: %s\n' "$*" >&2; exit 1; }
ok() { CHECKS=$((CHECKS + 1)); printf 'ok %2d  %s\n' "$CHECKS" "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found ($2)"; }

stop_pid() { # SIGTERM, wait up to 10 s, then SIGKILL
  local pid=$1 _
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid
  set +e
  trap - ERR
  if [[ $rc != 0 ]]; then
    for log in "$TMP"/instance-*.log "$TMP/nginx/log/error.log"; do
      [[ -s $log ]] && { say "---- last lines of $(basename "$log")"; tail -n 15 "$log"; }
    done
  fi
  if [[ $KEEP_LOGS == 1 ]]; then
    mkdir -p "$REPO/cluster-logs" && cp "$TMP"/*.log "$TMP"/nginx/log/*.log "$REPO/cluster-logs/" 2>/dev/null
  fi
  [[ $NGINX_STARTED == 1 && -s $TMP/nginx/nginx.pid ]] && stop_pid "$(cat "$TMP/nginx/nginx.pid")"
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  [[ $REDIS_STARTED == 1 && -s $TMP/redis.pid ]] && stop_pid "$(cat "$TMP/redis.pid")"
  private_pg_stop
  rm -rf "$TMP"
  if [[ $rc == 0 ]]; then say "cluster: all $CHECKS checks passed; everything stopped and removed"
  else say "cluster: stopped and removed everything after a failure (exit $rc)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "cluster: a command failed (line $LINENO, exit $?)" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  local port _
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [[ " ${USED_PORTS:-} " != *" $port "* ]]; then
      USED_PORTS="${USED_PORTS:-} $port"
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------------------------------------
section "tools and build"
for tool in cargo curl jq openssl nginx redis-server redis-cli psql; do need "$tool" "see the header of $0"; done
case $PROFILE in
  debug) cargo build --quiet ;;
  release) cargo build --release --quiet ;;
  *) die "CLUSTER_PROFILE must be debug or release" ;;
esac
BIN="$REPO/target/$PROFILE/homeward"
say "homeward: $BIN ($PROFILE); nginx $(nginx -v 2>&1 | sed 's/.*\///'); $(redis-server --version | cut -d' ' -f1-3)"

PG_PORT=$(free_port) REDIS_PORT=$(free_port) HTTP_PORT=$(free_port) HTTPS_PORT=$(free_port)
PORT_A=$(free_port) PORT_B=$(free_port)
A="http://127.0.0.1:$PORT_A" B="http://127.0.0.1:$PORT_B" PROXY="https://$HOST:$HTTPS_PORT"
# curl through the proxy, trusting only our certificate, resolving homeward.test to 127.0.0.1.
pcurl() { curl -sS --max-time 20 --cacert "$TMP/nginx/ssl/fullchain.pem" --resolve "$HOST:$HTTPS_PORT:127.0.0.1" "$@"; }

# ---------------------------------------------------------------------------------------------
section "PostgreSQL (private cluster on port $PG_PORT), Redis (port $REDIS_PORT)"
private_pg_start "$TMP/pg" "$PG_PORT" || die "the private PostgreSQL did not start"
PG=$PRIVATE_PG_URL
psql "$PG/postgres" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE homeward" >/dev/null
DB_URL="$PG/homeward"
REDIS_STARTED=1
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$TMP/redis.pid" --logfile "$TMP/redis.log" --dir "$TMP"
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null || die "Redis did not start"
ok "private PostgreSQL $(psql "$DB_URL" -X -At -c 'SHOW server_version') and Redis are up"

SECRET="$(openssl rand -hex 32)"
# The homeward CLI and servers run in $TMP (no .env) with nothing inherited but PATH.
HW_ENV=(PATH="$PATH" DATABASE_URL="$DB_URL" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  HOMEWARD_SECRET_KEY="$SECRET" HOMEWARD_PUBLIC_URL="$PROXY" HOMEWARD_TRUST_PROXY=true
  HOMEWARD_CONTENT_DIR="$REPO/content" LOG_FORMAT=json RUST_LOG=info,sqlx=warn,sea_orm=warn)
hw() { (cd "$TMP" && exec env -i "${HW_ENV[@]}" "$BIN" "$@"); }
hw migrate up >/dev/null
hw content import | tail -n 1
ok "migrated and imported the sample content: $(psql "$DB_URL" -X -At -c 'SELECT count(*) FROM lesson') lessons"

# ---------------------------------------------------------------------------------------------
section "two instances ($A, $B) and nginx (https port $HTTPS_PORT, http port $HTTP_PORT)"
for port in "$PORT_A" "$PORT_B"; do
  (cd "$TMP" && exec env -i "${HW_ENV[@]}" HOMEWARD_BIND="127.0.0.1:$port" "$BIN" serve) >"$TMP/instance-$port.log" 2>&1 &
  PIDS+=($!)
done
for base in "$A" "$B"; do
  for _ in $(seq 1 300); do curl -s -o /dev/null "$base/livez" && break; sleep 0.1; done
  [[ $(curl -s "$base/readyz" | jq -r .status) == ok ]] || die "$base is not ready: $(curl -s "$base/readyz")"
done
ok "both instances ready on PostgreSQL + Redis"

mkdir -p "$TMP/nginx"/{ssl,cache,log,www,temp}
chmod 711 "$TMP/nginx"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" \
  -keyout "$TMP/nginx/ssl/privkey.pem" -out "$TMP/nginx/ssl/fullchain.pem" 2>/dev/null
deploy/nginx/local-site.sh "$TMP/nginx" "$HTTP_PORT" "$HTTPS_PORT" "127.0.0.1:$PORT_A" "127.0.0.1:$PORT_B" \
  >"$TMP/nginx/homeward.conf"
USER_LINE=""
if [[ $EUID == 0 ]]; then
  chown -R nobody: "$TMP/nginx/cache" "$TMP/nginx/temp"
  USER_LINE="user nobody $(id -gn nobody);"
fi
cat >"$TMP/nginx/nginx.conf" <<CONF
$USER_LINE
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/log/error.log;
worker_processes 1;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    gzip on;
    client_body_temp_path $TMP/nginx/temp/body;
    proxy_temp_path $TMP/nginx/temp/proxy;
    fastcgi_temp_path $TMP/nginx/temp/fastcgi;
    uwsgi_temp_path $TMP/nginx/temp/uwsgi;
    scgi_temp_path $TMP/nginx/temp/scgi;
    include $TMP/nginx/homeward.conf;
}
CONF
NGINX_STARTED=1
nginx -p "$TMP/nginx" -e "$TMP/nginx/log/error.log" -c "$TMP/nginx/nginx.conf" || die "nginx did not start"
for _ in $(seq 1 50); do pcurl -o /dev/null "$PROXY/livez" 2>/dev/null && break; sleep 0.1; done
ACCESS_LOG="$TMP/nginx/log/homeward.access.log"

# ---------------------------------------------------------------------------------------------
section "through the proxy"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$HTTP_PORT/s/parents" -H "Host: $HOST")
[[ $code == "301 https://$HOST:$HTTPS_PORT/s/parents" ]] || die "http:// answered '$code'"
ok "http:// redirects to https:// ($code)"
ready=$(pcurl "$PROXY/readyz")
[[ $(jq -r '.status + " " + .database.backend + " " + .cache.backend' <<<"$ready") == "ok postgres redis" ]] \
  || die "/readyz through the proxy: $ready"
ok "TLS with the self-signed certificate verified; /readyz: $(jq -c . <<<"$ready")"
headers=$(pcurl -D - -o /dev/null "$PROXY/")
grep -qi '^strict-transport-security: max-age' <<<"$headers" || die "no HSTS from Homeward behind https: $headers"
[[ $(grep -ci '^strict-transport-security' <<<"$headers") == 1 ]] || die "HSTS sent twice"
ok "Homeward sends HSTS once (HOMEWARD_PUBLIC_URL is https)"

# A worker joins with a code made by the CLI, as on a poster.
FACTORY=$(hw factory add "集群测试厂" --name-en "Cluster Test Factory" | tail -n 1)
JOIN_URL=$(hw code create --factory "$FACTORY" --label "canteen" | tail -n 1)
[[ $JOIN_URL == "$PROXY/join/"* ]] || die "code create printed '$JOIN_URL'"
JAR="$TMP/worker.jar"
pcurl -c "$JAR" -b "$JAR" -o "$TMP/join.html" "$JOIN_URL"
form_value() { grep -o "name=\"$2\" value=\"[^\"]*\"" "$1" | head -n 1 | sed 's/.*value="//; s/"$//'; }
CSRF=$(form_value "$TMP/join.html" csrf) POLICY=$(form_value "$TMP/join.html" accept_policy)
[[ -n $CSRF && -n $POLICY ]] || die "the join page has no csrf or policy field"
out=$(pcurl -c "$JAR" -b "$JAR" -o /dev/null -w '%{http_code} %{redirect_url}' "$JOIN_URL" \
  --data-urlencode "csrf=$CSRF" --data-urlencode "accept_policy=$POLICY" \
  --data-urlencode "audience=parents" --data-urlencode "nickname=阿芳" --data-urlencode "lang=zh")
[[ $out == "303 $PROXY/s/parents/"* ]] || die "joining answered '$out'"
grep -q 'hw_session' "$JAR" || die "no session cookie after joining"
awk '$6 == "hw_session" && $4 != "TRUE" { bad = 1 } END { exit bad }' "$JAR" || die "the session cookie is not Secure"
LESSON_URL=${out#* }
ok "a worker joined through the proxy (code from \`homeward code create\`, Secure session cookie) → $LESSON_URL"

code=$(pcurl -b "$JAR" -c "$JAR" -o "$TMP/lesson.html" -w '%{http_code}' "$LESSON_URL")
[[ $code == 200 ]] || die "the lesson answered $code"
LESSON=${LESSON_URL##*/}
QUESTIONS=$(pcurl "$PROXY/api/v1/series/parents/lessons/$LESSON" | jq -r '.quiz.questions[].id')
[[ -n $QUESTIONS ]] || die "lesson $LESSON has no quiz"
ok "opened lesson parents/$LESSON ($(wc -c <"$TMP/lesson.html") bytes of HTML)"

# Fail the quiz (first choice everywhere) with the HTML form, then pass it with the API.
CSRF=$(form_value "$TMP/lesson.html" csrf)
[[ -n $CSRF ]] || die "the lesson page has no csrf field for the signed-in worker"
args=(--data-urlencode "csrf=$CSRF")
for q in $QUESTIONS; do args+=(--data-urlencode "q.$q=a"); done
code=$(pcurl -b "$JAR" -o "$TMP/quiz.html" -w '%{http_code}' "${args[@]}" "$PROXY/s/parents/$LESSON/quiz")
[[ $code == 200 ]] || die "the quiz form answered $code"
answers=$(pcurl -H 'content-type: application/json' -d '{"answers":{}}' \
  "$PROXY/api/v1/series/parents/lessons/$LESSON/quiz" | jq -c '[.questions[] | {(.question_id): .correct_answer}] | add')
# The session's own CSRF token (the one its pages carry) goes in the header.
result=$(pcurl -b "$JAR" -H 'content-type: application/json' -H "X-CSRF-Token: $CSRF" \
  -d "{\"answers\": $answers}" "$PROXY/api/v1/series/parents/lessons/$LESSON/quiz")
[[ $(jq -r .passed <<<"$result") == true ]] || die "the right answers did not pass: $result"
stored=$(psql "$DB_URL" -X -At -c "SELECT count(*) || ' attempts, ' || count(*) FILTER (WHERE passed) || ' passed' FROM quiz_attempt")
[[ $stored == "2 attempts, 1 passed" ]] || die "quiz attempts in the database: $stored"
ok "quiz failed (HTML form) then passed (API): $stored in PostgreSQL"

# An editor: staff add (CLI), set the password, sign in, make an API token — all through nginx.
SETUP=$(hw staff add --role editor --email "$EDITOR_EMAIL" | tail -n 1)
[[ $SETUP == "$PROXY/staff/setup/"* ]] || die "staff add printed '$SETUP'"
SJAR="$TMP/editor.jar" PASSWORD="cluster-$(openssl rand -hex 8)"
pcurl -c "$SJAR" -b "$SJAR" -o "$TMP/setup.html" "$SETUP"
code=$(pcurl -c "$SJAR" -b "$SJAR" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$(form_value "$TMP/setup.html" csrf)" \
  --data-urlencode "password=$PASSWORD" "$SETUP")
[[ $code == 303 ]] || die "setting the password answered $code"
pcurl -c "$SJAR" -b "$SJAR" -o "$TMP/login.html" "$PROXY/staff/login"
code=$(pcurl -c "$SJAR" -b "$SJAR" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$(form_value "$TMP/login.html" csrf)" \
  --data-urlencode "email=$EDITOR_EMAIL" --data-urlencode "password=$PASSWORD" --data-urlencode "next=" "$PROXY/staff/login")
[[ $code == 303 ]] || die "signing in answered $code"
pcurl -c "$SJAR" -b "$SJAR" -o "$TMP/tokens.html" "$PROXY/staff/tokens"
pcurl -c "$SJAR" -b "$SJAR" -o "$TMP/token.html" --data-urlencode "csrf=$(form_value "$TMP/tokens.html" csrf)" \
  --data-urlencode "name=cluster" "$PROXY/staff/tokens"
TOKEN=$(grep -o 'hwk_[A-Za-z0-9_-]*' "$TMP/token.html" | head -n 1)
[[ -n $TOKEN ]] || die "no API token on the tokens page"
ok "an editor set a password, signed in and made an API token through the proxy"

# Unpublish on instance A, watch B; publish on B, watch A and the proxy.
LESSON_API="/api/v1/series/parents/lessons/video-calls"
studio() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$1/api/v1/studio/series/parents/lessons/video-calls/$2"; }
seen_within() { # BASE STATUS START_MS → ms until BASE answers STATUS for the lesson, or fail at 1 s
  local code
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1$LESSON_API")
    [[ $code == "$2" ]] && { echo $(($(now_ms) - $3)); return 0; }
    (($(now_ms) - $3 > 1000)) && { echo "over 1000 ms (still $code)"; return 1; }
    sleep 0.02
  done
}
[[ $(curl -s -o /dev/null -w '%{http_code}' "$B$LESSON_API") == 200 ]] || die "video-calls is not visible on B"
t=$(now_ms); [[ $(studio "$A" unpublish) == 204 ]] || die "unpublish on A failed"
ms=$(seen_within "$B" 404 "$t") || die "B still serves the unpublished lesson: $ms"
ok "unpublished on instance A → gone on instance B after $ms ms"
t=$(now_ms); [[ $(studio "$B" publish) == 204 ]] || die "publish on B failed"
ms=$(seen_within "$A" 200 "$t") || die "A does not serve the published lesson: $ms"
for _ in 1 2 3 4; do
  [[ $(pcurl -o /dev/null -w '%{http_code}' "$PROXY$LESSON_API") == 200 ]] || die "the proxy does not serve it on every instance"
done
ok "published on instance B → back on instance A after $ms ms, and through the proxy"

# Rate limits: 10 recovery attempts per address per 10 minutes, counted in Redis.
recover() { # FROM_ADDRESS [curl args] → status
  local from=$1; shift
  pcurl --interface "$from" -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"recovery_code":"not-a-code"}' "$@" "$PROXY/api/v1/sessions/recover"
}
for i in $(seq 1 10); do
  code=$(recover 127.0.0.2 -H "X-Forwarded-For: 198.51.100.$i")
  [[ $code == 422 ]] || die "attempt $i from 127.0.0.2 answered $code"
done
[[ $(recover 127.0.0.2) == 429 ]] || die "the 11th attempt from 127.0.0.2 was not limited"
ok "10 attempts from 127.0.0.2, each with a different forged X-Forwarded-For, then 429: the forgery counts for nothing"
[[ $(recover 127.0.0.2 -H "X-Forwarded-For: 203.0.113.7") == 429 ]] || die "a forged X-Forwarded-For escaped the limit"
[[ $(recover 127.0.0.2 -H "X-Forwarded-For: 203.0.113.7, 203.0.113.8") == 429 ]] || die "a forged list escaped the limit"
ok "still 429 from 127.0.0.2 claiming to be 203.0.113.7 (alone or in a list)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -d '{"recovery_code":"x"}' \
  -H "X-Forwarded-For: 203.0.113.9, 127.0.0.2" "$A/api/v1/sessions/recover")
[[ $code == 429 ]] || die "behind a proxy that appends, Homeward took the client's entry ($code)"
ok "behind a proxy that appends instead (\"203.0.113.9, 127.0.0.2\"), Homeward takes the proxy's entry: 429"
[[ $(recover 127.0.0.3) == 422 ]] || die "127.0.0.3 was limited with 127.0.0.2: Homeward counts nginx's address"
ok "127.0.0.3 is not limited: Homeward counts the address nginx passes, not nginx's own"
upstreams=$(grep -F '/api/v1/sessions/recover' "$ACCESS_LOG" | awk '{ print $(NF-3) }' | sort -u | tr '\n' ' ')
[[ $upstreams == *"127.0.0.1:$PORT_A"* && $upstreams == *"127.0.0.1:$PORT_B"* ]] \
  || die "the attempts did not reach both instances: $upstreams"
ok "those attempts were spread over both instances ($upstreams) and counted together in Redis"

# Body limits, static assets, compression, /metrics.
code=$(head -c 70000 /dev/zero | tr '\0' 'x' | pcurl -o "$TMP/413.json" -w '%{http_code} %{content_type}' \
  -H 'content-type: application/json' --data-binary @- "$PROXY/api/v1/progress/events")
[[ $code == "413 application/problem+json" ]] || die "a 70 KB API body answered '$code'"
code=$(head -c 60000 /dev/zero | tr '\0' 'x' | pcurl -o /dev/null -w '%{http_code}' \
  -H 'content-type: application/json' --data-binary @- "$PROXY/api/v1/progress/events")
[[ $code != 413 ]] || die "a 60 KB body was refused"
ok "bodies over 64 KB get 413 problem+json from nginx; 60 KB reaches Homeward ($code)"
CSS=$(grep -o '/static/app\.[0-9a-f]*\.css' "$TMP/lesson.html" | head -n 1)
[[ -n $CSS ]] || die "no hashed stylesheet on the lesson page"
pcurl -o /dev/null -H 'Accept-Encoding: gzip' "$PROXY$CSS"  # warm the cache for this encoding (the CSS varies by it)
h=$(pcurl -D - -o /dev/null -H 'Accept-Encoding: gzip' "$PROXY$CSS")
grep -qi '^x-cache-status: HIT' <<<"$h" || die "$CSS was not served from nginx's cache: $h"
grep -qi '^content-encoding: gzip' <<<"$h" || die "$CSS was not compressed"
grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$h" || die "$CSS lost its long cache"
h=$(pcurl -D - -o /dev/null -H 'Accept-Encoding: gzip' -b "$JAR" "$LESSON_URL")
! grep -qi '^content-encoding' <<<"$h" || die "a page with a CSRF token was compressed"
ok "$CSS: cached by nginx (HIT), gzip, a year in browsers; pages are not compressed"
[[ $(pcurl -o /dev/null -w '%{http_code}' "$PROXY/metrics") == 404 ]] || die "/metrics is public"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$A/metrics") == 200 ]] || die "/metrics is gone from the instance"
ok "/metrics: 404 through the proxy, 200 on the instance for Prometheus"
h=$(pcurl -D - -o /dev/null "$PROXY/wechat/callback?signature=x&timestamp=1&nonce=2&echostr=hello")
grep -qi '^x-request-id:' <<<"$h" || die "/wechat/callback did not reach Homeward: $h"
ok "/wechat/callback?… reaches Homeward ($(head -n 1 <<<"$h" | tr -d '\r'))"

# Passive failover: stop A, every request is still answered.
stop_pid "${PIDS[0]}"
for i in $(seq 1 12); do
  code=$(pcurl -o /dev/null -w '%{http_code}' "$PROXY/s/parents")
  [[ $code == 200 ]] || die "request $i with instance A stopped answered $code"
done
ok "instance A stopped: 12 of 12 pages still answered through instance B"
grep -q "homeward stopped" "$TMP/instance-$PORT_A.log" || die "instance A did not stop gracefully"
ok "instance A logged a graceful stop on SIGTERM"
