import { describe, expect, it } from "vitest";
import { SseParser } from "./sseParser";

describe("SseParser", () => {
  it("parses events with names, ids and JSON data", () => {
    const p = new SseParser();
    const events = p.push('event: run\ndata: {"a": 1}\nid: e-1\n\nevent: ready\ndata: {}\n\n');
    expect(events).toEqual([
      { event: "run", data: '{"a": 1}', id: "e-1" },
      { event: "ready", data: "{}", id: "e-1" },
    ]);
    expect(p.lastEventId).toBe("e-1");
  });

  it("handles chunks split anywhere, including inside CRLF", () => {
    const text = "event: log\r\ndata: {\"offset\": 0, \"data\": \"x\"}\r\nid: 1\r\n\r\nevent: end\r\ndata: {}\r\nid: 1\r\n\r\n";
    for (let size = 1; size <= 7; size++) {
      const p = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...p.push(text.slice(i, i + size)));
      expect(events.map((e) => e.event)).toEqual(["log", "end"]);
      expect(events[0]?.data).toBe('{"offset": 0, "data": "x"}');
      expect(events[0]?.id).toBe("1");
    }
  });

  it("joins multi-line data, counts keepalive comments, ignores unknown fields", () => {
    const p = new SseParser();
    const events = p.push(": ping\n\ndata: a\ndata: b\nfoo: bar\n\n: ping\n\n");
    expect(events).toEqual([{ event: "message", data: "a\nb", id: null }]);
    expect(p.comments).toBe(2);
  });

  it("keeps an incomplete event until its blank line arrives", () => {
    const p = new SseParser();
    expect(p.push("event: run\ndata: {}")).toEqual([]);
    expect(p.push("\n")).toEqual([]);
    expect(p.push("\n")).toEqual([{ event: "run", data: "{}", id: null }]);
  });

  it("reads retry, takes a field with no colon, and strips only one leading space", () => {
    const p = new SseParser();
    const events = p.push("retry: 1500\ndata\n\ndata:  two spaces\n\n");
    expect(p.retryMs).toBe(1500);
    expect(events).toEqual([
      { event: "message", data: "", id: null },
      { event: "message", data: " two spaces", id: null },
    ]);
  });
});

describe("SseParser on what reconnecting depends on", () => {
  it("keeps the last id across events without one, and an empty id clears it (WHATWG)", () => {
    const p = new SseParser();
    const events = p.push("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
    expect(events.map((e) => e.id)).toEqual(["7", "7", ""]);
    expect(p.lastEventId).toBe("");
  });

  it("takes bare CR line ends, a CR at a chunk's end", () => {
    const p = new SseParser();
    const events = [...p.push("event: run\rdata: 1\r"), ...p.push("\r"), ...p.push("data: 2\r\n\r\n")];
    expect(events).toEqual([
      { event: "run", data: "1", id: null },
      { event: "message", data: "2", id: null },
    ]);
  });

  it("ignores a retry that is not a number and ids with NUL", () => {
    const p = new SseParser();
    expect(p.push("retry: soon\nid: a\0b\ndata: x\n\n")).toEqual([{ event: "message", data: "x", id: null }]);
    expect(p.retryMs).toBeNull();
  });
});
