import { describe, expect, it } from "vitest";
import { answerText } from "../hooks/useAi";
import { readCreatedToken, readDomains } from "./domainData";

describe("readers for endpoints without a published schema", () => {
  it("reads domain lists in the shapes the API may take", () => {
    expect(readDomains({ items: [{ name: "ops", description: "Ops", tokens: [{ id: "t1", name: "ci", created_at: "2026-01-01T00:00:00Z" }, { nope: 1 }] }] })).toEqual([
      { name: "ops", description: "Ops", tokens: [{ id: "t1", name: "ci", createdAt: "2026-01-01T00:00:00Z" }] },
    ]);
    expect(readDomains(["a", { name: "b" }, 3, null])).toEqual([
      { name: "a", description: null, tokens: [] },
      { name: "b", description: null, tokens: [] },
    ]);
    expect(readDomains("junk")).toEqual([]);
  });

  it("reads a created token or says there is none", () => {
    expect(readCreatedToken({ id: "t1", token: "secret" })).toEqual({ id: "t1", token: "secret" });
    expect(readCreatedToken({ token_id: "t2", secret: "s" })).toEqual({ id: "t2", token: "s" });
    expect(readCreatedToken({ id: "t3" })).toBeNull();
  });

  it("turns an AI answer into text", () => {
    expect(answerText("plain")).toBe("plain");
    expect(answerText({ analysis: "<b>cause</b>" })).toBe("<b>cause</b>");
    expect(answerText({ other: 1 })).toBe('{\n  "other": 1\n}');
  });
});
