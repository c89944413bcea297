#!/usr/bin/env bash
# The long fuzzing run: every libFuzzer target of tests/fuzz for SECONDS
# each (default 1800), JOBS at a time (default 2: a core each), starting
# from the committed seed corpora. Prints, per target, executions, the
# cov/ft libFuzzer reached, the corpus it grew and crashes; then the line
# coverage of each source file over all the grown corpora (llvm-cov). It
# keeps every core busy, so run it under the heavy lock:
#   flock /tmp/pushlab-heavy.lock scripts/fuzz.sh [SECONDS] [JOBS]
# Results go to build/fuzz-long/ (<target>/corpus, log, crash-*, summary.txt).
# A crash stops that target; its input is the file to fix and to add to
# tests/fuzz/corpus/<target>/ as a regression test.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-1800}
jobs=${2:-2}
targets=(fuzz_publish fuzz_store fuzz_route fuzz_sse_parser fuzz_ws_frame fuzz_ws_codec)
out=build/fuzz-long

[ -f build/build.ninja ] || meson setup build >/dev/null || exit 1
ninja -C build "${targets[@]/#/tests/fuzz/}" >/dev/null || exit 1
[ -x build/tests/fuzz/fuzz_store ] || { echo "fuzz.sh: no fuzzers built (clang missing?)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"

run_one() {
  local t=$1
  mkdir -p "$out/$t/corpus"
  build/tests/fuzz/"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$out/$t/" "$out/$t/corpus" "tests/fuzz/corpus/$t" \
    >"$out/$t/log" 2>&1
  echo $? >"$out/$t/rc"
}

progress() {
  [ -t 2 ] || return 0
  local now=$(($(date +%s) - start)) done=0
  for t in "${targets[@]}"; do [ -f "$out/$t/rc" ] && done=$((done + 1)); done
  printf '\rfuzz: %d:%02d elapsed, %d of %d targets done ' $((now / 60)) $((now % 60)) \
    "$done" "${#targets[@]}" >&2
}

start=$(date +%s)
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do progress; sleep 5; done
  run_one "$t" &
done
while [ -n "$(jobs -rp)" ]; do progress; sleep 5; done
wait
[ -t 2 ] && echo >&2

{
  echo "fuzz.sh: $secs s per target, $jobs at a time, $(nproc) cores, $(date -u +%Y-%m-%d)"
  printf '%-16s %12s %9s %6s %7s %8s %8s\n' target executions exec/s cov ft corpus crashes
  for t in "${targets[@]}"; do
    log=$out/$t/log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    files=$(find "$out/$t/corpus" -type f | wc -l)
    crashes=$(find "$out/$t" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
      -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
    printf '%-16s %12s %9s %6s %7s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
      "${ft:-?}" "$files" "$crashes"
  done
} | tee "$out/summary.txt"

# Line coverage: replay every grown corpus through a coverage build.
profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata)
llvmcov=$(command -v llvm-cov-14 || command -v llvm-cov)
if [ -z "$profdata" ] || [ -z "$llvmcov" ]; then
  echo "fuzz.sh: llvm-profdata / llvm-cov not installed: no line coverage" | tee -a "$out/summary.txt"
  exit 0
fi
objects=()
for t in "${targets[@]}"; do
  ninja -C build "tests/fuzz/$t-cov" >/dev/null || exit 1
  LLVM_PROFILE_FILE="$out/$t/cov.profraw" build/tests/fuzz/"$t-cov" -runs=0 \
    "$out/$t/corpus" "tests/fuzz/corpus/$t" >/dev/null 2>&1
  objects+=(-object "build/tests/fuzz/$t-cov")
done
"$profdata" merge -sparse -o "$out/all.profdata" "$out"/*/cov.profraw
# The files whose code parses what arrives from the network, and the
# client's delivery and cursor rule the client fuzzers drive (sub_deliver.c,
# cursor.c).
parsers='common/(message|validate|store)|server/route|client/(sse_parser|ws_frame|sub_deliver|cursor)'
{
  echo
  echo "line coverage over all corpora (llvm-cov):"
  printf '%-40s %8s %8s %9s\n' "file" lines missed covered
  "$llvmcov" report "${objects[@]:1}" -instr-profile="$out/all.profdata" |
    awk -v re="^($parsers)\\.c$" '$1 ~ re { printf "%-40s %8s %8s %9s\n", $1, $8, $9, $10 }'
} | tee -a "$out/summary.txt"
