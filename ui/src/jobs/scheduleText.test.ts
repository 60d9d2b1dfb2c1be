import { describe, expect, it } from "vitest";
import { intervalWords, scheduleWords } from "./scheduleText";

describe("schedule in words", () => {
  it("describes each kind", () => {
    expect(scheduleWords(null)).toBe("Manual only");
    expect(scheduleWords({ cron: "0 2 * * *", timezone: "Europe/Berlin" })).toBe("At 02:00 (Europe/Berlin)");
    expect(scheduleWords({ cron: "*/5 * * * *" })).toBe("Every 5 minutes (UTC)");
    expect(scheduleWords({ interval_seconds: 300 })).toBe("Every 5 minutes");
    expect(scheduleWords({ at: "2030-01-01T00:00:00Z" })).toMatch(/^Once, /);
  });
  it("describes intervals", () => {
    expect(intervalWords(30)).toBe("Every 30 seconds");
    expect(intervalWords(3600)).toBe("Every hour");
    expect(intervalWords(7200)).toBe("Every 2 hours");
    expect(intervalWords(86400 * 2)).toBe("Every 2 days");
    expect(intervalWords(90)).toBe("Every 1 m 30 s");
  });
});
