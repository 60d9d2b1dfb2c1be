import { describe, expect, it } from "vitest";
import { can, ROLES } from "./permissions";

describe("can", () => {
  it("lets each role do what the roles before it may, and no more", () => {
    for (const [i, role] of ROLES.entries()) {
      expect(ROLES.map((needed) => can({ isAdmin: false, role }, needed))).toEqual(ROLES.map((_, j) => j <= i));
    }
  });
  it("lets the admin do everything and leaves an unknown role to the server", () => {
    expect(can({ isAdmin: true, role: "viewer" }, "owner")).toBe(true);
    expect(can({ isAdmin: false, role: null }, "owner")).toBe(true);
    expect(can({ isAdmin: false }, "owner")).toBe(true);
  });
});
