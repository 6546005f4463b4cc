#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Demo on a fresh Debian 12 box:   sudo scripts/demo.sh      (from the repo root)
#
# Installs build deps, builds diag-wrapper, starts a throwaway sshd on 127.0.0.1 with a test
# account pinned to the wrapper by ForceCommand (the same fixture as tests/e2e/sshd_e2e.sh),
# sends a few allowed and refused requests over real ssh, prints the audit log, cleans up.
# Leaves nothing running; the build dir stays. DIAG_DEMO_POLICY=FILE uses another policy than
# policy/default.toml.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)

if [[ $(id -u) -ne 0 ]]; then
    echo "demo.sh: needs root (installs packages, creates a user, runs sshd): sudo scripts/demo.sh" >&2
    exit 1
fi

if [[ -t 1 ]]; then B=$'\e[1m'; G=$'\e[32m'; R=$'\e[31m'; D=$'\e[2m'; N=$'\e[0m'; else B=""; G=""; R=""; D=""; N=""; fi
heading() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }

heading "Installing build dependencies (scripts/deps.sh)"
bash scripts/deps.sh

heading "Building diag-wrapper (Release)"
cmake --preset release -DDIAG_BUILD_TESTS=OFF
cmake --build --preset release --target diag-wrapper
wrapper=$REPO/build-release/diag-wrapper
echo "binary: $wrapper"

heading "Starting a throwaway sshd on 127.0.0.1 (tests/e2e/lib.sh)"
# shellcheck source=tests/e2e/lib.sh
source tests/e2e/lib.sh
if reason=$(e2e_skip_reason); then
    echo "demo.sh: cannot run the sshd demo: $reason" >&2
    exit 1
fi
policy=${DIAG_DEMO_POLICY:-$REPO/policy/default.toml}
e2e_setup "$wrapper" "$policy"   # installs an EXIT trap that cleans up
T=$E2E_T
echo "account:  $E2E_USER (unprivileged, key-only)"
echo "sshd:     pid $E2E_SSHD_PID, 127.0.0.1:$E2E_PORT, config $T/sshd/sshd_config:"
sed -n '/^Match User/,/^Match all/p' "$T/sshd/sshd_config" | sed 's/^/            /'
echo "policy:   $E2E_POLICY ($policy with the audit sink moved to $E2E_AUDIT,"
echo "          no drop-in dirs, and $T/secret added to [deny] paths)"
echo "canary:   $T/secret/canary.txt is world-readable but denied by policy;"
echo "          $T/pub/link -> ../secret/canary.txt"

show() {   # show 'REQUEST' [max lines of stdout]
    local req=$1 max=${2:-15}
    printf "\n%s\$ ssh %s@127.0.0.1 '%s'%s\n" "$B" "$E2E_USER" "$req" "$N"
    e2e_run "$req"
    if [[ -n $E2E_OUT ]]; then
        local n
        n=$(wc -l <<<"$E2E_OUT")
        # long lines (help usages) are cut to keep the demo readable
        head -n "$max" <<<"$E2E_OUT" | awk '{ if (length($0) > 150) print substr($0, 1, 147) "..."; else print }'
        if [[ $n -gt $max ]]; then printf '%s... (%d more lines)%s\n' "$D" "$((n - max))" "$N"; fi
    fi
    [[ -n $E2E_ERR ]] && printf '%s%s%s\n' "$R" "$E2E_ERR" "$N"
    local color=$G
    [[ $E2E_RC != 0 ]] && color=$R
    printf '%s[exit %s]%s\n' "$color" "$E2E_RC" "$N"
}

heading "Allowed probes (run as the pinned binaries, output streamed back)"
show "help" 12
show "uname -a"
show "cat /etc/os-release"
show "df -h"
show "ps -ef" 12
show "ss -tlnp"

heading "Refused requests (exit 126, nothing runs)"
show "cat /etc/shadow"
show "cat $T/pub/link"
show "cat $T/secret/canary.txt"
show "uname; id"
show "cat \$(id)"
show "rm -rf /tmp/x"
show "systemctl restart ssh"

heading "What the wrapper would do, without running anything (--explain, locally)"
for req in "cat /etc/os-release" "cat $T/pub/link"; do
    printf "\n%s\$ diag-wrapper --policy %s --explain -- '%s'%s\n" "$B" "$E2E_POLICY" "$req" "$N"
    rc=0
    "$T/bin/diag-wrapper" --policy "$E2E_POLICY" --explain -- "$req" 2>&1 || rc=$?
    printf '[exit %s]\n' "$rc"
done

heading "Audit log ($E2E_AUDIT): a decision record per request, written before exec (and an end record once an allowed command exits)"
python3 - "$E2E_AUDIT" "$B" "$N" <<'PY'
import json, sys
path, bold, normal = sys.argv[1:]
recs = []
for line in open(path, encoding="utf-8"):
    if line.strip():
        recs.append(json.loads(line))
for r in recs:
    d = r.get("diag", {})
    if r.get("event", {}).get("action") == "end":
        # how an allowed command ended (written after it exits)
        res = d.get("result", {})
        flags = [k for k in ("timed_out", "output_capped", "client_gone") if res.get(k)]
        what = f"exit={res.get('exit_status', '?')}" + (" " + ",".join(flags) if flags else "")
        print(f"{r.get('@timestamp', '?'):28} {r.get('user', {}).get('name', '?'):14} "
              f"{'end':6} {what:18} {r.get('process', {}).get('command_line', '')!r}")
        continue
    print(f"{r.get('@timestamp', '?'):28} {r.get('user', {}).get('name', '?'):14} "
          f"{d.get('decision', '?'):6} {d.get('reason', '?'):18} {r.get('process', {}).get('command_line', '')!r}")
def last(pred):
    hits = [r for r in recs if pred(r)]
    return hits[-1] if hits else None
for title, r in (
    ("last allowed request", last(lambda r: r.get("diag", {}).get("decision") == "allow"
                                  and r.get("event", {}).get("action") != "end"
                                  and r.get("diag", {}).get("rule") != "help")),
    ("end of that request", last(lambda r: r.get("event", {}).get("action") == "end"
                                 and r.get("diag", {}).get("rule") != "help")),
    ("canary denial", last(lambda r: r.get("diag", {}).get("decision") == "deny"
                           and "secret/canary.txt" in r.get("process", {}).get("command_line", ""))),
):
    if r is not None:
        print(f"\n{bold}Full record of the {title}:{normal}")
        print(json.dumps(r, indent=2, ensure_ascii=False))
PY

heading "Cleaning up (sshd stopped, test account and $T removed)"
