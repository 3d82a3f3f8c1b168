/** `switchboard/metrics`: Prometheus metrics and the node stats they read. */

export {
  type NodeParts,
  type NodeStatsOptions,
  NodeStatsReader,
  nodeStats,
} from "../node-stats.js";
export type * from "../stats.js";
export { MetricsError } from "./errors.js";
export {
  CONTENT_TYPE,
  type MetricData,
  type MetricType,
  type MetricValue,
  render,
} from "./exposition.js";
export { Family } from "./family.js";
export { type MetricsRequestHandler, metricsHandler } from "./handler.js";
export {
  MAX_TOPIC_LABELS,
  Metrics,
  type MetricsOptions,
  type PromRegistryLike,
} from "./metrics.js";
