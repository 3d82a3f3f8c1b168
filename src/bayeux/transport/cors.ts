/**
 * CORS for cross-origin long-polling (Fetch standard, "CORS protocol"):
 * Faye and CometD browser clients post JSON from another origin, which needs
 * a preflight (`Content-Type: application/json` is not a simple header).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ResolvedOptions } from "../server/options.js";

const ALLOW_HEADERS = "Accept, Authorization, Content-Type, Pragma, X-Requested-With";

function allowed(origin: string, rule: ResolvedOptions["cors"]["origin"]): boolean {
  if (rule === true) return true;
  if (rule === false || rule === undefined) return false;
  if (typeof rule === "string") return rule === origin;
  if (typeof rule === "function") return rule(origin) === true;
  return rule.includes(origin);
}

/**
 * Allows a request's `Origin` (undefined when it had none) when the
 * options do: the CORS headers of a request that is not a preflight.
 */
export function allowOrigin(
  origin: string | undefined,
  res: ServerResponse,
  cors: ResolvedOptions["cors"],
): void {
  if (typeof origin === "string" && allowed(origin, cors.origin)) {
    // The origin is reflected (never "*") so credentials may be allowed.
    res.setHeader("Access-Control-Allow-Origin", origin);
    if (cors.credentials) res.setHeader("Access-Control-Allow-Credentials", "true");
    res.setHeader("Vary", "Origin");
  }
}

/**
 * Sets the CORS response headers for `req`. Returns true when `req` was a
 * preflight and has been answered.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  cors: ResolvedOptions["cors"],
): boolean {
  allowOrigin(req.headers.origin, res, cors);
  if (req.method !== "OPTIONS") return false;
  if (res.hasHeader("Access-Control-Allow-Origin")) {
    res.setHeader("Access-Control-Allow-Methods", "POST, GET, OPTIONS");
    const asked = req.headers["access-control-request-headers"];
    res.setHeader(
      "Access-Control-Allow-Headers",
      typeof asked === "string" && /^[\w\-, ]{1,512}$/.test(asked) ? asked : ALLOW_HEADERS,
    );
    res.setHeader("Access-Control-Max-Age", String(cors.maxAge));
  }
  res.statusCode = 204;
  res.setHeader("Content-Length", "0");
  res.end();
  return true;
}
