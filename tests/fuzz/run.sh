#!/bin/sh
# Runs one libFuzzer target over its committed seed corpus for a bounded
# time (meson test --suite fuzz). Every corpus file is replayed first, so a
# file saved from a past crash is a regression test. New inputs go to a
# scratch dir, never into the committed corpus; a crashing input is saved
# under ARTIFACT_DIR and its path printed.
#   run.sh FUZZER CORPUS_DIR ARTIFACT_DIR     (PL_FUZZ_SECONDS, default 15)
set -eu
fuzzer=$1 corpus=$2 artifacts=$3
secs=${PL_FUZZ_SECONDS:-15}
name=$(basename "$fuzzer")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
[ -d "$corpus" ] || { echo "no corpus $corpus"; exit 1; }
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$work" "$corpus"
