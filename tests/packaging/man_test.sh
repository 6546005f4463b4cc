#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The manual pages built from man/*.scd: `man --warnings` (groff) prints nothing, `mandoc -T lint`
# finds no error, each page has its NAME line, and diag-wrapper.toml(5) names every key that
# policy/README.md's key tables list (a key added to the policy reference must reach the page).
#
#   man_test.sh BUILT_MAN_DIR SOURCE_DIR
# Exit 77 (skip) when man (man-db) or mandoc is missing; with DIAG_FORMAT_REQUIRED (CI) a
# missing tool is a failure.
set -euo pipefail
dir=$1 src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in man mandoc python3; do
    if ! command -v "$t" >/dev/null 2>&1; then
        [[ -n ${DIAG_FORMAT_REQUIRED:-} ]] && fail "$t missing"
        echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77
    fi
done
for page in diag-wrapper.8 diag-wrapper.toml.5 diag-audit.8; do
    f=$dir/$page
    [[ -s $f ]] || fail "$f not built"
    warnings=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null) || fail "man -l $f failed: $warnings"
    [[ -z $warnings ]] || fail "man --warnings $page: $warnings"
    lint=$(mandoc -T lint -W error "$f" 2>&1) || fail "mandoc -T lint $page: $lint"
    name=${page%.*}
    MANWIDTH=80 man -l "$f" 2>/dev/null | grep -q "^ *$name - " || fail "$page has no NAME line for $name"
done
MANWIDTH=200 man -l "$dir/diag-wrapper.toml.5" 2>/dev/null | col -b >"$dir/diag-wrapper.toml.5.txt"
python3 - "$src/policy/README.md" "$dir/diag-wrapper.toml.5.txt" <<'PY'
import re, sys
readme, page = open(sys.argv[1]).read(), open(sys.argv[2]).read()
keys, in_table = set(), False
for line in readme.splitlines():
    if re.match(r"^\| (top-level )?key \|", line):
        in_table = True
        continue
    if in_table and line.startswith("|"):
        keys.update(re.findall(r"`\[?([a-z_.A-Z]+)\]?`", line.split("|")[1]))
        continue
    in_table = False
words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", page))
missing = sorted(k for k in keys if k not in words and k.rstrip(".ID") not in words)
if len(keys) < 40:
    sys.exit(f"only {len(keys)} keys found in {sys.argv[1]}: the table format changed")
if missing:
    sys.exit("diag-wrapper.toml(5) lacks keys of policy/README.md: " + ", ".join(missing))
print(f"{len(keys)} policy keys documented")
PY
echo "PASS: man pages clean"
