/**
 * One timer for many deadlines of the same length (e.g. `connectTimeout`):
 * entries expire in insertion order, so a FIFO and a single timer armed for
 * the head replace one timer per connection. Cancelling is lazy: the entry's
 * `expired` callback decides whether it still matters.
 *
 * Items and their deadlines are kept in two parallel arrays rather than an
 * `{ item, at }` object each: the deadlines then sit unboxed in a double
 * array, 16 bytes per entry instead of about 64 (every new connection has an
 * entry for `connectTimeout`, 45 s by default).
 *
 * An entry that no longer matters (its connection closed) is let go with
 * `release`: its item slot is emptied at once, so a closed connection is not
 * kept reachable until its deadline; only its number stays in the queue.
 */
export class DeadlineQueue<T> {
  readonly #delay: number;
  readonly #onExpire: (item: T) => void;
  #items: (T | undefined)[] = [];
  #deadlines: number[] = [];
  #head = 0;
  /** Ticket of `#items[0]`: tickets stay valid while the arrays are compacted. */
  #base = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(delay: number, onExpire: (item: T) => void) {
    this.#delay = delay;
    this.#onExpire = onExpire;
  }

  /** Schedules `item` to expire `delay` ms from now; returns its ticket for {@link release}. */
  push(item: T): number {
    this.#items.push(item);
    this.#deadlines.push(Date.now() + this.#delay);
    if (!this.#timer) this.#arm();
    return this.#base + this.#items.length - 1;
  }

  /** Forgets `item`, pushed as `ticket`, before its deadline (a no-op once it expired). */
  release(ticket: number, item: T): void {
    const i = ticket - this.#base;
    if (i >= this.#head && i < this.#items.length && this.#items[i] === item) {
      this.#items[i] = undefined;
    }
  }

  #arm(): void {
    if (this.#head >= this.#items.length) {
      this.#base += this.#items.length;
      this.#items = [];
      this.#deadlines = [];
      this.#head = 0;
      this.#timer = undefined;
      return;
    }
    const at = this.#deadlines[this.#head];
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - Date.now()));
    this.#timer.unref();
  }

  #fire(): void {
    const now = Date.now();
    while (this.#head < this.#items.length && this.#deadlines[this.#head] <= now) {
      const item = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (item !== undefined) this.#onExpire(item);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#base += this.#head;
      this.#items = this.#items.slice(this.#head);
      this.#deadlines = this.#deadlines.slice(this.#head);
      this.#head = 0;
    }
    this.#arm();
  }

  /** Stops the timer and forgets every entry. */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#base += this.#items.length;
    this.#items = [];
    this.#deadlines = [];
    this.#head = 0;
  }
}
