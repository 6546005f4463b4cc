#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Install dependencies, build, and run every test (unit, integration, bypass regressions, fuzz
# corpus replay, sshd end to end, formatting), then build and run them again with AddressSanitizer
# and UndefinedBehaviorSanitizer (preset asan-ubsan):
#   scripts/test.sh            (as root; CI runs exactly this through .ci/run)
# Tests that need root or a kernel feature skip with a reason when it is missing.
# Exits with ctest's status.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

# The Nix module evaluations need nixpkgs' lib and home-manager, which are not vendored. CI keeps
# pinned, unmodified copies beside the clone (../shared/third_party); with them there, every
# evaluation must run (a skip is a failure), and home-manager is checked in both of its styles.
third_party=../shared/third_party
if [[ -d $third_party/nixpkgs-lib && -d $third_party/home-manager && -d $third_party/home-manager-25.11 ]]; then
    export DIAG_NIXPKGS_LIB=$PWD/$third_party/nixpkgs-lib
    export DIAG_HOME_MANAGER=$PWD/$third_party/home-manager                      # programs.ssh.settings
    export DIAG_HOME_MANAGER_MATCHBLOCKS=$PWD/$third_party/home-manager-25.11    # programs.ssh.matchBlocks
    export DIAG_NIX_CHECKS_REQUIRED=1
else
    echo "test.sh: $third_party not found: the Nix module evaluations will skip" >&2
fi
export DIAG_FORMAT_REQUIRED=1  # the format check runs (clang-format 14 is a dependency), never skips
cmake --preset dev
cmake --build --preset dev
ctest --preset dev
# The same suite under ASan+UBSan: a memory or UB error anywhere fails the run.
cmake --preset asan-ubsan
cmake --build --preset asan-ubsan
ctest --preset asan-ubsan
