#!/usr/bin/env bash
# Everything CI checks: backend checks and tests, then the web UI's unit and browser tests.
# Sets up what it needs itself: .venv, Python packages, npm packages, Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/test.sh
if [ -f ui/package.json ]; then
  ./scripts/test-ui.sh
fi
echo "==> all checks passed"
