#!/usr/bin/env bash
# Web UI checks, with all set-up done here (fresh Debian machine): Debian's chromium if missing,
# npm ci, generated API types up to date, typecheck, eslint, vitest, production build, then the
# Playwright browser tests against a real `hydra-jobs up` (needs .venv, made by scripts/test.sh).
# Ends with the e2e summary line "N passed, M failed". Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
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

step "generated API types match openapi.json"
FRESH="$(mktemp --suffix=.d.ts)"
npx openapi-typescript openapi.json -o "$FRESH" >/dev/null 2>&1
if ! cmp -s "$FRESH" src/api/schema.d.ts; then
  echo "error: ui/src/api/schema.d.ts is stale vs ui/openapi.json: run \`npm run gen:api\` in ui/ and commit it" >&2
  rm -f "$FRESH"
  exit 1
fi
rm -f "$FRESH"
# Informational: the committed schema against what the backend generates now (the lead refreshes it).
if "$HYDRA_JOBS_BIN" openapi > /tmp/hydra-openapi.$$.json 2>/dev/null; then
  if ! python3 - "$UI/openapi.json" /tmp/hydra-openapi.$$.json <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
  then
    echo "note: ui/openapi.json differs from \`hydra-jobs openapi\` (the backend moved on; refresh it and run npm run gen:api)"
  fi
  rm -f /tmp/hydra-openapi.$$.json
fi

step "typecheck (tsc --noEmit)"
npm run --silent typecheck

step "eslint"
npm run --silent lint

step "vitest"
npx vitest run

step "build"
npm run --silent build

step "playwright (Debian chromium, real hydra-jobs up)"
echo "(set-up and unit checks took $((SECONDS - START)) s)"
# The Playwright summary reporter prints the closing line: "N passed, M failed".
exec npx playwright test
