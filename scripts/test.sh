#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Install dependencies, build, and run every test (unit, integration, bypass regressions, fuzz
# corpus replay, sshd end to end):
#   scripts/test.sh            (as root; CI runs exactly this through .ci/run)
# Tests that need root or a kernel feature skip with a reason when it is missing.
# Exits with ctest's status.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
cmake --preset dev
cmake --build --preset dev
ctest --preset dev
