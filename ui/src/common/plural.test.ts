import { describe, expect, it } from "vitest";
import { plural } from "./plural";

describe("plural", () => {
  it("says one thing in the singular, none or many in the plural", () => {
    expect(plural(1, "line")).toBe("1 line");
    expect(plural(0, "line")).toBe("0 lines");
    expect(plural(2, "line")).toBe("2 lines");
    expect(plural(12_345, "line")).toBe("12,345 lines");
  });
  it("takes an irregular plural", () => {
    expect(plural(1, "match", "matches")).toBe("1 match");
    expect(plural(3, "match", "matches")).toBe("3 matches");
  });
});
