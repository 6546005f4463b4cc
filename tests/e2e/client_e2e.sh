# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Sourced by sshd_e2e.sh in its supervision section (it uses ok/not_ok/survivors, REQUESTS and the
# E2E_* fixture): clients that stop reading or hang up, through the real sshd and ssh.

# Two test-only rules for cat: one with a 2 s timeout and one with an 8 MiB output cap. Both may
# print far more than every buffer between the wrapper and the client (ssh channel windows,
# loopback TCP buffers), so a client that stops reading is felt by the wrapper.
cat >>"$E2E_POLICY" <<'TOML'

[command.e2e-cat-2s]
match = ["e2e-cat-2s"]
program = "cat"
description = "test only: prints a file, within 2 s"
timeout = "2s"
output_cap = "64MiB"
positional = [ { type = "path" } ]

[command.e2e-cat-capped]
match = ["e2e-cat-capped"]
program = "cat"
description = "test only: prints a file, at most 8 MiB of it"
timeout = "10s"
output_cap = "8MiB"
positional = [ { type = "path" } ]
TOML
client_big=$T/pub/e2e-big.bin
truncate -s $((48 * 1024 * 1024)) "$client_big"

# end_records RULE: "<request id> <timed_out> <client_gone>" per end record of RULE, and
# "decision <request id>" per allowed decision record of RULE.
end_records() {
    python3 - "$E2E_AUDIT" "$1" <<'PY'
import json, sys
path, rule = sys.argv[1:]
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    d = r.get("diag", {})
    if d.get("rule") != rule:
        continue
    if r.get("event", {}).get("action") == "end":
        res = d.get("result", {})
        print(d.get("request_id"), str(res.get("timed_out")).lower(), str(res.get("client_gone")).lower())
    elif d.get("decision") == "allow":
        print("decision", d.get("request_id"))
PY
}

# A client that stops reading (`ssh host 'cat BIG' | sleep 60`): the rule's timeout still ends
# the request, and nothing of it is left running while the client is still connected.
REQUESTS=$((REQUESTS + 1))
mkfifo "$T/stalled.fifo"
sleep 60 <"$T/stalled.fifo" &   # holds the pipe open and never reads it
stalled_reader=$!
e2e_ssh -- "e2e-cat-2s $client_big" </dev/null >"$T/stalled.fifo" 2>/dev/null &
stalled_client=$!
started_at=$SECONDS
stalled_result=""
while ((SECONDS - started_at < 10)); do
    if [[ -n $(survivors 'e2e-big.bin') ]]; then
        stalled_result="running"
    fi
    if [[ -z $(survivors 'e2e-big.bin') && -z $(survivors 'diag-wrapper') ]] &&
        end_records e2e-cat-2s | grep -q ' true false$'; then
        stalled_result="ended"
        break
    fi
    sleep 0.2
done
stalled_after=$((SECONDS - started_at))
# The client itself (ssh, and its `timeout` parent), then the reader; only these two are waited
# for (a bare `wait` would wait for sshd too).
pkill -KILL -u 0 -f "e2e-cat-2s $client_big" 2>/dev/null || true
kill "$stalled_reader" 2>/dev/null || true
wait "$stalled_client" "$stalled_reader" 2>/dev/null || true
if [[ $stalled_result == ended ]]; then
    ok "stalled client: a client that stops reading is held to the 2 s timeout; nothing survives (${stalled_after} s)"
else
    not_ok "stalled client: a client that stops reading is held to the 2 s timeout; nothing survives" \
        "after ${stalled_after} s: cat '$(survivors 'e2e-big.bin')' wrapper '$(survivors 'diag-wrapper')'" \
        "end records: $(end_records e2e-cat-2s | tr '\n' ';')"
fi

# A client that hangs up shortly before the output cap (`ssh host 'cat BIG' | head -c ...`):
# every request still gets its end record.
cut_tries=20
for _ in $(seq 1 "$cut_tries"); do
    REQUESTS=$((REQUESTS + 1))
    e2e_ssh -- "e2e-cat-capped $client_big" </dev/null 2>/dev/null |
        head -c $((8 * 1024 * 1024 - 200 * 1024)) >/dev/null || true
done
for _ in $(seq 1 50); do
    [[ -z $(survivors 'diag-wrapper') ]] && break
    sleep 0.1
done
cut_report=$(end_records e2e-cat-capped)
cut_decisions=$(grep -c '^decision ' <<<"$cut_report" || true)
cut_missing=$(awk '$1 == "decision" { want[$2] = 1; next } { have[$1] = 1 }
                   END { for (id in want) if (!(id in have)) printf "%s ", id }' <<<"$cut_report")
if [[ $cut_decisions -eq $cut_tries && -z $cut_missing ]]; then
    ok "cut client: $cut_tries clients that hang up near the output cap all get an end record"
else
    not_ok "cut client: $cut_tries clients that hang up near the output cap all get an end record" \
        "$cut_decisions allowed requests; without an end record: ${cut_missing:-none}"
fi
rm -f "$client_big" "$T/stalled.fifo"
