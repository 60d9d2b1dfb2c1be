import { describe, expect, it } from "vitest";
import { niceMax, ticks } from "./scale";

describe("chart scales", () => {
  it("rounds up to nice numbers", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(13)).toBe(20);
    expect(niceMax(230)).toBe(250);
    expect(niceMax(0.4)).toBeCloseTo(0.5);
  });
  it("spaces ticks", () => {
    expect(ticks(20)).toEqual([0, 5, 10, 15, 20]);
  });
});
