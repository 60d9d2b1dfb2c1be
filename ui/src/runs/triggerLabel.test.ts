import { describe, expect, it } from "vitest";
import { triggerLabel } from "./triggerLabel";

describe("triggerLabel", () => {
  it("tells retries by hand from the policy's", () => {
    expect(triggerLabel({ trigger: "retry", retry_of: "a" })).toBe("retry (automatic)");
    expect(triggerLabel({ trigger: "manual", retry_of: "a" })).toBe("retry (by hand)");
    expect(triggerLabel({ trigger: "api", retry_of: "a" })).toBe("retry (by the API)");
  });
  it("says first attempts as they came", () => {
    expect(triggerLabel({ trigger: "schedule", retry_of: null })).toBe("schedule");
    expect(triggerLabel({ trigger: "manual" })).toBe("manual");
  });
});
