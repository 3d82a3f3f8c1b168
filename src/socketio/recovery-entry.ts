/**
 * What connection state recovery keeps of a broadcast in the message log:
 * the packet's arguments and its audience (rooms, except), as JSON (what the
 * wire carries anyway, and several times faster to write than v8's format),
 * or v8-serialised when the arguments hold binary data.
 */
import { deserialize, serialize } from "node:v8";
import type { LogEntry } from "../cluster/message-log.js";
import { hasBinary } from "../codec/socketio/index.js";
import { createDebug } from "../shared/debug.js";
import type { Room } from "./adapter.js";

const debug = createDebug("socketio:recovery");

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

/**
 * The packets of `entries` a socket in `rooms` was an audience of, each with
 * its entry's offset as the last argument (which socket.io-client keeps);
 * null when an entry does not decode (a replay with a hole is no replay).
 */
export function missedPackets(
  entries: readonly LogEntry[],
  rooms: ReadonlySet<Room>,
): unknown[][] | null {
  const out: unknown[][] = [];
  for (const entry of entries) {
    let stored: StoredPacket;
    try {
      stored = decodeEntry(entry.payload);
    } catch (err) {
      debug("dropping undecodable log entry %s: %s", entry.offset, err);
      return null;
    }
    if (shouldInclude(rooms, stored)) out.push([...stored.data, entry.offset]);
  }
  return out;
}
