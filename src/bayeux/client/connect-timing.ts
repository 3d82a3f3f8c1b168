/**
 * When the client's next handshake or `/meta/connect` goes out: the server's
 * `advice` (Bayeux 1.0 section 5.2: `interval`, the pause between connects,
 * and `timeout`, how long the server may hold one), the one pending timer,
 * and whether that timer is a retry after a failure.
 */
import type { BayeuxMessage, Clock, TimerHandle } from "./types.js";

/** What the client assumes before the server advises a hold time (ms). */
const DEFAULT_CONNECT_TIMEOUT = 60_000;

export class ConnectTiming {
  /** Pause between connects, ms (`advice.interval`). */
  interval = 0;
  /** How long the server may hold a connect, ms (`advice.timeout`). */
  timeout = DEFAULT_CONNECT_TIMEOUT;
  readonly #clock: Clock;
  #timer: TimerHandle = null;
  // Whether the scheduled step is a retry after a failure (not the next regular connect).
  #retrying = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether a retry is already scheduled (one failure is often reported twice). */
  get retryPending(): boolean {
    return this.#timer !== null && this.#retrying;
  }

  /** Runs `step` after `delay` ms, replacing whatever was scheduled. */
  schedule(step: () => void, delay: number, retrying = false): void {
    this.#clock.clearTimeout(this.#timer);
    this.#retrying = retrying;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#retrying = false;
      step();
    }, delay);
  }

  /** Drops the scheduled step, if any. */
  cancel(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Keeps the `interval` and `timeout` a reply advises (non-negative numbers only). */
  takeAdvice(reply: BayeuxMessage): void {
    const advice = reply.advice;
    if (!advice || typeof advice !== "object") return;
    if (typeof advice.interval === "number" && advice.interval >= 0)
      this.interval = advice.interval;
    if (typeof advice.timeout === "number" && advice.timeout >= 0) this.timeout = advice.timeout;
  }
}
