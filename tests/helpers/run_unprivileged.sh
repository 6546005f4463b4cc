#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the unit test binary the way the Nix build sandbox does: as an unprivileged account
# (nobody), in a scratch directory, with no root-owned directory it could create. Every test must
# pass or skip with a reason; one failure fails this check (the package's doCheck would fail the
# same way).
#
#   tests/helpers/run_unprivileged.sh PATH/TO/diag_unit_tests SOURCE_DIR
#
# Exit 0 pass, 1 fail, 77 skipped (ctest SKIP_RETURN_CODE): not root, or no setpriv or nobody.
set -euo pipefail

BIN=${1:?usage: run_unprivileged.sh PATH/TO/diag_unit_tests SOURCE_DIR}
SRC=${2:?usage: run_unprivileged.sh PATH/TO/diag_unit_tests SOURCE_DIR}

skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || skip "not root: switching to nobody needs root"
command -v setpriv >/dev/null 2>&1 || skip "setpriv is not installed (Debian: util-linux)"
uid=$(id -u nobody 2>/dev/null) || skip "no account 'nobody'"
gid=$(id -g nobody)
[[ -x $BIN ]] || fail "not an executable: $BIN"

# The binary and the test data are copied, so a source or build tree nobody cannot read (a clone
# under /root) does not turn into test failures.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/diag-unpriv.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
chmod 0755 "$scratch"
install -m 0755 "$BIN" "$scratch/diag_unit_tests"
cp -R "$SRC/tests/testdata" "$scratch/testdata"
chmod -R a+rX "$scratch/testdata"
install -m 0644 "$SRC/policy/default.toml" "$scratch/default.toml"
mkdir "$scratch/work"
chown "$uid:$gid" "$scratch/work"

out=$scratch/out.txt
rc=0
(
    cd "$scratch/work"
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all \
        env -i PATH=/usr/bin:/bin HOME="$scratch/work" TMPDIR="$scratch/work" \
        DIAG_TESTDATA_DIR="$scratch/testdata" DIAG_DEFAULT_POLICY="$scratch/default.toml" "$scratch/diag_unit_tests" --gtest_brief=1
) >"$out" 2>&1 || rc=$?

summary=$(grep -E '^\[  (PASSED|SKIPPED|FAILED) *\]|tests? from .* ran' "$out" || true)
if [[ $rc -ne 0 ]] || grep -q '^\[  FAILED  \]' "$out"; then
    cat "$out"
    fail "unit tests as uid $uid (nobody) in $scratch/work: exit $rc"
fi
printf '%s\n' "$summary"
printf 'unit tests pass as uid %s (nobody), skipped ones name their reason:\n' "$uid"
grep -A1 -E ': Skipped$' "$out" | grep -vE '(: Skipped$|^--$)' | sed -E 's#/[^ ]*/diag(policy|resolve)\.[A-Za-z0-9]+#<tmp>#' | sort | uniq -c || true
