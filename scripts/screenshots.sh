#!/usr/bin/env bash
# Renew the README's screenshots (docs/dashboard.png, docs/run-live.png): runs the two browser tests
# that take them against a real `hydra-jobs up`, with HYDRA_DOCS_SCREENSHOTS=1 so they copy their
# pictures into docs/. The test suites never do this, so a test run leaves tracked files alone.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source scripts/_venv.sh
export HYDRA_JOBS_BIN="$ROOT/.venv/bin/hydra-jobs" CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 HYDRA_DOCS_SCREENSHOTS=1
cd ui
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
npx playwright test e2e/02-job-editor.spec.ts e2e/06-live-and-tour.spec.ts
git -C "$ROOT" status --short docs/
