import { describe, expect, it } from "vitest";
import { fieldForLoc, mapErrors, mergeErrors } from "./fieldErrors";

describe("validation errors to form fields", () => {
  it.each([
    [["body", "name"], "name"],
    [["body", "executor", "script"], "script"],
    [["body", "executor", "type"], "executorType"],
    [["body", "executor"], "script"],
    [["body", "schedule", "cron"], "cron"],
    [["body", "schedule", "interval_seconds"], "intervalSeconds"],
    [["body", "env", "MY_VAR"], "env"],
    [["body", "params", "day", "default"], "params"],
    [["body", "tags", 3], "tags"],
    [["body", "retries", "max_attempts"], "maxAttempts"],
    [["body", "concurrency", "max_running"], "maxRunning"],
    [["body", "timeout_seconds"], "timeoutSeconds"],
    [["body", "source", "url"], "gitUrl"],
    [["body", "source", "ref"], "gitRef"],
    [["body", "source", "path"], "gitPath"],
    [["query", "cron"], "cron"],
    [["query", "timezone"], "timezone"],
  ] as const)("%j → %s", (loc, field) => {
    expect(fieldForLoc(loc, "cron")).toBe(field);
  });

  it("leaves a source error no git field owns (an unknown key, a wrong shape) to the general list, with its path", () => {
    const mapped = mapErrors([{ loc: ["body", "source", "depth"], msg: "Extra inputs are not permitted" }], "none");
    expect(mapped.fields).toEqual({});
    expect(mapped.general).toEqual(["source.depth: Extra inputs are not permitted"]);
  });

  it("puts a whole-schedule error on the field of the schedule kind", () => {
    expect(fieldForLoc(["body", "schedule"], "cron", "a cron expression has 5 fields")).toBe("cron");
    expect(fieldForLoc(["body", "schedule"], "cron", "unknown timezone 'Mars/Base'")).toBe("timezone");
    expect(fieldForLoc(["body", "schedule"], "interval")).toBe("intervalSeconds");
    expect(fieldForLoc(["body", "schedule"], "at")).toBe("at");
  });

  it("maps a real validate report", () => {
    const errors = [
      { loc: ["body", "name"], msg: "String should match pattern '^[A-Za-z0-9]'", type: "string_pattern_mismatch" },
      { loc: ["body", "executor", "script"], msg: "Field required", type: "missing" },
      { loc: ["body", "schedule"], msg: "Value error, a cron expression has 5 fields", type: "value_error" },
      { loc: ["body", "foo"], msg: "Extra inputs are not permitted", type: "extra_forbidden" },
      { loc: ["body", "env", "A B"], msg: "bad name", type: "value_error" },
    ];
    const mapped = mapErrors(errors, "cron");
    expect(mapped.fields.name).toEqual(["String should match pattern '^[A-Za-z0-9]'"]);
    expect(mapped.fields.script).toEqual(["Field required"]);
    expect(mapped.fields.cron).toEqual(["a cron expression has 5 fields"]);
    expect(mapped.fields.env).toEqual(["A B: bad name"]);
    expect(mapped.general).toEqual(["foo: Extra inputs are not permitted"]);
    expect(mapped.all).toContain("executor.script: Field required");
    expect(mapped.all).toHaveLength(5);
  });

  it("ignores junk entries and merges two sources", () => {
    const a = mapErrors([null, "x", { loc: ["body", "name"], msg: "bad" }], "none");
    const b = mapErrors([{ loc: ["query", "cron"], msg: "worse" }, { loc: ["body", "name"], msg: "again" }], "cron");
    const merged = mergeErrors(a, b);
    expect(merged.fields.name).toEqual(["bad", "again"]);
    expect(merged.fields.cron).toEqual(["worse"]);
  });
});
