#!/usr/bin/env bash
# Everything CI checks: backend checks and tests, then the web UI's unit and browser tests.
# Sets up what it needs itself: .venv, Python packages, npm packages, Debian's chromium.
# Every suite runs even when one before it failed; one summary with each suite's counts ends the
# output, and the exit status is non-zero if anything failed. Tests must leave tracked files as they
# found them: that is checked too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_suites.sh
tracked_before="$(git status --porcelain --untracked-files=no 2>/dev/null || true)"
# Each script records its suites; one that stops in its set-up (no venv, no npm packages) is a
# failed suite of its own, and the rest still runs.
set_up_failed() { printf '%s\t1\t0\t0 0 0\n' "$1" >> "$HYDRA_SUITE_RESULTS"; }
./scripts/test.sh || set_up_failed backend-set-up
if [ -f ui/package.json ]; then
  ./scripts/test-ui.sh || set_up_failed ui-set-up
fi
tracked_files_untouched() {
  local after; after="$(git status --porcelain --untracked-files=no 2>/dev/null || true)"
  if [ "$after" != "$tracked_before" ]; then
    echo "error: the tests changed tracked files:" >&2
    diff <(echo "$tracked_before") <(echo "$after") >&2 || true
    return 1
  fi
  echo "tracked files unchanged"
}
suite tracked-files-untouched tracked_files_untouched
suites_summary
