/**
 * One request and its response on a connection Switchboard reads itself
 * (see {@link Http1Front}): the parsed head, the whole body, and the answer,
 * written to the socket in one write.
 *
 * An exchange stands in for both `IncomingMessage` and `ServerResponse` in
 * the handlers that serve long-polls (the Engine.IO polling transport, the
 * Bayeux long-polling handler): it has the members those use (`method`,
 * `url`, `rawHeaders`, `headers`; `setHeader`, `writeHead`, `end`, the
 * `close` event) and nothing else, so a poll costs no stream, no header
 * object and no parser callbacks. It is never handed to application code.
 */
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";

type Listener = (this: Exchange, ...args: unknown[]) => void;

/**
 * A slot every exchange has from birth, for the transport that holds it:
 * set on an exchange it keeps the object's shape (a property added later
 * would change it on every poll).
 */
export const kHolder = Symbol("switchboard.holder");

/** The connection an exchange belongs to. */
export interface ExchangeOwner {
  readonly socket: Socket;
  /** Writes the exchange's response; the next request may then be read. */
  respond(
    exchange: Exchange,
    status: number,
    reason: string,
    set: readonly (string | OutgoingHttpHeader)[] | null,
    pending: string[] | OutgoingHttpHeaders | null,
    body: string | Buffer,
  ): void;
}

export class Exchange {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly httpVersion = "1.1";
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  /** The whole request body (empty when it had none), once read. */
  body: Buffer;
  /** Whether the client keeps the connection for the next request. */
  readonly keepAlive: boolean;
  statusCode = 200;
  statusMessage = "";
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  /** The engine caches the parsed query here, as on an IncomingMessage. */
  _query?: unknown;
  /** What the route that claimed the request found then (say, the session's transport). */
  claimed: unknown = undefined;
  [kHolder]: unknown = undefined;
  #owner: ExchangeOwner;
  #headers: Record<string, string | string[]> | undefined;
  /** Headers set before `writeHead`, flat: lower-case name, name, value. */
  #set: (string | OutgoingHttpHeader)[] | null = null;
  #pending: (string[] | OutgoingHttpHeaders) | null = null;
  /** `close` listeners: the first in a slot of its own (the usual case: one). */
  #close: Listener | null = null;
  #closeMore: Listener[] | null = null;
  #body: { data: Listener[]; end: Listener[] } | null = null;

  constructor(
    owner: ExchangeOwner,
    method: string,
    url: string,
    rawHeaders: string[],
    body: Buffer,
    keepAlive: boolean,
  ) {
    this.#owner = owner;
    this.method = method;
    this.url = url;
    this.rawHeaders = rawHeaders;
    this.body = body;
    this.keepAlive = keepAlive;
  }

  get socket(): Socket {
    return this.#owner.socket;
  }

  get connection(): Socket {
    return this.#owner.socket;
  }

  get destroyed(): boolean {
    return this.#owner.socket.destroyed;
  }

  /** The headers as `IncomingMessage#headers` gives them (built on first use). */
  get headers(): Record<string, string | string[]> {
    if (this.#headers === undefined) this.#headers = headerObject(this.rawHeaders);
    return this.#headers;
  }

  // --- the response ---------------------------------------------------------

  setHeader(name: string, value: OutgoingHttpHeader): this {
    const key = name.toLowerCase();
    const set = (this.#set ??= []);
    for (let i = 0; i < set.length; i += 3) {
      if (set[i] === key) {
        set[i + 1] = name;
        set[i + 2] = value;
        return this;
      }
    }
    set.push(key, name, value);
    return this;
  }

  getHeader(name: string): OutgoingHttpHeader | undefined {
    const set = this.#set;
    if (set === null) return undefined;
    const key = name.toLowerCase();
    for (let i = 0; i < set.length; i += 3) if (set[i] === key) return set[i + 2];
    return undefined;
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  removeHeader(name: string): void {
    const set = this.#set;
    if (set === null) return;
    const key = name.toLowerCase();
    for (let i = 0; i < set.length; i += 3) {
      if (set[i] === key) {
        set.splice(i, 3);
        return;
      }
    }
  }

  writeHead(
    status: number,
    reason?: string | string[] | OutgoingHttpHeaders,
    headers?: string[] | OutgoingHttpHeaders,
  ): this {
    this.statusCode = status;
    if (typeof reason === "string") this.statusMessage = reason;
    else if (reason !== undefined) headers = reason;
    this.#pending = headers ?? null;
    return this;
  }

  /** Writes the whole response: the head, then `body`; later calls do nothing. */
  end(body?: string | Buffer | (() => void), _encoding?: unknown, _done?: unknown): this {
    if (this.writableEnded) return this;
    this.writableEnded = true;
    this.headersSent = true;
    this.#close = this.#closeMore = null;
    this.writableFinished = true;
    const data = typeof body === "function" || body === undefined ? EMPTY : body;
    this.#owner.respond(this, this.statusCode, this.statusMessage, this.#set, this.#pending, data);
    return this;
  }

  /** Drops the connection (a response cannot be finished). */
  destroy(): this {
    this.#owner.socket.destroy();
    return this;
  }

  // --- events ---------------------------------------------------------------

  /**
   * `close` (the client went away before the answer), and, for code written
   * against a request stream, `data` and `end`, emitted on the next tick
   * with the body already read. Other events never fire.
   */
  on(event: string, listener: Listener): this {
    if (event === "close") {
      if (this.#close === null) this.#close = listener;
      else (this.#closeMore ??= []).push(listener);
    } else if (event === "data" || event === "end") {
      if (this.#body === null) {
        this.#body = { data: [], end: [] };
        process.nextTick(emitBody, this);
      }
      this.#body[event].push(listener);
    }
    return this;
  }

  once(event: string, listener: Listener): this {
    return this.on(event, listener);
  }

  addListener(event: string, listener: Listener): this {
    return this.on(event, listener);
  }

  removeListener(event: string, listener: Listener): this {
    if (event !== "close") return this;
    if (this.#close === listener) this.#close = null;
    else if (this.#closeMore !== null) {
      const index = this.#closeMore.indexOf(listener);
      if (index !== -1) this.#closeMore.splice(index, 1);
    }
    return this;
  }

  off(event: string, listener: Listener): this {
    return this.removeListener(event, listener);
  }

  /** Package-internal: the connection closed before the answer. */
  aborted(): void {
    const first = this.#close;
    const more = this.#closeMore;
    this.#close = this.#closeMore = null;
    this.writableEnded = true;
    if (first !== null) first.call(this);
    if (more !== null) for (const listener of more) listener.call(this);
  }

  /** Package-internal: delivers the body to `data` / `end` listeners. */
  flushBody(): void {
    const body = this.#body;
    if (body === null) return;
    if (this.body.length > 0) for (const listener of body.data) listener.call(this, this.body);
    for (const listener of body.end) listener.call(this);
  }
}

/** The body of a request without one. */
export const EMPTY = Buffer.alloc(0);

function emitBody(exchange: Exchange): void {
  exchange.flushBody();
}

/** Headers Node keeps once (the first wins); others repeat joined with ", ". */
const SINGLE = new Set([
  "age",
  "authorization",
  "content-length",
  "content-type",
  "etag",
  "expires",
  "from",
  "host",
  "if-modified-since",
  "if-unmodified-since",
  "last-modified",
  "location",
  "max-forwards",
  "proxy-authorization",
  "referer",
  "retry-after",
  "server",
  "user-agent",
]);

/** `req.headers` from a flat raw list, as Node builds it. */
function headerObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === "__proto__") continue;
    const value = raw[i + 1];
    const current = out[name];
    if (current === undefined) out[name] = name === "set-cookie" ? [value] : value;
    else if (name === "set-cookie") (current as string[]).push(value);
    else if (SINGLE.has(name)) continue;
    else out[name] = `${current as string}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return out;
}
