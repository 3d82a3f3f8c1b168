/**
 * A fixed-bucket histogram small enough for a hot path: `observe(v)` walks at
 * most a dozen upper bounds and bumps one count, the sum and the total. The
 * layers keep one per figure (fan-out size, broker latency) as a plain field;
 * the metrics exposition reads the counts when scraped. Counts are stored per
 * bucket (not cumulative); {@link Histogram.cumulative} gives Prometheus'
 * `le` view.
 *
 * @example
 * const fanout = new Histogram(FANOUT_BUCKETS);
 * fanout.observe(recipients);
 * fanout.count; // observations so far
 */

/** Recipients of one broadcast or publish. */
export const FANOUT_BUCKETS: readonly number[] = [0, 1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000];

/** Seconds of a round trip (a broker publish or request). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
];

export class Histogram {
  /** Upper bounds, ascending (the `+Inf` bucket is implicit). */
  readonly bounds: readonly number[];
  /** Observations per bucket; the last entry is the `+Inf` bucket. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new RangeError("histogram bounds must ascend");
    }
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Observations at or below each bound, then the total (`le="+Inf"`). */
  cumulative(): number[] {
    const out = new Array<number>(this.counts.length);
    let running = 0;
    for (let i = 0; i < this.counts.length; i++) {
      running += this.counts[i];
      out[i] = running;
    }
    return out;
  }
}
