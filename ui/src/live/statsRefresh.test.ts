import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CoalescedRefetch } from "./statsRefresh";

describe("CoalescedRefetch", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function slowFetch(ms: number) {
    const starts: number[] = [];
    const fetch = vi.fn(() => {
      starts.push(Date.now());
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    });
    return { fetch, starts };
  }

  it("turns a burst of changes into one request a second, and one more after the last", async () => {
    const { fetch, starts } = slowFetch(100);
    const refetch = new CoalescedRefetch(fetch, 1_000);
    const t0 = Date.now();
    for (let i = 0; i < 500; i++) {
      refetch.request();
      await vi.advanceTimersByTimeAsync(10); // 500 events over 5 s
    }
    await vi.advanceTimersByTimeAsync(3_000);
    expect(fetch.mock.calls.length).toBeGreaterThanOrEqual(5);
    expect(fetch.mock.calls.length).toBeLessThanOrEqual(7);
    for (let i = 1; i < starts.length; i++) expect((starts[i] ?? 0) - (starts[i - 1] ?? 0)).toBeGreaterThanOrEqual(1_000);
    // The last request started after the last change (at t0 + 4990 ms).
    expect(starts[starts.length - 1] ?? 0).toBeGreaterThanOrEqual(t0 + 4_990);
  });

  it("never starts a request while one is on its way, and follows it with one if asked meanwhile", async () => {
    const { fetch, starts } = slowFetch(3_000); // slower than the gap: a loaded server
    const refetch = new CoalescedRefetch(fetch, 1_000);
    refetch.request();
    await vi.advanceTimersByTimeAsync(500);
    refetch.request(); // while the first is on its way
    refetch.request();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts).toHaveLength(2);
    const gap = (starts[1] ?? 0) - (starts[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(3_000);
    expect(gap).toBeLessThan(3_050); // right after the first came back
  });

  it("a failed request does not stop later ones", async () => {
    const fetch = vi.fn().mockRejectedValueOnce(new Error("down")).mockResolvedValue(undefined);
    const refetch = new CoalescedRefetch(fetch, 1_000);
    refetch.request();
    await vi.advanceTimersByTimeAsync(10);
    refetch.request();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it("asks nothing after cancel", async () => {
    const fetch = vi.fn(() => Promise.resolve());
    const refetch = new CoalescedRefetch(fetch, 1_000);
    refetch.cancel();
    refetch.request();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fetch).not.toHaveBeenCalled();
  });
});
