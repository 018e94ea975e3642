#!/bin/sh
# Replay recorded charger traffic against a backend under test; fail the job on regressions (docs/ci.md).
#
#   BACKEND_URL   the backend's OCPP base URL; each charger appends its identity (required),
#                 e.g. ws://127.0.0.1:9000/ocpp
#   BACKEND_CMD   command that starts the backend (optional: without it the backend must already run)
#   CSMS_PASSWORD Basic-auth password of the replayed chargers (optional; captures are redacted)
#   OCPPSCOPE_BASELINE  file of accepted differences (optional)
#   REPORT_FORMAT text | json | junit (default text); REPORT_DIR (default ocppscope-report)
#   WAIT_SECONDS  how long to wait for the backend's port (default 60)
#   OCPPSCOPE     the ocppscope command (default: ocppscope, else .venv/bin/ocppscope)
#
# Arguments: the captures to replay (default captures/*.jsonl). Exit code: ocppscope's (0 same, 1 differences,
# 2 unusable input or unreachable backend).
set -eu

: "${BACKEND_URL:?set BACKEND_URL to the backend's OCPP base URL, e.g. ws://127.0.0.1:9000/ocpp}"
REPORT_FORMAT=${REPORT_FORMAT:-text}
REPORT_DIR=${REPORT_DIR:-ocppscope-report}
WAIT_SECONDS=${WAIT_SECONDS:-60}
if [ -z "${OCPPSCOPE:-}" ]; then
    if command -v ocppscope >/dev/null 2>&1; then OCPPSCOPE=ocppscope; else OCPPSCOPE=.venv/bin/ocppscope; fi
fi
[ "$#" -gt 0 ] || set -- captures/*.jsonl

if [ -n "${BACKEND_CMD:-}" ]; then
    # Its own process group (set -m), so stopping it stops whatever the command started.
    set -m
    sh -c "$BACKEND_CMD" &
    backend_pid=$!
    set +m
    trap 'kill -TERM -"$backend_pid" 2>/dev/null || kill "$backend_pid" 2>/dev/null || true' EXIT INT TERM
fi

# Wait until the backend accepts TCP connections on the URL's host and port, bounded in time.
hostport=$(printf '%s\n' "$BACKEND_URL" | sed -E 's#^[a-z]+://([^/]+).*#\1#')
host=${hostport%:*}
port=${hostport##*:}
if [ "$host" = "$hostport" ]; then
    case "$BACKEND_URL" in wss:*) port=443 ;; *) port=80 ;; esac
fi
python3 - "$host" "$port" "$WAIT_SECONDS" <<'PY'
import socket, sys, time
host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + limit
while True:
    try:
        socket.create_connection((host, port), timeout=2).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"the backend at {host}:{port} did not come up within {limit:g} s")
        time.sleep(0.5)
PY

mkdir -p "$REPORT_DIR/live"
case "$REPORT_FORMAT" in junit) suffix=xml ;; json) suffix=json ;; *) suffix=txt ;; esac
set -- "$@" --target "$BACKEND_URL" --as charger --speed max --format "$REPORT_FORMAT" \
    -o "$REPORT_DIR/replay.$suffix" --record "$REPORT_DIR/live"
[ -z "${CSMS_PASSWORD:-}" ] || set -- "$@" --password-env CSMS_PASSWORD
[ -z "${OCPPSCOPE_BASELINE:-}" ] || set -- "$@" --baseline "$OCPPSCOPE_BASELINE"

status=0
"$OCPPSCOPE" replay "$@" || status=$?
[ "$REPORT_FORMAT" != text ] || cat "$REPORT_DIR/replay.$suffix"
echo "ocppscope replay: exit $status; report in $REPORT_DIR/replay.$suffix, live sessions in $REPORT_DIR/live" >&2
exit "$status"
