#!/usr/bin/env bash
# Start a Hydra Jobs worker (distributed mode) in this terminal; Ctrl-C or SIGTERM drains it.
#   REDIS_URL=redis://host:6379/0 API_TOKEN=hw1.... ./scripts/worker-up.sh [--queues a,b] [--concurrency N] [--tags k=v] [--name NAME]
# API_TOKEN is the worker token of WORKER_DOMAIN (default: default); print it on a scheduler host
# with `hydra-jobs worker-token --domain DOMAIN`. The worker needs Redis only, never the database.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
if [ -z "${REDIS_URL:-}" ]; then
  echo "error: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)" >&2
  exit 1
fi
if [ -z "${API_TOKEN:-}" ] && [ -z "${ADMIN_TOKEN:-}" ]; then
  echo "error: set API_TOKEN to the worker token (hydra-jobs worker-token --domain ${WORKER_DOMAIN:-default})" >&2
  exit 1
fi
exec hydra-jobs worker "$@"
