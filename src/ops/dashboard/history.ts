/**
 * The server-side memory of the traffic chart: one sample of the node's
 * cumulative counters every few seconds (default 5 s), the last few minutes
 * of them (default 120 samples, 10 minutes) in a fixed ring. The page turns
 * two neighbouring samples into messages/s and deliveries/s, so a page opened
 * late still draws the last minutes, and a page polling every 2 s costs the
 * server nothing more than a copy of the ring. The timer is unref'd (it
 * never keeps a process alive) and stopped by `stop()`.
 */
import type { NodeStats, PerProtocol, StatsSource } from "../stats.js";

/** One sample: epoch ms and cumulative counters (both protocols summed). */
export interface Sample {
  time: number;
  messagesIn: number;
  messagesOut: number;
  deliveries: number;
}

/** Default ms between samples. */
export const SAMPLE_EVERY = 5000;
/** Default number of samples kept (10 minutes at 5 s). */
export const HISTORY_SIZE = 120;

function total(figures: PerProtocol): number {
  return figures.socketio + figures.bayeux;
}

/** The sample of one snapshot. */
export function sampleOf(stats: NodeStats): Sample {
  return {
    time: stats.time,
    messagesIn: total(stats.messagesIn),
    messagesOut: total(stats.messagesOut),
    deliveries: total(stats.deliveries),
  };
}

export class History {
  readonly #source: StatsSource;
  readonly #ring: (Sample | undefined)[];
  #next = 0;
  #count = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(source: StatsSource, size = HISTORY_SIZE) {
    this.#source = source;
    this.#ring = new Array(Math.max(1, size));
  }

  /** Takes a sample now and then one every `every` ms, until {@link stop}. */
  start(every = SAMPLE_EVERY): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), every);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Records one sample of the source (a failing source records nothing). */
  sample(): void {
    let stats: NodeStats;
    try {
      stats = this.#source.snapshot();
    } catch {
      return;
    }
    this.add(sampleOf(stats));
  }

  /** Records `sample`, dropping the oldest when the ring is full. */
  add(sample: Sample): void {
    this.#ring[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#count < this.#ring.length) this.#count++;
  }

  /** The samples kept, oldest first. */
  samples(): Sample[] {
    const ring = this.#ring;
    const out: Sample[] = [];
    const first = (this.#next - this.#count + ring.length) % ring.length;
    for (let i = 0; i < this.#count; i++) out.push(ring[(first + i) % ring.length] as Sample);
    return out;
  }
}
