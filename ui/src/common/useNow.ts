/**
 * The current time, re-rendering every `intervalMs` (for "5 s ago" labels and running durations).
 *
 * One timer per interval for the whole page, not one per component: a table of 50 "… ago" cells
 * used to run 50 timers, each re-rendering its cell at its own moment. `enabled: false` stops the
 * ticking (a table with no unfinished run has no duration that changes).
 */
import { useEffect, useState } from "react";

interface Clock {
  listeners: Set<(now: number) => void>;
  timer: ReturnType<typeof setInterval> | null;
}

const clocks = new Map<number, Clock>();

function subscribe(intervalMs: number, listener: (now: number) => void): () => void {
  let clock = clocks.get(intervalMs);
  if (!clock) {
    clock = { listeners: new Set(), timer: null };
    clocks.set(intervalMs, clock);
  }
  const c = clock;
  c.listeners.add(listener);
  if (c.timer === null) {
    // Every listener gets the same instant in the same task: React renders them in one pass.
    c.timer = setInterval(() => {
      const now = Date.now();
      for (const l of c.listeners) l(now);
    }, intervalMs);
  }
  return () => {
    c.listeners.delete(listener);
    if (c.listeners.size === 0 && c.timer !== null) {
      clearInterval(c.timer);
      c.timer = null;
    }
  };
}

export function useNow(intervalMs = 1000, enabled = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return;
    return subscribe(intervalMs, setNow);
  }, [intervalMs, enabled]);
  return now;
}
