#!/usr/bin/env bash
# Prints deploy/nginx/homeward.conf with its site-specific paths moved under DIR, so that it can
# be checked (`nginx -t`) and served without root's folders. Used by deploy/check.sh and
# scripts/cluster.sh; every replacement must match, so the file tested is the file shipped.
#
#   local-site.sh DIR [HTTP_PORT HTTPS_PORT UPSTREAM...]
#
# With ports, the listen lines use them (IPv4 loopback only) and the upstream block lists the
# UPSTREAM addresses (host:port) instead of the example instances.
set -euo pipefail

if [[ $# -ne 1 && $# -lt 4 ]]; then
  echo "usage: $0 DIR [HTTP_PORT HTTPS_PORT UPSTREAM...]" >&2
  exit 2
fi
dir=$1
site="$(dirname "$0")/homeward.conf"
text=$(cat "$site")

replace() { # replace FROM TO: every occurrence, at least one
  local from=$1 to=$2
  if [[ $text != *"$from"* ]]; then
    echo "local-site.sh: '$from' is no longer in $site; update this script" >&2
    exit 1
  fi
  text=${text//"$from"/"$to"}
}

replace /etc/ssl/homeward/ "$dir/ssl/"
replace /var/cache/nginx/homeward "$dir/cache"
replace /var/log/nginx/ "$dir/log/"
replace /var/www/letsencrypt "$dir/www"

if [[ $# -ge 4 ]]; then
  http_port=$2 https_port=$3
  shift 3
  replace "    listen [::]:80;"$'\n' ""
  replace "    listen [::]:443 ssl http2;"$'\n' ""
  replace "listen 80;" "listen 127.0.0.1:$http_port;"
  replace "listen 443 ssl http2;" "listen 127.0.0.1:$https_port ssl http2;"
  replace "return 301 https://\$host\$request_uri;" "return 301 https://\$host:$https_port\$request_uri;"
  servers=""
  for upstream in "$@"; do
    servers+="    server $upstream max_fails=3 fail_timeout=10s;"$'\n'
  done
  replace "    server 127.0.0.1:8081 max_fails=3 fail_timeout=10s;"$'\n'"    server 127.0.0.1:8082 max_fails=3 fail_timeout=10s;"$'\n' "$servers"
fi

printf '%s\n' "$text"
