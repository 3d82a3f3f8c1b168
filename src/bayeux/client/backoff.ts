/**
 * Reconnect delays: exponential growth capped at a maximum, with "full
 * jitter" (each delay drawn uniformly from zero to the capped exponential
 * value) so that many clients cut off by the same outage do not come back in
 * lockstep.
 */

/** Backoff settings, all in milliseconds except `factor`. */
export interface BackoffOptions {
  /** Upper bound of the first delay. Default 500. */
  initialDelay?: number;
  /** No delay exceeds this. Default 30000. */
  maxDelay?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  initialDelay: 500,
  maxDelay: 30_000,
  factor: 2,
};

function check(name: string, value: number, min: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new RangeError(`backoff.${name} must be a finite number >= ${min}`);
  }
  return value;
}

/**
 * One backoff sequence. `next()` gives the delay before the next attempt and
 * counts a failure; `reset()` after a success starts over.
 *
 * @example
 * const backoff = new Backoff({ initialDelay: 100, maxDelay: 5000 }, Math.random);
 * setTimeout(retry, backoff.next()); // somewhere in [0, 100)
 * backoff.next(); // in [0, 200)
 * backoff.reset();
 */
export class Backoff {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  #attempt = 0;
  readonly #random: () => number;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.initialDelay = check(
      "initialDelay",
      options.initialDelay ?? DEFAULT_BACKOFF.initialDelay,
      0,
    );
    this.maxDelay = check("maxDelay", options.maxDelay ?? DEFAULT_BACKOFF.maxDelay, 0);
    this.factor = check("factor", options.factor ?? DEFAULT_BACKOFF.factor, 1);
    this.#random = random;
  }

  /** Consecutive failures counted so far. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The cap for the current attempt, before jitter. */
  ceiling(): number {
    // Past ~1000 steps the power is Infinity; Math.min keeps it at maxDelay.
    return Math.min(this.maxDelay, this.initialDelay * this.factor ** this.#attempt);
  }

  /** The delay before the next attempt, in [0, ceiling); counts one failure. */
  next(): number {
    const delay = Math.floor(this.#random() * this.ceiling());
    this.#attempt++;
    return delay;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
