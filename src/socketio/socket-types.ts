/**
 * Types and helpers around a Socket.IO socket: disconnect reasons (socket.io's
 * strings), the handshake record, middleware and catch-all listener shapes.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

/** Disconnect reasons after which a session may be recovered (socket.io's list). */
export const RECOVERABLE_DISCONNECT_REASONS: ReadonlySet<string> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);

/** socket.io's disconnect reasons, server side. */
export type DisconnectReason =
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "server shutting down"
  | "forced server close"
  | "client namespace disconnect"
  | "server namespace disconnect";

export interface SocketReservedEvents {
  disconnect: (reason: DisconnectReason, description?: unknown) => void;
  disconnecting: (reason: DisconnectReason, description?: unknown) => void;
  error: (err: Error) => void;
}

/** What the server knows of the handshake, as socket.io exposes it. */
export interface Handshake {
  headers: IncomingMessage["headers"];
  time: string;
  address: string;
  xdomain: boolean;
  secure: boolean;
  issued: number;
  url: string;
  query: Record<string, string | string[]>;
  // biome-ignore lint/suspicious/noExplicitAny: auth is whatever the client sent.
  auth: { [key: string]: any };
}

/** A per-socket packet middleware: `[event, ...args]` and a `next(err?)`. */
export type SocketMiddleware = (event: unknown[], next: (err?: Error) => void) => void;
// biome-ignore lint/suspicious/noExplicitAny: catch-all listeners receive any event.
export type AnyListener = (event: string, ...args: any[]) => void;
/** Parses the query string of a handshake URL without `__proto__` keys. */
export function parseQuery(url: string | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const q = url?.indexOf("?") ?? -1;
  if (!url || q === -1) return out;
  for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
    if (key === "__proto__") continue;
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/**
 * The handshake record of a connection, from the HTTP request that opened it.
 * `remoteAddress` is the engine's view (it may come from a proxy header);
 * the request's socket address is the fallback.
 */
export function createHandshake(
  req: IncomingMessage,
  remoteAddress: string | undefined,
  issued: number,
  auth: Record<string, unknown> | undefined,
): Handshake {
  return {
    headers: req.headers ?? {},
    time: new Date(issued).toString(),
    address: remoteAddress ?? req.socket?.remoteAddress ?? "",
    xdomain: !!req.headers?.origin,
    secure: !!(req.socket as TLSSocket | undefined)?.encrypted,
    issued,
    url: req.url ?? "",
    query: parseQuery(req.url),
    auth: auth ?? {},
  };
}
