/**
 * The Prometheus text exposition format (version 0.0.4) of metric objects
 * shaped as prom-client's: `get()` gives `{ name, help, type, values }`, each
 * value `{ value, labels, metricName? }`. The same objects register into a
 * user's prom-client registry unchanged; without one, this writer renders
 * them, byte for byte as prom-client's `Registry.metrics()` would (families
 * separated by a blank line, the text ending with a newline).
 *
 * @example
 * render([{ name: "up", help: "Whether the node is up.", type: "gauge", aggregator: "sum",
 *   values: [{ value: 1, labels: {} }] }]);
 * // "# HELP up Whether the node is up.\n# TYPE up gauge\nup 1\n"
 */

export type MetricType = "counter" | "gauge" | "histogram";

/** One sample: a value and its labels; `metricName` for a histogram's `_bucket`/`_sum`/`_count`. */
export interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What a metric object's `get()` resolves to (prom-client's `MetricObjectWithValues`). */
export interface MetricData {
  name: string;
  help: string;
  type: MetricType;
  aggregator: "sum";
  values: MetricValue[];
}

/** The content type of this format. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** HELP text (and names): backslash and line feed escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A label value: backslash, line feed and double quote escaped. */
export function escapeLabelValue(value: string | number): string {
  if (typeof value !== "string") return String(value);
  return escapeHelp(value).replace(/"/g, '\\"');
}

/** A sample value: `+Inf`, `-Inf`, `NaN` or the number as JavaScript prints it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return `${value}`;
}

/** One family: its HELP and TYPE lines and a line per sample. */
export function renderFamily(metric: MetricData): string {
  const name = escapeHelp(metric.name);
  const lines = [`# HELP ${name} ${escapeHelp(metric.help)}`, `# TYPE ${name} ${metric.type}`];
  for (const sample of metric.values) {
    const labels = Object.entries(sample.labels);
    const labelText =
      labels.length === 0
        ? ""
        : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
    lines.push(`${sample.metricName ?? name}${labelText} ${formatValue(sample.value)}`);
  }
  return lines.join("\n");
}

/** The whole exposition of `metrics`, in order. */
export function render(metrics: readonly MetricData[]): string {
  return `${metrics.map(renderFamily).join("\n\n")}\n`;
}
