/**
 * The demo's Socket.IO ⇄ Bayeux bridge: a message a Socket.IO member writes in
 * room `R` is published on the Bayeux channel `/chat/R`, and a Bayeux
 * client's publish to `/chat/R` appears in room `R`, so a Faye or CometD
 * client and the demo page chat together.
 *
 * Loop prevention (DESIGN.md: "a message carries its origin"): what the bridge
 * publishes carries `ext.switchboardOrigin = "socket.io"` and the bridge's own
 * Bayeux listener skips it. The bridge's incoming extension removes that mark
 * from client publishes, so a client cannot forge it, and refuses a publish
 * to a bridged channel whose data the chat could not show, with a Bayeux
 * error (section 2.4 `code:args:message`) instead of dropping it silently.
 *
 * Only rooms whose names are also channel segments (letters A-Z, digits, `_`
 * and `-`; Bayeux 1.0 section 2.2.1) are bridged: a room such as "tea room"
 * stays Socket.IO-only.
 */
import type { BayeuxExtension, BayeuxServer } from "../bayeux/index.js";
import type { BayeuxMessage } from "../codec/bayeux/index.js";
import { createDebug } from "../shared/debug.js";
import { type ChatMessage, DEMO_LIMITS, type DemoChat, isRoomName } from "./demo-handlers.js";

const debug = createDebug("cli:bridge");

/** The channel prefix of bridged rooms. */
export const CHAT_CHANNEL_PREFIX = "/chat/";

/** The `ext` key marking a message's origin. */
export const ORIGIN_EXT = "switchboardOrigin";

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

/**
 * Connects the demo chat and the Bayeux server; returns the function that
 * undoes it.
 *
 * @example
 * const chat = registerDemoHandlers(io);
 * const unbridge = bridgeDemoChat(chat, bayeux);
 */
export function bridgeDemoChat(chat: DemoChat, bayeux: BayeuxServer): () => void {
  const guard: BayeuxExtension = {
    incoming(message: BayeuxMessage): BayeuxMessage {
      if (message.channel.startsWith("/meta/")) return message;
      if (message.ext && ORIGIN_EXT in message.ext) {
        const { [ORIGIN_EXT]: _forged, ...rest } = message.ext;
        message.ext = rest;
      }
      if (roomForChannel(message.channel) !== null && chatFromBayeux(message.data) === null) {
        message.error = `400:${message.channel}:chat data must be a text of 1-${DEMO_LIMITS.message} characters or an object with text`;
      }
      return message;
    },
  };
  bayeux.addExtension(guard);

  const stopListening = bayeux.subscribe(`${CHAT_CHANNEL_PREFIX}*`, (data, message, origin) => {
    // Another node's publish was bridged there; its room message reaches this
    // node's members through the cluster, so bridging it here would double it.
    if (origin !== undefined || message.ext?.[ORIGIN_EXT] !== undefined) return;
    const room = roomForChannel(message.channel);
    const posted = chatFromBayeux(data);
    if (room === null || posted === null) return;
    chat.post({ room, from: posted.from, text: posted.text, at: Date.now(), via: "bayeux" });
  });

  const stopObserving = chat.observe((message: ChatMessage) => {
    const channel = channelForRoom(message.room);
    if (channel === null || bayeux.closed) return;
    try {
      bayeux.publish(channel, message, { ext: { [ORIGIN_EXT]: "socket.io" } });
    } catch (err) {
      // A closing server or a refused channel must not fail the member's message.
      debug("not bridged to %s: %s", channel, (err as Error).message);
    }
  });

  return () => {
    stopObserving();
    stopListening();
    bayeux.removeExtension(guard);
  };
}
