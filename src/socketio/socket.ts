/**
 * A Socket.IO socket: one client in one namespace. Mirrors socket.io 4's
 * `Socket` (events both ways, acks both ways, rooms, per-socket middleware,
 * catch-all listeners) plus PocketIO's `set`/`get`/`sockets` verbs.
 *
 * Idle cost is kept small: ack table, middleware list, catch-all lists and the
 * handshake object are created on first use.
 */
import type { IncomingMessage } from "node:http";
import {
  type Packet,
  PacketType,
  RESERVED_EVENTS,
  SocketIOProtocolError,
  sanitizeRecord,
} from "../codec/socketio/index.js";
import { createDebug } from "../shared/debug.js";
import { debugEnabled } from "../shared/logger.js";
import { Adapter, type BroadcastFlags, type Room, type Session, type SocketId } from "./adapter.js";
import { BroadcastOperator } from "./broadcast.js";
import type { Client } from "./client.js";
import type { EngineSocket } from "./engine-contract.js";
import { runMiddlewares } from "./middleware-chain.js";
import type { Namespace } from "./namespace.js";
import { getDataKey, setDataKey } from "./pocketio-data.js";
import {
  type AnyListener,
  type DisconnectReason,
  type Event,
  type Handshake,
  parseQuery,
  RECOVERABLE_DISCONNECT_REASONS,
  SocketHandshake,
  type SocketMiddleware,
  type SocketReservedEvents,
} from "./socket-types.js";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed-events.js";
import { StrictEventEmitter } from "./typed-events.js";

export {
  type AnyListener,
  type DisconnectReason,
  type Event,
  type Handshake,
  parseQuery,
  RECOVERABLE_DISCONNECT_REASONS,
  type SocketMiddleware,
  type SocketReservedEvents,
};

const debug = createDebug("socketio:socket");

type AckFn = (...args: unknown[]) => void;

/** What a broadcast from a socket may send: an acknowledgement collects every client's answer. */
type BroadcastEvents<EmitEvents extends EventsMap> =
  DecorateAcknowledgementsWithMultipleResponses<EmitEvents>;

const NO_FLAGS: BroadcastFlags = Object.freeze({}) as BroadcastFlags;

/**
 * @example
 * io.on("connection", (socket) => {
 *   socket.join("lobby");
 *   socket.on("chat", (text, ack) => {
 *     socket.to("lobby").emit("chat", text);
 *     ack("delivered");
 *   });
 * });
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
> extends StrictEventEmitter<ListenEvents, EmitEvents, SocketReservedEvents> {
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  readonly client: Client;
  /** Session id in this namespace (not the engine id). */
  readonly id: SocketId;
  /** Created on first access: most sockets never store anything. */
  #data: SocketData | typeof UNSET = UNSET;
  /** Whether the socket is in its namespace. */
  connected = false;
  /** Private session id used for recovery (sent to the client, never broadcast). */
  readonly _pid: string | undefined;

  /** Connect time, in ms since `TIME_BASE` (a small integer, stored inline). */
  readonly #issued = sinceTimeBase();
  /** State most sockets never have, in one object made on first need. */
  #extras: SocketExtras | null = null;
  #handshake: SocketHandshake | null = null;
  #flags: BroadcastFlags = NO_FLAGS;
  #acks: Map<number, AckFn> | undefined;

  constructor(
    nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Client,
    auth: Record<string, unknown>,
    previousSession?: Session,
  ) {
    super();
    this.nsp = nsp;
    this.client = client;
    if (auth && typeof auth === "object" && !isEmpty(auth)) {
      this.#more().auth = sanitizeRecord(auth);
    }
    if (previousSession) {
      this.id = previousSession.sid;
      this._pid = previousSession.pid;
      // As socket.io 4.8: rooms are restored and missed packets written before
      // the middlewares run, so the replayed EVENTs precede the CONNECT reply
      // (socket.io-client buffers them and emits them just before "connect").
      this.join(previousSession.rooms);
      this.data = previousSession.data as SocketData;
      for (const data of previousSession.missedPackets) {
        this.packet({ type: PacketType.EVENT, nsp: nsp.name, data });
      }
      this.#more().recovered = true;
    } else {
      this.id =
        client.conn.protocol === 3
          ? nsp.name === "/"
            ? client.id
            : `${nsp.name}#${client.id}`
          : nsp.server._generateId();
      if (nsp.server._recovery) this._pid = nsp.server._generateId();
    }
  }

  /** Arbitrary per-socket data; survives recovery and shows in `fetchSockets()`. */
  get data(): SocketData {
    if (this.#data === UNSET) this.#data = {} as SocketData;
    return this.#data as SocketData;
  }

  set data(value: SocketData) {
    this.#data = value;
  }

  #more(): SocketExtras {
    this.#extras ??= {
      auth: undefined,
      recovered: false,
      closed: false,
      fns: undefined,
      anyIncoming: undefined,
      anyOutgoing: undefined,
    };
    return this.#extras;
  }

  /** Whether this connection restored an earlier session (connection state recovery). */
  get recovered(): boolean {
    return this.#extras?.recovered === true;
  }

  /** The handshake details (made on first access, then kept; its fields are read when used). */
  get handshake(): Handshake {
    this.#handshake ??= new SocketHandshake(this);
    return this.#handshake;
  }

  /** For {@link SocketHandshake}: the connect time, ms since the epoch. */
  get _issuedAt(): number {
    return TIME_BASE + this.#issued;
  }

  /** For {@link SocketHandshake}: the non-empty CONNECT auth payload. */
  get _authPayload(): Record<string, unknown> | undefined {
    return this.#extras?.auth;
  }

  /** For {@link SocketHandshake}: the engine's peer address. */
  get _remoteAddress(): string | undefined {
    return (this.conn as EngineSocket & { remoteAddress?: string }).remoteAddress;
  }

  /** The Engine.IO connection. */
  get conn(): EngineSocket {
    return this.client.conn;
  }

  /** The HTTP request of the handshake. */
  get request(): IncomingMessage {
    return this.client.request;
  }

  get adapter(): Adapter {
    return this.nsp.adapter;
  }

  /** Whether the socket left its namespace. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** Rooms this socket is in (its own id included). */
  get rooms(): Set<Room> {
    return new Set(this.adapter.socketRooms(this.id) ?? []);
  }

  /**
   * Emits an event to this client. A function as last argument receives the
   * client's acknowledgement.
   *
   * @example
   * socket.emit("hello", "world", (answer) => console.log(answer));
   */
  override emit<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: EventParams<EmitEvents, Ev>
  ): boolean {
    if (RESERVED_EVENTS.has(ev as string))
      throw new Error(`"${String(ev)}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: this.nsp.name, data };
    const flags = this.#flags;
    this.#flags = NO_FLAGS;
    let ack: AckFn | undefined;
    if (typeof data[data.length - 1] === "function") {
      ack = data.pop() as AckFn;
      packet.id = this.nsp._nextAckId();
    }
    if (this.nsp.server._recovery && packet.id === undefined && !flags.volatile) {
      // Goes through the adapter so the packet gets an offset and is kept for replay.
      this.adapter.broadcast(packet, { rooms: new Set([this.id]), except: new Set(), flags });
    } else {
      this._notifyOutgoing(data);
      this.packet(packet, flags);
    }
    // Registered once sent (no answer can arrive before): a packet that
    // failed to encode and threw leaves no ack or timer behind.
    if (ack !== undefined) this.#registerAck(packet.id as number, ack, flags.timeout);
    return true;
  }

  /**
   * Emits and resolves with the client's acknowledgement; rejects on timeout
   * when used after `timeout(ms)`.
   *
   * @example
   * const answer = await socket.timeout(1000).emitWithAck("question", 42);
   */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    const withErr = this.#flags.timeout !== undefined;
    return new Promise((resolve, reject) => {
      const cb = withErr
        ? (err: Error | null, arg: unknown) => (err ? reject(err) : resolve(arg as never))
        : (arg: unknown) => resolve(arg as never);
      (this.emit as (ev: string, ...a: unknown[]) => boolean)(ev as string, ...args, cb);
    });
  }

  #registerAck(id: number, ack: AckFn, timeout: number | undefined): void {
    const acks = (this.#acks ??= new Map());
    if (timeout === undefined) {
      acks.set(id, ack);
      return;
    }
    const timer = setTimeout(() => {
      acks.delete(id);
      this.nsp.server.stats.ackTimeouts++;
      const log = this.nsp.server.logger;
      if (debugEnabled(log)) {
        log.debug(
          { sid: this.client.id, socketId: this.id, nsp: this.nsp.name, ackId: id, timeout },
          "ack timed out",
        );
      }
      ack.call(this, new Error("operation has timed out"));
    }, timeout);
    acks.set(id, (...args: unknown[]) => {
      clearTimeout(timer);
      ack.call(this, null, ...args);
    });
  }

  /** Registers an acknowledgement expected for a broadcast with ack id `id`. */
  _registerBroadcastAck(id: number, ack: AckFn): void {
    (this.#acks ??= new Map()).set(id, ack);
  }

  /** How many acknowledgements this socket still waits for (for tests and diagnostics). */
  get _pendingAcks(): number {
    return this.#acks?.size ?? 0;
  }

  /** Drops an acknowledgement that timed out at the broadcast level. */
  _forgetAck(id: number): void {
    this.#acks?.delete(id);
  }

  /** Sends a `message` event (`socket.send(...)` as in socket.io and PocketIO). */
  send(...args: EventParams<EmitEvents, "message">): this {
    (this.emit as (ev: string, ...a: unknown[]) => boolean)("message", ...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /** Writes a packet to this socket's connection. */
  packet(packet: Packet, flags: BroadcastFlags = NO_FLAGS): void {
    packet.nsp = this.nsp.name;
    this.client._packet(packet, flags);
  }

  /** Joins a room or several; does nothing once the socket has left its namespace. */
  join(rooms: Room | Room[]): Promise<void> | void {
    // A socket that disconnected (or was refused by a middleware) must not
    // reappear in a room: nothing would ever remove it (socket.io's `_cleanup`).
    if (this.#extras?.closed === true) return;
    const adapter = this.adapter;
    if (typeof rooms !== "object" && adapter.addAll === Adapter.prototype.addAll) {
      (adapter as Adapter)._addOne(this.id, rooms);
      return;
    }
    return adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms]));
  }

  /** Leaves a room. */
  leave(room: Room): Promise<void> | void {
    return this.adapter.del(this.id, room);
  }

  /** Leaves every room (its own id's room included), as socket.io's `leaveAll`. */
  leaveAll(): void {
    this.adapter.delAll(this.id);
  }

  /**
   * Leaves every room and the namespace for good: later `join` calls do
   * nothing. Run on disconnection and when a middleware refuses the socket.
   */
  _cleanup(): void {
    this.#more().closed = true;
    this.leaveAll();
    this.nsp._remove(this);
  }

  /** Refuses the connection: a CONNECT_ERROR packet with `err` as payload. */
  _error(err: unknown): void {
    this.packet({ type: PacketType.CONNECT_ERROR, nsp: this.nsp.name, data: err });
  }

  /** Called by the namespace once middlewares passed: sends the CONNECT reply. */
  _onconnect(): void {
    this.connected = true;
    this.join(this.id);
    if (this.conn.protocol === 3) {
      this.packet({ type: PacketType.CONNECT, nsp: this.nsp.name });
    } else {
      const data: Record<string, string> = { sid: this.id };
      if (this._pid) data.pid = this._pid;
      this.packet({ type: PacketType.CONNECT, nsp: this.nsp.name, data });
    }
  }

  /** A packet from the client for this namespace (ignored once disconnected). */
  _onpacket(packet: Packet): void {
    if (!this.connected) {
      debug("socket %s: packet after disconnection ignored", this.id);
      return;
    }
    switch (packet.type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.#onevent(packet);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.#onack(packet);
        break;
      case PacketType.DISCONNECT:
        this._onclose("client namespace disconnect");
        break;
    }
  }

  #onevent(packet: Packet): void {
    this.nsp.server.stats.eventsIn++;
    const args = packet.data as unknown[];
    if (packet.id !== undefined) args.push(this.#makeAck(packet.id));
    const extras = this.#extras;
    const anyIncoming = extras?.anyIncoming;
    if (anyIncoming?.length) {
      for (const listener of anyIncoming.slice()) {
        (listener as (...a: unknown[]) => void).apply(this, args);
      }
    }
    if (!extras?.fns?.length) {
      if (this.connected) this.emitUntyped(...(args as [string, ...unknown[]]));
      return;
    }
    runMiddlewares(extras.fns, args as Event, (err) => {
      if (err) this._onerror(err);
      else if (this.connected) this.emitUntyped(...(args as [string, ...unknown[]]));
    });
  }

  #makeAck(id: number): AckFn {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return;
      sent = true;
      this.nsp.server.stats.acksSent++;
      this.packet({ type: PacketType.ACK, nsp: this.nsp.name, id, data: args });
    };
  }

  #onack(packet: Packet): void {
    const ack = this.#acks?.get(packet.id as number);
    if (typeof ack !== "function") {
      debug("socket %s: unknown ack id %d", this.id, packet.id);
      return;
    }
    this.#acks?.delete(packet.id as number);
    this.nsp.server.stats.acksReceived++;
    ack.apply(this, packet.data as unknown[]);
  }

  /** A protocol or middleware error: raised as `error` when someone listens. */
  _onerror(err: Error): void {
    if (this.listenerCount("error") > 0) this.emitReserved("error", err);
    else {
      const log = this.nsp.server.logger;
      const fields = { sid: this.client.id, socketId: this.id, nsp: this.nsp.name, err };
      // A client's malformed packet is the client's problem; anything else (a
      // middleware that threw, a reply that did not encode) is the app's.
      if (!(err instanceof SocketIOProtocolError))
        log.warn(fields, "socket error, no error listener");
      else if (debugEnabled(log)) log.debug(fields, "protocol error");
    }
  }

  /** Leaves the namespace with `reason`, raising `disconnecting` then `disconnect`. */
  _onclose(reason: string, description?: unknown): void {
    if (!this.connected) return;
    const why = reason as DisconnectReason;
    this.emitReserved("disconnecting", why, description);
    if (this.nsp.server._recovery && RECOVERABLE_DISCONNECT_REASONS.has(reason) && this._pid) {
      this.adapter.persistSession({
        sid: this.id,
        pid: this._pid,
        rooms: [...(this.adapter.socketRooms(this.id) ?? [])],
        data: this.data,
      });
    }
    this._cleanup();
    this.client._remove(this);
    this.connected = false;
    const log = this.nsp.server.logger;
    if (debugEnabled(log)) {
      log.debug(
        { sid: this.client.id, socketId: this.id, nsp: this.nsp.name, reason },
        "disconnect",
      );
    }
    this.emitReserved("disconnect", why, description);
  }

  /**
   * Leaves the namespace (the client gets "io server disconnect"); with
   * `close` true, closes the whole connection.
   */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) this.client._disconnect();
    else {
      this.packet({ type: PacketType.DISCONNECT, nsp: this.nsp.name });
      this._onclose("server namespace disconnect");
    }
    return this;
  }

  /** Sets the compress flag for the next emit. */
  compress(compress: boolean): this {
    this.#flags = { ...this.#flags, compress };
    return this;
  }

  /** The next emit may be dropped if the transport is not writable. */
  get volatile(): this {
    this.#flags = { ...this.#flags, volatile: true };
    return this;
  }

  /** The next emit's acknowledgement fails with an error after `timeout` ms. */
  timeout(
    timeout: number,
  ): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData> {
    this.#flags = { ...this.#flags, timeout };
    return this as never;
  }

  /** Everyone in the namespace but this socket. */
  get broadcast(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator();
  }

  /** Everyone in the namespace but this socket, on this node only. */
  get local(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().local;
  }

  /** PocketIO: everyone in the namespace, this socket included. */
  get sockets(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return new BroadcastOperator(this.adapter, undefined, undefined, this.#flags);
  }

  /** Targets a room (or rooms), excluding this socket. */
  to(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().to(room);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.to(room);
  }

  /** Excludes a room (or rooms) and this socket. */
  except(room: Room | Room[]): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    return this.#operator().except(room);
  }

  #operator(): BroadcastOperator<BroadcastEvents<EmitEvents>, SocketData> {
    const flags = this.#flags;
    this.#flags = NO_FLAGS;
    return new BroadcastOperator(this.adapter, new Set(), new Set([this.id]), flags);
  }

  /** Adds a per-socket packet middleware. */
  use(fn: SocketMiddleware): this {
    (this.#more().fns ??= []).push(fn);
    return this;
  }

  /** Listens to every incoming event. */
  onAny(listener: AnyListener): this {
    return this.#addAny("anyIncoming", listener, false);
  }

  prependAny(listener: AnyListener): this {
    return this.#addAny("anyIncoming", listener, true);
  }

  offAny(listener?: AnyListener): this {
    return this.#offAny("anyIncoming", listener);
  }

  listenersAny(): AnyListener[] {
    return this.#extras?.anyIncoming?.slice() ?? [];
  }

  /** Listens to every outgoing event (emits and broadcasts reaching this socket). */
  onAnyOutgoing(listener: AnyListener): this {
    return this.#addAny("anyOutgoing", listener, false);
  }

  prependAnyOutgoing(listener: AnyListener): this {
    return this.#addAny("anyOutgoing", listener, true);
  }

  offAnyOutgoing(listener?: AnyListener): this {
    return this.#offAny("anyOutgoing", listener);
  }

  listenersAnyOutgoing(): AnyListener[] {
    return this.#extras?.anyOutgoing?.slice() ?? [];
  }

  #addAny(list: AnyListKey, listener: AnyListener, prepend: boolean): this {
    const listeners = (this.#more()[list] ??= []);
    // Broadcasts of the namespace then call each recipient's listeners.
    if (list === "anyOutgoing") this.nsp._outgoingWatched = true;
    if (prepend) listeners.unshift(listener);
    else listeners.push(listener);
    return this;
  }

  /** Removes one catch-all listener, or all of the list when none is named. */
  #offAny(list: AnyListKey, listener: AnyListener | undefined): this {
    if (this.#extras) this.#extras[list] = removeListener(this.#extras[list], listener);
    return this;
  }

  /** Runs the outgoing catch-all listeners for `[event, ...args]`. */
  _notifyOutgoing(data: readonly unknown[]): void {
    const anyOutgoing = this.#extras?.anyOutgoing;
    if (!anyOutgoing?.length) return;
    for (const listener of anyOutgoing.slice()) {
      (listener as (...a: unknown[]) => void).apply(this, data as unknown[]);
    }
  }

  /**
   * PocketIO: stores `value` under `key` in `socket.data`.
   *
   * @example
   * await socket.set("nick", "ada");
   * socket.set("nick", "ada", (err) => {});
   */
  set(key: string, value: unknown, cb?: (err: Error | null) => void): Promise<void> {
    return setDataKey(this, key, value, cb);
  }

  /**
   * PocketIO: reads `key` from `socket.data`.
   *
   * @example
   * const nick = await socket.get("nick");
   * socket.get("nick", (err, nick) => {});
   */
  get(key: string, cb?: (err: Error | null, value?: unknown) => void): Promise<unknown> {
    return getDataKey(this, key, cb);
  }
}

function removeListener(
  list: AnyListener[] | undefined,
  listener: AnyListener | undefined,
): AnyListener[] | undefined {
  if (!list || !listener) return undefined;
  const i = list.indexOf(listener);
  if (i !== -1) list.splice(i, 1);
  return list;
}

/** The two catch-all listener lists of {@link SocketExtras}. */
type AnyListKey = "anyIncoming" | "anyOutgoing";

/** Per-socket state that is rare or built late: one object instead of seven fields. */
interface SocketExtras {
  /** The CONNECT auth payload, when it was not empty. */
  auth: Record<string, unknown> | undefined;
  recovered: boolean;
  /** Set by `_cleanup`: the socket left its namespace and joins no room any more. */
  closed: boolean;
  fns: SocketMiddleware[] | undefined;
  anyIncoming: AnyListener[] | undefined;
  anyOutgoing: AnyListener[] | undefined;
}

/**
 * Origin of the sockets' stored connect times: an offset from it stays a
 * small integer (stored inline) for weeks, where `Date.now()` itself would
 * be a boxed number per socket.
 */
const TIME_BASE = Date.now();

/**
 * Milliseconds since `TIME_BASE`. A difference of two `Date.now()` values is
 * a double even when whole, and a double field is boxed (16 bytes a socket);
 * `| 0` makes it a small integer while it fits (24 days), exact either way.
 */
function sinceTimeBase(): number {
  const elapsed = Date.now() - TIME_BASE;
  return elapsed < 0x3fffffff ? elapsed | 0 : elapsed;
}

/** `socket.data` before its first use (undefined is a value a user may set). */
const UNSET: unique symbol = Symbol("unset");

/** Whether an object has no own enumerable keys (without building a key array). */
function isEmpty(record: Record<string, unknown>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}
