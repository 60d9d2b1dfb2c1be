import { describe, expect, it } from "vitest";
import { LogBuffer, splitMatches } from "./logBuffer";

describe("LogBuffer", () => {
  it("joins lines split across chunks and counts an unterminated last line", () => {
    const b = new LogBuffer();
    b.append("line-1\nli");
    expect(b.lineCount).toBe(2);
    expect(b.line(1)?.text).toBe("li");
    b.append("ne-2\nline-3\n");
    expect(b.lineCount).toBe(3);
    expect([0, 1, 2].map((i) => b.line(i)?.text)).toEqual(["line-1", "line-2", "line-3"]);
    expect(b.line(3)).toBeNull();
    expect(b.size).toBe(21);
  });

  it("carries colour state from one line to the next", () => {
    const b = new LogBuffer();
    b.append("\x1b[31mred\nstill red\x1b[0m\nplain\n");
    expect(b.parsed(1)?.segments[0]?.state.fg).toEqual({ kind: "index", n: 1 });
    expect(b.parsed(2)?.segments[0]?.state.fg).toBeNull();
  });

  it("carries colour state into a partial line and keeps it when the line completes", () => {
    const b = new LogBuffer();
    b.append("\x1b[32mgreen\npart");
    expect(b.parsed(1)?.segments[0]?.state.fg).toEqual({ kind: "index", n: 2 });
    b.append("ial\n");
    expect(b.line(1)?.text).toBe("partial");
    expect(b.parsed(1)?.segments[0]?.state.fg).toEqual({ kind: "index", n: 2 });
  });

  it("searches display text case-insensitively, ignoring escapes", () => {
    const b = new LogBuffer();
    b.append("alpha\n\x1b[1mERR\x1b[0mOR here\nbeta\nerror again");
    expect(b.search("error")).toEqual([1, 3]);
    expect(b.search("")).toEqual([]);
    expect(b.search("\x1b")).toEqual([]);
  });

  it("downloads display text", () => {
    const b = new LogBuffer();
    b.append("\x1b[31mone\x1b[0m\ntwo\nthr");
    expect(b.plainText()).toBe("one\ntwo\nthr");
    const ended = new LogBuffer();
    ended.append("a\nb\n");
    expect(ended.plainText()).toBe("a\nb\n");
  });

  it("holds 100,000 lines and searches them quickly", () => {
    const b = new LogBuffer();
    const chunk = Array.from({ length: 1000 }, (_, i) => `\x1b[3${i % 8}mline ${i}\x1b[0m`).join("\n") + "\n";
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) b.append(chunk);
    expect(b.lineCount).toBe(100_000);
    expect(b.search("line 999")).toHaveLength(100);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe("splitMatches", () => {
  it("marks every case-insensitive occurrence", () => {
    expect(splitMatches("Error: error!", "error")).toEqual([
      ["Error", true],
      [": ", false],
      ["error", true],
      ["!", false],
    ]);
    expect(splitMatches("abc", "")).toEqual([["abc", false]]);
    expect(splitMatches("aaa", "aa")).toEqual([
      ["aa", true],
      ["a", false],
    ]);
  });
});
