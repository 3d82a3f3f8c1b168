/**
 * What every client transport offers, and what it needs from the client.
 * A transport only moves batches of messages (JSON arrays, Bayeux 1.0
 * section 3) to the server and back: it knows nothing of handshakes,
 * connects or subscriptions.
 */

import { BayeuxTransportError } from "./errors.js";
import type { LogFn } from "./logger.js";
import type { BayeuxMessage, Clock, ConnectionType } from "./types.js";

/** The client side of a transport. */
export interface TransportHost {
  /** A batch arrived from the server (not yet checked message by message). */
  receive(transport: Transport, batch: unknown[]): void;
  /**
   * The transport could not carry `messages` (HTTP transports: that
   * request), or, with `null`, the connection itself went away (websocket):
   * every message sent over it that has no reply yet is lost.
   */
  failed(
    transport: Transport,
    messages: readonly BayeuxMessage[] | null,
    error: BayeuxTransportError,
  ): void;
}

/** The constructor of a standard `WebSocket` (the browser's, Node 22's, or `ws`). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** Everything a transport is built from. */
export interface TransportContext {
  /** The server's Bayeux endpoint, `http:` or `https:`. */
  url: string;
  clock: Clock;
  host: TransportHost;
  log: LogFn;
  /** Longest time to open a connection, ms. */
  openTimeout: number;
  /** `fetch` to use; defaults to the global one. */
  fetch?: typeof fetch;
  /** `WebSocket` constructor to use; defaults to the global one, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Send cookies on cross-origin HTTP requests (CORS with credentials). */
  withCredentials?: boolean;
  /** Longest URL for callback-polling requests; longer batches are split. */
  maxUrlLength?: number;
}

export interface Transport {
  readonly connectionType: ConnectionType;
  /** Whether the transport has carried at least one reply (it works on this network). */
  readonly proven: boolean;
  /** Opens the connection if the transport has one; resolves when it can send. */
  open(): Promise<void>;
  /**
   * Sends one batch. The outcome arrives through the host: a reply batch via
   * `receive`, or `failed`. `timeout` (ms) bounds an HTTP request.
   */
  send(messages: BayeuxMessage[], timeout: number): void;
  /** Closes the connection and abandons requests in flight, without reporting them. */
  close(): void;
  /**
   * Drops a connection that stopped answering, reporting it like a network
   * failure; the transport can be opened again. Only connection-based
   * transports have one.
   */
  drop?(): void;
}

/**
 * What the three connection types share: the context they are built from,
 * whether a reply has come through yet, and refusing to open once closed.
 */
export abstract class TransportBase implements Transport {
  abstract readonly connectionType: ConnectionType;
  protected readonly ctx: TransportContext;
  #proven = false;
  #closed = false;

  constructor(ctx: TransportContext) {
    this.ctx = ctx;
  }

  get proven(): boolean {
    return this.#proven;
  }

  /** Whether {@link close} was called: outcomes are no longer reported. */
  protected get closed(): boolean {
    return this.#closed;
  }

  open(): Promise<void> {
    if (this.#closed) return Promise.reject(new BayeuxTransportError("transport closed"));
    return this.openConnection();
  }

  /** Makes the transport ready to send (`open` has checked it is not closed). */
  protected openConnection(): Promise<void> {
    return Promise.resolve();
  }

  /** Hands a reply batch to the client; the transport now counts as working. */
  protected deliver(batch: unknown[]): void {
    this.#proven = true;
    this.ctx.host.receive(this, batch);
  }

  abstract send(messages: BayeuxMessage[], timeout: number): void;

  /** Marks the transport closed; subclasses then release what they hold. */
  close(): void {
    this.#closed = true;
  }
}

/** Parses a response body or frame into a batch; throws on anything but JSON objects. */
export function parseBatch(text: string): unknown[] {
  // A "__proto__" key must never reach a spread or Object.assign later on.
  const value: unknown = text.includes("__proto__")
    ? JSON.parse(text, (key, v) => (key === "__proto__" ? undefined : v))
    : JSON.parse(text);
  if (value === null || typeof value !== "object") throw new SyntaxError("not a Bayeux batch");
  return Array.isArray(value) ? value : [value];
}
