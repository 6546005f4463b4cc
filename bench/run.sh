#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every benchmark against a build tree and prints the numbers bench/README.md records.
#   bench/run.sh [BUILD_DIR]      (default: build-release; needs root: the policy must be root-owned)
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
build=${1:-build-release}
[[ $(id -u) -eq 0 ]] || { echo "bench/run.sh: run as root" >&2; exit 1; }
[[ -x $build/diag-wrapper && -x $build/bench/diag_bench && -x $build/bench/diag_bench_floor &&
   -x $build/bench/diag_bench_worst ]] || {
    cmake --preset release >/dev/null &&
        cmake --build --preset release --target diag-wrapper diag_bench diag_bench_floor diag_bench_worst >/dev/null
    build=build-release
}
tmp=$(mktemp -d /tmp/diagbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
printf 'hello\n' > "$tmp/small.txt"
truncate -s 1G "$tmp/big.bin"
cat > "$tmp/policy.toml" <<TOML
version = 1
[settings]
search_path = ["/usr/bin", "/bin"]
timeout = "120s"
output_cap = "2GiB"
[audit]
sinks = ["file"]
file = "$tmp/audit.jsonl"
[deny]
paths = ["/etc/shadow*", "/etc/ssh/ssh_host_*key", "/root", "/home/*/.ssh"]
[command.true]
match = ["true"]
description = "nothing"
[command.cat]
match = ["cat"]
description = "print a file"
[[command.cat.positional]]
type = "path"
[command.grep]
match = ["grep"]
description = "search trees"
[[command.grep.option]]
names = ["-r"]
type = "flag"
recursive = true
[[command.grep.positional]]
type = "string"
[[command.grep.positional]]
type = "path"
max = 32
TOML
chmod 644 "$tmp/policy.toml"
# Requests run as an unprivileged user, as the diag account would (root could read the denied
# directories, which makes the hard-link scan do work no real deployment does).
# The audit file as installed: root-owned, appendable by the account's group (adr/0008).
touch "$tmp/audit.jsonl" && chown root:"$(id -gn nobody)" "$tmp/audit.jsonl" && chmod 0620 "$tmp/audit.jsonl"
as_user=nobody
echo "== $(uname -r), $(nproc) cores, Landlock ABI via the wrapper's record below"
echo "== setup cost (median of 21)"
"$build/bench/diag_bench" setup
echo "== per-request overhead (median of 400)"
"$build/bench/diag_bench" requests "$as_user" "$build/diag-wrapper" "$tmp/policy.toml" "$tmp/small.txt"
# The shipped policy as deployed (its rules and deny entries, the account check, the hash chain),
# with the account, the audit file and the chain state moved here.
touch "$tmp/chain" && chown root:"$(id -gn nobody)" "$tmp/chain" && chmod 0660 "$tmp/chain"
sed -e 's|^file = .*|file = "'"$tmp"'/audit.jsonl"|' -e 's|^chain = .*|chain = "'"$tmp"'/chain"|' \
    -e 's|^account = .*|account = "nobody"|' policy/default.toml > "$tmp/default.toml"
chmod 644 "$tmp/default.toml"
# The scaling section's policies (below): the shipped settings and deny list, the cat rule the
# request matches (operands only, as shipped: adr/0023), and generated rules up to 40, 200 and 1000.
for n in 40 200 1000; do
    python3 - "$tmp/default.toml" "$n" > "$tmp/rules-$n.toml" <<'PY'
import sys
text = open(sys.argv[1]).read()
head = text[:text.index("\n[command.")]
rules = ['[command.cat]\nmatch = ["cat"]\ndescription = "print files"\nreads = "operands"\n[[command.cat.positional]]\ntype = "path"\nmax = 4\n']
for i in range(1, int(sys.argv[2])):
    rules.append(f"""[command.tool-{i}]
match = ["tool-{i}"]
description = "generated rule {i}"
[[command.tool-{i}.option]]
names = ["-n"]
type = "int"
min = 1
max = 1000
[[command.tool-{i}.option]]
names = ["-p", "--pattern"]
type = "regex"
pattern = "[A-Za-z0-9_.-]{{1,64}}"
[[command.tool-{i}.positional]]
type = "path"
max = 4
""")
print(head + "\n" + "\n".join(rules))
PY
    chmod 644 "$tmp/rules-$n.toml"
done
# Each --compile below waits until the files are 2 s old (adr/0026), as installed ones compile.
echo "== the floor: a bare supervisor (fork, exec, wait; no checks) in place of the wrapper (median of 400)"
"$build/bench/diag_bench" requests "$as_user" "$build/bench/diag_bench_floor" "$tmp/policy.toml" "$tmp/small.txt"
# As installed (the .deb's postinst runs --compile): the image beside the policy. A second copy
# without one shows what parsing the files costs.
"$build/diag-wrapper" --policy "$tmp/default.toml" --compile >/dev/null
cp "$tmp/default.toml" "$tmp/default-files.toml"
echo "== the shipped policy/default.toml against the floor (issue #17: at most 2x the floor's overhead)"
"$build/bench/diag_bench" shipped "$as_user" "$build/bench/diag_bench_floor" "$build/diag-wrapper" \
    "$tmp/default.toml" "$tmp/default-files.toml" "$tmp/policy.toml" "$tmp/small.txt"
# The per-request cost against the size of the policy (generated above), each compiled.
echo "== policy-size scaling: 40, 200 and 1000 command rules, compiled (issue #17: within 10 %)"
for n in 40 200 1000; do
    "$build/diag-wrapper" --policy "$tmp/rules-$n.toml" --compile >/dev/null
done
"$build/bench/diag_bench" scaling "$as_user" "$build/diag-wrapper" "$tmp/small.txt" \
    "$tmp/rules-40.toml" "$tmp/rules-200.toml" "$tmp/rules-1000.toml"
echo "== a 3-stage pipeline with the shipped policy (adr/0013)"
"$build/bench/diag_bench" pipeline "$as_user" "$build/diag-wrapper" "$tmp/default.toml" "$tmp/small.txt"
# A recursive read of a tree with denied paths below it runs with the program made to skip them
# (adr/0016): the whole request through the wrapper against the bare tool, best of 3 wall times.
echo "== trees with denied paths below them, shipped policy (adr/0016): best of 3, ms"
best_ms() {   # COMMAND...: the best wall time of three runs as the unprivileged user
    local best="" i s e
    for i in 1 2 3; do
        s=$(date +%s%N)
        runuser -u "$as_user" -- "$@" >/dev/null 2>&1 || true
        e=$(date +%s%N)
        (( best == 0 || (e - s) / 1000000 < best )) && best=$(( (e - s) / 1000000 ))
    done
    echo "$best"
}
for req in "find / -xdev -name no-such-file" "grep -rn no-such-string /etc" "du -s /var"; do
    read -ra bare <<<"$req"
    wrapped=$(best_ms env -i "SSH_ORIGINAL_COMMAND=$req" "SSH_CONNECTION=192.0.2.7 50000 127.0.0.1 22" \
        PATH=/usr/bin:/bin "$build/diag-wrapper" --policy "$tmp/default.toml")
    printf '%-40s wrapped %6s ms   bare %6s ms\n' "$req" "$wrapped" "$(best_ms "${bare[@]}")"
done
echo "== peak RSS of the wrapper (wait4; median and largest of 21): bench policy, then the shipped one"
"$build/bench/diag_bench" rss "$as_user" "$build/diag-wrapper" "$tmp/policy.toml" "$tmp/small.txt"
"$build/bench/diag_bench" rss "$as_user" "$build/diag-wrapper" "$tmp/default.toml" "$tmp/small.txt" cat-only
echo "== streaming (median of 5)"
"$build/bench/diag_bench" stream "$as_user" "$build/diag-wrapper" "$tmp/policy.toml" "$tmp/big.bin"
grep -m1 '"landlock"' "$tmp/audit.jsonl" | python3 -c 'import json,sys; print("confinement:", json.load(sys.stdin)["diag"]["confinement"]["landlock"])'
# What another account can build in a world-writable directory (adr/0004): the decision's CPU
# time and peak memory (--explain: nothing runs). Builds ~250,000 inodes once, as uid 4243.
echo "== decision stage, worst cases another local account can build (median of 3)"
"$build/bench/diag_bench_worst" "$as_user" "$build/diag-wrapper" "$tmp/policy.toml" "$tmp"
