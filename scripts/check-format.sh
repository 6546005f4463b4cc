#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Checks that every C++ file in the repository is formatted as .clang-format says:
#   scripts/check-format.sh          list the files that differ; exit 1 if any does
#   scripts/check-format.sh --fix    format them in place
# clang-format's output differs between major versions, so the check is pinned to the one Debian 12
# ships (14); with another version or none, or outside a git checkout, it exits 77 (ctest:
# skipped) and says why, unless DIAG_FORMAT_REQUIRED=1 (scripts/test.sh, so CI): then that fails.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

skip() {
    echo "check-format.sh: $1" >&2
    [[ ${DIAG_FORMAT_REQUIRED:-0} == 1 ]] && exit 1
    exit 77
}

readonly want_major=14
fmt=""
for candidate in clang-format-$want_major clang-format; do
    if command -v "$candidate" >/dev/null 2>&1; then
        fmt=$candidate
        break
    fi
done
if [[ -z $fmt ]]; then
    skip "clang-format $want_major not found (scripts/deps.sh installs it): skipped"
fi
version=$("$fmt" --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
if [[ $version != "$want_major" ]]; then
    skip "$fmt is version ${version:-unknown}, the check needs $want_major: skipped"
fi
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || skip "not a git checkout (the file list comes from git): skipped"

mapfile -t files < <(git ls-files -- '*.cc' '*.h')
if [[ ${1:-} == --fix ]]; then
    "$fmt" -i -- "${files[@]}"
    exit 0
fi
bad=0
for f in "${files[@]}"; do
    if ! "$fmt" --dry-run -Werror -- "$f" >/dev/null 2>&1; then
        echo "check-format.sh: $f is not formatted (scripts/check-format.sh --fix)" >&2
        bad=1
    fi
done
exit $bad
