#!/usr/bin/env bash
# Stop what ./scripts/dev-up.sh started: `hydra-jobs up`, or with --distributed the worker (it
# drains first), the scheduler and redis-server, in that order. SIGTERM, then SIGKILL after 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_alive.sh
STATE="${HYDRA_STATE_DIR:-.hydra}"
stopped=0 killed=""
for name in worker dev scheduler redis; do
  PIDFILE="$STATE/$name.pid"
  [ -f "$PIDFILE" ] || continue
  PID="$(cat "$PIDFILE")"
  if ! alive "$PID"; then
    rm -f "$PIDFILE"
    continue
  fi
  kill -TERM "$PID"
  for _ in $(seq 1 150); do
    alive "$PID" || break
    sleep 0.2
  done
  if alive "$PID"; then
    kill -KILL "$PID" 2>/dev/null || true
    killed="$killed $name"
  fi
  rm -f "$PIDFILE"
  stopped=1
done
if [ "$stopped" = 0 ]; then
  echo "Hydra Jobs is not running."
elif [ -n "$killed" ]; then
  echo "Hydra Jobs stopped; did not stop in 30 s and was killed:$killed"
else
  echo "Hydra Jobs stopped."
fi
