import { describe, expect, it } from "vitest";
import { mergePatch } from "./mergePatch";

describe("mergePatch (RFC 7386)", () => {
  it("merges objects, removes nulls and replaces the rest", () => {
    const spec = { name: "a", timeout_seconds: 10, executor: { type: "shell", script: "x" }, tags: ["t"] };
    expect(mergePatch(spec, { timeout_seconds: 20, executor: { script: "y" }, tags: null })).toEqual({
      name: "a",
      timeout_seconds: 20,
      executor: { type: "shell", script: "y" },
    });
    expect(spec.timeout_seconds).toBe(10); // the target is not changed
  });

  it("replaces arrays and non-objects whole", () => {
    expect(mergePatch({ tags: ["a", "b"] }, { tags: ["c"] })).toEqual({ tags: ["c"] });
    expect(mergePatch({ a: 1 }, "x")).toBe("x");
    expect(mergePatch("x", { a: { b: 1 } })).toEqual({ a: { b: 1 } });
  });
});
