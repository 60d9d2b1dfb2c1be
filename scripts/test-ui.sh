#!/usr/bin/env bash
# Web UI checks, with all set-up done here (fresh Debian machine): Debian's chromium if missing,
# npm ci, generated API types up to date, typecheck, eslint, vitest, production build and its split,
# then the Playwright browser tests against a real `hydra-jobs up` (needs .venv, made by scripts/test.sh).
# Every check runs even when one before it failed; a summary ends the output. Exits non-zero on any
# failure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/_suites.sh"
UI="$ROOT/ui"
export HYDRA_JOBS_BIN="${HYDRA_JOBS_BIN:-$ROOT/.venv/bin/hydra-jobs}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CI="${CI:-}"
START=$SECONDS

step() { printf '==> %s (%ds)\n' "$1" "$((SECONDS - START))"; }

if [ ! -x "$CHROMIUM_PATH" ]; then
  step "installing Debian's chromium"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -x "$HYDRA_JOBS_BIN" ]; then
  echo "error: $HYDRA_JOBS_BIN is missing; run ./scripts/test.sh first (it creates .venv)" >&2
  exit 1
fi

cd "$UI"
step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

# The committed TypeScript types are the ones openapi-typescript makes from ui/openapi.json (which
# tests/unit/test_openapi_current.py holds to the backend's schema).
api_types_current() {
  local fresh; fresh="$(mktemp --suffix=.d.ts)"
  npx openapi-typescript openapi.json -o "$fresh" >/dev/null 2>&1
  if ! cmp -s "$fresh" src/api/schema.d.ts; then
    echo "error: ui/src/api/schema.d.ts is stale vs ui/openapi.json: run \`npm run gen:api\` in ui/ and commit it" >&2
    rm -f "$fresh"
    return 1
  fi
  rm -f "$fresh"
}

suite ui-api-types api_types_current
suite ui-typecheck npm run --silent typecheck
suite ui-eslint npm run --silent lint
suite ui-vitest npx vitest run
suite ui-build npm run --silent build
# The shell every page loads first stays free of what only some pages show (selects, tables, editor).
suite ui-bundle npm run --silent bundle-report -- --check
echo "(set-up and unit checks took $((SECONDS - START)) s)"
# The Playwright summary reporter prints the closing line: "N passed, M failed".
suite ui-playwright npx playwright test
if [ -n "${SUITES_OWNER:-}" ]; then
  suites_summary
fi
