#!/usr/bin/env bash
# Renew requirements/dev.txt, the lock file every script and CI installs from: the newest versions
# that pyproject.toml's ranges allow today, for every extra, with hashes, for every platform.
# Renewing is a deliberate change: run this, then ./scripts/test-all.sh, and commit the lock alone
# with what changed in its message. ./scripts/test-latest.sh tries the newest versions without
# touching the lock. Extra arguments go to `uv pip compile` (e.g. --upgrade-package redis).
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION="0.13.9"
TOOLS=".venv-tools"
if [ ! -x "$TOOLS/bin/uv" ] || [ "$("$TOOLS/bin/uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
"$TOOLS/bin/uv" pip compile pyproject.toml requirements/build.in \
  --all-extras --universal --python-version 3.11 --generate-hashes --upgrade \
  --custom-compile-command ./scripts/lock.sh -o requirements/dev.txt "$@"
echo "==> requirements/dev.txt renewed; run ./scripts/test-all.sh, then commit it on its own"
