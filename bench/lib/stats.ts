/**
 * Small statistics helpers shared by the load generator and the report.
 */

/**
 * The q-quantile (0..1) of the first `length` samples, nearest-rank method.
 * Sorts the array in place. NaN when there is no sample.
 *
 * @example
 * percentile(Float64Array.from([3, 1, 2]), 3, 0.5); // 2
 */
export function percentile(samples: Float64Array | number[], length: number, q: number): number {
  if (length === 0) return Number.NaN;
  const view = samples instanceof Float64Array ? samples.subarray(0, length) : samples;
  view.sort((a, b) => a - b);
  const rank = Math.min(length - 1, Math.max(0, Math.ceil(q * length) - 1));
  return view[rank];
}

/** The median of some numbers (mean of the middle two for an even count); NaN if none. */
export function median(values: number[]): number {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[middle] : (finite[middle - 1] + finite[middle]) / 2;
}
