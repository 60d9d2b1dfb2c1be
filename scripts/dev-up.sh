#!/usr/bin/env bash
# Run Hydra Jobs in embedded mode (API + UI + scheduler + local worker, SQLite) on port 8000.
#   ./scripts/dev-up.sh                start in the background; ./scripts/dev-down.sh stops it
#   ./scripts/dev-up.sh --foreground   run in this terminal (Ctrl-C stops it)
#   ./scripts/dev-up.sh --distributed  the full local stack as separate processes: a private
#                                      redis-server, one `hydra-jobs scheduler`, one worker
# Honours HYDRA_PORT, HYDRA_HOST, HYDRA_DATA_DIR (default .hydra/data), HYDRA_CONCURRENCY, ADMIN_TOKEN,
# HYDRA_STATE_DIR (default .hydra: pid files and logs; the previous start's logs are kept as *.log.1),
# and with --distributed HYDRA_REDIS_PORT (default 6380), HYDRA_REDIS_SERVER (default redis-server on
# PATH) and DATABASE_URL (default SQLite in the data dir).
# What a start was given is kept in STATE/dev.settings: a second dev-up.sh says where the running
# one listens, and refuses (exit 1) when it asks for HYDRA_* settings the running one lacks;
# dev-down.sh reads it too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_alive.sh
umask 077  # the log shows the admin token the first time; the data dir holds token hashes
mkdir -p "${HYDRA_STATE_DIR:-.hydra}"
STATE="$(cd "${HYDRA_STATE_DIR:-.hydra}" && pwd)"

# The HYDRA_* settings of `up` (config.py) and of --distributed given to this call, as NAME=VALUE
# lines, then drain_grace=SECONDS (from the environment and .env, as `up` will read it).
given_settings() {
  python - <<'PY'
import os
from hydra_jobs.config import Settings
names = {f.alias for f in Settings.model_fields.values() if (f.alias or "").startswith("HYDRA_")}
names |= {"HYDRA_REDIS_PORT", "HYDRA_REDIS_SERVER"}
names.discard("HYDRA_DOMAIN")  # the CLI's
given = {name: os.environ[name] for name in names if os.environ.get(name)}
if "HYDRA_DATA_DIR" in given:  # relative to here, where `up` runs
    given["HYDRA_DATA_DIR"] = os.path.abspath(given["HYDRA_DATA_DIR"])
for name in sorted(given):
    print(f"{name}={given[name]}")
try:
    print(f"drain_grace={Settings().drain_grace_seconds:g}")
except ValueError:
    pass  # a setting `up` refuses: it will say which
PY
}
GIVEN="$(given_settings)"  # before the defaults below: what this call asks for
export HYDRA_DATA_DIR="${HYDRA_DATA_DIR:-$STATE/data}"
# The log shows a generated admin token: confined jobs (Landlock) must not reach it either.
export HYDRA_CONFINE_HIDE="$STATE${HYDRA_CONFINE_HIDE:+:$HYDRA_CONFINE_HIDE}"
PORT="${HYDRA_PORT:-8000}"
HOST="${HYDRA_HOST:-127.0.0.1}"

if [ -d ui ] && [ -f ui/package.json ] && [ "${HYDRA_SKIP_UI:-0}" != 1 ]; then
  if command -v npm >/dev/null 2>&1; then
    if [ ! -f ui/dist/index.html ] || [ -n "$(find ui/src ui/index.html ui/package.json -newer ui/dist/index.html 2>/dev/null | head -1)" ]; then
      echo "==> building the web UI"
      (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run build --silent)
    fi
  else
    echo "note: npm not found; starting without the web UI (API only)" >&2
  fi
fi

if [ "${1:-}" = "--foreground" ]; then
  exec hydra-jobs up --host "$HOST" --port "$PORT"
fi

# record MODE: what the instance starting now was given, and the defaults it got.
record() {
  {
    echo "url=http://$HOST:$PORT"
    echo "mode=$1"
    printf '%s\n' "$GIVEN"
    grep -q '^HYDRA_HOST=' <<<"$GIVEN" || echo "HYDRA_HOST=$HOST"
    grep -q '^HYDRA_PORT=' <<<"$GIVEN" || echo "HYDRA_PORT=$PORT"
    grep -q '^HYDRA_DATA_DIR=' <<<"$GIVEN" || echo "HYDRA_DATA_DIR=$HYDRA_DATA_DIR"
  } > "$STATE/dev.settings"
}

# The names of the settings given now that the running instance was not started with (only
# names: HYDRA_HEARTBEAT_URL is a secret).
not_applied() {
  local line
  while IFS= read -r line; do
    case "$line" in HYDRA_*) ;; *) continue ;; esac
    grep -qxF -- "$line" "$STATE/dev.settings" || printf ' %s' "${line%%=*}"
  done <<<"$GIVEN"
  if [ "${1:-}" = --distributed ] && ! grep -qx 'mode=distributed' "$STATE/dev.settings"; then
    printf ' --distributed'
  fi
}

for name in dev scheduler worker redis; do
  if [ -f "$STATE/$name.pid" ] && alive "$(cat "$STATE/$name.pid")"; then
    running="pid $(cat "$STATE/$name.pid")"
    if [ ! -f "$STATE/dev.settings" ]; then  # started by an older dev-up.sh: its settings are unknown
      echo "Hydra Jobs is already running ($running); ./scripts/dev-down.sh stops it."
      exit 0
    fi
    echo "Hydra Jobs is already running at $(sed -n 's/^url=//p' "$STATE/dev.settings") ($running); ./scripts/dev-down.sh stops it."
    differ="$(not_applied "${1:-}")"
    if [ -n "$differ" ]; then
      echo "error: NOT applied:$differ (the running Hydra Jobs was started without these values)." >&2
      echo "To start it with them: ./scripts/dev-down.sh first, then this command again." >&2
      exit 1
    fi
    exit 0
  fi
done

if [ "${1:-}" = "--distributed" ]; then
  record distributed
  exec scripts/_dev-distributed.sh "$STATE" "$HOST" "$PORT"
fi
# A port another server holds would answer the health check below for a `up` that died at
# once with "Address already in use": say so before starting anything.
if ! python - "$HOST" "$PORT" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    sock.bind((host, port))
except OSError as exc:
    sys.exit(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}")
PY
then
  echo "(another process uses port $PORT? choose another: HYDRA_PORT=8001 ./scripts/dev-up.sh)" >&2
  exit 1
fi
if [ -f "$STATE/dev.log" ]; then mv "$STATE/dev.log" "$STATE/dev.log.1"; fi
nohup hydra-jobs up --host "$HOST" --port "$PORT" > "$STATE/dev.log" 2>&1 &
echo $! > "$STATE/dev.pid"
record embedded
for _ in $(seq 1 150); do
  # Ours must still be alive when the port answers (it could have lost the port in a race).
  if alive "$(cat "$STATE/dev.pid")" \
    && curl -fsS "http://$HOST:$PORT/healthz" >/dev/null 2>&1 \
    && alive "$(cat "$STATE/dev.pid")"; then
    cat "$STATE/dev.log"
    echo "Hydra Jobs is up: http://$HOST:$PORT  (log: $STATE/dev.log, stop: ./scripts/dev-down.sh)"
    echo "CLI: .venv/bin/hydra-jobs jobs --url http://$HOST:$PORT   (run from here: it finds the admin token in $HYDRA_DATA_DIR)"
    exit 0
  fi
  if ! alive "$(cat "$STATE/dev.pid")"; then
    echo "error: Hydra Jobs failed to start; its log:" >&2
    cat "$STATE/dev.log" >&2
    echo "(port $PORT taken? HYDRA_PORT=8001 ./scripts/dev-up.sh)" >&2
    exit 1
  fi
  sleep 0.2
done
echo "error: Hydra Jobs did not answer on port $PORT within 30 s; see $STATE/dev.log" >&2
exit 1
