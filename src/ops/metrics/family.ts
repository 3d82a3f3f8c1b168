/**
 * A metric object as prom-client's registry takes it (`registerMetric`):
 * `name`, `help`, `type`, `aggregator` and `get()`. Its samples are read from
 * the layers' counters when collected, so it holds no state of its own and
 * costs nothing between scrapes.
 *
 * @example
 * const up = new Family("up", "Whether the node is up.", "gauge", () => [{ value: 1, labels: {} }]);
 * promRegistry.registerMetric(up);
 */
import type { Histogram } from "../../shared/histogram.js";
import type { MetricData, MetricType, MetricValue } from "./exposition.js";

export class Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly aggregator = "sum" as const;
  readonly #collect: () => MetricValue[];

  constructor(name: string, help: string, type: MetricType, collect: () => MetricValue[]) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#collect = collect;
  }

  /** The samples now. */
  collect(): MetricData {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.#collect(),
    };
  }

  /** prom-client's registry reads metrics through `get()`. */
  get(): Promise<MetricData> {
    return Promise.resolve(this.collect());
  }

  /** prom-client's `resetMetrics()` calls this; the counters belong to the layers, so it does nothing. */
  reset(): void {}
}

/** A histogram's samples: cumulative `_bucket`s (`le` last), `_sum` and `_count`. */
export function histogramValues(
  name: string,
  histogram: Histogram,
  labels: Record<string, string> = {},
): MetricValue[] {
  const out: MetricValue[] = [];
  const cumulative = histogram.cumulative();
  const bounds = histogram.bounds;
  for (let i = 0; i < cumulative.length; i++) {
    const le = i < bounds.length ? `${bounds[i]}` : "+Inf";
    out.push({ value: cumulative[i], labels: { ...labels, le }, metricName: `${name}_bucket` });
  }
  out.push({ value: histogram.sum, labels: { ...labels }, metricName: `${name}_sum` });
  out.push({ value: histogram.count, labels: { ...labels }, metricName: `${name}_count` });
  return out;
}
