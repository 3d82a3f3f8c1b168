/**
 * What a session keeps of its handshake request. An `http.IncomingMessage`
 * held for a connection's whole life costs about a kilobyte that nothing
 * reads again (stream state, listener table, the raw header list, trailers),
 * so the session keeps a small record with the fields engine.io documents
 * and Socket.IO reads: `headers`, `url`, `method`, `httpVersion`, `_query`,
 * and the connection (`socket` / `connection` / `client`: the very same
 * `net.Socket`, or `tls.TLSSocket` with `encrypted` and `getPeerCertificate()`).
 * Properties a middleware added to the request (say `session` or `user`) are
 * carried over. Header values and the URL are shared between sessions where
 * they repeat, and `sec-websocket-key` (meaningless once connected) is not kept.
 */
import { type IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Socket as NetSocket } from "node:net";
import { type EngineQuery, queryOf } from "./request.js";

/**
 * Own properties every IncomingMessage has (taken from a fresh one, so the
 * list follows the running Node version), plus per-request plumbing of
 * connect-style frameworks that means nothing once the handshake is over.
 */
const NOT_COPIED: ReadonlySet<string> = new Set([
  ...Object.keys(new IncomingMessage(undefined as unknown as NetSocket)),
  "_query",
  "res",
  "next",
]);

/**
 * A session keeps its handshake's header values (and URL) for its whole
 * life, and most of them are the same text on every connection of a server:
 * `host`, `user-agent`, `accept-language`, `origin`, the websocket
 * `upgrade`/`connection` pair, and the URL of websocket-only clients. The
 * request parser gives each connection its own copy of each string; keeping
 * one shared copy of each saves a few hundred bytes per browser connection.
 *
 * The cache is bounded: when full it starts over (the strings it held stay
 * shared by the sessions that took them). Values that are unique by design
 * are neither kept in it nor, for the websocket key, kept at all.
 */
const INTERN_LIMIT = 1024;
const INTERN_MAX_LENGTH = 512;
const interned = new Map<string, string>();

/** Headers whose values differ on every request: not worth a cache slot. */
const UNIQUE_HEADERS: ReadonlySet<string> = new Set([
  "cookie",
  "authorization",
  "proxy-authorization",
  "x-request-id",
  "x-amzn-trace-id",
  "traceparent",
  "tracestate",
  "x-cloud-trace-context",
]);

/**
 * Headers that mean nothing once the connection is open (the websocket
 * accept key): dropped from the retained record.
 */
const HANDSHAKE_ONLY_HEADERS: ReadonlySet<string> = new Set(["sec-websocket-key"]);

/** The one shared copy of `value` (the value itself the first time it is seen). */
export function intern(value: string): string {
  if (value.length > INTERN_MAX_LENGTH) return value;
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size >= INTERN_LIMIT) interned.clear();
  interned.set(value, value);
  return value;
}

/** The URL to keep: shared when it carries no per-request part (`sid`, the `t` cache buster). */
function keptUrl(url: string): string {
  return /[?&](?:sid|t)=/.test(url) ? url : intern(url);
}

/** The headers to keep: values shared where they repeat, handshake-only headers left out. */
function keptHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (HANDSHAKE_ONLY_HEADERS.has(name)) continue;
    const value = headers[name];
    out[name] = typeof value === "string" && !UNIQUE_HEADERS.has(name) ? intern(value) : value;
  }
  return out;
}

/**
 * The retained handshake request of an Engine.IO session (`socket.request`).
 *
 * @example
 * engine.on("connection", (socket) => {
 *   const { headers, url, _query } = socket.request;
 *   console.log(headers["user-agent"], url, _query.EIO, socket.request.socket.remoteAddress);
 * });
 */
export class HandshakeRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  headers: IncomingHttpHeaders;
  /** The TCP (or TLS) connection the handshake came over. */
  readonly socket: NetSocket;
  /** The parsed query string, where engine.io keeps it. */
  _query: EngineQuery;
  [extra: string]: unknown;

  constructor(req: IncomingMessage) {
    this.method = req.method ?? "GET";
    this.url = keptUrl(req.url ?? "");
    this.httpVersion = intern(req.httpVersion);
    this.headers = keptHeaders(req.headers);
    this.socket = req.socket;
    this._query = queryOf(req);
    const source = req as unknown as Record<string, unknown>;
    for (const key of Object.keys(req)) {
      if (!NOT_COPIED.has(key)) this[key] = source[key];
    }
  }

  /** Alias of {@link socket}, as on `IncomingMessage`. */
  get connection(): NetSocket {
    return this.socket;
  }

  /** Alias of {@link socket}, as on `IncomingMessage`. */
  get client(): NetSocket {
    return this.socket;
  }

  get httpVersionMajor(): number {
    return Number.parseInt(this.httpVersion, 10);
  }

  get httpVersionMinor(): number {
    return Number.parseInt(this.httpVersion.slice(this.httpVersion.indexOf(".") + 1), 10);
  }

  /** Header names and values, alternating (rebuilt from `headers`: names are lower case). */
  get rawHeaders(): string[] {
    const out: string[] = [];
    for (const [name, value] of Object.entries(this.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) out.push(name, v);
      else out.push(name, value);
    }
    return out;
  }
}

/**
 * The request a session keeps. Typed as `IncomingMessage` (engine.io's
 * public type for `socket.request`); the stream side of it is not kept.
 */
export function retainRequest(req: IncomingMessage): IncomingMessage {
  return new HandshakeRequest(req) as unknown as IncomingMessage;
}
