/**
 * Socket.IO packet decoder (socket.io-protocol, "Packet format" and "Binary
 * attachments"). Pure and strict: each Engine.IO message goes in, a complete
 * packet comes out (or `null` while a binary packet still awaits attachments),
 * and anything off-spec raises a `SocketIOProtocolError`.
 */
import { DEFAULT_MAX_PAYLOAD_DEPTH, jsonDepthExceeds, valueDepthExceeds } from "../json-depth.js";
import { SocketIOProtocolError } from "./errors.js";
import {
  CLIENT_RESERVED_EVENTS,
  isPlaceholder,
  isPlainObject,
  type Packet,
  PacketType,
} from "./packet.js";
import { needsReviver, safeJsonParse } from "./safe-json.js";

export interface DecoderOptions {
  /** Most attachments one binary packet may declare. Default 10. */
  maxAttachments?: number;
  /** Longest namespace name, in characters. Default 256. */
  maxNamespaceLength?: number;
  /** Reject EVENT packets named like a lifecycle event or "error" (server side). Default true. */
  rejectReservedEvents?: boolean;
  /**
   * Deepest nesting of arrays and objects in a packet's JSON payload, the
   * payload itself counting as one level (so an EVENT's arguments may nest
   * 63 deep). Deeper packets are refused with `ERR_SIO_TOO_DEEP`. Default 64.
   */
  maxPayloadDepth?: number;
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const SLASH = 47;
const COMMA = 44;
const DASH = 45;
/** Acknowledgement ids stay safe integers: at most 15 digits. */
const MAX_ID_DIGITS = 15;

function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_9;
}

/** Whether a namespace holds a C0 control character (never valid in a path). */
function hasControlChar(str: string): boolean {
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) < 32) return true;
  return false;
}

function toBuffer(chunk: Buffer | ArrayBuffer | Uint8Array): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk);
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

type DecoderLimits = Readonly<Required<DecoderOptions>>;

const DEFAULT_LIMITS: DecoderLimits = Object.freeze({
  maxAttachments: 10,
  maxNamespaceLength: 256,
  rejectReservedEvents: true,
  maxPayloadDepth: DEFAULT_MAX_PAYLOAD_DEPTH,
});

/**
 * Resolved limits by options object: a server builds one decoder per
 * connection from the same options, and they all share one resolved record
 * instead of four fields each.
 */
const resolved = new WeakMap<DecoderOptions, DecoderLimits>();

function limitsOf(options: DecoderOptions | undefined): DecoderLimits {
  if (options === undefined) return DEFAULT_LIMITS;
  let limits = resolved.get(options);
  if (limits === undefined) {
    limits = Object.freeze({
      maxAttachments: options.maxAttachments ?? DEFAULT_LIMITS.maxAttachments,
      maxNamespaceLength: options.maxNamespaceLength ?? DEFAULT_LIMITS.maxNamespaceLength,
      rejectReservedEvents: options.rejectReservedEvents ?? DEFAULT_LIMITS.rejectReservedEvents,
      maxPayloadDepth: options.maxPayloadDepth ?? DEFAULT_LIMITS.maxPayloadDepth,
    });
    // Options objects are read once: later changes to one do not apply,
    // as with the fields a decoder used to copy.
    resolved.set(options, limits);
  }
  return limits;
}

/**
 * Decodes the messages of one connection. Keep one decoder per client: it
 * holds a binary packet between its header and its last attachment.
 *
 * @example
 * const decoder = new Decoder();
 * decoder.add('51-["upload",{"_placeholder":true,"num":0}]'); // null: awaiting 1 attachment
 * decoder.add(Buffer.from([1, 2, 3])); // { type: 5, nsp: "/", data: ["upload", <Buffer 01 02 03>], attachments: 1 }
 */
export class Decoder {
  /** Shared by every decoder built from the same options object. */
  readonly #limits: DecoderLimits;
  #pending: Packet | null = null;
  /** Attachments received so far for `#pending`. */
  #buffers: Buffer[] | null = null;

  constructor(options?: DecoderOptions) {
    this.#limits = limitsOf(options);
  }

  /** Whether a binary packet is waiting for attachments. */
  get reconstructing(): boolean {
    return this.#pending !== null;
  }

  /**
   * Feeds one Engine.IO message. Returns the completed packet, or `null` when
   * the message was an announced attachment that is not yet the last one (or
   * the header of a binary packet).
   */
  add(chunk: string | Buffer | ArrayBuffer | Uint8Array): Packet | null {
    if (typeof chunk === "string") {
      if (this.#pending) throw new SocketIOProtocolError("ERR_SIO_UNEXPECTED_TEXT");
      const packet = this.#decodeText(chunk);
      if (packet.attachments !== undefined) {
        this.#pending = packet;
        this.#buffers = null;
        return null;
      }
      return packet;
    }
    const pending = this.#pending;
    if (!pending) throw new SocketIOProtocolError("ERR_SIO_UNEXPECTED_BINARY");
    const buffers = (this.#buffers ??= []);
    buffers.push(toBuffer(chunk));
    if (buffers.length < (pending.attachments as number)) return null;
    this.#pending = null;
    this.#buffers = null;
    pending.data = this.#reconstruct(pending.data, buffers, 0);
    return pending;
  }

  /** Drops a half-received binary packet (on close). */
  destroy(): void {
    this.#pending = null;
    this.#buffers = null;
  }

  #decodeText(str: string): Packet {
    if (str.length === 0) throw new SocketIOProtocolError("ERR_SIO_EMPTY_PACKET");
    const typeCode = str.charCodeAt(0) - DIGIT_0;
    if (typeCode < 0 || typeCode > 6) {
      throw new SocketIOProtocolError("ERR_SIO_UNKNOWN_TYPE", JSON.stringify(str[0]));
    }
    const type = typeCode as PacketType;
    const packet: Packet = { type, nsp: "/" };
    let i = 1;

    if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
      const start = i;
      while (i < str.length && isDigit(str.charCodeAt(i))) i++;
      if (i === start || i - start > 6 || str.charCodeAt(i) !== DASH) {
        throw new SocketIOProtocolError("ERR_SIO_BAD_ATTACHMENTS");
      }
      const count = Number(str.slice(start, i));
      if (count < 1) throw new SocketIOProtocolError("ERR_SIO_BAD_ATTACHMENTS", "zero");
      if (count > this.#limits.maxAttachments) {
        throw new SocketIOProtocolError("ERR_SIO_TOO_MANY_ATTACHMENTS", `${count}`);
      }
      packet.attachments = count;
      i++;
    }

    if (str.charCodeAt(i) === SLASH) {
      const start = i;
      let end = str.indexOf(",", i);
      if (end === -1) end = str.length;
      const nsp = str.slice(start, end);
      if (nsp.length > this.#limits.maxNamespaceLength || hasControlChar(nsp)) {
        throw new SocketIOProtocolError("ERR_SIO_BAD_NAMESPACE");
      }
      packet.nsp = nsp;
      i = end === str.length ? end : end + 1;
    } else if (i < str.length && str.charCodeAt(i) === COMMA) {
      throw new SocketIOProtocolError("ERR_SIO_BAD_NAMESPACE");
    }

    if (i < str.length && isDigit(str.charCodeAt(i))) {
      const start = i;
      while (i < str.length && isDigit(str.charCodeAt(i))) i++;
      if (i - start > MAX_ID_DIGITS) throw new SocketIOProtocolError("ERR_SIO_BAD_ACK_ID");
      packet.id = Number(str.slice(start, i));
    }

    if (i < str.length) {
      // Whatever reaches a listener (and is echoed back through an ack) must
      // be shallow enough to encode again. The parse builds any depth without
      // recursing, so the parsed value is checked, which costs far less than
      // scanning the text; only text that takes the recursive reviver is
      // checked before parsing.
      const json = str.slice(i);
      const maxDepth = this.#limits.maxPayloadDepth;
      if (needsReviver(json) && jsonDepthExceeds(json, maxDepth)) this.#tooDeep();
      try {
        packet.data = safeJsonParse(json);
      } catch (err) {
        throw new SocketIOProtocolError("ERR_SIO_BAD_JSON", undefined, { cause: err });
      }
      if (valueDepthExceeds(packet.data, maxDepth)) this.#tooDeep();
    }

    this.#validate(packet);
    return packet;
  }

  #validate(packet: Packet): void {
    const { type, data } = packet;
    switch (type) {
      case PacketType.CONNECT:
        if (data !== undefined && !isPlainObject(data)) this.#badPayload(type);
        if (packet.id !== undefined) throw new SocketIOProtocolError("ERR_SIO_BAD_ACK_ID");
        return;
      case PacketType.DISCONNECT:
        if (data !== undefined) this.#badPayload(type);
        return;
      case PacketType.CONNECT_ERROR:
        if (typeof data !== "string" && !isPlainObject(data)) this.#badPayload(type);
        return;
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT: {
        if (!Array.isArray(data) || data.length === 0) this.#badPayload(type);
        const name = (data as unknown[])[0];
        if (typeof name !== "string") throw new SocketIOProtocolError("ERR_SIO_BAD_EVENT_NAME");
        if (this.#limits.rejectReservedEvents && CLIENT_RESERVED_EVENTS.has(name)) {
          throw new SocketIOProtocolError("ERR_SIO_RESERVED_EVENT", name);
        }
        break;
      }
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        if (!Array.isArray(data)) this.#badPayload(type);
        if (packet.id === undefined) throw new SocketIOProtocolError("ERR_SIO_BAD_ACK_ID");
        break;
    }
    if (packet.attachments !== undefined) {
      const seen = new Set<number>();
      this.#collectPlaceholders(data, packet.attachments, seen, 0);
      if (seen.size !== packet.attachments) {
        throw new SocketIOProtocolError(
          "ERR_SIO_BAD_ATTACHMENTS",
          `declared ${packet.attachments}, referenced ${seen.size}`,
        );
      }
    }
  }

  #tooDeep(): never {
    throw new SocketIOProtocolError(
      "ERR_SIO_TOO_DEEP",
      `deeper than ${this.#limits.maxPayloadDepth} levels`,
    );
  }

  #badPayload(type: PacketType): never {
    throw new SocketIOProtocolError("ERR_SIO_BAD_PAYLOAD", `type ${type}`);
  }

  /** Checks every placeholder names a declared attachment, once. */
  #collectPlaceholders(value: unknown, count: number, seen: Set<number>, depth: number): void {
    if (value === null || typeof value !== "object") return;
    // The text scan already bounds the depth; this keeps the recursion bounded on its own.
    if (depth >= this.#limits.maxPayloadDepth) throw new SocketIOProtocolError("ERR_SIO_TOO_DEEP");
    if (isPlaceholder(value)) {
      const n = value.num;
      if (!Number.isInteger(n) || n < 0 || n >= count || seen.has(n)) {
        throw new SocketIOProtocolError("ERR_SIO_BAD_PLACEHOLDER", String(n));
      }
      seen.add(n);
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) this.#collectPlaceholders(item, count, seen, depth + 1);
      return;
    }
    for (const key of Object.keys(value)) {
      this.#collectPlaceholders((value as Record<string, unknown>)[key], count, seen, depth + 1);
    }
  }

  /** Puts the attachments back where their placeholders stand. */
  #reconstruct(value: unknown, buffers: Buffer[], depth: number): unknown {
    if (value === null || typeof value !== "object") return value;
    if (isPlaceholder(value)) return buffers[value.num];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++)
        value[i] = this.#reconstruct(value[i], buffers, depth + 1);
      return value;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      record[key] = this.#reconstruct(record[key], buffers, depth + 1);
    }
    return value;
  }
}
