/**
 * The frames Redis brokers exchange. Every message on a broker channel is one
 * frame, encoded once per publish (the same bytes go to every channel a
 * publish crosses):
 *
 * ```
 * byte 0      version (FRAME_VERSION)
 * bytes 1-2   magic "SB"
 * byte 3      kind (FrameKind)
 * byte 4      origin length n (1..255), then n bytes: the sender's node id (UTF-8)
 * body, by kind:
 *   PUBLISH   u16 topic length, topic, payload (the rest)
 *   REQUEST   u32 id, u16 topic length, topic, payload (the rest)
 *   REPLY     u32 id, u8 1 = answered / 0 = nothing to say, payload (the rest)
 *   HELLO     u32 id, patterns   (a joining node: everyone answers with STATE id)
 *   STATE     u32 id, patterns   (heartbeat when id is 0; else an announcement
 *                                 to ACK, or the answer to a HELLO)
 *   ACK       u32 id
 *   GOODBYE   (empty)
 * patterns:   u16 count, then per pattern u16 length and the pattern (UTF-8)
 * ```
 *
 * Integers are big-endian. A frame of another version, without the magic, of
 * an unknown kind or cut short fails to decode with a `FrameError`: nodes of
 * different versions refuse each other's messages instead of misreading them.
 */
import { BrokerError } from "./broker.js";

/** Bumped whenever the layout changes; frames of other versions are refused. */
export const FRAME_VERSION = 1;
const MAGIC_0 = 0x53; // "S"
const MAGIC_1 = 0x42; // "B"
const HEAD = 5;

export const FrameKind = {
  PUBLISH: 1,
  REQUEST: 2,
  REPLY: 3,
  HELLO: 4,
  STATE: 5,
  ACK: 6,
  GOODBYE: 7,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export type Frame =
  | { kind: typeof FrameKind.PUBLISH; origin: string; topic: string; payload: Buffer }
  | { kind: typeof FrameKind.REQUEST; origin: string; id: number; topic: string; payload: Buffer }
  | { kind: typeof FrameKind.REPLY; origin: string; id: number; payload: Buffer | undefined }
  | { kind: typeof FrameKind.HELLO; origin: string; id: number; patterns: string[] }
  | { kind: typeof FrameKind.STATE; origin: string; id: number; patterns: string[] }
  | { kind: typeof FrameKind.ACK; origin: string; id: number }
  | { kind: typeof FrameKind.GOODBYE; origin: string };

/** Why a frame was refused: `ERR_FRAME_VERSION`, `ERR_FRAME_FOREIGN` or `ERR_FRAME_MALFORMED`. */
export class FrameError extends BrokerError {}

/** The largest topic or pattern a frame carries, in UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 0xffff;

function head(kind: FrameKind, origin: Buffer, bodyLength: number): { buf: Buffer; at: number } {
  const buf = Buffer.allocUnsafe(HEAD + origin.length + bodyLength);
  buf[0] = FRAME_VERSION;
  buf[1] = MAGIC_0;
  buf[2] = MAGIC_1;
  buf[3] = kind;
  buf[4] = origin.length;
  origin.copy(buf, HEAD);
  return { buf, at: HEAD + origin.length };
}

function topicBytes(topic: string): Buffer {
  const bytes = Buffer.from(topic);
  if (bytes.length > MAX_TOPIC_BYTES)
    throw new BrokerError("ERR_BROKER_TOPIC", `topic longer than ${MAX_TOPIC_BYTES} bytes`);
  return bytes;
}

/** Encodes a node id once, checking it fits a frame. */
export function originBytes(nodeId: string): Buffer {
  const bytes = Buffer.from(nodeId);
  if (bytes.length === 0 || bytes.length > 255)
    throw new BrokerError("ERR_BROKER_OPTIONS", "nodeId must be 1 to 255 bytes of UTF-8");
  return bytes;
}

/**
 * A publish of `payload` on `topic` by `origin` (see {@link originBytes}).
 *
 * @example
 * const frame = encodePublish(originBytes("n1"), "room", Buffer.from("hi"));
 */
export function encodePublish(origin: Buffer, topic: string, payload: Uint8Array): Buffer {
  const t = topicBytes(topic);
  const { buf, at } = head(FrameKind.PUBLISH, origin, 2 + t.length + payload.length);
  buf.writeUInt16BE(t.length, at);
  t.copy(buf, at + 2);
  buf.set(payload, at + 2 + t.length);
  return buf;
}

export function encodeRequest(
  origin: Buffer,
  id: number,
  topic: string,
  payload: Uint8Array,
): Buffer {
  const t = topicBytes(topic);
  const { buf, at } = head(FrameKind.REQUEST, origin, 6 + t.length + payload.length);
  buf.writeUInt32BE(id, at);
  buf.writeUInt16BE(t.length, at + 4);
  t.copy(buf, at + 6);
  buf.set(payload, at + 6 + t.length);
  return buf;
}

export function encodeReply(origin: Buffer, id: number, payload: Uint8Array | undefined): Buffer {
  const size = payload === undefined ? 0 : payload.length;
  const { buf, at } = head(FrameKind.REPLY, origin, 5 + size);
  buf.writeUInt32BE(id, at);
  buf[at + 4] = payload === undefined ? 0 : 1;
  if (payload !== undefined) buf.set(payload, at + 5);
  return buf;
}

/** HELLO or STATE: an id and the sender's pattern subscriptions. */
export function encodeState(
  kind: typeof FrameKind.HELLO | typeof FrameKind.STATE,
  origin: Buffer,
  id: number,
  patterns: Iterable<string>,
): Buffer {
  const list = [...patterns].map(topicBytes);
  const size = 6 + list.reduce((sum, p) => sum + 2 + p.length, 0);
  const { buf, at } = head(kind, origin, size);
  buf.writeUInt32BE(id, at);
  buf.writeUInt16BE(list.length, at + 4);
  let pos = at + 6;
  for (const p of list) {
    buf.writeUInt16BE(p.length, pos);
    p.copy(buf, pos + 2);
    pos += 2 + p.length;
  }
  return buf;
}

export function encodeAck(origin: Buffer, id: number): Buffer {
  const { buf, at } = head(FrameKind.ACK, origin, 4);
  buf.writeUInt32BE(id, at);
  return buf;
}

export function encodeGoodbye(origin: Buffer): Buffer {
  return head(FrameKind.GOODBYE, origin, 0).buf;
}

function malformed(what: string): FrameError {
  return new FrameError("ERR_FRAME_MALFORMED", `malformed broker frame: ${what}`);
}

/** Reads frames from a buffer, checking every length against what is left. */
class Reader {
  at: number;
  constructor(
    readonly buf: Buffer,
    at: number,
  ) {
    this.at = at;
  }
  need(n: number, what: string): void {
    if (this.at + n > this.buf.length) throw malformed(`${what} cut short`);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.at++];
  }
  string(what: string): string {
    const n = this.u16(what);
    this.need(n, what);
    const s = this.buf.toString("utf8", this.at, this.at + n);
    this.at += n;
    return s;
  }
  rest(): Buffer {
    return this.buf.subarray(this.at);
  }
  end(what: string): void {
    if (this.at !== this.buf.length) throw malformed(`trailing bytes after ${what}`);
  }
}

/**
 * Decodes one frame, or throws a {@link FrameError}.
 *
 * @example
 * const frame = decodeFrame(bytes);
 * if (frame.kind === FrameKind.PUBLISH) deliver(frame.topic, frame.payload, frame.origin);
 */
export function decodeFrame(buf: Buffer): Frame {
  if (buf.length < 3 || buf[1] !== MAGIC_0 || buf[2] !== MAGIC_1)
    throw new FrameError("ERR_FRAME_FOREIGN", "not a switchboard broker frame");
  if (buf[0] !== FRAME_VERSION)
    throw new FrameError(
      "ERR_FRAME_VERSION",
      `broker frame of version ${buf[0]} (this node speaks ${FRAME_VERSION})`,
    );
  if (buf.length < HEAD) throw malformed("header cut short");
  const kind = buf[3];
  const originLength = buf[4];
  if (originLength === 0 || HEAD + originLength > buf.length) throw malformed("origin");
  const origin = buf.toString("utf8", HEAD, HEAD + originLength);
  const r = new Reader(buf, HEAD + originLength);
  switch (kind) {
    case FrameKind.PUBLISH: {
      const topic = r.string("topic");
      return { kind, origin, topic, payload: r.rest() };
    }
    case FrameKind.REQUEST: {
      const id = r.u32("request id");
      const topic = r.string("topic");
      return { kind, origin, id, topic, payload: r.rest() };
    }
    case FrameKind.REPLY: {
      const id = r.u32("reply id");
      const answered = r.u8("reply flag");
      if (answered > 1) throw malformed("reply flag");
      if (answered === 0) r.end("an empty reply");
      return { kind, origin, id, payload: answered === 1 ? r.rest() : undefined };
    }
    case FrameKind.HELLO:
    case FrameKind.STATE: {
      const id = r.u32("state id");
      const count = r.u16("pattern count");
      const patterns: string[] = [];
      for (let i = 0; i < count; i++) patterns.push(r.string("pattern"));
      r.end("patterns");
      return { kind, origin, id, patterns };
    }
    case FrameKind.ACK: {
      const id = r.u32("ack id");
      r.end("an ack");
      return { kind, origin, id };
    }
    case FrameKind.GOODBYE:
      r.end("a goodbye");
      return { kind, origin };
    default:
      throw malformed(`unknown kind ${kind}`);
  }
}
