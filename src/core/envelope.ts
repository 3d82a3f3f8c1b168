/**
 * The envelope every hub message travels in between nodes: a small explicit
 * binary format, stable across Node versions (unlike `v8.serialize`), that
 * carries a one-byte message type, an optional JSON header and raw frames (an
 * encoded Socket.IO packet's string and binary attachments, or a Bayeux
 * message's JSON) without re-encoding them.
 *
 * ```
 * byte 0      0x48 ("H"), marks a hub envelope
 * byte 1      format version (ENVELOPE_VERSION)
 * byte 2      message type: one printable ASCII byte, the protocol's own
 * varint      header length (0: no header), then the header as UTF-8 JSON (an object)
 * varint      number of frames, then per frame:
 *   varint    length × 2 + kind (kind 0: UTF-8 text, 1: binary), then the bytes
 * ```
 *
 * A varint is unsigned LEB128 (7 bits a byte, low bits first, high bit set
 * on every byte but the last), at most 5 bytes. The common message (a room
 * broadcast whose topic already names the room, or a Bayeux publish) has no
 * header and one text frame: 6 or 7 bytes around the encoded packet.
 *
 * A node receiving another version, a foreign message or a truncated one
 * drops it (the decoder throws {@link EnvelopeError}); it never crashes.
 */
import { SwitchboardError } from "../shared/errors.js";

/** Version of the envelope format written by this node (1: JSON header with a u32 length, u16 count). */
export const ENVELOPE_VERSION = 2;

const MAGIC = 0x48;
const TEXT = 0;
const BINARY = 1;
/** Most frames an envelope may carry (a packet's attachments, a batch). */
const MAX_FRAMES = 0xffff;
/** Largest varint value (5 bytes); a frame is at most half of it. */
const MAX_VARINT = 0xffffffff;
/** Bytes of the fixed part: magic, version, type. */
const FIXED = 3;

/** A message type, header and frames, as sent between nodes. */
export interface Envelope {
  /** What the message is: one printable ASCII character (`"b"`, `"p"`...), the protocol's own. */
  type: string;
  /** Small JSON-encodable fields the type and topic do not already say; omitted when empty. */
  header?: Record<string, unknown>;
  /** Encoded payload parts, carried byte for byte. */
  frames: readonly (string | Uint8Array)[];
}

/** A received envelope: the header is an empty object when none was sent; binary frames are Buffers. */
export interface DecodedEnvelope extends Envelope {
  header: Record<string, unknown>;
  frames: (string | Buffer)[];
}

/** A message between nodes could not be read: malformed, foreign or of another version. */
export class EnvelopeError extends SwitchboardError {
  constructor(code: "ERR_ENVELOPE_MALFORMED" | "ERR_ENVELOPE_VERSION", message: string) {
    super(code, message);
  }
}

/** The header of an envelope that had none (frozen: shared by every such envelope). */
const NO_HEADER: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Writes `value` at `offset`; returns the offset after it. Arithmetic, not bit operators: values reach 2^32. */
function writeVarint(out: Buffer, value: number, offset: number): number {
  while (value >= 0x80) {
    out[offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[offset++] = value;
  return offset;
}

function hasFields(header: Record<string, unknown> | undefined): header is Record<string, unknown> {
  if (header === undefined) return false;
  for (const _ in header) return true;
  return false;
}

/**
 * Encodes an envelope once; the bytes can be published to any number of topics.
 *
 * @example
 * const bytes = encodeEnvelope({ type: "b", frames: ['2["news",1]'] });
 * bytes.length; // 18: 7 bytes around the 11-byte packet
 * decodeEnvelope(bytes).frames; // ['2["news",1]']
 */
export function encodeEnvelope(envelope: Envelope): Buffer {
  const type = envelope.type.length === 1 ? envelope.type.charCodeAt(0) : 0;
  if (type < 0x21 || type > 0x7e) {
    throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", `type must be one printable ASCII character`);
  }
  const header = hasFields(envelope.header) ? JSON.stringify(envelope.header) : "";
  const headerBytes = header === "" ? 0 : Buffer.byteLength(header, "utf8");
  const frames = envelope.frames;
  const count = frames.length;
  if (count > MAX_FRAMES) {
    throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", `too many frames: ${count}`);
  }
  // Sizes first (one pass), then one buffer written in place: no copy per frame but the write.
  const sizes: number[] = new Array(count);
  let size = FIXED + varintSize(headerBytes) + headerBytes + varintSize(count);
  for (let i = 0; i < count; i++) {
    const frame = frames[i];
    const bytes = typeof frame === "string" ? Buffer.byteLength(frame, "utf8") : frame.byteLength;
    const tag = bytes * 2 + (typeof frame === "string" ? TEXT : BINARY);
    if (tag > MAX_VARINT) throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "frame too large");
    sizes[i] = bytes;
    size += varintSize(tag) + bytes;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = MAGIC;
  out[1] = ENVELOPE_VERSION;
  out[2] = type;
  let offset = writeVarint(out, headerBytes, FIXED);
  if (headerBytes > 0) offset += out.write(header, offset, "utf8");
  offset = writeVarint(out, count, offset);
  for (let i = 0; i < count; i++) {
    const frame = frames[i];
    if (typeof frame === "string") {
      offset = writeVarint(out, sizes[i] * 2 + TEXT, offset);
      offset += out.write(frame, offset, "utf8");
    } else {
      offset = writeVarint(out, sizes[i] * 2 + BINARY, offset);
      out.set(frame, offset);
      offset += sizes[i];
    }
  }
  return out;
}

/** A cursor over the bytes being decoded. */
interface Reader {
  buf: Buffer;
  offset: number;
}

function truncated(): EnvelopeError {
  return new EnvelopeError("ERR_ENVELOPE_MALFORMED", "truncated envelope");
}

function readVarint(r: Reader): number {
  const buf = r.buf;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (r.offset >= buf.length) throw truncated();
    const byte = buf[r.offset++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (value > MAX_VARINT) break;
      return value;
    }
    scale *= 0x80;
  }
  throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "varint out of range");
}

/**
 * Decodes an envelope; throws {@link EnvelopeError} for anything else.
 *
 * @example
 * decodeEnvelope(Buffer.from("hello")); // throws ERR_ENVELOPE_MALFORMED
 */
export function decodeEnvelope(bytes: Uint8Array): DecodedEnvelope {
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 2 || buf[0] !== MAGIC) {
    throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "not a hub envelope");
  }
  if (buf[1] !== ENVELOPE_VERSION) {
    throw new EnvelopeError(
      "ERR_ENVELOPE_VERSION",
      `envelope version ${buf[1]}, this node reads ${ENVELOPE_VERSION}`,
    );
  }
  if (buf.length < FIXED) throw truncated();
  const code = buf[2];
  if (code < 0x21 || code > 0x7e) {
    throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", `message type byte ${code}`);
  }
  const r: Reader = { buf, offset: FIXED };
  const headerLength = readVarint(r);
  let header = NO_HEADER;
  if (headerLength > 0) {
    const end = r.offset + headerLength;
    if (end > buf.length) throw truncated();
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString("utf8", r.offset, end));
    } catch {
      throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "header is not JSON");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "header is not an object");
    }
    header = parsed as Record<string, unknown>;
    r.offset = end;
  }
  const count = readVarint(r);
  if (count > MAX_FRAMES) throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "too many frames");
  const frames: (string | Buffer)[] = [];
  for (let i = 0; i < count; i++) {
    const tag = readVarint(r);
    const start = r.offset;
    const end = start + Math.floor(tag / 2);
    if (end > buf.length) throw truncated();
    if (tag % 2 === TEXT) frames.push(buf.toString("utf8", start, end));
    else frames.push(Buffer.from(buf.subarray(start, end)));
    r.offset = end;
  }
  if (r.offset !== buf.length) {
    throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "trailing bytes");
  }
  return { type: String.fromCharCode(code), header, frames };
}
