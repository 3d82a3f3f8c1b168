/**
 * Types and helpers around a Socket.IO socket: disconnect reasons (socket.io's
 * strings), the handshake record, middleware and catch-all listener shapes.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { inspect } from "node:util";

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

/** An incoming event as a packet middleware sees it: its name, then its arguments. */
// biome-ignore lint/suspicious/noExplicitAny: the arguments are whatever the client sent, as in socket.io.
export type Event = [string, ...any[]];

/** A per-socket packet middleware: `[event, ...args]` and a `next(err?)`. */
export type SocketMiddleware = (event: Event, next: (err?: Error) => void) => void;
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

/** What a {@link SocketHandshake} reads its fields from: the socket it describes. */
export interface HandshakeSource {
  readonly request: IncomingMessage;
  /** The engine's view of the peer address (it may come from a proxy header). */
  readonly _remoteAddress: string | undefined;
  /** Connect time, ms since the epoch. */
  readonly _issuedAt: number;
  /** The CONNECT auth payload, when it was not empty. */
  readonly _authPayload: Record<string, unknown> | undefined;
}

type HandshakeKey = keyof Handshake;

const HANDSHAKE_KEYS: readonly HandshakeKey[] = [
  "headers",
  "time",
  "address",
  "xdomain",
  "secure",
  "issued",
  "url",
  "query",
  "auth",
];

/**
 * The handshake record of a socket (`socket.handshake`), socket.io's fields
 * read from the request on access rather than copied at connect: a handshake
 * holds one reference, plus `query` and `auth` once read. `time` is formatted
 * when read; `query` is the engine's parsed query when it holds the same
 * (no repeated key), else parsed apart with repeats as arrays. Assigning a
 * field stores an own property that shadows the computed one, so code that
 * decorates the handshake keeps working. JSON and `util.inspect` show every
 * field.
 */
export class SocketHandshake implements Handshake {
  readonly #source: HandshakeSource;
  #query: Record<string, string | string[]> | undefined = undefined;
  #auth: Handshake["auth"] | undefined = undefined;
  [extra: string]: unknown;

  constructor(source: HandshakeSource) {
    this.#source = source;
  }

  get headers(): IncomingMessage["headers"] {
    return this.#source.request.headers ?? {};
  }

  set headers(value: IncomingMessage["headers"]) {
    shadow(this, "headers", value);
  }

  get time(): string {
    return new Date(this.#source._issuedAt).toString();
  }

  set time(value: string) {
    shadow(this, "time", value);
  }

  get address(): string {
    const source = this.#source;
    return source._remoteAddress ?? source.request.socket?.remoteAddress ?? "";
  }

  set address(value: string) {
    shadow(this, "address", value);
  }

  get xdomain(): boolean {
    return !!this.#source.request.headers?.origin;
  }

  set xdomain(value: boolean) {
    shadow(this, "xdomain", value);
  }

  get secure(): boolean {
    return !!(this.#source.request.socket as TLSSocket | undefined)?.encrypted;
  }

  set secure(value: boolean) {
    shadow(this, "secure", value);
  }

  get issued(): number {
    return this.#source._issuedAt;
  }

  set issued(value: number) {
    shadow(this, "issued", value);
  }

  get url(): string {
    return this.#source.request.url ?? "";
  }

  set url(value: string) {
    shadow(this, "url", value);
  }

  get query(): Record<string, string | string[]> {
    this.#query ??= queryOfRequest(this.#source.request);
    return this.#query;
  }

  set query(value: Record<string, string | string[]>) {
    shadow(this, "query", value);
  }

  get auth(): Handshake["auth"] {
    this.#auth ??= this.#source._authPayload ?? {};
    return this.#auth;
  }

  set auth(value: Handshake["auth"]) {
    shadow(this, "auth", value);
  }

  /** A plain copy of every field. */
  toJSON(): Handshake & Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of HANDSHAKE_KEYS) out[key] = this[key];
    for (const key of Object.keys(this)) out[key] = this[key];
    return out as Handshake & Record<string, unknown>;
  }

  [inspect.custom](): unknown {
    return this.toJSON();
  }
}

/** Stores an assigned handshake field as an own property, shadowing the computed one. */
function shadow(target: SocketHandshake, key: HandshakeKey, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/**
 * The query of a handshake request: the engine's `_query` when it holds the
 * same (each key once, no `__proto__`), else a separate parse.
 */
function queryOfRequest(req: IncomingMessage): Record<string, string | string[]> {
  const parsed = (req as IncomingMessage & { _query?: Record<string, string> })._query;
  const url = req.url;
  if (parsed !== undefined && url !== undefined && !Object.hasOwn(parsed, "__proto__")) {
    let keys = 0;
    for (const _ in parsed) keys++;
    if (keys === countParams(url)) return parsed;
  }
  return parseQuery(url);
}

/** How many `key=value` parts the query string of `url` has (empty parts are skipped). */
function countParams(url: string): number {
  const mark = url.indexOf("?");
  if (mark === -1) return 0;
  let count = 0;
  let empty = true;
  for (let i = mark + 1; i < url.length; i++) {
    if (url.charCodeAt(i) === 0x26 /* & */) {
      if (!empty) count++;
      empty = true;
    } else empty = false;
  }
  return empty ? count : count + 1;
}
