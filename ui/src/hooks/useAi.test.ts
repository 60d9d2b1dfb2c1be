import { describe, expect, it } from "vitest";
import { answerText } from "./useAi";

describe("answerText", () => {
  it("turns an AI answer into text", () => {
    expect(answerText("plain")).toBe("plain");
    expect(answerText({ analysis: "<b>cause</b>" })).toBe("<b>cause</b>");
    expect(answerText({ other: 1 })).toBe('{\n  "other": 1\n}');
  });
});
