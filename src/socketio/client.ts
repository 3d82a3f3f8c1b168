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
  SocketIOProtocolError,
  sanitizeRecord,
} from "../codec/socketio/index.js";
import type { PreparedMessage } from "../engine/types.js";
import { createDebug } from "../shared/debug.js";
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

export class Client {
  readonly conn: EngineSocket;
  readonly id: string;
  readonly server: Server;
  readonly encoder: EncoderLike;
  /** Sockets of this connection, by namespace name. */
  readonly nsps = new Map<string, Socket>();
  /** Whether the connection ever joined a namespace (for `connectTimeout`). */
  joined = false;
  readonly #decoder: DecoderLike;

  constructor(server: Server, conn: EngineSocket) {
    this.server = server;
    this.conn = conn;
    this.id = conn.id;
    this.encoder = server.encoder;
    this.#decoder = server._createDecoder();
    if (this.#decoder.on) this.#decoder.on("decoded", (p: Packet) => this.#ondecoded(p));
    conn.on("data", (data: string | Buffer) => this.#ondata(data));
    conn.on("error", (err: Error) => debug("engine error on %s: %s", this.id, err.message));
    conn.on("close", (reason: string, description?: unknown) => this._onclose(reason, description));
    server._awaitNamespace(this);
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
        debug("client %s: invalid namespace %s", this.id, name);
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
      this.nsps.set(name, socket);
      this.joined = true;
    });
  }

  #ondata(data: string | Buffer): void {
    let packet: Packet | null | undefined;
    try {
      packet = this.#decoder.add(data) as Packet | null | undefined;
    } catch (err) {
      this.#onerror(err);
      return;
    }
    if (packet) this.#ondecoded(packet);
  }

  #ondecoded(packet: Packet): void {
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
    const socket = this.nsps.get(name);
    if (!socket && packet.type === PacketType.CONNECT) {
      this.connect(name, auth);
    } else if (
      socket &&
      packet.type !== PacketType.CONNECT &&
      packet.type !== PacketType.CONNECT_ERROR
    ) {
      socket._onpacket(packet);
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
    for (const socket of this.nsps.values()) socket._onerror(error);
    this._onclose("parse error");
    this.conn.close();
  }

  /** Encodes and writes one packet to this connection. */
  _packet(packet: Packet, opts: WriteOptions = {}): void {
    if (this.conn.readyState !== "open") return;
    this.writeToEngine(this.encoder.encode(packet), opts);
  }

  /** Writes already encoded messages (one packet's text and attachments). */
  writeToEngine(messages: readonly (string | Buffer)[], opts: WriteOptions): void {
    const conn = this.conn;
    if (opts.volatile && !conn.transport.writable) return;
    const sendOpts = { compress: opts.compress !== false };
    for (let i = 0; i < messages.length; i++) conn.write(messages[i], sendOpts);
  }

  /** Writes messages prepared once for a whole broadcast. */
  writePrepared(messages: readonly PreparedMessage[], opts: WriteOptions): void {
    const conn = this.conn;
    if (conn.readyState !== "open") return;
    if (opts.volatile && !conn.transport.writable) return;
    const sendOpts = { compress: opts.compress !== false };
    for (let i = 0; i < messages.length; i++) conn.write(messages[i], sendOpts);
  }

  /** Leaves every namespace (sending DISCONNECT) then closes the connection. */
  _disconnect(): void {
    for (const socket of [...this.nsps.values()]) socket.disconnect();
    this.nsps.clear();
    this.close();
  }

  /** Forgets a socket that left its namespace. */
  _remove(socket: Socket): void {
    const name = socket.nsp.name;
    if (this.nsps.get(name) === socket) this.nsps.delete(name);
  }

  /** Closes the engine connection. */
  close(): void {
    if (this.conn.readyState === "open") {
      // Sockets learn the reason first: the engine may report its own close synchronously.
      this._onclose("forced server close");
      this.conn.close();
    }
  }

  /** The connection closed: every socket on it disconnects with `reason`. */
  _onclose(reason: string, description?: unknown): void {
    if (this.nsps.size > 0) {
      for (const socket of [...this.nsps.values()]) socket._onclose(reason, description);
      this.nsps.clear();
    }
    this.#decoder.destroy?.();
  }
}
