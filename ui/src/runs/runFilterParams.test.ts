import { describe, expect, it } from "vitest";
import { filterFromParams, paramsFromFilter } from "./runFilterParams";

describe("run filter in the URL", () => {
  it("round-trips", () => {
    const filter = { statuses: ["failed", "lost"], jobId: "j1", workerId: "w1", since: "2026-01-01T00:00:00.000Z", until: "2026-01-02T00:00:00.000Z" };
    expect(filterFromParams(paramsFromFilter(filter))).toEqual(filter);
  });
  it("drops junk", () => {
    expect(filterFromParams(new URLSearchParams("status=nope&since=yesterday&status=running"))).toEqual({ statuses: ["running"] });
  });
});
