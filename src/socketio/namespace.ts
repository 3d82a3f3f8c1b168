/**
 * A namespace: a communication channel multiplexed over the connections
 * (socket.io-protocol, "Multiplexing"). It owns its sockets, its connection
 * middlewares and its adapter (rooms). Broadcasting methods create operators.
 */
import { debugEnabled } from "../shared/logger.js";
import type { Adapter, PublishResult, Room, SocketId } from "./adapter.js";
import { BroadcastOperator, type FetchedRemoteSockets } from "./broadcast.js";
import type { Client } from "./client.js";
import { runMiddlewares } from "./middleware-chain.js";
import type { Server } from "./server.js";
import { Socket } from "./socket.js";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventNamesWithoutAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed-events.js";
import { StrictEventEmitter } from "./typed-events.js";

/** An error passed to `next(err)` by a connection middleware; `data` reaches the client. */
export interface ExtendedError extends Error {
  data?: unknown;
}

export interface NamespaceReservedEvents<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> {
  connect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  connection: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

/** The server's reserved events: a namespace's, and `new_namespace`. */
export interface ServerReservedEvents<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> extends NamespaceReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  new_namespace: (
    namespace: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  ) => void;
}

/** What a broadcast may send: an acknowledgement collects every client's answer. */
export type BroadcastEvents<EmitEvents extends EventsMap> =
  DecorateAcknowledgementsWithMultipleResponses<EmitEvents>;

/** What a broadcast after `timeout(ms)` may send: the answers, or the timeout error first. */
export type TimedBroadcastEvents<EmitEvents extends EventsMap> = DecorateAcknowledgements<
  BroadcastEvents<EmitEvents>
>;

/** `serverSideEmit` arguments: a callback last gets an error and every other node's answer. */
export type ServerSideEmitParams<
  ServerSideEvents extends EventsMap,
  Ev extends EventNames<ServerSideEvents>,
> = EventParams<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>, Ev>;

/** What `serverSideEmitWithAck` resolves with: one answer per other node. */
export type ServerSideAcks<
  ServerSideEvents extends EventsMap,
  Ev extends EventNames<ServerSideEvents>,
> = FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[];

/** A connection middleware: `next()` admits the socket, `next(err)` refuses it. */
export type NamespaceMiddleware<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
> = (
  socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  next: (err?: ExtendedError) => void,
) => void;

/**
 * @example
 * const admin = io.of("/admin");
 * admin.use((socket, next) => (socket.handshake.auth.token ? next() : next(new Error("no token"))));
 * admin.on("connection", (socket) => admin.emit("joined", socket.id));
 */
export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
> extends StrictEventEmitter<
  ServerSideEvents,
  EmitEvents,
  NamespaceReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: the server's own maps are any.
  readonly server: Server<any, any, any, any>;
  readonly sockets = new Map<
    SocketId,
    Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  adapter!: Adapter;
  /** Set once a socket of this namespace adds an outgoing catch-all listener. */
  _outgoingWatched = false;
  _fns: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[] = [];
  #ids = 0;

  // biome-ignore lint/suspicious/noExplicitAny: the server's own maps are any.
  constructor(server: Server<any, any, any, any>, name: string) {
    super();
    this.server = server;
    this.name = name;
    this._initAdapter();
  }

  /** Creates the adapter chosen by the server's options. */
  _initAdapter(): void {
    // A replaced adapter (`io.adapter(...)` after start) stops listening to the other nodes.
    const previous = this.adapter as Adapter | undefined;
    if (previous !== undefined) {
      Promise.resolve(previous.close()).catch((err: unknown) => {
        this.server.logger.error({ nsp: this.name, err }, "adapter close failed");
      });
    }
    this.adapter = this.server._createAdapter(this);
    Promise.resolve(this.adapter.init()).catch((err: unknown) => {
      this.server.logger.error({ nsp: this.name, err }, "adapter init failed");
    });
  }

  /** The next acknowledgement id (shared by emits and broadcasts of this namespace). */
  _nextAckId(): number {
    const id = this.#ids;
    this.#ids = (this.#ids + 1) % Number.MAX_SAFE_INTEGER;
    return id;
  }

  /** Adds a connection middleware. */
  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this._fns.push(fn);
    return this;
  }

  /** A client asks to join: recover its session, or run the middlewares. */
  _add(
    client: Client,
    auth: Record<string, unknown> = {},
    fn: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): void {
    const { pid, offset } = auth as { pid?: unknown; offset?: unknown };
    if (this.server._recovery && typeof pid === "string" && typeof offset === "string") {
      // Only a client asking to resume waits for the adapter's session lookup.
      this.#restore(client, auth, pid, offset).then((socket) => this.#admit(client, socket, fn));
      return;
    }
    this.#admit(client, new Socket(this, client, auth), fn);
  }

  async #restore(
    client: Client,
    auth: Record<string, unknown>,
    pid: string,
    offset: string,
  ): Promise<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> {
    const log = this.server.logger;
    try {
      const session = await this.adapter.restoreSession(pid, offset);
      if (session) {
        this.server.stats.recovered++;
        if (debugEnabled(log)) {
          log.debug(
            { sid: client.id, nsp: this.name, pid, missed: session.missedPackets.length },
            "recovery succeeded",
          );
        }
        // The replay and the CONNECT reply leave together (uncorked in #admit).
        client.conn.cork?.();
        return new Socket(this, client, auth, session);
      }
      // Asked even with debug off: the adapter forgets the mark once read.
      const gap = this.adapter._tookGap(pid);
      if (debugEnabled(log)) {
        log.debug(
          { sid: client.id, nsp: this.name, pid, gap },
          gap
            ? "recovery failed: gap (the packets the client missed are gone from the log)"
            : "recovery failed: no such session",
        );
      }
    } catch (err) {
      log.error({ sid: client.id, nsp: this.name, pid, err }, "recovery failed: session lookup");
    }
    this.server.stats.recoveryFailed++;
    return new Socket(this, client, auth);
  }

  /** Runs the middlewares (unless a recovered session skips them), then connects. */
  #admit(
    client: Client,
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    fn: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): void {
    const recovery = this.server._recovery;
    const open = client.conn.readyState === "open";
    if (recovery?.skipMiddlewares !== false && socket.recovered && open) {
      try {
        this.#doConnect(socket, fn);
      } finally {
        client.conn.uncork?.();
      }
      return;
    }
    runMiddlewares(this._fns, socket, (err?: ExtendedError) => {
      process.nextTick(() => {
        try {
          this.#afterMiddlewares(client, socket, fn, err);
        } finally {
          client.conn.uncork?.();
        }
      });
    });
  }

  /** A socket the middlewares let through (or refused with `err`). */
  #afterMiddlewares(
    client: Client,
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    fn: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
    err: ExtendedError | undefined,
  ): void {
    // A refused socket (or one whose connection closed meanwhile) leaves
    // the rooms a middleware or its recovered session put it in.
    if (client.conn.readyState !== "open") {
      socket._cleanup();
      return;
    }
    if (err) {
      this.server.stats.errors.add("ERR_SIO_MIDDLEWARE", `${this.name}: ${err.message}`);
      const log = this.server.logger;
      if (debugEnabled(log)) {
        log.debug(
          { sid: client.id, nsp: this.name, err },
          "connect_error: refused by a middleware",
        );
      }
      socket._cleanup();
      socket._error(
        client.conn.protocol === 3
          ? (err.data ?? err.message)
          : { message: err.message, data: err.data },
      );
      return;
    }
    this.#doConnect(socket, fn);
  }

  #doConnect(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    fn: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): void {
    this.sockets.set(socket.id, socket);
    this.server.stats.connects++;
    const log = this.server.logger;
    if (debugEnabled(log)) {
      log.debug(
        { sid: socket.client.id, socketId: socket.id, nsp: this.name, recovered: socket.recovered },
        "connect",
      );
    }
    this.adapter._onSocketAdded?.(socket.id);
    socket._onconnect();
    fn(socket);
    this.emitReserved("connect", socket);
    this.emitReserved("connection", socket);
  }

  /** Forgets a socket that left. */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    // A refused socket may share its id with a recovered session's new socket.
    if (this.sockets.get(socket.id) === socket) this.sockets.delete(socket.id);
  }

  #operator(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return new BroadcastOperator(this.adapter);
  }

  /** Targets a room (or rooms). */
  to(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().to(room);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().in(room);
  }

  /** Names a publish (see `BroadcastOperator#withId`). */
  withId(id: string): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().withId(id);
  }

  /** Emits to every socket, resolving once kept for replay (see `BroadcastOperator#publish`). */
  publish<Ev extends EventNamesWithoutAck<BroadcastEvents<EmitEvents>>>(
    ev: Ev,
    ...args: EventParams<BroadcastEvents<EmitEvents>, Ev>
  ): Promise<PublishResult> {
    return this.#operator().publish(ev, ...args);
  }

  /** Excludes a room (or rooms). */
  except(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().except(room);
  }

  /** Emits to every socket of the namespace (acknowledgements need `timeout(ms)`). */
  override emit<Ev extends EventNamesWithoutAck<EmitEvents>>(
    ev: Ev,
    ...args: EventParams<EmitEvents, Ev>
  ): boolean {
    return this.#operator().emit(ev, ...args);
  }

  /** Emits to every socket and resolves with all their answers. */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>[]> {
    const op = this.#operator() as BroadcastOperator<DefaultEventsMap>;
    return op.emitWithAck(ev as string, ...(args as unknown[])) as never;
  }

  /** Sends a `message` event to every socket. */
  send(...args: EventParams<EmitEvents, "message">): this {
    this.#operator().send(...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /**
   * Emits to the namespace of the same name on the other nodes. A function
   * last receives `(err, responses)`.
   */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: ServerSideEmitParams<ServerSideEvents, Ev>
  ): boolean {
    if (["connect", "connection", "new_namespace"].includes(ev as string)) {
      throw new Error(`"${String(ev)}" is a reserved event name`);
    }
    this.adapter.serverSideEmit([ev, ...args]);
    return true;
  }

  /** Like `serverSideEmit` with a final callback, as a promise of the responses. */
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<ServerSideAcks<ServerSideEvents, Ev>> {
    return new Promise((resolve, reject) => {
      (this.serverSideEmit as (ev: string, ...a: unknown[]) => boolean)(
        ev as string,
        ...args,
        (err: Error | null, responses: unknown[]) =>
          err ? reject(err) : resolve(responses as never),
      );
    });
  }

  /** An event from another node. */
  _onServerSideEmit(args: unknown[]): void {
    this.emitUntyped(...(args as [string, ...unknown[]]));
  }

  /** Ids of all sockets (socket.io's deprecated `allSockets`). */
  allSockets(): Promise<Set<SocketId>> {
    return this.#operator().allSockets();
  }

  /** Sets the compress flag of an operator. */
  compress(compress: boolean): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().compress(compress);
  }

  /** A volatile operator. */
  get volatile(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().volatile;
  }

  /** A this-node-only operator. */
  get local(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().local;
  }

  /** An operator with an acknowledgement timeout (also for `serverSideEmit`). */
  timeout(timeout: number): BroadcastOperator<TimedBroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().timeout(timeout);
  }

  /** The matching sockets. */
  fetchSockets(): Promise<FetchedRemoteSockets<EmitEvents, SocketData>> {
    return this.#operator().fetchSockets();
  }

  /** Makes every socket join `room`. */
  socketsJoin(room: Room | Room[]): void {
    this.#operator().socketsJoin(room);
  }

  /** Makes every socket leave `room`. */
  socketsLeave(room: Room | Room[]): void {
    this.#operator().socketsLeave(room);
  }

  /** Disconnects every socket. */
  disconnectSockets(close = false): void {
    this.#operator().disconnectSockets(close);
  }
}
