#!/usr/bin/env bash
# Start a Hydra Jobs worker (distributed mode) in this terminal; Ctrl-C or SIGTERM drains it.
#   REDIS_URL=redis://host:6379/0 API_TOKEN=hjt_... ./scripts/worker-up.sh [--queues a,b] [--concurrency N] [--tags k=v] [--name NAME]
# API_TOKEN is a token of WORKER_DOMAIN (default: default); an admin creates one with
# `hydra-jobs tokens create --domain DOMAIN NAME` (or in the UI). The worker needs Redis only,
# never the database; it refuses to start with a token that is unknown, revoked or of another domain.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
if [ -z "${REDIS_URL:-}" ]; then
  echo "error: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)" >&2
  exit 1
fi
if [ -z "${API_TOKEN:-}" ] && [ -z "${ADMIN_TOKEN:-}" ]; then
  echo "error: set API_TOKEN to a token of domain ${WORKER_DOMAIN:-default} (hydra-jobs tokens create --domain ${WORKER_DOMAIN:-default} NAME)" >&2
  exit 1
fi
exec hydra-jobs worker "$@"
