#!/bin/sh
# Creates .venv-wechat with wechatpy, the independent WeChat implementation the tests talk to.
# Usage: scripts/wechat-venv.sh [venv dir]   (default: .venv-wechat at the repository root)
# The Rust tests find its python through HOMEWARD_TEST_PYTHON or .venv-wechat/bin/python.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-"$root/.venv-wechat"}
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# Keep the virtualenv out of git without touching the repository's .gitignore.
printf '*\n' > "$venv/.gitignore"

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "wechatpy==1.8.18" "cryptography>=42"
"$venv/bin/python" -c 'import wechatpy, wechatpy.crypto; print("wechatpy", wechatpy.__version__, "ready in '"$venv"'")'
