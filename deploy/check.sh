#!/usr/bin/env bash
# Checks the deployment files as shipped: `nginx -t` on deploy/nginx/homeward.conf (inside a
# temporary config root with a throw-away self-signed certificate), and `systemd-analyze verify`
# plus an offline `systemd-analyze security` score on deploy/systemd/*. Exits non-zero on any
# problem; a missing nginx is a failure, a missing systemd-analyze is said loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== nginx: deploy/nginx/homeward.conf"
command -v nginx >/dev/null || fail "nginx is not installed (apt-get install -y nginx-light)"
mkdir -p "$tmp/ssl" "$tmp/cache" "$tmp/log" "$tmp/www" "$tmp/temp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=homeward.example.org" \
  -keyout "$tmp/ssl/privkey.pem" -out "$tmp/ssl/fullchain.pem" 2>/dev/null
deploy/nginx/local-site.sh "$tmp" > "$tmp/homeward.conf"
# The http block of Debian's /etc/nginx/nginx.conf (gzip on included), around the site.
cat > "$tmp/nginx.conf" <<CONF
pid $tmp/nginx.pid;
error_log $tmp/log/error.log;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    gzip on;
    client_body_temp_path $tmp/temp/body;
    proxy_temp_path $tmp/temp/proxy;
    fastcgi_temp_path $tmp/temp/fastcgi;
    uwsgi_temp_path $tmp/temp/uwsgi;
    scgi_temp_path $tmp/temp/scgi;
    include $tmp/homeward.conf;
}
CONF
nginx -t -q -p "$tmp" -e "$tmp/log/error.log" -c "$tmp/nginx.conf" 2>"$tmp/nginx-t.txt" ||
  { cat "$tmp/nginx-t.txt" >&2; fail "nginx -t rejected deploy/nginx/homeward.conf"; }
if grep -q . "$tmp/nginx-t.txt"; then
  cat "$tmp/nginx-t.txt" >&2
  fail "nginx -t warned about deploy/nginx/homeward.conf"
fi
echo "ok: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') accepts deploy/nginx/homeward.conf"

echo "== systemd: deploy/systemd/*"
if ! command -v systemd-analyze >/dev/null; then
  echo "NOT CHECKED: systemd-analyze is not installed here (apt-get install -y systemd);"
  echo "             the unit files were not verified."
  exit 0
fi
# verify needs ExecStart to exist: point it at a built binary when there is one.
binary=""
for candidate in target/debug/homeward target/release/homeward; do
  [[ -x $candidate ]] && binary="$PWD/$candidate" && break
done
[[ -n $binary ]] || { binary=/bin/true; echo "(no homeward binary built: ExecStart checked with /bin/true)"; }
mkdir -p "$tmp/units"
for unit in deploy/systemd/*; do
  sed "s#/usr/local/bin/homeward#$binary#g" "$unit" > "$tmp/units/$(basename "$unit")"
done
ln -s "homeward@.service" "$tmp/units/homeward@8081.service"
units=("$tmp/units/homeward@8081.service" "$tmp/units/homeward-migrate.service"
       "$tmp/units/homeward-backup.service" "$tmp/units/homeward-backup.timer")
if ! systemd-analyze verify --man=no "${units[@]}" >"$tmp/verify.txt" 2>&1 || grep -q . "$tmp/verify.txt"; then
  cat "$tmp/verify.txt" >&2
  fail "systemd-analyze verify found problems in deploy/systemd/"
fi
echo "ok: systemd-analyze verify ($(systemd-analyze --version | head -1)) accepts every unit"
for unit in homeward@8081.service homeward-migrate.service homeward-backup.service; do
  if ! systemd-analyze security --offline=true "$tmp/units/$unit" >"$tmp/security.txt" 2>&1; then
    if grep -q "unrecognized option\|Unknown command" "$tmp/security.txt"; then
      echo "NOT CHECKED: this systemd-analyze cannot score units offline (needs systemd 252+)"
      break
    fi
    cat "$tmp/security.txt" >&2
    fail "systemd-analyze security failed on $unit"
  fi
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security.txt")
  [[ -n $score ]] || { cat "$tmp/security.txt" >&2; fail "no exposure score for $unit"; }
  awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "$unit: exposure $score is above 2.0"
  echo "ok: $unit exposure $score (systemd-analyze security: 0 is best, 10 worst; at most 2.0 here)"
done
