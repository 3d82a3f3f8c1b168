/**
 * What every Engine.IO transport shares: its state, and the owner it reports
 * to. Transports only move packets; the session (the owner) decides what they
 * mean. Events go to the owner through plain method calls rather than an
 * emitter with per-socket listener closures, which keeps an idle connection
 * small.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { Packet, ProtocolVersion } from "../codec/engineio/index.js";
import type { WebSocketWriter } from "./ws-writer.js";

export type TransportName = "polling" | "websocket";

export type TransportState = "open" | "closing" | "closed";

/** Receives what a transport observes. Implemented by the Engine.IO socket. */
export interface TransportOwner {
  /** A packet arrived. */
  onTransportPacket(transport: Transport, packet: Packet): void;
  /** The input was malformed (`parse error`) or the transport failed. */
  onTransportError(transport: Transport, message: string, parseError: boolean): void;
  /** The transport closed (peer went away, or a close packet arrived). */
  onTransportClose(transport: Transport): void;
  /** The transport became writable (a long-polling GET arrived). */
  onTransportReady(transport: Transport): void;
  /** Packets sent with `notify` have been written out. */
  onTransportDrain(transport: Transport): void;
  /** The tick of the last write to the owner's connection (see {@link WebSocketWriter}). */
  tickMark: number;
}

/**
 * A pre-encoded message (see the engine's `PreparedMessage`): transports ask it
 * for the bytes they need, computed once for all recipients.
 */
export interface PreEncoded {
  /** The packet as long-polling text (v4). */
  pollingPacket(): string;
  /** The UTF-8 bytes of {@link pollingPacket}: the body of a poll that carries this packet alone. */
  pollingBody(): Buffer;
  /** The complete unmasked WebSocket frame (v4, no permessage-deflate). */
  websocketFrame(): Buffer[];
  /** The shared Engine.IO packet, for transports that cannot take the frame. */
  packet(compress?: boolean): Packet;
}

/** Bytes the transports of one engine server moved (their owner reads them). */
export interface WireCounters {
  /** Websocket frame payloads and polling request bodies received. */
  bytesIn: number;
  /** Websocket frames (header included) and polling response bodies written. */
  bytesOut: number;
}

/** Settings shared by every transport of one engine server (one object, not per socket). */
export interface TransportConfig {
  /** Where the bytes are counted (an increment per frame or body, never a call). */
  counters: WireCounters;
  maxHttpBufferSize: number;
  /** Most bytes that may wait to be written to one client (engine `maxBufferedBytes`). */
  maxBufferedBytes: number;
  /** Writes every websocket frame of the engine server's connections (one per server). */
  writer: WebSocketWriter;
  /** Minimum response size to compress, or null when http compression is off. */
  httpCompressionThreshold: number | null;
  /**
   * Whether {@link decorateHeaders} would add anything to a response (the
   * session's first, when `initial`): when not, the transport writes its
   * plain headers without calling it.
   */
  decoratesHeaders(initial: boolean): boolean;
  /** Lets the engine add headers (cookie, `headers` events) to a polling response. */
  decorateHeaders(
    headers: OutgoingHttpHeaders,
    req: IncomingMessage,
    sid: string,
    initial: boolean,
  ): void;
}

export abstract class Transport {
  abstract readonly name: TransportName;
  readonly protocol: ProtocolVersion;
  readonly config: TransportConfig;
  owner: TransportOwner | null = null;
  sid = "";
  readyState: TransportState = "open";
  /** Whether `send` may be called now. */
  writable = false;
  /** Set on the old transport once an upgrade replaced it. */
  discarded = false;

  constructor(protocol: ProtocolVersion, config: TransportConfig) {
    this.protocol = protocol;
    this.config = config;
  }

  /** Whether this transport can be the target of an upgrade. */
  abstract get handlesUpgrades(): boolean;

  /** Whether messages prepared once can be written as pre-built frames ({@link WebSocketTransport}). */
  get writesFrames(): boolean {
    return false;
  }

  /** Writes packets; `notify` asks for `onTransportDrain` once they are written. */
  abstract send(packets: Packet[], notify?: boolean): void;

  /** Closes the transport; `done` runs once it no longer carries the session. */
  abstract close(done?: () => void): void;

  /** Marks the transport as replaced by an upgrade. */
  discard(): void {
    this.discarded = true;
  }

  protected emitPacket(packet: Packet): void {
    this.owner?.onTransportPacket(this, packet);
  }

  protected emitError(message: string, parseError = false): void {
    this.owner?.onTransportError(this, message, parseError);
  }

  protected emitClose(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.writable = false;
    const owner = this.owner;
    owner?.onTransportClose(this);
  }
}
