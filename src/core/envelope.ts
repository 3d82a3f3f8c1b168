/**
 * The envelope every hub message travels in between nodes: a small explicit
 * binary format, stable across Node versions (unlike `v8.serialize`), that
 * carries a JSON header and raw frames (an encoded Socket.IO packet's string
 * and binary attachments, or a Bayeux message's JSON) without re-encoding
 * them.
 *
 * ```
 * byte 0      0x48 ("H"), marks a hub envelope
 * byte 1      format version (ENVELOPE_VERSION)
 * u32 BE      header length, then the header as UTF-8 JSON (an object)
 * u16 BE      number of frames, then per frame:
 *   u8        kind: 0 UTF-8 text, 1 binary
 *   u32 BE    length, then the bytes
 * ```
 *
 * A node receiving another version, a foreign message or a truncated one
 * drops it (the decoder throws {@link EnvelopeError}); it never crashes.
 */
import { SwitchboardError } from "../shared/errors.js";

/** Version of the envelope format written by this node. */
export const ENVELOPE_VERSION = 1;

const MAGIC = 0x48;
const TEXT = 0;
const BINARY = 1;
/** Most frames an envelope may carry (a packet's attachments, a batch). */
const MAX_FRAMES = 0xffff;

/** A header and frames, as sent between nodes. */
export interface Envelope {
  /** Small JSON-encodable fields: message type, rooms, flags, request ids... */
  header: Record<string, unknown>;
  /** Encoded payload parts, carried byte for byte. */
  frames: readonly (string | Uint8Array)[];
}

/** A received envelope: binary frames are Buffers. */
export interface DecodedEnvelope extends Envelope {
  frames: (string | Buffer)[];
}

/** A message between nodes could not be read: malformed, foreign or of another version. */
export class EnvelopeError extends SwitchboardError {
  constructor(code: "ERR_ENVELOPE_MALFORMED" | "ERR_ENVELOPE_VERSION", message: string) {
    super(code, message);
  }
}

/**
 * Encodes an envelope once; the bytes can be published to any number of topics.
 *
 * @example
 * const bytes = encodeEnvelope({ header: { t: "b", rooms: ["lobby"] }, frames: ['2["news",1]'] });
 * decodeEnvelope(bytes).frames; // ['2["news",1]']
 */
export function encodeEnvelope(envelope: Envelope): Buffer {
  const header = Buffer.from(JSON.stringify(envelope.header), "utf8");
  const frames = envelope.frames;
  if (frames.length > MAX_FRAMES) {
    throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", `too many frames: ${frames.length}`);
  }
  const parts: Buffer[] = [];
  let size = 2 + 4 + header.length + 2;
  for (const frame of frames) {
    const bytes =
      typeof frame === "string"
        ? Buffer.from(frame, "utf8")
        : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    parts.push(bytes);
    size += 5 + bytes.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = MAGIC;
  out[1] = ENVELOPE_VERSION;
  out.writeUInt32BE(header.length, 2);
  header.copy(out, 6);
  let offset = 6 + header.length;
  out.writeUInt16BE(frames.length, offset);
  offset += 2;
  for (let i = 0; i < parts.length; i++) {
    out[offset] = typeof frames[i] === "string" ? TEXT : BINARY;
    out.writeUInt32BE(parts[i].length, offset + 1);
    parts[i].copy(out, offset + 5);
    offset += 5 + parts[i].length;
  }
  return out;
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
  const truncated = () => new EnvelopeError("ERR_ENVELOPE_MALFORMED", "truncated envelope");
  if (buf.length < 6) throw truncated();
  const headerEnd = 6 + buf.readUInt32BE(2);
  if (headerEnd + 2 > buf.length) throw truncated();
  let header: unknown;
  try {
    header = JSON.parse(buf.toString("utf8", 6, headerEnd));
  } catch {
    throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "header is not JSON");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "header is not an object");
  }
  const count = buf.readUInt16BE(headerEnd);
  const frames: (string | Buffer)[] = [];
  let offset = headerEnd + 2;
  for (let i = 0; i < count; i++) {
    if (offset + 5 > buf.length) throw truncated();
    const kind = buf[offset];
    const end = offset + 5 + buf.readUInt32BE(offset + 1);
    if (end > buf.length) throw truncated();
    if (kind === TEXT) frames.push(buf.toString("utf8", offset + 5, end));
    else if (kind === BINARY) frames.push(Buffer.from(buf.subarray(offset + 5, end)));
    else throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", `unknown frame kind ${kind}`);
    offset = end;
  }
  if (offset !== buf.length) throw new EnvelopeError("ERR_ENVELOPE_MALFORMED", "trailing bytes");
  return { header: header as Record<string, unknown>, frames };
}
