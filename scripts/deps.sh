#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Install build and test dependencies on Debian 12 (bookworm). Idempotent: when every package is
# already installed it does nothing (no apt-get update, no network).
#
#   scripts/deps.sh            build + test deps
#   scripts/deps.sh --package  only what scripts/build-deb.sh needs (no test tools on an operator's host)
#   scripts/deps.sh --fuzz     also clang-14 and libclang-rt-14-dev (libFuzzer)
#   scripts/deps.sh --list     print the package names and exit
set -euo pipefail

# The release build, the manual pages and `cpack -G DEB` (dpkg-dev comes with build-essential;
# cpack's dependency scan runs file and dpkg-shlibdeps).
package_build=(
    build-essential cmake pkg-config
    libseccomp-dev libtomlplusplus-dev nlohmann-json3-dev zlib1g-dev
    scdoc file
)

packages=(
    "${package_build[@]}"
    libgtest-dev googletest
    openssh-server openssh-client
    python3
    procps iproute2 systemd-journal-remote     # ps/pgrep/ss: probed by the e2e test and scripts/demo.sh (minimal images lack them)
    sysstat util-linux gzip xz-utils zstd     # the shipped samplers, dmesg/mount/last, zcat/xzcat/zstdcat: run by the integration and e2e tests
    clang-format                               # scripts/check-format.sh (ctest: format)
    nix-bin                                    # nix-instantiate: parse/evaluate nix/ and flake.nix (tests/nix)
    curl iputils-ping netcat-openbsd openssl   # the network rules, run for real (tests/integration/network_test.cc)
    man-db mandoc bsdextrautils                # man --warnings, mandoc -T lint, col: ctest man_pages
    logrotate e2fsprogs util-linux             # logrotate, chattr/lsattr, flock, setpriv: ctest logrotate_rotation
)

for arg in "$@"; do
    case $arg in
        --package) packages=("${package_build[@]}") ;;
        --fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
        --list) list=1 ;;
        -h|--help) sed -n '4,10p' "$0"; exit 0 ;;
        *) echo "deps.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [[ -n ${list:-} ]]; then
    printf '%s\n' "${packages[@]}"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: apt-get/dpkg-query not found; this script targets Debian 12" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps.sh: all ${#packages[@]} packages already installed"
    exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps.sh: need root to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "deps.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
