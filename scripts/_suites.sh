# Sourced by test.sh, test-ui.sh and test-all.sh: run each suite to its end even when an earlier one
# failed, remember its outcome and counts, and print one summary at the end.
#   suite NAME CMD...   runs CMD, its output shown as usual and kept in $SUITE_LOGS/NAME.log
#   suites_summary      prints one line per suite and the closing "total: N passed, N failed";
#                       returns non-zero when any suite failed
# A script run on its own keeps its results to itself; under test-all.sh, HYDRA_SUITE_RESULTS
# names one shared file, so the summary covers every script.
SUITE_LOGS="${SUITE_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/hydra-suites.XXXXXX")}"
export SUITE_LOGS
if [ -z "${HYDRA_SUITE_RESULTS:-}" ]; then
  HYDRA_SUITE_RESULTS="$SUITE_LOGS/results.tsv"
  SUITES_OWNER=1
  : > "$HYDRA_SUITE_RESULTS"
fi
export HYDRA_SUITE_RESULTS

# "12 passed, 1 failed, 3 skipped" from the last summary line of pytest, vitest or Playwright.
_suite_counts() {
  python3 - "$1" <<'PY'
import re, sys
text = re.sub(r"\x1b\[[0-9;]*m", "", open(sys.argv[1], errors="replace").read())
counts = {"passed": 0, "failed": 0, "skipped": 0}
# pytest: "=== 3 failed, 120 passed, 2 skipped in 40.1s ==="; Playwright's reporter: "7 passed, 0 failed"
lines = [l for l in text.splitlines() if re.search(r"\d+ (passed|failed)", l)]
vitest = [l for l in text.splitlines() if re.match(r"\s*Tests\s+\d", l)]
for line in vitest[-1:] or lines[-1:]:
    for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", line):
        key = "failed" if word.startswith("error") else word
        counts[key] += int(n)
skipped = re.findall(r"^(\d+) skipped$", text, re.M)  # Playwright's reporter says skips apart
if skipped and not counts["skipped"]:
    counts["skipped"] = int(skipped[-1])
print(counts["passed"], counts["failed"], counts["skipped"])
PY
}

suite() {
  local name="$1"; shift
  local log="$SUITE_LOGS/$name.log" started=$SECONDS rc=0
  echo "==> $name"
  "$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
  local counts; counts="$(_suite_counts "$log")"
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - started))" "$counts" >> "$HYDRA_SUITE_RESULTS"
  [ "$rc" -eq 0 ] || echo "==> $name FAILED (exit $rc); going on with the other suites"
  return 0
}

suites_summary() {
  python3 - "$HYDRA_SUITE_RESULTS" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print("\n==> summary")
total = [0, 0, 0]
bad = 0
for name, rc, secs, counts in rows:
    p, f, s = (int(x) for x in counts.split())
    if rc != "0" and f == 0:
        f = 1  # a check that failed without counting tests (lint, a crash) still failed
    bad += rc != "0"
    total = [total[0] + p, total[1] + f, total[2] + s]
    state = "ok    " if rc == "0" else "FAILED"
    tests = f"{p} passed, {f} failed, {s} skipped" if p or f or s else ""
    print(f"  {state} {name:<28} {int(secs):>5}s  {tests}")
print(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
sys.exit(1 if bad else 0)
PY
}
