/**
 * Path-prefix matching for mounts. A mount owns a prefix such as `/socket.io`:
 * it receives the requests whose path is exactly the prefix or continues with
 * `/` (`/socket.io/`, `/socket.io/socket.io.js`), never `/socket.iox`. The
 * query string plays no part. Matching works on the raw request target, with
 * no percent-decoding, so what is matched is what the engine later parses.
 */
import { MountError } from "./errors.js";

/**
 * Validates a mount path and returns it without a trailing slash (`/` stays `/`).
 *
 * @example
 * normalizePrefix("/socket.io/"); // "/socket.io"
 */
export function normalizePrefix(path: string): string {
  if (
    typeof path !== "string" ||
    !path.startsWith("/") ||
    /[?#\s]/.test(path) ||
    path.includes("//") ||
    path.split("/").some((segment) => segment === "." || segment === "..")
  ) {
    throw new MountError("ERR_MOUNT_PATH", JSON.stringify(path));
  }
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

/**
 * The path part of a request target: origin-form (`/a/b?x`) as is, absolute-form
 * (`http://host/a/b?x`, sent to proxies, RFC 9112 section 3.2.2) reduced to its
 * path. Returns undefined for anything else (`*`, garbage).
 */
export function requestPath(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let end = url.length;
  const q = url.indexOf("?");
  if (q !== -1) end = q;
  const h = url.indexOf("#");
  if (h !== -1 && h < end) end = h;
  if (url.charCodeAt(0) === 47 /* "/" */) return url.slice(0, end);
  if (url.startsWith("http://") || url.startsWith("https://")) {
    const slash = url.indexOf("/", url.indexOf("//") + 2);
    if (slash === -1 || slash > end) return "/";
    return url.slice(slash, end);
  }
  return undefined;
}

/**
 * Whether a request path falls under a normalized prefix.
 *
 * @example
 * isUnderPrefix("/socket.io/", "/socket.io"); // true
 * isUnderPrefix("/socket.iox", "/socket.io"); // false
 */
export function isUnderPrefix(path: string, prefix: string): boolean {
  if (prefix === "/") return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 47;
}

/** Whether two normalized prefixes overlap (one lies under the other). */
export function prefixesOverlap(a: string, b: string): boolean {
  return isUnderPrefix(a, b) || isUnderPrefix(b, a);
}
