import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatRelative, shortId } from "./format";

describe("format", () => {
  it("formats durations", () => {
    expect(formatDuration(450)).toBe("450 ms");
    expect(formatDuration(1234)).toBe("1.2 s");
    expect(formatDuration(65_000)).toBe("1 m 05 s");
    expect(formatDuration(2 * 3600_000 + 600_000)).toBe("2 h 10 m");
    expect(formatDuration(null)).toBe("—");
  });
  it("formats relative times", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(formatRelative("2026-01-01T00:00:10Z", now)).toBe("in 10 s");
    expect(formatRelative("2025-12-31T23:58:00Z", now)).toBe("2 m ago");
    expect(formatRelative("2026-01-01T00:00:00.5Z", now)).toBe("just now");
    expect(formatRelative(null, now)).toBe("—");
  });
  it("formats bytes and ids", () => {
    expect(formatBytes(98_869_248)).toBe("94 MiB");
    expect(formatBytes(512)).toBe("512 B");
    expect(shortId("01a2266b729270008628236e4a7ff37a")).toBe("01a2…7ff37a");
  });
});
