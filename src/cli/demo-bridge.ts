/**
 * The demo's Socket.IO ⇄ Bayeux bridge, one route of the library's bridge
 * (src/bridge/, docs/bridge.md): a message a Socket.IO member writes in room
 * `R` (the demo's Socket.IO room `chat:R`) is published on the Bayeux channel
 * `/chat/R`, and a Bayeux client's publish to `/chat/R` appears in room `R`,
 * so a Faye or CometD client and the demo page chat together.
 *
 * The library marks what it publishes with its origin and never bridges a
 * message back; across nodes, only the node where a message originated
 * bridges it. On top of it the demo adds its own check: an incoming extension
 * refuses a publish to a bridged channel whose data the chat could not show,
 * with a Bayeux error (section 2.4 `code:args:message`) instead of dropping it
 * silently.
 *
 * Only rooms whose names are also channel segments (letters A-Z, digits, `_`
 * and `-`; Bayeux 1.0 section 2.2.1) are bridged: a room such as "tea room"
 * stays Socket.IO-only.
 */
import type { BayeuxExtension, BayeuxServer } from "../bayeux/index.js";
import { BRIDGE_ORIGIN_EXT, type Bridge, bridge } from "../bridge/index.js";
import type { BayeuxMessage } from "../codec/bayeux/index.js";
import type { Server } from "../index.js";
import { type ChatMessage, DEMO_LIMITS, isRoomName } from "./demo-handlers.js";

/** The channel prefix of bridged rooms. */
export const CHAT_CHANNEL_PREFIX = "/chat/";

/** The `ext` key marking a message's origin (the bridge's). */
export const ORIGIN_EXT = BRIDGE_ORIGIN_EXT;

/** The demo's Socket.IO rooms carry this prefix (see demo-handlers.ts). */
const SOCKET_ROOM_PREFIX = "chat:";

/** What a Bayeux publish shows as its author when its data names none. */
export const BAYEUX_AUTHOR = "bayeux";

const BRIDGED_ROOM = /^[A-Za-z0-9_-]+$/;

/** The Bayeux channel of a room, or null when the room is not bridged. */
export function channelForRoom(room: string): string | null {
  return BRIDGED_ROOM.test(room) && isRoomName(room) ? `${CHAT_CHANNEL_PREFIX}${room}` : null;
}

/** The room of a bridged channel (`/chat/<room>`, one segment), or null. */
export function roomForChannel(channel: string): string | null {
  if (!channel.startsWith(CHAT_CHANNEL_PREFIX)) return null;
  const room = channel.slice(CHAT_CHANNEL_PREFIX.length);
  return channelForRoom(room) === null ? null : room;
}

/**
 * Reads the data of a Bayeux chat publish: a string (the text), or an object
 * `{ text, from? }`. Returns null when the chat cannot show it.
 */
export function chatFromBayeux(data: unknown): { from: string; text: string } | null {
  let text: unknown;
  let from: unknown;
  if (typeof data === "string") text = data;
  else if (data !== null && typeof data === "object" && !Array.isArray(data)) {
    ({ text, from } = data as { text?: unknown; from?: unknown });
  }
  const body = typeof text === "string" ? text.trim() : "";
  if (body.length === 0 || body.length > DEMO_LIMITS.message) return null;
  const author = typeof from === "string" ? from.trim() : "";
  if (author.length > DEMO_LIMITS.nickname) return null;
  return { from: author || BAYEUX_AUTHOR, text: body };
}

/** The demo's running bridge. */
export interface DemoBridge {
  /** The library bridge (its counters in `stats`). */
  readonly bridge: Bridge;
  /** Undoes the bridge and the demo's data check. */
  close(): void;
}

/**
 * Bridges the demo chat of `io` (see registerDemoHandlers) and the Bayeux
 * server.
 *
 * @example
 * registerDemoHandlers(io);
 * const demo = bridgeDemoChat(io, bayeux);
 * demo.bridge.stats; // { toBayeux, toSocketIO, refused }
 * demo.close();
 */
export function bridgeDemoChat(io: Server, bayeux: BayeuxServer): DemoBridge {
  const guard: BayeuxExtension = {
    incoming(message: BayeuxMessage): BayeuxMessage {
      if (message.channel.startsWith("/meta/")) return message;
      if (roomForChannel(message.channel) !== null && chatFromBayeux(message.data) === null) {
        message.error = `400:${message.channel}:chat data must be a text of 1-${DEMO_LIMITS.message} characters or an object with text`;
      }
      return message;
    },
  };
  bayeux.addExtension(guard);

  const link = bridge({
    io,
    bayeux,
    routes: [
      {
        room: `${SOCKET_ROOM_PREFIX}*`,
        event: "message",
        channel: `${CHAT_CHANNEL_PREFIX}*`,
        // Only rooms the chat accepts cross (the route alone takes any channel segment).
        toBayeux: ([message], room) =>
          channelForRoom(room.slice(SOCKET_ROOM_PREFIX.length)) === null ? undefined : message,
        toSocketIO: (data, channel): ChatMessage[] | undefined => {
          const room = roomForChannel(channel);
          const posted = chatFromBayeux(data);
          if (room === null || posted === null) return undefined;
          return [{ room, from: posted.from, text: posted.text, at: Date.now(), via: "bayeux" }];
        },
      },
    ],
  });
  return {
    bridge: link,
    close() {
      link.close();
      bayeux.removeExtension(guard);
    },
  };
}
