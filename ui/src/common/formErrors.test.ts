import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors";
import { formErrors } from "./formErrors";

const FIELDS = ["name", "description"] as const;

describe("formErrors", () => {
  it("puts 422 errors at the field their loc names", () => {
    const error = new ApiError(422, [
      { loc: ["body", "name"], msg: "String should match pattern '^[a-z0-9][a-z0-9_-]{0,63}$'", type: "string_pattern_mismatch" },
      { loc: ["body", "description"], msg: "String should have at most 1000 characters", type: "too_long" },
      { loc: ["body", "extra"], msg: "Extra inputs are not permitted", type: "extra_forbidden" },
    ]);
    expect(formErrors(error, FIELDS, "name")).toEqual({
      fields: { name: ["String should match pattern '^[a-z0-9][a-z0-9_-]{0,63}$'"], description: ["String should have at most 1000 characters"] },
      general: ["extra: Extra inputs are not permitted"],
    });
  });
  it("puts a 409 at the conflicting field", () => {
    expect(formErrors(new ApiError(409, "domain 'ops' already exists"), FIELDS, "name")).toEqual({ fields: { name: ["domain 'ops' already exists"] }, general: [] });
  });
  it("keeps anything else general, and nothing for no error", () => {
    expect(formErrors(new ApiError(403, "this needs the admin token"), FIELDS, "name")).toEqual({ fields: {}, general: ["this needs the admin token"] });
    expect(formErrors(null, FIELDS)).toEqual({ fields: {}, general: [] });
  });
});
