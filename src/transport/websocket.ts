/**
 * The WebSocket transport over `ws`: one Engine.IO packet per frame, text as
 * text frames and binary messages as binary frames (v4: the bytes alone; v3:
 * led by the packet type byte).
 *
 * Listeners are shared functions that find their transport through a symbol
 * on the `ws` object, so a connection costs no closures. Every write goes
 * through the engine server's {@link WebSocketWriter} (pre-built frames,
 * tick coalescing, the backlog limit).
 */
import {
  decodePacket,
  decodePacketV3,
  EngineParseError,
  encodePacket,
  encodePacketV3,
  type Packet,
  type ProtocolVersion,
} from "../codec/engineio/index.js";
import { createDebug } from "../shared/debug.js";
import { useCompactListenerTable } from "../shared/listener-table.js";
import { type PreEncoded, Transport, type TransportConfig } from "./transport.js";
import { encodeFrame, frameBytes } from "./ws-frame.js";
import type { WebSocket } from "./ws-types.js";
import { OVERFLOW, remoteAddressOf, UNAVAILABLE, type WebSocketWriter } from "./ws-writer.js";

const debug = createDebug("engine:websocket");

const kTransport = Symbol("switchboard.transport");

type TaggedWebSocket = WebSocket & { [kTransport]?: WebSocketTransport };

const WS_OPEN = 1;

/** The error a connection closed as a slow consumer reports. */
export const OUTGOING_BUFFER_FULL = "outgoing buffer full";

function onMessage(this: TaggedWebSocket, data: Buffer, isBinary: boolean): void {
  this[kTransport]?.onFrame(data, isBinary);
}

function onClose(this: TaggedWebSocket): void {
  this[kTransport]?.onSocketClose();
}

function onError(this: TaggedWebSocket, err: Error): void {
  this[kTransport]?.onSocketError(err);
}

export class WebSocketTransport extends Transport {
  /** On the prototype, not in each instance. */
  get name(): "websocket" {
    return "websocket";
  }
  readonly socket: WebSocket;
  /** Whether permessage-deflate was negotiated (then frames cannot be pre-built). */
  readonly deflate: boolean;
  #onSentLast: ((err?: Error | null) => void) | null = null;
  /** The tick of the last write, when there is no owner (see {@link WebSocketWriter}). */
  tickMark = 0;

  constructor(socket: WebSocket, protocol: ProtocolVersion, config: TransportConfig) {
    super(protocol, config);
    this.socket = socket;
    this.deflate = socket.extensions.includes("permessage-deflate");
    (socket as TaggedWebSocket)[kTransport] = this;
    useCompactListenerTable(socket);
    socket.on("message", onMessage);
    // on, not once: ws emits "close" once, and once() would allocate a wrapper.
    socket.on("close", onClose);
    socket.on("error", onError);
    this.writable = true;
  }

  get handlesUpgrades(): boolean {
    return true;
  }

  /** v4 without permessage-deflate: a prepared message's frame goes out as built. */
  override get writesFrames(): boolean {
    return this.protocol === 4 && !this.deflate;
  }

  /**
   * Whether a write is in flight: engine.io's websocket transport is not
   * `writable` from the start of a send until ws's write callback runs, and
   * socket.io drops a volatile packet meanwhile. Frames here go straight to
   * the stream, so the same span is read off the connection: written to in
   * this tick (the callback of such a write runs on the next one at the
   * earliest), bytes the kernel has not taken yet, or ws's sender busy
   * (compressing). Read for volatile packets only.
   */
  get writing(): boolean {
    return this.#writer.busy(this.socket, this.owner ?? this);
  }

  /** Remote address of the underlying TCP connection. */
  get remoteAddress(): string | undefined {
    return remoteAddressOf(this.socket);
  }

  get #writer(): WebSocketWriter {
    return this.config.writer;
  }

  onFrame(data: Buffer, isBinary: boolean): void {
    this.config.counters.bytesIn += data.length;
    let packet: Packet;
    try {
      const raw = isBinary ? data : data.toString("utf8");
      packet = this.protocol === 3 ? decodePacketV3(raw) : decodePacket(raw);
    } catch (err) {
      this.emitError(err instanceof EngineParseError ? err.message : "parse error", true);
      return;
    }
    this.emitPacket(packet);
  }

  onSocketClose(): void {
    this.emitClose();
  }

  onSocketError(err: Error): void {
    // ws reports protocol violations (e.g. an oversized frame, closed with
    // 1009) as an error, then closes: the session ends as "transport error".
    if (this.readyState === "open") this.emitError(err.message);
  }

  send(packets: Packet[], notify = false): void {
    const last = packets.length - 1;
    for (let i = 0; i <= last; i++) this.sendPacket(packets[i], notify && i === last);
  }

  /** Writes one packet; `notify` asks for `onTransportDrain` once it is written. */
  sendPacket(packet: Packet, notify = false): void {
    const socket = this.socket;
    if (socket.readyState !== WS_OPEN) return;
    const cb = notify ? this.#sentCallback() : undefined;
    const writer = this.#writer;
    const mark = this.owner ?? this;
    // What the kernel did not take stays in node's (and ws's) queues: a client
    // that stops reading would grow them without bound.
    const max = this.config.maxBufferedBytes;
    let status: number = UNAVAILABLE;
    if (!this.deflate) {
      const prepared = packet.options?.prepared as PreEncoded | undefined;
      const frames =
        prepared !== undefined && this.protocol === 4
          ? prepared.websocketFrame()
          : this.#frameOf(packet);
      status = writer.writeFramesThen(socket, frames, mark, max, cb);
      if (status !== UNAVAILABLE) this.config.counters.bytesOut += frameBytes(frames);
    }
    if (status === UNAVAILABLE) {
      const encoded = this.protocol === 3 ? encodePacketV3(packet) : encodePacket(packet);
      const compress = this.deflate && packet.options?.compress !== false;
      // Through ws (permessage-deflate, or a stand-in socket): the payload before compression.
      this.config.counters.bytesOut +=
        typeof encoded === "string" ? Buffer.byteLength(encoded) : encoded.length;
      status = writer.send(socket, encoded, typeof encoded !== "string", compress, mark, max, cb);
    }
    if (status === OVERFLOW) this.overflow();
  }

  /** The frame of a packet nobody prepared: one buffer, so one write. */
  #frameOf(packet: Packet): Buffer[] {
    const encoded = this.protocol === 3 ? encodePacketV3(packet) : encodePacket(packet);
    return encodeFrame(encoded, typeof encoded !== "string");
  }

  /** The client fell `maxBufferedBytes` behind: drop it and free its queue at once. */
  overflow(): void {
    if (this.readyState !== "open") return;
    debug("outgoing buffer full on %s (%d bytes)", this.sid, this.socket.bufferedAmount);
    this.readyState = "closing";
    this.writable = false;
    // terminate(), not close(): a close frame would wait behind the very
    // bytes the peer is not reading (up to ws's 30 s close timeout).
    this.socket.terminate();
    this.emitError(OUTGOING_BUFFER_FULL);
  }

  #sentCallback(): (err?: Error | null) => void {
    // Created on first need: most sockets never ask for write notifications.
    if (this.#onSentLast === null) {
      this.#onSentLast = (err?: Error | null) => {
        if (err) this.emitError(err.message);
        else this.owner?.onTransportDrain(this);
      };
    }
    return this.#onSentLast;
  }

  close(done?: () => void): void {
    if (this.readyState !== "open") {
      done?.();
      return;
    }
    this.readyState = "closing";
    this.writable = false;
    this.socket.close();
    done?.();
  }
}
