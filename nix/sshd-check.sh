#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Proves, with the real sshd, that a final sshd_config gives the diag account what ADR 0010
# requires, whatever other modules wrote around its block. The NixOS module runs it at build time
# (system.checks) on the file NixOS installs; tests/nix runs the same script on the generated text.
#
#   sshd-check.sh --sshd SSHD --config FILE --user USER --force-command WRAPPER --keys-file FILE
#                 [--addr ADDR]... [--lport PORT]... [--host NAME] [--laddr ADDR]
#
# sshd takes, for each keyword, the first value it obtains from the Match blocks that apply to a
# connection, so the answer depends on the client's address, the port and the account's groups:
# every (addr, lport) pair given is asked with `-C user=,host=,addr=,laddr=,lport=`.
#
# Where sshd has -G (OpenSSH 9.4 and later; -T that does not need the host keys, as nixpkgs' own
# sshd check uses) it validates and prints with -G: a build sandbox has no host keys and no
# /run/sshd. Older sshd (Debian 12's 9.2) validates with -t and prints with -T, which need both.
#
# `Match Group` is evaluated against the passwd and group databases of the machine running the
# check; in a build sandbox the account does not exist, so a Group-conditioned block cannot match
# there. That is why the diag block comes first: nothing after it can change these values.
#
# Exit 0: every required value holds for every pair. Exit 1: the first violation, named.
set -euo pipefail

sshd=sshd config='' user='' force='' keys='' host=client.invalid laddr=192.0.2.1
addrs=() lports=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --sshd) sshd=$2 ;;
        --config) config=$2 ;;
        --user) user=$2 ;;
        --force-command) force=$2 ;;
        --keys-file) keys=$2 ;;
        --addr) addrs+=("$2") ;;
        --lport) lports+=("$2") ;;
        --host) host=$2 ;;
        --laddr) laddr=$2 ;;
        *) echo "sshd-check: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift 2
done
[[ -n $config && -n $user && -n $force && -n $keys ]] \
    || { echo "sshd-check: --config, --user, --force-command and --keys-file are required" >&2; exit 2; }
[[ ${#addrs[@]} -gt 0 ]] || addrs=(127.0.0.1 192.0.2.10 ::1)
[[ ${#lports[@]} -gt 0 ]] || lports=(22)

fail() { echo "sshd-check: FAIL: $*" >&2; exit 1; }

# -G where this sshd has it, otherwise -t / -T.
if out=$("$sshd" -G -f "$config" 2>&1 >/dev/null); then
    print=(-G)
elif grep -qiE 'illegal option|unknown option' <<<"$out"; then
    out=$("$sshd" -t -f "$config" 2>&1) || fail "sshd -t -f $config: $out"
    print=(-T)
else
    fail "sshd -G -f $config: $out"
fi

# keyword value, as sshd -T/-G print them (lower-case keyword).
required=(
    "forcecommand $force"
    "disableforwarding yes"
    "permittty no"
    "permittunnel no"
    "permituserrc no"
    "authorizedkeyscommand none"
    "authorizedkeysfile $keys"
    "authenticationmethods publickey"
    "exposeauthinfo yes"
)

n=0
for lport in "${lports[@]}"; do
    for addr in "${addrs[@]}"; do
        spec="user=$user,host=$host,addr=$addr,laddr=$laddr,lport=$lport"
        effective=$("$sshd" "${print[@]}" -f "$config" -C "$spec" 2>&1) \
            || fail "sshd ${print[*]} -C $spec: $effective"
        for want in "${required[@]}"; do
            key=${want%% *}
            if ! grep -qxF -- "$want" <<<"$effective"; then
                got=$(grep -E "^$key( |$)" <<<"$effective" || true)
                fail "$user from $addr (port $lport) gets '${got:-no $key}', not '$want': a Match block before the $user block sets it (sshd keeps the first value)"
            fi
        done
        n=$((n + 1))
    done
done
echo "sshd-check: $user gets ForceCommand $force and no forwarding, TTY, tunnel, user rc, keys command or other key file, for $n client address/port pairs (sshd ${print[*]})"
