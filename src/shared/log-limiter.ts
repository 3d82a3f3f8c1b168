/**
 * Rate limit for a warning that may repeat fast (a slow consumer dropped, a
 * malformed broker message): at most one record per interval, and the next
 * record says how many were left out meanwhile. The clock is injected so the
 * limit is tested without waiting.
 *
 * @example
 * const limit = new LogLimiter(10_000);
 * const left = limit.take();
 * if (left >= 0) logger.warn({ sid, suppressed: left }, "slow consumer dropped");
 */
export class LogLimiter {
  readonly #interval: number;
  readonly #now: () => number;
  #next = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(interval = 10_000, now: () => number = Date.now) {
    this.#interval = interval;
    this.#now = now;
  }

  /**
   * How many records were left out since the last one that went out, or -1
   * when this one must be left out too (it is counted).
   */
  take(): number {
    const now = this.#now();
    if (now < this.#next) {
      this.#suppressed++;
      return -1;
    }
    this.#next = now + this.#interval;
    const left = this.#suppressed;
    this.#suppressed = 0;
    return left;
  }
}
