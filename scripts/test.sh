#!/usr/bin/env bash
# Backend checks: ruff (lint + format), mypy --strict, pytest, then the API suite on PostgreSQL.
# Extra arguments go to the main pytest run. Sets up what it needs: .venv and Python packages,
# redis-server (the tests start their own on free ports), a running local PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v pg_isready >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]} (Debian)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "==> starting the local PostgreSQL server"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi

echo "==> ruff"
ruff check src tests bench examples
ruff format --check src tests bench examples
echo "==> mypy"
mypy
echo "==> pytest (SQLite store, PostgreSQL contract suite)"
python -m pytest -p no:cacheprovider "$@"
echo "==> pytest: the API suite on PostgreSQL"
HYDRA_TEST_STORE=postgres python -m pytest -p no:cacheprovider -q \
  tests/integration/test_api_jobs.py tests/integration/test_api_runs.py \
  tests/integration/test_sse.py tests/integration/test_ticker.py \
  tests/integration/test_api_inputs.py tests/integration/test_fuzz_api.py
echo "==> pytest: the API suite on the Redis broker"
HYDRA_TEST_BROKER=redis python -m pytest -p no:cacheprovider -q \
  tests/integration/test_api_jobs.py tests/integration/test_api_runs.py \
  tests/integration/test_sse.py tests/integration/test_cli.py
