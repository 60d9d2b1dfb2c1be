#!/usr/bin/env bash
# Stop what ./scripts/dev-up.sh started: `hydra-jobs up`, or with --distributed the worker (it
# drains first), the scheduler and redis-server, in that order. SIGTERM, then SIGKILL after 30 s.
# Before the part that runs the jobs stops, it says how long running runs get to finish.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_alive.sh
STATE="${HYDRA_STATE_DIR:-.hydra}"
stopped=0 killed=""

# setting NAME: its value in what dev-up.sh recorded at the start (empty if unknown).
setting() {
  grep -m1 "^$1=" "$STATE/dev.settings" 2>/dev/null | cut -d= -f2- || true
}

# How many runs are running, in every domain, asked of the API with the admin token dev-up.sh
# stored; nothing when that cannot be known (no token there, another one's, no python3).
running_runs() {
  local url token dir
  url="$(setting url)"
  dir="$(setting HYDRA_DATA_DIR)"
  token=""
  [ -z "$dir" ] || token="$(cat "$dir/admin_token" 2>/dev/null || true)"
  token="${token:-${ADMIN_TOKEN:-}}"
  [ -n "$url" ] && [ -n "$token" ] || return 0
  HYDRA_TOKEN="$token" python3 - "$url" 2>/dev/null <<'PY' || true
import json, os, sys, urllib.request
# No proxy from the environment: the admin token goes to this machine's server and nowhere else.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(path, domain="default"):
    headers = {"Authorization": f"Bearer {os.environ['HYDRA_TOKEN']}", "X-Hydra-Domain": domain}
    request = urllib.request.Request(sys.argv[1] + "/api/v1" + path, headers=headers)
    with opener.open(request, timeout=3) as answer:
        return json.load(answer)["items"]
domains = [domain["name"] for domain in get("/domains")]
print(sum(len(get("/runs?status=running&limit=500", name)) for name in domains))
PY
}

# Said before stopping `up` or the worker: the drain grace is spent in silence otherwise.
say_drain() {
  local running grace
  running="$(running_runs)"
  [ "$running" != 0 ] || return 0
  grace="$(setting drain_grace)"
  echo "stopping: running runs${running:+ ($running)} get up to ${grace:-10} s to finish" \
    "(HYDRA_DRAIN_GRACE_SECONDS); what is still running then is marked lost"
}

for name in worker dev scheduler redis; do
  PIDFILE="$STATE/$name.pid"
  [ -f "$PIDFILE" ] || continue
  PID="$(cat "$PIDFILE")"
  if ! alive "$PID"; then
    rm -f "$PIDFILE"
    continue
  fi
  if [ "$name" = dev ] || [ "$name" = worker ]; then say_drain; fi
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
rm -f "$STATE/dev.settings"
if [ "$stopped" = 0 ]; then
  echo "Hydra Jobs is not running."
elif [ -n "$killed" ]; then
  echo "Hydra Jobs stopped; did not stop in 30 s and was killed:$killed"
else
  echo "Hydra Jobs stopped."
fi
