#!/usr/bin/env bash
# Stop what ./scripts/dev-up.sh started (SIGTERM, then SIGKILL after 15 s).
set -euo pipefail
cd "$(dirname "$0")/.."
PIDFILE="${HYDRA_STATE_DIR:-.hydra}/dev.pid"
if [ ! -f "$PIDFILE" ] || ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "Hydra Jobs is not running."
  rm -f "$PIDFILE"
  exit 0
fi
PID="$(cat "$PIDFILE")"
kill -TERM "$PID"
for _ in $(seq 1 75); do
  kill -0 "$PID" 2>/dev/null || { rm -f "$PIDFILE"; echo "Hydra Jobs stopped."; exit 0; }
  sleep 0.2
done
kill -KILL "$PID" 2>/dev/null || true
rm -f "$PIDFILE"
echo "Hydra Jobs did not stop in 15 s and was killed."
