/**
 * Who may see the dashboard. With a token, every request must carry it:
 * `Authorization: Bearer <token>`, or the cookie the page URL's `?token=`
 * sets (HttpOnly, SameSite=Strict, scoped to the dashboard path). Tokens are
 * compared as SHA-256 digests with `timingSafeEqual`, so neither the content
 * nor the length leaks through timing. Without a token only loopback peers
 * are served (unless `allowRemote`), and only under a loopback Host name: a
 * request relayed by a proxy (it carries `Forwarded` / `X-Forwarded-For`)
 * or one whose Host is another name (DNS rebinding) is refused even when
 * its TCP peer is local.
 *
 * A state-changing call must also prove it comes from the dashboard's own
 * origin (`Sec-Fetch-Site: same-origin`, or an `Origin` naming this host),
 * so another site cannot make a logged-in browser disconnect clients.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { DashboardError } from "./errors.js";

/** The cookie the page URL's `?token=` sets. */
export const COOKIE_NAME = "switchboard_dashboard";

/** Peers of the local machine, as Node reports `remoteAddress`. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

/** A Host header naming the local machine (`localhost`, `127.x.x.x`, `[::1]`, any port). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith("[")
    ? host.slice(0, host.indexOf("]") + 1)
    : host.replace(/:\d*$/, "");
  const lower = name.toLowerCase();
  return (
    lower === "localhost" ||
    lower.endsWith(".localhost") ||
    lower === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(lower)
  );
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** The cookie's value for a token: a keyed digest, so the cookie jar never holds the token itself. */
function cookieValue(token: string): string {
  return createHmac("sha256", "switchboard dashboard cookie").update(token).digest("base64url");
}

function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of cookie `name` in a Cookie header, if present. */
function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface AccessOptions {
  token?: string | undefined;
  /** The dashboard path the cookie is scoped to. */
  path: string;
  allowRemote?: boolean | undefined;
}

export class Access {
  readonly #tokenDigest: Buffer | undefined;
  readonly #cookieDigest: Buffer | undefined;
  readonly #path: string;
  readonly #allowRemote: boolean;

  constructor(options: AccessOptions) {
    const token = options.token;
    this.#tokenDigest = token === undefined ? undefined : digest(token);
    this.#cookieDigest = token === undefined ? undefined : digest(cookieValue(token));
    this.#path = options.path;
    this.#allowRemote = options.allowRemote === true;
  }

  /** Whether a token protects the dashboard. */
  get hasToken(): boolean {
    return this.#tokenDigest !== undefined;
  }

  /** Whether `candidate` is the token (constant time). */
  tokenMatches(candidate: string): boolean {
    const expected = this.#tokenDigest;
    return expected !== undefined && sameDigest(digest(candidate), expected);
  }

  /** Why `req` may not be served, or undefined when it may. */
  refusal(req: IncomingMessage): DashboardError | undefined {
    if (this.#tokenDigest !== undefined) {
      return this.#carriesToken(req) ? undefined : new DashboardError("ERR_DASHBOARD_UNAUTHORIZED");
    }
    if (this.#allowRemote) return undefined;
    const relayed =
      req.headers.forwarded !== undefined || req.headers["x-forwarded-for"] !== undefined;
    if (relayed || !isLoopback(req.socket.remoteAddress) || !isLoopbackHost(req.headers.host)) {
      return new DashboardError("ERR_DASHBOARD_REMOTE");
    }
    return undefined;
  }

  #carriesToken(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (auth !== undefined && /^bearer /i.test(auth)) {
      return this.tokenMatches(auth.slice(7).trim());
    }
    const cookie = readCookie(req.headers.cookie, COOKIE_NAME);
    const expected = this.#cookieDigest;
    return cookie !== undefined && expected !== undefined && sameDigest(digest(cookie), expected);
  }

  /** The Set-Cookie header that lets this browser in (call after {@link tokenMatches}). */
  cookieFor(req: IncomingMessage, token: string): string {
    const secure = (req.socket as TLSSocket).encrypted === true ? "; Secure" : "";
    return `${COOKIE_NAME}=${cookieValue(token)}; Path=${this.#path}; HttpOnly; SameSite=Strict${secure}`;
  }

  /**
   * Whether a state-changing request comes from this origin: a
   * `Sec-Fetch-Site` header, when sent, must say `same-origin`, an `Origin`
   * header, when sent, must name the request's own Host, and at least one
   * of the two must be there.
   */
  sameOrigin(req: IncomingMessage): boolean {
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") return false;
    const origin = req.headers.origin;
    if (origin === undefined) return site === "same-origin";
    const host = req.headers.host;
    if (host === undefined) return false;
    return origin === `http://${host}` || origin === `https://${host}`;
  }
}
