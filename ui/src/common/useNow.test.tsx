// @vitest-environment jsdom
import { render } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useNow } from "./useNow";

function Clock({ enabled = true }: { enabled?: boolean }) {
  const now = useNow(1000, enabled);
  return <span>{now}</span>;
}

describe("useNow", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs one timer for every component of an interval, and none for those not ticking", () => {
    const setInterval = vi.spyOn(globalThis, "setInterval");
    const view = render(
      <>
        {Array.from({ length: 50 }, (_, i) => (
          <Clock key={i} />
        ))}
        <Clock enabled={false} />
      </>,
    );
    expect(setInterval).toHaveBeenCalledTimes(1);
    view.unmount();
    expect(vi.getTimerCount()).toBe(0);
  });
});
