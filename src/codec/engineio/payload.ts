/**
 * Engine.IO payloads: several packets in one HTTP long-polling body.
 *
 * - v4: packets encoded as text, joined by the record separator U+001E.
 * - v3 text: each packet as `<length>:<packet>`, length counted in UTF-16
 *   code units; binary packets as `b<type><base64>`.
 * - v3 binary (`application/octet-stream`): each packet as a flag byte
 *   (0 text, 1 binary), the decimal digits of its byte length as bytes 0-9, a
 *   255 terminator, then the packet (UTF-8 text, or the type byte and bytes).
 *
 * See https://github.com/socketio/engine.io-protocol (v3 and v4 sections).
 *
 * @example
 * encodePayload([{ type: "message", data: "a" }, { type: "ping" }]); // "4a\x1e2"
 * decodePayloadV3("6:4hello2:4€"); // two message packets
 */
import { EngineParseError } from "./errors.js";
import {
  decodePacket,
  decodePacketV3,
  encodePacketToString,
  encodePacketToStringV3,
  PACKET_TYPES,
  PACKET_TYPES_BY_CODE,
  type Packet,
} from "./packet.js";

/** The v4 payload separator. */
export const RECORD_SEPARATOR = "\x1e";

/** Encodes packets as a v4 long-polling payload. */
export function encodePayload(packets: readonly Packet[]): string {
  if (packets.length === 1) return encodePacketToString(packets[0]);
  let out = "";
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += RECORD_SEPARATOR;
    out += encodePacketToString(packets[i]);
  }
  return out;
}

/** Joins packets already encoded as text into a v4 payload. */
export function joinEncodedPackets(encoded: readonly string[]): string {
  return encoded.length === 1 ? encoded[0] : encoded.join(RECORD_SEPARATOR);
}

/** Decodes a v4 long-polling payload; throws {@link EngineParseError}. */
export function decodePayload(payload: string): Packet[] {
  if (payload.indexOf(RECORD_SEPARATOR) === -1) return [decodePacket(payload)];
  const parts = payload.split(RECORD_SEPARATOR);
  const packets: Packet[] = new Array(parts.length);
  for (let i = 0; i < parts.length; i++) packets[i] = decodePacket(parts[i]);
  return packets;
}

/** Wraps one v3 text packet with its length prefix. */
export function frameV3(encoded: string): string {
  return `${encoded.length}:${encoded}`;
}

/** Encodes packets as a v3 text payload (binary data as base64). */
export function encodePayloadV3(packets: readonly Packet[]): string {
  if (packets.length === 0) return "0:";
  let out = "";
  for (const packet of packets) out += frameV3(encodePacketToStringV3(packet));
  return out;
}

/** Decodes a v3 text payload; throws {@link EngineParseError}. */
export function decodePayloadV3(payload: string): Packet[] {
  if (payload.length === 0) throw new EngineParseError("ERR_EIO_EMPTY_PACKET", "empty payload");
  const packets: Packet[] = [];
  let i = 0;
  while (i < payload.length) {
    const colon = payload.indexOf(":", i);
    // Lengths above 1e15 cannot be real; cap the digit count before parsing.
    if (colon === -1 || colon === i || colon - i > 15) {
      throw new EngineParseError("ERR_EIO_BAD_LENGTH", "invalid packet length in payload");
    }
    let length = 0;
    for (let j = i; j < colon; j++) {
      const digit = payload.charCodeAt(j) - 48;
      if (digit < 0 || digit > 9) {
        throw new EngineParseError("ERR_EIO_BAD_LENGTH", "invalid packet length in payload");
      }
      length = length * 10 + digit;
    }
    const start = colon + 1;
    if (start + length > payload.length) {
      throw new EngineParseError("ERR_EIO_TRUNCATED_PAYLOAD", "payload shorter than its lengths");
    }
    if (length > 0) packets.push(decodePacketV3(payload.slice(start, start + length)));
    i = start + length;
  }
  return packets;
}

/** Whether any packet carries bytes (v3 then prefers the binary payload). */
export function hasBinary(packets: readonly Packet[]): boolean {
  for (const packet of packets) {
    if (packet.data !== undefined && typeof packet.data !== "string") return true;
  }
  return false;
}

function lengthHeader(flag: 0 | 1, length: number): Buffer {
  const digits = String(length);
  const header = Buffer.allocUnsafe(digits.length + 2);
  header[0] = flag;
  for (let i = 0; i < digits.length; i++) header[i + 1] = digits.charCodeAt(i) - 48;
  header[digits.length + 1] = 255;
  return header;
}

/** Encodes packets as a v3 binary payload. */
export function encodePayloadV3Binary(packets: readonly Packet[]): Buffer {
  const parts: Buffer[] = [];
  for (const packet of packets) {
    const data = packet.data;
    if (data !== undefined && typeof data !== "string") {
      parts.push(lengthHeader(1, data.length + 1), Buffer.of(PACKET_TYPES[packet.type]), data);
    } else {
      const text = Buffer.from(encodePacketToStringV3(packet), "utf8");
      parts.push(lengthHeader(0, text.length), text);
    }
  }
  return Buffer.concat(parts);
}

/** Decodes a v3 binary payload; throws {@link EngineParseError}. */
export function decodePayloadV3Binary(payload: Buffer): Packet[] {
  if (payload.length === 0) throw new EngineParseError("ERR_EIO_EMPTY_PACKET", "empty payload");
  const packets: Packet[] = [];
  let i = 0;
  while (i < payload.length) {
    const flag = payload[i];
    if (flag !== 0 && flag !== 1) {
      throw new EngineParseError("ERR_EIO_BAD_LENGTH", "invalid packet flag in binary payload");
    }
    let j = i + 1;
    let length = 0;
    for (; j < payload.length && payload[j] !== 255; j++) {
      const digit = payload[j];
      if (digit > 9 || j - i > 15) {
        throw new EngineParseError("ERR_EIO_BAD_LENGTH", "invalid packet length in payload");
      }
      length = length * 10 + digit;
    }
    if (j >= payload.length || j === i + 1) {
      throw new EngineParseError("ERR_EIO_BAD_LENGTH", "invalid packet length in payload");
    }
    const start = j + 1;
    if (start + length > payload.length) {
      throw new EngineParseError("ERR_EIO_TRUNCATED_PAYLOAD", "payload shorter than its lengths");
    }
    const body = payload.subarray(start, start + length);
    if (flag === 0) packets.push(decodePacketV3(body.toString("utf8")));
    else {
      const type = PACKET_TYPES_BY_CODE[body[0]];
      if (type === undefined) {
        throw new EngineParseError("ERR_EIO_UNKNOWN_PACKET_TYPE", "unknown packet type");
      }
      packets.push({ type, data: Buffer.from(body.subarray(1)) });
    }
    i = start + length;
  }
  return packets;
}
