/**
 * What a session keeps of its handshake request. An `http.IncomingMessage`
 * held for a connection's whole life costs about a kilobyte that nothing
 * reads again (stream state, listener table, the raw header list, trailers),
 * so the session keeps a small record with the fields engine.io documents
 * and Socket.IO reads: `headers`, `url`, `method`, `httpVersion`, `_query`,
 * and the connection (`socket` / `connection` / `client`: the very same
 * `net.Socket`, or `tls.TLSSocket` with `encrypted` and `getPeerCertificate()`).
 * Properties a middleware added to the request (say `session` or `user`) are
 * carried over.
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
 * Header values nearly every handshake sends, and HTTP versions. A parsed
 * request holds its own copy of each string for as long as the session
 * lives; swapping in these shared literals (same text, so nothing a reader
 * can tell apart) saves a few hundred bytes across a connection's headers.
 */
const SHARED_VALUES: ReadonlyMap<string, string> = new Map(
  [
    "websocket",
    "Upgrade",
    "upgrade",
    "keep-alive",
    "close",
    "13",
    "permessage-deflate; client_max_window_bits",
    "no-cache",
    "gzip, deflate",
    "gzip, deflate, br",
    "gzip, deflate, br, zstd",
    "*/*",
    "same-origin",
    "cross-site",
    "same-site",
    "cors",
    "empty",
    "1.1",
    "1.0",
    "2.0",
  ].map((value) => [value, value]),
);

function shared(value: string): string {
  return SHARED_VALUES.get(value) ?? value;
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
    this.url = req.url ?? "";
    this.httpVersion = shared(req.httpVersion);
    const headers = req.headers;
    for (const name in headers) {
      const value = headers[name];
      if (typeof value === "string") {
        const common = SHARED_VALUES.get(value);
        if (common !== undefined) headers[name] = common;
      }
    }
    this.headers = headers;
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
