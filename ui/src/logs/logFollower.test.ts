import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeFetch, jsonResponse } from "../test/fakeFetch";
import { LogFollower, type LogEnd } from "./logFollower";

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

function setup() {
  const fake = new FakeFetch();
  const chunks: Array<[string, number]> = [];
  const ends: LogEnd[] = [];
  const errors: unknown[] = [];
  const follower = new LogFollower({
    fetch: fake.fetch,
    url: "/api/v1/runs/r1/logs/stream",
    headers: () => ({ Authorization: "Bearer x" }),
    onData: (text, offset) => chunks.push([text, offset]),
    onEnd: (end) => ends.push(end),
    onError: (e) => errors.push(e),
    backoff: { initialMs: 500, maxMs: 4000, factor: 2, jitter: 0 },
    random: () => 0.5,
  });
  return { fake, follower, chunks, ends, errors };
}

describe("LogFollower", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("appends log events and stops at end", async () => {
    const { fake, follower, chunks, ends } = setup();
    const s = fake.nextStream();
    follower.start();
    await tick();
    s.push('event: log\ndata: {"offset": 0, "data": "line-1\\n"}\nid: 7\n\n');
    s.push('event: log\ndata: {"offset": 7, "data": "line-2\\n"}\nid: 14\n\n');
    s.push('event: end\ndata: {"status": "succeeded", "exit_code": 0, "truncated": false}\nid: 14\n\n');
    s.close();
    await tick(10_000);
    expect(chunks).toEqual([
      ["line-1\n", 0],
      ["line-2\n", 7],
    ]);
    expect(ends).toEqual([{ status: "succeeded", exit_code: 0, truncated: false }]);
    expect(fake.calls).toHaveLength(1);
  });

  it("resumes from the last id after a drop: no gap, no repeat", async () => {
    const { fake, follower, chunks, ends } = setup();
    const first = fake.nextStream();
    follower.start();
    await tick();
    first.push('event: log\ndata: {"offset": 0, "data": "abc"}\nid: 3\n\n');
    await tick();
    first.close();
    const second = fake.nextStream();
    await tick(500);
    expect(fake.calls[1]?.headers["last-event-id"]).toBe("3");
    // A server that replays a little too much must not duplicate text.
    second.push('event: log\ndata: {"offset": 1, "data": "bcdef"}\nid: 6\n\n');
    second.push('event: end\ndata: {"status": "failed", "exit_code": 3}\n\n');
    await tick();
    expect(chunks.map(([t]) => t).join("")).toBe("abcdef");
    expect(ends[0]).toEqual({ status: "failed", exit_code: 3, truncated: false });
    expect(follower.offset).toBe(6);
  });

  it("retries network errors with backoff and gives up on 404", async () => {
    const { fake, follower, errors } = setup();
    fake.nextNetworkError();
    follower.start();
    await tick();
    expect(errors).toHaveLength(1);
    fake.nextResponse(jsonResponse(404, { detail: "run not found" }));
    await tick(500);
    expect(fake.calls).toHaveLength(2);
    await tick(60_000);
    expect(fake.calls).toHaveLength(2);
  });

  it("stop() ends following", async () => {
    const { fake, follower } = setup();
    const s = fake.nextStream();
    follower.start();
    await tick();
    follower.stop();
    s.close();
    await tick(60_000);
    expect(fake.calls).toHaveLength(1);
  });
});
