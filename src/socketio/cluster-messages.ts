/**
 * The messages one namespace sends to the same namespace on other nodes,
 * inside hub envelopes (see core/envelope.ts). Every header names its type
 * `t` and its namespace `nsp` (a topic shared by two namespaces whose names
 * collide, such as room `b` of `/a` and namespace `/a/b`, is told apart by
 * it).
 *
 * Published (no answer), on a room topic `sio/<nsp>/<room>` or the namespace
 * topic `sio/<nsp>`:
 * - `b` broadcast: `rooms`, `except`, `flags` (volatile, compress); frames: the packet
 *   as this node's encoder wrote it, written to clients byte for byte.
 * - `j` / `l` / `d`: make matching sockets join / leave `names`, or disconnect (`close`).
 * - `s` serverSideEmit; frames: the arguments as a Socket.IO EVENT packet.
 *
 * Requests on `sio-req/<nsp>` (one answer per node):
 * - `f` fetchSockets: `rooms`, `except`; answer frames: the sockets' details.
 * - `a` broadcast with acknowledgements: `rid`, `rooms`, `except`, `flags`,
 *   `timeout`; frames: the packet's data; answer: `count`, the recipients.
 *   Each recipient's answer follows as a `k` message (`rid`; frames: the
 *   answer) published to the asking node's topic `sio-ack/<node>/<nsp>`.
 * - `s` serverSideEmit with an acknowledgement; answer frames: the answer.
 */
import { Decoder, encodePacket, type Packet, PacketType } from "../codec/socketio/index.js";
import type { BroadcastFlags, BroadcastOptions, Room } from "./adapter.js";

export type MessageType = "b" | "j" | "l" | "d" | "s" | "f" | "a";

/** The recipients part of a header, as sent. */
export interface TargetHeader {
  rooms: Room[];
  except: Room[];
}

/** The topic of a namespace's whole-namespace messages. */
export function namespaceTopic(nsp: string): string {
  return `sio/${nsp}`;
}

/** The prefix of a namespace's room topics. */
export function roomPrefix(nsp: string): string {
  return `sio/${nsp}/`;
}

/** The topic where `node` receives the acknowledgements of its broadcasts in a namespace. */
export function ackTopic(nsp: string, node: string): string {
  return `sio-ack/${node}/${nsp}`;
}

/** The topic of a namespace's requests. */
export function requestTopic(nsp: string): string {
  return `sio-req/${nsp}`;
}

/** The recipients of `opts` as header fields. */
export function targetHeader(opts: BroadcastOptions): TargetHeader {
  return { rooms: [...(opts.rooms ?? [])], except: [...(opts.except ?? [])] };
}

/** The flags that matter on another node (`local` never leaves, `timeout` travels apart). */
export function remoteFlags(flags: BroadcastFlags | undefined): BroadcastFlags {
  const out: BroadcastFlags = {};
  if (flags?.volatile) out.volatile = true;
  if (flags?.compress === false) out.compress = false;
  return out;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/** Reads the recipients of a header; undefined when malformed. */
export function readTargets(header: Record<string, unknown>): TargetHeader | undefined {
  const { rooms, except } = header;
  if (!isStringArray(rooms) || !isStringArray(except)) return undefined;
  return { rooms, except };
}

/** Reads the flags of a header (unknown fields ignored). */
export function readFlags(header: Record<string, unknown>): BroadcastFlags {
  const flags = header.flags as Record<string, unknown> | undefined;
  const out: BroadcastFlags = {};
  if (flags !== null && typeof flags === "object") {
    if (flags.volatile === true) out.volatile = true;
    if (flags.compress === false) out.compress = false;
  }
  return out;
}

/**
 * Values (any JSON, with Buffers anywhere) as frames: a Socket.IO EVENT
 * packet of the project's own codec, so binary travels as raw attachments.
 *
 * @example
 * unpackValues(packValues(["a", Buffer.from([1])])); // ["a", <Buffer 01>]
 */
export function packValues(values: unknown[]): (string | Buffer)[] {
  // An EVENT's data starts with its name: "v" stands first, and is dropped on the way back.
  return encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["v", ...values] });
}

/** The values of {@link packValues}; undefined when the frames do not decode. */
export function unpackValues(frames: readonly (string | Buffer)[]): unknown[] | undefined {
  const packet = decodeFrames(frames);
  if (!packet || !Array.isArray(packet.data) || packet.data[0] !== "v") return undefined;
  return packet.data.slice(1);
}

/** Decodes the frames of one packet; undefined when they do not make exactly one. */
export function decodeFrames(frames: readonly (string | Buffer)[]): Packet | undefined {
  try {
    const decoder = new Decoder();
    let packet: Packet | null = null;
    for (let i = 0; i < frames.length; i++) {
      packet = decoder.add(frames[i]);
      if (packet !== null && i !== frames.length - 1) return undefined;
    }
    return packet ?? undefined;
  } catch {
    return undefined;
  }
}
