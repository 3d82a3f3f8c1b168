/**
 * The connections that fell furthest behind: a bounded map of connection id
 * to messages dropped for it (or closes for being slow), keeping the worst
 * `limit`. Only written when a drop happens (the slow path), read by the
 * node stats.
 *
 * @example
 * const slow = new SlowConsumers(20);
 * slow.add("sid1", 3);
 * slow.list(); // [{ id: "sid1", dropped: 3, last: 1733356800000 }]
 */

export interface SlowConsumerEntry {
  id: string;
  dropped: number;
  /** Epoch ms of the last drop. */
  last: number;
}

/** Default number of connections kept. */
export const SLOW_CONSUMERS_KEPT = 20;

export class SlowConsumers {
  readonly #limit: number;
  readonly #entries = new Map<string, SlowConsumerEntry>();

  constructor(limit = SLOW_CONSUMERS_KEPT) {
    this.#limit = limit;
  }

  /** `dropped` more messages dropped for `id` now. */
  add(id: string, dropped = 1): void {
    const now = Date.now();
    const entry = this.#entries.get(id);
    if (entry !== undefined) {
      entry.dropped += dropped;
      entry.last = now;
      return;
    }
    if (this.#entries.size >= this.#limit) {
      let least: SlowConsumerEntry | undefined;
      for (const e of this.#entries.values()) {
        if (least === undefined || e.dropped < least.dropped) least = e;
      }
      if (least === undefined || least.dropped > dropped) return;
      this.#entries.delete(least.id);
    }
    this.#entries.set(id, { id, dropped, last: now });
  }

  /** Worst first. */
  list(): SlowConsumerEntry[] {
    return [...this.#entries.values()]
      .map((e) => ({ ...e }))
      .sort((a, b) => b.dropped - a.dropped || b.last - a.last);
  }
}
