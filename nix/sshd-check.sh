#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Proves, with the real sshd, that a final sshd_config gives the diag account what ADR 0010
# requires, whatever other modules wrote around its block. The NixOS module runs it at build time
# (system.checks) on the file NixOS installs; tests/nix runs the same script on the generated text.
#
#   sshd-check.sh --sshd SSHD --config FILE --user USER --force-command WRAPPER --keys-file FILE
#                 [--addr ADDR]... [--lport PORT]... [--laddr ADDR]... [--host NAME]...
#
# Two parts:
# 1. The file itself. sshd takes, for each keyword, the first value it obtains from the Match
#    blocks that apply to a connection, so no `Match` line may come before the account's own
#    `Match User USER` line, whatever it matches on (Address, LocalAddress, LocalPort, Host,
#    RDomain, Group: most cannot be asked about reliably). And no `Include` line anywhere: the
#    files it names are not part of the build, and what is dropped there later (cloud-init, a
#    package) is read as if written at that place: before the block, a Match block that wins;
#    after it, keywords the block cannot pin (AcceptEnv adds up across blocks).
# 2. The values sshd gives the account, asked with `-C user=,host=,addr=,laddr=,lport=[,rdomain=]`
#    for every client address given (host = the address: with UseDNS no, sshd matches `Match
#    Host` against it), every local port (Port lines, ListenAddress ports, --lport), every local
#    address (ListenAddress addresses, --laddr; a sample when sshd listens on the wildcard), and
#    every routing domain the file names (ListenAddress ... rdomain, RDomain), plus none.
#
# Where sshd has -G (OpenSSH 9.4 and later; -T that does not need the host keys, as nixpkgs' own
# sshd check uses) it validates and prints with -G: a build sandbox has no host keys and no
# /run/sshd. Older sshd (Debian 12's 9.2) validates with -t and prints with -T, which need both.
#
# `Match Group` is evaluated against the passwd and group databases of the machine running the
# check; in a build sandbox the account does not exist, so a Group-conditioned block cannot match
# there. Part 1 is what excludes it.
#
# Exit 0: the file is laid out as required and every value holds for every combination.
# Exit 1: the first violation, named.
set -euo pipefail

sshd=sshd config='' user='' force='' keys=''
addrs=() lports=() laddrs=() hosts=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --sshd) sshd=$2 ;;
        --config) config=$2 ;;
        --user) user=$2 ;;
        --force-command) force=$2 ;;
        --keys-file) keys=$2 ;;
        --addr) addrs+=("$2") ;;
        --lport) lports+=("$2") ;;
        --laddr) laddrs+=("$2") ;;
        --host) hosts+=("$2") ;;
        *) echo "sshd-check: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift 2
done
[[ -n $config && -n $user && -n $force && -n $keys ]] \
    || { echo "sshd-check: --config, --user, --force-command and --keys-file are required" >&2; exit 2; }
[[ ${#addrs[@]} -gt 0 ]] || addrs=(127.0.0.1 192.0.2.10 ::1)

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

# The file as sshd reads it: one "LINE<TAB>keyword<TAB>arguments" per directive, the keyword
# lower-cased and unquoted, split from its arguments at whitespace or `=` (sshd_config(5)).
# sshd has just accepted the file, so every line here is a directive it knows.
directives=$(awk '
    { line = $0; sub(/^[ \t]+/, "", line) }
    line == "" || substr(line, 1, 1) == "#" { next }
    {
        match(line, /^"?[A-Za-z0-9]+"?/)
        kw = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
        gsub(/"/, "", kw)
        sub(/^[ \t]*=?[ \t]*/, "", rest); sub(/[ \t\r]+$/, "", rest); gsub(/[ \t]+/, " ", rest)
        printf "%d\t%s\t%s\n", NR, tolower(kw), rest
    }' "$config")

# 1. No Include anywhere, no Match before the account's block.
block_line=''
while IFS=$'\t' read -r n kw args; do
    case $kw in
        include)
            fail "$config:$n: 'Include $args': the included files are not part of the build, and what is dropped there later is read at this place (a Match block there can loosen $user; AcceptEnv adds up across blocks); write those lines into the configuration instead" ;;
        match)
            if [[ -z $block_line ]]; then
                shopt -s nocasematch
                if [[ $args == "user $user" ]]; then
                    block_line=$n
                else
                    fail "$config:$n: 'Match $args' comes before the $user block (Match User $user): sshd keeps the first value a matching block sets, so this block would decide for $user wherever it matches"
                fi
                shopt -u nocasematch
            fi ;;
    esac
done <<<"$directives"
[[ -n $block_line ]] || fail "$config has no 'Match User $user' block"

# 2. What to ask about: local ports, addresses and routing domains from the file itself.
file_ports=() file_laddrs=() rdomains=('') wildcard=1
while IFS=$'\t' read -r n kw args; do
    case $kw in
        port) file_ports+=("${args%% *}") ;;
        listenaddress)
            read -r a rest <<<"$args"
            p=''
            if [[ $a == \[*\]* ]]; then
                p=${a#*]}; p=${p#:}; a=${a#[}; a=${a%%]*}
            elif [[ $a == *:* && $a != *:*:* ]]; then
                p=${a##*:}; a=${a%:*}
            fi
            [[ -n $p ]] && lports+=("$p")
            if [[ $a =~ ^[0-9A-Fa-f.:]+$ && $a != 0.0.0.0 && $a != :: ]]; then
                file_laddrs+=("$a")
                [[ $wildcard == 1 ]] && wildcard=0
            else
                wildcard=2  # 0.0.0.0, :: or a name: any local address
            fi
            [[ $rest =~ ^rdomain\ ([^ ]+) ]] && rdomains+=("${BASH_REMATCH[1]}") ;;
        rdomain) [[ $args != %D ]] && rdomains+=("$args") ;;
    esac
done <<<"$directives"
[[ ${#file_ports[@]} -gt 0 ]] || file_ports=(22)
lports+=("${file_ports[@]}")
laddrs+=("${file_laddrs[@]}")
# Listening on the wildcard, a name or not said: any local address; a sample of both families.
[[ $wildcard == 0 ]] || laddrs+=(192.0.2.1 2001:db8::1)
uniq() { printf '%s\n' "$@" | awk '!seen[$0]++'; }
mapfile -t lports < <(uniq "${lports[@]}")
mapfile -t laddrs < <(uniq "${laddrs[@]}")
mapfile -t rdomains < <(uniq "${rdomains[@]}")

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
    "trustedusercakeys none"
    "authorizedprincipalsfile none"
    "authorizedprincipalscommand none"
    "permituserenvironment no"
    "loglevel VERBOSE"
)
# Keywords that must not appear at all: client-chosen (AcceptEnv) or extra (SetEnv) environment
# reaches the wrapper process itself, before its own environment allowlist (LD_PRELOAD,
# LD_LIBRARY_PATH and GLIBC_TUNABLES are read by the dynamic loader).
forbidden=(acceptenv setenv)

n=0
for lport in "${lports[@]}"; do
    for laddr in "${laddrs[@]}"; do
        for addr in "${addrs[@]}"; do
            for host in "$addr" "${hosts[@]}"; do
                for rdomain in "${rdomains[@]}"; do
                    spec="user=$user,host=$host,addr=$addr,laddr=$laddr,lport=$lport${rdomain:+,rdomain=$rdomain}"
                    effective=$("$sshd" "${print[@]}" -f "$config" -C "$spec" 2>&1) \
                        || fail "sshd ${print[*]} -C $spec: $effective"
                    for want in "${required[@]}"; do
                        key=${want%% *}
                        if ! grep -qxF -- "$want" <<<"$effective"; then
                            got=$(grep -E "^$key( |$)" <<<"$effective" || true)
                            fail "$user ($spec) gets '${got:-no $key}', not '$want': a Match block before the $user block, or a global line the block does not override, sets it"
                        fi
                    done
                    for key in "${forbidden[@]}"; do
                        if got=$(grep -E "^$key " <<<"$effective"); then
                            fail "$user ($spec) gets '$(paste -sd' ' <<<"$got")': it reaches the wrapper's environment before the wrapper runs; set it only in a Match block that excludes $user (e.g. Match User *,!$user)"
                        fi
                    done
                    n=$((n + 1))
                done
            done
        done
    done
done
named_rdomains=${rdomains[*]:1}
echo "sshd-check: no Include, no Match before line $block_line (Match User $user); $user gets ForceCommand $force and no forwarding, TTY, tunnel, user rc, keys command, principals, CA, other key file or environment, for $n combinations (ports ${lports[*]}; local addresses ${laddrs[*]}; routing domains: none${named_rdomains:+ $named_rdomains}) (sshd ${print[*]})"
