#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs a command next to a private systemd-journald: in a new mount namespace, with tmpfs over
# /run (the journal's sockets and its runtime files) and over the persistent journal directory,
# so nothing reaches the host's journal and the host's entries are not seen. The command talks
# to it through the usual paths (/run/systemd/journal/socket, journalctl).
#   journald_sandbox.sh COMMAND [ARG...]
# Exits 77 (skip) when this cannot be set up here: not root, no unshare, no journald binary.
set -u
JOURNALD=${DIAG_JOURNALD:-/lib/systemd/systemd-journald}
if [ "${1:-}" != --inside ]; then
    [ "$(id -u)" = 0 ] || { echo "journald_sandbox: needs root (mount namespace)" >&2; exit 77; }
    [ -x "$JOURNALD" ] || { echo "journald_sandbox: no $JOURNALD" >&2; exit 77; }
    command -v unshare >/dev/null 2>&1 || { echo "journald_sandbox: no unshare" >&2; exit 77; }
    command -v journalctl >/dev/null 2>&1 || { echo "journald_sandbox: no journalctl" >&2; exit 77; }
    exec unshare -m --propagation private "$0" --inside "$@"
fi
shift
# Private mounts only (the namespace's propagation is private): the host keeps its own.
mount -t tmpfs -o mode=0755 tmpfs /run || { echo "journald_sandbox: cannot mount /run" >&2; exit 77; }
if [ -d /var/log/journal ]; then
    mount -t tmpfs -o mode=0755 tmpfs /var/log/journal || exit 77
else
    mount -t tmpfs -o mode=0755 tmpfs /var/log || exit 77
fi
mkdir -p /run/systemd/journal /run/log/journal
"$JOURNALD" >/dev/null 2>&1 &
journald=$!
tries=0
until [ -S /run/systemd/journal/socket ]; do
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || { kill "$journald"; echo "journald_sandbox: journald did not start" >&2; exit 77; }
    sleep 0.05
done
"$@"
rc=$?
kill "$journald"
wait "$journald" 2>/dev/null
exit "$rc"
