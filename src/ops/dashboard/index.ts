/**
 * The live dashboard (see dashboard.ts): the `Dashboard` handler, its
 * options and answers, and its errors.
 */
export { COOKIE_NAME } from "./access.js";
export {
  CLUSTER_TIMEOUT,
  Dashboard,
  type DashboardOptions,
  type ListAnswer,
  type StatsAnswer,
} from "./dashboard.js";
export {
  DASHBOARD_ERRORS,
  DashboardError,
  type DashboardErrorCode,
  DashboardMethodError,
} from "./errors.js";
export { HISTORY_SIZE, SAMPLE_EVERY, type Sample } from "./history.js";
export type { ListKind, NodeReport } from "./link.js";
export { DEFAULT_LIMIT, MAX_LIMIT, type SessionItem, type SocketItem } from "./lists.js";
export type { ClusterStats } from "./sum.js";
