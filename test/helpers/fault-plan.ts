/**
 * A timetable of faults for a long-running test: steps due at a time after
 * the start, each run when due (a step that takes a while, a node restart
 * say, runs beside the ones that fall due meanwhile), and an event log with
 * times since the start. Also a seeded random source, so that a run's random
 * choices can be replayed.
 */

/** One line of the log: milliseconds since the start, and what happened. */
export type FaultEvent = [at: number, what: string];

interface Step {
  at: number;
  run: () => Promise<void> | void;
}

/**
 * @example
 * const plan = new FaultPlan();
 * plan.at(15_000, async () => { await node.kill(); plan.note("killed"); });
 * plan.start();
 * await plan.done();
 */
export class FaultPlan {
  readonly events: FaultEvent[] = [];
  readonly #steps: Step[] = [];
  #origin = Date.now();
  #running: Promise<void> | undefined;

  /** Milliseconds since {@link start} (or since the plan was made, before it). */
  get elapsed(): number {
    return Date.now() - this.#origin;
  }

  /** When the plan started (Date.now()). */
  get origin(): number {
    return this.#origin;
  }

  /** Adds a step due `ms` after the start. */
  at(ms: number, run: () => Promise<void> | void): void {
    this.#steps.push({ at: ms, run });
  }

  /** Logs `what` at the current time. */
  note(what: string): void {
    this.events.push([this.elapsed, what]);
  }

  /** Starts the clock and runs every step when due; a step that throws is logged. */
  start(): void {
    this.#origin = Date.now();
    const steps = [...this.#steps].sort((a, b) => a.at - b.at);
    this.#running = (async () => {
      const running: Promise<void>[] = [];
      for (const step of steps) {
        await sleep(this.#origin + step.at - Date.now());
        running.push(
          (async () => step.run())().catch((err: Error) =>
            this.note(`step failed: ${err.message}`),
          ),
        );
      }
      await Promise.all(running);
    })();
  }

  /** Resolves once every step has run and finished. */
  async done(): Promise<void> {
    await this.#running;
  }

  /** The log as lines: `  12.3 s  what`. */
  lines(): string[] {
    return this.events.map(([at, what]) => `${(at / 1000).toFixed(1).padStart(6)} s  ${what}`);
  }
}

/**
 * Waits until `test` holds, `deadline` (ms since the epoch) passes or
 * `signal` aborts, checking every `every` ms; resolves whether it held. For
 * waits whose outcome is reported rather than asserted.
 */
export async function holdsBy(
  test: () => boolean,
  deadline: number,
  every = 100,
  signal?: AbortSignal,
): Promise<boolean> {
  while (!test()) {
    if (Date.now() >= deadline || signal?.aborted) return false;
    await sleep(Math.min(every, deadline - Date.now()));
  }
  return true;
}

/**
 * Waits for `promise` to settle, `ms` at most (a teardown that must not hang
 * the test on a client that cannot say goodbye); never rejects.
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([
    promise.then(
      () => {},
      () => {},
    ),
    deadline,
  ]);
  clearTimeout(timer);
}

/** Waits `ms` (nothing when negative): the plan's clock, not a wait for a condition. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * A seeded generator of numbers in [0, 1) (mulberry32): the same seed gives
 * the same choices.
 *
 * @example
 * const random = seededRandom(42);
 * const pick = list[Math.floor(random() * list.length)];
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
