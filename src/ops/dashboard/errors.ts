/**
 * Errors of the dashboard: refused requests (each answered as a JSON body
 * `{ error: { code, message } }` with its HTTP status, never thrown past the
 * handler) and bad constructor options (thrown). The table is data, one row
 * per code, so the docs and the tests read the same statuses.
 */
import { SwitchboardError } from "../../shared/errors.js";

/** Every refusal the dashboard answers with, and its HTTP status. */
export const DASHBOARD_ERRORS = {
  ERR_DASHBOARD_UNAUTHORIZED: { status: 401, message: "a valid dashboard token is required" },
  ERR_DASHBOARD_REMOTE: {
    status: 403,
    message: "the dashboard serves loopback peers only (give it a token, or allowRemote)",
  },
  ERR_DASHBOARD_CROSS_SITE: {
    status: 403,
    message: "a state-changing call must come from the dashboard's own origin",
  },
  ERR_DASHBOARD_NOT_FOUND: { status: 404, message: "no such dashboard resource" },
  ERR_DASHBOARD_METHOD: { status: 405, message: "method not allowed here" },
  ERR_DASHBOARD_BAD_REQUEST: { status: 400, message: "malformed request" },
  ERR_DASHBOARD_TOO_LARGE: { status: 413, message: "request body too large" },
  ERR_DASHBOARD_UNSUPPORTED: { status: 415, message: "expected application/json" },
  ERR_DASHBOARD_GONE: { status: 404, message: "no node holds that connection" },
  ERR_DASHBOARD_CLOSED: { status: 503, message: "the dashboard is closed" },
  ERR_DASHBOARD_INTERNAL: { status: 500, message: "internal error" },
} as const;

export type DashboardErrorCode = keyof typeof DASHBOARD_ERRORS | "ERR_DASHBOARD_OPTIONS";

/** A refused dashboard request (see {@link DASHBOARD_ERRORS}) or bad options (`ERR_DASHBOARD_OPTIONS`). */
export class DashboardError extends SwitchboardError {
  /** The HTTP status the request is answered with (0 for options errors). */
  readonly status: number;

  constructor(code: DashboardErrorCode, message?: string, options?: { cause?: unknown }) {
    const entry = code === "ERR_DASHBOARD_OPTIONS" ? undefined : DASHBOARD_ERRORS[code];
    super(code, message ?? entry?.message ?? "invalid dashboard options", options);
    this.status = entry?.status ?? 0;
  }
}

/** A method the resource does not take (405); `allow` is the Allow header's value. */
export class DashboardMethodError extends DashboardError {
  readonly allow: string;

  constructor(allowed: readonly string[]) {
    super("ERR_DASHBOARD_METHOD", `use ${allowed.join(" or ")}`);
    this.allow = allowed.join(", ");
  }
}
