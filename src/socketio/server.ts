/**
 * The Socket.IO server (`import { Server } from "switchboard"`): socket.io 4's
 * API on Switchboard's engine. An app moves from socket.io by changing its
 * import; socket.io-client 4.8 (and v2 with `allowEIO3`) connects unchanged.
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { Http2SecureServer } from "node:http2";
import type { Broker } from "../cluster/index.js";
import type { DecoderOptions, Packet } from "../codec/socketio/index.js";
import { Hub } from "../core/index.js";
import { Server as EngineServer, PreparedMessage } from "../engine/index.js";
import type { EngineOptions } from "../engine/types.js";
import { debugLogger } from "../shared/debug.js";
import { childLogger, debugEnabled, type Logger } from "../shared/logger.js";
import { Adapter, type PublishResult, type Room, type SocketId } from "./adapter.js";
import type { BroadcastOperator, FetchedRemoteSockets } from "./broadcast.js";
import { Client } from "./client.js";
import { ClusterSessionAdapter } from "./cluster-recovery.js";
import { DeadlineQueue } from "./deadline-queue.js";
import type { EngineSocket } from "./engine-contract.js";
import { type Handler, resolveHandler } from "./handler.js";
import {
  type BroadcastEvents,
  Namespace,
  type NamespaceMiddleware,
  type ServerReservedEvents,
  type ServerSideAcks,
  type ServerSideEmitParams,
  type TimedBroadcastEvents,
} from "./namespace.js";
import {
  checkAdapter,
  checkCount,
  checkPath,
  checkServerOptions,
  InvalidOptionError,
  portNumber,
} from "./options.js";
import { ParentNamespace, type ParentNspNameMatchFn } from "./parent-namespace.js";
import { defaultParser, type EncoderLike, type ParserOption } from "./parser.js";
import { createClientFileHandler } from "./serve-client.js";
import {
  type ConnectionStateRecoveryOptions,
  DEFAULT_PUBLISH_DEDUPE_WINDOW,
  SessionAwareAdapter,
} from "./session-adapter.js";
import type { Socket } from "./socket.js";
import { SocketIoStats } from "./stats.js";
import type {
  AllButLast,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventNamesWithoutAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  RemoveAcknowledgements,
} from "./typed-events.js";
import { StrictEventEmitter } from "./typed-events.js";

// biome-ignore lint/suspicious/noExplicitAny: adapters receive any namespace.
export type AdapterConstructor = new (nsp: Namespace<any, any, any, any>) => Adapter;

export interface ServerOptions extends EngineOptions {
  /** Path to capture. Default "/socket.io". */
  path?: string;
  /** Serve the client bundle at `<path>/socket.io.js` etc. Default true. */
  serveClient?: boolean;
  /** Adapter class (rooms, broadcasting). Default: the in-memory adapter. */
  adapter?: AdapterConstructor;
  /** Socket.IO packet codec, socket.io's `{ Encoder, Decoder }` shape. Default: Switchboard's. */
  parser?: ParserOption;
  /** Milliseconds a connection may stay without joining a namespace. Default 45000. */
  connectTimeout?: number;
  /** Connection state recovery; off unless given. */
  connectionStateRecovery?: ConnectionStateRecoveryOptions;
  /** Remove a dynamic child namespace when its last socket leaves. Default false. */
  cleanupEmptyChildNamespaces?: boolean;
  /** Most binary attachments one packet may carry. Default 10. */
  maxAttachments?: number;
  /**
   * Deepest nesting of arrays and objects in an incoming packet's JSON (EVENT
   * and ACK arguments, CONNECT auth), the payload itself counting as one
   * level. A deeper packet closes its client ("forced close", as any malformed packet). Default 64.
   */
  maxPayloadDepth?: number;
  /**
   * Broker to the other nodes: rooms, broadcasts and cluster queries then
   * span every node of the broker. Default: none (this node alone, nothing
   * forwarded). A Bayeux server given the same broker shares its hub.
   */
  broker?: Broker;
  /** PocketIO: a handler run for every connection to the main namespace. */
  handler?: Handler;
  /** Whether the path ends with a slash ("/socket.io/"). Default true. */
  addTrailingSlash?: boolean;
  /**
   * Where the server logs: any pino-compatible logger. The Socket.IO layer
   * logs through `logger.child({ component: "socketio" })` and the engine
   * through `logger.child({ component: "engine" })` (the logger itself when
   * it has no `child`). Connections, refusals, disconnections, recoveries and
   * ack timeouts are debug records; cluster and backend problems are warnings
   * or errors. Default: warnings and errors to stderr.
   *
   * @example
   * new Server({ logger: pino() });
   */
  logger?: Logger;
}

interface ResolvedRecovery {
  maxDisconnectionDuration: number;
  skipMiddlewares: boolean;
  maxBufferedPackets: number;
  messageLog: ConnectionStateRecoveryOptions["messageLog"];
  sessionStore: ConnectionStateRecoveryOptions["sessionStore"];
  publishDedupeWindow: number;
  replayCache: ConnectionStateRecoveryOptions["replayCache"];
}

/** The port an HTTP server listens on (the bound one, with port 0). */
function portOf(server: HttpServer): number | undefined {
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : undefined;
}

/** Pooled randomness: ids cost a slice, not a syscall. */
let pool = Buffer.alloc(0);
let poolOffset = 0;
function randomId(): string {
  if (poolOffset + 15 > pool.length) {
    pool = randomBytes(15 * 256);
    poolOffset = 0;
  }
  const id = pool.toString("base64url", poolOffset, poolOffset + 15);
  poolOffset += 15;
  return id;
}

/**
 * @example
 * import { Server } from "switchboard";
 *
 * const io = new Server(3000, { cors: { origin: "*" } });
 * io.on("connection", (socket) => {
 *   socket.on("hello", (name, ack) => ack(`hi ${name}`));
 * });
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
> extends StrictEventEmitter<
  ServerSideEvents,
  RemoveAcknowledgements<EmitEvents>,
  ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  /** The main namespace `/`. */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The Engine.IO server. */
  engine!: EngineServer;
  /** The HTTP server, once attached. */
  httpServer: HttpServer | undefined;
  readonly encoder: EncoderLike;
  /** The broker to the other nodes, when one was given. */
  readonly broker: Broker | undefined;
  /**
   * The message core: the broker's hub (shared with every server given the
   * same broker), or a local-only hub of this server.
   */
  readonly hub: Hub;
  /** Counters read by the node stats and metrics (see `SocketIoStats`). */
  readonly stats = new SocketIoStats();
  readonly _opts: ServerOptions;
  /** Where the Socket.IO layer logs: the `logger` option's `child({ component: "socketio" })`. */
  readonly logger: Logger;
  /** Static and created namespaces, by name. */
  // biome-ignore lint/suspicious/noExplicitAny: namespaces of any maps.
  readonly _nsps = new Map<string, Namespace<any, any, any, any>>();
  /** Resolved recovery options, or undefined when recovery is off. */
  readonly _recovery: ResolvedRecovery | undefined;
  readonly #parentNsps = new Map<
    ParentNspNameMatchFn,
    ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  #parser: ParserOption;
  #decoderOptions: DecoderOptions | undefined;
  #adapter: AdapterConstructor | undefined;
  #path: string;
  #serveClient: boolean;
  #connectTimeout: number;
  #pendingConnect: DeadlineQueue<Client>;

  constructor(opts?: Partial<ServerOptions>);
  constructor(
    srv?: HttpServer | Http2SecureServer | number | string,
    opts?: Partial<ServerOptions>,
  );
  constructor(
    srv?: HttpServer | Http2SecureServer | number | string | Partial<ServerOptions>,
    opts: Partial<ServerOptions> = {},
  ) {
    super();
    if (typeof srv === "object" && srv !== null && !("listen" in srv)) {
      opts = srv as Partial<ServerOptions>;
      srv = undefined;
    }
    checkServerOptions(opts);
    this._opts = opts;
    this.logger = childLogger(opts.logger ?? debugLogger("socketio"), { component: "socketio" });
    // As socket.io's `path()`: "/custom/" and "/custom" name the same path ("/" stays).
    this.#path = (opts.path ?? "/socket.io").replace(/(.)\/$/, "$1");
    this.#serveClient = opts.serveClient !== false;
    this.#parser = opts.parser ?? defaultParser;
    this.encoder = new this.#parser.Encoder();
    this.#adapter = opts.adapter;
    this.#connectTimeout = opts.connectTimeout ?? 45_000;
    this.#pendingConnect = this.#makeConnectQueue();
    this.broker = opts.broker;
    this.hub = opts.broker ? Hub.for(opts.broker) : new Hub();
    this.hub.offerLogger(this.logger);
    const recovery = opts.connectionStateRecovery;
    this._recovery = recovery
      ? {
          maxDisconnectionDuration: recovery.maxDisconnectionDuration ?? 120_000,
          skipMiddlewares: recovery.skipMiddlewares ?? true,
          maxBufferedPackets: recovery.maxBufferedPackets ?? 10_000,
          messageLog: recovery.messageLog,
          sessionStore: recovery.sessionStore ?? opts.sessionStore,
          publishDedupeWindow: recovery.publishDedupeWindow ?? DEFAULT_PUBLISH_DEDUPE_WINDOW,
          replayCache: recovery.replayCache,
        }
      : undefined;
    this.sockets = this.of("/");
    if (opts.handler) {
      const run = resolveHandler(opts.handler, this);
      this.sockets.on("connection", run as never);
    }
    this.bind(new EngineServer(this.#engineOptions()));
    // socket.io skips only undefined, null and "": a port 0 still listens.
    if (srv !== undefined && srv !== null && srv !== "") this.attach(srv as HttpServer | number);
  }

  /**
   * PocketIO: a server whose main namespace runs `handler` per connection.
   *
   * @example
   * const io = Server.fromHandler((socket) => socket.on("message", (m) => socket.send(m)));
   * io.listen(3000);
   */
  static fromHandler(handler: Handler, opts: Partial<ServerOptions> = {}): Server {
    return new Server({ ...opts, handler });
  }

  #engineOptions(): EngineOptions & { path: string; addTrailingSlash?: boolean } {
    const {
      serveClient: _s,
      adapter: _a,
      parser: _p,
      connectTimeout: _c,
      connectionStateRecovery: _r,
      cleanupEmptyChildNamespaces: _e,
      maxAttachments: _m,
      maxPayloadDepth: _d,
      broker: _b,
      handler: _h,
      ...engine
    } = this._opts;
    return { ...(this.broker ? { nodeId: this.broker.nodeId } : {}), ...engine, path: this.#path };
  }

  #makeConnectQueue(): DeadlineQueue<Client> {
    return new DeadlineQueue(this.#connectTimeout, (client) => {
      if (!client.joined && client.conn.readyState === "open") {
        const log = this.logger;
        if (debugEnabled(log)) log.debug({ sid: client.id }, "no namespace joined in time");
        client.close();
      }
    });
  }

  /** Whether the client bundle is served; sets it when given. */
  serveClient(): boolean;
  serveClient(v: boolean): this;
  serveClient(v?: boolean): this | boolean {
    if (v === undefined) return this.#serveClient;
    this.#serveClient = v;
    return this;
  }

  /** The path captured; sets it when given (before attaching). */
  path(): string;
  path(v: string): this;
  path(v?: string): this | string {
    if (v === undefined) return this.#path;
    this.#path = checkPath(v).replace(/\/$/, "");
    return this;
  }

  /** Milliseconds a connection may stay in no namespace; sets it when given. */
  connectTimeout(): number;
  connectTimeout(v: number): this;
  connectTimeout(v?: number): this | number {
    if (v === undefined) return this.#connectTimeout;
    this.#connectTimeout = checkCount(v, "connectTimeout");
    this.#pendingConnect.clear();
    this.#pendingConnect = this.#makeConnectQueue();
    return this;
  }

  /** The adapter class; sets it (re-creating every namespace's adapter) when given. */
  adapter(): AdapterConstructor | undefined;
  adapter(v: AdapterConstructor): this;
  adapter(v?: AdapterConstructor): this | AdapterConstructor | undefined {
    if (v === undefined) return this.#adapter;
    checkAdapter(v);
    this.#adapter = v;
    for (const nsp of this._nsps.values()) nsp._initAdapter();
    return this;
  }

  /** Attaches to an HTTP server, or creates one listening on `port`. */
  attach(
    srv: HttpServer | Http2SecureServer | number | string,
    opts: Partial<ServerOptions> = {},
  ): this {
    checkServerOptions(opts);
    let server: HttpServer;
    if (typeof srv === "object" && srv !== null) {
      server = srv as HttpServer;
    } else {
      const port = portNumber(srv);
      if (port === undefined) {
        throw new InvalidOptionError("srv", "an HTTP server or a port (a number or digits)", srv);
      }
      server = createServer();
      server.once("listening", () => this.logger.info({ port: portOf(server) }, "listening"));
      server.listen(port);
    }
    if (opts.path) this.path(opts.path);
    if (opts.serveClient !== undefined) this.#serveClient = opts.serveClient;
    this.engine.attach(server, {
      ...this.#engineOptions(),
      ...opts,
      path: this.#path,
    } as Parameters<EngineServer["attach"]>[1]);
    if (this.#serveClient) this.#attachServe(server);
    this.httpServer = server;
    return this;
  }

  /** Alias of `attach`. */
  listen(
    srv: HttpServer | Http2SecureServer | number | string,
    opts: Partial<ServerOptions> = {},
  ): this {
    return this.attach(srv, opts);
  }

  #attachServe(server: HttpServer): void {
    const serve = createClientFileHandler(this.#path, () => this.engine.opts.cors);
    const previous = server.listeners("request").slice(0) as ((...args: unknown[]) => void)[];
    server.removeAllListeners("request");
    server.on("request", (req, res) => {
      if (this.#serveClient && serve(req, res)) return;
      for (const listener of previous) listener.call(server, req, res);
    });
  }

  /** Uses `engine` as the Engine.IO server. */
  bind(engine: EngineServer): this {
    this.engine = engine;
    engine.on("connection", (conn: EngineSocket) => this.#onconnection(conn));
    return this;
  }

  #onconnection(conn: EngineSocket): void {
    const client = new Client(this, conn);
    // A Socket.IO v4-protocol client (Engine.IO v3) is in `/` without asking.
    if (conn.protocol === 3) client.connect("/");
  }

  /** Starts the `connectTimeout` clock of a new client. */
  _awaitNamespace(client: Client): void {
    client._connectTicket = this.#pendingConnect.push(client);
  }

  /** A client joined or closed: its `connectTimeout` entry lets it go now, not at the deadline. */
  _forgetPending(client: Client): void {
    const ticket = client._connectTicket;
    if (ticket >= 0) this.#pendingConnect.release(ticket, client);
  }

  _createDecoder() {
    // One options object for every connection's decoder: they share it.
    this.#decoderOptions ??= {
      maxAttachments: this._opts.maxAttachments ?? 10,
      maxPayloadDepth: this._opts.maxPayloadDepth,
    };
    return new this.#parser.Decoder(this.#decoderOptions);
  }

  // biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
  _createAdapter(nsp: Namespace<any, any, any, any>): Adapter {
    if (this.#adapter) return new this.#adapter(nsp);
    const recovery = this._recovery;
    if (recovery) {
      // Several nodes sharing a log: delivered in log order, sessions in the store.
      if (recovery.messageLog !== undefined && this.hub.clustered) {
        return new ClusterSessionAdapter(nsp, { ...recovery, messageLog: recovery.messageLog });
      }
      return new SessionAwareAdapter(nsp, recovery);
    }
    return new Adapter(nsp);
  }

  /** Prepares the encoded messages of one broadcast packet once for every recipient. */
  _prepare(messages: readonly (string | Buffer)[]): PreparedMessage[] {
    const out = new Array<PreparedMessage>(messages.length);
    for (let i = 0; i < messages.length; i++) out[i] = new PreparedMessage(messages[i]);
    return out;
  }

  /** A new socket or session id (20 characters of base64url). */
  _generateId(): string {
    return randomId();
  }

  /** Encodes a packet with the configured parser. */
  _encode(packet: Packet): (string | Buffer)[] {
    return this.encoder.encode(packet);
  }

  // biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
  _emitNewNamespace(nsp: Namespace<any, any, any, any>): void {
    // Listeners registered with `io.on` live on the main namespace (see below).
    EventEmitter.prototype.emit.call(this.sockets, "new_namespace", nsp);
  }

  /** Finds a dynamic namespace parent accepting `name`. */
  _checkNamespace(
    name: string,
    auth: Record<string, unknown>,
    // biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
    fn: (nsp: Namespace<any, any, any, any> | false) => void,
  ): void {
    const parents = [...this.#parentNsps];
    const next = (i: number): void => {
      const entry = parents[i];
      if (!entry) {
        fn(false);
        return;
      }
      const [match, parent] = entry;
      try {
        match(name, auth, (err, allow) => {
          if (err || !allow) next(i + 1);
          else fn(this._nsps.get(name) ?? parent.createChild(name));
        });
      } catch (err) {
        this.logger.warn({ nsp: name, err }, "a namespace matcher threw");
        next(i + 1);
      }
    };
    next(0);
  }

  /**
   * The namespace `name` (created on first use), or a dynamic parent for a
   * RegExp or a matcher function.
   *
   * @example
   * io.of("/admin").on("connection", (socket) => {});
   * io.of(/^\/room-\d+$/).on("connection", (socket) => {});
   */
  of(
    name: string | RegExp | ParentNspNameMatchFn,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name === "function" || name instanceof RegExp) {
      const parent = new ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(
        this,
      );
      const match: ParentNspNameMatchFn =
        typeof name === "function"
          ? name
          : (nsp, _auth, next) => next(null, (name as RegExp).test(nsp));
      this.#parentNsps.set(match, parent);
      if (fn) parent.on("connect", fn as never);
      return parent;
    }
    const nspName = name.startsWith("/") ? name : `/${name}`;
    let nsp = this._nsps.get(nspName);
    if (!nsp) {
      nsp = new Namespace(this, nspName);
      this._nsps.set(nspName, nsp);
      if (nspName !== "/") this._emitNewNamespace(nsp);
    }
    if (fn) nsp.on("connect", fn as never);
    return nsp;
  }

  /**
   * Closes every connection ("server shutting down"), the engine and the
   * HTTP server.
   */
  close(fn?: (err?: Error) => void): Promise<void> {
    this.logger.info({ clients: this.engine.clientsCount }, "closing");
    for (const nsp of this._nsps.values()) {
      for (const socket of [...nsp.sockets.values()]) socket._onclose("server shutting down");
      void nsp.adapter.close();
    }
    for (const parent of this.#parentNsps.values()) void parent.adapter.close();
    this.#pendingConnect.clear();
    this.engine.close();
    return new Promise((resolve) => {
      const done = (err?: Error) => {
        fn?.(err);
        resolve();
      };
      if (this.httpServer) {
        this.httpServer.close((err) => done(err));
        this.httpServer.closeAllConnections?.();
      } else done();
    });
  }

  /** Adds a connection middleware to the main namespace. */
  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this.sockets.use(fn);
    return this;
  }

  /** Targets a room (or rooms) of the main namespace. */
  to(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.sockets.to(room);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.sockets.in(room);
  }

  /** Excludes a room (or rooms) of the main namespace. */
  except(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.sockets.except(room);
  }

  /** Emits to every socket of the main namespace (acknowledgements need `timeout(ms)`). */
  override emit<Ev extends EventNamesWithoutAck<EmitEvents>>(
    ev: Ev,
    ...args: EventParams<EmitEvents, Ev>
  ): boolean {
    return this.sockets.emit(ev, ...args);
  }

  /** Emits to every socket of the main namespace and collects their answers. */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>[]> {
    const nsp = this.sockets as unknown as Namespace<DefaultEventsMap, DefaultEventsMap>;
    return nsp.emitWithAck(ev as string, ...(args as unknown[])) as never;
  }

  /** Sends a `message` event to every socket of the main namespace. */
  send(...args: EventParams<EmitEvents, "message">): this {
    this.sockets.send(...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /** Emits to the main namespace of the other nodes. */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: ServerSideEmitParams<ServerSideEvents, Ev>
  ): boolean {
    return this.sockets.serverSideEmit(ev, ...args);
  }

  /** `serverSideEmit` resolving with the other nodes' answers. */
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<ServerSideAcks<ServerSideEvents, Ev>> {
    return this.sockets.serverSideEmitWithAck(ev, ...args);
  }

  /** Ids of the main namespace's sockets. */
  allSockets(): Promise<Set<SocketId>> {
    return this.sockets.allSockets();
  }

  compress(compress: boolean): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.sockets.compress(compress);
  }

  get volatile(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.sockets.volatile;
  }

  /** Names a publish of the main namespace (see `BroadcastOperator#withId`). */
  withId(id: string): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.sockets.withId(id);
  }

  /** Emits to the main namespace, resolving once kept for replay (see `BroadcastOperator#publish`). */
  publish<Ev extends EventNamesWithoutAck<BroadcastEvents<EmitEvents>>>(
    ev: Ev,
    ...args: EventParams<BroadcastEvents<EmitEvents>, Ev>
  ): Promise<PublishResult> {
    return this.sockets.publish(ev, ...args);
  }

  get local(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.sockets.local;
  }

  timeout(timeout: number): BroadcastOperator<TimedBroadcastEvents<EmitEvents>, SocketData> {
    return this.sockets.timeout(timeout);
  }

  fetchSockets(): Promise<FetchedRemoteSockets<EmitEvents, SocketData>> {
    return this.sockets.fetchSockets();
  }

  socketsJoin(room: Room | Room[]): void {
    this.sockets.socketsJoin(room);
  }

  socketsLeave(room: Room | Room[]): void {
    this.sockets.socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }
}

/*
 * As in socket.io, the server's listener methods are the main namespace's:
 * `io.on("connection", ...)` is `io.sockets.on("connection", ...)`.
 */
for (const method of [
  "on",
  "once",
  "off",
  "addListener",
  "removeListener",
  "prependListener",
  "prependOnceListener",
  "removeAllListeners",
  "listeners",
  "rawListeners",
  "listenerCount",
  "eventNames",
  "setMaxListeners",
  "getMaxListeners",
] as const) {
  Object.defineProperty(Server.prototype, method, {
    configurable: true,
    writable: true,
    value: function (this: Server, ...args: unknown[]) {
      const nsp = this.sockets as unknown as Record<string, (...a: unknown[]) => unknown>;
      const result = nsp[method].apply(nsp, args);
      return result === nsp ? this : result;
    },
  });
}
