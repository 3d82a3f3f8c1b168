/**
 * Switchboard's own reading of the connections of a plain `node:http`
 * server, for long-polling.
 *
 * A long-poll is a whole HTTP request per delivery; node:http spends more
 * CPU on each (a parser callback into JavaScript per head, an
 * `IncomingMessage` stream, a `ServerResponse`, a header object, a corked
 * two-part write) than the delivery itself costs. The front takes the
 * server's connections before node's connection listener: requests its
 * routes claim (the polls and posts of open Engine.IO polling sessions, the
 * Bayeux long-polling POSTs) are parsed and answered here in one write;
 * every other request hands its connection to node:http, which then serves
 * it and all later requests on it, as if the front had never been there.
 *
 * What node:http would do for the connections the front keeps, it does too:
 * the server's `keepAliveTimeout`, `headersTimeout` and `requestTimeout`,
 * `maxHeaderSize`, `closeIdleConnections()` and `closeAllConnections()`
 * (and so `close()`), `Connection: close`. Only a plain `http.Server` (not
 * https, not http2) whose connection listener is node's own gets a front.
 */
import { Server as HttpServer, maxHeaderSize } from "node:http";
import type { Socket } from "node:net";
import { type FastRoute, Http1Connection } from "./connection.js";
import type { Exchange } from "./exchange.js";
import type { HeadLimits } from "./head-parser.js";
import { ResponseWriter } from "./response.js";

type ConnectionListener = (this: HttpServer, socket: Socket) => void;

/** node:http adds a second to its keep-alive timeout before it closes an idle connection. */
const KEEP_ALIVE_BUFFER = 1000;
const SWEEP_INTERVAL = 1000;

const fronts = new WeakMap<HttpServer, Http1Front>();

/** Set on a server that never accepts connections itself (a mount's stand-in): no front. */
export const kNoFront = Symbol("switchboard.noFront");

export class Http1Front {
  readonly server: HttpServer;
  readonly writer: ResponseWriter;
  readonly #routes: FastRoute[] = [];
  readonly #connections = new Set<Http1Connection>();
  readonly #node: ConnectionListener;
  readonly #ours: ConnectionListener;
  #sweep: NodeJS.Timeout | null = null;
  #installed = false;
  /** Counts, for tests and metrics: requests served here, connections given to node:http. */
  readonly stats = { served: 0, handedOff: 0 };
  /** Set once the server closes: every answer then closes its connection. */
  closing = false;

  /**
   * The front of `server`, made on first use; null when the server is not
   * a plain `http.Server` with node's own connection listener.
   */
  static of(server: object): Http1Front | null {
    if (!(server instanceof HttpServer) || kNoFront in server) return null;
    const known = fronts.get(server);
    if (known !== undefined) return known;
    const node = server
      .listeners("connection")
      .find((listener) => listener.name === "connectionListener") as ConnectionListener | undefined;
    if (node === undefined) return null;
    const front = new Http1Front(server, node);
    fronts.set(server, front);
    return front;
  }

  private constructor(server: HttpServer, node: ConnectionListener) {
    this.server = server;
    this.#node = node;
    this.writer = new ResponseWriter(() => Math.floor(server.keepAliveTimeout / 1000));
    const front = this;
    this.#ours = function frontConnection(this: HttpServer, socket: Socket): void {
      front.#accept(socket);
    };
  }

  /** The head limits of the server (its `maxHeaderSize`, node's default 16 KiB). */
  get limits(): HeadLimits {
    return {
      maxHeaderSize: (this.server as { maxHeaderSize?: number }).maxHeaderSize ?? maxHeaderSize,
      maxHeaders: this.server.maxHeadersCount || 2000,
    };
  }

  /** Serves `route`'s requests here from the next connection on. */
  add(route: FastRoute): void {
    if (this.#routes.includes(route)) return;
    this.#routes.push(route);
    this.#install();
  }

  /** Stops claiming `route`'s requests; with no route left, new connections are node's again. */
  remove(route: FastRoute): void {
    const index = this.#routes.indexOf(route);
    if (index === -1) return;
    this.#routes.splice(index, 1);
    if (this.#routes.length === 0) this.#uninstall();
  }

  /** The route that serves this request, if any (none while the server limits requests per socket). */
  claim(exchange: Exchange): FastRoute | null {
    if (this.server.maxRequestsPerSocket) return null;
    const routes = this.#routes;
    for (let i = 0; i < routes.length; i++) {
      if (routes[i].claim(exchange)) {
        this.stats.served++;
        return routes[i];
      }
    }
    return null;
  }

  /** Package-internal: gives a connection to node:http. */
  handOff(socket: Socket): void {
    // Node reads a socket it never consumed through stream events, so the
    // bytes put back come before any new ones.
    this.stats.handedOff++;
    const handle = (socket as Socket & { _handle?: { _consumed?: boolean } | null })._handle;
    if (handle) handle._consumed = true;
    this.#node.call(this.server, socket);
  }

  /** Connections read here now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Package-internal: a connection closed or went to node:http. */
  forget(connection: Http1Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0 && this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  #accept(socket: Socket): void {
    if (this.#routes.length === 0) {
      this.#node.call(this.server, socket);
      return;
    }
    // node:http turns Nagle off on its connections (`noDelay`); so do we.
    socket.setNoDelay(true);
    this.#connections.add(new Http1Connection(socket, this));
    if (this.#sweep === null) {
      this.#sweep = setInterval(() => this.#check(), SWEEP_INTERVAL);
      this.#sweep.unref();
    }
  }

  #check(): void {
    const server = this.server;
    const now = Date.now();
    const keepAlive = server.keepAliveTimeout + KEEP_ALIVE_BUFFER;
    for (const connection of this.#connections) {
      connection.check(now, keepAlive, server.headersTimeout, server.requestTimeout);
    }
  }

  readonly #reopened = (): void => {
    this.closing = false;
  };

  #install(): void {
    if (this.#installed) return;
    this.#installed = true;
    this.#swap(this.#node, this.#ours);
    if (this.#wrapped) return;
    // In front of the server's own methods, for good (connections read here
    // outlive the routes): `close()` calls `closeIdleConnections()`, which
    // must reach these connections too, as must `closeAllConnections()`.
    this.#wrapped = true;
    const server = this.server as unknown as Record<string, (...args: unknown[]) => unknown>;
    const front = this;
    const close = server.close;
    server.close = function (this: HttpServer, ...args: unknown[]) {
      front.closing = true;
      return close.apply(this, args);
    };
    const closeIdle = server.closeIdleConnections;
    server.closeIdleConnections = function (this: HttpServer, ...args: unknown[]) {
      closeIdle.apply(this, args);
      for (const connection of front.#connections) connection.closeIfIdle();
    };
    const closeAll = server.closeAllConnections;
    server.closeAllConnections = function (this: HttpServer, ...args: unknown[]) {
      closeAll.apply(this, args);
      for (const connection of front.#connections) connection.socket.destroy();
    };
    this.server.on("listening", this.#reopened);
  }

  #wrapped = false;

  #uninstall(): void {
    if (!this.#installed) return;
    this.#installed = false;
    this.#swap(this.#ours, this.#node);
  }

  /** Puts `to` where `from` was among the server's connection listeners. */
  #swap(from: ConnectionListener, to: ConnectionListener): void {
    const server = this.server;
    const listeners = server.listeners("connection") as ConnectionListener[];
    if (!listeners.includes(from)) return;
    server.removeAllListeners("connection");
    for (const listener of listeners) server.on("connection", listener === from ? to : listener);
  }
}
