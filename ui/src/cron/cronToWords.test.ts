import { describe, expect, it } from "vitest";
import { cronToWords } from "./cronToWords";

describe("cronToWords", () => {
  it.each([
    ["* * * * *", "Every minute"],
    ["*/5 * * * *", "Every 5 minutes"],
    ["0 * * * *", "Every hour"],
    ["30 * * * *", "At minute 30 past every hour"],
    ["15,45 * * * *", "At minutes 15 and 45 past every hour"],
    ["0 2 * * *", "At 02:00 every day"],
    ["30 1 * * 1-5", "At 01:30 on Monday through Friday"],
    ["0 9,17 * * *", "At 09:00 and 17:00 every day"],
    ["0 0 1 * *", "At 00:00 on day 1 of the month"],
    ["0 0 1,15 * *", "At 00:00 on days 1 and 15 of the month"],
    ["0 0 1 1 *", "At 00:00 on day 1 of the month in January"],
    ["0 */2 * * *", "At minute 0 past every 2 hours"],
    ["*/10 9-17 * * MON-FRI", "Every 10 minutes from 09:00 through 17:59 on Monday through Friday"],
    ["0 12 * * 0", "At 12:00 on Sunday"],
    ["0 12 * * 7", "At 12:00 on Sunday"],
    ["0 12 * * 1,3,5", "At 12:00 on Monday, Wednesday and Friday"],
    ["0 6 * JAN-MAR *", "At 06:00 in January through March"],
    ["0 6 * */3 *", "At 06:00 every 3 months"],
    ["0 0 */2 * *", "At 00:00 every 2 days"],
    ["0 0 13 * 5", "At 00:00 on day 13 of the month or on Friday"],
    ["5 0 * 8 *", "At 00:05 in August"],
  ])("%s → %s", (cron, words) => {
    expect(cronToWords(cron)).toBe(words);
  });

  it("reads six fields with seconds first", () => {
    expect(cronToWords("*/10 * * * * *")).toBe("Every 10 seconds");
    expect(cronToWords("30 0 2 * * *")).toBe("At 02:00:30 every day");
    expect(cronToWords("0 0 2 * * *")).toBe("At 02:00 every day");
    expect(cronToWords("*/15 * 9 * * *")).toBe("Every 15 seconds, every minute from 09:00 through 09:59");
  });

  it("expands macros", () => {
    expect(cronToWords("@daily")).toBe("At 00:00 every day");
    expect(cronToWords("@hourly")).toBe("Every hour");
    expect(cronToWords("@weekly")).toBe("At 00:00 on Sunday");
    expect(cronToWords("@yearly")).toBe("At 00:00 on day 1 of the month in January");
  });

  it("gives back what it cannot read", () => {
    expect(cronToWords("bad")).toBe("bad");
    expect(cronToWords("61 * * * *")).toBe("61 * * * *");
    expect(cronToWords("0 0 L * *")).toBe("0 0 L * *");
    expect(cronToWords("0 0 1W * *")).toBe("0 0 1W * *");
    expect(cronToWords("*/0 * * * *")).toBe("*/0 * * * *");
    expect(cronToWords("")).toBe("");
  });

  it("tolerates extra whitespace", () => {
    expect(cronToWords("  0  2 * *   * ")).toBe("At 02:00 every day");
  });
});
