#!/usr/bin/env bash
# Backend checks: ruff (lint + format), mypy --strict, pytest. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
echo "==> ruff"
ruff check src tests bench examples
ruff format --check src tests bench examples
echo "==> mypy"
mypy
echo "==> pytest"
python -m pytest -p no:cacheprovider "$@"
