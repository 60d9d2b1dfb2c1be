#!/usr/bin/env bash
# Backend checks: ruff (lint + format), mypy --strict, pytest, then the API suites on PostgreSQL and
# on the Redis broker. Every suite runs even when one before it failed; a summary ends the output.
# Extra arguments go to the main pytest run. Sets up what it needs: .venv and Python packages,
# redis-server (the tests start their own on free ports), a running local PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_suites.sh

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v pg_isready >/dev/null 2>&1 || need_apt+=(postgresql)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)  # verifies deploy/*.service
command -v git >/dev/null 2>&1 || need_apt+=(git)
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

API_SUITE=(tests/integration/test_api_jobs.py tests/integration/test_api_runs.py
  tests/integration/test_sse.py)
suite ruff-lint ruff check src tests bench examples
suite ruff-format ruff format --check src tests bench examples
suite mypy mypy
suite pytest python -m pytest -p no:cacheprovider "$@"
suite pytest-api-postgres env HYDRA_TEST_STORE=postgres python -m pytest -p no:cacheprovider -q \
  "${API_SUITE[@]}" tests/integration/test_ticker.py tests/integration/test_api_inputs.py \
  tests/integration/test_fuzz_api.py
suite pytest-api-redis env HYDRA_TEST_BROKER=redis python -m pytest -p no:cacheprovider -q \
  "${API_SUITE[@]}" tests/integration/test_cli.py
if [ -n "${SUITES_OWNER:-}" ]; then
  suites_summary
fi
