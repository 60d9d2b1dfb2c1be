import { describe, expect, it } from "vitest";
import { applySgr, parseAnsiLine, PLAIN, stripAnsi } from "./ansi";
import { colorCss, sgrStyle } from "./ansiStyle";

describe("ANSI SGR parsing", () => {
  it("leaves plain text alone", () => {
    const parsed = parseAnsiLine("hello <b>world</b>");
    expect(parsed.segments).toEqual([{ text: "hello <b>world</b>", state: PLAIN }]);
    expect(parsed.end).toBe(PLAIN);
  });

  it("splits coloured text into styled segments", () => {
    const parsed = parseAnsiLine("ok \x1b[1;32mPASS\x1b[0m done");
    expect(parsed.text).toBe("ok PASS done");
    expect(parsed.segments.map((s) => s.text)).toEqual(["ok ", "PASS", " done"]);
    expect(parsed.segments[1]?.state).toMatchObject({ bold: true, fg: { kind: "index", n: 2 } });
    expect(parsed.segments[2]?.state).toEqual(PLAIN);
  });

  it("reads 256-colour, true-colour, bright and background codes", () => {
    expect(applySgr(PLAIN, "38;5;208").fg).toEqual({ kind: "index", n: 208 });
    expect(applySgr(PLAIN, "48;2;10;20;300").bg).toEqual({ kind: "rgb", r: 10, g: 20, b: 255 });
    expect(applySgr(PLAIN, "91").fg).toEqual({ kind: "index", n: 9 });
    expect(applySgr(PLAIN, "104").bg).toEqual({ kind: "index", n: 12 });
    expect(applySgr(applySgr(PLAIN, "31;44"), "39;49")).toEqual(PLAIN);
    expect(applySgr(PLAIN, "")).toEqual(PLAIN);
    expect(applySgr(PLAIN, "3;4;7;9")).toMatchObject({ italic: true, underline: true, inverse: true, strike: true });
    expect(applySgr(applySgr(PLAIN, "1;2"), "22")).toMatchObject({ bold: false, dim: false });
  });

  it("carries style across lines through the start state", () => {
    const first = parseAnsiLine("\x1b[31mred starts");
    const second = parseAnsiLine("still red\x1b[0m", first.end);
    expect(second.segments[0]?.state.fg).toEqual({ kind: "index", n: 1 });
    expect(second.end).toEqual(PLAIN);
  });

  it("drops non-SGR escapes and control characters", () => {
    expect(parseAnsiLine("a\x1b[2Kb\x1b[1Ac\x1b]0;title\x07d\x07e\x00f\x1b(Bg").text).toBe("abcdefg");
    expect(parseAnsiLine("tab\tkept").text).toBe("tab\tkept");
    expect(parseAnsiLine("dangling \x1b").text).toBe("dangling ");
  });

  it("applies carriage returns like a terminal progress bar", () => {
    expect(parseAnsiLine("10%\r50%\r100%").text).toBe("100%");
    expect(parseAnsiLine("windows line\r").text).toBe("windows line");
    const parsed = parseAnsiLine("\x1b[33m10%\r\x1b[1mdone");
    expect(parsed.segments).toHaveLength(1);
    expect(parsed.segments[0]?.state).toMatchObject({ bold: true, fg: { kind: "index", n: 3 } });
  });

  it("never interprets markup: HTML stays text", () => {
    const parsed = parseAnsiLine("\x1b[31m<img src=x onerror=alert(1)>\x1b[0m");
    expect(parsed.text).toBe("<img src=x onerror=alert(1)>");
  });

  it("strips a whole log", () => {
    expect(stripAnsi("\x1b[32mok\x1b[0m\nnext\r\n")).toBe("ok\nnext\n");
  });
});

describe("ANSI styles", () => {
  it("maps colours to CSS from numbers only", () => {
    expect(colorCss({ kind: "index", n: 1 })).toBe("#cd3131");
    expect(colorCss({ kind: "index", n: 196 })).toBe("rgb(255, 0, 0)");
    expect(colorCss({ kind: "index", n: 244 })).toBe("rgb(128, 128, 128)");
    expect(colorCss({ kind: "rgb", r: 1, g: 2, b: 3 })).toBe("rgb(1, 2, 3)");
  });

  it("builds React style objects", () => {
    expect(sgrStyle(PLAIN)).toBeUndefined();
    expect(sgrStyle(applySgr(PLAIN, "1;31"))).toEqual({ color: "#f14c4c", fontWeight: 700 });
    expect(sgrStyle(applySgr(PLAIN, "4;9"))).toEqual({ textDecoration: "underline line-through" });
    expect(sgrStyle(applySgr(PLAIN, "7"))).toEqual({ color: "#0f1419", backgroundColor: "#d4d4d4" });
  });
});
