/**
 * One `cors` option for both protocols of a mount. The mount-level `cors` has
 * the Socket.IO server's shape (engine.io's, that of the `cors` package); the
 * Bayeux server takes a smaller shape, so the same rule is translated here:
 * the same origins are allowed, credentials only when asked for, the same
 * preflight lifetime.
 */
import type { BayeuxCorsOptions } from "../bayeux/index.js";
import type { CorsOptions } from "../engine/index.js";

type StaticOrigin = string | RegExp;

function matches(origin: string, rule: StaticOrigin): boolean {
  if (typeof rule === "string") return rule === origin;
  rule.lastIndex = 0;
  return rule.test(origin);
}

/**
 * What an engine.io origin callback answered, as a yes/no for one origin
 * (`allow` may be a boolean, or an origin to send, as in the `cors` package).
 */
function answerAllows(origin: string, allow: unknown): boolean {
  if (allow === true || allow === "*") return true;
  if (typeof allow === "string" || allow instanceof RegExp) return matches(origin, allow);
  if (Array.isArray(allow)) return allow.some((item) => answerAllows(origin, item));
  return false;
}

function bayeuxOrigin(origin: CorsOptions["origin"]): BayeuxCorsOptions["origin"] {
  // engine.io answers every origin when a `cors` object has no `origin` (`*`).
  if (origin === undefined || origin === true || origin === "*") return true;
  if (origin === false) return false;
  if (typeof origin === "string") return origin;
  if (origin instanceof RegExp) return (value) => matches(value, origin);
  if (Array.isArray(origin)) {
    // As in engine.io, "*" inside a list is an origin like any other, not a wildcard.
    if (origin.every((item) => typeof item === "string")) return origin as string[];
    return (value) => origin.some((item) => matches(value, item));
  }
  // The Bayeux rule is a synchronous predicate: an origin callback that
  // answers later than its call cannot be waited for, so its origin is denied.
  return (value) => {
    let allowed = false;
    try {
      origin(value, (err, allow) => {
        allowed = !err && answerAllows(value, allow);
      });
    } catch {
      allowed = false;
    }
    return allowed;
  };
}

/**
 * The Bayeux form of a Socket.IO (engine.io) `cors` option. `methods`,
 * `allowedHeaders`, `exposedHeaders`, `preflightContinue` and
 * `optionsSuccessStatus` have no Bayeux counterpart: the Bayeux server allows
 * the methods its transports use and reflects the requested headers.
 *
 * @example
 * toBayeuxCors({ origin: ["https://app.example"], credentials: true });
 * // { origin: ["https://app.example"], credentials: true }
 */
export function toBayeuxCors(cors: CorsOptions): BayeuxCorsOptions {
  const converted: BayeuxCorsOptions = {
    origin: bayeuxOrigin(cors.origin),
    // engine.io sends Allow-Credentials only when asked to; Bayeux's default is true.
    credentials: cors.credentials === true,
  };
  if (cors.maxAge !== undefined) converted.maxAge = cors.maxAge;
  return converted;
}
