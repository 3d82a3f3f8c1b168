/**
 * One Engine.IO connection seen by the Socket.IO layer: decodes its messages,
 * routes packets to the socket of their namespace, and writes encoded packets
 * back. A client joins any number of namespaces over the one connection
 * (socket.io-protocol, "Multiplexing").
 */
import type { IncomingMessage } from "node:http";
import {
  type Packet,
  PacketType,
  SocketIOEncodeError,
  SocketIOProtocolError,
  sanitizeRecord,
} from "../codec/socketio/index.js";
import type { PreparedMessage, SendOptions } from "../engine/types.js";
import { createDebug } from "../shared/debug.js";
import { debugEnabled } from "../shared/logger.js";
import type { EngineSocket } from "./engine-contract.js";
import type { DecoderLike, EncoderLike } from "./parser.js";
import type { Server } from "./server.js";
import type { Socket } from "./socket.js";

const debug = createDebug("socketio:client");

/** Per-write flags, as socket.io passes them down to the engine. */
export interface WriteOptions {
  volatile?: boolean;
  compress?: boolean;
}

// Engine send options are shared constants: nothing is allocated per write.
const COMPRESS: SendOptions = Object.freeze({ compress: true });
const NO_COMPRESS: SendOptions = Object.freeze({ compress: false });

/**
 * The client of each engine connection, for the shared listener functions
 * below: one weak entry costs less than a closure per event per connection.
 */
const clients = new WeakMap<EngineSocket, Client>();

function onConnData(this: EngineSocket, data: string | Buffer): void {
  clients.get(this)?._ondata(data);
}

function onConnError(this: EngineSocket, err: Error): void {
  debug("engine error on %s: %s", this.id, err.message);
}

function onConnClose(this: EngineSocket, reason: string, description?: unknown): void {
  clients.get(this)?._onclose(reason, description);
}

/** {@link Client._connectTicket}: not in the `connectTimeout` queue (yet). */
const NOT_QUEUED = -2;
/** {@link Client._connectTicket}: joined a namespace. */
const JOINED = -1;

/** engine.io's `transport.writable`, for volatile packets (Switchboard's engine also sees writes in flight). */
function writable(conn: EngineSocket): boolean {
  return conn._acceptsVolatile !== undefined ? conn._acceptsVolatile() : conn.transport.writable;
}

function onDecoded(this: Client, packet: Packet): void {
  this._ondecoded(packet);
}

function forgetLeft(client: Client): void {
  client._forgetLeft();
}

export class Client {
  readonly conn: EngineSocket;
  readonly server: Server;
  /**
   * Its entry in the server's `connectTimeout` queue until it joins a
   * namespace or closes (either releases the entry at once), then
   * {@link JOINED}; {@link NOT_QUEUED} before. One field serves both facts:
   * it is kept for every connection.
   */
  _connectTicket = NOT_QUEUED;
  readonly #decoder: DecoderLike;
  // Sockets of this connection by namespace: nearly every connection has one,
  // kept in a slot; a Map is made only for a second namespace. Iteration
  // order is insertion order, as with a single Map.
  #first: Socket | null = null;
  #more: Map<string, Socket> | null = null;
  /**
   * Sockets replaced in their namespace by a second CONNECT sent before the
   * first was answered (socket.io admits both; packets go to the newer one):
   * kept so they still disconnect with the connection.
   */
  #displaced: Socket[] | null = null;
  /**
   * The socket that left its namespace during the current tick: packets of
   * the same batch still addressed to it are dropped, as socket.io does,
   * instead of closing the connection (cleared on the next tick).
   */
  #left: Socket | null = null;

  constructor(server: Server, conn: EngineSocket) {
    this.server = server;
    this.conn = conn;
    this.#decoder = server._createDecoder();
    if (this.#decoder.on) this.#decoder.on("decoded", onDecoded.bind(this));
    clients.set(conn, this);
    conn.on("data", onConnData);
    conn.on("error", onConnError);
    conn.on("close", onConnClose);
    server._awaitNamespace(this);
  }

  /** Whether the connection ever joined a namespace (for `connectTimeout`). */
  get joined(): boolean {
    return this._connectTicket === JOINED;
  }

  /** The engine connection's id. */
  get id(): string {
    return this.conn.id;
  }

  /** The server's packet encoder. */
  get encoder(): EncoderLike {
    return this.server.encoder;
  }

  /** Sockets of this connection, by namespace name (a snapshot). */
  get nsps(): Map<string, Socket> {
    const out = new Map<string, Socket>();
    for (const socket of this.#sockets()) out.set(socket.nsp.name, socket);
    return out;
  }

  #get(name: string): Socket | undefined {
    const first = this.#first;
    if (first !== null && first.nsp.name === name) return first;
    return this.#more?.get(name);
  }

  #set(name: string, socket: Socket): void {
    const previous = this.#get(name);
    if (previous !== undefined && previous !== socket) (this.#displaced ??= []).push(previous);
    const first = this.#first;
    if (first !== null && first.nsp.name === name) this.#first = socket;
    else if (first === null && (this.#more === null || this.#more.size === 0)) this.#first = socket;
    else (this.#more ??= new Map()).set(name, socket);
  }

  #delete(name: string, socket?: Socket): void {
    const first = this.#first;
    if (first !== null && first.nsp.name === name) {
      if (socket === undefined || first === socket) this.#first = null;
      return;
    }
    if (socket === undefined || this.#more?.get(name) === socket) this.#more?.delete(name);
  }

  /** Every socket of this connection, in the order they joined (a copy). */
  #sockets(): Socket[] {
    const out: Socket[] = [];
    if (this.#first !== null) out.push(this.#first);
    if (this.#more !== null) for (const socket of this.#more.values()) out.push(socket);
    if (this.#displaced !== null) out.push(...this.#displaced);
    return out;
  }

  #clear(): void {
    this.#first = null;
    this.#more = null;
    this.#displaced = null;
  }

  /** The HTTP request of the handshake. */
  get request(): IncomingMessage {
    return this.conn.request;
  }

  /** Joins namespace `name` (a CONNECT packet, or the implicit `/` of a v3 client). */
  connect(name: string, auth: Record<string, unknown> = {}): void {
    if (this.server._nsps.has(name)) {
      this.#doConnect(name, auth);
      return;
    }
    this.server._checkNamespace(name, auth, (found) => {
      if (this.conn.readyState !== "open") return;
      if (found) this.#doConnect(name, auth);
      else {
        this.server.stats.errors.add("ERR_SIO_INVALID_NAMESPACE", `invalid namespace ${name}`);
        const log = this.server.logger;
        if (debugEnabled(log))
          log.debug({ sid: this.id, nsp: name }, "connect_error: invalid namespace");
        this._packet({
          type: PacketType.CONNECT_ERROR,
          nsp: name,
          data: this.conn.protocol === 3 ? "Invalid namespace" : { message: "Invalid namespace" },
        });
      }
    });
  }

  #doConnect(name: string, auth: Record<string, unknown>): void {
    const nsp = this.server.of(name);
    nsp._add(this, auth, (socket) => {
      this.#set(name, socket);
      // Joined: its `connectTimeout` entry is let go now.
      this.server._forgetPending(this);
      this._connectTicket = JOINED;
    });
  }

  /** An Engine.IO message arrived. */
  _ondata(data: string | Buffer): void {
    let packet: Packet | null | undefined;
    try {
      packet = this.#decoder.add(data) as Packet | null | undefined;
    } catch (err) {
      this.#onerror(err);
      return;
    }
    if (packet) this._ondecoded(packet);
  }

  /** A complete Socket.IO packet arrived. */
  _ondecoded(packet: Packet): void {
    this.server.stats.messagesIn++;
    let name = packet.nsp;
    let auth: Record<string, unknown> | undefined;
    if (this.conn.protocol === 3) {
      // Socket.IO v4 protocol (client v2): the namespace carries the query string.
      const q = name.indexOf("?");
      if (q !== -1) {
        auth = sanitizeRecord(Object.fromEntries(new URLSearchParams(name.slice(q + 1))));
        name = name.slice(0, q);
      }
    } else {
      auth = packet.data as Record<string, unknown> | undefined;
    }
    const socket = this.#get(name);
    if (!socket && packet.type === PacketType.CONNECT) {
      this.connect(name, auth);
    } else if (
      socket &&
      packet.type !== PacketType.CONNECT &&
      packet.type !== PacketType.CONNECT_ERROR
    ) {
      socket._onpacket(packet);
    } else if (
      !socket &&
      this.#left !== null &&
      this.#left.nsp.name === name &&
      packet.type !== PacketType.CONNECT_ERROR
    ) {
      debug("client %s: packet for %s after its socket left, ignored", this.id, name);
    } else {
      debug("client %s: invalid state (packet type %d on %s)", this.id, packet.type, name);
      this.close();
    }
  }

  #onerror(err: unknown): void {
    debug("client %s: %s", this.id, (err as Error).message);
    const error =
      err instanceof SocketIOProtocolError
        ? err
        : new SocketIOProtocolError("ERR_SIO_BAD_PAYLOAD", (err as Error)?.message, { cause: err });
    for (const socket of this.#sockets()) socket._onerror(error);
    this._onclose(error.closeReason);
    this.conn.close();
  }

  /**
   * Encodes and writes one packet to this connection. An EVENT comes from a
   * user's `emit`: an encode error goes back to that caller, as socket.io's
   * would. Any other packet answers the client (an ack, a CONNECT or
   * CONNECT_ERROR reply) from inside a listener, middleware or tick, where a
   * throw would end the process: it is dropped and reported instead.
   */
  _packet(packet: Packet, opts: WriteOptions = {}): void {
    if (this.conn.readyState !== "open") return;
    let messages: (string | Buffer)[];
    try {
      messages = this.encoder.encode(packet);
    } catch (err) {
      if (packet.type === PacketType.EVENT || packet.type === PacketType.BINARY_EVENT) throw err;
      this.#unencodable(packet, err);
      return;
    }
    this.writeToEngine(messages, opts);
  }

  #unencodable(packet: Packet, err: unknown): void {
    debug("client %s: dropped packet type %d: %s", this.id, packet.type, (err as Error)?.message);
    const data = packet.data as { message?: unknown } | undefined;
    if (packet.type === PacketType.CONNECT_ERROR && typeof data === "object" && data !== null) {
      // A middleware's `err.data` did not encode: the client still learns
      // it was refused, from the message alone, rather than wait forever.
      const message = typeof data.message === "string" ? data.message : "Connection refused";
      this._packet({ type: packet.type, nsp: packet.nsp, data: { message } });
      return;
    }
    const error = err instanceof Error ? err : new SocketIOEncodeError(err);
    this.#get(packet.nsp)?._onerror(error);
  }

  /** A volatile packet not written (the connection busy): counted, and the connection listed as slow. */
  #droppedVolatile(): void {
    this.server.stats.volatileDrops++;
    this.server.engine?.stats?.slow.add(this.conn.id);
  }

  /** Writes already encoded messages (one packet's text and attachments). */
  writeToEngine(messages: readonly (string | Buffer)[], opts: WriteOptions): void {
    const conn = this.conn;
    const stats = this.server.stats;
    if (opts.volatile && !writable(conn)) {
      this.#droppedVolatile();
      return;
    }
    const sendOpts = opts.compress === false ? NO_COMPRESS : COMPRESS;
    stats.messagesOut++;
    for (let i = 0; i < messages.length; i++) conn.write(messages[i], sendOpts);
  }

  /** Writes messages prepared once for a whole broadcast. */
  writePrepared(messages: readonly PreparedMessage[], opts: WriteOptions): void {
    const conn = this.conn;
    if (conn.readyState !== "open") return;
    if (opts.volatile && !writable(conn)) {
      this.#droppedVolatile();
      return;
    }
    if (conn._sendPrepared !== undefined) {
      const compress = opts.compress !== false;
      for (let i = 0; i < messages.length; i++) conn._sendPrepared(messages[i], compress);
      return;
    }
    const sendOpts = opts.compress === false ? NO_COMPRESS : COMPRESS;
    for (let i = 0; i < messages.length; i++) conn.write(messages[i], sendOpts);
  }

  /** Leaves every namespace (sending DISCONNECT) then closes the connection. */
  _disconnect(): void {
    for (const socket of this.#sockets()) socket.disconnect();
    this.#clear();
    this.close();
  }

  /** Forgets a socket that left its namespace. */
  _remove(socket: Socket): void {
    const displaced = this.#displaced;
    const i = displaced === null ? -1 : displaced.indexOf(socket);
    if (i !== -1) {
      (displaced as Socket[]).splice(i, 1);
      return;
    }
    this.#delete(socket.nsp.name, socket);
    if (this.#left === null) process.nextTick(forgetLeft, this);
    this.#left = socket;
  }

  /** Package-internal: the current tick is over (see `#left`). */
  _forgetLeft(): void {
    this.#left = null;
  }

  /** Closes the engine connection. */
  close(): void {
    if (this.conn.readyState === "open") {
      // As socket.io: when the engine closes at once (websocket, or a held
      // poll), its "forced close" reaches the sockets first; otherwise they
      // learn "forced server close" now and the engine closes after its flush.
      this.conn.close();
      this._onclose("forced server close");
    }
  }

  /** The connection closed: every socket on it disconnects with `reason`. */
  _onclose(reason: string, description?: unknown): void {
    if (this.#first !== null || this.#more !== null) {
      for (const socket of this.#sockets()) socket._onclose(reason, description);
      this.#clear();
    }
    this.#decoder.destroy?.();
    this.server._forgetPending(this);
  }
}
