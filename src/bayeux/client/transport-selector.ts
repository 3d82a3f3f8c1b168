/**
 * Chooses connection types. The client offers, in its handshake, the types
 * this runtime can use, in order of preference; after the handshake it takes
 * the first of them the server also lists in `supportedConnectionTypes`
 * (Bayeux 1.0 section 3.9: connection type negotiation). A type that fails
 * before it ever carried a reply is set aside for the rest of the session,
 * so an unreachable websocket endpoint falls back to long-polling, and
 * long-polling refused by CORS falls back to callback-polling.
 */
import { CallbackPollingTransport, canLoadScripts } from "./callback-polling.js";
import { LongPollingTransport } from "./long-polling.js";
import type { Transport, TransportContext } from "./transport.js";
import type { ConnectionType } from "./types.js";
import { WebSocketTransport } from "./websocket.js";

/** What decides which types are usable here. */
export interface SelectorOptions {
  /** Allowed types in order of preference. */
  transports: readonly ConnectionType[];
  /** The endpoint URL. */
  url: string;
  /** Allow callback-polling for a cross-origin endpoint in a browser. */
  crossDomain: boolean;
  hasWebSocket: boolean;
  hasFetch: boolean;
}

/** Whether a `WebSocket` is at hand: given, global, or (in Node) the `ws` package, a dependency. */
export function runtimeHasWebSocket(given?: unknown): boolean {
  if (given || typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function") return true;
  return typeof process !== "undefined" && typeof process.versions?.node === "string";
}

/** Whether `url` is on another origin than the current page (false outside browsers). */
export function isCrossOrigin(url: string): boolean {
  const location = (globalThis as { location?: { origin?: string; href?: string } }).location;
  if (!location?.origin || location.origin === "null") return false;
  try {
    return new URL(url, location.href).origin !== location.origin;
  } catch {
    return false;
  }
}

/**
 * The types this runtime can use, in the order of `transports`.
 *
 * @example
 * usableTypes({ transports: ["websocket", "long-polling"], url, crossDomain: false, hasWebSocket: true, hasFetch: true });
 */
export function usableTypes(options: SelectorOptions): ConnectionType[] {
  const out: ConnectionType[] = [];
  for (const type of options.transports) {
    if (out.includes(type)) continue;
    if (type === "websocket" && !options.hasWebSocket) continue;
    if (type === "long-polling" && !options.hasFetch) continue;
    if (
      type === "callback-polling" &&
      !(canLoadScripts() && options.crossDomain && isCrossOrigin(options.url))
    ) {
      continue;
    }
    out.push(type);
  }
  return out;
}

/**
 * The first type of `offered` that is not set aside and, when the server's
 * list is known, that the server supports.
 */
export function chooseType(
  offered: readonly ConnectionType[],
  setAside: ReadonlySet<ConnectionType>,
  serverTypes?: readonly string[],
): ConnectionType | undefined {
  for (const type of offered) {
    if (setAside.has(type)) continue;
    if (serverTypes && !serverTypes.includes(type)) continue;
    return type;
  }
  return undefined;
}

/** Builds the transport for `type`. */
export function createTransport(type: ConnectionType, ctx: TransportContext): Transport {
  switch (type) {
    case "websocket":
      return new WebSocketTransport(ctx);
    case "long-polling":
      return new LongPollingTransport(ctx);
    case "callback-polling":
      return new CallbackPollingTransport(ctx);
  }
}

/**
 * The transport in use and the negotiation state of one client: the types
 * it offers, those set aside in this session, and the server's list.
 */
export class TransportSelector {
  /** The types offered in the handshake, in order of preference. */
  readonly offered: readonly ConnectionType[];
  readonly #setAside = new Set<ConnectionType>();
  readonly #context: () => TransportContext;
  readonly #onReplace: (previous: Transport | null, next: Transport) => void;
  #serverTypes: readonly string[] | undefined;
  #current: Transport | null = null;

  constructor(
    offered: readonly ConnectionType[],
    context: () => TransportContext,
    onReplace: (previous: Transport | null, next: Transport) => void,
  ) {
    this.offered = offered;
    this.#context = context;
    this.#onReplace = onReplace;
  }

  get current(): Transport | null {
    return this.#current;
  }

  /** The server's `supportedConnectionTypes`, once handshaken (undefined before). */
  set serverTypes(types: readonly string[] | undefined) {
    this.#serverTypes = types;
  }

  /** The type to use next, or undefined when every candidate is set aside. */
  next(): ConnectionType | undefined {
    return chooseType(this.offered, this.#setAside, this.#serverTypes);
  }

  /** Whether the server supports any type offered, setting-aside ignored. */
  agrees(): boolean {
    return chooseType(this.offered, new Set(), this.#serverTypes) !== undefined;
  }

  /** Sets `transport`'s type aside if it never carried a reply; true if another type remains. */
  setAside(transport: Transport | null): boolean {
    if (!transport || transport.proven) return false;
    this.#setAside.add(transport.connectionType);
    return this.next() !== undefined;
  }

  /** Every type failed once: start again from the preferred one. */
  reset(): void {
    this.#setAside.clear();
  }

  /** Makes `type` the transport in use and opens it; a type that never worked is set aside on failure. */
  async use(type: ConnectionType): Promise<Transport> {
    let transport = this.#current;
    if (!transport || transport.connectionType !== type) {
      const previous = transport;
      previous?.close();
      transport = createTransport(type, this.#context());
      this.#current = transport;
      this.#onReplace(previous, transport);
    }
    try {
      await transport.open();
    } catch (err) {
      if (!transport.proven) this.#setAside.add(type);
      throw err;
    }
    return transport;
  }

  /** Closes the transport in use and forgets the session's negotiation. */
  close(): void {
    const transport = this.#current;
    this.#current = null;
    transport?.close();
    this.#serverTypes = undefined;
    this.#setAside.clear();
  }
}
