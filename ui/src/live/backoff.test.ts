import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "./backoff";

describe("backoffDelay", () => {
  const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
  it("doubles from the initial delay and caps", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(noJitter, n, 0.5))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
  });
  it("spreads by ± jitter", () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 1, 0)).toBe(800);
    expect(backoffDelay(DEFAULT_BACKOFF, 1, 0.5)).toBe(1000);
    expect(backoffDelay(DEFAULT_BACKOFF, 1, 0.999999)).toBe(1200);
  });
});
