/**
 * Encode once, send to many: a message payload whose Engine.IO packet text
 * and WebSocket frame are each computed at most once, on first use, then
 * shared by every recipient. A broadcast to N websocket clients writes the
 * same frame buffers N times instead of framing (and UTF-8 encoding) N times.
 */
import type { Packet, PacketOptions } from "../codec/engineio/index.js";
import type { PreEncoded } from "../transport/transport.js";
import { encodeFrame } from "../transport/ws-frame.js";
import type { PreparedMessage as PreparedMessageContract } from "./types.js";

/** Accepted message payloads: text, or bytes in any common container. */
export type MessageData = string | Buffer | ArrayBuffer | ArrayBufferView;

/** Normalises a payload to string or Buffer without copying bytes. */
export function toRawData(data: MessageData): string | Buffer {
  if (typeof data === "string" || Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return String(data);
}

/**
 * @example
 * const prepared = new PreparedMessage('2["news","hello"]');
 * for (const socket of sockets) socket.send(prepared);
 */
export class PreparedMessage implements PreparedMessageContract, PreEncoded {
  readonly data: string | Buffer;
  #polling: string | null = null;
  #pollingBody: Buffer | null = null;
  #frame: Buffer[] | null = null;
  #packet: Packet | null = null;
  #uncompressedPacket: Packet | null = null;

  constructor(data: MessageData) {
    this.data = toRawData(data);
  }

  /** `4<text>` or `b<base64>`: the packet as long-polling text (v4). */
  pollingPacket(): string {
    if (this.#polling === null) {
      const data = this.data;
      this.#polling = typeof data === "string" ? `4${data}` : `b${data.toString("base64")}`;
    }
    return this.#polling;
  }

  /** The UTF-8 bytes of {@link pollingPacket}, shared by every polling recipient. */
  pollingBody(): Buffer {
    this.#pollingBody ??= Buffer.from(this.pollingPacket(), "utf8");
    return this.#pollingBody;
  }

  /** The complete unmasked frame: text `4<text>`, or binary with the bytes alone. */
  websocketFrame(): Buffer[] {
    if (this.#frame === null) {
      const data = this.data;
      this.#frame =
        typeof data === "string" ? encodeFrame(`4${data}`, false) : encodeFrame(data, true);
    }
    return this.#frame;
  }

  /** The shared Engine.IO packet (one object for all recipients). */
  packet(compress = true): Packet {
    if (compress) {
      this.#packet ??= this.#makePacket({ compress: true, prepared: this });
      return this.#packet;
    }
    this.#uncompressedPacket ??= this.#makePacket({ compress: false, prepared: this });
    return this.#uncompressedPacket;
  }

  #makePacket(options: PacketOptions): Packet {
    return { type: "message", data: this.data, options };
  }
}
