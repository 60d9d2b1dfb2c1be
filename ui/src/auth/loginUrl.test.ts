import { describe, expect, it, vi } from "vitest";
import { takeTokenFromUrl } from "./loginUrl";

function fake(url: string) {
  const u = new URL(url);
  const replaceState = vi.fn();
  return { location: { pathname: u.pathname, search: u.search, hash: u.hash } as Location, history: { state: null, replaceState } as unknown as History, replaceState };
}

describe("takeTokenFromUrl", () => {
  it("takes the token from the fragment and strips it", () => {
    const f = fake("http://h/jobs?x=1#token=abc");
    expect(takeTokenFromUrl(f.location, f.history)).toBe("abc");
    expect(f.replaceState).toHaveBeenCalledWith(null, "", "/jobs?x=1");
  });
  it("takes the token from the query too", () => {
    const f = fake("http://h/?token=xyz");
    expect(takeTokenFromUrl(f.location, f.history)).toBe("xyz");
    expect(f.replaceState).toHaveBeenCalledWith(null, "", "/");
  });
  it("leaves other URLs alone", () => {
    const f = fake("http://h/runs?status=failed");
    expect(takeTokenFromUrl(f.location, f.history)).toBeNull();
    expect(f.replaceState).not.toHaveBeenCalled();
  });
});
