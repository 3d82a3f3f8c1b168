/**
 * Cross-origin resource sharing for the long-polling requests (Fetch
 * standard, "CORS protocol"), with the option shapes of the `cors` package
 * that engine.io users pass: `origin` as boolean, string, RegExp, array or
 * function; `methods`; `allowedHeaders` (reflected from the preflight when
 * unset); `exposedHeaders`; `credentials`; `maxAge`; preflight answered 204.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CorsOptions } from "./types.js";

const DEFAULT_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE";

type StaticOrigin = boolean | string | RegExp | (string | RegExp)[];

function list(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

function isOriginAllowed(origin: string, allowed: StaticOrigin): boolean {
  if (Array.isArray(allowed)) return allowed.some((item) => isOriginAllowed(origin, item));
  if (typeof allowed === "string") return origin === allowed;
  if (allowed instanceof RegExp) {
    allowed.lastIndex = 0;
    return allowed.test(origin);
  }
  return allowed;
}

function appendVary(res: ServerResponse, field: string): void {
  const current = res.getHeader("Vary");
  if (current === undefined) res.setHeader("Vary", field);
  else if (
    !String(current)
      .split(/\s*,\s*/)
      .includes(field)
  ) {
    res.setHeader("Vary", `${String(current)}, ${field}`);
  }
}

function applyOrigin(req: IncomingMessage, res: ServerResponse, origin: StaticOrigin): void {
  if (origin === "*") {
    res.setHeader("Access-Control-Allow-Origin", "*");
    return;
  }
  if (typeof origin === "string") {
    res.setHeader("Access-Control-Allow-Origin", origin);
    appendVary(res, "Origin");
    return;
  }
  const requestOrigin = req.headers.origin;
  if (requestOrigin !== undefined && isOriginAllowed(requestOrigin, origin)) {
    res.setHeader("Access-Control-Allow-Origin", requestOrigin);
  }
  appendVary(res, "Origin");
}

/**
 * Applies CORS headers to `res`; calls `next(handled)` with `handled` true
 * when a preflight was answered (204) and the request needs nothing else.
 *
 * @example
 * applyCors({ origin: "https://app.example", credentials: true }, req, res, (done) => {
 *   if (!done) handle(req, res);
 * });
 */
export function applyCors(
  options: CorsOptions,
  req: IncomingMessage,
  res: ServerResponse,
  next: (handled: boolean) => void,
): void {
  const origin = options.origin;
  if (typeof origin === "function") {
    let called = false;
    try {
      origin(req.headers.origin, (err, allow) => {
        if (called) return;
        called = true;
        next(applyCorsFor(options, err ? false : (allow ?? false), req, res));
      });
    } catch {
      if (!called) {
        called = true;
        next(applyCorsFor(options, false, req, res));
      }
    }
    return;
  }
  next(applyCorsFor(options, origin, req, res));
}

/**
 * Whether {@link applyStaticCors} applies to `options`: an origin that is
 * not a function, known without a callback.
 */
export function hasStaticOrigin(options: CorsOptions): boolean {
  return typeof options.origin !== "function";
}

/**
 * {@link applyCors} for options whose origin is not a function (see
 * {@link hasStaticOrigin}), synchronously: returns whether a preflight was
 * answered. A long-polling session's every request passes here.
 */
export function applyStaticCors(
  options: CorsOptions,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  return applyCorsFor(options, options.origin as StaticOrigin | undefined, req, res);
}

function applyCorsFor(
  options: CorsOptions,
  origin: StaticOrigin | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  // `origin: false` disables CORS for this request, as in the cors package.
  if (origin === false) return false;
  applyOrigin(req, res, origin === undefined ? "*" : origin);
  if (options.credentials) res.setHeader("Access-Control-Allow-Credentials", "true");
  if (req.method === "OPTIONS") {
    res.setHeader("Access-Control-Allow-Methods", list(options.methods) ?? DEFAULT_METHODS);
    let allowedHeaders = list(options.allowedHeaders);
    if (allowedHeaders === undefined) {
      allowedHeaders = req.headers["access-control-request-headers"];
      appendVary(res, "Access-Control-Request-Headers");
    }
    if (allowedHeaders) res.setHeader("Access-Control-Allow-Headers", allowedHeaders);
    if (options.maxAge !== undefined) {
      res.setHeader("Access-Control-Max-Age", String(options.maxAge));
    }
  }
  const exposed = list(options.exposedHeaders);
  if (exposed) res.setHeader("Access-Control-Expose-Headers", exposed);
  if (req.method === "OPTIONS" && !options.preflightContinue) {
    res.statusCode = options.optionsSuccessStatus ?? 204;
    res.setHeader("Content-Length", "0");
    res.end();
    return true;
  }
  return false;
}
