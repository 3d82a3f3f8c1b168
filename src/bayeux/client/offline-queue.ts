/**
 * Publishes made while the client has no connection wait here, in order,
 * and go out once the client is connected again. The queue is bounded: past
 * `limit` a publish is refused at once rather than holding memory without
 * end during a long outage.
 */

/**
 * A bounded first-in first-out queue.
 *
 * @example
 * const queue = new OfflineQueue<string>(2);
 * queue.push("a"); // true
 * queue.push("b"); // true
 * queue.push("c"); // false: full
 * queue.drain(); // ["a", "b"]
 */
export class OfflineQueue<T> {
  readonly limit: number;
  #items: T[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError("offlineQueueLimit must be an integer >= 0");
    }
    this.limit = limit;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Appends; false when the queue is full (unless `force`: the item waits a moment only). */
  push(item: T, force = false): boolean {
    if (!force && this.#items.length >= this.limit) return false;
    this.#items.push(item);
    return true;
  }

  /** Removes and returns up to `count` items, oldest first. */
  take(count: number): T[] {
    if (count >= this.#items.length) return this.drain();
    return this.#items.splice(0, count);
  }

  /**
   * Puts items back at the front, ahead of newer ones, keeping their order
   * (a publish that failed in flight goes before those queued after it).
   * Returns the items that did not fit (none with `force`: publishes that
   * were already sent once keep their place).
   */
  unshift(items: readonly T[], force = false): T[] {
    const room = force ? items.length : Math.max(0, this.limit - this.#items.length);
    const fit = items.slice(0, room);
    this.#items = fit.concat(this.#items);
    return items.slice(room);
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }
}
