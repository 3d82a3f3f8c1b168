/**
 * An Engine.IO session (engine.io 6's `Socket`): the open handshake, the
 * write buffer, the heartbeat, the upgrade state machine and the close. The
 * transport underneath only moves packets and reports back through the
 * `TransportOwner` methods.
 *
 * Per-session state is kept small: one timer entry in the server's timer lists for
 * the heartbeat, upgrade state and callback queues created only when used.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type {
  Packet,
  PacketOptions,
  PacketType,
  ProtocolVersion,
  RawData,
} from "../codec/engineio/index.js";
import { createDebug } from "../shared/debug.js";
import { hasListeners, useCompactListenerTable } from "../shared/listener-table.js";
import { debugEnabled, type Logger } from "../shared/logger.js";
import { TimerEntry, type TimerLists, type TimerTarget } from "../shared/timer-wheel.js";
import { PollingTransport } from "../transport/polling.js";
import type { Transport, TransportOwner } from "../transport/transport.js";
import { OUTGOING_BUFFER_FULL, WebSocketTransport } from "../transport/websocket.js";
import { frameBytes } from "../transport/ws-frame.js";
import type { WebSocket } from "../transport/ws-types.js";
import { OVERFLOW, UNAVAILABLE, WRITTEN } from "../transport/ws-writer.js";
import type { HandshakeRequest } from "./handshake-request.js";
import { retainRequest } from "./handshake-request.js";
import type { ResolvedOptions } from "./options.js";
import { type MessageData, PreparedMessage, toRawData } from "./prepared-message.js";
import type { EngineStats } from "./stats.js";
import type { CloseReason, ReadyState, SendOptions, TransportName } from "./types.js";

const debug = createDebug("engine:socket");

/** What a socket needs from its server. */
export interface SocketHost extends EventEmitter {
  readonly opts: ResolvedOptions;
  readonly wheel: TimerLists;
  /** Where the session logs (its upgrades). */
  readonly logger: Logger;
  upgrades(transport: TransportName): TransportName[];
  /** The host's counters (upgrades, slow consumers), when it keeps them. */
  readonly stats?: EngineStats;
  /** Called once, before the socket emits `close`. */
  onSocketClose(socket: Socket, reason: CloseReason, description?: unknown): void;
}

// Heartbeat states: what the heartbeat timer entry means when it fires.
const HB_IDLE = 0;
/** v4: the next server ping is due. */
const HB_PING_DUE = 1;
/** v4: a ping was sent, the pong is due. v3: the client's next ping is due. */
const HB_WAIT = 2;
const HB_MASK = 3;
const BIT_REFRESHED = 4;
const BIT_CLOSE_ON_DRAIN = 8;
/** Somebody listens (or listened) to a per-packet event: `packetCreate`, `flush` or `drain`. */
const BIT_WATCHED = 16;
/**
 * A close waits for the probed upgrade to end: the client has paused
 * polling for it, so only the websocket (after its `5`) or a GET it might
 * still send can tell it (see `#closeTransport`).
 */
const BIT_CLOSE_ON_UPGRADE = 32;

/**
 * Bumped whenever a socket stops taking prepared frames the way a fan-out
 * list recorded (an upgrade changed its transport, or it got a per-packet
 * listener): lists made before are stale. See `FanoutTargets`.
 */
let epoch = 0;

/** The current value of the fan-out list epoch. */
export function directEpoch(): number {
  return epoch;
}

/** Events emitted for every packet written: a listener on one takes sends off the short path. */
const PER_PACKET_EVENTS: ReadonlySet<string | symbol> = new Set(["packetCreate", "flush", "drain"]);

/** EventEmitter's listener type. */
// biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature.
type Listener = (...args: any[]) => void;

/** An emitter's listener table, as Node keeps it (`_events`). */
export interface ListenerTable {
  _events: Record<string, unknown>;
}

const COMPRESS_SEND: SendOptions = Object.freeze({ compress: true });
const NO_COMPRESS_SEND: SendOptions = Object.freeze({ compress: false });

const COMPRESS: PacketOptions = Object.freeze({ compress: true });
const NO_COMPRESS: PacketOptions = Object.freeze({ compress: false });

/**
 * The empty write buffer, shared: a websocket session writes straight
 * through and never buffers, so it gets no array of its own until it must.
 * Never mutated (every push first swaps in a real array).
 */
const EMPTY_BUFFER: Packet[] = [];

const TIMER_HEARTBEAT = 0;
const TIMER_UPGRADE = 1;

interface UpgradeState {
  transport: Transport;
  timer: TimerEntry;
  probed: boolean;
}

type SendCallback = (transport: Transport) => void;

export interface SocketEvents {
  open: [];
  message: [data: RawData];
  data: [data: RawData];
  packet: [packet: Packet];
  packetCreate: [packet: Packet];
  flush: [buffer: Packet[]];
  drain: [];
  heartbeat: [];
  upgrading: [transport: Transport];
  upgrade: [transport: Transport];
  close: [reason: CloseReason, description?: unknown];
  error: [err: Error];
}

/**
 * One Engine.IO connection. Created by the server on handshake and handed
 * over in its `connection` event.
 *
 * @example
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 *   socket.on("close", (reason) => console.log(socket.id, reason));
 * });
 */
export class Socket extends EventEmitter implements TransportOwner, TimerTarget {
  // The fields every broadcast reads for each recipient come first, so they
  // share a cache line (fields are laid out in declaration order).
  readyState: ReadyState = "opening";
  /** The websocket of a v4 websocket transport without compression (frames go to it as built). */
  #direct: WebSocket | null = null;
  /** Polling writes held by cork(). */
  #corked = false;
  #writeBuffer: Packet[] = EMPTY_BUFFER;
  /** Heartbeat state (low bits) and the flags below, in one field. */
  #bits = HB_IDLE;
  readonly server: SocketHost;
  /** The tick of the last write to this connection (see `WebSocketWriter`). */
  tickMark = 0;
  #transport!: Transport;
  readonly id: string;
  /**
   * The handshake request, as kept for the session's life: `headers`, `url`,
   * `method`, `httpVersion`, `_query`, `socket`/`connection` and whatever a
   * middleware added (see {@link HandshakeRequest}), without the stream state.
   */
  readonly request: IncomingMessage;
  readonly protocol: ProtocolVersion;
  readonly remoteAddress: string;
  upgraded = false;
  upgrading = false;

  /** Bytes of the packets in the write buffer (their data, plus one per type). */
  #bufferedBytes = 0;
  /** Callbacks of the packets in the write buffer. */
  #packetsFn: SendCallback[] | null = null;
  /** Callback batches handed to the transport, run on its drain, in order. */
  #sentCallbackFn: SendCallback[][] | null = null;
  #heartbeat: TimerEntry;
  #upgrade: UpgradeState | null = null;

  /** The current transport (it changes once, on upgrade). */
  get transport(): Transport {
    return this.#transport;
  }

  set transport(transport: Transport) {
    if (this.#transport !== undefined) epoch++;
    this.#transport = transport;
    this.#direct =
      transport instanceof WebSocketTransport && transport.writesFrames ? transport.socket : null;
  }

  get #heartbeatState(): number {
    return this.#bits & HB_MASK;
  }

  set #heartbeatState(state: number) {
    this.#bits = (this.#bits & ~HB_MASK) | state;
  }

  /** v3: the client's ping already pushed the deadline in this period. */
  get #heartbeatRefreshed(): boolean {
    return (this.#bits & BIT_REFRESHED) !== 0;
  }

  set #heartbeatRefreshed(on: boolean) {
    this.#bits = on ? this.#bits | BIT_REFRESHED : this.#bits & ~BIT_REFRESHED;
  }

  /** Close once the write buffer has drained. */
  get #closeOnDrain(): boolean {
    return (this.#bits & BIT_CLOSE_ON_DRAIN) !== 0;
  }

  set #closeOnDrain(on: boolean) {
    this.#bits = on ? this.#bits | BIT_CLOSE_ON_DRAIN : this.#bits & ~BIT_CLOSE_ON_DRAIN;
  }

  constructor(
    id: string,
    server: SocketHost,
    transport: Transport,
    req: IncomingMessage,
    protocol: ProtocolVersion,
  ) {
    super();
    useCompactListenerTable(this);
    this.id = id;
    this.server = server;
    this.request = retainRequest(req);
    this.protocol = protocol;
    this.remoteAddress =
      (transport as Partial<WebSocketTransport>).remoteAddress ?? req.socket?.remoteAddress ?? "";
    this.#heartbeat = new TimerEntry(this, TIMER_HEARTBEAT);
    this.transport = transport;
    transport.owner = this;
    transport.sid = id;
    this.#onOpen();
  }

  #onOpen(): void {
    this.readyState = "open";
    const opts = this.server.opts;
    // Written out rather than stringified from an object: one string per handshake.
    const upgrades = this.#availableUpgrades();
    this.sendPacket(
      "open",
      `{"sid":${JSON.stringify(this.id)},"upgrades":${upgrades.length === 0 ? "[]" : JSON.stringify(upgrades)},"pingInterval":${JSON.stringify(opts.pingInterval)},"pingTimeout":${JSON.stringify(opts.pingTimeout)},"maxPayload":${JSON.stringify(opts.maxHttpBufferSize)}}`,
    );
    if (opts.initialPacket !== undefined && opts.initialPacket !== null) {
      this.sendPacket("message", opts.initialPacket as MessageData);
    }
    this.emit("open");
    if (this.protocol === 3) {
      // v3: the client pings, and must do so within pingInterval + pingTimeout.
      this.#heartbeatState = HB_WAIT;
      this.server.wheel.schedule(this.#heartbeat, opts.pingInterval + opts.pingTimeout);
    } else {
      this.#heartbeatState = HB_PING_DUE;
      this.server.wheel.schedule(this.#heartbeat, opts.pingInterval);
    }
  }

  #availableUpgrades(): TransportName[] {
    if (!this.server.opts.allowUpgrades) return [];
    const transports = this.server.opts.transports;
    return this.server.upgrades(this.transport.name).filter((name) => transports.includes(name));
  }

  // ---- sending ------------------------------------------------------------

  /**
   * Sends a message: a string as text, bytes (Buffer, ArrayBuffer, typed
   * array) as binary, or a {@link PreparedMessage} encoded once for many
   * sockets. `callback` runs once the message has been written out.
   *
   * @example
   * socket.send("hello");
   * socket.send(Buffer.from([1, 2, 3]), { compress: false }, () => console.log("written"));
   */
  send(
    data: MessageData | PreparedMessage,
    options?: SendOptions | (() => void),
    callback?: () => void,
  ): this {
    this.sendPacket("message", data, options, callback);
    return this;
  }

  /** Alias of {@link send}. */
  write(
    data: MessageData | PreparedMessage,
    options?: SendOptions | (() => void),
    callback?: () => void,
  ): this {
    return this.send(data, options, callback);
  }

  /** Queues a packet of any type (engine.io's `sendPacket`). */
  sendPacket(
    type: PacketType,
    data?: MessageData | PreparedMessage,
    options?: SendOptions | ((transport?: Transport) => void),
    callback?: (transport?: Transport) => void,
  ): void {
    if (typeof options === "function") {
      callback = options;
      options = undefined;
    }
    if (this.readyState === "closing" || this.readyState === "closed") return;
    const compress = options?.compress !== false;
    // Packet options are shared constants: no allocation per send for them.
    const packetOptions = compress ? COMPRESS : NO_COMPRESS;
    let packet: Packet;
    if (data instanceof PreparedMessage) packet = data.packet(compress);
    else if (data === undefined) packet = { type, options: packetOptions };
    else packet = { type, data: toRawData(data), options: packetOptions };
    // Events are emitted only when somebody listens: this runs once per
    // recipient of every broadcast, and `emit` allocates its arguments.
    // The per-packet events are looked up only on a socket that ever had a
    // listener for one (one bit), and on the server's one table.
    const watched = (this.#bits & BIT_WATCHED) !== 0;
    if (watched && hasListeners(this, "packetCreate")) this.emit("packetCreate", packet);
    const transport = this.transport;
    // Fast path: a websocket is always writable and ws keeps its own queue,
    // so an empty buffer means the packet can go straight out.
    if (this.#writeBuffer.length === 0 && transport.writable && transport.name === "websocket") {
      const server = this.server;
      const serverEvents = (server as unknown as ListenerTable)._events;
      if ((watched && hasListeners(this, "flush")) || serverEvents.flush !== undefined) {
        const batch = [packet];
        this.emit("flush", batch);
        server.emit("flush", this, batch);
      }
      if (callback) (this.#sentCallbackFn ??= []).push([callback]);
      (transport as WebSocketTransport).sendPacket(packet, callback !== undefined);
      if (watched && hasListeners(this, "drain")) this.emit("drain");
      if (serverEvents.drain !== undefined) server.emit("drain", this);
      return;
    }
    if (this.#writeBuffer === EMPTY_BUFFER) this.#writeBuffer = [];
    this.#writeBuffer.push(packet);
    const bytes = packet.data;
    // A running count (no walk over the buffer, no allocation): the packets
    // wait here while a polling client holds no GET.
    this.#bufferedBytes +=
      bytes === undefined
        ? 1
        : 1 + (typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.length);
    if (callback) (this.#packetsFn ??= []).push(callback);
    this.flush();
    if (this.#bufferedBytes > this.server.opts.maxBufferedBytes) {
      debug("outgoing buffer full on %s (%d bytes)", this.id, this.#bufferedBytes);
      this.#onClose("transport error", "outgoing buffer full");
    }
  }

  /**
   * Package-internal, for broadcasts of the Socket.IO layer: writes a message
   * prepared once for many sockets. On an idle websocket with nobody
   * listening to the per-packet events, the shared frame is written as it is
   * (the per-recipient cost of a fan-out); a polling client holding a GET
   * with nothing queued is answered with the message's shared body; anything
   * else takes `sendPacket`.
   */
  _sendPrepared(prepared: PreparedMessage, compress: boolean, volatile = false): void {
    if (volatile && !this._acceptsVolatile()) return;
    const direct = this.#direct;
    if (
      direct === null &&
      this.readyState === "open" &&
      this.#writeBuffer.length === 0 &&
      (this.#bits & BIT_WATCHED) === 0 &&
      !this.#corked
    ) {
      const transport = this.#transport;
      const server = (this.server as unknown as ListenerTable)._events;
      if (
        transport.writable &&
        transport instanceof PollingTransport &&
        server.flush === undefined &&
        server.drain === undefined
      ) {
        // What `flush` would do for this one packet, with no listener to tell.
        transport.sendPrepared(prepared, compress);
        return;
      }
    }
    if (
      direct !== null &&
      this.readyState === "open" &&
      this.#writeBuffer.length === 0 &&
      (this.#bits & BIT_WATCHED) === 0
    ) {
      // The server's table is one object for every socket: read here, not per socket.
      const host = this.server;
      const server = (host as unknown as ListenerTable)._events;
      if (server.flush === undefined && server.drain === undefined) {
        const config = this.#transport.config;
        const frames = prepared.websocketFrame();
        const status = config.writer.writeFrames(direct, frames, this, host.opts.maxBufferedBytes);
        if (status !== UNAVAILABLE) config.counters.bytesOut += frameBytes(frames);
        if (status === WRITTEN) return;
        if (status === OVERFLOW) {
          (this.#transport as WebSocketTransport).overflow();
          return;
        }
      }
    }
    this.sendPacket("message", prepared, compress ? COMPRESS_SEND : NO_COMPRESS_SEND);
  }

  /**
   * Package-internal: whether a volatile packet goes out now, as engine.io's
   * `transport.writable` tells socket.io: a polling session holds a GET; a
   * websocket has no write in flight (see {@link WebSocketTransport.writing}).
   */
  _acceptsVolatile(): boolean {
    const transport = this.#transport;
    if (!transport.writable || this.readyState !== "open") return false;
    return !(transport instanceof WebSocketTransport) || !transport.writing;
  }

  #watch(): void {
    if ((this.#bits & BIT_WATCHED) !== 0) return;
    this.#bits |= BIT_WATCHED;
    epoch++;
  }

  /**
   * Package-internal (`FanoutTargets`): the websocket a prepared frame can be
   * written to directly, or null when this socket needs `_sendPrepared`.
   */
  _directSocket(): WebSocket | null {
    return (this.#bits & BIT_WATCHED) === 0 ? this.#direct : null;
  }

  /** Package-internal: the client fell `maxBufferedBytes` behind on a direct write. */
  _overflow(): void {
    const transport = this.#transport;
    if (transport instanceof WebSocketTransport) transport.overflow();
  }

  // A listener on a per-packet event marks the socket, so the short path of
  // `_sendPrepared` checks one bit instead of the listener table. The mark
  // stays after the listener goes (the long path is merely slower).
  override on(event: string | symbol, listener: Listener): this {
    if (PER_PACKET_EVENTS.has(event)) this.#watch();
    return super.on(event, listener);
  }

  override addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  override prependListener(event: string | symbol, listener: Listener): this {
    if (PER_PACKET_EVENTS.has(event)) this.#watch();
    return super.prependListener(event, listener);
  }

  /**
   * Holds polling writes until {@link uncork}: the packets written in
   * between leave in one response, all or none. (A websocket writes each
   * packet at once; those written in one tick reach the kernel together.)
   */
  cork(): void {
    this.#corked = true;
  }

  /** Ends {@link cork}, writing what was held. */
  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.flush();
  }

  /** Writes the buffered packets if the transport can take them. */
  flush(): void {
    if (
      this.#corked ||
      this.readyState === "closed" ||
      !this.transport.writable ||
      this.#writeBuffer.length === 0
    ) {
      return;
    }
    const buffer = this.#writeBuffer;
    this.#writeBuffer = EMPTY_BUFFER;
    this.#bufferedBytes = 0;
    this.emit("flush", buffer);
    this.server.emit("flush", this, buffer);
    const callbacks = this.#packetsFn;
    this.#packetsFn = null;
    if (callbacks !== null) (this.#sentCallbackFn ??= []).push(callbacks);
    this.transport.send(buffer, callbacks !== null);
    this.emit("drain");
    this.server.emit("drain", this);
    if (this.#closeOnDrain) {
      this.#closeOnDrain = false;
      this.#closeTransport(false);
    }
  }

  /** Packets waiting for the transport (engine.io's `writeBuffer`). */
  get writeBuffer(): Packet[] {
    // Callers may push to it (as with engine.io): never hand out the shared one.
    if (this.#writeBuffer === EMPTY_BUFFER) this.#writeBuffer = [];
    return this.#writeBuffer;
  }

  // ---- transport events ---------------------------------------------------

  onTransportPacket(transport: Transport, packet: Packet): void {
    if (transport !== this.transport) {
      this.#onUpgradePacket(transport, packet);
      return;
    }
    if (this.readyState !== "open") return;
    this.emit("packet", packet);
    const opts = this.server.opts;
    if (
      this.protocol === 4 &&
      this.#heartbeatState === HB_WAIT &&
      !this.#heartbeatRefreshed &&
      packet.type !== "pong"
    ) {
      // Traffic while waiting for a pong proves the peer alive: extend once.
      this.#heartbeatRefreshed = true;
      this.server.wheel.schedule(this.#heartbeat, opts.pingTimeout);
    }
    switch (packet.type) {
      case "ping":
        if (this.protocol !== 3) {
          this.#onError("invalid heartbeat direction");
          return;
        }
        this.server.wheel.schedule(this.#heartbeat, opts.pingInterval + opts.pingTimeout);
        this.sendPacket("pong");
        this.emit("heartbeat");
        break;
      case "pong":
        if (this.protocol === 3) {
          this.#onError("invalid heartbeat direction");
          return;
        }
        if (this.#heartbeatState === HB_WAIT) {
          this.#heartbeatState = HB_PING_DUE;
          this.server.wheel.schedule(this.#heartbeat, opts.pingInterval);
        }
        this.emit("heartbeat");
        break;
      case "message": {
        const data = packet.data ?? "";
        this.emit("data", data);
        this.emit("message", data);
        break;
      }
      case "close":
        this.#onClose("transport close");
        break;
      default:
        // open/upgrade/noop from a client on the current transport carry nothing.
        break;
    }
  }

  onTransportError(transport: Transport, message: string, parseError: boolean): void {
    if (transport !== this.transport) {
      debug("upgrade transport error on %s: %s", this.id, message);
      this.#abortUpgrade();
      return;
    }
    if (message === OUTGOING_BUFFER_FULL) {
      const stats = this.server.stats;
      if (stats !== undefined) {
        stats.overflows++;
        stats.slow.add(this.id);
      }
    }
    this.#onClose(parseError ? "parse error" : "transport error", message);
  }

  onTransportClose(transport: Transport): void {
    if (transport !== this.transport) {
      this.#abortUpgrade();
      return;
    }
    this.#onClose("transport close");
  }

  onTransportReady(transport: Transport): void {
    if (transport !== this.transport) return;
    this.flush();
    if ((this.#bits & BIT_CLOSE_ON_UPGRADE) !== 0 && transport.writable) {
      // The client polled after all: its GET carries the close.
      this.#bits &= ~BIT_CLOSE_ON_UPGRADE;
      this.#closeTransport(false);
      return;
    }
    this.#forcePollCycle();
  }

  onTransportDrain(transport: Transport): void {
    const batch = this.#sentCallbackFn?.shift();
    if (batch) for (const fn of batch) fn(transport);
  }

  // ---- heartbeat and upgrade timers ---------------------------------------

  onTimer(entry: TimerEntry): void {
    if (entry.kind === TIMER_UPGRADE) {
      debug("client %s did not complete the upgrade in time", this.id);
      const log = this.server.logger;
      if (debugEnabled(log)) log.debug({ sid: this.id }, "upgrade timed out");
      this.#abortUpgrade();
      return;
    }
    if (this.readyState === "closed") return;
    if (this.#heartbeatState === HB_PING_DUE) {
      this.#heartbeatState = HB_WAIT;
      this.#heartbeatRefreshed = false;
      this.sendPacket("ping");
      // From the ping's deadline, not from now: the pong deadline falls at
      // pingInterval + pingTimeout after the last pong (or the handshake)
      // however late this firing was.
      this.server.wheel.scheduleNext(this.#heartbeat, this.server.opts.pingTimeout);
      return;
    }
    this.#onClose("ping timeout");
  }

  // ---- upgrade ------------------------------------------------------------

  /**
   * Starts an upgrade to `transport` (engine.io protocol, "Upgrade"): the
   * client probes with `2probe`, we answer `3probe`, the client's `5`
   * switches the session over. Package-internal: called by the server.
   */
  maybeUpgrade(transport: Transport): void {
    debug("socket %s may upgrade from %s to %s", this.id, this.transport.name, transport.name);
    this.upgrading = true;
    transport.owner = this;
    transport.sid = this.id;
    const timer = new TimerEntry(this, TIMER_UPGRADE);
    this.#upgrade = { transport, timer, probed: false };
    this.server.wheel.schedule(timer, this.server.opts.upgradeTimeout);
  }

  #onUpgradePacket(transport: Transport, packet: Packet): void {
    const upgrade = this.#upgrade;
    if (upgrade === null || upgrade.transport !== transport) return;
    if (packet.type === "ping" && packet.data === "probe") {
      transport.send([{ type: "pong", data: "probe" }]);
      upgrade.probed = true;
      this.emit("upgrading", transport);
      this.#forcePollCycle();
      return;
    }
    if (packet.type === "upgrade" && this.readyState !== "closed") {
      this.server.wheel.cancel(upgrade.timer);
      this.#upgrade = null;
      this.upgrading = false;
      const previous = this.transport;
      previous.discard();
      previous.owner = null;
      previous.close();
      this.transport = transport;
      this.upgraded = true;
      const stats = this.server.stats;
      if (stats !== undefined) {
        stats.upgrades++;
        stats.closed(previous.name);
        stats.opened(transport.name);
      }
      const log = this.server.logger;
      if (debugEnabled(log)) log.debug({ sid: this.id, transport: transport.name }, "upgraded");
      this.emit("upgrade", transport);
      this.#bits &= ~BIT_CLOSE_ON_UPGRADE;
      this.flush();
      if (this.readyState === "closing") {
        transport.close(() => this.#onClose("forced close"));
      }
      return;
    }
    this.#abortUpgrade();
  }

  /**
   * While an upgrade is probed, a held poll is answered with a noop so the
   * client's polling transport can pause and send the upgrade packet.
   */
  #forcePollCycle(): void {
    const upgrade = this.#upgrade;
    if (upgrade === null || !upgrade.probed) return;
    const transport = this.transport;
    if (transport.name === "polling" && transport.writable) transport.send([{ type: "noop" }]);
  }

  #abortUpgrade(): void {
    const upgrade = this.#upgrade;
    if (upgrade === null) return;
    this.#upgrade = null;
    this.upgrading = false;
    this.server.wheel.cancel(upgrade.timer);
    upgrade.transport.owner = null;
    upgrade.transport.close();
    if ((this.#bits & BIT_CLOSE_ON_UPGRADE) !== 0) {
      // The close waited for this upgrade: it ends now on the polling
      // transport (a next GET gets the noop and the close packet).
      this.#bits &= ~BIT_CLOSE_ON_UPGRADE;
      this.#closeTransport(false);
    }
  }

  // ---- closing ------------------------------------------------------------

  /**
   * Closes the session: buffered packets are flushed first, then the
   * transport closes and `close` is emitted with "forced close".
   *
   * @example
   * socket.close();
   */
  close(discard = false): this {
    if (discard && (this.readyState === "open" || this.readyState === "closing")) {
      this.#closeTransport(true);
      return this;
    }
    if (this.readyState !== "open") return this;
    this.readyState = "closing";
    if (this.#writeBuffer.length > 0) {
      this.#closeOnDrain = true;
      return this;
    }
    this.#closeTransport(false);
    return this;
  }

  #closeTransport(discard: boolean): void {
    const transport = this.transport;
    if (discard) transport.discard();
    else if (this.#upgrade?.probed === true && !transport.writable) {
      // Past `3probe` the client has paused polling and sends no GET until the
      // upgrade ends, and engine.io-client never resumes polling once a probe
      // fails: closing the probe now (or waiting for a GET) would leave it
      // hanging until its heartbeat gives up. As engine.io does, the session
      // stays "closing": the client's `5` completes the upgrade and the
      // websocket is closed; a GET gets the close packet; a failed or timed
      // out probe ends the close on the polling transport.
      this.#bits |= BIT_CLOSE_ON_UPGRADE;
      return;
    }
    transport.close(() => this.#onClose("forced close"));
  }

  #onError(message: string): void {
    this.#onClose("transport error", message);
  }

  #onClose(reason: CloseReason, description?: unknown): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.server.wheel.cancel(this.#heartbeat);
    this.#heartbeatState = HB_IDLE;
    this.#bits &= ~BIT_CLOSE_ON_UPGRADE;
    this.#abortUpgrade();
    this.#packetsFn = null;
    this.#sentCallbackFn = null;
    this.#closeOnDrain = false;
    const transport = this.transport;
    transport.owner = null;
    transport.close();
    this.server.onSocketClose(this, reason, description);
    this.emit("close", reason, description);
    // Kept until now so `close` listeners can still inspect unsent packets.
    this.#writeBuffer = EMPTY_BUFFER;
    this.#bufferedBytes = 0;
  }
}
