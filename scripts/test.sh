#!/usr/bin/env bash
# Builds pushlab and runs every test: once in a normal build (all suites,
# browser tests included), once under AddressSanitizer + UBSan (all but the
# browser suite and the fuzzers, which are sanitized builds in both). Ends
# with one line "N passed, N failed".
#   scripts/test.sh            everything
#   scripts/test.sh --no-asan  skip the sanitizer pass
# The 'load' suite runs once, in the normal build, under the heavy lock.
set -uo pipefail
cd "$(dirname "$0")/.."
asan=1
[ "${1:-}" = --no-asan ] && asan=0
scripts/deps.sh test || exit 1
if [ -f tests/web/package-lock.json ]; then
  (cd tests/web && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "pushlab: npm ci in tests/web failed; the browser tests will fail" >&2
fi
if [ -f bench/node/package-lock.json ]; then
  (cd bench/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "pushlab: npm ci in bench/node failed; the node_client test will skip" >&2
fi
logs=()
run() { # run NAME BUILD_DIR MESON_SETUP_ARGS... -- MESON_TEST_ARGS...
  local name=$1 dir=$2; shift 2
  local setup=() targs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do setup+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  targs=("$@")
  echo "== $name build ($dir)" >&2
  # A pass that cannot build counts as a failure in the summary line.
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "${setup[@]}" >/dev/null ||
    { logs+=("build-failed:$name"); return 1; }
  ninja -C "$dir" >/dev/null || { ninja -C "$dir" | tail -30; logs+=("build-failed:$name"); return 1; }
  echo "== $name tests" >&2
  meson test -C "$dir" --print-errorlogs "${targs[@]}"
  logs+=("$dir/meson-logs/testlog.json")
}
status=0
run normal build -- || status=1
# 18,000 subscribers per transport (suite 'load', not in a plain meson test):
# both cores for minutes, so under the machine's heavy lock.
echo "== load tests (build, under /tmp/pushlab-heavy.lock)" >&2
flock /tmp/pushlab-heavy.lock meson test -C build --print-errorlogs --suite load \
  --logbase testlog-load || status=1
logs+=(build/meson-logs/testlog-load.json)
if [ $asan = 1 ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  # The fuzz targets are clang builds with ASan + UBSan in both dirs: run once.
  run sanitized build-asan -Db_sanitize=address,undefined -Db_lundef=false -- \
    --no-suite web --no-suite fuzz --timeout-multiplier 3 || status=1
fi
python3 scripts/summarize.py "${logs[@]}" || status=1
exit $status
