/**
 * The request and response a forwarded request becomes on its owner node
 * (see link-server.ts): stand-ins for node:http's IncomingMessage and
 * ServerResponse, made from a REQUEST frame, so that the Engine.IO and Bayeux
 * handlers serve it as any other request, with no second HTTP parse. The
 * response is sent back as frames when it is written, never as HTTP.
 *
 * They carry what those handlers (and middlewares written against node:http)
 * use: method, url, headers, the body as a readable stream, the socket's
 * addresses; status, headers, write/end, destroy and the `close` event.
 */
import { EventEmitter } from "node:events";
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from "node:http";
import { Readable } from "node:stream";
import type { LinkHeaders } from "./link-frame.js";

/** The addresses a handler may read from `req.socket` (the link's own socket's). */
export interface LinkSocketInfo {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
}

/** Where a {@link LinkResponse} sends its frames. */
export interface ResponseSink {
  /** The head and a first chunk (`fin`: the whole response). */
  head(id: number, status: number, headers: LinkHeaders, body: Buffer | string, fin: boolean): void;
  /** A further chunk (`fin`: the last). */
  data(id: number, body: Buffer | string, fin: boolean): void;
  /** The response was dropped unfinished: the client's connection is to be closed. */
  cancel(id: number): void;
  /** The exchange is over on this side (answered, dropped or cancelled). */
  done(id: number): void;
}

/**
 * A socket stand-in: addresses only. Destroying it drops the request (as
 * destroying a connection would) without touching the link it came over.
 */
class LinkRequestSocket {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly encrypted = false;
  #drop: () => void;

  constructor(info: LinkSocketInfo, drop: () => void) {
    this.remoteAddress = info.remoteAddress;
    this.remotePort = info.remotePort;
    this.localAddress = info.localAddress;
    this.localPort = info.localPort;
    this.#drop = drop;
  }

  destroy(): this {
    this.#drop();
    return this;
  }

  setTimeout(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }
}

/** A forwarded request on its owner: an IncomingMessage stand-in whose body is already whole. */
export class LinkRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[]>;
  readonly rawHeaders: string[];
  readonly httpVersion = "1.1";
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly trailers = {};
  readonly rawTrailers: string[] = [];
  readonly socket: LinkRequestSocket;
  complete = true;
  aborted = false;

  constructor(
    method: string,
    url: string,
    headers: LinkHeaders,
    body: Buffer,
    info: LinkSocketInfo,
    drop: () => void,
  ) {
    super();
    this.method = method;
    this.url = url;
    this.headers = headers;
    const raw: string[] = [];
    for (const name in headers) {
      const value = headers[name];
      if (typeof value === "string") raw.push(name, value);
      else for (const v of value) raw.push(name, v);
    }
    this.rawHeaders = raw;
    this.socket = new LinkRequestSocket(info, drop);
    if (body.length > 0) this.push(body);
    this.push(null);
  }

  get connection(): LinkRequestSocket {
    return this.socket;
  }

  override _read(): void {}

  setTimeout(): this {
    return this;
  }
}

/** Node's error when headers are set after they were sent. */
function headersSentError(): Error {
  return Object.assign(new Error("Cannot set headers after they are sent to the client"), {
    code: "ERR_HTTP_HEADERS_SENT",
  });
}

/** A forwarded request's response on its owner: a ServerResponse stand-in that writes frames. */
export class LinkResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = "";
  sendDate = false;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  readonly req: LinkRequest;
  readonly #id: number;
  readonly #sink: ResponseSink;
  /** Lower-case name → [name as set, value]. */
  readonly #headers = new Map<string, [string, OutgoingHttpHeader]>();
  /** Whether the RESPONSE frame went out (later chunks are DATA frames). */
  #started = false;

  constructor(id: number, req: LinkRequest, sink: ResponseSink) {
    super();
    this.#id = id;
    this.req = req;
    this.#sink = sink;
  }

  get socket(): LinkRequestSocket {
    return this.req.socket;
  }

  get connection(): LinkRequestSocket {
    return this.req.socket;
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  get writable(): boolean {
    return !this.writableEnded && !this.destroyed;
  }

  setHeader(name: string, value: OutgoingHttpHeader): this {
    if (this.headersSent) throw headersSentError();
    this.#headers.set(name.toLowerCase(), [name, value]);
    return this;
  }

  appendHeader(name: string, value: OutgoingHttpHeader): this {
    const had = this.#headers.get(name.toLowerCase())?.[1];
    if (had === undefined) return this.setHeader(name, value);
    const list = (Array.isArray(had) ? had : [String(had)]).concat(
      Array.isArray(value) ? value : [String(value)],
    );
    return this.setHeader(name, list);
  }

  getHeader(name: string): OutgoingHttpHeader | undefined {
    return this.#headers.get(name.toLowerCase())?.[1];
  }

  getHeaders(): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    for (const [key, [, value]] of this.#headers) out[key] = value;
    return out;
  }

  getHeaderNames(): string[] {
    return [...this.#headers.keys()];
  }

  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw headersSentError();
    this.#headers.delete(name.toLowerCase());
  }

  writeHead(
    status: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    if (this.headersSent) throw headersSentError();
    if (typeof reason === "string") this.statusMessage = reason;
    else headers = reason;
    this.statusCode = status;
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        this.appendHeader(String(headers[i]), headers[i + 1] as OutgoingHttpHeader);
      }
    } else if (headers !== undefined) {
      for (const name in headers) {
        const value = headers[name];
        if (value !== undefined) this.setHeader(name, value);
      }
    }
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }

  write(chunk: Buffer | string, encoding?: unknown, cb?: () => void): boolean {
    if (typeof encoding === "function") cb = encoding as () => void;
    if (this.writableEnded || this.destroyed) return false;
    this.#send(chunk, false);
    if (cb) process.nextTick(cb);
    return true;
  }

  end(chunk?: Buffer | string | (() => void), encoding?: unknown, cb?: () => void): this {
    if (typeof chunk === "function") {
      cb = chunk;
      chunk = undefined;
    } else if (typeof encoding === "function") cb = encoding as () => void;
    if (this.writableEnded || this.destroyed) return this;
    this.writableEnded = true;
    this.#send(chunk ?? "", true);
    this.#sink.done(this.#id);
    process.nextTick(() => {
      this.writableFinished = true;
      this.emit("finish");
      this.emit("close");
      cb?.();
    });
    return this;
  }

  /** Drops the response unfinished: the forwarding node closes the client's connection. */
  destroy(_err?: unknown): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    // Ended: the whole response is on its way, and `close` follows `finish`.
    if (this.writableEnded) return this;
    this.#sink.cancel(this.#id);
    this.#sink.done(this.#id);
    this.#close();
    return this;
  }

  /** The client went away (a CANCEL frame, or the link closed): as a closed connection. */
  abort(): void {
    if (this.destroyed || this.writableEnded) return;
    this.destroyed = true;
    this.req.aborted = true;
    this.#sink.done(this.#id);
    this.req.emit("aborted");
    this.#close();
  }

  #close(): void {
    this.req.destroy();
    process.nextTick(() => this.emit("close"));
  }

  cork(): void {}
  uncork(): void {}
  setTimeout(): this {
    return this;
  }
  addTrailers(): void {}
  writeContinue(): void {}
  writeProcessing(): void {}

  #send(chunk: Buffer | string, fin: boolean): void {
    if (this.#started) {
      this.#sink.data(this.#id, chunk, fin);
      return;
    }
    this.#started = true;
    this.headersSent = true;
    const headers: LinkHeaders = {};
    for (const [, [name, value]] of this.#headers) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
    }
    this.#sink.head(this.#id, this.statusCode, headers, chunk, fin);
  }
}
