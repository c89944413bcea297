#!/usr/bin/env bash
# The soak (not in CI): an hour of mixed load with churn against one
# pushlab-server (tests/reliability/soak.py), its RSS, fds and CPU written
# each minute to OUTDIR/soak.csv and drawn in OUTDIR/soak.svg, with a
# summary in OUTDIR/soak-summary.json. Exits non-zero when a message was
# lost or duplicated or the server did not stop cleanly. It keeps both
# cores busy: run it under the lock,
#   flock /tmp/pushlab-heavy.lock scripts/soak.sh [MINUTES] [OUTDIR]
# (defaults: 60 minutes, build/soak).
set -uo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
out=${2:-build/soak}
[ -f build/build.ninja ] || meson setup build >/dev/null || exit 1
ninja -C build server/pushlab-server client/pushlab-client bench/pushlab-bench >/dev/null || exit 1
python3 tests/reliability/soak.py build/server/pushlab-server build/client/pushlab-client \
  build/bench/pushlab-bench "$minutes" "$out"
status=$?
python3 scripts/soak_plot.py "$out/soak.csv" "$out/soak.svg" || status=1
exit $status
