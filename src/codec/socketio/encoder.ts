/**
 * Socket.IO packet encoder (socket.io-protocol, "Packet format" and "Binary
 * attachments"). Pure: a packet in, the Engine.IO messages out — one text
 * message, then one binary message per attachment.
 */
import { SocketIOEncodeError } from "./errors.js";
import { type Packet, PacketType } from "./packet.js";

/** How deep `hasBinary` and the attachment walk descend before giving up. */
const MAX_DEPTH = 1000;

function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

function toBuffer(value: ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Whether a payload holds binary data anywhere (Buffer, typed array,
 * ArrayBuffer), looking through arrays, plain objects and `toJSON()` results.
 *
 * @example
 * hasBinary(["file", { body: Buffer.from("x") }]); // true
 */
export function hasBinary(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return false;
  if (isBinary(value)) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasBinary(value[i], depth + 1)) return true;
    return false;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return hasBinary(toJSON.call(value), depth + 1);
  for (const key in value) {
    if (
      Object.hasOwn(value, key) &&
      hasBinary((value as Record<string, unknown>)[key], depth + 1)
    ) {
      return true;
    }
  }
  return false;
}

/** Replaces every binary value by a placeholder, collecting the buffers in order. */
function deconstruct(value: unknown, buffers: Buffer[], depth: number): unknown {
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return value;
  if (isBinary(value)) {
    const placeholder = { _placeholder: true, num: buffers.length };
    buffers.push(toBuffer(value));
    return placeholder;
  }
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = deconstruct(value[i], buffers, depth + 1);
    return out;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return deconstruct(toJSON.call(value), buffers, depth + 1);
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (Object.hasOwn(value, key)) {
      out[key] = deconstruct((value as Record<string, unknown>)[key], buffers, depth + 1);
    }
  }
  return out;
}

/** Writes the text part of a packet: header and JSON payload. */
function encodeText(packet: Packet, attachments: number): string {
  let str = String(packet.type);
  if (packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) {
    str += `${attachments}-`;
  }
  if (packet.nsp && packet.nsp !== "/") str += `${packet.nsp},`;
  if (packet.id !== undefined && packet.id !== null) str += packet.id;
  if (packet.data !== undefined) str += JSON.stringify(packet.data);
  return str;
}

/**
 * Encodes a packet into the Engine.IO messages that carry it. An EVENT or ACK
 * whose payload holds binary data becomes a BINARY_EVENT / BINARY_ACK with
 * placeholders, followed by its attachments. A payload that cannot be
 * encoded (circular, a BigInt, a throwing `toJSON`, too deep for the stack)
 * raises a {@link SocketIOEncodeError}, whatever failed underneath.
 *
 * @example
 * encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["hi", 1] }); // ['2["hi",1]']
 * encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["f", Buffer.from([1])] });
 * // ['51-["f",{"_placeholder":true,"num":0}]', <Buffer 01>]
 */
export function encodePacket(packet: Packet): (string | Buffer)[] {
  try {
    return encodeMessages(packet);
  } catch (err) {
    throw new SocketIOEncodeError(err);
  }
}

function encodeMessages(packet: Packet): (string | Buffer)[] {
  if (
    (packet.type === PacketType.EVENT || packet.type === PacketType.ACK) &&
    hasBinary(packet.data)
  ) {
    const buffers: Buffer[] = [];
    const data = deconstruct(packet.data, buffers, 0);
    const type = packet.type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
    const text = encodeText({ type, nsp: packet.nsp, id: packet.id, data }, buffers.length);
    return [text, ...buffers];
  }
  if (packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) {
    const buffers: Buffer[] = [];
    const data = deconstruct(packet.data, buffers, 0);
    return [encodeText({ ...packet, data }, buffers.length), ...buffers];
  }
  return [encodeText(packet, 0)];
}
