/**
 * One timer for many deadlines of the same length (e.g. `connectTimeout`):
 * entries expire in insertion order, so a FIFO and a single timer armed for
 * the head replace one timer per connection. Cancelling is lazy: the entry's
 * `expired` callback decides whether it still matters.
 */
export class DeadlineQueue<T> {
  readonly #delay: number;
  readonly #onExpire: (item: T) => void;
  #items: { item: T; at: number }[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(delay: number, onExpire: (item: T) => void) {
    this.#delay = delay;
    this.#onExpire = onExpire;
  }

  /** Schedules `item` to expire `delay` ms from now. */
  push(item: T): void {
    this.#items.push({ item, at: Date.now() + this.#delay });
    if (!this.#timer) this.#arm();
  }

  #arm(): void {
    const next = this.#items[this.#head];
    if (!next) {
      this.#items = [];
      this.#head = 0;
      this.#timer = undefined;
      return;
    }
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next.at - Date.now()));
    this.#timer.unref();
  }

  #fire(): void {
    const now = Date.now();
    while (this.#head < this.#items.length && this.#items[this.#head].at <= now) {
      const { item } = this.#items[this.#head];
      this.#items[this.#head++] = undefined as never;
      this.#onExpire(item);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#arm();
  }

  /** Stops the timer and forgets every entry. */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#items = [];
    this.#head = 0;
  }
}
