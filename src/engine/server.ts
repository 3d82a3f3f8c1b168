/**
 * The Engine.IO server (engine.io 6's `Server`): verifies requests, runs the
 * handshake, keeps the sid table, routes long-polling requests and websocket
 * upgrades to their sessions, and owns the one timer structure every session's
 * heartbeat lives in. Sids are also recorded in the session store (option
 * `sessionStore`), so another node can tell whose a sid is.
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import {
  advertiseFor,
  Forwarder,
  type ForwardTarget,
  parseAdvertise,
  wasForwarded,
} from "../cluster/forward.js";
import { isLinkUpgrade, LinkAcceptor } from "../cluster/link-server.js";
import { MemorySessionStore } from "../cluster/memory-session-store.js";
import { OwnerLocator } from "../cluster/owner-locator.js";
import type { ProtocolVersion } from "../codec/engineio/index.js";
import type { Exchange } from "../http1/exchange.js";
import { toIncomingMessage } from "../http1/incoming.js";
import { createDebug, debugLogger } from "../shared/debug.js";
import { hasListeners } from "../shared/listener-table.js";
import { LogLimiter } from "../shared/log-limiter.js";
import { childLogger, debugEnabled, type Logger } from "../shared/logger.js";
import { TimerLists } from "../shared/timer-wheel.js";
import { PollingTransport } from "../transport/polling.js";
import { JsonpTransport } from "../transport/polling-jsonp.js";
import { someRawHeader } from "../transport/raw-header.js";
import type { TransportConfig } from "../transport/transport.js";
import { WebSocketTransport } from "../transport/websocket.js";
import type { WebSocket, WebSocketServerLike } from "../transport/ws-types.js";
import { WebSocketWriter } from "../transport/ws-writer.js";
import { type AttachOptions, attachEngine } from "./attach.js";
import { serializeCookie } from "./cookie.js";
import { applyCors, applyStaticCors, hasStaticOrigin } from "./cors.js";
import { ENGINE_ERRORS } from "./errors.js";
import { type ResolvedOptions, resolveOptions } from "./options.js";
import {
  abortRequest,
  abortUpgrade,
  hasInvalidHeaderChar,
  pollingSid,
  protocolOf,
  queryOf,
} from "./request.js";
import { SessionRegistry } from "./session-registry.js";
import { Socket, type SocketHost } from "./socket.js";
import { EngineStats } from "./stats.js";
import type { CloseReason, EngineOptions, TransportName } from "./types.js";
import { UpgradeResponse } from "./upgrade-response.js";
import { type Verdict, type VerifyContext, verifyRequest } from "./verify.js";

const debug = createDebug("engine");

/** What `connection_error` reports. */
export interface ConnectionErrorEvent {
  req: IncomingMessage;
  code: number;
  message: string;
  context: Record<string, unknown>;
}

/** A connect-style middleware run before every engine request and upgrade. */
export type Middleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

export interface ServerEvents {
  connection: [socket: Socket];
  connection_error: [err: ConnectionErrorEvent];
  initial_headers: [headers: OutgoingHttpHeaders, req: IncomingMessage];
  headers: [headers: OutgoingHttpHeaders, req: IncomingMessage];
  flush: [socket: Socket, buffer: unknown[]];
  drain: [socket: Socket];
}

const kHandshake = Symbol("switchboard.handshake");
const kUpgradeHeaders = Symbol("switchboard.upgradeHeaders");
/** What a claimed polling handshake's exchange holds, in place of a transport. */
const HANDSHAKE = Symbol("switchboard.handshake.fast");

interface PendingHandshake {
  id: string;
  protocol: ProtocolVersion;
}

type UpgradeRequest = IncomingMessage & {
  [kHandshake]?: PendingHandshake;
  [kUpgradeHeaders]?: OutgoingHttpHeaders;
};

/** How long the sid of a session closed between two polls is remembered. */
const LINGER_MAX = 30000;

/**
 * @example
 * import { createServer } from "node:http";
 * import { Server } from "switchboard/engine";
 *
 * const engine = new Server({ pingInterval: 10000 });
 * engine.attach(createServer().listen(3000));
 * engine.on("connection", (socket) => socket.on("message", (m) => socket.send(m)));
 */
export class Server extends EventEmitter implements SocketHost {
  readonly opts: ResolvedOptions & Omit<EngineOptions, keyof ResolvedOptions>;
  /** Open sessions by sid (a plain object, as engine.io exposes it). */
  readonly clients: Record<string, Socket> = {};
  /**
   * The same sessions in a Map: a lookup by a sid cut from a URL costs a
   * hash, where a property lookup must first intern the string.
   */
  readonly #byId = new Map<string, Socket>();
  clientsCount = 0;
  /** Counters read by the node stats and metrics (see `EngineStats`). */
  readonly stats = new EngineStats();
  /**
   * The single scheduler of every session's heartbeat and upgrade deadline
   * (one list per delay, one shared timer: precise to the event loop's lateness).
   */
  readonly wheel: TimerLists;
  /** The ws server handling upgrades (absent when websocket is not a transport). */
  ws: WebSocketServerLike | null = null;
  /** Set by `listen()`. */
  httpServer: HttpServer | undefined;
  /** Where this engine logs: the `logger` option's `child({ component: "engine" })`. */
  readonly logger: Logger;
  /** Slow consumers dropped and connection limits hit are warned of once per 10 s. */
  readonly #slowWarnings = new LogLimiter();
  readonly #limitWarnings = new LogLimiter();
  readonly #transportConfig: TransportConfig;
  readonly #middlewares: Middleware[] = [];
  /** Polling sessions closed while no poll was held: sid → transport, expiry. */
  readonly #linger = new Map<string, { transport: PollingTransport; expires: number }>();
  readonly #verifyContext: VerifyContext;
  readonly #sessions: SessionRegistry;
  readonly #owners: OwnerLocator;
  /** Forwards requests for sids other nodes own (option `forward`); null: refused. */
  readonly #forwarder: Forwarder | null = null;
  /** The links peers forward over (option `forward`); null: none accepted. */
  readonly #links: LinkAcceptor | null = null;
  /** Peer addresses parsed, by advertised string. */

  constructor(opts: EngineOptions = {}) {
    super();
    this.opts = { ...opts, ...resolveOptions(opts) };
    this.logger = childLogger(opts.logger ?? debugLogger("engine"), { component: "engine" });
    const ttl = opts.sessionStoreTtl ?? 60000;
    if (!Number.isFinite(ttl) || ttl < 1) {
      throw new TypeError("engine option sessionStoreTtl must be a number of at least 1 ms");
    }
    this.#sessions = new SessionRegistry(
      opts.sessionStore ?? new MemorySessionStore(),
      opts.nodeId ?? randomBytes(8).toString("hex"),
      ttl,
      () => Object.keys(this.clients),
    );
    this.#owners = new OwnerLocator(this.#sessions);
    if (opts.forward) {
      this.#forwarder = new Forwarder(this.#sessions.nodeId, {
        maxBodySize: this.opts.maxHttpBufferSize,
        // A held poll is answered by the next ping at the latest.
        requestTimeout: Math.max(120_000, this.opts.pingInterval + this.opts.pingTimeout + 10_000),
      });
      // Peers' links to this node: their forwarded requests, served as if they came in here.
      this.#links = new LinkAcceptor({
        handler: (req, res) =>
          this.#serveRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse),
        maxBody: this.opts.maxHttpBufferSize,
      });
      const advertise = typeof opts.forward === "object" ? opts.forward.advertise : undefined;
      if (advertise !== undefined) {
        parseAdvertise(advertise);
        this.#sessions.advertise = advertise;
      }
    }
    this.#verifyContext = {
      opts: this.opts,
      hasSession: (sid) => Object.hasOwn(this.clients, sid),
      sessionTransport: (sid) => this.clients[sid].transport.name,
      isLingering: (sid) => this.#isLingering(sid),
      clientsCount: () => this.clientsCount,
    };
    const o = this.opts;
    this.wheel = new TimerLists();
    this.#transportConfig = {
      maxHttpBufferSize: o.maxHttpBufferSize,
      maxBufferedBytes: o.maxBufferedBytes,
      writer: new WebSocketWriter(),
      counters: this.stats,
      httpCompressionThreshold: o.httpCompression ? o.httpCompression.threshold : null,
      decoratesHeaders: (initial) =>
        this.listenerCount("headers") > 0 ||
        (initial && (o.cookie !== false || this.listenerCount("initial_headers") > 0)),
      decorateHeaders: (headers, req, sid, initial) => {
        if (initial) {
          if (o.cookie) headers["Set-Cookie"] = [serializeCookie(sid, o.cookie)];
          this.emit("initial_headers", headers, req);
        }
        this.emit("headers", headers, req);
      },
    };
    this.init();
  }

  /** (Re)creates the websocket server; engine.io calls this `init`. */
  init(): void {
    if (!this.opts.transports.includes("websocket")) return;
    if (this.ws) return;
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: this.opts.perMessageDeflate,
      maxPayload: this.opts.maxHttpBufferSize,
    });
    wss.on("headers", (headers: string[], req: IncomingMessage) => this.#onWsHeaders(headers, req));
    this.ws = wss;
  }

  /** This node's id: the owner the session store records for its sids. */
  get nodeId(): string {
    return this.#sessions.nodeId;
  }

  /** The address recorded with this node's sids for peers to forward to (option `forward`). */
  get advertise(): string | undefined {
    return this.#sessions.advertise;
  }

  /**
   * Package-internal: the attached HTTP server listens; with `forward` on
   * and no `advertise` given, the address peers reach this node at is
   * derived from the listening address.
   */
  onListening(server: HttpServer): void {
    if (this.#forwarder === null || this.#sessions.advertise !== undefined) return;
    const address = server.address();
    if (address === null || typeof address === "string") return;
    this.#sessions.advertise = advertiseFor(address.address, address.port);
  }

  /** Transports a session on `transport` may upgrade to. */
  upgrades(transport: TransportName): TransportName[] {
    if (!this.opts.allowUpgrades) return [];
    return transport === "polling" ? ["websocket"] : [];
  }

  /**
   * Generates a session id: 15 random bytes, base64url (20 characters, like
   * engine.io's). Override (may return a promise) to choose your own.
   */
  generateId(_req: IncomingMessage): string | Promise<string> {
    return randomBytes(15).toString("base64url");
  }

  /** Adds a middleware run before verification of every request and upgrade. */
  use(fn: Middleware): this {
    this.#middlewares.push(fn);
    return this;
  }

  // ---- HTTP requests ------------------------------------------------------

  /** Handles an HTTP request for the engine path (polling, preflight). */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    try {
      const polling = this.#openPolling(req);
      if (polling !== null) {
        const cors = this.opts.cors;
        // A GET or POST: CORS adds its headers and never answers it.
        if (cors) applyStaticCors(cors, req, res);
        polling.onRequest(req, res);
        return;
      }
      if (this.#forwarder !== null && this.#isForeign(req)) {
        this.#locate(req, (target) => {
          if (target === null) this.#serveRequest(req, res);
          else {
            this.#forwarder!.request(target, req, res, () => {
              this.#owners.forget(queryOf(req).sid);
              this.#serveRequest(req, res);
            });
          }
        });
        return;
      }
    } catch (err) {
      this.#internalError(req, res, err);
      return;
    }
    this.#serveRequest(req, res);
  }

  /**
   * Package-internal (the HTTP/1.1 front, see `engineRoute`): whether the
   * front may serve this request from its head alone: a poll or post of an
   * open polling session as {@link Server.handleRequest} takes it without
   * middleware, or a polling handshake with no middleware to run; never
   * while `headers` listeners would see the request.
   */
  claimsFast(req: IncomingMessage): boolean {
    if (!this.opts.fastPolling || this.listenerCount("headers") > 0) return false;
    const exchange = req as unknown as Exchange;
    const polling = this.#openPolling(req);
    if (polling !== null) {
      exchange.claimed = polling;
      return true;
    }
    const cors = this.opts.cors;
    const query = queryOf(req);
    exchange.claimed = HANDSHAKE;
    return (
      req.method === "GET" &&
      query.sid === undefined &&
      query.transport === "polling" &&
      query.j === undefined &&
      this.#middlewares.length === 0 &&
      (!cors || hasStaticOrigin(cors)) &&
      this.opts.transports.includes("polling")
    );
  }

  /**
   * Package-internal (the HTTP/1.1 front): serves a request it claimed, its
   * body read. A handshake gets a real `IncomingMessage` (it becomes the
   * session's request); a session that ended meanwhile is answered as any
   * unknown or closed sid is.
   */
  serveFast(exchange: Exchange): void {
    const req = exchange as unknown as IncomingMessage;
    const res = exchange as unknown as ServerResponse;
    if (exchange.claimed === HANDSHAKE) {
      this.#serveRequest(toIncomingMessage(exchange), res);
      return;
    }
    // The transport found by the claim, unless the session ended meanwhile
    // (a POST's body takes its time).
    const polling = exchange.claimed as PollingTransport;
    if (polling.readyState !== "open" || (polling.owner as Socket | null)?.transport !== polling) {
      this.#serveRequest(req, res);
      return;
    }
    const cors = this.opts.cors;
    if (cors) applyStaticCors(cors, req, res);
    polling.onRequest(req, res);
  }

  /**
   * The polling transport of the open local session `req` belongs to, when
   * nothing asynchronous runs before it (no middleware, CORS with a static
   * origin) and verification would let it through (a GET or POST of a known
   * sid, polling on both sides, no JSONP index, a valid Origin): every poll
   * and POST of a session comes here, so it costs a scan of the URL and a
   * map lookup. Null sends the request down the full path.
   */
  #openPolling(req: IncomingMessage): PollingTransport | null {
    const cors = this.opts.cors;
    if (this.#middlewares.length !== 0 || (cors && !hasStaticOrigin(cors))) return null;
    if (req.method !== "GET" && req.method !== "POST") return null;
    // The usual query is read without building it; any other the general way.
    const url = req.url ?? "";
    const mark = url.indexOf("?");
    let sid = mark === -1 ? undefined : pollingSid(url, mark + 1);
    if (sid === null) {
      const query = queryOf(req);
      sid = query.transport === "polling" && query.j === undefined ? query.sid : undefined;
    }
    if (sid === undefined) return null;
    const transport = this.#byId.get(sid)?.transport;
    if (!(transport instanceof PollingTransport) || !this.opts.transports.includes("polling")) {
      return null;
    }
    return someRawHeader(req, "origin", hasInvalidHeaderChar) ? null : transport;
  }

  /**
   * Whether `req` names a sid this node does not hold (nor remembers as
   * lately closed) and was not forwarded here already.
   */
  #isForeign(req: IncomingMessage): boolean {
    const sid = queryOf(req).sid;
    return (
      sid !== undefined &&
      !Object.hasOwn(this.clients, sid) &&
      !this.#linger.has(sid) &&
      !wasForwarded(req)
    );
  }

  /** The owner of the request's sid, when another node owns it and advertised an address. */
  #locate(req: IncomingMessage, done: (target: ForwardTarget | null) => void): void {
    this.#owners.locate(queryOf(req).sid, done);
  }

  #serveRequest(req: IncomingMessage, res: ServerResponse): void {
    try {
      queryOf(req);
      const cors = this.opts.cors;
      if (cors) {
        applyCors(cors, req, res, (handled) => {
          if (!handled) this.#afterCors(req, res);
        });
      } else this.#afterCors(req, res);
    } catch (err) {
      this.#internalError(req, res, err);
    }
  }

  #afterCors(req: IncomingMessage, res: ServerResponse): void {
    this.#applyMiddlewares(req, res, (err) => {
      if (err) {
        this.#refuseRequest(req, res, {
          key: "BAD_REQUEST",
          context: { name: "MIDDLEWARE_FAILURE" },
        });
        return;
      }
      this.#verify(req, false, (verdict) => {
        try {
          if (verdict) this.#refuseRequest(req, res, verdict);
          else this.#dispatchRequest(req, res);
        } catch (e) {
          this.#internalError(req, res, e);
        }
      });
    });
  }

  #dispatchRequest(req: IncomingMessage, res: ServerResponse): void {
    const sid = queryOf(req).sid;
    if (sid === undefined) {
      this.#handshakePolling(req, res);
      return;
    }
    const lingering = this.#linger.get(sid);
    if (lingering !== undefined) {
      // A GET is told of the close once; the sid is unknown from then on.
      if (req.method === "GET") this.#linger.delete(sid);
      lingering.transport.onRequest(req, res);
      return;
    }
    const socket = this.clients[sid];
    const transport = socket.transport;
    if (transport instanceof PollingTransport) transport.onRequest(req, res);
    else abortRequest(res, "BAD_REQUEST");
  }

  #refuseRequest(req: IncomingMessage, res: ServerResponse, verdict: Verdict): void {
    this.#emitConnectionError(req, verdict);
    abortRequest(res, verdict.key, verdict.message);
  }

  #internalError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    this.logger.error({ err, url: req.url }, "engine request failed");
    if (!res.headersSent) abortRequest(res, "BAD_REQUEST");
    else res.destroy();
  }

  #emitConnectionError(req: IncomingMessage, verdict: Verdict): void {
    const entry = ENGINE_ERRORS[verdict.key];
    this.stats.errors.add(entry.name, entry.message);
    const log = this.logger;
    if (verdict.key === "TOO_MANY_CONNECTIONS") {
      const suppressed = this.#limitWarnings.take();
      if (suppressed >= 0) {
        log.warn(
          { code: entry.name, max: this.opts.maxConnections, suppressed },
          "connection refused: maxConnections reached",
        );
      }
    } else if (debugEnabled(log)) {
      log.debug(
        { code: entry.name, status: entry.status, context: verdict.context },
        `connection refused: ${verdict.message ?? entry.message}`,
      );
    }
    this.emit("connection_error", {
      req,
      code: entry.code,
      message: entry.message,
      context: verdict.context,
    } satisfies ConnectionErrorEvent);
  }

  #applyMiddlewares(
    req: IncomingMessage,
    res: ServerResponse,
    done: (err?: unknown) => void,
  ): void {
    const list = this.#middlewares;
    if (list.length === 0) {
      done();
      return;
    }
    let i = 0;
    const next = (err?: unknown): void => {
      if (err !== undefined && err !== null) {
        done(err);
        return;
      }
      const fn = list[i++];
      if (fn === undefined) {
        done();
        return;
      }
      try {
        fn(req, res, next);
      } catch (e) {
        done(e);
      }
    };
    next();
  }

  #verify(req: IncomingMessage, upgrade: boolean, done: (verdict?: Verdict) => void): void {
    verifyRequest(this.#verifyContext, req, upgrade, (verdict) => {
      // A sid not held here may be another node's: the store is asked (for
      // the log; the answer is the same 400 until requests are forwarded).
      if (verdict?.key === "UNKNOWN_SID") {
        this.#sessions.lookup(String(verdict.context.sid), () => done(verdict));
      } else done(verdict);
    });
  }

  // ---- handshake ----------------------------------------------------------

  /** Generates the session id; `done` gets null (and the request refused) on failure. */
  #withId(req: IncomingMessage, done: (id: string | null) => void): void {
    let result: string | Promise<string>;
    try {
      result = this.generateId(req);
    } catch (err) {
      debug("generateId threw: %o", err);
      done(null);
      return;
    }
    if (typeof result === "string") {
      done(result);
      return;
    }
    Promise.resolve(result).then(
      (id) => done(typeof id === "string" && id ? id : null),
      () => done(null),
    );
  }

  /**
   * {@link #withId}, then records the id in the session store: null when the
   * id is taken here or on another node (or cannot be recorded).
   */
  #withClaimedId(req: IncomingMessage, done: (id: string | null) => void): void {
    this.#withId(req, (id) => {
      if (id === null || Object.hasOwn(this.clients, id)) {
        done(null);
        return;
      }
      this.#sessions.claim(id, (claimed) => {
        if (!claimed) debug("session id %s is taken in the session store", id);
        done(claimed ? id : null);
      });
    });
  }

  #handshakePolling(req: IncomingMessage, res: ServerResponse): void {
    const query = queryOf(req);
    const protocol = protocolOf(query) as ProtocolVersion;
    this.#withClaimedId(req, (id) => {
      if (id === null) {
        this.#refuseRequest(req, res, {
          key: "BAD_REQUEST",
          context: { name: "ID_GENERATION_ERROR" },
        });
        return;
      }
      const transport =
        query.j !== undefined
          ? new JsonpTransport(protocol, this.#transportConfig, query.j)
          : new PollingTransport(protocol, this.#transportConfig, query.b64 === undefined);
      const socket = new Socket(id, this, transport, req, protocol);
      this.#register(socket);
      transport.onRequest(req, res);
      this.emit("connection", socket);
    });
  }

  #register(socket: Socket): void {
    const log = this.logger;
    if (debugEnabled(log)) {
      log.debug(
        { sid: socket.id, transport: socket.transport.name, protocol: socket.protocol },
        "handshake",
      );
    }
    this.clients[socket.id] = socket;
    this.#byId.set(socket.id, socket);
    this.stats.handshakes++;
    this.stats.opened(socket.transport.name);
    if (this.clientsCount++ === 0) this.#sessions.refresh(true);
  }

  /** Package-internal: a session has closed. */
  onSocketClose(socket: Socket, reason: CloseReason, description?: unknown): void {
    const log = this.logger;
    if (description === "outgoing buffer full") {
      const suppressed = this.#slowWarnings.take();
      if (suppressed >= 0) {
        log.warn(
          {
            sid: socket.id,
            transport: socket.transport.name,
            maxBufferedBytes: this.opts.maxBufferedBytes,
            suppressed,
          },
          "slow consumer dropped: outgoing buffer full",
        );
      }
    } else if (debugEnabled(log)) {
      const fields: Record<string, unknown> = { sid: socket.id, reason };
      if (description !== undefined) {
        fields.description = description instanceof Error ? description.message : description;
      }
      log.debug(fields, "session closed");
    }
    if (this.clients[socket.id] === socket) {
      delete this.clients[socket.id];
      this.#byId.delete(socket.id);
      this.#sessions.release(socket.id);
      this.stats.closed(socket.transport.name);
      if (--this.clientsCount === 0) this.#sessions.refresh(false);
    }
    const transport = socket.transport;
    if (transport instanceof PollingTransport && transport.closedWithoutPoll) {
      this.#lingerAdd(socket.id, transport);
    }
  }

  #lingerAdd(sid: string, transport: PollingTransport): void {
    const now = Date.now();
    // Entries share one lifetime, so the oldest are first: purge from the front.
    for (const [key, entry] of this.#linger) {
      if (entry.expires > now) break;
      this.#linger.delete(key);
    }
    const ttl = Math.min(LINGER_MAX, this.opts.pingInterval + this.opts.pingTimeout);
    this.#linger.set(sid, { transport, expires: now + ttl });
  }

  #isLingering(sid: string): boolean {
    const entry = this.#linger.get(sid);
    if (entry === undefined) return false;
    if (entry.expires > Date.now()) return true;
    this.#linger.delete(sid);
    return false;
  }

  // ---- websocket upgrades -------------------------------------------------

  /** Handles an HTTP upgrade request for the engine path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#links !== null && isLinkUpgrade(req)) {
      this.#links.accept(req, socket, head);
      return;
    }
    try {
      if (this.#forwarder !== null && this.#isForeign(req)) {
        this.#locate(req, (target) => {
          if (target === null) this.#serveUpgrade(req, socket, head);
          else {
            this.#forwarder!.upgrade(target, req, socket, head, () => {
              this.#owners.forget(queryOf(req).sid);
              this.#serveUpgrade(req, socket, head);
            });
          }
        });
        return;
      }
    } catch (err) {
      this.logger.error({ err, url: req.url }, "engine upgrade failed");
      abortUpgrade(socket, "BAD_REQUEST");
      return;
    }
    this.#serveUpgrade(req, socket, head);
  }

  #serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      queryOf(req);
      const verify = (): void =>
        this.#verify(req, true, (verdict) => {
          if (verdict) this.#refuseUpgrade(req, socket, verdict);
          else this.#acceptUpgrade(req, socket, head);
        });
      // The response stand-in is for middlewares: none, none made.
      if (this.#middlewares.length === 0) {
        verify();
        return;
      }
      const res = new UpgradeResponse(req, socket);
      (req as UpgradeRequest)[kUpgradeHeaders] = res.headers;
      this.#applyMiddlewares(req, res as unknown as ServerResponse, (err) => {
        if (err) {
          this.#refuseUpgrade(req, socket, {
            key: "BAD_REQUEST",
            context: { name: "MIDDLEWARE_FAILURE" },
          });
          return;
        }
        if (res.ended) return;
        verify();
      });
    } catch (err) {
      this.logger.error({ err, url: req.url }, "engine upgrade failed");
      abortUpgrade(socket, "BAD_REQUEST");
    }
  }

  #refuseUpgrade(req: IncomingMessage, socket: Duplex, verdict: Verdict): void {
    this.#emitConnectionError(req, verdict);
    abortUpgrade(socket, verdict.key, verdict.message);
  }

  #acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.ws;
    if (wss === null) {
      abortUpgrade(socket, "UNKNOWN_TRANSPORT");
      return;
    }
    const query = queryOf(req);
    const upgradeWith = (claimed?: string): void => {
      try {
        wss.handleUpgrade(req, socket, head, (ws) => this.#onWebSocket(req, ws));
      } catch (err) {
        this.logger.error({ err, url: req.url }, "websocket upgrade failed");
        if (claimed !== undefined) this.#sessions.release(claimed);
        abortUpgrade(socket, "BAD_REQUEST");
      }
    };
    if (query.sid !== undefined) {
      upgradeWith();
      return;
    }
    // A direct websocket handshake: the id is chosen before the 101 response
    // so the session cookie can be part of it.
    this.#withClaimedId(req, (id) => {
      if (id === null) {
        this.#refuseUpgrade(req, socket, {
          key: "BAD_REQUEST",
          context: { name: "ID_GENERATION_ERROR" },
        });
        return;
      }
      (req as UpgradeRequest)[kHandshake] = { id, protocol: protocolOf(query) as ProtocolVersion };
      upgradeWith(id);
    });
  }

  #onWsHeaders(headers: string[], req: IncomingMessage): void {
    const r = req as UpgradeRequest;
    const handshake = r[kHandshake];
    const set = r[kUpgradeHeaders];
    // Nothing to add (no middleware headers, no cookie, nobody listening): no work per upgrade.
    if (
      set === undefined &&
      !(handshake !== undefined && (this.opts.cookie || hasListeners(this, "initial_headers"))) &&
      !hasListeners(this, "headers")
    ) {
      return;
    }
    const extra: OutgoingHttpHeaders = set ?? {};
    if (set !== undefined) r[kUpgradeHeaders] = undefined;
    if (handshake !== undefined) {
      if (this.opts.cookie) extra["Set-Cookie"] = [serializeCookie(handshake.id, this.opts.cookie)];
      this.emit("initial_headers", extra, req);
    }
    this.emit("headers", extra, req);
    for (const [key, value] of Object.entries(extra)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) headers.push(`${key}: ${v}`);
      else headers.push(`${key}: ${value}`);
    }
  }

  #onWebSocket(req: IncomingMessage, ws: WebSocket): void {
    const r = req as UpgradeRequest;
    const handshake = r[kHandshake];
    r[kHandshake] = undefined;
    r[kUpgradeHeaders] = undefined;
    const sid = queryOf(req).sid;
    if (handshake === undefined && sid !== undefined) {
      const client = Object.hasOwn(this.clients, sid) ? this.clients[sid] : undefined;
      if (!client || client.upgrading || client.upgraded || !this.opts.allowUpgrades) {
        debug("refusing upgrade of %s", sid);
        ws.on("error", ignore);
        ws.close();
        return;
      }
      client.maybeUpgrade(new WebSocketTransport(ws, client.protocol, this.#transportConfig));
      return;
    }
    if (handshake === undefined) {
      ws.close();
      return;
    }
    if (this.clientsCount >= this.opts.maxConnections) {
      this.#sessions.release(handshake.id);
      ws.close(1013, "Too many connections");
      return;
    }
    const transport = new WebSocketTransport(ws, handshake.protocol, this.#transportConfig);
    const socket = new Socket(handshake.id, this, transport, req, handshake.protocol);
    this.#register(socket);
    this.emit("connection", socket);
  }

  // ---- lifecycle ----------------------------------------------------------

  /**
   * Attaches to an HTTP server: requests and upgrades under `path` (default
   * "/engine.io/") are the engine's, others go to the server's other listeners.
   *
   * @example
   * engine.attach(httpServer, { path: "/realtime" });
   */
  attach(server: HttpServer, options: AttachOptions = {}): this {
    attachEngine(this, server, options);
    return this;
  }

  /**
   * Creates an HTTP server answering 501 to anything but the engine, attaches
   * to it and listens on `port`.
   *
   * @example
   * new Server().listen(3000, () => console.log("listening"));
   */
  listen(port: number, options?: AttachOptions | (() => void), callback?: () => void): this {
    if (typeof options === "function") {
      callback = options;
      options = {};
    }
    const server = createServer((_req, res) => {
      res.writeHead(501);
      res.end("Not Implemented");
    });
    this.attach(server, options ?? {});
    this.httpServer = server;
    server.listen(port, callback);
    return this;
  }

  /** Closes every session ("forced close"). The engine can still accept new ones. */
  close(): this {
    debug("closing %d sessions", this.clientsCount);
    for (const id of Object.keys(this.clients)) this.clients[id]?.close(true);
    this.#linger.clear();
    this.#forwarder?.close();
    this.#links?.close();
    return this;
  }
}

function ignore(): void {}
