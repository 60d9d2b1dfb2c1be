import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeFetch, jsonResponse } from "../test/fakeFetch";
import { ApiError } from "../api/errors";
import { EventStream, unreachable, type ConnectionState } from "./eventStream";

function setup(failuresBeforePolling = 3) {
  const fake = new FakeFetch();
  const events: Array<[string, unknown]> = [];
  const states: ConnectionState[] = [];
  const onReset = vi.fn();
  const onUnauthorized = vi.fn();
  const stream = new EventStream({
    url: "/api/v1/events?types=run,job,worker",
    fetch: fake.fetch,
    headers: () => ({ Authorization: "Bearer t0k3n", "X-Hydra-Domain": "ops" }),
    onEvent: (name, data) => events.push([name, data]),
    onReset,
    onUnauthorized,
    backoff: { initialMs: 1000, maxMs: 8000, factor: 2, jitter: 0 },
    failuresBeforePolling,
    idleTimeoutMs: 45_000,
    random: () => 0.5,
  });
  stream.subscribe((s) => states.push(s));
  return { fake, stream, events, states, onReset, onUnauthorized };
}

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

describe("EventStream", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("connects with the session headers, goes live on ready and hands over events", async () => {
    const { fake, stream, events, states } = setup();
    const s = fake.nextStream();
    stream.start();
    await tick();
    expect(fake.calls[0]?.url).toBe("/api/v1/events?types=run,job,worker");
    expect(fake.calls[0]?.headers.authorization).toBe("Bearer t0k3n");
    expect(fake.calls[0]?.headers["x-hydra-domain"]).toBe("ops");
    expect(fake.calls[0]?.headers["last-event-id"]).toBeUndefined();
    expect(stream.getState()).toBe("connecting");

    s.push('event: ready\ndata: {"domain": "ops"}\n\n');
    s.push('event: run\ndata: {"type": "run", "run": {"id": "r1"}}\nid: ep-7\n\n: ping\n\n');
    await tick();
    expect(stream.getState()).toBe("live");
    expect(events).toEqual([["run", { type: "run", run: { id: "r1" } }]]);
    expect(stream.resumeId).toBe("ep-7");
    expect(states).toEqual(["connecting", "live"]);
    stream.stop();
  });

  it("reconnects after the stream drops, with backoff and Last-Event-ID", async () => {
    const { fake, stream } = setup();
    const first = fake.nextStream();
    stream.start();
    await tick();
    first.push("event: ready\ndata: {}\n\nevent: job\ndata: {}\nid: ep-12\n\n");
    await tick();
    first.close();
    await tick();
    expect(stream.getState()).toBe("reconnecting");
    expect(fake.calls).toHaveLength(1);

    const second = fake.nextStream();
    await tick(999);
    expect(fake.calls).toHaveLength(1);
    await tick(1);
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[1]?.headers["last-event-id"]).toBe("ep-12");
    second.push("event: ready\ndata: {}\n\n");
    await tick();
    expect(stream.getState()).toBe("live");
    expect(stream.failureCount).toBe(0);
    stream.stop();
  });

  it("backs off exponentially and falls back to polling after repeated failures, then recovers", async () => {
    const { fake, stream, states } = setup(3);
    fake.nextNetworkError();
    stream.start();
    await tick();
    expect(stream.getState()).toBe("reconnecting");

    // Delays 1 s, 2 s, 4 s, then capped at 8 s.
    const callTimes: number[] = [];
    for (const delay of [1000, 2000, 4000, 8000, 8000]) {
      fake.nextResponse(jsonResponse(503, { detail: "down" }));
      await tick(delay - 1);
      const before = fake.calls.length;
      await tick(1);
      expect(fake.calls.length).toBe(before + 1);
      callTimes.push(Date.now());
    }
    expect(stream.getState()).toBe("polling");
    expect(states).toContain("polling");

    const good = fake.nextStream();
    await tick(8000);
    good.push("event: ready\ndata: {}\n\n");
    await tick();
    expect(stream.getState()).toBe("live");
    expect(stream.failureCount).toBe(0);
    stream.stop();
  });

  it("stays 'reconnecting' below the polling threshold", async () => {
    const { fake, stream } = setup(3);
    fake.nextNetworkError();
    stream.start();
    await tick();
    fake.nextNetworkError();
    await tick(1000);
    expect(stream.failureCount).toBe(2);
    expect(stream.getState()).toBe("reconnecting");
    fake.nextNetworkError();
    await tick(2000);
    // Nothing answers: not "Polling" (the polls would fail the same way).
    expect(stream.getState()).toBe("disconnected");
    stream.stop();
  });

  it("says 'polling' only while polls get through, 'disconnected' while nothing does", async () => {
    const { fake, stream, states } = setup(2);
    // The server answers, but the stream fails (e.g. a proxy that refuses long requests).
    fake.nextResponse(jsonResponse(500, { detail: "boom" }));
    stream.start();
    await tick();
    fake.nextResponse(jsonResponse(500, { detail: "boom" }));
    await tick(1000);
    expect(stream.getState()).toBe("polling");

    // The server goes away: the polls fail, the stream cannot connect.
    stream.reportReachable(false);
    expect(stream.getState()).toBe("disconnected");
    fake.nextNetworkError();
    await tick(2000);
    expect(stream.getState()).toBe("disconnected");
    // A poll gets through again: polling; then the stream is back: live.
    stream.reportReachable(true);
    expect(stream.getState()).toBe("polling");
    fake.nextNetworkError();
    await tick(4000);
    expect(stream.getState()).toBe("disconnected");
    const good = fake.nextStream();
    await tick(8000);
    good.push("event: ready\ndata: {}\n\n");
    await tick();
    expect(stream.getState()).toBe("live");
    expect(states).toEqual(["connecting", "reconnecting", "polling", "disconnected", "polling", "disconnected", "live"]);
    // While live, a failed poll changes nothing.
    stream.reportReachable(false);
    expect(stream.getState()).toBe("live");
    stream.stop();
  });

  it("reads failures: no answer or a gateway's is out of reach, an answer is not, an abort says nothing", () => {
    expect(unreachable(new TypeError("Failed to fetch"))).toBe(true);
    expect(unreachable(new ApiError(0, null))).toBe(true);
    expect(unreachable(new ApiError(502, null))).toBe(true);
    expect(unreachable(new ApiError(504, null))).toBe(true);
    expect(unreachable(new ApiError(503, "not configured"))).toBe(false);
    expect(unreachable(new ApiError(404, null))).toBe(false);
    expect(unreachable(new DOMException("aborted", "AbortError"))).toBeNull();
  });

  it("tells whether a connection resumed or started fresh", async () => {
    const fake = new FakeFetch();
    const readies: boolean[] = [];
    const stream = new EventStream({
      url: "/e",
      fetch: fake.fetch,
      headers: () => ({}),
      onEvent: () => undefined,
      onReset: () => undefined,
      onReady: (_data, resumed) => readies.push(resumed),
      backoff: { initialMs: 1000, maxMs: 8000, factor: 2, jitter: 0 },
      random: () => 0.5,
    });
    const first = fake.nextStream();
    stream.start();
    await tick();
    first.push("event: ready\ndata: {}\n\nevent: run\ndata: {}\nid: ep-1\n\n");
    await tick();
    first.close();
    const second = fake.nextStream();
    await tick(1000);
    second.push("event: ready\ndata: {}\n\n");
    await tick();
    second.close();
    const third = fake.nextStream();
    await tick(1000);
    third.push("event: reset\ndata: {}\n\nevent: ready\ndata: {}\n\n");
    await tick();
    expect(readies).toEqual([false, true, false]);
    stream.stop();
  });

  it("passes a reset on so the cache is refetched", async () => {
    const { fake, stream, onReset } = setup();
    const s = fake.nextStream();
    stream.start();
    await tick();
    s.push('event: reset\ndata: {"reason": "cannot resume; refetch"}\n\nevent: ready\ndata: {}\n\n');
    await tick();
    expect(onReset).toHaveBeenCalledTimes(1);
    stream.stop();
  });

  it("stops on 401 instead of hammering the server", async () => {
    const { fake, stream, onUnauthorized } = setup();
    fake.nextResponse(jsonResponse(401, { detail: "invalid token" }));
    stream.start();
    await tick();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(stream.getState()).toBe("offline");
    await tick(60_000);
    expect(fake.calls).toHaveLength(1);
  });

  it("treats a silent connection as dead after the idle timeout", async () => {
    const { fake, stream } = setup();
    const s = fake.nextStream();
    stream.start();
    await tick();
    s.push("event: ready\ndata: {}\n\n");
    await tick();
    await tick(30_000);
    s.push(": ping\n\n"); // keepalive re-arms the watchdog
    await tick(30_000);
    expect(stream.getState()).toBe("live");
    fake.nextStream();
    await tick(15_000);
    expect(stream.getState()).toBe("reconnecting");
    await tick(1000);
    expect(fake.calls).toHaveLength(2);
    stream.stop();
  });

  it("restart() forgets the resume point (new domain or token)", async () => {
    const { fake, stream } = setup();
    const s = fake.nextStream();
    stream.start();
    await tick();
    s.push("event: ready\ndata: {}\n\nevent: run\ndata: {}\nid: ep-3\n\n");
    await tick();
    fake.nextStream();
    stream.restart();
    await tick();
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[1]?.headers["last-event-id"]).toBeUndefined();
    expect(fake.calls[0]?.signal?.aborted).toBe(true);
    stream.stop();
  });
});
