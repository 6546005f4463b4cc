#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The Debian package end to end, as README "Deploy on Debian" tells an operator: build it with
# cpack, `apt-get install ./diag-wrapper_*.deb`, add a key, verify through the real sshd (this
# host's sshd_config with the package's drop-in, on a spare loopback port: the system sshd is not
# touched), rotate with the installed logrotate file, then purge and check nothing is left.
#
#   deb_test.sh BUILD_DIR
# Exit 77 (skip) with a reason: not root, no dpkg/apt/cpack/sshd, the package or an account
# `diag` already present here (the test would change them).
set -euo pipefail

build=$1
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || skip "needs root (installs a package system-wide)"
for t in dpkg apt-get cpack ssh ssh-keygen logrotate python3; do
    command -v "$t" >/dev/null 2>&1 || skip "$t missing (scripts/deps.sh installs it)"
done
[[ -x /usr/sbin/sshd ]] || skip "sshd missing (openssh-server)"
[[ $(dpkg-query -W -f='${db:Status-Status}' diag-wrapper 2>/dev/null || true) != installed ]] ||
    skip "the diag-wrapper package is installed on this machine"
! getent passwd diag >/dev/null || skip "an account diag exists on this machine"
! getent group diag >/dev/null || skip "a group diag exists on this machine"
grep -qE '^Include /etc/ssh/sshd_config.d/\*\.conf' /etc/ssh/sshd_config ||
    skip "/etc/ssh/sshd_config does not include sshd_config.d (not Debian's)"

t=$(mktemp -d /tmp/diag-deb.XXXXXXXX)
sshd_pid=""
cleanup() {
    set +e
    [[ -n $sshd_pid ]] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
    if [[ $(dpkg-query -W -f='${db:Status-Status}' diag-wrapper 2>/dev/null) != not-installed ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq diag-wrapper >/dev/null 2>&1
    fi
    rm -rf --one-file-system -- "$t"
}
trap cleanup EXIT

# 1. Build (README: scripts/build-deb.sh does the same on a release build).
cpack --config "$build/CPackConfig.cmake" -B "$t/pkg" >"$t/cpack.log" 2>&1 || { tail -20 "$t/cpack.log"; fail "cpack"; }
debs=("$t"/pkg/diag-wrapper_*.deb)
[[ -f ${debs[0]} ]] || fail "no .deb in $t/pkg"

# 2. Install.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[0]}" >"$t/apt.log" 2>&1 ||
    { cat "$t/apt.log"; fail "apt-get install"; }
dpkg -L diag-wrapper >"$t/files"

# 3. What the maintainer scripts made.
IFS=: read -r _ pw _ _ _ home shell < <(getent passwd diag)
[[ $shell == /usr/bin/diag-wrapper ]] || fail "diag's shell is $shell"
[[ $(getent shadow diag | cut -d: -f2) == '*' ]] || fail "diag has a password"
[[ $(stat -c %U "$home") == root ]] || fail "diag's home $home is not root's"
! setpriv --reuid=diag --regid=diag --init-groups test -w "$home" || fail "diag can write its home"
[[ $(stat -c '%U:%G %a' /var/log/diag-wrapper) == "root:diag 750" ]] || fail "log dir"
[[ $(stat -c '%U:%G %a' /var/log/diag-wrapper/audit.jsonl) == "root:diag 620" ]] || fail "audit file owner/mode"
if attrs=$(lsattr -d /var/log/diag-wrapper/audit.jsonl 2>/dev/null); then
    [[ ${attrs%% *} == *a* ]] || fail "the audit file is not append-only"
else
    echo "note: no file attributes on /var/log here; append-only not checked"
fi
[[ $(stat -c '%U:%G %a' /var/lib/diag-wrapper/chain) == "root:diag 660" ]] || fail "chain state"
grep -qx /etc/diag-wrapper/policy.toml "$t/files" || fail "policy not in the package"
dpkg-query -W -f='${Conffiles}\n' diag-wrapper | grep -q ' /etc/diag-wrapper/policy.toml ' ||
    fail "the policy is not a conffile"
for page in diag-wrapper diag-wrapper.toml diag-audit; do
    man -w "$page" >/dev/null 2>&1 || fail "man $page: not installed"
done
/usr/bin/diag-wrapper --check >"$t/check.out" 2>&1 || { cat "$t/check.out"; fail "diag-wrapper --check"; }
sshd_t=$(/usr/sbin/sshd -T -C user=diag,host=x,addr=127.0.0.1)
for want in "forcecommand /usr/bin/diag-wrapper" "disableforwarding yes" "permittty no" "exposeauthinfo yes"; do
    grep -qix "$want" <<<"$sshd_t" || fail "sshd -T for diag lacks '$want'"
done
! /usr/sbin/sshd -T -C user=root,host=x,addr=127.0.0.1 | grep -qi '^forcecommand' || fail "the Match block leaks to root"

# 4. Add a key (README), start a test sshd on the host's configuration, verify.
ssh-keygen -q -t ed25519 -N '' -C deb-test -f "$t/key"
cat "$t/key.pub" >>/etc/ssh/authorized_keys/diag
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p -m 0755 /run/sshd
/usr/sbin/sshd -D -e -f /etc/ssh/sshd_config -o "ListenAddress=127.0.0.1:$port" -o "PidFile=$t/sshd.pid" \
    >"$t/sshd.log" 2>&1 &
sshd_pid=$!
for _ in $(seq 100); do
    grep -q "Server listening on 127.0.0.1 port $port" "$t/sshd.log" && break
    sleep 0.1
done
grep -q "Server listening" "$t/sshd.log" || { cat "$t/sshd.log"; fail "test sshd did not start"; }
ssh_diag() {
    ssh -p "$port" -i "$t/key" -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR diag@127.0.0.1 "$@"
}
out=$(ssh_diag 'uname -s' 2>"$t/err") || { cat "$t/err" "$t/sshd.log"; fail "allowed probe refused"; }
[[ $out == Linux ]] || fail "uname -s printed '$out'"
rc=0
ssh_diag 'cat /etc/shadow' >"$t/out" 2>"$t/err" || rc=$?
[[ $rc -eq 126 ]] || fail "cat /etc/shadow: exit $rc"
grep -q '^diag-wrapper: denied: path-denied: ' "$t/err" || fail "cat /etc/shadow: $(cat "$t/err")"
[[ ! -s $t/out ]] || fail "cat /etc/shadow printed something"
diag-audit search --decision deny --command '^cat /etc/shadow$' -o text >"$t/audit.out" ||
    fail "no record of the refusal"

# 5. Rotation with the installed configuration; the next request lands in the new file and
# diag-audit reads across both.
logrotate -f -s "$t/logrotate.status" /etc/logrotate.d/diag-wrapper || fail "logrotate"
[[ -f /var/log/diag-wrapper/audit.jsonl.1.gz ]] || fail "no rotated file: $(ls /var/log/diag-wrapper)"
out=$(ssh_diag 'uname -s' 2>"$t/err") || { cat "$t/err"; fail "request after rotation refused"; }
[[ $(diag-audit search --command '^(uname -s|cat /etc/shadow)$' -o json | grep -c request_id) -eq 3 ]] ||
    fail "diag-audit does not read the three requests across the rotated set"
diag-audit verify >"$t/verify.out" 2>&1 || { cat "$t/verify.out"; fail "diag-audit verify"; }
kill "$sshd_pid"
wait "$sshd_pid" 2>/dev/null || true
sshd_pid=""

# 6. Purge: nothing of the package is left.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq diag-wrapper >"$t/purge.log" 2>&1 ||
    { cat "$t/purge.log"; fail "apt-get purge"; }
[[ $(dpkg-query -W -f='${db:Status-Status}' diag-wrapper 2>/dev/null || echo not-installed) == not-installed ]] ||
    fail "package still known to dpkg"
! getent passwd diag >/dev/null || fail "account diag left"
! getent group diag >/dev/null || fail "group diag left"
left=()
for p in /etc/diag-wrapper /etc/logrotate.d/diag-wrapper /etc/ssh/sshd_config.d/diag-wrapper.conf \
    /etc/ssh/authorized_keys /var/log/diag-wrapper /var/lib/diag-wrapper /usr/libexec/diag-wrapper \
    /usr/share/diag-wrapper /usr/share/doc/diag-wrapper; do
    [[ -e $p ]] && left+=("$p")
done
while read -r p; do
    case $p in /. | /etc | /usr | /usr/bin | /usr/share | /usr/share/doc | /usr/share/man* | /usr/libexec | /etc/logrotate.d) continue ;; esac
    [[ -e $p ]] && left+=("$p")
done <"$t/files"
[[ ${#left[@]} -eq 0 ]] || fail "left after purge: ${left[*]}"
/usr/sbin/sshd -t || fail "sshd -t fails after purge"
echo "PASS: built, installed, verified through sshd, rotated, purged"
