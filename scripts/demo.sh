#!/usr/bin/env bash
# Builds pushlab and starts the demo server: open http://127.0.0.1:8080/
# Extra arguments go to pushlab-server (see --help).
#   scripts/demo.sh --where [ARGS]   only prints where the page would be
set -euo pipefail
cd "$(dirname "$0")/.."
# Where to point a browser, from the same flags the server gets.
where() {
  local bind=127.0.0.1 port=8080 args=("$@") i lan
  for i in "${!args[@]}"; do
    case ${args[$i]} in
    --bind) bind=${args[$((i + 1))]:-$bind} ;;
    --bind=*) bind=${args[$i]#--bind=} ;;
    --http-port) port=${args[$((i + 1))]:-$port} ;;
    --http-port=*) port=${args[$i]#--http-port=} ;;
    esac
  done
  if [ "$bind" = 0.0.0.0 ]; then
    lan=$(hostname -I 2>/dev/null | awk '{print $1}')
    echo "pushlab: open http://${lan:-THIS-HOST}:$port/ from other machines, http://127.0.0.1:$port/ here (Ctrl-C stops the server)"
  else
    echo "pushlab: open http://$bind:$port/ (Ctrl-C stops the server)"
  fi
}
if [ "${1:-}" = --where ]; then
  shift
  where "$@"
  exit 0
fi
scripts/deps.sh build
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
where "$@" >&2
exec build/server/pushlab-server --web-root "$PWD/web" "$@"
