#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The shipped logrotate configuration (packaging/logrotate.conf, with its hooks
# packaging/audit-rotate) against a live audit file: 200 requests run concurrently, as an
# unprivileged account appending through its group, while logrotate -f rotates the file four
# times. Then every record must be whole, in exactly one file, the hash chain unbroken across the
# rotated set (diag-audit verify), the new file root:GROUP 0620 and append-only, the rotated ones
# root-only and compressed.
#
#   rotation_test.sh DIAG_WRAPPER DIAG_AUDIT SOURCE_DIR
# Exit 77 (skip) with a reason: not root, logrotate/setpriv missing, no file attributes here.
set -euo pipefail

wrapper=$1 audit_bin=$2 src=$3
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || skip "needs root (root-owned audit file, another account appends, chattr)"
for t in logrotate setpriv chattr lsattr flock python3; do
    command -v "$t" >/dev/null 2>&1 || skip "$t missing (scripts/deps.sh installs it)"
done
account=nobody
group=$(id -gn nobody 2>/dev/null) || skip "no account nobody"

t=$(mktemp -d /tmp/diag-rotate.XXXXXXXX)
trap '[[ -n ${KEEP:-} ]] || { chattr -a "$t"/log/* 2>/dev/null; rm -rf --one-file-system -- "$t"; }' EXIT
chmod 0755 "$t"
install -d -m 0750 -o root -g "$group" "$t/log" "$t/state"
install -d -m 0755 "$t/etc" "$t/bin"
log=$t/log/audit.jsonl
install -m 0620 -o root -g "$group" /dev/null "$log"
if ! chattr +a "$log" 2>/dev/null; then
    skip "chattr +a is not supported on the file system of $t ($(stat -f -c %T "$t"))"
fi
install -m 0660 -o root -g "$group" /dev/null "$t/state/chain"
install -m 0755 "$wrapper" "$t/bin/diag-wrapper"

cat >"$t/etc/policy.toml" <<POLICY
version = 1
[settings]
search_path = ["/usr/bin", "/bin"]
# 200 wrappers on a small machine: the decision (and its audit lock) gets time enough.
decision_timeout = "60s"
[audit]
sinks = ["file"]
file = "$log"
chain = "$t/state/chain"
[command.echo]
match = ["echo"]
program = "echo"
description = "Prints its arguments"
end_of_options = false
[[command.echo.positional]]
type = "string"
min = 1
max = 1
POLICY
chmod 0644 "$t/etc/policy.toml"

# The shipped configuration, pointed at this directory, this group and the hook in the tree.
sed -e "s|/var/log/diag-wrapper/audit.jsonl|$log|" \
    -e "s|create 0620 root diag|create 0620 root $group|" \
    -e "s|/usr/libexec/diag-wrapper/audit-rotate|$src/packaging/audit-rotate|" \
    "$src/packaging/logrotate.conf" >"$t/etc/logrotate.conf"
grep -q "$t/log/audit.jsonl {" "$t/etc/logrotate.conf" || fail "the shipped config no longer names the audit file"
chmod 0644 "$t/etc/logrotate.conf"

request() {  # request N: one request as the account; its output and status in $t/out/N
    SSH_ORIGINAL_COMMAND="echo r$1" setpriv --reuid="$account" --regid="$group" --init-groups \
        "$t/bin/diag-wrapper" --policy "$t/etc/policy.toml" >"$t/out/$1" 2>&1
    echo "rc=$?" >>"$t/out/$1"
}
mkdir -m 0755 "$t/out"
request 0
grep -qx 'r0' "$t/out/0" || fail "a request before rotation did not run: $(cat "$t/out/0")"

pids=()
for i in $(seq 1 200); do
    request "$i" &
    pids+=($!)
    if ((i % 50 == 25)); then  # four rotations while requests are in flight, one after
        logrotate -f -s "$t/state/logrotate.status" "$t/etc/logrotate.conf" || fail "logrotate failed"
    fi
done
wait "${pids[@]}"
logrotate -f -s "$t/state/logrotate.status" "$t/etc/logrotate.conf" || fail "logrotate failed"
request 201

failed=$(grep -L '^rc=0$' "$t"/out/* || true)
[[ -z $failed ]] || fail "requests failed across rotation: $(head -3 $failed)"

# Every record whole and in exactly one file; decision and end record for every request.
python3 - "$t/log" 201 <<'PY' || fail "records lost, split or duplicated (above)"
import gzip, json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
files = sorted(os.listdir(d))
seen, problems = {}, []
for f in files:
    p = os.path.join(d, f)
    data = gzip.open(p).read() if f.endswith(".gz") else open(p, "rb").read()
    if data and not data.endswith(b"\n"):
        problems.append(f"{f}: ends inside a line")
    for line in data.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            problems.append(f"{f}: not a whole record: {line[:80]!r}")
            continue
        key = line
        if key in seen:
            problems.append(f"{f}: record also in {seen[key]}")
        seen[key] = f
per_request = {}
for line, f in seen.items():
    rec = json.loads(line)
    cmd = rec.get("process", {}).get("command_line")
    if cmd:
        per_request.setdefault(cmd, []).append(rec["event"]["action"])
for i in range(0, n + 1):
    got = sorted(per_request.get(f"echo r{i}", []))
    if got != ["decision", "end"]:
        problems.append(f"request {i}: records {got}")
rotated = [f for f in files if f != "audit.jsonl"]
if len(rotated) < 3:
    problems.append(f"expected at least 3 rotated files, got {files}")
for p in problems[:20]:
    print(p, file=sys.stderr)
print(f"{len(seen)} records in {len(files)} files: {files}")
sys.exit(1 if problems else 0)
PY

# The chain runs unbroken through the rotated set, oldest first as diag-audit takes it by
# default from /var/log/diag-wrapper (audit.jsonl.N.gz, ..., audit.jsonl; the package test reads
# it from there).
files=()
for n in $(seq 9 -1 1); do
    [[ -f $log.$n.gz ]] && files+=(--file "$log.$n.gz")
done
files+=(--file "$log")
"$audit_bin" "${files[@]}" verify >"$t/verify.out" 2>&1 || { cat "$t/verify.out" >&2; fail "diag-audit verify across the rotated set"; }
found=$("$audit_bin" "${files[@]}" search --command '^echo r[0-9]+$' -o json | grep -c '"request_id"') ||
    fail "diag-audit search across the rotated set"
[[ $found -eq 202 ]] || fail "diag-audit search found $found of 202 requests"

# The files: the new one as installed, the rotated ones root-only and compressed.
[[ $(stat -c '%U:%G %a' "$log") == "root:$group 620" ]] || fail "new audit file is $(stat -c '%U:%G %a' "$log")"
[[ $(lsattr -d "$log" | cut -d' ' -f1) == *a* ]] || fail "the new audit file is not append-only"
for f in "$log".*; do
    [[ $f == *.gz ]] || fail "not compressed: $f"
    [[ $(stat -c '%U %a' "$f") == "root 600" ]] || fail "$f is $(stat -c '%U %a' "$f"), want root 600"
    [[ $(lsattr -d "$f" | cut -d' ' -f1) != *a* ]] || fail "$f kept append-only (logrotate could not remove it)"
done
# The account cannot cut the live file: append-only holds even for its owner's group.
if setpriv --reuid="$account" --regid="$group" --init-groups sh -c ": >'$log'" 2>/dev/null; then
    fail "the account truncated the audit file"
fi
echo "PASS: 202 requests across 5 rotations, $(grep -c . "$t/verify.out") verify lines"
