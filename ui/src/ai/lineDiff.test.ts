import { describe, expect, it } from "vitest";
import { hasChanges, lineDiff } from "./lineDiff";

describe("lineDiff", () => {
  it("marks removed and added lines around common ones", () => {
    const before = ["{", '  "name": "a",', '  "timeout_seconds": 10', "}"].join("\n");
    const after = ["{", '  "name": "a",', '  "timeout_seconds": 20', "}"].join("\n");
    expect(lineDiff(before, after)).toEqual([
      { kind: "same", text: "{" },
      { kind: "same", text: '  "name": "a",' },
      { kind: "removed", text: '  "timeout_seconds": 10' },
      { kind: "added", text: '  "timeout_seconds": 20' },
      { kind: "same", text: "}" },
    ]);
  });

  it("handles insertions at the ends and no change", () => {
    expect(lineDiff("a\nb", "x\na\nb\ny").map((l) => l.kind)).toEqual(["added", "same", "same", "added"]);
    expect(hasChanges(lineDiff("a\nb", "a\nb"))).toBe(false);
    expect(hasChanges(lineDiff("a", "b"))).toBe(true);
  });
});
