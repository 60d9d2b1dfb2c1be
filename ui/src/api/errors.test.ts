import { describe, expect, it } from "vitest";
import { ApiError, errorText, formatDetail, formatLoc } from "./errors";

describe("API errors in words", () => {
  it("formats 422 detail lists as 'field: message'", () => {
    const detail = [
      { loc: ["body", "executor", "script"], msg: "Field required", type: "missing" },
      { loc: ["body", "tags", 2], msg: "String too long", type: "string_too_long" },
      { loc: ["query", "cron"], msg: "Value error, bad cron", type: "value_error" },
    ];
    expect(formatDetail(detail)).toBe("executor.script: Field required; tags[2]: String too long; cron: bad cron");
  });

  it("keeps string details and describes bare statuses", () => {
    expect(new ApiError(409, "run already finished").message).toBe("run already finished");
    expect(new ApiError(404, null).message).toBe("Not found");
    expect(new ApiError(503, "no AI provider is configured: set GEMINI_API_KEY or OPENAI_API_KEY").message).toMatch(/GEMINI_API_KEY/);
    expect(errorText(new Error("x"))).toBe("x");
  });

  it("formats locations", () => {
    expect(formatLoc(["body", "name"])).toBe("name");
    expect(formatLoc(["params", "day", "default"])).toBe("params.day.default");
    expect(formatLoc([])).toBe("");
  });
});
