/**
 * The WebSocket transport over `ws`: one Engine.IO packet per frame, text as
 * text frames and binary messages as binary frames (v4: the bytes alone; v3:
 * led by the packet type byte).
 *
 * Listeners are shared functions that find their transport through a symbol
 * on the `ws` object, so a connection costs no closures. All use of `ws`
 * internals (writing pre-built frames through its sender) lives here, with a
 * fallback to `ws.send`.
 */
import * as wsModule from "ws";
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
import { type Corkable, corkStream, markWrittenThisTick, wroteThisTick } from "./tick-cork.js";
import { type PreEncoded, Transport, type TransportConfig } from "./transport.js";
import { encodeFrame } from "./ws-frame.js";
import type { WebSocket } from "./ws-types.js";

const debug = createDebug("engine:websocket");

const kTransport = Symbol("switchboard.transport");

type TaggedWebSocket = WebSocket & { [kTransport]?: WebSocketTransport };

/** The part of ws's (untyped) Sender used to write pre-built frames. */
interface FrameSender {
  _state?: number;
  sendFrame?: (list: Buffer[], cb?: (err?: Error) => void) => void;
}

type SendFrame = (list: Buffer[], cb?: (err?: Error) => void) => void;

/** The TCP stream under a ws WebSocket, as this file writes to it. */
type FrameStream = Corkable & {
  write(chunk: Buffer): boolean;
  readonly writableLength: number;
};

/** ws 8's Sender writes a list of pre-built frame buffers (checked once, not per send). */
const SENDS_FRAMES =
  typeof (wsModule as unknown as { Sender?: { prototype?: FrameSender } }).Sender?.prototype
    ?.sendFrame === "function";

const WS_OPEN = 1;

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
  #onSentLast: ((err?: Error) => void) | null = null;
  /** The tick of the last write (see `markWrittenThisTick`). */
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
    if (wroteThisTick(this.owner ?? this)) return true;
    const socket = this.socket;
    const stream = (socket as unknown as { _socket?: FrameStream })._socket;
    if (stream !== undefined && stream.writableLength > 0) return true;
    const sender = (socket as unknown as { _sender?: FrameSender })._sender;
    return sender?._state !== undefined && sender._state !== 0;
  }

  /** Remote address of the underlying TCP connection. */
  get remoteAddress(): string | undefined {
    return (this.socket as unknown as { _socket?: { remoteAddress?: string } })._socket
      ?.remoteAddress;
  }

  onFrame(data: Buffer, isBinary: boolean): void {
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
    const stream = (socket as unknown as { _socket?: FrameStream })._socket;
    if (markWrittenThisTick(this.owner ?? this) && stream !== undefined) corkStream(stream);
    if (!this.deflate) {
      const sender = (socket as unknown as { _sender?: FrameSender })._sender;
      // ws writes frames straight to the socket when its sender is idle
      // (state 0); otherwise it queues them, and so must we, via send().
      if (SENDS_FRAMES && sender !== undefined && sender._state === 0) {
        const prepared = packet.options?.prepared as PreEncoded | undefined;
        (sender.sendFrame as SendFrame).call(
          sender,
          prepared !== undefined && this.protocol === 4
            ? prepared.websocketFrame()
            : this.#frameOf(packet),
          cb,
        );
        if (socket.bufferedAmount > this.config.maxBufferedBytes) this.overflow();
        return;
      }
    }
    const encoded = this.protocol === 3 ? encodePacketV3(packet) : encodePacket(packet);
    const compress = this.deflate && packet.options?.compress !== false;
    socket.send(encoded, { binary: typeof encoded !== "string", compress }, cb);
    // What the kernel did not take stays in node's (and ws's) queues: a client
    // that stops reading would grow them without bound. One getter read per send.
    if (socket.bufferedAmount > this.config.maxBufferedBytes) this.overflow();
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
    this.emitError("outgoing buffer full");
  }

  #sentCallback(): (err?: Error) => void {
    // Created on first need: most sockets never ask for write notifications.
    if (this.#onSentLast === null) {
      this.#onSentLast = (err?: Error) => {
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

/** {@link writeFrameDirect}: written. */
export const DIRECT_WRITTEN = 0;
/** {@link writeFrameDirect}: no TCP stream to write to; send through the transport. */
export const DIRECT_UNAVAILABLE = 1;
/** {@link writeFrameDirect}: written, and the client is now too far behind. */
export const DIRECT_OVERFLOW = 2;

/**
 * Writes a prepared message's frame straight to the TCP stream under `ws`,
 * as ws's sender writes an uncompressed frame: without permessage-deflate
 * (the caller checks) that sender never holds a queue, so nothing can be
 * overtaken. A closing or closed `ws` is skipped (written: nothing to do).
 * `again` says the connection was already written to in this tick (see
 * `markWrittenThisTick`): the stream is then corked until the tick ends.
 * This is the per-recipient work of a fan-out, so it visits as few objects
 * as it can: `ws` and its stream.
 */
export function writeFrameDirect(
  ws: WebSocket,
  prepared: PreEncoded,
  maxBufferedBytes: number,
  again: boolean,
): number {
  if (ws.readyState !== WS_OPEN) return DIRECT_WRITTEN;
  const stream = writeFramesDirect(ws, prepared.websocketFrame(), again);
  if (stream === null) return DIRECT_UNAVAILABLE;
  return stream.writableLength > maxBufferedBytes ? DIRECT_OVERFLOW : DIRECT_WRITTEN;
}

/**
 * Writes complete frames (from {@link encodeFrame}) straight to the TCP
 * stream under an open `ws` without permessage-deflate, corking it first when
 * `again`. Returns the stream, or null when there is none (use `ws.send`).
 */
export function writeFramesDirect(
  ws: WebSocket,
  frames: readonly Buffer[],
  again: boolean,
): FrameStream | null {
  const stream = (ws as unknown as { _socket?: FrameStream })._socket;
  if (stream === undefined || typeof stream.write !== "function") return null;
  if (again) corkStream(stream);
  if (frames.length === 1) stream.write(frames[0]);
  else for (let i = 0; i < frames.length; i++) stream.write(frames[i]);
  return stream;
}

/**
 * The unmasked frame of a server-to-client message, byte for byte as ws
 * would send it, as one buffer when small (see {@link encodeFrame}).
 */
export function buildFrame(data: string | Buffer, binary: boolean): Buffer[] {
  return encodeFrame(data, binary);
}
