import { describe, expect, it } from "vitest";
import { cronToWords, describeCron } from "./cronToWords";

describe("cronToWords", () => {
  it.each([
    ["* * * * *", "Every minute"],
    ["*/5 * * * *", "Every 5 minutes"],
    ["0 * * * *", "Every hour"],
    ["30 * * * *", "At 30 minutes past the hour"],
    ["15,45 * * * *", "At 15 and 45 minutes past the hour"],
    ["0 2 * * *", "At 02:00"],
    ["30 1 * * 1-5", "At 01:30, Monday through Friday"],
    ["0 9,17 * * *", "At 09:00 and 17:00"],
    ["0 0 1 * *", "At 00:00, on day 1 of the month"],
    ["0 0 1,15 * *", "At 00:00, on day 1 and 15 of the month"],
    ["0 0 1 1 *", "At 00:00, on day 1 of the month, only in January"],
    ["0 */2 * * *", "On the hour, every 2 hours"],
    ["*/10 9-17 * * MON-FRI", "Every 10 minutes, between 09:00 and 17:59, Monday through Friday"],
    ["0 12 * * 0", "At 12:00, only on Sunday"],
    ["0 12 * * 7", "At 12:00, only on Sunday"],
    ["0 12 * * 1,3,5", "At 12:00, only on Monday, Wednesday, and Friday"],
    ["0 6 * JAN-MAR *", "At 06:00, January through March"],
    ["0 6 * */3 *", "At 06:00, every 3 months"],
    ["0 0 */2 * *", "At 00:00, every 2 days in a month"],
    ["0 0 13 * 5", "At 00:00, on day 13 of the month, and on Friday"],
    ["5 0 * 8 *", "At 00:05, only in August"],
  ])("%s → %s", (cron, words) => {
    expect(cronToWords(cron)).toBe(words);
  });

  it("reads six fields with seconds first", () => {
    expect(cronToWords("*/10 * * * * *")).toBe("Every 10 seconds");
    expect(cronToWords("30 0 2 * * *")).toBe("At 02:00:30");
    expect(cronToWords("0 0 2 * * *")).toBe("At 02:00");
    expect(cronToWords("*/15 * 9 * * *")).toBe("Every 15 seconds, between 09:00 and 09:59");
  });

  it("expands the macros the server knows", () => {
    expect(cronToWords("@daily")).toBe("At 00:00");
    expect(cronToWords("@midnight")).toBe("At 00:00");
    expect(cronToWords("@hourly")).toBe("Every hour");
    expect(cronToWords("@weekly")).toBe("At 00:00, only on Sunday");
    expect(cronToWords("@monthly")).toBe("At 00:00, on day 1 of the month");
    expect(cronToWords("@yearly")).toBe("At 00:00, on day 1 of the month, only in January");
    expect(cronToWords("@ANNUALLY")).toBe("At 00:00, on day 1 of the month, only in January");
  });

  it("describes the rest of the server's syntax: ?, a/n, a-b/n, names in any case, 7 as Sunday", () => {
    expect(cronToWords("0 0 ? * MON")).toBe("At 00:00, only on Monday");
    expect(cronToWords("0 0 1 * ?")).toBe("At 00:00, on day 1 of the month");
    expect(cronToWords("5/15 * * * *")).toBe("Every 15 minutes, starting at 5 minutes past the hour");
    expect(cronToWords("1-10/2 * * * *")).toBe("Every 2 minutes, minutes 1 through 10 past the hour");
    expect(cronToWords("0 9-17/2 * * *")).toBe("On the hour, every 2 hours, between 09:00 and 17:00");
    expect(cronToWords("0 0 * * sun")).toBe("At 00:00, only on Sunday");
    expect(cronToWords("0 0 * * 5-7")).toBe("At 00:00, Friday through Sunday");
    expect(cronToWords("0 0 * * 0-7")).toBe("At 00:00, Sunday through Saturday");
    expect(cronToWords("*/60 * * * *")).toBe("Every 60 minutes");
  });

  it("gives back, as written, what the server would refuse", () => {
    for (const refused of [
      "bad",
      "61 * * * *",
      "0 25 * * *",
      "0 0 32 * *",
      "0 0 * 13 *",
      "0 0 * * 8",
      "0 0 L * *", // cronstrue reads these, the server does not
      "0 0 1W * *",
      "0 0 * * 5L",
      "0 0 * * 1#2",
      "0 0 * * SAT-SUN", // backwards
      "0 0 * * 5-0",
      "*/0 * * * *",
      "*/61 * * * *",
      "0 0 */32 * *",
      "? * * * *", // ? only in the day fields
      "0 0 ?/2 * *",
      "0 0 1,,2 * *",
      "1 2 3 4 5 6 7", // a year field
      "@reboot",
      "@every 5m",
      "",
    ]) {
      expect(describeCron(refused), refused).toBeNull();
      expect(cronToWords(refused)).toBe(refused);
    }
  });

  it("tolerates extra whitespace", () => {
    expect(cronToWords("  0  2 * *   * ")).toBe("At 02:00");
  });
});
