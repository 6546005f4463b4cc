#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Build the Debian package (adr/0020) on Debian 12, as root or with sudo for the dependencies:
#   scripts/build-deb.sh        -> build-release/package/diag-wrapper_VERSION_ARCH.deb
# Installs the build dependencies only (scripts/deps.sh --package), builds the release preset
# (the wrapper a static PIE, no tests) and runs cpack.
# Then: apt install ./build-release/package/diag-wrapper_*.deb
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
bash scripts/deps.sh --package
cmake --preset release -DDIAG_BUILD_TESTS=OFF -DDIAG_BUILD_BENCH=OFF
cmake --build --preset release
(cd build-release && cpack -G DEB)
ls -1 "$PWD"/build-release/package/diag-wrapper_*.deb
