/**
 * The `io` session cookie (engine.io's `cookie` option), serialised per
 * RFC 6265 §4.1. Values are checked so an option can never inject a header.
 */
import type { CookieOptions } from "./types.js";

// RFC 6265 §4.1.1: cookie-name is an RFC 7230 token; values exclude CTLs,
// whitespace, DQUOTE, comma, semicolon and backslash.
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE_RE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const ATTRIBUTE_RE = /^[\x20-\x3A\x3C-\x7E]*$/;

/**
 * Serialises a Set-Cookie value.
 *
 * @example
 * serializeCookie("abc", { name: "io", path: "/", httpOnly: true, sameSite: "lax" });
 * // "io=abc; Path=/; HttpOnly; SameSite=Lax"
 */
export function serializeCookie(value: string, options: CookieOptions): string {
  const name = options.name ?? "io";
  if (!TOKEN_RE.test(name)) throw new TypeError("invalid cookie name");
  if (!VALUE_RE.test(value)) throw new TypeError("invalid cookie value");
  let out = `${name}=${value}`;
  if (options.maxAge !== undefined) {
    if (!Number.isFinite(options.maxAge)) throw new TypeError("invalid cookie maxAge");
    out += `; Max-Age=${Math.floor(options.maxAge)}`;
  }
  if (options.domain) {
    if (!ATTRIBUTE_RE.test(options.domain)) throw new TypeError("invalid cookie domain");
    out += `; Domain=${options.domain}`;
  }
  if (options.path) {
    if (!ATTRIBUTE_RE.test(options.path)) throw new TypeError("invalid cookie path");
    out += `; Path=${options.path}`;
  }
  if (options.expires) out += `; Expires=${options.expires.toUTCString()}`;
  if (options.httpOnly) out += "; HttpOnly";
  if (options.secure) out += "; Secure";
  const sameSite = options.sameSite === true ? "strict" : options.sameSite;
  if (sameSite === "lax") out += "; SameSite=Lax";
  else if (sameSite === "strict") out += "; SameSite=Strict";
  else if (sameSite === "none") out += "; SameSite=None";
  return out;
}
