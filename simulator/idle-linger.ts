/**
 * When the model thread, out of work, naps (wakes by itself, so the host's posts need not wake
 * it) instead of sleeping until a post. A futex wake-up was the largest ring item of the host's
 * thread when the host, not the card, is the bound: then it keeps many jobs in flight and rings
 * again within one harvest. One job at a time must not nap: a nap oversleeps (about 0.15 ms),
 * which such a job would pay as latency (p50 62 -> 181 µs when every stretch lingered).
 */
export class IdleLinger {
  #left = 0;

  /**
   * @param naps idle waits that may be naps after a heavy stretch (0: never)
   * @param minEvents scheduled events a busy stretch must have run to count as heavy
   */
  constructor(
    readonly naps: number,
    readonly minEvents: number,
  ) {}

  /**
   * The thread is out of work after a stretch that ran `events` scheduled events: whether this
   * wait is a nap. A heavy stretch grants `naps` naps; a light one (some events, too few) ends
   * them; a nap that found nothing (no events) uses the next one.
   */
  nap(events: number): boolean {
    if (events >= this.minEvents) this.#left = this.naps;
    else if (events > 0) this.#left = 0;
    if (this.#left === 0) return false;
    this.#left--;
    return true;
  }
}
