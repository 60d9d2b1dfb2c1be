# Sourced by the other scripts: make sure .venv exists with the package and its dev tools.
# Every package comes from requirements/dev.txt, the lock file: exact versions with hashes, so a
# fresh clone installs today what CI installed (scripts/lock.sh renews it, in a commit of its own).
# Reinstalls only when the lock file or pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HYDRA_VENV:-$ROOT/.venv}"
LOCK="$ROOT/requirements/dev.txt"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Hydra Jobs needs Python 3.11 or newer ($PY is $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment in ${VENV#"$ROOT"/}"
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.hydra-installed"
EXTRAS="dev,postgres,redis,mongo,ai"
WANT="$(cat "$LOCK" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1) ${HYDRA_UNLOCKED:-}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
  if [ -n "${HYDRA_UNLOCKED:-}" ]; then
    # scripts/test-latest.sh: the newest versions pyproject.toml allows, as `pip install` gives.
    echo "==> installing hydra-jobs with the newest versions its ranges allow (not the lock)"
    "${PIP[@]}" install --quiet --upgrade --upgrade-strategy eager -e "$ROOT[$EXTRAS]"
  else
    echo "==> installing hydra-jobs and its locked dependencies (requirements/dev.txt)"
    "${PIP[@]}" install --quiet --require-hashes --no-deps -r "$LOCK"
    # The project itself: its dependencies are all in the lock, and so is its build back end.
    "${PIP[@]}" install --quiet --no-deps --no-build-isolation -e "$ROOT"
  fi
  "${PIP[@]}" check >/dev/null || { "${PIP[@]}" check >&2; exit 1; }
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
