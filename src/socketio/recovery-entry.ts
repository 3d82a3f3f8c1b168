/**
 * What connection state recovery keeps of a broadcast in the message log:
 * the packet's arguments and its audience (rooms, except), as JSON (what the
 * wire carries anyway, and several times faster to write than v8's format),
 * or v8-serialised when the arguments hold binary data.
 */
import { deserialize, serialize } from "node:v8";
import { hasBinary } from "../codec/socketio/index.js";
import type { Room } from "./adapter.js";

/** One log entry: the packet's arguments and its audience. */
export interface StoredPacket {
  data: unknown[];
  rooms: Room[];
  except: Room[] | null;
}

/** JSON entries start with `{`; v8's format with its version tag, 0xFF. */
export function encodeEntry(stored: StoredPacket): Buffer {
  return hasBinary(stored.data) ? serialize(stored) : Buffer.from(JSON.stringify(stored));
}

export function decodeEntry(payload: Buffer): StoredPacket {
  return payload[0] === 0x7b ? JSON.parse(payload.toString()) : deserialize(payload);
}

/** Whether a socket in `sessionRooms` was an audience of `packet`. */
export function shouldInclude(sessionRooms: ReadonlySet<Room>, packet: StoredPacket): boolean {
  if (packet.except) for (const room of packet.except) if (sessionRooms.has(room)) return false;
  if (packet.rooms.length === 0) return true;
  for (const room of packet.rooms) if (sessionRooms.has(room)) return true;
  return false;
}
