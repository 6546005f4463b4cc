# shellcheck shell=bash
# shellcheck disable=SC2034 # E2E_* globals are the interface for the sourcing script
# SPDX-License-Identifier: Apache-2.0
#
# Shared fixture for tests/e2e/sshd_e2e.sh and scripts/demo.sh: a throwaway sshd on 127.0.0.1
# whose only login is an unprivileged test account pinned to diag-wrapper with ForceCommand.
#
# Usage (as root, from a bash script with `set -euo pipefail`):
#   source tests/e2e/lib.sh
#   if reason=$(e2e_skip_reason); then echo "SKIP: $reason"; exit 77; fi
#   e2e_setup /path/to/diag-wrapper /path/to/policy/default.toml   # installs an EXIT trap
#   e2e_run 'uname -a'        # sets E2E_OUT, E2E_ERR, E2E_RC
#
# Everything lives below one root-owned mktemp -d directory ($E2E_T, in ${DIAG_E2E_TMPDIR:-/tmp}):
#   bin/diag-wrapper        root 0755, the ForceCommand
#   etc/policy.toml         root 0644, default.toml with [audit] -> file sink in audit/, include = [],
#                           and "$E2E_T/secret" (and the forest/ entries of sshd_e2e.sh's tree
#                           block) appended to [deny] paths
#   audit/audit.jsonl       root:<test group> 0620 (the account may append, not read)
#   state/chain             root:<test group> 0660, the hash chain state (empty: a new chain)
#   home/                   root 0755, the account's home; home/authorized_keys root 0644
#   secret/canary.txt       0644, holds $E2E_TOKEN; denied by the policy, readable by everyone
#   pub/readme.txt          0644, holds $E2E_README_TEXT; pub/link -> ../secret/canary.txt
#   rw/                     owned by the account: victim.txt (would be deletable) for mutation tests
#   client/id_ed25519       the account's key (root 0600)
#   sshd/                   root 0700: sshd_config, host key, pid file, sshd.log
# Nothing outside $E2E_T is changed except: the test account (removed on exit) and /run/sshd
# (created if missing, as sshd's privilege separation needs it; left in place, as a concurrent run
# may be using it).

E2E_SSHD_BIN=/usr/sbin/sshd
# Parent of the fixture dir: must be root-owned and not writable by others (sticky is fine) and
# not mounted noexec.
E2E_BASE=${DIAG_E2E_TMPDIR:-/tmp}
# e2e_run stops sending requests this many seconds after e2e_setup (ctest's TIMEOUT is 600).
E2E_DEADLINE=${DIAG_E2E_DEADLINE:-360}
E2E_T=""
E2E_USER=""
E2E_GROUP=""
E2E_PORT=""
E2E_SSHD_PID=""
E2E_SSH_OPTS=()
E2E_OUT=""
E2E_ERR=""
E2E_RC=0

e2e_log() { printf '# %s\n' "$*" >&2; }
e2e_die() { printf 'e2e: error: %s\n' "$*" >&2; exit 1; }

# Prints a one-line reason and returns 0 when the fixture cannot run here; returns 1 otherwise.
e2e_skip_reason() {
    if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
        echo "needs root (creates a user and runs sshd)"; return 0
    fi
    if [[ ! -x $E2E_SSHD_BIN ]]; then
        echo "sshd missing ($E2E_SSHD_BIN; apt-get install openssh-server)"; return 0
    fi
    local t
    for t in ssh ssh-keygen useradd userdel python3; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "$t missing"; return 0
        fi
    done
    if ! python3 -c 'import tomllib' >/dev/null 2>&1; then
        echo "python3 >= 3.11 (tomllib) missing"; return 0
    fi
    return 1
}

e2e_random_hex() { od -An -tx1 -N"${1:-16}" /dev/urandom | tr -d ' \n'; }

e2e_free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# e2e_make_policy SRC DST AUDIT_FILE CHAIN_FILE ACCOUNT [EXTRA_DENY...]
# Text-edits SRC (comments, order and formatting of everything else kept): the [audit] table is
# replaced by a file sink at AUDIT_FILE chained through CHAIN_FILE, settings.include becomes [],
# settings.account becomes ACCOUNT (the test account), EXTRA_DENY entries are appended to [deny]
# paths. The result is parsed back and compared with the intended data.
e2e_make_policy() {
    python3 - "$@" <<'EOF'
import copy, json, re, sys, tomllib

src, dst, audit_file, chain_file, account, *extra_deny = sys.argv[1:]
text = open(src, encoding="utf-8").read()
orig = tomllib.loads(text)

def skip_string(s, i):
    """s[i] starts a string; return the index just past it."""
    for q in ('"""', "'''"):
        if s.startswith(q, i):
            j = i + 3
            while True:
                k = s.find(q, j)
                if k < 0:
                    raise SystemExit("unterminated multi-line string")
                if q == '"""':
                    # count preceding backslashes
                    b, m = 0, k - 1
                    while m >= j and s[m] == "\\":
                        b += 1; m -= 1
                    if b % 2:
                        j = k + 1; continue
                # a closing delimiter may be followed by up to two more quotes
                while s.startswith(q[0], k + 3):
                    k += 1
                return k + 3
    q = s[i]
    j = i + 1
    while j < len(s):
        c = s[j]
        if c == "\\" and q == '"':
            j += 2; continue
        if c == q:
            return j + 1
        if c == "\n":
            raise SystemExit("newline in string")
        j += 1
    raise SystemExit("unterminated string")

def skip_value(s, i):
    """s[i] starts a TOML value; return the index just past it."""
    if s[i] in "\"'":
        return skip_string(s, i)
    if s[i] in "[{":
        depth, j = 0, i
        while j < len(s):
            c = s[j]
            if c in "\"'":
                j = skip_string(s, j); continue
            if c == "#":
                j = s.find("\n", j)
                if j < 0: j = len(s)
                continue
            if c in "[{": depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise SystemExit("unterminated array/table")
    j = i
    while j < len(s) and s[j] not in "\n#":
        j += 1
    while j > i and s[j - 1] in " \t\r":
        j -= 1
    return j

def end_of_line(s, i):
    j = s.find("\n", i)
    return len(s) if j < 0 else j + 1

# Split into statements: (start, end, kind, table, key, value_start, value_end)
stmts, i, table = [], 0, ""
while i < len(text):
    c = text[i]
    if c in " \t\r\n":
        i += 1; continue
    if c == "#":
        i = end_of_line(text, i); continue
    start = i
    if c == "[":
        e = end_of_line(text, i)
        line = text[i:e].split("#", 1)[0].strip()
        m = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?", line)
        if not m:
            raise SystemExit(f"cannot parse header: {line!r}")
        table = m.group(1).replace(" ", "")
        stmts.append((start, e, "header", table, None, None, None))
        i = e; continue
    j = i
    while j < len(text) and text[j] != "=":
        if text[j] in "\"'":
            j = skip_string(text, j)
        else:
            j += 1
    key = text[i:j].strip().strip("\"'")
    j += 1
    while text[j] in " \t":
        j += 1
    vs = j
    ve = skip_value(text, vs)
    e = end_of_line(text, ve)
    stmts.append((start, e, "kv", table, key, vs, ve))
    i = e

audit_block = ("[audit]\n" + 'sinks = ["file"]\n' + "file = " + json.dumps(audit_file) + "\n" +
               "chain = " + json.dumps(chain_file) + "\n")
deny_paths = list(orig.get("deny", {}).get("paths", [])) + extra_deny
out, pos = [], 0
have_include = have_deny_paths = False
for (s, e, kind, tbl, key, vs, ve) in stmts:
    if tbl == "audit" or tbl.startswith("audit."):
        out.append(text[pos:s]); pos = e; continue          # drop the shipped [audit] table
    if kind == "kv" and tbl == "settings" and key == "include":
        out.append(text[pos:vs]); out.append("[]"); pos = ve; have_include = True; continue
    if kind == "kv" and tbl == "settings" and key == "account":
        out.append(text[pos:vs]); out.append(json.dumps(account)); pos = ve; continue
    if kind == "kv" and tbl == "deny" and key == "paths":
        out.append(text[pos:vs]); out.append(json.dumps(deny_paths)); pos = ve
        have_deny_paths = True; continue
    if kind == "header" and tbl == "settings" and "include" not in orig.get("settings", {}):
        out.append(text[pos:e]); out.append("include = []\n"); pos = e; have_include = True
        continue
out.append(text[pos:])
result = "".join(out)
if not result.endswith("\n"):
    result += "\n"
if not have_include:
    raise SystemExit("policy has no [settings] table")
if not have_deny_paths:
    if "deny" in orig:
        raise SystemExit("[deny] without paths: not handled")
    result += "\n[deny]\npaths = " + json.dumps(deny_paths) + "\n"
result += "\n# --- added by tests/e2e/lib.sh ---\n" + audit_block

new = tomllib.loads(result)
want = copy.deepcopy(orig)
want["audit"] = {"sinks": ["file"], "file": audit_file, "chain": chain_file}
if "account" in want.get("settings", {}):
    want["settings"]["account"] = account
want.setdefault("settings", {})["include"] = []
want.setdefault("deny", {})["paths"] = deny_paths
if new != want:
    raise SystemExit("policy rewrite mismatch (this is a bug in tests/e2e/lib.sh)")
with open(dst, "w", encoding="utf-8") as f:
    f.write(result)
EOF
}

e2e_cleanup() {
    local rc=$?
    set +e
    if [[ -n $E2E_SSHD_PID ]]; then
        kill "$E2E_SSHD_PID" 2>/dev/null
        wait "$E2E_SSHD_PID" 2>/dev/null
        E2E_SSHD_PID=""
    fi
    if [[ -n $E2E_USER ]] && getent passwd "$E2E_USER" >/dev/null; then
        local pids
        pids=$(pgrep -u "$E2E_USER" 2>/dev/null | tr '\n' ' ')
        if [[ -n $pids ]]; then
            # shellcheck disable=SC2086 # word splitting of the pid list is intended
            kill $pids 2>/dev/null
            sleep 0.5
        fi
        userdel "$E2E_USER" >/dev/null 2>&1 || e2e_log "warning: userdel $E2E_USER failed"
    fi
    if [[ -n $E2E_GROUP ]] && getent group "$E2E_GROUP" >/dev/null; then
        groupdel "$E2E_GROUP" >/dev/null 2>&1
    fi
    E2E_USER=""; E2E_GROUP=""
    if [[ -n $E2E_T && -d $E2E_T && $E2E_T == "$E2E_BASE"/diag-e2e.* ]]; then
        # A bind mount a test left behind (the tree block's), deepest first.
        local m
        while read -r m; do umount "$m" 2>/dev/null; done < <(findmnt -rn -o TARGET | grep -F "$E2E_T/" | sort -r)
        rm -rf --one-file-system -- "$E2E_T"
    fi
    E2E_T=""
    return "$rc"
}

# e2e_start_sshd: write the config for $E2E_PORT, validate it, start sshd, wait for it to listen.
# Returns 1 if it did not come up (e.g. the port was taken meanwhile).
e2e_start_sshd() {
    local d=$E2E_T/sshd cfg=$E2E_T/sshd/sshd_config
    cat >"$cfg" <<EOF
# generated by tests/e2e/lib.sh; listens on loopback only
ListenAddress 127.0.0.1:$E2E_PORT
AddressFamily inet
HostKey $d/host_ed25519
PidFile $d/sshd.pid
LogLevel VERBOSE
UsePAM no
StrictModes yes
PermitRootLogin no
AllowUsers $E2E_USER
PubkeyAuthentication yes
AuthenticationMethods publickey
AuthorizedKeysFile $E2E_T/home/authorized_keys
TrustedUserCAKeys $d/user_ca.pub
AuthorizedPrincipalsFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
PermitEmptyPasswords no
PermitUserEnvironment no
PrintMotd no
PrintLastLog no
UseDNS no
MaxAuthTries 3
MaxStartups 20:30:60
LoginGraceTime 30
Subsystem sftp /usr/lib/openssh/sftp-server

Match User $E2E_USER
    ForceCommand $E2E_T/bin/diag-wrapper --policy $E2E_T/etc/policy.toml
    DisableForwarding yes
    PermitTTY no
    ExposeAuthInfo yes
    PermitTunnel no
    PermitUserRC no
Match all
EOF
    chmod 0600 "$cfg"
    "$E2E_SSHD_BIN" -t -f "$cfg" || e2e_die "sshd -t rejected $cfg"
    : >"$d/sshd.log"
    "$E2E_SSHD_BIN" -D -e -f "$cfg" >>"$d/sshd.log" 2>&1 &
    E2E_SSHD_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        if grep -q "Server listening on 127.0.0.1 port $E2E_PORT" "$d/sshd.log"; then
            return 0
        fi
        if ! kill -0 "$E2E_SSHD_PID" 2>/dev/null; then
            wait "$E2E_SSHD_PID" 2>/dev/null || true
            E2E_SSHD_PID=""
            e2e_log "sshd exited early:"; sed 's/^/#   /' "$d/sshd.log" >&2
            return 1
        fi
        sleep 0.1
    done
    e2e_log "sshd did not report listening within 10s:"; sed 's/^/#   /' "$d/sshd.log" >&2
    kill "$E2E_SSHD_PID" 2>/dev/null || true
    wait "$E2E_SSHD_PID" 2>/dev/null || true
    E2E_SSHD_PID=""
    return 1
}

# e2e_setup WRAPPER_BINARY POLICY_TOML
e2e_setup() {
    local wrapper=$1 policy_src=$2
    [[ -f $wrapper && -x $wrapper ]] || e2e_die "wrapper binary not found or not executable: $wrapper"
    [[ -f $policy_src ]] || e2e_die "policy not found: $policy_src"

    E2E_DEADLINE=$((SECONDS + E2E_DEADLINE))
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    umask 022
    E2E_T=$(mktemp -d "$E2E_BASE/diag-e2e.XXXXXXXX")
    chown root:root "$E2E_T"
    chmod 0755 "$E2E_T"
    local T=$E2E_T

    # The test account: unique name, no usable password ('*' is "no password" but not locked,
    # which sshd's UsePAM=no path requires), home owned by root.
    local name="diage2e$$" n=0
    while getent passwd "$name" >/dev/null || getent group "$name" >/dev/null; do
        name="diage2e$$x$((n++))"
    done
    mkdir -m 0755 "$T/home"
    useradd --no-create-home --home-dir "$T/home" --shell /bin/sh --user-group \
        --password '*' --comment "diag-wrapper e2e test" "$name"
    E2E_USER=$name
    E2E_GROUP=$(id -gn "$name")

    install -d -o root -g root -m 0755 "$T/bin" "$T/etc" "$T/audit" "$T/secret" "$T/pub"
    install -d -o root -g root -m 0700 "$T/client" "$T/sshd"
    install -d -o "$name" -g "$E2E_GROUP" -m 0755 "$T/rw"
    install -o root -g root -m 0755 "$wrapper" "$T/bin/diag-wrapper"

    # Keys.
    ssh-keygen -q -t ed25519 -N '' -C "diag-e2e-client" -f "$T/client/id_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C "diag-e2e-host" -f "$T/sshd/host_ed25519"
    install -o root -g root -m 0644 "$T/client/id_ed25519.pub" "$T/home/authorized_keys"
    # A user CA and a second client key certified by it (for the audit record's certificate fields).
    ssh-keygen -q -t ed25519 -N '' -C "diag-e2e-user-ca" -f "$T/sshd/user_ca"
    ssh-keygen -q -t ed25519 -N '' -C "diag-e2e-cert-client" -f "$T/client/id_cert"
    ssh-keygen -q -s "$T/sshd/user_ca" -I e2e-cert-agent -n "$name" -z 77 "$T/client/id_cert.pub"

    # Canary secret (world-readable, denied by policy) and public files.
    E2E_TOKEN="canary-$(e2e_random_hex 16)"
    E2E_README_TEXT="diag-e2e readme $(e2e_random_hex 8)"
    printf '%s\n' "$E2E_TOKEN" >"$T/secret/canary.txt"
    printf '%s\n' "$E2E_README_TEXT" >"$T/pub/readme.txt"
    ln -s ../secret/canary.txt "$T/pub/link"
    printf 'delete me if you can\n' >"$T/rw/victim.txt"
    chown "$name:$E2E_GROUP" "$T/rw/victim.txt"
    chmod 0644 "$T/secret/canary.txt" "$T/pub/readme.txt" "$T/rw/victim.txt"

    # Audit sink: appendable by the account, not readable by it; the directory stays root's.
    E2E_AUDIT=$T/audit/audit.jsonl
    : >"$E2E_AUDIT"
    chown "root:$E2E_GROUP" "$E2E_AUDIT"
    chmod 0620 "$E2E_AUDIT"

    # Policy.
    E2E_POLICY=$T/etc/policy.toml
    # Chain state: as the README's install steps make it (root:group 0660, a root directory).
    install -d -o root -g root -m 0755 "$T/state"
    E2E_CHAIN=$T/state/chain
    install -o root -g "$E2E_GROUP" -m 0660 /dev/null "$E2E_CHAIN"

    # forest/: the tree with denied paths below it that find, grep -r and du walk (adr/0016).
    e2e_make_policy "$policy_src" "$E2E_POLICY" "$E2E_AUDIT" "$E2E_CHAIN" "$name" "$T/secret" \
        "$T/forest/denied-dir" "$T/forest/denied-file" "$T/forest/glob-*" "$T/forest/owned/denied-own" \
        || e2e_die "could not derive the test policy from $policy_src"
    chown root:root "$E2E_POLICY"
    chmod 0644 "$E2E_POLICY"
    if ! "$T/bin/diag-wrapper" --policy "$E2E_POLICY" --check >"$T/check.out" 2>&1; then
        sed 's/^/#   /' "$T/check.out" >&2
        e2e_die "diag-wrapper --check rejected the test policy $E2E_POLICY"
    fi

    # sshd.
    # sshd's privilege separation directory (systemd's tmpfiles would create it). Left in place on
    # exit: another fixture running concurrently may need it.
    mkdir -m 0755 /run/sshd 2>/dev/null || [[ -d /run/sshd ]]
    local try
    for try in 1 2 3; do
        E2E_PORT=$(e2e_free_port)
        if e2e_start_sshd; then break; fi
        [[ $try == 3 ]] && e2e_die "could not start sshd"
    done

    E2E_DEST="$name@127.0.0.1"
    E2E_SSH_OPTS=(
        -F /dev/null
        -o BatchMode=yes
        -o StrictHostKeyChecking=no
        -o UserKnownHostsFile=/dev/null
        -o GlobalKnownHostsFile=/dev/null
        -o IdentitiesOnly=yes
        -o IdentityAgent=none
        -o ControlMaster=no
        -o ControlPath=none
        -o LogLevel=ERROR
        -o ConnectTimeout=10
        -i "$T/client/id_ed25519"
        -p "$E2E_PORT"
    )
    e2e_log "fixture: dir $T, account $name, sshd pid $E2E_SSHD_PID on 127.0.0.1:$E2E_PORT"
}

# e2e_ssh [ssh options...] [--] [remote command]: ssh to the test account (destination added).
e2e_ssh() {
    local opts=()
    while [[ $# -gt 0 && $1 == -* && $1 != -- ]]; do
        opts+=("$1"); shift
        # options that take a value
        case ${opts[-1]} in -[BbcDEeFIiJLlmOopQRSWw]) opts+=("$1"); shift ;; esac
    done
    [[ ${1-} == -- ]] && shift
    timeout 30 ssh "${E2E_SSH_OPTS[@]}" "${opts[@]}" "$E2E_DEST" "$@"
}

# e2e_run [ssh options...] 'REQUEST': one request; sets E2E_OUT, E2E_ERR, E2E_RC. Stdin: /dev/null
# unless E2E_STDIN names a file.
e2e_run() {
    local o=$E2E_T/run.out e=$E2E_T/run.err
    local args=("$@")
    if [[ ${#args[@]} -gt 0 ]]; then
        local last=${args[-1]}
        unset 'args[-1]'
        args+=(-- "$last")
    fi
    E2E_RC=0
    if ((SECONDS > E2E_DEADLINE)); then
        # Stay well inside ctest's TIMEOUT: a killed script cannot clean up.
        E2E_OUT=""; E2E_ERR="e2e: deadline exceeded, request not sent"; E2E_RC=124
        return 0
    fi
    e2e_ssh "${args[@]}" <"${E2E_STDIN:-/dev/null}" >"$o" 2>"$e" || E2E_RC=$?
    # (NUL bytes cannot live in a bash variable; drop them quietly)
    E2E_OUT=$(tr -d '\000' <"$o")
    E2E_ERR=$(tr -d '\000' <"$e")
}
