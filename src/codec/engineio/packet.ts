/**
 * Engine.IO packets: the type table and the encoding of a single packet, for
 * protocol v4 and v3 (https://github.com/socketio/engine.io-protocol).
 *
 * A packet is one type digit followed by optional data. Binary data travels
 * as a raw binary WebSocket frame (v4: the bytes alone; v3: a type byte, then
 * the bytes) or, inside text (HTTP long-polling), as `b` + base64 (v4) or
 * `b<type>` + base64 (v3).
 *
 * @example
 * encodePacket({ type: "message", data: "hello" }); // "4hello"
 * decodePacket("4hello"); // { type: "message", data: "hello" }
 */
import { EngineParseError } from "./errors.js";

export type PacketType = "open" | "close" | "ping" | "pong" | "message" | "upgrade" | "noop";

/** Data carried by a packet: text, or bytes for a binary message. */
export type RawData = string | Buffer;

export interface PacketOptions {
  /** Whether the packet may be compressed. Default true. */
  compress?: boolean;
  /** Set when the packet comes from a prepared (encode-once) message. */
  prepared?: unknown;
}

export interface Packet {
  type: PacketType;
  data?: RawData;
  options?: PacketOptions;
}

/** Engine.IO protocol revisions this codec speaks. */
export type ProtocolVersion = 3 | 4;

/** Packet type → wire digit (same in v3 and v4). */
export const PACKET_TYPES: Readonly<Record<PacketType, number>> = {
  open: 0,
  close: 1,
  ping: 2,
  pong: 3,
  message: 4,
  upgrade: 5,
  noop: 6,
};

/** Wire digit → packet type. */
export const PACKET_TYPES_BY_CODE: readonly PacketType[] = [
  "open",
  "close",
  "ping",
  "pong",
  "message",
  "upgrade",
  "noop",
];

const CHAR_CODE_0 = 48;

/** The one-character prefix of each packet type, precomputed. */
const TYPE_CHARS: Readonly<Record<PacketType, string>> = {
  open: "0",
  close: "1",
  ping: "2",
  pong: "3",
  message: "4",
  upgrade: "5",
  noop: "6",
};

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string): Buffer {
  // Buffer.from(…, "base64") silently skips junk; the protocol does not allow it.
  if (text.length % 4 === 1 || !BASE64_RE.test(text)) {
    throw new EngineParseError("ERR_EIO_BAD_BASE64", "invalid base64 in binary packet");
  }
  return Buffer.from(text, "base64");
}

/**
 * Encodes a packet for a WebSocket frame (v4): a Buffer is sent as a binary
 * frame carrying only the bytes (the type is implicitly "message").
 */
export function encodePacket(packet: Packet): RawData {
  const data = packet.data;
  if (data === undefined) return TYPE_CHARS[packet.type];
  if (typeof data === "string") return TYPE_CHARS[packet.type] + data;
  return data;
}

/** Encodes a packet as text (v4 long-polling): binary becomes `b` + base64. */
export function encodePacketToString(packet: Packet): string {
  const data = packet.data;
  if (data === undefined) return TYPE_CHARS[packet.type];
  if (typeof data === "string") return TYPE_CHARS[packet.type] + data;
  return `b${data.toString("base64")}`;
}

/**
 * Decodes one v4 packet. A Buffer (a binary WebSocket frame) is a binary
 * message; text starts with the type digit, or with `b` for base64 binary.
 */
export function decodePacket(encoded: RawData): Packet {
  if (typeof encoded !== "string") return { type: "message", data: encoded };
  if (encoded.length === 0) throw new EngineParseError("ERR_EIO_EMPTY_PACKET", "empty packet");
  const first = encoded.charCodeAt(0);
  if (first === 98 /* b */) return { type: "message", data: decodeBase64(encoded.slice(1)) };
  const type = PACKET_TYPES_BY_CODE[first - CHAR_CODE_0];
  if (type === undefined) {
    throw new EngineParseError("ERR_EIO_UNKNOWN_PACKET_TYPE", "unknown packet type");
  }
  return encoded.length > 1 ? { type, data: encoded.slice(1) } : { type };
}

/**
 * Encodes a packet for a v3 WebSocket frame: binary data is prefixed with the
 * type byte.
 */
export function encodePacketV3(packet: Packet): RawData {
  const data = packet.data;
  if (data === undefined || typeof data === "string") return encodePacket(packet);
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = PACKET_TYPES[packet.type];
  data.copy(out, 1);
  return out;
}

/** Encodes a packet as v3 text: binary becomes `b<type>` + base64. */
export function encodePacketToStringV3(packet: Packet): string {
  const data = packet.data;
  if (data === undefined || typeof data === "string") return encodePacketToString(packet);
  return `b${TYPE_CHARS[packet.type]}${data.toString("base64")}`;
}

/** Decodes one v3 packet (text, or a binary frame led by its type byte). */
export function decodePacketV3(encoded: RawData): Packet {
  if (typeof encoded !== "string") {
    if (encoded.length === 0) throw new EngineParseError("ERR_EIO_EMPTY_PACKET", "empty packet");
    const type = PACKET_TYPES_BY_CODE[encoded[0]];
    if (type === undefined) {
      throw new EngineParseError("ERR_EIO_UNKNOWN_PACKET_TYPE", "unknown packet type");
    }
    return { type, data: encoded.subarray(1) };
  }
  if (encoded.length === 0) throw new EngineParseError("ERR_EIO_EMPTY_PACKET", "empty packet");
  if (encoded.charCodeAt(0) === 98 /* b */) {
    const type = PACKET_TYPES_BY_CODE[encoded.charCodeAt(1) - CHAR_CODE_0];
    if (type === undefined) {
      throw new EngineParseError("ERR_EIO_UNKNOWN_PACKET_TYPE", "unknown packet type");
    }
    return { type, data: decodeBase64(encoded.slice(2)) };
  }
  return decodePacket(encoded);
}
