#!/usr/bin/env bash
# Builds pushlab and starts the demo server: open http://127.0.0.1:8080/
# Extra arguments go to pushlab-server (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "pushlab: open http://127.0.0.1:8080/ (Ctrl-C stops the server)" >&2
exec build/server/pushlab-server --web-root "$PWD/web" "$@"
