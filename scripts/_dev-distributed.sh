#!/usr/bin/env bash
# `./scripts/dev-up.sh --distributed`: distributed mode on this machine, each part its own process
# with its pid file and log in STATE: redis.*, scheduler.*, worker.* (the previous start's logs are
# kept as *.log.1). The worker holds only a token of the default domain (made once, kept in
# STATE/data/dev_worker_token), never the admin token. ./scripts/dev-down.sh stops them all.
# Called by dev-up.sh with the venv active: STATE HOST PORT.
set -euo pipefail
STATE="$1" HOST="$2" PORT="$3"
source "$(dirname "$0")/_alive.sh"
REDIS_PORT="${HYDRA_REDIS_PORT:-6380}"
REDIS_SERVER="${HYDRA_REDIS_SERVER:-redis-server}"  # a name on PATH or a path
if ! command -v "$REDIS_SERVER" >/dev/null 2>&1; then
  echo "error: --distributed needs redis-server, which is not installed ($REDIS_SERVER):" >&2
  echo "  Debian/Ubuntu: sudo apt-get install redis-server    macOS: brew install redis" >&2
  echo "(or run ./scripts/dev-up.sh without --distributed: embedded mode needs no Redis)" >&2
  exit 1
fi

# start NAME CMD...: CMD in the background, its output in STATE/NAME.log, its pid in STATE/NAME.pid.
start() {
  local name="$1"; shift
  if [ -f "$STATE/$name.log" ]; then mv "$STATE/$name.log" "$STATE/$name.log.1"; fi
  nohup "$@" > "$STATE/$name.log" 2>&1 &
  echo $! > "$STATE/$name.pid"
}

# wait_until NAME WHAT CMD...: poll CMD for 30 s; fail with NAME's log if NAME dies or time runs out.
wait_until() {
  local name="$1" what="$2"; shift 2
  for _ in $(seq 1 150); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! alive "$(cat "$STATE/$name.pid")"; then
      echo "error: $name failed to start; its log ($STATE/$name.log):" >&2
      cat "$STATE/$name.log" >&2
      "$(dirname "$0")/dev-down.sh" >/dev/null
      exit 1
    fi
    sleep 0.2
  done
  echo "error: $what within 30 s; see $STATE/$name.log" >&2
  "$(dirname "$0")/dev-down.sh" >/dev/null
  exit 1
}

export HYDRA_DATA_DIR
mkdir -p "$HYDRA_DATA_DIR" "$STATE/redis" "$STATE/worker"
if [ -z "${ADMIN_TOKEN:-}" ]; then
  if [ ! -s "$HYDRA_DATA_DIR/admin_token" ]; then
    python -c 'import secrets; print(secrets.token_urlsafe(32))' > "$HYDRA_DATA_DIR/admin_token"
    NEW_TOKEN=1
  fi
  ADMIN_TOKEN="$(cat "$HYDRA_DATA_DIR/admin_token")"
fi
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
URL="http://$HOST:$PORT"

start redis "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STATE/redis" \
  --appendonly yes --save "" --daemonize no
wait_until redis "redis-server did not answer on port $REDIS_PORT" \
  sh -c "redis-cli -p '$REDIS_PORT' ping | grep -q PONG"  # redis-cli comes with redis-server

start scheduler env ADMIN_TOKEN="$ADMIN_TOKEN" REDIS_URL="$REDIS_URL" \
  hydra-jobs scheduler --host "$HOST" --port "$PORT"
wait_until scheduler "the scheduler did not answer on $URL" curl -fsS "$URL/readyz"

TOKEN_FILE="$HYDRA_DATA_DIR/dev_worker_token"
if [ ! -s "$TOKEN_FILE" ]; then
  if ! hydra-jobs tokens create --domain default dev-worker --url "$URL" --token "$ADMIN_TOKEN" \
    > "$TOKEN_FILE.new" 2> "$STATE/token.err"; then
    cat "$STATE/token.err" >&2
    "$(dirname "$0")/dev-down.sh" >/dev/null
    exit 1
  fi
  mv "$TOKEN_FILE.new" "$TOKEN_FILE"
  rm -f "$STATE/token.err"
fi
start worker env -u ADMIN_TOKEN API_TOKEN="$(cat "$TOKEN_FILE")" REDIS_URL="$REDIS_URL" \
  HYDRA_DATA_DIR="$STATE/worker" hydra-jobs worker --name dev-worker
# It prints this line once its token is accepted and it takes runs.
wait_until worker "the worker did not start" grep -q "Hydra Jobs worker dev-worker-" "$STATE/worker.log"

if [ -n "${NEW_TOKEN:-}" ]; then
  echo "Admin token (shown once, stored in $HYDRA_DATA_DIR/admin_token):"
  echo "  $ADMIN_TOKEN"
fi
echo "Hydra Jobs is up (distributed): $URL"
printf '  %-13s pid %-8s %-30s log %s\n' \
  redis-server "$(cat "$STATE/redis.pid")" "redis://127.0.0.1:$REDIS_PORT" "$STATE/redis.log" \
  scheduler "$(cat "$STATE/scheduler.pid")" "$URL" "$STATE/scheduler.log" \
  worker "$(cat "$STATE/worker.pid")" "domain default" "$STATE/worker.log"
echo "Stop: ./scripts/dev-down.sh   CLI: .venv/bin/hydra-jobs jobs --url $URL"
