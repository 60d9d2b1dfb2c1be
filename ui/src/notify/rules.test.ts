import { describe, expect, it } from "vitest";
import { emptyRule, rowsToRules, rulesToRows } from "./rules";

describe("alert rules as rows", () => {
  it("round-trips a rule and writes only the options that are set", () => {
    const rules = [{ channel: "ops", on: ["failed", "recovered"], after_failures: 3, realert_seconds: 600 }];
    const rows = rulesToRows(rules);
    expect(rows[0]).toMatchObject({ channel: "ops", on: ["failed", "recovered"], afterFailures: 3, realertSeconds: 600, longerThanSeconds: null });
    expect(rowsToRules(rows, rules)).toEqual(rules);
  });

  it("keeps fields the form does not know and drops rows without a channel", () => {
    const previous = [{ channel: "ops", on: ["failed"], future_option: true }];
    const rows = [{ ...emptyRule("ops"), on: ["failed" as const], afterFailures: 2 }, emptyRule()];
    expect(rowsToRules(rows, previous)).toEqual([{ channel: "ops", on: ["failed"], future_option: true, after_failures: 2 }]);
  });

  it("reads anything defensively", () => {
    expect(rulesToRows("nope")).toEqual([]);
    expect(rulesToRows([1, { on: ["failed", "bogus", 3] }])).toMatchObject([{ channel: "", on: ["failed"] }]);
  });

  it("removes an option that was cleared", () => {
    const previous = [{ channel: "ops", on: ["too_fast"], shorter_than_seconds: 5 }];
    const rows = rulesToRows(previous).map((row) => ({ ...row, shorterThanSeconds: null }));
    expect(rowsToRules(rows, previous)).toEqual([{ channel: "ops", on: ["too_fast"] }]);
  });
});
