#!/usr/bin/env bash
# Fuzzes the JSON API against its own OpenAPI document with schemathesis (PyPI, in its own
# virtualenv .venv-schemathesis): no answer may be a 5xx, and every answer must match the
# document (status, content type, headers, body schema).
#
#   1. builds homeward (debug: CI has just built it for the tests) and starts it on a temporary
#      SQLite file with the sample content (`content/`), a factory, a code and an admin
#   2. makes a staff API token (the admin signs in through the pages) and a learner session (a
#      join through the API), so the authenticated operations are exercised, not just refused
#   3. runs schemathesis with a bounded budget: the learner and public operations with the
#      learner's session, the staff operations (tags Studio, Manage, Admin, Staff) with the token,
#      then, 8 s each, the operations that end those credentials (sign-outs, deletions, revoking)
#
# Usage: scripts/schemathesis.sh            (exit 0 when no check failed)
# Settings (environment):
#   SCHEMATHESIS_MAX_EXAMPLES=25   test cases per operation and phase
#   SCHEMATHESIS_MAX_TIME=40       seconds each of the two main runs may take at most
#   SCHEMATHESIS_SEED=1            fixed, so a failure in CI reproduces on a laptop
#   HOMEWARD_BIN                   a homeward binary already built (default: cargo build, debug)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
VENV="$REPO/.venv-schemathesis"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
MAX_TIME="${SCHEMATHESIS_MAX_TIME:-40}"
SEED="${SCHEMATHESIS_SEED:-1}"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/homeward-schemathesis.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  [[ ${KEEP:-0} == 1 ]] || rm -rf "$TMP"
}
trap cleanup EXIT
die() { printf 'schemathesis: FAILED: %s\n' "$*" >&2; [[ -f $TMP/server.log ]] && tail -n 30 "$TMP/server.log" >&2; exit 1; }

echo "== schemathesis in $VENV"
if [[ ! -x $VENV/bin/schemathesis ]]; then
  "${PYTHON:-python3}" -m venv "$VENV"
  printf '*\n' >"$VENV/.gitignore"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
"$VENV/bin/schemathesis" --version

echo "== homeward on SQLite with the sample content"
if [[ -z ${HOMEWARD_BIN:-} ]]; then
  cargo build --quiet --bin homeward
fi
BIN="${HOMEWARD_BIN:-$REPO/target/debug/homeward}"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$TMP/homeward.db?mode=rwc" HOMEWARD_CONTENT_DIR="$REPO/content"
export HOMEWARD_BIND="127.0.0.1:$PORT" HOMEWARD_PUBLIC_URL="$BASE" HOMEWARD_WORKER=false
export RUST_LOG=warn,homeward=warn NO_COLOR=1
hw() { (cd "$TMP" && "$BIN" "$@"); }
hw migrate up >/dev/null
hw content import >/dev/null
FACTORY=$(hw factory add "测试厂" --name-en "Test Factory" | tail -n 1)
LINE=$(hw line add --factory "$FACTORY" "一线" | tail -n 1)
JOIN_URL=$(hw code create --factory "$FACTORY" --line "$LINE" --label fuzz | tail -n 1)
SETUP=$(hw staff add --role admin --email admin@fuzz.test | tail -n 1)
(cd "$TMP" && exec "$BIN" serve) >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$BASE/livez" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$BASE/livez" || die "the server did not start"

form_value() { grep -o "name=\"$2\" value=\"[^\"]*\"" "$1" | head -n 1 | sed 's/.*value="//; s/"$//'; }
JAR="$TMP/admin.jar" PASSWORD="fuzz-$(openssl rand -hex 8)"
scurl() { curl -sS --max-time 20 -c "$JAR" -b "$JAR" "$@"; }
scurl -o "$TMP/setup.html" "$SETUP"
scurl -o /dev/null --data-urlencode "csrf=$(form_value "$TMP/setup.html" csrf)" \
  --data-urlencode "password=$PASSWORD" "$SETUP"
scurl -o "$TMP/login.html" "$BASE/staff/login"
scurl -o /dev/null --data-urlencode "csrf=$(form_value "$TMP/login.html" csrf)" \
  --data-urlencode "email=admin@fuzz.test" --data-urlencode "password=$PASSWORD" \
  --data-urlencode "next=" "$BASE/staff/login"
scurl -o "$TMP/tokens.html" "$BASE/staff/tokens"
scurl -o "$TMP/token.html" --data-urlencode "csrf=$(form_value "$TMP/tokens.html" csrf)" \
  --data-urlencode "name=schemathesis" "$BASE/staff/tokens"
STAFF_TOKEN=$(grep -o 'hwk_[A-Za-z0-9_-]*' "$TMP/token.html" | head -n 1)
[[ -n $STAFF_TOKEN ]] || die "no staff API token"

CODE=${JOIN_URL##*/}
POLICY=$(curl -fsS "$BASE/api/v1/enrollments/$CODE" | jq -r .policy_version)
join() {
  curl -fsS -H 'content-type: application/json' \
    -d "{\"token\": \"$CODE\", \"audience\": \"parents\", \"accept_policy\": \"$POLICY\"}" \
    "$BASE/api/v1/enrollments" | jq -r .session_token
}
LEARNER_TOKEN=$(join) LEAVING_TOKEN=$(join) # the second one for signing out and deleting
[[ -n $LEARNER_TOKEN && -n $LEAVING_TOKEN && $LEARNER_TOKEN != null && $LEAVING_TOKEN != null ]] \
  || die "no learner sessions"
echo "staff token and learner session ready"

# Only what the API promises: no 5xx, and answers as the document describes them. Checks that
# test a server's choices rather than its document (e.g. that every bad input is refused with
# exactly a 4xx the fuzzer expects, or that a deleted resource is gone) stay off.
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
fuzz() { # NAME TOKEN SECONDS FILTER…
  local name=$1 token=$2 seconds=$3
  shift 3
  echo "== schemathesis: $name"
  # From the temporary folder, so schemathesis' own cache (.schemathesis/) stays out of the tree.
  (cd "$TMP" && "$VENV/bin/schemathesis" --no-color run "$BASE/api/openapi.json" --url "$BASE/api/v1" \
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --max-time "$seconds" --seed "$SEED" \
    --phases examples,coverage,fuzzing --workers 2 --request-timeout 15 \
    --suppress-health-check all --generation-database none \
    -H "Authorization: Bearer $token" "$@")
}
# One filter per run (schemathesis keeps only the last of several): staff operations' ids start
# with their tag. Operations that end the credentials the others need run last, on their own.
STAFF='admin_|manage_|studio_|staff_'
status=0
fuzz "learner and public operations, learner session" "$LEARNER_TOKEN" "$MAX_TIME" \
  --exclude-operation-id-regex "^($STAFF|delete_me\$|sign_out\$|sign_out_everywhere\$)" || status=1
fuzz "staff operations, API token" "$STAFF_TOKEN" "$MAX_TIME" \
  --include-operation-id-regex "^(?!staff_revoke_token\$|admin_learner_delete\$)($STAFF)" || status=1
fuzz "signing out and deleting, another learner's session" "$LEAVING_TOKEN" 8 \
  --include-operation-id-regex '^(delete_me|sign_out|sign_out_everywhere)$' || status=1
fuzz "revoking tokens and deleting learners, API token" "$STAFF_TOKEN" 8 \
  --include-operation-id-regex '^(staff_revoke_token|admin_learner_delete)$' || status=1
if grep -q 'panicked' "$TMP/server.log"; then
  grep -m 5 'panicked' "$TMP/server.log" >&2
  status=1
fi
exit "$status"
