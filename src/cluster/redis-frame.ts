/**
 * The frames Redis brokers exchange. Every message on a broker channel is one
 * frame, encoded once per publish and channel kind:
 *
 * ```
 * byte 0      version (FRAME_VERSION)
 * bytes 1-2   magic "SB"
 * byte 3      kind (FrameKind)
 * bytes 4-7   u32 tag: the sending process's, announced with its node id in
 *             HELLO and STATE (a node drops frames with its own tag: its echo)
 * body, by kind:
 *   EXACT     u32 sent, payload (the rest); the topic is the one the `t:`
 *             channel names
 *   PUBLISH   u32 sent, u16 topic length, topic, payload (the rest); on
 *             pattern channels
 *   PROBE     (empty) asks Redis how many receive a channel; receivers ignore it
 * control kinds, after the tag: u8 node id length n (1..255), n bytes node id (UTF-8)
 *   REQUEST   u32 id, u16 topic length, topic, payload (the rest)
 *   REPLY     u32 id, u8 1 = answered / 0 = nothing to say, payload (the rest)
 *   HELLO     u32 id, patterns   (a joining node: everyone answers with STATE id)
 *   STATE     u32 id, patterns   (heartbeat when id is 0; else an announcement
 *                                 to ACK, or the answer to a HELLO)
 *   ACK       u32 id
 *   GOODBYE   (empty)
 *   INTEREST  u32 id, topics     (the sender now receives these topics' `t:`
 *                                 channels: publishers that stopped sending to
 *                                 them, lonely, start again and ACK)
 * patterns, topics: u16 count, then per entry u16 length and the entry (UTF-8)
 * ```
 *
 * `sent` is the publisher's wall clock (`Date.now()`) in milliseconds modulo
 * 2^32, read once per publish: the receiver's broker receive latency is its
 * own clock minus it, modulo 2^32 (see {@link sentAgo}). Whole milliseconds
 * make one latency coarse, but their mean over many frames is right: the
 * truncations at both ends cancel out on average.
 *
 * A publish on an exact channel costs 12 bytes of frame: the topic is in the
 * channel name already and the sender is its 4-byte tag, not its node id.
 * Integers are big-endian. A frame without the magic, of an unknown kind or
 * cut short fails to decode with a `FrameError`, and so does one of a version
 * this node does not read: nodes refuse messages they cannot read instead of
 * misreading them. A node reads the previous version too (version 2: the
 * same frames without `sent`, whose publishes have no latency to observe), so
 * during a rolling upgrade the new nodes still hear the old ones; the old
 * ones refuse every frame of the new ones (counted as dropped).
 */
import { randomBytes } from "node:crypto";
import { BrokerError } from "./broker.js";

/** Bumped whenever the layout changes; frames of other versions are refused. */
export const FRAME_VERSION = 3;
/** The previous version, still read: publishes without their send time. */
const UNTIMED_VERSION = 2;
const TWO_32 = 0x1_0000_0000;
const MAGIC_0 = 0x53; // "S"
const MAGIC_1 = 0x42; // "B"
const HEAD = 8;

export const FrameKind = {
  PUBLISH: 1,
  REQUEST: 2,
  REPLY: 3,
  HELLO: 4,
  STATE: 5,
  ACK: 6,
  GOODBYE: 7,
  EXACT: 8,
  PROBE: 9,
  INTEREST: 10,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/**
 * A decoded frame. Both publish kinds decode as PUBLISH; `topic` is undefined
 * for an EXACT one (the channel names it). Control frames name their node.
 */
export type Frame =
  | {
      kind: typeof FrameKind.PUBLISH;
      tag: number;
      topic: string | undefined;
      payload: Buffer;
      /** The publisher's `Date.now()` modulo 2^32; undefined in a version 2 frame. */
      sent: number | undefined;
    }
  | { kind: typeof FrameKind.PROBE; tag: number }
  | {
      kind: typeof FrameKind.REQUEST;
      tag: number;
      origin: string;
      id: number;
      topic: string;
      payload: Buffer;
    }
  | {
      kind: typeof FrameKind.REPLY;
      tag: number;
      origin: string;
      id: number;
      payload: Buffer | undefined;
    }
  | { kind: typeof FrameKind.HELLO; tag: number; origin: string; id: number; patterns: string[] }
  | { kind: typeof FrameKind.STATE; tag: number; origin: string; id: number; patterns: string[] }
  | { kind: typeof FrameKind.ACK; tag: number; origin: string; id: number }
  | { kind: typeof FrameKind.GOODBYE; tag: number; origin: string }
  | { kind: typeof FrameKind.INTEREST; tag: number; origin: string; id: number; topics: string[] };

/** Why a frame was refused: `ERR_FRAME_VERSION`, `ERR_FRAME_FOREIGN` or `ERR_FRAME_MALFORMED`. */
export class FrameError extends BrokerError {}

/** The largest topic or pattern a frame carries, in UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 0xffff;

/** Who sends a frame: the node id (for control frames) and the process's tag (for all). */
export interface Origin {
  readonly id: Buffer;
  readonly tag: number;
}

/** A random tag: non-zero, 32 bits. */
export function randomTag(): number {
  return randomBytes(4).readUInt32BE(0) || 1;
}

/**
 * Encodes a node id once, checking it fits a frame, with this process's tag
 * (random unless given).
 */
export function originBytes(nodeId: string, tag = randomTag()): Origin {
  const id = Buffer.from(nodeId);
  if (id.length === 0 || id.length > 255)
    throw new BrokerError("ERR_BROKER_OPTIONS", "nodeId must be 1 to 255 bytes of UTF-8");
  return { id, tag: tag >>> 0 };
}

function head(kind: FrameKind, tag: number, bodyLength: number): Buffer {
  const buf = Buffer.allocUnsafe(HEAD + bodyLength);
  buf[0] = FRAME_VERSION;
  buf[1] = MAGIC_0;
  buf[2] = MAGIC_1;
  buf[3] = kind;
  buf.writeUInt32BE(tag, 4);
  return buf;
}

/** A control frame's head: the tag, then the node id. */
function control(kind: FrameKind, origin: Origin, bodyLength: number): { buf: Buffer; at: number } {
  const buf = head(kind, origin.tag, 1 + origin.id.length + bodyLength);
  buf[HEAD] = origin.id.length;
  origin.id.copy(buf, HEAD + 1);
  return { buf, at: HEAD + 1 + origin.id.length };
}

function topicBytes(topic: string): Buffer {
  const bytes = Buffer.from(topic);
  if (bytes.length > MAX_TOPIC_BYTES)
    throw new BrokerError("ERR_BROKER_TOPIC", `topic longer than ${MAX_TOPIC_BYTES} bytes`);
  return bytes;
}

/**
 * A publish of `payload` by `origin`, sent at `sent` (a `Date.now()`, read
 * once for every frame of one publish): with `topic` for pattern channels
 * (PUBLISH), without for the topic's own channel (EXACT).
 *
 * @example
 * const now = Date.now();
 * const exact = encodePublish(originBytes("n1"), undefined, Buffer.from("hi"), now);
 * const forPatterns = encodePublish(originBytes("n1"), "room", Buffer.from("hi"), now);
 */
export function encodePublish(
  origin: Origin,
  topic: string | undefined,
  payload: Uint8Array,
  sent: number = Date.now(),
): Buffer {
  if (topic === undefined) {
    const buf = head(FrameKind.EXACT, origin.tag, 4 + payload.length);
    buf.writeUInt32BE(sent % TWO_32, HEAD);
    buf.set(payload, HEAD + 4);
    return buf;
  }
  const t = topicBytes(topic);
  const buf = head(FrameKind.PUBLISH, origin.tag, 6 + t.length + payload.length);
  buf.writeUInt32BE(sent % TWO_32, HEAD);
  buf.writeUInt16BE(t.length, HEAD + 4);
  t.copy(buf, HEAD + 6);
  buf.set(payload, HEAD + 6 + t.length);
  return buf;
}

/**
 * Milliseconds from a frame's `sent` to `now` (a `Date.now()`), modulo 2^32;
 * 0 when the sender's clock is ahead of this node's (a difference past 2^31
 * is a negative one wrapped).
 *
 * @example
 * sentAgo(frame.sent, Date.now()) / 1000; // seconds in transit
 */
export function sentAgo(sent: number, now: number): number {
  const ago = (now - sent) % TWO_32;
  const wrapped = ago < 0 ? ago + TWO_32 : ago;
  return wrapped >= TWO_32 / 2 ? 0 : wrapped;
}

/** A probe: Redis's receiver count for a channel, without a payload. */
export function encodeProbe(origin: Origin): Buffer {
  return head(FrameKind.PROBE, origin.tag, 0);
}

export function encodeRequest(
  origin: Origin,
  id: number,
  topic: string,
  payload: Uint8Array,
): Buffer {
  const t = topicBytes(topic);
  const { buf, at } = control(FrameKind.REQUEST, origin, 6 + t.length + payload.length);
  buf.writeUInt32BE(id, at);
  buf.writeUInt16BE(t.length, at + 4);
  t.copy(buf, at + 6);
  buf.set(payload, at + 6 + t.length);
  return buf;
}

export function encodeReply(origin: Origin, id: number, payload: Uint8Array | undefined): Buffer {
  const size = payload === undefined ? 0 : payload.length;
  const { buf, at } = control(FrameKind.REPLY, origin, 5 + size);
  buf.writeUInt32BE(id, at);
  buf[at + 4] = payload === undefined ? 0 : 1;
  if (payload !== undefined) buf.set(payload, at + 5);
  return buf;
}

/** HELLO, STATE (an id and the sender's pattern subscriptions) or INTEREST (an id and topics). */
export function encodeState(
  kind: typeof FrameKind.HELLO | typeof FrameKind.STATE | typeof FrameKind.INTEREST,
  origin: Origin,
  id: number,
  names: Iterable<string>,
): Buffer {
  const list = [...names].map(topicBytes);
  if (list.length > 0xffff) throw new BrokerError("ERR_BROKER_TOPIC", "more than 65535 names");
  const size = 6 + list.reduce((sum, p) => sum + 2 + p.length, 0);
  const { buf, at } = control(kind, origin, size);
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

export function encodeAck(origin: Origin, id: number): Buffer {
  const { buf, at } = control(FrameKind.ACK, origin, 4);
  buf.writeUInt32BE(id, at);
  return buf;
}

export function encodeGoodbye(origin: Origin): Buffer {
  return control(FrameKind.GOODBYE, origin, 0).buf;
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
 * if (frame.kind === FrameKind.PUBLISH) deliver(frame.topic ?? topicOf(channel), frame.payload);
 */
export function decodeFrame(buf: Buffer): Frame {
  if (buf.length < 3 || buf[1] !== MAGIC_0 || buf[2] !== MAGIC_1)
    throw new FrameError("ERR_FRAME_FOREIGN", "not a switchboard broker frame");
  const version = buf[0];
  if (version !== FRAME_VERSION && version !== UNTIMED_VERSION)
    throw new FrameError(
      "ERR_FRAME_VERSION",
      `broker frame of version ${version} (this node speaks ${FRAME_VERSION})`,
    );
  if (buf.length < HEAD) throw malformed("header cut short");
  const kind = buf[3];
  const tag = buf.readUInt32BE(4);
  const r = new Reader(buf, HEAD);
  switch (kind) {
    case FrameKind.EXACT: {
      const sent = version === UNTIMED_VERSION ? undefined : r.u32("send time");
      return { kind: FrameKind.PUBLISH, tag, topic: undefined, payload: r.rest(), sent };
    }
    case FrameKind.PUBLISH: {
      const sent = version === UNTIMED_VERSION ? undefined : r.u32("send time");
      const topic = r.string("topic");
      return { kind, tag, topic, payload: r.rest(), sent };
    }
    case FrameKind.PROBE:
      r.end("a probe");
      return { kind, tag };
  }
  const originLength = r.u8("origin");
  if (originLength === 0) throw malformed("origin");
  r.need(originLength, "origin");
  const origin = buf.toString("utf8", r.at, r.at + originLength);
  r.at += originLength;
  switch (kind) {
    case FrameKind.REQUEST: {
      const id = r.u32("request id");
      const topic = r.string("topic");
      return { kind, tag, origin, id, topic, payload: r.rest() };
    }
    case FrameKind.REPLY: {
      const id = r.u32("reply id");
      const answered = r.u8("reply flag");
      if (answered > 1) throw malformed("reply flag");
      if (answered === 0) r.end("an empty reply");
      return { kind, tag, origin, id, payload: answered === 1 ? r.rest() : undefined };
    }
    case FrameKind.HELLO:
    case FrameKind.STATE:
    case FrameKind.INTEREST: {
      const id = r.u32("state id");
      const count = r.u16("name count");
      const names: string[] = [];
      for (let i = 0; i < count; i++) names.push(r.string("name"));
      r.end("names");
      return kind === FrameKind.INTEREST
        ? { kind, tag, origin, id, topics: names }
        : { kind, tag, origin, id, patterns: names };
    }
    case FrameKind.ACK: {
      const id = r.u32("ack id");
      r.end("an ack");
      return { kind, tag, origin, id };
    }
    case FrameKind.GOODBYE:
      r.end("a goodbye");
      return { kind, tag, origin };
    default:
      throw malformed(`unknown kind ${kind}`);
  }
}
