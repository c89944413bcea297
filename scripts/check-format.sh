#!/usr/bin/env bash
# Fails when a tracked C file differs from what clang-format (with the
# checked-in .clang-format) would write. Run from anywhere in the tree.
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run --Werror
