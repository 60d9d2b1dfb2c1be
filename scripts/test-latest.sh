#!/usr/bin/env bash
# Not part of CI: the backend checks and tests against the newest versions that pyproject.toml's
# ranges allow today (what `pip install hydra-jobs` gives a user), in .venv-latest, leaving the
# lock and .venv alone. A failure here means a range needs a bound or the code needs a change
# before the next ./scripts/lock.sh. Extra arguments go to the main pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."
export HYDRA_VENV="$PWD/.venv-latest" HYDRA_UNLOCKED=1
rm -f "$HYDRA_VENV/.hydra-installed"  # always resolve afresh: "latest" moves every day
exec ./scripts/test.sh "$@"
