/**
 * The dashboard numbers' refresh after live events: coalesced, never cancelled, never lost.
 *
 * Every run event may change the counts, and a burst brings hundreds a second. The old refresh
 * invalidated the stats every 2 s, which cancels a request still on its way: on a loaded server
 * whose answers took longer than that, no answer ever arrived, and a page could keep showing the
 * numbers from before a burst (issue 19). Here at most one request is in flight, they start at
 * least `minGapMs` apart, and a change seen while one is in flight is followed by one more
 * request once it is back: the last event is always followed by a fresh read.
 */
export class CoalescedRefetch {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  private dirty = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly refetch: () => Promise<unknown>,
    private readonly minGapMs = 1_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Something changed: read again soon. */
  request(): void {
    this.dirty = true;
    this.arm();
  }

  cancel(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.stopped || this.timer !== null || this.inFlight || !this.dirty) return;
    const wait = Math.max(0, this.lastStart + this.minGapMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.fire();
    }, wait);
  }

  private async fire(): Promise<void> {
    this.dirty = false;
    this.inFlight = true;
    this.lastStart = this.now();
    try {
      await this.refetch();
    } catch {
      // The query shows its own error; a later change asks again.
    } finally {
      this.inFlight = false;
      this.arm();
    }
  }
}
