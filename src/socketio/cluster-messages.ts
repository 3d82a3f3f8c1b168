/**
 * The messages one namespace sends to the same namespace on other nodes,
 * inside hub envelopes (see core/envelope.ts). The envelope's type byte says
 * what a message is; its header holds only what differs from the common case,
 * so a plain broadcast to one room of the main namespace has no header at all:
 *
 * - `nsp`: the namespace, absent for `/`. A topic two namespaces share by
 *   name (room `b` of `/a`, namespace `/a/b`) is told apart by it.
 * - `rooms`: absent for none (the whole namespace), and for a broadcast's one
 *   room when it travels on that room's topic (the topic says which).
 * - `except`: absent for none; `flags` (volatile, compress): absent for none.
 *
 * Published (no answer), on a room topic `sio/<nsp>/<room>` or the namespace
 * topic `sio/<nsp>`:
 * - `b` broadcast; frames: the packet as this node's encoder wrote it,
 *   written to clients byte for byte.
 * - `j` / `l` / `d`: make matching sockets join / leave `names`, or disconnect (`close`).
 * - `s` serverSideEmit; frames: the arguments as a Socket.IO EVENT packet.
 *
 * Requests on `sio-req/<nsp>` (one answer per node, type `r`):
 * - `f` fetchSockets: `rooms`, `except`; answer frames: the sockets' details.
 * - `a` broadcast with acknowledgements: `rid`, `rooms`, `except`, `flags`,
 *   `timeout`; frames: the packet's data; answer: `count`, the recipients.
 *   Each recipient's answer follows as a `k` message (`rid`; frames: the
 *   answer) published to the asking node's topic `sio-ack/<node>/<nsp>`.
 * - `s` serverSideEmit with an acknowledgement; answer frames: the answer.
 */
import { Decoder, encodePacket, type Packet, PacketType } from "../codec/socketio/index.js";
import type { BroadcastFlags, Room } from "./adapter.js";

export type MessageType = "b" | "j" | "l" | "d" | "s" | "f" | "a" | "k" | "r";

/** The namespace a header names when it names none. */
const MAIN_NAMESPACE = "/";
const NONE: readonly string[] = Object.freeze([]) as readonly string[];

/** The recipients part of a header, as sent. */
export interface TargetHeader {
  rooms: readonly Room[];
  except: readonly Room[];
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

/**
 * The header of a message of namespace `nsp` to `opts`' recipients, with only
 * what differs from the defaults (see the top of this file). `topicRoom`:
 * the message travels on the topic of `opts`' one room, which then goes
 * unsaid. `flags`: the broadcast's flags, for the types that carry them.
 *
 * @example
 * headerOf("/", { rooms: new Set(["lobby"]) }, true); // {}: no header bytes at all
 * headerOf("/chat", { rooms: new Set(["a", "b"]), except: new Set(["c"]) }, false);
 * // { nsp: "/chat", rooms: ["a", "b"], except: ["c"] }
 */
export function headerOf(
  nsp: string,
  opts: { rooms?: ReadonlySet<Room>; except?: ReadonlySet<Room> },
  topicRoom: boolean,
  flags?: BroadcastFlags,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (nsp !== MAIN_NAMESPACE) out.nsp = nsp;
  const rooms = opts.rooms;
  if (rooms !== undefined && rooms.size > 0 && !(topicRoom && rooms.size === 1)) {
    out.rooms = [...rooms];
  }
  if (opts.except !== undefined && opts.except.size > 0) out.except = [...opts.except];
  if (flags?.volatile === true || flags?.compress === false) {
    const remote: BroadcastFlags = {};
    if (flags.volatile === true) remote.volatile = true;
    if (flags.compress === false) remote.compress = false;
    out.flags = remote;
  }
  return out;
}

/** The namespace a header names. */
export function readNamespace(header: Record<string, unknown>): unknown {
  return header.nsp === undefined ? MAIN_NAMESPACE : header.nsp;
}

function readRoomList(value: unknown): readonly string[] | undefined {
  if (value === undefined) return NONE;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) return undefined;
  return value;
}

/**
 * Reads the recipients of a header; undefined when malformed. `topicRoom`:
 * the room whose topic the message came on (absent `rooms` then mean it alone).
 */
export function readTargets(
  header: Record<string, unknown>,
  topicRoom: string | null = null,
): TargetHeader | undefined {
  const rooms =
    header.rooms === undefined && topicRoom !== null ? [topicRoom] : readRoomList(header.rooms);
  const except = readRoomList(header.except);
  if (rooms === undefined || except === undefined) return undefined;
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
