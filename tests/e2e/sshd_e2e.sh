#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end test: a real sshd on 127.0.0.1 pins a throwaway account to diag-wrapper with
# ForceCommand, and we talk to it with the real ssh client.
#
#   tests/e2e/sshd_e2e.sh <path-to-diag-wrapper> <path-to-policy/default.toml>
#
# Needs root (creates a user, runs sshd); exits 77 (ctest SKIP_RETURN_CODE) otherwise.
# Prints "ok - NAME" / "not ok - NAME" per assertion and "N passed, M failed" at the end.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 <diag-wrapper binary> <policy toml>" >&2
    exit 2
fi
WRAPPER=$(readlink -f -- "$1")
POLICY_SRC=$(readlink -f -- "$2")

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

if reason=$(e2e_skip_reason); then
    echo "SKIP: $reason"
    exit 77
fi

e2e_setup "$WRAPPER" "$POLICY_SRC"
T=$E2E_T

PASS=0
FAIL=0
REQUESTS=0          # requests that reached the wrapper with a non-empty command
DENIED_IDS=()       # "<request id>=<reason code>" from "diag-wrapper: denied: <code>: ... (request <id>)"

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() {
    local name=$1; shift
    FAIL=$((FAIL + 1))
    echo "not ok - $name"
    local l
    for l in "$@"; do printf '#   %s\n' "$l"; done
}
# Diagnostics for the last e2e_run.
last() {
    printf 'request: %q\n' "$REQ"
    printf 'exit: %s\n' "$E2E_RC"
    printf 'stdout: %s\n' "$(head -c 600 <<<"$E2E_OUT")"
    printf 'stderr: %s\n' "$(head -c 600 <<<"$E2E_ERR")"
}
fail_last() {
    local name=$1 why=$2
    local diag
    mapfile -t diag < <(last)
    not_ok "$name" "$why" "${diag[@]}"
}

# run [ssh options...] REQUEST
run() {
    REQ=${*: -1}
    [[ -n $REQ ]] && REQUESTS=$((REQUESTS + 1))
    e2e_run "$@"
}

expect_rc() {   # NAME RC
    if [[ $E2E_RC == "$2" ]]; then ok "$1"; else fail_last "$1" "expected exit $2"; fi
}
expect_out_eq() {   # NAME TEXT
    if [[ $E2E_OUT == "$2" ]]; then ok "$1"; else fail_last "$1" "expected stdout '$2'"; fi
}
expect_out_contains() {   # NAME TEXT
    if [[ $E2E_OUT == *"$2"* ]]; then ok "$1"; else fail_last "$1" "expected stdout to contain '$2'"; fi
}
expect_no_token() {   # NAME
    if [[ $E2E_OUT != *"$E2E_TOKEN"* && $E2E_ERR != *"$E2E_TOKEN"* ]]; then
        ok "$1"
    else
        fail_last "$1" "the canary token leaked"
    fi
}
# expect_denied NAME [REASON-CODE]: exit 126, nothing on stdout, exactly one stderr line
# "diag-wrapper: denied: <reason>: ... (request <id>)".
expect_denied() {
    local name=$1 code=${2-}
    local first=${E2E_ERR%%$'\n'*}
    if [[ $E2E_RC != 126 ]]; then
        fail_last "$name" "expected exit 126"; return
    fi
    if [[ $first != "diag-wrapper: denied: "* ]]; then
        fail_last "$name" "expected stderr to start with 'diag-wrapper: denied:'"; return
    fi
    if [[ -n $code && $first != "diag-wrapper: denied: $code:"* ]]; then
        fail_last "$name" "expected reason code '$code'"; return
    fi
    if [[ -n $E2E_OUT ]]; then
        fail_last "$name" "expected empty stdout"; return
    fi
    if [[ $E2E_ERR == *$'\n'* ]]; then
        fail_last "$name" "expected exactly one stderr line"; return
    fi
    if [[ $first =~ ^diag-wrapper:\ denied:\ ([a-z0-9-]+):.*\(request\ ([^\)]+)\)$ ]]; then
        DENIED_IDS+=("${BASH_REMATCH[2]}=${BASH_REMATCH[1]}")
    else
        fail_last "$name" "expected '(request <id>)' at the end of the denial line"; return
    fi
    ok "$name"
}

echo "# wrapper: $WRAPPER"
echo "# policy:  $POLICY_SRC (test copy: $E2E_POLICY)"

# ---------------------------------------------------------------- allowed probes
run "cat $T/pub/readme.txt"
expect_rc "allowed: cat readable file exits 0" 0
expect_out_eq "allowed: cat returns the file content" "$E2E_README_TEXT"

run "cat '$T/pub/readme.txt'"
expect_out_eq "allowed: single-quoted path argument is tokenized, not shell-run" "$E2E_README_TEXT"

run "uname -a"
expect_rc "allowed: uname -a exits 0" 0
expect_out_contains "allowed: uname -a prints the kernel name" "$(uname -s)"

run "id"
expect_rc "allowed: id exits 0" 0
expect_out_contains "allowed: id runs as the test account" "($E2E_USER)"
if [[ $E2E_OUT == uid=0\(* ]]; then
    not_ok "allowed: id is not root" "$(last)"
else
    ok "allowed: id is not root"
fi

# ---------------------------------------------------------------- the on-call playbook (adr/0017)
# Everyday probes as an agent types them, through the shipped policy and the real sshd, as the
# unprivileged test account. A probe whose program this machine lacks is skipped, named.
printf 'rotated line one\nrotated line two\n' >"$T/pub/app.log"
command -v gzip >/dev/null && gzip -c <"$T/pub/app.log" >"$T/pub/app.log.1.gz"
command -v xz >/dev/null && xz -c <"$T/pub/app.log" >"$T/pub/app.log.2.xz"
command -v zstd >/dev/null && zstd -q -c <"$T/pub/app.log" >"$T/pub/app.log.3.zst"
for sadc in /usr/lib/sysstat/sadc /usr/libexec/sysstat/sadc; do
    [[ -x $sadc ]] && { "$sadc" 1 2 "$T/pub/sa06" >/dev/null 2>&1 || true; break; }
done
chmod 0644 "$T"/pub/app.log* "$T/pub/sa06" 2>/dev/null || true

# probe PROGRAM REQUEST TEXT: exit 0 and TEXT in stdout (PROGRAM: what must be installed)
probe() {
    local program=$1 req=$2 want=$3
    if ! command -v "$program" >/dev/null 2>&1 || { [[ $program == sar ]] && [[ ! -e $T/pub/sa06 ]]; }; then
        ok "playbook: $req # SKIP $program missing"
        return
    fi
    run "$req"
    if [[ $E2E_RC == 0 && $E2E_OUT == *"$want"* ]]; then ok "playbook: $req"
    else fail_last "playbook: $req" "expected exit 0 and '$want' in stdout"; fi
}
# Time, identity, processes, disk and network configuration.
probe uptime "uptime" "load average"
probe date "date" ""
probe date "date -u +%Y" "$(date -u +%Y)"
probe hostname "hostname" "$(hostname)"
probe nproc "nproc" "$(nproc)"
probe lscpu "lscpu" "Architecture"
probe whoami "whoami" "$E2E_USER"
probe uname "uname -r" "$(uname -r)"
probe free "free -m" "Mem:"
probe df "df -h" "Filesystem"
probe df "df -i /" "Inodes"
probe du "du -sh $T/pub" "$T/pub"
probe ps "ps aux" "PID"
probe ps "ps -eo pid,comm,%mem --sort=-%mem" "COMMAND"
probe ps "ps aux | sort -nrk 4 | head -n 5" ""
probe ss "ss -tln" "LISTEN"
probe ss "ss -s" "Total"
probe ip "ip addr" "lo"
probe ip "ip -br link" "lo"
probe getent "getent hosts localhost" "localhost"
probe stat "stat $T/pub/readme.txt" "Size"
probe wc "wc -l $T/pub/readme.txt" "$T/pub/readme.txt"
probe ls "ls -la $T/pub" "readme.txt"
probe findmnt "findmnt /" "TARGET"
probe sysctl "sysctl vm.swappiness" "vm.swappiness"
probe cat "cat /proc/loadavg" "/"
probe head "head -n 3 /proc/meminfo" "MemTotal"
probe journalctl "journalctl --disk-usage" ""
# Performance samplers.
probe vmstat "vmstat" "swpd"
probe vmstat "vmstat 1 2" "swpd"
probe vmstat "vmstat -s" "total memory"
probe mpstat "mpstat" "%idle"
probe mpstat "mpstat -P ALL 1 1" "%idle"
probe pidstat "pidstat" "Linux"
probe pidstat "pidstat 1 1" "Linux"
probe iostat "iostat -xz" "avg-cpu"
probe iostat "iostat -xz 1 2" "avg-cpu"
probe sar "sar -u -f $T/pub/sa06" "%user"
probe sar "sar -n DEV -f $T/pub/sa06" "IFACE"
probe top "top -b -n 1" "Tasks:"
probe top "top -n 2 -d 0.5 -o %MEM" "Tasks:"
probe free "free -m -s 1 -c 2" "Mem:"
probe mount "mount" " on / type "
probe mount "mount -t proc" "proc on /proc"
probe who "who" ""
probe who "who -b" ""
probe w "w" "USER"
probe last "last -n 5" "wtmp begins"
probe last "last -n 5 reboot" "wtmp begins"
probe systemctl "systemctl --version" "systemd"
probe gzip "zcat $T/pub/app.log.1.gz" "rotated line two"
probe gzip "zcat -f $T/pub/app.log" "rotated line one"
probe gzip "zcat $T/pub/app.log.1.gz | grep -c rotated" "2"
probe xz "xzcat $T/pub/app.log.2.xz" "rotated line two"
probe zstd "zstdcat $T/pub/app.log.3.zst" "rotated line two"
probe sha256sum "sha256sum $T/pub/app.log" "$T/pub/app.log"
probe readlink "readlink -f $T/pub/../pub/app.log" "$T/pub/app.log"
probe realpath "realpath $T/pub" "$T/pub"
# dmesg needs kernel.dmesg_restrict=0 for an unprivileged account (adr/0017).
if [[ $(cat /proc/sys/kernel/dmesg_restrict 2>/dev/null) == 0 ]]; then
    probe dmesg "dmesg -T" ""
else
    run "dmesg -T"
    if [[ $E2E_RC != 0 && -z $E2E_OUT && $E2E_RC != 126 ]]; then ok "playbook: dmesg runs and is refused by the kernel (dmesg_restrict=1)"
    else fail_last "playbook: dmesg runs and is refused by the kernel (dmesg_restrict=1)" "expected the kernel's refusal"; fi
fi
run "zcat $T/secret/canary.txt"
expect_denied "playbook: zcat of a denied path" path-denied
run "systemctl restart sshd"
expect_denied "playbook: a state-changing systemctl verb" positional-count
run "top -b"
expect_denied "playbook: top without -n" option-value
run "vmstat 1"
expect_denied "playbook: a sampler without a count" positional-count
# The glob tests below list $T/pub: leave it as it was.
rm -f "$T"/pub/app.log* "$T/pub/sa06"

# ---------------------------------------------------------------- the playbook's network and certificate probes
# A tiny HTTP server and a TLS server on 127.0.0.1, started here and stopped at the end of the
# section: the network rules reach them (adr/0018), and nothing else.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port)
python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$T/pub" >/dev/null 2>&1 &
HTTP_PID=$!
mkdir -p "$T/certs"
chmod 0755 "$T/certs"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/certs/cert.pem" -subj /CN=diag-e2e \
    -days 2 >/dev/null 2>&1
chmod 0644 "$T/certs/cert.pem"
TLS_PORT=$(free_port)
openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$T/certs/cert.pem" -key "$T/tls.key" -www -quiet \
    </dev/null >/dev/null 2>&1 &
TLS_PID=$!
for _ in $(seq 50); do
    if nc -z 127.0.0.1 "$HTTP_PORT" 2>/dev/null && nc -z 127.0.0.1 "$TLS_PORT" 2>/dev/null; then break; fi
    sleep 0.1
done

probe curl "curl -sS http://127.0.0.1:$HTTP_PORT/readme.txt" "$E2E_README_TEXT"
probe curl "curl -sS -I http://localhost:$HTTP_PORT/readme.txt" "200 OK"
probe curl "curl -s -w '%{http_code}' http://127.0.0.1:$HTTP_PORT/missing" "404"
probe curl "curl -sS -k https://127.0.0.1:$TLS_PORT/" "s_server"
probe nc "nc -z 127.0.0.1 $HTTP_PORT" ""
probe nc "nc -z -v localhost $TLS_PORT" ""
probe openssl "openssl x509 -in $T/certs/cert.pem -noout -subject -enddate" "diag-e2e"
probe openssl "openssl s_client -connect 127.0.0.1:$TLS_PORT -brief" ""
if [[ $(sysctl -n net.ipv4.ping_group_range 2>/dev/null) =~ ^([0-9]+)[[:space:]]+([0-9]+)$ ]] &&
    ((BASH_REMATCH[1] <= $(id -g "$E2E_USER") && $(id -g "$E2E_USER") <= BASH_REMATCH[2])); then
    probe ping "ping -c 1 -W 2 127.0.0.1" "1 received"
else
    echo "# skip: ping needs net.ipv4.ping_group_range to include the account's group"
fi
run "curl http://127.0.0.2:$HTTP_PORT/readme.txt"
expect_denied "network: curl to a host the rule does not list" destination
run "curl -L http://127.0.0.1:$HTTP_PORT/readme.txt"
expect_denied "network: curl -L (redirects) is refused" unknown-option
run "curl -o $T/rw/out http://127.0.0.1:$HTTP_PORT/readme.txt"
expect_denied "network: curl -o (an output file) is refused" unknown-option
kill "$HTTP_PID" "$TLS_PID" 2>/dev/null || true
wait "$HTTP_PID" "$TLS_PID" 2>/dev/null || true

# ---------------------------------------------------------------- denied paths
run "cat $T/secret/canary.txt"
expect_denied "denied: canary file under a denied path" path-denied
expect_no_token "denied: canary token not in output (direct)"

run "cat $T/pub/link"
expect_denied "denied: symlink to the canary" path-denied
expect_no_token "denied: canary token not in output (symlink)"

run "cat $T/pub/../secret/canary.txt"
expect_denied "denied: dot-dot path to the canary" path-denied
expect_no_token "denied: canary token not in output (dot-dot)"

run "cat $T/secret"
expect_denied "denied: the denied directory itself" path-denied

run "cat $T/secret/*"
expect_denied "denied: a glob in a denied directory is not expanded" path-denied
expect_no_token "denied: canary token not in output (glob)"

# ---------------------------------------------------------------- shell syntax never runs
run "cat /etc/hostname; id"
expect_denied "denied: ';' command list" parse-metachar

run "cat \$(id)"
expect_denied "denied: \$(...) substitution" parse-metachar

run "cat \`id\`"
expect_denied "denied: backtick substitution" parse-metachar

run $'uname\nid'
expect_denied "denied: newline-joined second command" parse-control

run "uname -a | id"
expect_denied "denied: a pipe into a command that is no filter" pipe-stage

run "uname -a && id"
expect_denied "denied: && list" parse-metachar

run "uname -a > $T/rw/redirected"
expect_denied "denied: output redirection" parse-metachar
if [[ ! -e $T/rw/redirected ]]; then ok "denied: redirection target not created"
else not_ok "denied: redirection target not created" "$T/rw/redirected exists"; fi

# ---------------------------------------------------------------- pipelines and globs (adr/0013, adr/0014)
run "journalctl -n 20 --no-pager | grep -v zzzz-never-printed | head -n 1"
expect_rc "pipeline: a 3-stage journal pipeline exits 0" 0
if [[ $(grep -c '' <<<"$E2E_OUT") == 1 ]]; then ok "pipeline: head -n 1 ends the journal pipeline at one line"
else fail_last "pipeline: head -n 1 ends the journal pipeline at one line" "expected one line"; fi

run "ps aux | grep -i pid"
expect_rc "pipeline: ps aux | grep exits 0" 0
expect_out_contains "pipeline: ps aux | grep finds the header" "PID"

run "cat $T/pub/readme.txt | tr a-z A-Z"
expect_out_eq "pipeline: a filter transforms the first stage's output" "${E2E_README_TEXT^^}"

run "ls -d $T/*"
expect_rc "glob: ls -d over a directory holding a denied entry exits 0" 0
expect_out_contains "glob: the allowed matches are listed" "$T/pub"
if [[ $E2E_OUT != *"$T/secret"* && $E2E_ERR == "diag-wrapper: note: "*"$T/secret"* ]]; then
    ok "glob: the denied match is withheld and named in one note line"
else
    fail_last "glob: the denied match is withheld and named in one note line" "expected $T/secret only in the note"
fi
expect_no_token "glob: canary token not in output (withheld match)"

run "du -sh $T/*"
expect_out_contains "glob: du -sh over every entry sizes the allowed ones" "$T/pub"
if [[ $E2E_OUT != *"$T/secret"* && $E2E_ERR == "diag-wrapper: note: "*"$T/secret"* ]]; then
    ok "glob: du -sh withholds the denied entry and names it in the note"
else
    fail_last "glob: du -sh withholds the denied entry and names it in the note" "expected $T/secret only in the note"
fi
expect_no_token "glob: canary token not in output (du)"

run "cat $T/pub/*"
expect_out_eq "glob: a symlink into the denied directory is withheld, the file is read" "$E2E_README_TEXT"
expect_no_token "glob: canary token not in output (symlink match)"

run "cat $T/pub/*.nothing"
expect_denied "glob: no match is refused" glob-no-match

run "ps aux | sh"
expect_denied "pipeline: a shell after | is refused" pipe-stage

run "ps aux | tee $T/rw/teed"
expect_denied "pipeline: tee after | is refused" pipe-stage
if [[ ! -e $T/rw/teed ]]; then ok "pipeline: tee's file not created"
else not_ok "pipeline: tee's file not created" "$T/rw/teed exists"; fi

run "ps aux | xargs id"
expect_denied "pipeline: xargs after | is refused" pipe-stage

run "ps aux || id"
expect_denied "pipeline: || is refused" pipe-syntax

run "ps aux |& grep x"
expect_denied "pipeline: |& is refused" pipe-syntax

run "ps aux | grep x $T/secret/canary.txt"
expect_denied "pipeline: a filter given a file operand is refused"
expect_no_token "pipeline: canary token not in output (filter operand)"

run "ps aux | sort --compress-program=sh"
expect_denied "pipeline: sort --compress-program is refused"

# ---------------------------------------------------------------- mutations
run "rm -f $T/rw/victim.txt"
expect_denied "denied: rm -f on a file the account could delete" unknown-command
if [[ -f $T/rw/victim.txt ]]; then ok "denied: rm target still exists"
else not_ok "denied: rm target still exists" "$T/rw/victim.txt is gone"; fi

run "rm -f $T/pub/readme.txt"
expect_denied "denied: rm -f readme" unknown-command
if [[ -f $T/pub/readme.txt ]]; then ok "denied: readme still exists"
else not_ok "denied: readme still exists"; fi

run "systemctl restart ssh"
expect_denied "denied: systemctl restart"

run "touch $T/rw/touched"
expect_denied "denied: touch" unknown-command
if [[ ! -e $T/rw/touched ]]; then ok "denied: touch target not created"
else not_ok "denied: touch target not created"; fi

run "sh -c id"
expect_denied "denied: sh -c" unknown-command

# ---------------------------------------------------------------- other readers of the canary
# Whatever the policy allows (or not) of these tools, none may reveal the canary: each must be
# refused. No reason code is asserted: it depends on the policy (unknown-option, path-denied, ...).
for req in "grep canary- $T/pub/link" "head $T/secret/canary.txt" \
           "tail $T/pub/link" "wc -c $T/secret/canary.txt" "ls $T/secret" \
           "cat /proc/self/environ" "cat /etc/shadow"; do
    run "$req"
    expect_denied "denied: ${req//$T/\$T}"
    expect_no_token "denied: canary token not in output (${req//$T/\$T})"
done
# The recursive readers walk $T and skip the denied directory in it (adr/0016): they run, and
# the canary stays out of what they print.
for req in "grep -r canary- $T" "find $T -name canary.txt"; do
    run "$req"
    if [[ $E2E_RC != 126 ]]; then ok "trees: $req runs"; else fail_last "trees: $req runs" "refused"; fi
    expect_no_token "trees: canary token not in output (${req//$T/\$T})"
done

# ---------------------------------------------------------------- trees with denied paths
# forest/ holds a denied directory, a denied file, a glob-denied directory, a bind mount of the
# denied directory, a symlink into it, a file the account cannot read and ordinary files. The
# names inside the denied places are canaries: no request may print one, on stdout or stderr.
F=$T/forest
NAMETOKEN="namecanary$(e2e_random_hex 8)"
install -d -o root -g root -m 0755 "$F" "$F/denied-dir" "$F/denied-dir/inner-$NAMETOKEN" "$F/glob-x" \
    "$F/ok" "$F/ok/deep" "$F/mnt" "$F/owned"
printf 'PORT=8080 in-denied-dir\n' >"$F/denied-dir/$NAMETOKEN-file"
printf 'PORT=8080 in-denied-dir-inner\n' >"$F/denied-dir/inner-$NAMETOKEN/$NAMETOKEN-deeper"
printf 'PORT=8080 in-denied-file %s\n' "$E2E_TOKEN" >"$F/denied-file"
printf 'PORT=8080 in-glob\n' >"$F/glob-x/$NAMETOKEN-glob"
printf 'PORT=8080 allowed\n' >"$F/ok/a.txt"
printf 'PORT=9090 deeper\n' >"$F/ok/deep/b.txt"
printf 'PORT=7070 private\n' >"$F/private.txt"
chmod 0644 "$F/denied-dir/$NAMETOKEN-file" "$F/denied-dir/inner-$NAMETOKEN/$NAMETOKEN-deeper" "$F/denied-file" \
    "$F/glob-x/$NAMETOKEN-glob" "$F/ok/a.txt" "$F/ok/deep/b.txt"
chmod 0600 "$F/private.txt"
truncate -s 2M "$F/ok/big.bin"
ln -s denied-dir "$F/link-in"
FOREST_MOUNTED=0
if mount --bind "$F/denied-dir" "$F/mnt" 2>/dev/null; then
    FOREST_MOUNTED=1
else
    echo "# bind mount unavailable here: the bind-mount alias of the tree block is not exercised"
fi
forest_clean() {   # NAME: no canary name and no canary token in the last output
    if [[ $E2E_OUT == *"$NAMETOKEN"* || $E2E_ERR == *"$NAMETOKEN"* ]]; then
        fail_last "$1" "a name inside a denied directory was printed"
    elif [[ $E2E_OUT == *"$E2E_TOKEN"* || $E2E_ERR == *"$E2E_TOKEN"* ]]; then
        fail_last "$1" "the canary token leaked"
    else
        ok "$1"
    fi
}
forest_noted() {   # NAME: the note counts the skipped denied paths
    if [[ $E2E_ERR =~ diag-wrapper:\ note:\ skipped\ ([0-9]+)\ denied ]] && ((BASH_REMATCH[1] >= 3)); then
        ok "$1"
    else
        fail_last "$1" "expected a note counting at least 3 skipped denied paths"
    fi
}
run "find $F -size +1M"
expect_rc "trees: find -size +1M runs" 0
expect_out_contains "trees: find -size +1M finds the big file" "$F/ok/big.bin"
forest_clean "trees: find -size +1M prints no denied name"
forest_noted "trees: find -size +1M notes the skipped subtrees"
run "find $F -name a.txt -o -name b.txt"
expect_out_contains "trees: find -name X -o -name Y keeps the -o" "$F/ok/deep/b.txt"
expect_out_contains "trees: find -name X -o -name Y finds both" "$F/ok/a.txt"
forest_clean "trees: find -o prints no denied name"
run "find $F -not -name nothing -printf '%p %s\n'"
expect_out_contains "trees: find -not -printf prints the allowed files" "$F/ok/a.txt "
forest_clean "trees: find -not -printf prints no denied name"
run "find $F"
forest_clean "trees: a bare find prints no denied name"
if [[ $E2E_OUT == *"$F/link-in"* && $E2E_OUT != *"$F/denied-dir"* ]]; then
    ok "trees: find lists the symlink, not the denied directory"
else
    fail_last "trees: find lists the symlink, not the denied directory" "expected link-in only"
fi
run "grep -rn PORT $F"
expect_out_contains "trees: grep -rn finds the allowed match" "$F/ok/a.txt:1:PORT=8080 allowed"
expect_out_contains "trees: grep -rn goes below the split" "$F/ok/deep/b.txt:1:PORT=9090"
forest_clean "trees: grep -rn prints no denied name"
forest_noted "trees: grep -rn notes the skipped subtrees"
run "du -sh $F"
expect_rc "trees: du -sh runs" 0
forest_clean "trees: du -sh prints no denied name"
run "du -ah $F"
expect_out_contains "trees: du -ah lists the allowed files" "$F/ok/a.txt"
forest_clean "trees: du -ah prints no denied name"
run "ls -R $F"
expect_denied "trees: ls -R cannot skip denied paths and is refused" path-tree-denied
if [[ $E2E_ERR == *"these can: "*find* ]]; then ok "trees: the ls -R refusal names the commands that work"
else fail_last "trees: the ls -R refusal names the commands that work" "expected 'these can: ... find'"; fi
run "find $F -mindepth 2 -name x"
expect_denied "trees: find -mindepth deeper than a denied path is refused" path-tree-denied
run "grep -rn --exclude-dir='ok*' PORT $F"
expect_denied "trees: a filter grep would apply differently to the parts is refused" path-tree-denied
run "grep -rn --include='*.txt' PORT $F"
expect_out_contains "trees: a simple --include keeps its meaning" "$F/ok/a.txt:1:"
forest_clean "trees: grep --include prints no denied name"
# The hard-link variant: another name, in the tree, of a denied file (here one its owner, not
# root, made: a root-owned one would stop every request) keeps grep -r refused.
install -d -o "$E2E_USER" -m 0755 "$F/owned/denied-own"
printf 'PORT=6060 %s\n' "$E2E_TOKEN" >"$F/owned/denied-own/secret.txt"
chown "$E2E_USER" "$F/owned/denied-own/secret.txt"
ln "$F/owned/denied-own/secret.txt" "$F/ok/second-name"
run "grep -rn PORT $F"
expect_denied "trees: grep -r over a tree with a hard link of a denied file is refused" path-tree-denied
forest_clean "trees: the hard-link refusal prints no denied name"
rm -f "$F/ok/second-name"
# Through the shipped policy on this host: the two probes of the issue.
run "find / -xdev -size +100M"
if [[ $E2E_RC != 126 && $E2E_RC != 125 ]]; then ok "trees: find / -xdev -size +100M runs"
else fail_last "trees: find / -xdev -size +100M runs" "refused"; fi
forest_clean "trees: find / prints no denied name"
run "grep -rn PORT /etc"
if [[ $E2E_RC != 126 && $E2E_RC != 125 && -n $E2E_OUT ]]; then ok "trees: grep -rn PORT /etc runs and finds lines"
else fail_last "trees: grep -rn PORT /etc runs and finds lines" "refused or empty"; fi
if ((FOREST_MOUNTED)); then umount "$F/mnt"; fi

# ---------------------------------------------------------------- hard links, output cap
# A hard link to the canary outside the denied dir: refused when named directly, and a recursive
# reader may not walk a tree that holds one. (Unprivileged users cannot make such links, given
# fs.protected_hardlinks, but they can pre-exist: backups, admin copies.)
install -d -o root -g root -m 0755 "$T/tree" "$T/tree/sub"
ln "$T/secret/canary.txt" "$T/tree/sub/hardlink"
run "cat $T/tree/sub/hardlink"
expect_denied "denied: direct read of a hard link to the canary" path-denied
run "grep -r canary- $T/tree"
expect_denied "denied: recursive grep over a tree holding a hard link to the canary" path-tree-denied
expect_no_token "denied: canary token not in output (recursive grep, hard link)"
# While such a link exists no request runs at all: Landlock would grant it with its directory.
run "uname -a"
if [[ $E2E_RC -eq 125 && $E2E_ERR == *"hard links but only"* && -z $E2E_OUT ]]; then
    ok "refused: nothing runs while a denied file has a hard link outside the denied paths"
else
    fail_last "refused: nothing runs while a denied file has a hard link outside the denied paths" "expected 125"
fi
rm -f "$T/tree/sub/hardlink"

# Output cap: a file larger than the cap of 'cat' (read from --explain, so whatever the policy
# says) must not come back whole (but some of it must: a command that fails to start proves nothing).
cap=$("$T/bin/diag-wrapper" --policy "$E2E_POLICY" --explain -- "cat $T/pub/readme.txt" 2>/dev/null \
      | sed -n 's/^output-cap: \([0-9][0-9]*\)$/\1/p')
if [[ -n $cap && $cap -le $((64 * 1024 * 1024)) ]]; then
    truncate -s $((cap + 4 * 1024 * 1024)) "$T/pub/big.bin"
    REQUESTS=$((REQUESTS + 1)); E2E_RC=0
    e2e_ssh "cat $T/pub/big.bin" </dev/null >"$T/big.out" 2>/dev/null || E2E_RC=$?
    got=$(wc -c <"$T/big.out")
    rm -f "$T/big.out"
    if [[ $got -gt 0 && $got -le $cap ]]; then
        ok "limits: cat of a file 4MiB over the output cap returns some, at most the cap"
    else
        not_ok "limits: cat of a file 4MiB over the output cap returns some, at most the cap" \
            "output_cap $cap bytes, got $got bytes, exit $E2E_RC"
    fi
    rm -f "$T/pub/big.bin"
else
    ok "limits: cat of a file 4MiB over the output cap # SKIP no output-cap <= 64MiB in --explain"
fi

# ---------------------------------------------------------------- no shell for empty requests
stdin_file=$T/stdin.txt
marker="SHELL-MARKER-$(e2e_random_hex 6)"
printf 'echo %s\nid\nexit 0\n' "$marker" >"$stdin_file"

help_ok() {   # stdout has ID<TAB>USAGE<TAB>DESCRIPTION lines and no sign of a shell
    local out lines
    out=${E2E_OUT//$'\r'/}
    lines=$(grep -cP '^[a-z0-9][a-z0-9_.-]*\t[^\t]+\t[^\t]+$' <<<"$out" || true)
    [[ $lines -ge 3 ]] && ! grep -qxF "$marker" <<<"$out" && ! grep -q '^uid=' <<<"$out"
}

# Interactive login from a terminal: the client asks for a pty (refused: PermitTTY no), the
# wrapper runs with no SSH_ORIGINAL_COMMAND and prints the help listing. The local pty echoes
# the typed lines, so "no shell" means: the marker never comes back as a line of its own.
if command -v script >/dev/null 2>&1; then
    REQ="(interactive login from a terminal, via script(1))"
    E2E_RC=0
    timeout 30 script -q -e -c "$(printf '%q ' ssh "${E2E_SSH_OPTS[@]}" "$E2E_DEST")" /dev/null \
        <"$stdin_file" >"$T/tty.out" 2>&1 || E2E_RC=$?
    E2E_OUT=$(cat "$T/tty.out"); E2E_ERR=""
    if [[ $E2E_RC == 0 ]] && help_ok; then ok "empty: interactive ssh (no command) prints help, exit 0, no shell"
    else fail_last "empty: interactive ssh (no command) prints help, exit 0, no shell" "expected help listing"; fi
else
    ok "empty: interactive ssh (no command) prints help, exit 0, no shell # SKIP script(1) missing"
fi

run -tt ''
if [[ $E2E_RC == 255 && $E2E_ERR == *"PTY allocation request failed"* && -z $E2E_OUT ]]; then
    ok "tty: ssh -tt is refused a pty (PermitTTY no) and nothing runs"
else
    fail_last "tty: ssh -tt is refused a pty (PermitTTY no) and nothing runs" "expected exit 255, PTY allocation failure"
fi

E2E_STDIN=$stdin_file run ''
if [[ $E2E_RC == 0 ]] && help_ok; then ok "empty: ssh with empty command prints help, exit 0, no shell"
else fail_last "empty: ssh with empty command prints help, exit 0, no shell" "expected help listing"; fi

run "help"
if [[ $E2E_RC == 0 ]] && help_ok; then ok "help: 'help' request prints the listing"
else fail_last "help: 'help' request prints the listing" "expected help listing"; fi

run "help --json"
if [[ $E2E_RC == 0 ]] && python3 -c '
import json, sys
a = json.loads(sys.stdin.read())
assert isinstance(a, list) and a, "not a non-empty array"
for o in a:
    assert {"id", "usage", "description", "available"} <= set(o), o
' <<<"$E2E_OUT"; then ok "help: 'help --json' is a JSON array of {id, usage, description, available}"
else fail_last "help: 'help --json' is a JSON array of {id, usage, description, available}" "bad JSON help"; fi

# ---------------------------------------------------------------- other channels
REQ="(sftp subsystem)"
REQUESTS=$((REQUESTS + 1))
e2e_run -s sftp
# (sshd discards a subsystem's stderr, so only the exit status tells.)
if [[ $E2E_RC == 126 && -z $E2E_OUT ]]; then ok "denied: sftp subsystem goes through the wrapper and is refused"
else fail_last "denied: sftp subsystem goes through the wrapper and is refused" "expected exit 126, no output"; fi

REQ="ssh -N -R (remote forward)"
E2E_RC=0
timeout 20 ssh "${E2E_SSH_OPTS[@]}" -N -o ExitOnForwardFailure=yes \
    -R 127.0.0.1:0:127.0.0.1:9 "$E2E_DEST" </dev/null >"$T/fwd.out" 2>"$T/fwd.err" || E2E_RC=$?
E2E_OUT=$(cat "$T/fwd.out"); E2E_ERR=$(cat "$T/fwd.err")
if [[ $E2E_RC == 255 && $E2E_ERR == *"forwarding failed"* ]]; then ok "denied: remote port forwarding refused by sshd"
else fail_last "denied: remote port forwarding refused by sshd" "expected exit 255 'remote port forwarding failed'"; fi

REQ="ssh -N -L (local forward to sshd's own port)"
lport=$(e2e_free_port)
timeout 30 ssh "${E2E_SSH_OPTS[@]}" -N -o ExitOnForwardFailure=yes \
    -L "127.0.0.1:$lport:127.0.0.1:$E2E_PORT" "$E2E_DEST" </dev/null >"$T/fwdl.out" 2>"$T/fwdl.err" &
fwd_pid=$!
fwd_result=$(python3 - "$lport" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        break
    except OSError:
        if time.time() > deadline:
            print("no-listener"); sys.exit(0)
        time.sleep(0.1)
s.settimeout(5)
try:
    data = s.recv(64)
except socket.timeout:
    data = b"<timeout>"
except OSError:
    data = b""
print("banner" if data.startswith(b"SSH-") else "refused:" + repr(data))
EOF
)
kill "$fwd_pid" 2>/dev/null || true
wait "$fwd_pid" 2>/dev/null || true
E2E_RC=-; E2E_OUT=$fwd_result; E2E_ERR=$(cat "$T/fwdl.err")
if [[ $fwd_result == refused:* ]]; then ok "denied: local port forwarding channel refused by sshd"
else fail_last "denied: local port forwarding channel refused by sshd" "expected no data through the tunnel"; fi

# ---------------------------------------------------------------- supervision through sshd
# Two test-only rules appended to the fixture policy (root-owned, re-read per request): a sleep
# with the policy's default timeout, and one with a 1 s timeout.
cat >>"$E2E_POLICY" <<'TOML'

[command.e2e-sleep]
match = ["e2e-sleep"]
program = "sleep"
description = "test only: sleeps"
timeout = "60s"
positional = [ { type = "regex", pattern = "[0-9]{1,3}" } ]

[command.e2e-sleep-1s]
match = ["e2e-sleep-1s"]
program = "sleep"
description = "test only: sleeps past its 1 s timeout"
timeout = "1s"
positional = [ { type = "regex", pattern = "[0-9]{1,3}" } ]
TOML

# survivors PATTERN: pids of the test account's processes whose command line matches PATTERN
survivors() { pgrep -u "$E2E_USER" -f "$1" 2>/dev/null | tr '\n' ' ' || true; }

# Timeout: the wrapper kills the command's process group and reports it.
run 'e2e-sleep-1s 47'
if [[ $E2E_RC -eq 137 && $E2E_ERR == *"diag-wrapper: timeout:"* ]]; then
    ok "timeout: killed at the rule's 1 s timeout, exit 137, one stderr line"
else
    fail_last "timeout: killed at the rule's 1 s timeout, exit 137, one stderr line" "expected 137 and a timeout line"
fi
left=$(survivors 'sleep -- 47')
if [[ -z $left ]]; then ok "timeout: no process of the request survives"; else not_ok "timeout: no process of the request survives" "left: $left"; fi

# A pipeline at its timeout: every stage is killed (adr/0015); the filters end with their input.
run 'e2e-sleep-1s 48 | grep -v x | head -n 1'
expect_rc "timeout: a 3-stage pipeline is killed at its 1 s timeout (exit 137)" 137
left="$(survivors 'sleep -- 48')$(survivors 'grep -v')$(survivors 'head -n 1')"
if [[ -z $left ]]; then ok "timeout: no stage of the pipeline survives"; else not_ok "timeout: no stage of the pipeline survives" "left: $left"; fi

# Disconnect: kill the ssh client mid-command; sshd closes the session, the wrapper notices and
# kills the command. Nothing of the request may survive.
REQUESTS=$((REQUESTS + 1))
e2e_ssh -- 'e2e-sleep 53' </dev/null >/dev/null 2>&1 &
client=$!
for _ in $(seq 1 50); do [[ -n $(survivors 'sleep -- 53') ]] && break; sleep 0.1; done
started=$(survivors 'sleep -- 53')
# The ssh client itself (and its `timeout` parent), as a client crash or a dropped link would.
pkill -KILL -u 0 -f 'e2e-sleep 53' 2>/dev/null || true
wait "$client" 2>/dev/null || true
gone=""
for _ in $(seq 1 30); do
    if [[ -z $(survivors 'sleep -- 53') && -z $(survivors 'diag-wrapper') ]]; then gone=yes; break; fi
    sleep 0.1
done
if [[ -n $started && -n $gone ]]; then
    ok "disconnect: killing the ssh client mid-command leaves no process of the request (within 3 s)"
else
    not_ok "disconnect: killing the ssh client mid-command leaves no process of the request (within 3 s)" \
        "started: '${started}'" "$(ps -o pid,ppid,stat,args -u "$E2E_USER" 2>/dev/null)" "left: sleep '$(survivors 'sleep -- 53')' wrapper '$(survivors 'diag-wrapper')'"
fi

# Clients that stop reading or hang up near the output cap.
# shellcheck source=tests/e2e/client_e2e.sh
source "$HERE/client_e2e.sh"

# ---------------------------------------------------------------- who asked, with which key
# The record names the key sshd accepted (ExposeAuthInfo): fingerprint as ssh-keygen -lf prints
# it, the principal the policy maps it to, and for a certificate its key id, serial and CA.
fp_plain=$(ssh-keygen -lf "$T/client/id_ed25519.pub" | awk '{print $2}')
fp_cert=$(ssh-keygen -lf "$T/client/id_cert.pub" | awk '{print $2}')
fp_ca=$(ssh-keygen -lf "$T/sshd/user_ca.pub" | awk '{print $2}')
printf '\n[audit.principals]\n"%s" = "e2e-agent"\n' "$fp_plain" >>"$E2E_POLICY"
run 'uname -s'
plain_id=$(grep -o '"request_id":"[^"]*"' "$E2E_AUDIT" | tail -n 1 | cut -d'"' -f4)
REQUESTS=$((REQUESTS + 1))
timeout 30 ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o LogLevel=ERROR -i "$T/client/id_cert" \
    -o CertificateFile="$T/client/id_cert-cert.pub" -p "$E2E_PORT" "$E2E_DEST" -- 'uname -s' \
    </dev/null >/dev/null 2>&1 || true
cert_id=$(grep -o '"request_id":"[^"]*"' "$E2E_AUDIT" | tail -n 1 | cut -d'"' -f4)
key_report=$(python3 - "$E2E_AUDIT" "$plain_id" "$cert_id" "$fp_plain" "$fp_cert" "$fp_ca" <<'PY'
import json, sys
path, plain_id, cert_id, fp_plain, fp_cert, fp_ca = sys.argv[1:]
recs = [json.loads(l) for l in open(path) if l.strip()]
def key_of(rid):
    for r in recs:
        if r.get("diag", {}).get("request_id") == rid and r.get("event", {}).get("action") == "decision":
            return r["diag"].get("key", {})
    return {}
p, c = key_of(plain_id), key_of(cert_id)
ok_plain = p.get("fingerprint") == fp_plain and p.get("principal") == "e2e-agent" and p.get("type") == "ssh-ed25519"
cert = c.get("certificate", {})
ok_cert = (c.get("fingerprint") == fp_cert and cert.get("key_id") == "e2e-cert-agent" and cert.get("serial") == 77
           and cert.get("ca_fingerprint") == fp_ca)
print("plain", "ok" if ok_plain else "bad", json.dumps(p))
print("cert", "ok" if ok_cert else "bad", json.dumps(c))
# Where it came from: sshd's pid (found by walking up /proc/PID/stat) and SSH_CONNECTION.
d = next((r for r in recs if r.get("diag", {}).get("request_id") == plain_id), {})
pid, src = d.get("diag", {}).get("sshd_pid"), d.get("source", {})
ok_origin = isinstance(pid, int) and pid > 1 and src.get("ip") == "127.0.0.1" and isinstance(src.get("port"), int)
print("origin", "ok" if ok_origin else "bad", json.dumps({"sshd_pid": pid, "source": src}))
PY
)
if grep -q '^plain ok' <<<"$key_report"; then
    ok "audit: plain key recorded with ssh-keygen's fingerprint and the policy's principal"
else
    not_ok "audit: plain key recorded with ssh-keygen's fingerprint and the policy's principal" "$key_report"
fi
if grep -q '^origin ok' <<<"$key_report"; then
    ok "audit: the record names the sshd process and the client address"
else
    not_ok "audit: the record names the sshd process and the client address" "$key_report"
fi
if grep -q '^cert ok' <<<"$key_report"; then
    ok "audit: certificate recorded with key id, serial, CA fingerprint and the key's fingerprint"
else
    not_ok "audit: certificate recorded with key id, serial, CA fingerprint and the key's fingerprint" "$key_report"
fi

# ---------------------------------------------------------------- audit log
audit_report=$(python3 - "$E2E_AUDIT" "$E2E_TOKEN" "$REQUESTS" "$T/pub/readme.txt" "${DENIED_IDS[@]}" <<'EOF' || true
import hashlib, json, sys
path, token, nreq, readme, *denied = sys.argv[1:]
nreq = int(nreq)
raw = open(path, encoding="utf-8", errors="replace").read()
problems = []
lines = [l for l in raw.split("\n") if l != ""]
recs = []          # (line, record) of decision records
chained = []       # (line, diag.chain) of every record, in file order
ends = {}          # request_id -> end record (event.action == "end": how an allowed command ended)
def diag(r):
    return r.get("diag") if isinstance(r.get("diag"), dict) else {}
def dg(r, k):
    return r.get(k, diag(r).get(k))
def action(r):
    ev = r.get("event") if isinstance(r.get("event"), dict) else {}
    return ev.get("action", "decision")
for n, l in enumerate(lines, 1):
    try:
        r = json.loads(l)
    except ValueError as e:
        problems.append(f"line {n} is not JSON: {e}: {l[:200]}")
        continue
    if not isinstance(r, dict):
        problems.append(f"line {n} is not a JSON object: {l[:200]}")
        continue
    chain = diag(r).get("chain") if isinstance(diag(r).get("chain"), dict) else {}
    chained.append((l, chain))
    if action(r) == "checkpoint":
        continue
    if action(r) == "end":
        ends[dg(r, "request_id")] = r
        continue
    if dg(r, "decision") is None:
        problems.append(f"line {n}: decision record without a 'decision': {l[:200]}")
        continue
    recs.append((l, r))
print(f"check lines-parse {'ok' if not problems else 'bad'} " + " | ".join(problems[:5]))
print(f"check count {'ok' if len(recs) >= nreq else 'bad'} {len(recs)} decision records for {nreq} non-empty requests ({len(ends)} end records)")
print(f"check no-token {'ok' if token not in raw else 'bad'}")
def is_allow(r): return str(dg(r, "decision")).lower() == "allow"
def is_deny(r): return str(dg(r, "decision")).lower() == "deny"
missing = []
for pair in denied:
    rid, code = pair.split("=", 1)
    hits = [r for l, r in recs if dg(r, "request_id") == rid or (dg(r, "request_id") is None and rid in l)]
    if not any(is_deny(r) and dg(r, "reason") in (None, code) for r in hits):
        missing.append(f"{rid} ({code}): {[(dg(r, 'decision'), dg(r, 'reason')) for r in hits]}")
    if rid in ends:
        missing.append(f"{rid} ({code}): denied, yet it has an end record (something ran?)")
print(f"check denied-ids {'ok' if denied and not missing else 'bad'} {len(denied) - len(missing)}/{len(denied)} denied request ids logged as deny with the same reason code; problems: {missing[:3]}")
canary = [r for l, r in recs if "secret/canary.txt" in l and is_deny(r)]
print(f"check canary-denied {'ok' if canary else 'bad'} {len(canary)} deny records mention the canary")
allowed = [r for l, r in recs if readme in l and is_allow(r)]
print(f"check readme-allowed {'ok' if allowed else 'bad'} {len(allowed)} allow records mention readme.txt")
# If the wrapper writes end records at all, the allowed cat of readme.txt must have one saying it
# exited 0.
if ends:
    ok_end = [ends[dg(r, "request_id")] for r in allowed if dg(r, "request_id") in ends]
    good = [e for e in ok_end if diag(e).get("result", {}).get("exit_status") == 0]
    print(f"check end-records {'ok' if good else 'bad'} {len(good)} end records with exit_status 0 for the allowed cat")
else:
    print("check end-records ok (no end records written: skipped)")
# The hash chain (adr/0011): seq 1, 2, 3... each naming the SHA-256 of the line before.
broken = []
prev = "0" * 64
for n, (l, c) in enumerate(chained, 1):
    if c.get("seq") != n or c.get("prev") != prev:
        broken.append(f"line {n}: seq {c.get('seq')}, prev {str(c.get('prev'))[:12]}")
    prev = hashlib.sha256(l.encode()).hexdigest()
print(f"check chain {'ok' if chained and not broken else 'bad'} {len(chained)} records; problems: {broken[:3]}")
# Through a real sshd: a root sshd above the wrapper, and the configured account checked.
# TODO(#12): one of the empty-request sessions (the listing) records root_sshd false; until that
# process tree is understood, only requests with a command are held to it.
withcmd = [(diag(r).get("origin", {}), (r.get("process") or {}).get("command_line")) for l, r in recs
           if (r.get("process") or {}).get("command_line")]
bad_origin = [x for x in withcmd if x[0].get("root_sshd") is not True or x[0].get("account_checked") is not True]
print(f"check origin {'ok' if withcmd and not bad_origin else 'bad'} {len(withcmd) - len(bad_origin)}/{len(withcmd)} decision records say root sshd and account checked; problems: {bad_origin[:2]}")
EOF
)
declare -A audit_names=(
    [lines-parse]="audit: every line is a JSON object; decision records carry a 'decision'"
    [count]="audit: one decision record per request"
    [no-token]="audit: canary token never appears in the audit log"
    [denied-ids]="audit: every denied request id is logged as deny with the stderr reason code"
    [canary-denied]="audit: the canary request is logged as denied"
    [readme-allowed]="audit: the allowed cat is logged as allowed"
    [end-records]="audit: the allowed cat has an end record with exit_status 0"
    [chain]="audit: every record has the next sequence number and the previous line's hash"
    [origin]="audit: decision records say a root sshd started the wrapper, and the account was checked"
)
for key in lines-parse count no-token denied-ids canary-denied readme-allowed end-records chain origin; do
    line=$(grep "^check $key " <<<"$audit_report" || true)
    if [[ $line == "check $key ok"* ]]; then
        ok "${audit_names[$key]}"
    else
        mapfile -t head_lines < <(head -n 5 "$E2E_AUDIT" | cut -c1-300)
        not_ok "${audit_names[$key]}" "${line:-python check did not run}" "audit file head:" \
            "${head_lines[@]}"
    fi
done

# ---------------------------------------------------------------- summary
if [[ $FAIL -gt 0 ]]; then
    echo "# sshd log (tail):"
    tail -n 40 "$T/sshd/sshd.log" | sed 's/^/#   /'
fi
echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
