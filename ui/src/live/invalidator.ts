/** Batches cache invalidations: a burst of events refetches each query once, not once per event. */
import type { QueryClient, QueryKey } from "@tanstack/react-query";

interface Pending {
  queryKey: QueryKey;
  exact: boolean;
}

export class Invalidator {
  private readonly pending = new Map<number, Map<string, Pending>>();
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(private readonly client: QueryClient) {}

  /** Invalidate `queryKey` within `delayMs`, merged with every other request of the same delay. */
  schedule(queryKey: QueryKey, delayMs: number, exact = false): void {
    let batch = this.pending.get(delayMs);
    if (!batch) {
      batch = new Map();
      this.pending.set(delayMs, batch);
    }
    batch.set(JSON.stringify([queryKey, exact]), { queryKey, exact });
    if (!this.timers.has(delayMs)) {
      this.timers.set(
        delayMs,
        setTimeout(() => this.flush(delayMs), delayMs),
      );
    }
  }

  private flush(delayMs: number): void {
    this.timers.delete(delayMs);
    const batch = this.pending.get(delayMs);
    this.pending.delete(delayMs);
    for (const { queryKey, exact } of batch?.values() ?? []) {
      void this.client.invalidateQueries({ queryKey, exact });
    }
  }

  cancel(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }
}
